//! The meta channels other than connect: handshake, subscribe, unsubscribe, disconnect, and
//! the admission checks every message of an existing client goes through.

use serde_json::Value;
use tokio::time::Instant;

use crate::bayeux::{
    self, AUTH_INVALID, AUTH_REQUIRED, Advice, CONCURRENT_LIMIT, Ext, HANDSHAKE_DENIED, Part,
    Reconnect, Reply, SERVER_TOO_BUSY, UNKNOWN_CLIENT,
};
use crate::channels::{ReplayFrom, strip_filter};
use crate::cometd::{Ctx, Mode};
use crate::cookies;
use crate::session::{Queued, Session};
use crate::state::State;
use crate::util;

/// The text of a pushed `/meta/disconnect` element.
pub(crate) const PUSHED_DISCONNECT: &str = r#"{"channel":"/meta/disconnect"}"#;

fn client_id_of(msg: &Value) -> Option<&str> {
    msg.get("clientId").and_then(Value::as_str)
}

/// A failed reply that carries the sender's client id, if it sent one.
fn failed(msg: &Value, channel: &str, error: impl Into<String>) -> Reply {
    let mut reply = Reply::to(msg, channel).failed(error);
    reply.client_id = client_id_of(msg).map(str::to_owned);
    reply
}

/// `403::Unknown client` with the given advice. Like current Salesforce, the reply carries no
/// clientId, except with `reconnect: none`: Salesforce's replies of that kind carry it.
pub(crate) fn unknown_client(msg: &Value, channel: &str, reconnect: Reconnect) -> Reply {
    let mut reply = Reply::to(msg, channel)
        .with_advice(Advice::interval0(reconnect))
        .failed(UNKNOWN_CLIENT);
    if reconnect == Reconnect::None {
        reply.client_id = client_id_of(msg).map(str::to_owned);
    }
    reply
}

/// The answer to a message while the server is "too busy".
pub(crate) fn busy(msg: &Value, channel: &str) -> Reply {
    if channel == "/meta/handshake" {
        return handshake_denied(msg, SERVER_TOO_BUSY);
    }
    failed(msg, channel, AUTH_INVALID)
        .with_advice(Advice::interval0(Reconnect::None))
        .with_ext(Ext::failure(SERVER_TOO_BUSY))
}

/// `403::Handshake denied` with its cause in `ext.sfdc.failureReason`. Authentication denials
/// come from before the session layer and carry no replay flags (as in Salesforce's documented
/// example); the others carry the handshake's `replay` and `payload.format` flags.
fn handshake_denied(msg: &Value, reason: &str) -> Reply {
    let ext = if reason.starts_with("401::") {
        Ext::failure(reason)
    } else {
        Ext::handshake_failure(reason)
    };
    Reply::to(msg, "/meta/handshake")
        .with_ext(ext)
        .with_advice(Advice {
            reconnect: Some(Reconnect::None),
            ..Advice::default()
        })
        .failed(HANDSHAKE_DENIED)
}

/// The token check shared by every message but the handshake.
pub(crate) fn auth_failure(ctx: &Ctx, st: &State, msg: &Value, channel: &str) -> Option<Reply> {
    let error = match &ctx.token {
        None => AUTH_REQUIRED,
        Some(t) if !st.tokens.contains(t) => AUTH_INVALID,
        Some(_) => return None,
    };
    Some(failed(msg, channel, error).with_advice(Advice::interval0(Reconnect::None)))
}

/// The pushed `/meta/disconnect` pair for a connect of a client whose session was ended with
/// one pending (delivered once).
pub(crate) fn take_pushed_disconnect(
    st: &mut State,
    msg: &Value,
    client_id: &str,
) -> Option<Vec<Part>> {
    let tomb = st.tombstones.get_mut(client_id)?;
    let error = tomb.pushed_disconnect.take()?;
    let reply = Reply::to(msg, "/meta/connect")
        .with_client(client_id)
        .with_advice(Advice::interval0(Reconnect::None))
        .failed(error);
    Some(vec![
        Part::Raw(PUSHED_DISCONNECT.to_owned()),
        Part::reply(reply),
    ])
}

/// Admits a message of an existing client: token, client id, session, cookies. On success
/// returns the client id; otherwise the parts to answer with.
pub(crate) fn admit(
    ctx: &Ctx,
    st: &mut State,
    msg: &Value,
    channel: &str,
    now: Instant,
) -> Result<String, Vec<Part>> {
    // A pushed disconnect comes first, whatever else is wrong: it was decided before.
    if channel == "/meta/connect" {
        if let Some(parts) = client_id_of(msg).and_then(|id| take_pushed_disconnect(st, msg, id)) {
            return Err(parts);
        }
    }
    if let Some(reply) = auth_failure(ctx, st, msg, channel) {
        return Err(vec![Part::reply(reply)]);
    }
    let Some(client_id) = client_id_of(msg) else {
        let reply = Reply::to(msg, channel)
            .with_advice(Advice::interval0(Reconnect::Handshake))
            .failed("403::Client has not completed handshake");
        return Err(vec![Part::reply(reply)]);
    };
    if let Some(tomb) = st.tombstones.get(client_id) {
        return Err(vec![Part::reply(unknown_client(
            msg,
            channel,
            tomb.reconnect,
        ))]);
    }
    let Some(session) = st.live_session(client_id, now) else {
        return Err(vec![Part::reply(unknown_client(
            msg,
            channel,
            Reconnect::Handshake,
        ))]);
    };
    let browser_ok = ctx.cookies.get("BAYEUX_BROWSER") == Some(&session.browser_id);
    let rerouted = match ctx.cookies.get("sfproxy-id").map(|v| cookies::unquote(v)) {
        // Another node's affinity.
        Some(proxy) => proxy != session.proxy_id,
        // No affinity: the request lands on a node at random. A client that sent none of the
        // session's cookies is told what is missing instead (what it meets on the node that
        // holds its session), which names the fix.
        None => browser_ok,
    };
    if rerouted {
        // The load balancer sent the request to a node that never saw the session: it is gone
        // for this client, and the response carries that node's affinity cookies.
        reroute(ctx, st, client_id);
        return Err(vec![Part::reply(unknown_client(
            msg,
            channel,
            Reconnect::Handshake,
        ))]);
    }
    if !browser_ok {
        let error = format!(
            "400::Client {{{client_id}}} has established a session, but no BAYEUX_BROWSER \
             cookie present"
        );
        return Err(vec![Part::reply(failed(msg, channel, error))]);
    }
    session.token.clone_from(&ctx.token);
    Ok(client_id.to_owned())
}

/// A request that lost its affinity: ends the session and sets new routing cookies.
fn reroute(ctx: &Ctx, st: &mut State, client_id: &str) {
    st.remove_session(client_id);
    st.totals.sessions_rerouted += 1;
    let proxy_id = util::hex(&mut st.rng, 16);
    let stream = format!("{}=", util::alnum(&mut st.rng, 43));
    ctx.set_cookie(cookies::stream(&stream, ctx.shared.settings.secure_cookies));
    ctx.set_cookie(cookies::proxy(&proxy_id));
}

/// `/meta/handshake`. Cookies the request presents are kept (CometD reuses the browser id, and
/// the load balancer keeps the affinity it gave), so two sessions sharing one cookie jar do not
/// break each other; missing ones are set.
pub(crate) fn handshake(ctx: &Ctx, msg: &Value) -> Reply {
    let settings = &ctx.shared.settings;
    let mut st = ctx.shared.lock();
    match ctx.mode {
        Mode::Busy => return handshake_denied(msg, SERVER_TOO_BUSY),
        Mode::DenyHandshakes => return handshake_denied(msg, CONCURRENT_LIMIT),
        Mode::Normal => {}
    }
    match &ctx.token {
        None => return handshake_denied(msg, AUTH_REQUIRED),
        Some(t) if !st.tokens.contains(t) => return handshake_denied(msg, AUTH_INVALID),
        Some(_) => {}
    }
    let now = Instant::now();
    st.sweep(settings, now);
    if settings
        .max_clients
        .is_some_and(|max| st.sessions.len() >= max)
    {
        return handshake_denied(msg, CONCURRENT_LIMIT);
    }
    let client_id = loop {
        let id = util::base36(&mut st.rng, 27);
        if !st.sessions.contains_key(&id) && !st.clients.contains_key(&id) {
            break id;
        }
    };
    let presented = |name: &str| {
        ctx.cookies
            .get(name)
            .map(|v| cookies::unquote(v).to_owned())
            .filter(|v| cookies::plausible(v))
    };
    let browser_id = presented("BAYEUX_BROWSER").unwrap_or_else(|| {
        let id = util::base36(&mut st.rng, 26);
        ctx.set_cookie(cookies::browser(&id));
        id
    });
    if presented("sfdc-stream").is_none() {
        let stream = format!("{}=", util::alnum(&mut st.rng, 43));
        ctx.set_cookie(cookies::stream(&stream, settings.secure_cookies));
    }
    let proxy_id = presented("sfproxy-id").unwrap_or_else(|| {
        let id = util::hex(&mut st.rng, 16);
        ctx.set_cookie(cookies::proxy(&id));
        id
    });
    st.note_new_session();
    st.sessions.insert(
        client_id.clone(),
        Session::new(
            browser_id,
            proxy_id,
            now + settings.reconnect_deadline,
            ctx.token.clone(),
        ),
    );
    st.clients.entry(client_id.clone()).or_default().active = true;
    Reply {
        ext: Some(Ext::handshake()),
        minimum_version: Some("1.0"),
        client_id: Some(client_id),
        supported_connection_types: Some(["long-polling"]),
        version: Some("1.0"),
        successful: true,
        ..Reply::to(msg, "/meta/handshake")
    }
}

/// How a subscribe is answered.
pub(crate) enum Subscribed {
    Parts(Vec<Part>),
    /// A `subscription` given as a JSON list: Salesforce answers with an empty body.
    EmptyBody,
}

/// Renders a replay map the way Salesforce quotes it in errors: `{/topic/a=5, /topic/b=-1}`.
fn java_map(map: &serde_json::Map<String, Value>) -> String {
    let items: Vec<String> = map
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// Where the subscription starts, from `ext.replay`; `Err` holds the error text.
fn replay_from(msg: &Value, subscription: &str, channel: &str) -> Result<ReplayFrom, String> {
    let Some(Value::Object(map)) = msg.get("ext").and_then(|e| e.get("replay")) else {
        return Ok(ReplayFrom::New);
    };
    let Some(value) = map.get(channel).or_else(|| map.get(subscription)) else {
        return Err(bayeux::replay_map_lacks_channel(channel, &java_map(map)));
    };
    match value.as_i64() {
        Some(-1) => Ok(ReplayFrom::New),
        Some(-2) => Ok(ReplayFrom::All),
        Some(id) => Ok(ReplayFrom::After(id)),
        None => {
            let shown = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Err(bayeux::invalid_replay_id(&shown))
        }
    }
}

/// `/meta/subscribe`.
pub(crate) fn subscribe(ctx: &Ctx, msg: &Value) -> Subscribed {
    const CH: &str = "/meta/subscribe";
    let settings = &ctx.shared.settings;
    let now = Instant::now();
    let mut st = ctx.shared.lock();
    let client_id = match admit(ctx, &mut st, msg, CH, now) {
        Ok(id) => id,
        Err(parts) => return Subscribed::Parts(parts),
    };
    let mut base = Reply::to(msg, CH).with_client(&client_id);
    base.subscription = msg.get("subscription").cloned();
    let fail =
        |reply: Reply, error: String| Subscribed::Parts(vec![Part::reply(reply.failed(error))]);
    let subscription = match msg.get("subscription") {
        Some(Value::Array(_)) => return Subscribed::EmptyBody,
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return fail(base, "400::Channel name not specified".into()),
    };
    if !subscription.starts_with('/') {
        let error = "400::Channel subscriptions must start with a leading '/'".into();
        return fail(base, error);
    }
    let name = strip_filter(&subscription).to_owned();
    if !st.ensure_channel(settings, &name) {
        let error =
            format!("400::The channel you requested to subscribe to doesn't exist {{{name}}}");
        return fail(base, error);
    }
    let from = match replay_from(msg, &subscription, &name) {
        Ok(from) => from,
        Err(error) => return fail(base, error),
    };
    let State {
        sessions, channels, ..
    } = &mut *st;
    let (Some(channel), Some(session)) = (channels.get_mut(&name), sessions.get_mut(&client_id))
    else {
        return fail(base, "400::Channel name not specified".into());
    };
    channel.prune(now, settings.retention, settings.max_retained_events);
    if let ReplayFrom::After(id) = from {
        if !channel.is_retained(id) {
            return fail(base, bayeux::invalid_replay_id(&id.to_string()));
        }
    }
    // A resubscription replaces the previous one, including what it had queued.
    session.purge(&name);
    session
        .subscriptions
        .insert(name.clone(), subscription.clone());
    let mut queued = false;
    for stored in channel.backlog(from) {
        session.queue.push_back(Queued::Event {
            channel: channel.name.clone(),
            kind: channel.kind,
            replay_id: stored.replay_id,
            data: stored.data.clone(),
        });
        queued = true;
    }
    if queued {
        session.notify.notify_waiters();
    }
    base.successful = true;
    Subscribed::Parts(vec![Part::reply(base)])
}

/// `/meta/unsubscribe`: always successful for a valid channel string; undelivered events of
/// the channel are dropped.
pub(crate) fn unsubscribe(ctx: &Ctx, msg: &Value) -> Vec<Part> {
    const CH: &str = "/meta/unsubscribe";
    let mut st = ctx.shared.lock();
    let client_id = match admit(ctx, &mut st, msg, CH, Instant::now()) {
        Ok(id) => id,
        Err(parts) => return parts,
    };
    let mut reply = Reply::to(msg, CH).with_client(&client_id);
    reply.subscription = msg.get("subscription").cloned();
    let Some(subscription) = msg.get("subscription").and_then(Value::as_str) else {
        return vec![Part::reply(reply.failed("400::Channel name not specified"))];
    };
    let name = strip_filter(subscription);
    if let Some(session) = st.sessions.get_mut(&client_id) {
        session.subscriptions.remove(name);
        session.purge(name);
    }
    reply.successful = true;
    vec![Part::reply(reply)]
}

/// `/meta/disconnect`: ends the session.
pub(crate) fn disconnect(ctx: &Ctx, msg: &Value) -> Vec<Part> {
    const CH: &str = "/meta/disconnect";
    let mut st = ctx.shared.lock();
    let client_id = match admit(ctx, &mut st, msg, CH, Instant::now()) {
        Ok(id) => id,
        Err(parts) => return parts,
    };
    st.remove_session(&client_id);
    let mut reply = Reply::to(msg, CH).with_client(&client_id);
    reply.successful = true;
    vec![Part::reply(reply)]
}
