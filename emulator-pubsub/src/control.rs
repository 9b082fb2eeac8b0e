//! The control handle: steer a running emulator from Rust. Every method has an HTTP twin under
//! `/_emulator/` (see the crate docs).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::config::{ManagedState, ReplayStart};
use crate::error::Error;
use crate::faults::{Fault, FaultTarget};
use crate::managed::{self, ManagedSubscription};
use crate::schema::{Field, TopicKind};
use crate::state::{Managed, Shared};
use crate::stats::Stats;
use crate::util;

/// A published event's replay id, as the control API reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayId(pub u64);

impl ReplayId {
    /// The 8 big-endian bytes a client receives.
    pub fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// Standard base64 of the bytes.
    pub fn to_base64(self) -> String {
        util::base64_of(&self.to_bytes())
    }
}

impl Serialize for ReplayId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_base64().serialize(s)
    }
}

/// A topic as the control API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TopicSummary {
    /// The topic name.
    pub name: String,
    /// Its kind.
    pub kind: TopicKind,
    /// Its current schema id (empty for `/data/ChangeEvents`).
    pub schema_id: String,
    /// Events retained now.
    pub retained: usize,
    /// The newest position (base64 of the 8 bytes).
    pub tip_replay_id: String,
}

/// A cloneable handle that steers a running emulator. Methods take the emulator's lock briefly
/// and never wait for I/O, so async and blocking code can call them alike.
#[derive(Clone)]
pub struct Control {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("url", &self.shared.settings.url)
            .finish_non_exhaustive()
    }
}

impl Control {
    /// The gRPC endpoint, `http://127.0.0.1:PORT` or `https://localhost:PORT`.
    pub fn url(&self) -> &str {
        &self.shared.settings.url
    }

    /// The org id (18 characters), what `tenantid` must carry and `GetTopic` reports.
    pub fn org_id(&self) -> &str {
        &self.shared.settings.org_id
    }

    /// The access token accepted from the start (by the built-in token check).
    pub fn access_token(&self) -> &str {
        &self.shared.settings.access_token
    }

    /// Creates a topic whose schema is generated from `fields` (`None`: the default fields for
    /// well-known names, none otherwise). An existing topic is left as it is. Returns its kind.
    pub fn create_topic(&self, name: &str, fields: Option<&[Field]>) -> Result<TopicKind, Error> {
        self.shared.lock().create_topic(name, fields, None)
    }

    /// Creates a topic with this Avro schema JSON (a record).
    pub fn create_topic_with_schema(
        &self,
        name: &str,
        schema_json: &str,
    ) -> Result<TopicKind, Error> {
        self.shared
            .lock()
            .create_topic(name, None, Some(schema_json.to_owned()))
    }

    /// Gives a topic a new schema (generated from `fields`, or the given JSON) and returns the new
    /// schema id. Old ids stay valid for `GetSchema`; events keep the id they were written with.
    pub fn change_schema(
        &self,
        topic: &str,
        fields: Option<&[Field]>,
        schema_json: Option<&str>,
    ) -> Result<String, Error> {
        self.shared
            .lock()
            .change_schema(topic, fields, schema_json.map(str::to_owned))
    }

    /// The topics.
    pub fn topics(&self) -> Vec<TopicSummary> {
        self.shared
            .lock()
            .topics
            .iter()
            .map(|(name, t)| TopicSummary {
                name: name.clone(),
                kind: t.kind,
                schema_id: t.schema.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
                retained: t.events.len(),
                tip_replay_id: util::base64_of(&t.tip.to_be_bytes()),
            })
            .collect()
    }

    /// Publishes one event given as JSON field values, encoded with the topic's current schema.
    /// Platform Events get `CreatedDate` (now, ms) and `CreatedById` when missing; change events
    /// get a `ChangeEventHeader` (fields given in `"ChangeEventHeader"` win) with bitmaps that
    /// describe the fields given for `UPDATE`.
    pub fn publish(&self, topic: &str, payload: Value) -> Result<ReplayId, Error> {
        self.publish_many(topic, [payload]).map(|ids| ids[0])
    }

    /// Publishes several events in order; returns their replay ids.
    pub fn publish_many(
        &self,
        topic: &str,
        payloads: impl IntoIterator<Item = Value>,
    ) -> Result<Vec<ReplayId>, Error> {
        self.publish_inner(topic, payloads.into_iter().map(Some))
    }

    /// Publishes `n` events with generated payloads; returns their replay ids.
    pub fn publish_generated(&self, topic: &str, n: usize) -> Result<Vec<ReplayId>, Error> {
        self.publish_inner(topic, (0..n).map(|_| None))
    }

    fn publish_inner(
        &self,
        topic: &str,
        payloads: impl Iterator<Item = Option<Value>>,
    ) -> Result<Vec<ReplayId>, Error> {
        let now = self.shared.now_ms();
        let result = {
            let mut st = self.shared.lock();
            payloads
                .map(|p| {
                    st.publish_json(&self.shared.settings, now, topic, p)
                        .map(ReplayId)
                })
                .collect()
        };
        self.shared.bump();
        result
    }

    /// An org migration on `topic`: retained events get new replay ids, every id handed out before
    /// is unknown (`…replayid.corrupted`), and open streams on it end with `UNAVAILABLE`.
    pub fn reset_replay_ids(&self, topic: &str) -> Result<(), Error> {
        {
            let mut st = self.shared.lock();
            let st = &mut *st;
            let t = st
                .topics
                .get_mut(topic)
                .ok_or_else(|| Error::UnknownTopic(topic.to_owned()))?;
            t.reset(&mut st.rng);
        }
        self.shared.bump();
        Ok(())
    }

    /// Moves the built-in clock forward (retention purges what falls out of the window). Fails
    /// when the builder was given a clock of its own: move that one instead.
    pub fn advance_clock(&self, by: Duration) -> Result<(), Error> {
        if self.shared.clock.advance(by) {
            self.shared.bump();
            Ok(())
        } else {
            Err(Error::InvalidArgument(
                "the emulator runs on an injected clock; advance that clock instead".into(),
            ))
        }
    }

    /// The emulator's clock, epoch milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.shared.now_ms()
    }

    /// Creates a managed subscription (state `RUN`) on `topic` and returns its id.
    pub fn create_managed_subscription(
        &self,
        developer_name: &str,
        topic: &str,
        default_replay: ReplayStart,
        error_recovery_replay: ReplayStart,
    ) -> Result<String, Error> {
        let mut st = self.shared.lock();
        if !st.topics.contains_key(topic) {
            return Err(Error::UnknownTopic(topic.to_owned()));
        }
        let name = developer_name.trim();
        if name.is_empty() {
            return Err(Error::InvalidArgument("the developer name is blank".into()));
        }
        if st
            .managed
            .values()
            .any(|m| m.developer_name == name && !m.deleted)
        {
            return Err(Error::InvalidArgument(format!(
                "a managed subscription named {name:?} exists already"
            )));
        }
        if st.managed.values().filter(|m| !m.deleted).count() >= 200 {
            return Err(Error::InvalidArgument(
                "an org has at most 200 managed subscriptions".into(),
            ));
        }
        let id = managed::new_id(&mut st.rng);
        st.managed.insert(
            id.clone(),
            Managed {
                developer_name: name.to_owned(),
                topic: topic.to_owned(),
                default_replay,
                error_recovery_replay,
                state: ManagedState::Run,
                committed: None,
                active: false,
                deleted: false,
            },
        );
        Ok(id)
    }

    /// Sets `RUN` or `STOP` (an open stream ends with `…config.stopped`). `subscription` is the
    /// id or the developer name.
    pub fn set_managed_state(&self, subscription: &str, state: ManagedState) -> Result<(), Error> {
        self.with_managed(subscription, |m| m.state = state)
    }

    /// Deletes a managed subscription (an open stream ends with `…config.deleted`).
    pub fn delete_managed_subscription(&self, subscription: &str) -> Result<(), Error> {
        self.with_managed(subscription, |m| m.deleted = true)
    }

    fn with_managed(&self, subscription: &str, f: impl FnOnce(&mut Managed)) -> Result<(), Error> {
        {
            let mut st = self.shared.lock();
            let m = st
                .managed
                .iter_mut()
                .find(|(id, m)| {
                    !m.deleted && (id.as_str() == subscription || m.developer_name == subscription)
                })
                .map(|(_, m)| m)
                .ok_or_else(|| Error::UnknownSubscription(subscription.to_owned()))?;
            f(m);
        }
        self.shared.bump();
        Ok(())
    }

    /// The managed subscriptions (deleted ones left out).
    pub fn managed_subscriptions(&self) -> Vec<ManagedSubscription> {
        self.shared
            .lock()
            .managed
            .iter()
            .filter(|(_, m)| !m.deleted)
            .map(|(id, m)| ManagedSubscription {
                id: id.clone(),
                developer_name: m.developer_name.clone(),
                topic: m.topic.clone(),
                default_replay: m.default_replay,
                error_recovery_replay: m.error_recovery_replay,
                state: m.state,
                committed_replay_id: m.committed.map(|r| util::base64_of(&r.to_be_bytes())),
                active: m.active,
            })
            .collect()
    }

    /// Issues a new access token accepted by the built-in check (`None` when the builder was
    /// given a check of its own).
    pub fn issue_token(&self) -> Option<String> {
        let built_in = self.shared.built_in.as_ref()?;
        let token = {
            let mut st = self.shared.lock();
            let org15: String = self.org_id().chars().take(15).collect();
            format!("{org15}!AQ{}", util::alnum(&mut st.rng, 40))
        };
        built_in.add(token.clone());
        Some(token)
    }

    /// Expires every token the built-in check accepts (the configured one included): new calls
    /// fail `UNAUTHENTICATED` until a token from [`issue_token`](Self::issue_token) is used;
    /// open streams keep running. Returns how many tokens expired (`None` with a custom check).
    pub fn expire_tokens(&self) -> Option<usize> {
        self.shared.built_in.as_ref().map(|b| b.expire_all())
    }

    /// Injects `fault` into the next `n` calls or stream responses it applies to (see [`Fault`]).
    pub fn fail_next(&self, n: u32, fault: Fault) {
        self.fail_next_on(FaultTarget::Any, n, fault);
    }

    /// [`fail_next`](Self::fail_next), only for calls of `target`. Faults queue up in order.
    pub fn fail_next_on(&self, target: FaultTarget, n: u32, fault: Fault) {
        self.shared.lock().faults.push(target, n, fault);
        self.shared.bump();
    }

    /// Forgets queued faults.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Chaos: every call start, stream response and `CUSTOM` replay draws a fault with
    /// probability `rate` from a generator seeded with `seed` (`TokenExpired` or `Unavailable` at
    /// call start; `Unavailable`, `CutAfterDelivery` or `Stall` on responses; `DuplicateDelivery`
    /// of 1–3 events on a `CUSTOM` replay). Rate 0 stops it.
    pub fn chaos(&self, rate: f64, seed: u64) -> Result<(), Error> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(Error::InvalidArgument(format!(
                "chaos rate {rate} is not within 0..=1"
            )));
        }
        self.shared.lock().faults.start_chaos(rate, seed);
        Ok(())
    }

    /// Stops chaos mode.
    pub fn stop_chaos(&self) {
        self.shared.lock().faults.stop_chaos();
    }

    /// A statistics snapshot.
    pub fn stats(&self) -> Stats {
        let mut st = self.shared.lock();
        st.refresh_retained();
        st.stats.clone()
    }
}
