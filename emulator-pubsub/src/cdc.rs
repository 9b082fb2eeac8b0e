//! Change events: the `ChangeEventHeader` a publish through the control API gets when it gives
//! none (or only part of one), and the `changedFields` / `nulledFields` bitmaps.
//!
//! Bitmaps follow Salesforce's encoding: an element `0x<HEX>` (upper-case) whose bit *i* marks
//! top-level field *i* (declaration order, `ChangeEventHeader` = 0), and elements
//! `<i>-0x<HEX>` for the nested fields of compound field *i*. The top-level element is left out
//! when no top-level bit is set, so a change that only touches part of an Address is a lone
//! `N-0x…` entry.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json, json};

use crate::avro_json::ParsedSchema;
use crate::schema;
use crate::util::{self, Rng};

/// Upper-case hex of a bit set, `0x` first, no leading zeros (`{5,6,7,10}` → `0x4E0`).
pub(crate) fn hex_bitmap(bits: &BTreeSet<usize>) -> String {
    let top = bits.iter().next_back().copied().unwrap_or(0);
    let mut words = vec![0u64; top / 64 + 1];
    for &b in bits {
        words[b / 64] |= 1 << (b % 64);
    }
    let mut text = String::from("0x");
    let mut iter = words.iter().rev();
    if let Some(first) = iter.next() {
        text.push_str(&format!("{first:X}"));
    }
    for w in iter {
        text.push_str(&format!("{w:016X}"));
    }
    text
}

/// The bitmap list of a set of top-level and nested field positions.
fn bitmap_list(top: &BTreeSet<usize>, nested: &BTreeMap<usize, BTreeSet<usize>>) -> Vec<String> {
    let mut list = Vec::new();
    if !top.is_empty() {
        list.push(hex_bitmap(top));
    }
    for (parent, bits) in nested {
        if !bits.is_empty() {
            list.push(format!("{parent}-{}", hex_bitmap(bits)));
        }
    }
    list
}

fn key_prefix(entity: &str) -> &'static str {
    match entity {
        "Account" => "001",
        "Contact" => "003",
        "Opportunity" => "006",
        "Lead" => "00Q",
        "Case" => "500",
        _ => "a00",
    }
}

#[derive(Default)]
struct Bitmaps {
    changed: BTreeSet<usize>,
    nulled: BTreeSet<usize>,
    nested_changed: BTreeMap<usize, BTreeSet<usize>>,
    nested_nulled: BTreeMap<usize, BTreeSet<usize>>,
}

fn bitmaps(
    schema: &ParsedSchema,
    fields: &[String],
    values: &Map<String, Json>,
) -> Result<Bitmaps, String> {
    let mut maps = Bitmaps::default();
    for (key, value) in values {
        let Some(index) = fields.iter().position(|f| f == key) else {
            return Err(format!(
                "payload: no field {key:?}; the fields are {fields:?}"
            ));
        };
        match (schema.nested_names(key), value) {
            (Some(nested), Json::Object(parts)) => {
                for (part, v) in parts {
                    let Some(j) = nested.iter().position(|n| n == part) else {
                        return Err(format!(
                            "payload.{key}: no field {part:?}; the fields are {nested:?}"
                        ));
                    };
                    maps.nested_changed.entry(index).or_default().insert(j);
                    if v.is_null() {
                        maps.nested_nulled.entry(index).or_default().insert(j);
                    }
                }
            }
            _ => {
                maps.changed.insert(index);
                if value.is_null() {
                    maps.nulled.insert(index);
                }
            }
        }
    }
    Ok(maps)
}

/// Builds the JSON record of a change event from what a control-API user gave: field values
/// and, optionally, some or all `ChangeEventHeader` fields. Header fields given win; the rest
/// are generated. For `UPDATE` the bitmaps describe the fields given (a JSON `null` is a nulled
/// field); `GAP_*` events carry no field values.
pub(crate) fn build(
    topic: &str,
    schema: &ParsedSchema,
    payload: &Json,
    now_ms: u64,
    user_id: &str,
    rng: &mut Rng,
) -> Result<Json, String> {
    let Json::Object(obj) = payload else {
        return Err(format!(
            "payload: a change event is a JSON object of fields, not {payload}"
        ));
    };
    let mut values = obj.clone();
    let given = match values.remove("ChangeEventHeader") {
        None => Map::new(),
        Some(Json::Object(h)) => h,
        Some(other) => {
            return Err(format!(
                "payload.ChangeEventHeader: expected an object, got {other}"
            ));
        }
    };
    let change_type = given
        .get("changeType")
        .and_then(Json::as_str)
        .unwrap_or("CREATE")
        .to_owned();
    let gap = change_type.starts_with("GAP_");
    if gap && !values.is_empty() {
        return Err(format!(
            "payload: a {change_type} event carries no field values (got {:?})",
            values.keys().collect::<Vec<_>>()
        ));
    }
    let fields = schema.field_names();
    let maps = bitmaps(schema, &fields, &values)?;
    let (changed, nulled) = if change_type == "UPDATE" {
        (
            bitmap_list(&maps.changed, &maps.nested_changed),
            bitmap_list(&maps.nulled, &maps.nested_nulled),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let entity = schema::entity_name(topic);
    let prefix = key_prefix(&entity);
    let record_id = if change_type == "GAP_OVERFLOW" {
        format!("{prefix}*")
    } else {
        util::id18(&format!("{prefix}{}", util::alnum(rng, 12)))
    };
    // Every other commit number is above 2^53, which JSON numbers in JavaScript cannot hold.
    let commit_number = if util::below(rng, 2) == 0 {
        (1i64 << 60) + i64::try_from(util::below(rng, 1 << 40)).unwrap_or(0)
    } else {
        i64::try_from(util::below(rng, 1 << 40)).unwrap_or(0)
    };
    let mut header = json!({
        "entityName": entity,
        "recordIds": [record_id],
        "changeType": change_type,
        "changeOrigin": "com/salesforce/api/soap/64.0;client=sfstream-emulator",
        "transactionKey": util::uuid(rng),
        "sequenceNumber": 1,
        "commitTimestamp": now_ms,
        "commitNumber": commit_number,
        "commitUser": user_id,
        "nulledFields": nulled,
        "diffFields": [],
        "changedFields": changed,
    });
    if let Json::Object(h) = &mut header {
        for (k, v) in given {
            if !h.contains_key(&k) {
                return Err(format!("payload.ChangeEventHeader: no field {k:?}"));
            }
            h.insert(k, v);
        }
    }
    values.insert("ChangeEventHeader".into(), header);
    Ok(Json::Object(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_bitmaps_match_salesforce_examples() {
        let bits: BTreeSet<usize> = [5, 6, 7, 10, 24, 26, 29, 30].into();
        assert_eq!(hex_bitmap(&bits), "0x650004E0");
        assert_eq!(hex_bitmap(&[4].into()), "0x10");
        assert_eq!(hex_bitmap(&[64].into()), "0x10000000000000000");
        assert_eq!(hex_bitmap(&[0, 65].into()), "0x20000000000000001");
    }
}
