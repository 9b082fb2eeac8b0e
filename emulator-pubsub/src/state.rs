//! The shared state: topics, schemas, managed subscriptions, faults and counters, behind one
//! lock that is never held across an await. A watch channel wakes streams when anything they
//! may care about changes (a publish, a reset, a managed subscription's state).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::Value as Json;
use tokio::sync::watch;

use crate::auth::{BuiltInTokens, TokenCheck};
use crate::avro_json::{self, ParsedSchema};
use crate::clock::EmulatorClock;
use crate::config::{ManagedState, ReplayStart, Settings};
use crate::error::Error;
use crate::faults::Faults;
use crate::schema::{self, Field, TopicKind};
use crate::stats::{Stats, TopicStats};
use crate::topics::{CurrentSchema, Topic};
use crate::util::{self, Rng};

/// A managed subscription's configuration and server-side cursor.
#[derive(Debug)]
pub(crate) struct Managed {
    pub(crate) developer_name: String,
    pub(crate) topic: String,
    pub(crate) default_replay: ReplayStart,
    pub(crate) error_recovery_replay: ReplayStart,
    pub(crate) state: ManagedState,
    pub(crate) committed: Option<u64>,
    pub(crate) active: bool,
    pub(crate) deleted: bool,
}

pub(crate) struct State {
    pub(crate) rng: Rng,
    pub(crate) topics: BTreeMap<String, Topic>,
    /// Every schema id ever used, with its JSON.
    pub(crate) schemas: HashMap<String, String>,
    pub(crate) managed: BTreeMap<String, Managed>,
    pub(crate) faults: Faults,
    pub(crate) stats: Stats,
}

pub(crate) struct Shared {
    pub(crate) settings: Settings,
    state: Mutex<State>,
    pub(crate) clock: EmulatorClock,
    pub(crate) check: Arc<dyn TokenCheck>,
    pub(crate) built_in: Option<Arc<BuiltInTokens>>,
    pub(crate) changed: watch::Sender<u64>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub(crate) fn new(
        settings: Settings,
        state: State,
        clock: EmulatorClock,
        check: Arc<dyn TokenCheck>,
        built_in: Option<Arc<BuiltInTokens>>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            settings,
            state: Mutex::new(state),
            clock,
            check,
            built_in,
            changed: watch::channel(0).0,
            shutdown,
        }
    }

    /// The state, with retention applied as of now.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now_ms();
        let retention = util::millis(self.settings.retention);
        for topic in st.topics.values_mut() {
            topic.purge(now, retention);
        }
        st
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Wakes every stream to look at the state again.
    pub(crate) fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl State {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: util::rng_from_seed(seed),
            topics: BTreeMap::new(),
            schemas: HashMap::new(),
            managed: BTreeMap::new(),
            faults: Faults::default(),
            stats: Stats::default(),
        }
    }

    pub(crate) fn topic_stats(&mut self, topic: &str) -> &mut TopicStats {
        self.stats.topics.entry(topic.to_owned()).or_default()
    }

    /// Counts `n` credits asked for on a stream of `topic` that was owed `owed` before them.
    pub(crate) fn credits_asked(&mut self, topic: &str, owed: i32, n: i32) {
        let n = u64::try_from(n).unwrap_or(0);
        let owed = u64::try_from(owed).unwrap_or(0);
        self.stats.totals.credits_requested += n;
        let stats = self.topic_stats(topic);
        stats.credits_requested += n;
        stats.most_owed = stats.most_owed.max(owed + n);
    }

    pub(crate) fn fault_fired(&mut self, name: &str) {
        self.stats.totals.faults_fired += 1;
        *self.stats.faults.entry(name.to_owned()).or_default() += 1;
    }

    fn install_schema(&mut self, json: String) -> Result<CurrentSchema, Error> {
        let parsed = ParsedSchema::parse(&json).map_err(Error::InvalidArgument)?;
        let id = schema::schema_id(&json);
        self.schemas.insert(id.clone(), json);
        Ok(CurrentSchema {
            id,
            parsed: Arc::new(parsed),
        })
    }

    /// Creates a topic with generated fields or a given Avro schema JSON. An existing topic is
    /// left as it is.
    pub(crate) fn create_topic(
        &mut self,
        name: &str,
        fields: Option<&[Field]>,
        schema_json: Option<String>,
    ) -> Result<TopicKind, Error> {
        let kind = TopicKind::of(name)?;
        if let Some(existing) = self.topics.get(name) {
            return Ok(existing.kind);
        }
        let schema = self.schema_for(name, kind, fields, schema_json)?;
        let topic = Topic::new(kind, schema, &mut self.rng);
        self.topics.insert(name.to_owned(), topic);
        self.topic_stats(name);
        Ok(kind)
    }

    fn schema_for(
        &mut self,
        name: &str,
        kind: TopicKind,
        fields: Option<&[Field]>,
        schema_json: Option<String>,
    ) -> Result<Option<CurrentSchema>, Error> {
        if kind == TopicKind::AllChangeEvents {
            return match (fields, schema_json) {
                (None, None) => Ok(None),
                _ => Err(Error::InvalidArgument(
                    "/data/ChangeEvents carries the schemas of the other change-event topics and \
                     takes none of its own"
                        .into(),
                )),
            };
        }
        let json = match schema_json {
            Some(json) => json,
            None => {
                let defaults;
                let fields = match fields {
                    Some(f) => f,
                    None => {
                        defaults = schema::default_fields(name);
                        &defaults
                    }
                };
                schema::generate(name, kind, fields)
            }
        };
        self.install_schema(json).map(Some)
    }

    /// Replaces a topic's schema; the old id stays valid for `GetSchema` and old events.
    pub(crate) fn change_schema(
        &mut self,
        name: &str,
        fields: Option<&[Field]>,
        schema_json: Option<String>,
    ) -> Result<String, Error> {
        let kind = self
            .topics
            .get(name)
            .ok_or_else(|| Error::UnknownTopic(name.to_owned()))?
            .kind;
        let Some(schema) = self.schema_for(name, kind, fields.or(Some(&[])), schema_json)? else {
            return Err(Error::InvalidArgument(format!(
                "{name} has no schema of its own"
            )));
        };
        let id = schema.id.clone();
        if let Some(topic) = self.topics.get_mut(name) {
            topic.schema = Some(schema);
        }
        Ok(id)
    }

    /// Appends an encoded event; change events also go to `/data/ChangeEvents`. Returns the
    /// replay id on `name`.
    pub(crate) fn append(
        &mut self,
        name: &str,
        id: String,
        schema_id: &str,
        payload: Bytes,
        now_ms: u64,
    ) -> Result<u64, Error> {
        let topic = self
            .topics
            .get_mut(name)
            .ok_or_else(|| Error::UnknownTopic(name.to_owned()))?;
        let kind = topic.kind;
        let replay = topic.append(
            id.clone(),
            schema_id.to_owned(),
            payload.clone(),
            now_ms,
            &mut self.rng,
        );
        self.stats.totals.published += 1;
        self.topic_stats(name).published += 1;
        if kind == TopicKind::ChangeEvent
            && let Some(all) = self.topics.get_mut("/data/ChangeEvents")
        {
            all.append(id, schema_id.to_owned(), payload, now_ms, &mut self.rng);
            self.topic_stats("/data/ChangeEvents").published += 1;
        }
        Ok(replay)
    }

    /// Publishes one event given as JSON field values (generated ones for `None`); returns its
    /// replay id.
    pub(crate) fn publish_json(
        &mut self,
        settings: &Settings,
        now_ms: u64,
        name: &str,
        payload: Option<Json>,
    ) -> Result<u64, Error> {
        let topic = self
            .topics
            .get(name)
            .ok_or_else(|| Error::UnknownTopic(name.to_owned()))?;
        let Some(current) = topic.schema.clone() else {
            return Err(Error::InvalidArgument(
                "publish change events to their object's topic (e.g. /data/AccountChangeEvent); \
                 they reach /data/ChangeEvents from there"
                    .into(),
            ));
        };
        let kind = topic.kind;
        let payload = payload.unwrap_or_else(|| self.generated_payload(&current.parsed));
        let record_json = match kind {
            TopicKind::ChangeEvent => crate::cdc::build(
                name,
                &current.parsed,
                &payload,
                now_ms,
                &settings.user_id,
                &mut self.rng,
            )
            .map_err(Error::InvalidArgument)?,
            _ => with_platform_event_defaults(&current.parsed, payload, now_ms, &settings.user_id),
        };
        let value = current
            .parsed
            .record_from_json(&record_json)
            .map_err(Error::InvalidArgument)?;
        let datum = current
            .parsed
            .encode(value)
            .map_err(Error::InvalidArgument)?;
        let id = util::uuid(&mut self.rng);
        self.append(name, id, &current.id, Bytes::from(datum), now_ms)
    }

    /// A payload for `count` publishing: the first simple text field set to a counter.
    fn generated_payload(&mut self, parsed: &ParsedSchema) -> Json {
        let n = self.stats.totals.published + 1;
        let value = Json::String(format!("generated {n}"));
        let skip = ["CreatedById", "ChangeEventHeader"];
        let mut obj = serde_json::Map::new();
        if let Some(name) = parsed
            .field_names()
            .into_iter()
            .find(|f| !skip.contains(&f.as_str()) && parsed.field_accepts(f, &value))
        {
            obj.insert(name, value);
        }
        Json::Object(obj)
    }

    /// Whether `replay` is a position on `topic` (exactly 8 bytes, retained or the tip).
    pub(crate) fn valid_position(&self, topic: &str, replay: &[u8]) -> Option<u64> {
        let r = util::replay_from_bytes(replay)?;
        self.topics.get(topic)?.is_position(r).then_some(r)
    }

    pub(crate) fn refresh_retained(&mut self) {
        let counts: Vec<(String, u64)> = self
            .topics
            .iter()
            .map(|(n, t)| (n.clone(), t.events.len() as u64))
            .collect();
        for (name, n) in counts {
            self.topic_stats(&name).retained = n;
        }
    }
}

/// Platform Events need `CreatedDate` (epoch ms) and `CreatedById`; fill them when missing.
fn with_platform_event_defaults(
    parsed: &ParsedSchema,
    payload: Json,
    now_ms: u64,
    user: &str,
) -> Json {
    let Json::Object(mut obj) = payload else {
        return payload;
    };
    let names = parsed.field_names();
    if names.iter().any(|n| n == "CreatedDate") && !obj.contains_key("CreatedDate") {
        obj.insert("CreatedDate".into(), now_ms.into());
    }
    if names.iter().any(|n| n == "CreatedById") && !obj.contains_key("CreatedById") {
        obj.insert("CreatedById".into(), user.into());
    }
    Json::Object(obj)
}

/// Checks a datum a client published: it decodes with the schema, and on Platform Events
/// `CreatedDate` is positive and `CreatedById` not blank.
pub(crate) fn check_published(parsed: &ParsedSchema, payload: &[u8]) -> Result<(), String> {
    use apache_avro::types::Value as Avro;
    let record = parsed.decode(payload)?;
    let names = parsed.field_names();
    if names.iter().any(|n| n == "CreatedDate") {
        match avro_json::field(&record, "CreatedDate").map(avro_json::plain) {
            Some(Avro::Long(ms)) if *ms > 0 => {}
            _ => {
                return Err(
                    "CreatedDate is missing or not a positive epoch-millisecond time".into(),
                );
            }
        }
    }
    if names.iter().any(|n| n == "CreatedById") {
        match avro_json::field(&record, "CreatedById").map(avro_json::plain) {
            Some(Avro::String(s)) if !s.trim().is_empty() => {}
            _ => return Err("CreatedById is missing or blank".into()),
        }
    }
    Ok(())
}
