//! Load-balancer reroutes: a request that arrives with another node's `sfproxy-id`, or without
//! one, lands on a node that never saw the session: `403::Unknown client`, the session is gone,
//! and the response sets new routing cookies.

mod common;

use common::{Bayeux, control};
use reqwest::Method;
use serde_json::{Value, json};

fn unknown_client(id: &str) -> Value {
    json!({"advice": {"interval": 0, "reconnect": "handshake"}, "channel": "/meta/connect",
           "id": id, "error": "403::Unknown client", "successful": false})
}

/// The request after a reroute: 403, new `sfproxy-id` and `sfdc-stream`, and the old session is
/// gone even with the old cookies back.
async fn assert_rerouted(b: &mut Bayeux, old_proxy: Option<&str>) {
    let msg = b.connect_msg();
    let reply = b.post(json!([msg])).await;
    assert_eq!(
        reply.first(),
        unknown_client(msg["id"].as_str().unwrap_or_default())
    );
    let names: Vec<&str> = reply
        .set_cookies
        .iter()
        .filter_map(|c| c.split('=').next())
        .collect();
    assert_eq!(
        names,
        ["sfdc-stream", "sfproxy-id"],
        "{:?}",
        reply.set_cookies
    );
    let new_proxy = b.cookies.get("sfproxy-id").cloned();
    assert!(new_proxy.is_some() && new_proxy.as_deref() != old_proxy);
    if let Some(old) = old_proxy {
        b.cookies.insert("sfproxy-id".into(), old.to_owned());
    }
    let again = b.connect().await;
    assert_eq!(
        again[0]["error"], "403::Unknown client",
        "the session is gone: {again:?}"
    );
}

#[tokio::test]
async fn a_request_without_affinity_ends_the_session() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let old = b.cookies.remove("sfproxy-id").expect("sfproxy-id was set");
    assert_rerouted(&mut b, Some(&old)).await;
    assert_eq!(emu.control().stats().totals.sessions_rerouted, 1);
    // A new handshake with the new affinity works.
    b.cookies.remove("sfproxy-id");
    assert_eq!(b.handshake().await["successful"], true);
    assert_eq!(b.connect().await[0]["successful"], true);
}

#[tokio::test]
async fn another_nodes_affinity_ends_the_session() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[("/event/Order__e", None)]).await;
    let old = b.cookies.get("sfproxy-id").cloned().expect("sfproxy-id");
    b.cookies
        .insert("sfproxy-id".into(), "\"0123456789abcdef\"".into());
    // Any message of the session meets the same fate, a subscribe too.
    let id = b.id();
    let reply = b
        .post(
            json!([{"channel": "/meta/subscribe", "clientId": b.client_id,
                      "subscription": "/event/Order__e", "id": id}]),
        )
        .await;
    assert_eq!(reply.first()["error"], "403::Unknown client");
    assert_eq!(reply.first()["subscription"], "/event/Order__e");
    assert_eq!(reply.set_cookies.len(), 2);
    b.cookies.insert("sfproxy-id".into(), old);
    assert_eq!(b.connect().await[0]["error"], "403::Unknown client");
}

#[tokio::test]
async fn reroute_sessions_moves_every_client_to_another_node() {
    let emu = common::start().await;
    let mut a = Bayeux::ready(emu.base_url(), &[]).await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    assert_eq!(emu.control().reroute_sessions(), 2);
    let old = a.cookies.get("sfproxy-id").cloned();
    assert_rerouted(&mut a, old.as_deref()).await;
    // Over HTTP, for the other client (rerouted already, and again: its session is gone).
    let (status, body) = control(
        emu.base_url(),
        Method::POST,
        "/_emulator/sessions/reroute",
        None,
    )
    .await;
    assert_eq!((status.as_u16(), body), (200, json!({"rerouted": 1})));
    let old = b.cookies.get("sfproxy-id").cloned();
    assert_rerouted(&mut b, old.as_deref()).await;
    let totals = emu.control().stats().totals;
    assert_eq!((totals.sessions_rerouted, totals.active_sessions), (2, 0));
}

#[tokio::test]
async fn a_request_without_any_session_cookie_is_told_what_is_missing() {
    // A client whose jar kept nothing (aiohttp's ignores cookies from IP hosts) hears about
    // BAYEUX_BROWSER, which names the fix, and its session is not rerouted.
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let jar = std::mem::take(&mut b.cookies);
    let reply = b.connect().await;
    let cid = b.client_id.clone().expect("client id");
    assert_eq!(
        reply[0]["error"],
        format!(
            "400::Client {{{cid}}} has established a session, but no BAYEUX_BROWSER cookie present"
        )
    );
    assert_eq!(emu.control().stats().totals.sessions_rerouted, 0);
    b.cookies = jar;
    assert_eq!(b.connect().await[0]["successful"], true);
}
