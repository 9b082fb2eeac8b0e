//! `/meta/connect`: the long poll.
//!
//! The first connect after a handshake is answered at once and carries the advice
//! `{"interval":0,"timeout":<long-poll timeout>,"reconnect":"retry"}`; later ones carry no advice
//! and are held until events are queued, the session's fate changes, or the timeout passes.
//! Events follow the connect reply in the same response array. While no connect is held, the
//! reconnect deadline runs: a client that does not reconnect in time loses its session.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::bayeux::{Advice, Part, Reconnect, Reply};
use crate::broken::Broken;
use crate::cometd::Ctx;
use crate::meta;
use crate::state::Shared;

const CH: &str = "/meta/connect";

/// Restarts the reconnect deadline when the connect it belongs to ends, however it ends
/// (answered, or dropped because the client went away), unless a newer connect took over.
struct PollGuard {
    shared: Arc<Shared>,
    client_id: String,
    generation: u64,
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        let deadline = self.shared.settings.reconnect_deadline;
        let mut st = self.shared.lock();
        if let Some(session) = st
            .sessions
            .get_mut(&self.client_id)
            .filter(|s| s.poll_generation == self.generation)
        {
            session.expires_at = Some(Instant::now() + deadline);
        }
    }
}

/// The held time: the server's long-poll timeout, or less if the client's `advice.timeout`
/// asks for less (CometD clients send `0` on their first connect).
fn hold_time(ctx: &Ctx, msg: &Value) -> Duration {
    let server = ctx.shared.settings.long_poll_timeout;
    msg.get("advice")
        .and_then(|a| a.get("timeout"))
        .and_then(Value::as_u64)
        .map_or(server, |ms| server.min(Duration::from_millis(ms)))
}

/// Handles one `/meta/connect` message. Only a connect alone in its request is held (as
/// CometD does): one batched with other messages is answered at once, so the other replies are
/// not delayed.
pub(crate) async fn connect(ctx: &Ctx, msg: &Value, alone: bool) -> Vec<Part> {
    let settings = &ctx.shared.settings;
    let (client_id, first, generation, notify) = {
        let mut st = ctx.shared.lock();
        let client_id = match meta::admit(ctx, &mut st, msg, CH, Instant::now()) {
            Ok(id) => id,
            Err(parts) => return parts,
        };
        if let Some(kind) = msg
            .get("connectionType")
            .filter(|k| k.as_str() != Some("long-polling"))
        {
            let shown = kind
                .as_str()
                .map_or_else(|| kind.to_string(), str::to_owned);
            let reply = Reply::to(msg, CH)
                .with_client(&client_id)
                .failed(format!("400::Invalid connection type {{{shown}}}"));
            return vec![Part::reply(reply)];
        }
        let Some(session) = st.sessions.get_mut(&client_id) else {
            return vec![Part::reply(meta::unknown_client(
                msg,
                CH,
                Reconnect::Handshake,
            ))];
        };
        session.poll_generation += 1;
        session.expires_at = None;
        // An older held connect of this client returns now.
        session.notify.notify_waiters();
        let first = !session.connected;
        session.connected = true;
        (
            client_id,
            first,
            session.poll_generation,
            Arc::clone(&session.notify),
        )
    };
    let _guard = PollGuard {
        shared: Arc::clone(&ctx.shared),
        client_id: client_id.clone(),
        generation,
    };
    if first {
        let advice = Advice {
            interval: Some(0),
            timeout: Some(settings.long_poll_timeout_ms()),
            reconnect: Some(Reconnect::Retry),
        };
        return settle(ctx, msg, &client_id, generation, true, Some(advice)).unwrap_or_default();
    }
    if !alone {
        return settle(ctx, msg, &client_id, generation, true, None).unwrap_or_default();
    }
    let deadline = Instant::now() + hold_time(ctx, msg);
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        // Registered before looking at the state, so no wake-up between the two is lost.
        notified.as_mut().enable();
        if let Some(parts) = settle(ctx, msg, &client_id, generation, false, None) {
            return parts;
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(deadline) => {
                return settle(ctx, msg, &client_id, generation, true, None).unwrap_or_default();
            }
        }
    }
}

/// Decides whether the connect can be answered now, and with what. With `force`, it always
/// answers (the timeout passed, or this is the first connect).
fn settle(
    ctx: &Ctx,
    msg: &Value,
    client_id: &str,
    generation: u64,
    force: bool,
    advice: Option<Advice>,
) -> Option<Vec<Part>> {
    let mut st = ctx.shared.lock();
    if !st.sessions.contains_key(client_id) {
        // The session ended while the connect was held: a pushed disconnect first, then a
        // revoked token, then the advice it was ended with.
        if let Some(parts) = meta::take_pushed_disconnect(&mut st, msg, client_id) {
            return Some(parts);
        }
        if let Some(reply) = meta::auth_failure(ctx, &st, msg, CH) {
            return Some(vec![Part::reply(reply)]);
        }
        let reconnect = st
            .tombstones
            .get(client_id)
            .map_or(Reconnect::Handshake, |t| t.reconnect);
        let reply = meta::unknown_client(msg, CH, reconnect);
        return Some(vec![Part::reply(reply)]);
    }
    if let Some(reply) = meta::auth_failure(ctx, &st, msg, CH) {
        // Tokens are validated while the client is connected: a revoked one ends the poll.
        return Some(vec![Part::reply(reply)]);
    }
    let Some(session) = st.sessions.get_mut(client_id) else {
        return Some(vec![Part::reply(meta::unknown_client(
            msg,
            CH,
            Reconnect::Handshake,
        ))]);
    };
    let mut reply = Reply::to(msg, CH).with_client(client_id);
    reply.successful = true;
    reply.advice = advice;
    if session.poll_generation != generation {
        // A newer connect of the same client took over.
        return Some(vec![Part::reply(reply)]);
    }
    if session.queue.is_empty() && !force {
        return None;
    }
    let (events, delivered, last) = session.take_batch(client_id, ctx.shared.settings.max_batch);
    st.record_delivery(client_id, delivered, last);
    if delivered > 0 {
        let queued = st.faults.take_broken().and_then(Broken::of);
        if let Some(how) = queued.or_else(|| ctx.take_armed_broken()) {
            st.record_broken(client_id, delivered, how);
            ctx.break_response(how);
        }
    }
    // Events first, the reply last, as CometD's server writes them (its long-polling transport
    // writes the queued messages, then the replies).
    let mut parts = Vec::with_capacity(events.len() + 1);
    parts.extend(events);
    parts.push(Part::reply(reply));
    Some(parts)
}
