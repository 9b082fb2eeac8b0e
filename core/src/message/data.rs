//! Reading a message's `data` member leniently, in the same pass as the rest of the message:
//! the envelope fields a [`Message`](super::Message) keeps, borrowed from the body; anything of an
//! unexpected shape only marks it malformed (it is then read again strictly, to name the problem).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The `data.event` object.
#[derive(Debug, Default, Deserialize)]
pub(super) struct EventInfo<'a> {
    #[serde(rename = "replayId", default, deserialize_with = "replay_id_field")]
    pub(super) replay_id: ReplayIdField,
    #[serde(rename = "createdDate", borrow)]
    pub(super) created_date: Option<Cow<'a, str>>,
    #[serde(rename = "EventUuid", borrow)]
    pub(super) event_uuid: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    pub(super) event_type: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) enum ReplayIdField {
    #[default]
    Missing,
    Id(i64),
    Invalid,
}

fn replay_id_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ReplayIdField, D::Error> {
    // Read as a number token without going through f64; a string of digits is accepted too.
    let n = serde_json::Value::deserialize(d)?;
    Ok(match n {
        serde_json::Value::Number(n) => {
            n.as_i64().map_or(ReplayIdField::Invalid, ReplayIdField::Id)
        }
        serde_json::Value::String(s) => s.parse().map_or(ReplayIdField::Invalid, ReplayIdField::Id),
        serde_json::Value::Null => ReplayIdField::Missing,
        _ => ReplayIdField::Invalid,
    })
}

#[derive(Deserialize)]
pub(super) struct DataEnvelope<'a> {
    #[serde(borrow)]
    pub(super) event: Option<EventInfo<'a>>,
    #[serde(borrow)]
    pub(super) schema: Option<Cow<'a, str>>,
}

/// The `data` member of a message, read in the same pass as the rest of the message: whether it
/// is an object, and the envelope fields a [`Message`] keeps, borrowed from the body. Anything of
/// an unexpected shape only sets `malformed` (the message is then decoded strictly, to name the
/// problem); reading never fails on a valid JSON value.
#[derive(Debug, Default)]
pub(crate) struct Data<'a> {
    pub(super) object: bool,
    pub(super) event: Option<EventInfo<'a>>,
    pub(super) schema: Option<Cow<'a, str>>,
    pub(super) malformed: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for Data<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Lenient(LenientData))
    }
}

/// A field name of `data` or `data.event`, compared after unescaping as serde derive does.
enum Key {
    Event,
    Schema,
    ReplayId,
    CreatedDate,
    EventUuid,
    Type,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "event" => Key::Event,
                    "schema" => Key::Schema,
                    "replayId" => Key::ReplayId,
                    "createdDate" => Key::CreatedDate,
                    "EventUuid" => Key::EventUuid,
                    "type" => Key::Type,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// What a lenient reading makes of each kind of JSON value.
trait Shape<'de>: Sized {
    type Value;
    fn other(self) -> Self::Value;
    fn null(self) -> Self::Value {
        self.other()
    }
    fn string(self, _s: Cow<'de, str>) -> Self::Value {
        self.other()
    }
    fn integer(self, _n: Result<i64, ()>) -> Self::Value {
        self.other()
    }
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(self.other())
    }
}

/// A visitor that accepts every JSON value and hands it to a [`Shape`].
struct Lenient<S>(S);

impl<'de, S: Shape<'de>> Visitor<'de> for Lenient<S> {
    type Value = S::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<S::Value, E> {
        Ok(self.0.other())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<S::Value, E> {
        Ok(self.0.integer(Ok(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<S::Value, E> {
        Ok(self.0.integer(i64::try_from(v).map_err(|_| ())))
    }
    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<S::Value, E> {
        Ok(self.0.integer(Err(())))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<S::Value, E> {
        Ok(self.0.string(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<S::Value, E> {
        Ok(self.0.string(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<S::Value, E> {
        Ok(self.0.string(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<S::Value, E> {
        Ok(self.0.null())
    }
    fn visit_none<E: de::Error>(self) -> Result<S::Value, E> {
        Ok(self.0.null())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<S::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.0.other())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<S::Value, A::Error> {
        self.0.map(map)
    }
}

/// Reads a value with a [`Shape`].
struct Read<S>(S);

impl<'de, S: Shape<'de>> DeserializeSeed<'de> for Read<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        d.deserialize_any(Lenient(self.0))
    }
}

/// `data`: an object with `event` and `schema`, or any other value (not an object).
struct LenientData;

impl<'de> Shape<'de> for LenientData {
    type Value = Data<'de>;
    fn other(self) -> Data<'de> {
        Data::default()
    }
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data<'de>, A::Error> {
        let mut data = Data {
            object: true,
            ..Data::default()
        };
        let (mut event, mut schema) = (false, false);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Event if !event => {
                    event = true;
                    match map.next_value_seed(Read(LenientEvent))? {
                        Ok(ev) => data.event = ev,
                        Err(()) => data.malformed = true,
                    }
                }
                Key::Schema if !schema => {
                    schema = true;
                    match map.next_value_seed(Read(LenientText))? {
                        Ok(s) => data.schema = s,
                        Err(()) => data.malformed = true,
                    }
                }
                Key::Event | Key::Schema => {
                    // A duplicate field: serde derive refuses it.
                    data.malformed = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(data)
    }
}

/// `data.event`: an object or null; `Err` for any other shape.
struct LenientEvent;

impl<'de> Shape<'de> for LenientEvent {
    type Value = Result<Option<EventInfo<'de>>, ()>;
    fn other(self) -> Self::Value {
        Err(())
    }
    fn null(self) -> Self::Value {
        Ok(None)
    }
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut ev = EventInfo::default();
        let mut ok = true;
        let mut seen = [false; 4];
        while let Some(key) = map.next_key::<Key>()? {
            let (slot, i) = match key {
                Key::CreatedDate => (&mut ev.created_date, 0),
                Key::EventUuid => (&mut ev.event_uuid, 1),
                Key::Type => (&mut ev.event_type, 2),
                Key::ReplayId => {
                    ok &= !std::mem::replace(&mut seen[3], true);
                    ev.replay_id = map.next_value_seed(Read(LenientReplayId))?;
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            ok &= !std::mem::replace(&mut seen[i], true);
            match map.next_value_seed(Read(LenientText))? {
                Ok(s) => *slot = s,
                Err(()) => ok = false,
            }
        }
        Ok(if ok { Ok(Some(ev)) } else { Err(()) })
    }
}

/// A string or null; `Err` for any other shape.
struct LenientText;

impl<'de> Shape<'de> for LenientText {
    type Value = Result<Option<Cow<'de, str>>, ()>;
    fn other(self) -> Self::Value {
        Err(())
    }
    fn null(self) -> Self::Value {
        Ok(None)
    }
    fn string(self, s: Cow<'de, str>) -> Self::Value {
        Ok(Some(s))
    }
}

/// `replayId` exactly as [`replay_id_field`] reads it, without building a `Value`.
struct LenientReplayId;

impl<'de> Shape<'de> for LenientReplayId {
    type Value = ReplayIdField;
    fn other(self) -> ReplayIdField {
        ReplayIdField::Invalid
    }
    fn null(self) -> ReplayIdField {
        ReplayIdField::Missing
    }
    fn string(self, s: Cow<'de, str>) -> ReplayIdField {
        s.parse().map_or(ReplayIdField::Invalid, ReplayIdField::Id)
    }
    fn integer(self, n: Result<i64, ()>) -> ReplayIdField {
        n.map_or(ReplayIdField::Invalid, ReplayIdField::Id)
    }
}
