//! The control handle: steer a running emulator from Rust. Every method has an HTTP twin under
//! `/_emulator/` (see the crate docs).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::bayeux::{AUTH_INVALID, Reconnect, UNKNOWN_CLIENT};
use crate::bulk::{self, BulkPublished};
use crate::channels::ChannelKind;
use crate::chaos::ChaosConfig;
use crate::config::Credentials;
use crate::error::Error;
use crate::faults::{DropAdvice, Fault, FaultTarget, PushedDisconnect};
use crate::session::Tombstone;
use crate::state::Shared;
use crate::stats::Stats;

/// The longest delay chaos mode injects unless told otherwise.
pub const DEFAULT_CHAOS_MAX_DELAY: Duration = Duration::from_millis(250);

/// A cloneable handle that steers a running emulator.
///
/// Methods take the emulator's lock briefly and never wait for network I/O, so they can be
/// called from async and blocking code alike (bulk publishing of many events is the exception:
/// it serialises everything before returning).
#[derive(Clone)]
pub struct Control {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("base_url", &self.shared.settings.base_url)
            .finish_non_exhaustive()
    }
}

impl Control {
    /// `http://localhost:PORT`, or the public URL.
    pub fn base_url(&self) -> &str {
        &self.shared.settings.base_url
    }

    /// The credentials the emulator accepts.
    pub fn credentials(&self) -> &Credentials {
        &self.shared.settings.credentials
    }

    /// Creates a channel (idempotent) and returns its kind.
    pub fn create_channel(&self, name: &str) -> Result<ChannelKind, Error> {
        self.shared.lock().create_channel(name)
    }

    /// The existing channels and their kinds.
    pub fn channels(&self) -> Vec<(String, ChannelKind)> {
        self.shared
            .lock()
            .channels
            .iter()
            .map(|(name, ch)| (name.clone(), ch.kind))
            .collect()
    }

    /// Publishes one event and returns its replay id. How `payload` fits the channel's event
    /// shape: PushTopic takes the `sobject` (or `{"type":…,"sobject":…}`), generic streaming a
    /// string, Platform Events and CDC an object of fields (a `ChangeEventHeader` is generated
    /// when missing).
    pub fn publish(&self, channel: &str, payload: Value) -> Result<i64, Error> {
        self.shared
            .lock()
            .publish(&self.shared.settings, channel, Some(payload))
    }

    /// Publishes several events in order; returns their replay ids.
    pub fn publish_many(
        &self,
        channel: &str,
        payloads: impl IntoIterator<Item = Value>,
    ) -> Result<Vec<i64>, Error> {
        let mut st = self.shared.lock();
        payloads
            .into_iter()
            .map(|p| st.publish(&self.shared.settings, channel, Some(p)))
            .collect()
    }

    /// Publishes `n` events with generated payloads; returns their replay ids.
    pub fn publish_generated(&self, channel: &str, n: usize) -> Result<Vec<i64>, Error> {
        let mut st = self.shared.lock();
        (0..n)
            .map(|_| st.publish(&self.shared.settings, channel, None))
            .collect()
    }

    /// Bulk mode: pre-serialises `n` events with about `payload_size` bytes of payload each
    /// into batches queued for the channel's current subscribers. They are not retained for
    /// replay.
    pub fn publish_bulk(
        &self,
        channel: &str,
        n: usize,
        payload_size: usize,
    ) -> Result<BulkPublished, Error> {
        let mut st = self.shared.lock();
        bulk::publish(&mut st, &self.shared.settings, channel, n, payload_size)
    }

    /// Issues a fresh valid access token without going through OAuth.
    pub fn issue_token(&self) -> String {
        self.shared.lock().issue_token(&self.shared.settings.org_id)
    }

    /// Whether `token` is one of this org's valid access tokens now (from the token endpoint,
    /// [`issue_token`](Self::issue_token) or the pre-issued one, and not revoked), so that a
    /// server beside this one (the Pub/Sub API emulator) accepts the same tokens.
    pub fn accepts_token(&self, token: &str) -> bool {
        self.shared.lock().tokens.contains(token)
    }

    /// Revokes every access token (including the pre-issued one). Held long polls answer
    /// `401::Authentication invalid` at once; the refresh token keeps working. Unless the
    /// emulator was built with
    /// [`revoked_token_ends_sessions(false)`](crate::EmulatorBuilder::revoked_token_ends_sessions),
    /// every Bayeux session ends too: with a new token, its next request gets
    /// `403::Unknown client` and the client must handshake again. Returns how many tokens.
    pub fn revoke_tokens(&self) -> usize {
        let ends = self.shared.settings.revoked_token_ends_sessions;
        self.shared.lock().revoke_tokens(ends)
    }

    /// Ends every session. Held connects and the next request of each client get
    /// `403::Unknown client` with the chosen advice. Returns how many sessions ended.
    pub fn drop_sessions(&self, advice: DropAdvice) -> usize {
        let reconnect = match advice {
            DropAdvice::None => Reconnect::None,
            _ => Reconnect::Handshake,
        };
        self.shared
            .lock()
            .end_sessions(Tombstone::dropped(reconnect))
    }

    /// Pushes a server-side `/meta/disconnect` to every session: a held connect (or the next
    /// connect) answers `[{"channel":"/meta/disconnect"},{…"error":"403::Unknown client",
    /// "advice":{"interval":0,"reconnect":"none"}…}]`, and the session is gone.
    pub fn push_disconnect(&self) -> usize {
        self.push_disconnect_with(PushedDisconnect::UnknownClient)
    }

    /// [`push_disconnect`](Self::push_disconnect) with the chosen connect reply;
    /// [`PushedDisconnect::AuthenticationInvalid`] also revokes every access token.
    pub fn push_disconnect_with(&self, kind: PushedDisconnect) -> usize {
        let mut st = self.shared.lock();
        let error = match kind {
            PushedDisconnect::AuthenticationInvalid => AUTH_INVALID,
            _ => UNKNOWN_CLIENT,
        };
        let n = st.end_sessions(Tombstone::pushed(error));
        if kind == PushedDisconnect::AuthenticationInvalid {
            // The sessions have ended already; their tombstones keep the pushed disconnect.
            st.revoke_tokens(false);
        }
        n
    }

    /// Loses every session's load-balancer affinity, as when Salesforce's routing cookie
    /// expires or a node is scaled away: the next request of each client lands on a node that
    /// never saw its session and gets `403::Unknown client` with `{"interval":0,
    /// "reconnect":"handshake"}` and new `sfproxy-id` and `sfdc-stream` cookies; the session is
    /// gone. A request that arrives with another node's `sfproxy-id` (or none, with its
    /// `BAYEUX_BROWSER`) meets the same fate without this call. Returns how many sessions.
    pub fn reroute_sessions(&self) -> usize {
        self.shared.lock().reroute_sessions()
    }

    /// Expires retained events of `channel` as if its retention had passed: those up to and
    /// including replay id `through`, or all of them with `None`. A subscription replaying from
    /// an expired id then gets `400::The replayId {…} you provided was invalid…`. Returns how
    /// many events expired.
    pub fn expire_events(&self, channel: &str, through: Option<i64>) -> Result<usize, Error> {
        let mut st = self.shared.lock();
        let ch = st
            .channels
            .get_mut(channel)
            .ok_or_else(|| Error::UnknownChannel(channel.to_owned()))?;
        Ok(ch.expire(through))
    }

    /// Sets how long `channel` keeps events for replay, instead of the emulator's retention
    /// (`None` goes back to it). Events older than that expire at once.
    pub fn set_retention(&self, channel: &str, retention: Option<Duration>) -> Result<(), Error> {
        let settings = &self.shared.settings;
        let mut st = self.shared.lock();
        let ch = st
            .channels
            .get_mut(channel)
            .ok_or_else(|| Error::UnknownChannel(channel.to_owned()))?;
        ch.retention = retention;
        ch.prune(
            tokio::time::Instant::now(),
            settings.retention,
            settings.max_retained_events,
        );
        Ok(())
    }

    /// Injects `fault` into the next `n` CometD requests.
    pub fn fail_next(&self, n: u32, fault: Fault) {
        self.fail_next_on(FaultTarget::CometD, n, fault);
    }

    /// Injects `fault` into the next `n` requests to `target`. Faults queue up in order.
    ///
    /// The broken-response faults ([`Fault::CutAfterDelivery`], [`Fault::ResetAfterDelivery`],
    /// [`Fault::HoldAfterDelivery`]) are consumed by the next `n` `/meta/connect` responses that
    /// carry events instead (target [`FaultTarget::CometD`] or [`FaultTarget::Any`]; with
    /// [`FaultTarget::Token`] they never fire).
    pub fn fail_next_on(&self, target: FaultTarget, n: u32, fault: Fault) {
        self.shared.lock().faults.push(target, n, fault);
    }

    /// Forgets queued faults.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Chaos mode with the request-level mix ([`ChaosMix::transport`](crate::ChaosMix::transport)): each CometD request
    /// fails with probability `rate` (0 stops it), with a fault drawn from a generator seeded
    /// with `seed`: HTTP 500 or 503, a reset, a delay of up to [`DEFAULT_CHAOS_MAX_DELAY`],
    /// malformed JSON, server too busy, or (for requests with a handshake) the
    /// concurrent-limit denial. [`chaos_with`](Self::chaos_with) takes a mix that also ends
    /// sessions and breaks responses.
    pub fn chaos(&self, rate: f64, seed: u64) -> Result<(), Error> {
        self.chaos_with(ChaosConfig::new(rate, seed))
    }

    /// [`chaos`](Self::chaos) with a chosen longest delay.
    pub fn chaos_with_max_delay(
        &self,
        rate: f64,
        seed: u64,
        max_delay: Duration,
    ) -> Result<(), Error> {
        self.chaos_with(ChaosConfig::new(rate, seed).max_delay(max_delay))
    }

    /// Chaos mode with every setting: rate, seed, mix ([`ChaosMix::all`](crate::ChaosMix::all) for everything
    /// Salesforce can do), longest delay and hold. Session-level kinds hit the session the
    /// request names; broken responses hit the request's connect if it delivers events.
    pub fn chaos_with(&self, config: ChaosConfig) -> Result<(), Error> {
        if !(0.0..=1.0).contains(&config.rate) {
            return Err(Error::InvalidArgument(format!(
                "chaos rate {} is not within 0..=1",
                config.rate
            )));
        }
        let hold = config
            .hold
            .unwrap_or(self.shared.settings.long_poll_timeout * 2);
        self.shared.lock().faults.start_chaos(&config, hold);
        Ok(())
    }

    /// Stops chaos mode.
    pub fn stop_chaos(&self) {
        self.shared.lock().faults.stop_chaos();
    }

    /// The org this handle steers.
    pub fn org_id(&self) -> &str {
        &self.shared.settings.org_id
    }

    /// Starts the high-water mark of live sessions ([`Totals::max_active_sessions`](crate::Totals::max_active_sessions))
    /// again from the sessions live now, and returns that number.
    pub fn reset_max_active_sessions(&self) -> u64 {
        self.shared
            .lock()
            .reset_max_active_sessions(&self.shared.settings)
    }

    /// Keeps the last `capacity` Bayeux messages clients send from now on, for
    /// [`Control::received_messages`] (0, the default: keeps none). For tests that check what
    /// a client put in its messages (an extension's fields, say).
    pub fn observe_messages(&self, capacity: usize) {
        self.shared.observe(capacity);
    }

    /// The Bayeux messages received since [`Control::observe_messages`], oldest first, as the
    /// clients sent them.
    pub fn received_messages(&self) -> Vec<Value> {
        self.shared.observed()
    }

    /// A statistics snapshot.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats()
    }
}
