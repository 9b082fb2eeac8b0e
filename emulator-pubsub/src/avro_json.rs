//! JSON values to Avro datums (for publishing through the control API) and the checks run on
//! datums clients publish, with the `apache-avro` crate: an Avro implementation the client crates
//! do not use, so a shared misreading cannot hide.

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::types::Value as Avro;
use serde_json::Value as Json;

/// A parsed schema and its named types (records referred to by name elsewhere in it).
#[derive(Debug)]
pub(crate) struct ParsedSchema {
    pub(crate) schema: Schema,
    names: HashMap<String, Schema>,
}

fn collect(schema: &Schema, names: &mut HashMap<String, Schema>) {
    match schema {
        Schema::Record(r) => {
            names.insert(r.name.fullname(None), schema.clone());
            for f in &r.fields {
                collect(&f.schema, names);
            }
        }
        Schema::Enum(e) => {
            names.insert(e.name.fullname(None), schema.clone());
        }
        Schema::Fixed(f) => {
            names.insert(f.name.fullname(None), schema.clone());
        }
        Schema::Array(a) => collect(&a.items, names),
        Schema::Map(m) => collect(&m.types, names),
        Schema::Union(u) => u.variants().iter().for_each(|v| collect(v, names)),
        _ => {}
    }
}

impl ParsedSchema {
    pub(crate) fn parse(json: &str) -> Result<Self, String> {
        let schema =
            Schema::parse_str(json).map_err(|e| format!("not a valid Avro schema: {e}"))?;
        if !matches!(schema, Schema::Record(_)) {
            return Err("the schema must be a record".into());
        }
        let mut names = HashMap::new();
        collect(&schema, &mut names);
        Ok(Self { schema, names })
    }

    /// Follows a reference to a named type.
    pub(crate) fn resolve<'a>(&'a self, schema: &'a Schema) -> &'a Schema {
        match schema {
            Schema::Ref { name } => self.names.get(&name.fullname(None)).unwrap_or(schema),
            other => other,
        }
    }

    /// The top-level field names, in declaration order.
    pub(crate) fn field_names(&self) -> Vec<String> {
        match &self.schema {
            Schema::Record(r) => r.fields.iter().map(|f| f.name.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// The nested field names of a compound top-level field (`["null", record]` or a record),
    /// or `None` for a simple field.
    pub(crate) fn nested_names(&self, top: &str) -> Option<Vec<String>> {
        let Schema::Record(r) = &self.schema else {
            return None;
        };
        let field = r.fields.iter().find(|f| f.name == top)?;
        self.record_of(&field.schema)
            .map(|rec| rec.fields.iter().map(|f| f.name.clone()).collect())
    }

    fn record_of<'a>(
        &'a self,
        schema: &'a Schema,
    ) -> Option<&'a apache_avro::schema::RecordSchema> {
        match self.resolve(schema) {
            Schema::Record(r) => Some(r),
            Schema::Union(u) => u.variants().iter().find_map(|v| match self.resolve(v) {
                Schema::Record(r) => Some(r),
                _ => None,
            }),
            _ => None,
        }
    }

    /// Whether top-level field `name` takes `value`.
    pub(crate) fn field_accepts(&self, name: &str, value: &Json) -> bool {
        let Schema::Record(r) = &self.schema else {
            return false;
        };
        r.fields
            .iter()
            .find(|f| f.name == name)
            .is_some_and(|f| self.convert(&f.schema, value, name).is_ok())
    }

    /// Converts a JSON object to this record; `path` names the value in errors.
    pub(crate) fn record_from_json(&self, json: &Json) -> Result<Avro, String> {
        self.convert(&self.schema, json, "payload")
    }

    /// Encodes a record value as a raw Avro datum.
    pub(crate) fn encode(&self, value: Avro) -> Result<Vec<u8>, String> {
        apache_avro::to_avro_datum(&self.schema, value)
            .map_err(|e| format!("Avro encoding failed: {e}"))
    }

    /// Decodes a raw datum, which must use every byte.
    pub(crate) fn decode(&self, mut bytes: &[u8]) -> Result<Avro, String> {
        let value = apache_avro::from_avro_datum(&self.schema, &mut bytes, None)
            .map_err(|e| format!("the payload is not an Avro datum of the schema: {e}"))?;
        if bytes.is_empty() {
            Ok(value)
        } else {
            Err(format!(
                "the payload has {} bytes after the Avro datum",
                bytes.len()
            ))
        }
    }

    fn convert(&self, schema: &Schema, json: &Json, path: &str) -> Result<Avro, String> {
        let wrong = |want: &str| Err(format!("{path}: expected {want}, got {json}"));
        match (self.resolve(schema), json) {
            (Schema::Null, Json::Null) => Ok(Avro::Null),
            (Schema::Boolean, Json::Bool(b)) => Ok(Avro::Boolean(*b)),
            (Schema::Int, Json::Number(n)) => n
                .as_i64()
                .and_then(|v| i32::try_from(v).ok())
                .map(Avro::Int)
                .map_or_else(|| wrong("a 32-bit integer"), Ok),
            (Schema::Long, Json::Number(n)) => n
                .as_i64()
                .map(Avro::Long)
                .map_or_else(|| wrong("a 64-bit integer"), Ok),
            (Schema::Float, Json::Number(n)) => n
                .as_f64()
                .map(|v| Avro::Float(v as f32))
                .map_or_else(|| wrong("a number"), Ok),
            (Schema::Double, Json::Number(n)) => n
                .as_f64()
                .map(Avro::Double)
                .map_or_else(|| wrong("a number"), Ok),
            (Schema::String, Json::String(s)) => Ok(Avro::String(s.clone())),
            (Schema::Bytes, Json::String(s)) => Ok(Avro::Bytes(s.as_bytes().to_vec())),
            (Schema::Enum(e), Json::String(s)) => match e.symbols.iter().position(|x| x == s) {
                Some(i) => Ok(Avro::Enum(i as u32, s.clone())),
                None => Err(format!("{path}: {s:?} is not one of {:?}", e.symbols)),
            },
            (Schema::Array(a), Json::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.convert(&a.items, item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()
                .map(Avro::Array),
            (Schema::Map(m), Json::Object(entries)) => entries
                .iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        self.convert(&m.types, v, &format!("{path}.{k}"))?,
                    ))
                })
                .collect::<Result<_, String>>()
                .map(Avro::Map),
            (Schema::Union(u), _) => {
                let variants = u.variants();
                if json.is_null() {
                    return match variants.iter().position(|v| matches!(v, Schema::Null)) {
                        Some(i) => Ok(Avro::Union(i as u32, Box::new(Avro::Null))),
                        None => wrong("a value (the field is not nullable)"),
                    };
                }
                let mut last = String::new();
                for (i, v) in variants.iter().enumerate() {
                    if matches!(v, Schema::Null) {
                        continue;
                    }
                    match self.convert(v, json, path) {
                        Ok(value) => return Ok(Avro::Union(i as u32, Box::new(value))),
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
            (Schema::Record(r), Json::Object(obj)) => {
                if let Some(unknown) = obj.keys().find(|k| !r.lookup.contains_key(*k)) {
                    let known: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
                    return Err(format!(
                        "{path}: no field {unknown:?} in {}; the fields are {known:?}",
                        r.name.name
                    ));
                }
                let mut fields = Vec::with_capacity(r.fields.len());
                for f in &r.fields {
                    let here = format!("{path}.{}", f.name);
                    let value = match obj.get(&f.name) {
                        Some(v) => self.convert(&f.schema, v, &here)?,
                        None => match &f.default {
                            Some(d) => self.convert(&f.schema, d, &here)?,
                            None => return Err(format!("{here}: missing, and it has no default")),
                        },
                    };
                    fields.push((f.name.clone(), value));
                }
                Ok(Avro::Record(fields))
            }
            (Schema::Record(_), _) => wrong("an object"),
            (other, _) => wrong(&format!("a value of Avro type {other:?}")),
        }
    }
}

/// A top-level field of a decoded record.
pub(crate) fn field<'a>(record: &'a Avro, name: &str) -> Option<&'a Avro> {
    match record {
        Avro::Record(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
        _ => None,
    }
}

/// Unwraps union branches.
pub(crate) fn plain(value: &Avro) -> &Avro {
    match value {
        Avro::Union(_, inner) => plain(inner),
        other => other,
    }
}
