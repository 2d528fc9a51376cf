//! The tolerance rule (`generator/src/tolerance.rs`), checked for every read type of the API:
//! only identity fields are required; every other field may be absent or `null` (and is then
//! `None`, never a made-up value); strings accept numbers and booleans, integers accept numeric
//! strings, objects with a `message` accept a bare string; unknown fields are kept (in `extra`,
//! and written back); an object is read only from a JSON object, never from an array.
//!
//! The list of types below must equal the generator's list of read types, so a new read type
//! cannot escape the test.

use cerebras_batch::types;
use cerebras_batch_generator::model::FLATTENED;
use cerebras_batch_tests::spec_text;
use serde_json::{Value, json};

/// Decodes `v` as the read type `name` and encodes it back.
fn round_trip(name: &str, v: Value) -> Result<Value, String> {
    macro_rules! types {
        ($($t:ident),* $(,)?) => {
            match name {
                $(stringify!($t) => serde_json::from_value::<types::$t>(v)
                    .map_err(|e| e.to_string())
                    .map(|d| serde_json::to_value(d).expect("encodes")),)*
                other => panic!("no round trip for {other}: add it to the list in tests/suite/tolerance.rs"),
            }
        };
    }
    types!(
        Batch,
        BatchError,
        BatchErrorList,
        BatchList,
        BatchRequestCounts,
        BatchResultError,
        BatchResultLine,
        ErrorBody,
        ErrorDetail,
        File,
        FileDeleted,
        FileList,
    )
}

const LISTED: &[&str] = &[
    "Batch",
    "BatchError",
    "BatchErrorList",
    "BatchList",
    "BatchRequestCounts",
    "BatchResultError",
    "BatchResultLine",
    "ErrorBody",
    "ErrorDetail",
    "File",
    "FileDeleted",
    "FileList",
];

fn read_structs() -> Vec<cerebras_batch_generator::model::Struct> {
    let output = cerebras_batch_generator::generate(&spec_text()).expect("the spec generates");
    output.api.structs.into_iter().filter(|s| s.read).collect()
}

#[test]
fn every_read_type_is_listed_here() {
    let names: Vec<String> = read_structs().into_iter().map(|s| s.name).collect();
    assert_eq!(names, LISTED);
}

#[test]
fn only_identity_fields_are_required_and_absence_or_null_reads_as_none() {
    for s in read_structs() {
        let identity: serde_json::Map<String, Value> = s
            .fields
            .iter()
            .filter(|f| f.in_constructor)
            .map(|f| (f.wire.clone(), json!("ident-1")))
            .collect();
        assert!(
            identity.keys().all(|k| ["id", "custom_id"].contains(&k.as_str())),
            "{}: only identity fields are required, got {:?}",
            s.name,
            identity.keys()
        );
        // Only the identity fields: everything else is absent and stays absent.
        let minimal = Value::Object(identity.clone());
        assert_eq!(round_trip(&s.name, minimal.clone()), Ok(minimal.clone()), "{}", s.name);
        // Every other field null, plus a field nobody knows: the same value, the unknown field
        // kept.
        let mut nulls = identity.clone();
        for f in s.fields.iter().filter(|f| !f.in_constructor && f.wire != FLATTENED) {
            nulls.insert(f.wire.clone(), Value::Null);
        }
        nulls.insert("a_field_from_the_future".into(), json!({"x": 1}));
        let mut kept = identity.clone();
        kept.insert("a_field_from_the_future".into(), json!({"x": 1}));
        assert_eq!(
            round_trip(&s.name, Value::Object(nulls)),
            Ok(Value::Object(kept)),
            "{}",
            s.name
        );
        // Without an identity field, a type that has one does not decode.
        if !identity.is_empty() {
            assert!(
                round_trip(&s.name, json!({})).is_err(),
                "{}: the identity is mandatory",
                s.name
            );
        }
    }
}

#[test]
fn strings_integers_and_message_objects_accept_the_forms_servers_send() {
    let mut checked = 0;
    for s in read_structs() {
        let identity: serde_json::Map<String, Value> = s
            .fields
            .iter()
            .filter(|f| f.in_constructor)
            .map(|f| (f.wire.clone(), json!("ident-1")))
            .collect();
        for f in s.fields.iter().filter(|f| !f.in_constructor) {
            let ty = quote::ToTokens::to_token_stream(&f.ty).to_string().replace(' ', "");
            let (sent, read) = if ty.ends_with("Option<::std::string::String>") {
                (json!(404), json!("404"))
            } else if ty.starts_with("::std::option::Option<i") {
                (json!("429"), json!(429))
            } else if ["Option<BatchResultError>", "Option<ErrorDetail>"]
                .iter()
                .any(|t| ty.ends_with(t))
            {
                (json!("request timed out"), json!({"message": "request timed out"}))
            } else {
                continue;
            };
            let mut input = identity.clone();
            input.insert(f.wire.clone(), sent.clone());
            let mut want = identity.clone();
            want.insert(f.wire.clone(), read);
            assert_eq!(
                round_trip(&s.name, Value::Object(input)),
                Ok(Value::Object(want)),
                "{}.{} sent {sent}",
                s.name,
                f.wire
            );
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} fields checked");
}

#[test]
fn an_empty_optional_id_is_absent() {
    let mut checked = 0;
    for s in read_structs() {
        let identity: serde_json::Map<String, Value> = s
            .fields
            .iter()
            .filter(|f| f.in_constructor)
            .map(|f| (f.wire.clone(), json!("ident-1")))
            .collect();
        for f in s
            .fields
            .iter()
            .filter(|f| !f.in_constructor && (f.wire == "id" || f.wire.ends_with("_id")))
        {
            let mut input = identity.clone();
            input.insert(f.wire.clone(), json!(""));
            assert_eq!(
                round_trip(&s.name, Value::Object(input)),
                Ok(Value::Object(identity.clone())),
                "{}.{}",
                s.name,
                f.wire
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked, 4,
        "input_file_id, output_file_id and error_file_id of Batch, id of BatchResultLine"
    );
}

#[test]
fn a_batch_with_only_four_fields_decodes() {
    let batch: types::Batch = serde_json::from_value(json!({
        "id": "batch_abc123", "object": "batch", "status": "in_progress", "created_at": 1765492780
    }))
    .expect("decodes");
    assert_eq!(batch.id, "batch_abc123");
    assert_eq!(batch.status, Some(types::BatchStatus::InProgress));
    assert_eq!(batch.created_at, Some(1765492780));
    assert_eq!(
        (batch.completion_window, batch.request_counts, batch.input_file_id),
        (None, None, None)
    );
}

#[test]
fn open_enums_keep_unknown_values_opaque_and_round_trip() {
    let status: types::BatchStatus = serde_json::from_value(json!("paused")).expect("decodes");
    assert!(!status.is_known());
    assert_eq!(status.as_str(), "paused");
    assert_eq!(status, types::BatchStatus::from("paused"));
    assert_eq!(serde_json::to_value(&status).unwrap(), json!("paused"));
    match &status {
        types::BatchStatus::Unknown(value) => assert_eq!(value.as_str(), "paused"),
        _ => panic!("expected an unknown value"),
    }
    // A number is kept as its text, as for strings.
    let code: types::BatchStatus = serde_json::from_value(json!(3)).expect("decodes");
    assert_eq!(code.as_str(), "3");
}

#[test]
fn constructors_take_the_identity_and_setters_the_rest() {
    let batch = types::Batch::new("batch_1")
        .with_status(types::BatchStatus::Completed)
        .with_output_file_id("file_out");
    assert_eq!(
        serde_json::to_value(&batch).unwrap(),
        json!({"id": "batch_1", "status": "completed", "output_file_id": "file_out"})
    );
    assert!(batch.is_terminal());
    let request = types::CreateBatchRequest::chat_completions("file_1");
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"input_file_id": "file_1", "endpoint": "/v1/chat/completions", "completion_window": "24h"})
    );
}

/// No read type decodes from a JSON array: serde's derived decoders would read one by position
/// (`["bad", 400]` as `{code: "bad", ...}`), inventing fields the server never sent.
#[test]
fn no_read_type_decodes_from_an_array() {
    for s in read_structs() {
        let positional: Vec<Value> = s
            .fields
            .iter()
            .filter(|f| f.wire != FLATTENED)
            .map(|f| {
                if f.in_constructor {
                    json!("ident-1")
                } else {
                    Value::Null
                }
            })
            .collect();
        for input in [
            Value::Array(positional),
            json!([]),
            json!(["bad", 400]),
            json!([{"id": "x"}]),
        ] {
            let result = round_trip(&s.name, input.clone());
            assert!(
                result.as_ref().is_err_and(|e| e.contains("invalid type: sequence")),
                "{} from {input}: {result:?}",
                s.name
            );
        }
    }
}

/// Unknown fields of every read type land in `extra`, nested ones included, and are written
/// back.
#[test]
fn unknown_fields_are_kept_in_extra() {
    let batch: types::Batch = serde_json::from_value(json!({
        "id": "batch_1", "status": "completed", "priority": "high",
        "request_counts": {"total": 3, "completed": 2, "failed": 1, "cached": 1},
        "errors": {"object": "list", "data": [{"code": "x", "line": 2, "hint": "y"}], "url": "u"}
    }))
    .unwrap();
    assert_eq!(batch.extra["priority"], "high");
    assert_eq!(batch.request_counts.as_ref().unwrap().extra["cached"], 1);
    let Some(types::BatchErrors::BatchErrorList(list)) = &batch.errors else {
        panic!("{:?}", batch.errors)
    };
    assert_eq!(
        (
            list.extra["url"].as_str(),
            list.data.as_ref().unwrap()[0].extra["hint"].as_str()
        ),
        (Some("u"), Some("y"))
    );
    let again = serde_json::to_value(&batch).unwrap();
    assert_eq!(
        (again["priority"].as_str(), again["request_counts"]["cached"].as_i64()),
        (Some("high"), Some(1))
    );

    let file: types::File =
        serde_json::from_value(json!({"id": "f", "status": "processed", "status_details": null})).unwrap();
    assert_eq!(file.extra.keys().collect::<Vec<_>>(), ["status", "status_details"]);
    let deleted: types::FileDeleted = serde_json::from_value(json!({"id": "f", "deleted": true, "when": 1})).unwrap();
    assert_eq!(deleted.extra["when"], 1);
    let page: types::BatchList =
        serde_json::from_value(json!({"data": [], "has_more": false, "next_page_token": "t"})).unwrap();
    assert_eq!(page.extra["next_page_token"], "t");
}

/// A number the client keeps without a type of its own (in `extra`, `metadata`, a result's
/// response) survives decode, encode and decode unchanged, long integers and long fractions
/// included (found by the `batch` and `list` fuzz targets: the default float parser could be
/// one unit off).
#[test]
fn kept_numbers_round_trip_exactly() {
    let long =
        "1048666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666576";
    for text in [
        format!(r#"{{"id": "b", "future": {long}, "metadata": {{"n": {long}}}}}"#),
        r#"{"id": "b", "request_counts": {"to|al": 400000000000000000000000000000000000000000000000000000000000000000000}}"#.to_owned(),
        r#"{"id": "b", "ratio": 0.30000000000000004441, "tiny": 4.9406564584124654e-324, "metadata": {"x": 1.7976931348623157e308}}"#.to_owned(),
    ] {
        let once: types::Batch = serde_json::from_str(&text).unwrap();
        let twice: types::Batch = serde_json::from_slice(&serde_json::to_vec(&once).unwrap()).unwrap();
        assert_eq!(once, twice, "{text}");
    }
}
