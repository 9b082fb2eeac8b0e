//! Change events' bitmap-encoded field lists (`changedFields`, `nulledFields`, `diffFields`)
//! turned into field names.

use serde_json::json;
use sfstream_core::pubsub::avro::Schema;
use sfstream_core::pubsub::cdc::{BitmapError, expand_field_lists, field_names};

fn account() -> Schema {
    Schema::parse(include_str!("data/pubsub/account_change_event.avsc")).unwrap()
}

fn names(entries: &[&str]) -> Vec<String> {
    field_names(&account(), entries).unwrap()
}

#[test]
fn the_documented_example() {
    // 0x650004E0 sets bits 5, 6, 7, 10, 24, 26, 29 and 30.
    let schema = account();
    let fields = schema.field_names();
    let expected: Vec<String> = [5, 6, 7, 10, 24, 26, 29, 30]
        .iter()
        .map(|&i| fields[i].to_owned())
        .collect();
    assert_eq!(names(&["0x650004E0"]), expected);
    assert_eq!(
        expected,
        [
            "ShippingAddress",
            "Phone",
            "Fax",
            "Sic",
            "Jigsaw",
            "CleanStatus",
            "Tradestyle",
            "NaicsCode"
        ]
    );
}

#[test]
fn hex_in_any_case() {
    let upper = names(&["0x650004E0"]);
    assert_eq!(names(&["0x650004e0"]), upper);
    assert_eq!(names(&["0X650004E0"]), upper);
    assert_eq!(names(&["0x0000650004E0"]), upper, "leading zeros");
}

#[test]
fn bit_zero_is_the_header_and_bits_past_the_fields_are_ignored() {
    assert_eq!(names(&["0x1"]), ["ChangeEventHeader"]);
    // Bit 39 is the last field; bits 40 and up name nothing.
    assert_eq!(names(&["0xFF8000000000"]), ["IsActive__c"]);
    assert_eq!(names(&[&format!("0x{}", "F".repeat(200))]).len(), 40);
    assert_eq!(names(&["0x0"]), Vec::<String>::new());
}

#[test]
fn compound_entries_name_nested_fields() {
    // 4 = BillingAddress; Address fields: Street 0, City 1, State 2, PostalCode 3, Country 4, ...
    assert_eq!(
        names(&["0x10", "4-0x13"]),
        [
            "BillingAddress",
            "BillingAddress.Street",
            "BillingAddress.City",
            "BillingAddress.Country"
        ]
    );
    // The reference's `4-0x10` selects nested index 4.
    assert_eq!(names(&["4-0x10"]), ["BillingAddress.Country"]);
    // Bits past the record's ten fields are ignored there too.
    assert_eq!(names(&["5-0xC01"]), ["ShippingAddress.Street"]);
}

#[test]
fn a_lone_compound_entry_is_not_dropped() {
    // nulledFields when only part of an address was nulled: no top-level bitmap at all.
    assert_eq!(names(&["5-0x2"]), ["ShippingAddress.City"]);
    assert_eq!(
        names(&["4-0x1", "5-0x1"]),
        ["BillingAddress.Street", "ShippingAddress.Street"]
    );
}

#[test]
fn names_already_spelt_out_pass_through() {
    assert_eq!(
        names(&["Name", "LastModifiedDate"]),
        ["Name", "LastModifiedDate"]
    );
    assert_eq!(names(&[]), Vec::<String>::new());
}

#[test]
fn unreadable_entries_are_errors_that_say_why() {
    let schema = account();
    let check = |entry: &str, expected: &str| {
        let error: BitmapError = field_names(&schema, &[entry]).unwrap_err();
        assert_eq!(error.entry, entry);
        let shown = error.to_string();
        assert!(shown.contains(expected), "{entry}: {shown}");
    };
    check("0x12G4", "'G' is not a hex digit");
    check("0x", "no hex digits");
    check("4-0xZ", "'Z' is not a hex digit");
    check("40-0x1", "field index 40 is past the schema's 40 fields");
    check("1-0x1", "field 1 (Name) holds no record");
    check("x-0x1", "\"x\" is not a field index");
}

#[test]
fn a_decoded_change_event_gets_names_in_its_header() {
    let schema = account();
    let mut event = json!({
        "ChangeEventHeader": {
            "entityName": "Account",
            "changedFields": ["0x650004E0", "5-0x2"],
            "nulledFields": ["4-0x1"],
            "diffFields": [],
            "recordIds": ["001"]
        },
        "Name": null
    });
    expand_field_lists(&schema, &mut event).unwrap();
    let header = &event["ChangeEventHeader"];
    assert_eq!(header["changedFields"].as_array().unwrap().len(), 9);
    assert_eq!(header["changedFields"][8], "ShippingAddress.City");
    assert_eq!(header["nulledFields"], json!(["BillingAddress.Street"]));
    assert_eq!(header["diffFields"], json!([]));
    assert_eq!(header["recordIds"], json!(["001"]), "other lists untouched");

    // A bad entry leaves the event as it was.
    let mut bad = json!({"ChangeEventHeader": {"changedFields": ["0x2"], "nulledFields": ["0xQ"]}});
    let before = bad.clone();
    assert!(expand_field_lists(&schema, &mut bad).is_err());
    assert_eq!(bad, before);

    // Not a change event: nothing to do.
    let mut plain = json!({"CreatedDate": 1});
    expand_field_lists(&schema, &mut plain).unwrap();
    assert_eq!(plain, json!({"CreatedDate": 1}));
}
