//! Every example of the spec, decoded through the generated types. The snapshot shows what a
//! user gets from each vendor example; the assertions pin the cases that matter most.

use cerebras_batch::types;
use cerebras_batch_tests::{example, examples, spec_json};
use serde_json::Value;
use std::fmt::Write;

/// Decodes `value` as the generated type named `schema`; returns its `Debug` text.
fn decode(schema: &str, value: &Value) -> Result<String, String> {
    fn go<T: serde::de::DeserializeOwned + std::fmt::Debug + serde::Serialize>(
        value: &Value,
    ) -> Result<String, String> {
        let decoded: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        // Round trip: re-encoding gives the input back, except explicit nulls (omitted).
        let reencoded = serde_json::to_value(&decoded).map_err(|e| e.to_string())?;
        assert_eq!(
            reencoded,
            without_nulls(value),
            "{schema} does not round-trip",
            schema = std::any::type_name::<T>()
        );
        Ok(format!("{decoded:#?}"))
    }
    match schema {
        "Batch" => go::<types::Batch>(value),
        "BatchList" => go::<types::BatchList>(value),
        "CreateBatchRequest" => go::<types::CreateBatchRequest>(value),
        "File" => go::<types::File>(value),
        "FileList" => go::<types::FileList>(value),
        "FileDeleted" => go::<types::FileDeleted>(value),
        "ErrorBody" => go::<types::ErrorBody>(value),
        "BatchResultLine" => go::<types::BatchResultLine>(value),
        "BatchRequestLine" => go::<types::BatchRequestLine>(value),
        other => panic!("no decoder for schema {other}: add it to tests/suite/examples.rs"),
    }
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_example_decodes() {
    let spec = spec_json();
    let mut out = String::new();
    for ex in examples(&spec) {
        let _ = writeln!(out, "== {}", ex.pointer);
        let decoded = match (&ex.jsonl_line_schema, &ex.schema_name) {
            (Some(line_schema), _) => ex
                .value
                .as_str()
                .expect("a JSONL example is a string")
                .lines()
                .map(|l| decode(line_schema, &serde_json::from_str(l).expect("each line is JSON")))
                .collect::<Result<Vec<_>, _>>()
                .map(|lines| lines.join("\n")),
            (None, Some(schema)) => decode(schema, &ex.value),
            (None, None) => panic!("{}: example of an inline schema: give it a component", ex.pointer),
        };
        let decoded = decoded.unwrap_or_else(|e| panic!("{} does not decode: {e}", ex.pointer));
        out.push_str(&decoded);
        out.push_str("\n\n");
    }
    insta::assert_snapshot!("decoded_examples", out);
}

#[test]
fn cancel_example_keeps_calling_as_an_unknown_status() {
    let ex = example("/cancel_batch_response");
    let batch: types::Batch = serde_json::from_value(ex.value).expect("decodes");
    assert_eq!(batch.status, Some(types::BatchStatus::from("calling")));
    assert!(!batch.is_terminal());
    assert_eq!(batch.cancelling_at, Some(1765492797));
    assert_eq!(batch.completed_at, Some(1765493188));
    assert_eq!(batch.request_counts, None);
    assert_eq!(batch.errors, None);
    assert_eq!(serde_json::to_value(&batch.status).unwrap(), "calling");
}

#[test]
fn list_example_keeps_string_errors_and_array_metadata() {
    let list: types::BatchList = serde_json::from_value(example("/list_batches_response").value).expect("decodes");
    let data = list.data.expect("data");
    assert_eq!(data.len(), 3);
    assert!(
        matches!(&data[0].errors, Some(types::BatchErrors::String(s)) if s.starts_with("Model 'cognition-devstral"))
    );
    assert_eq!(data[0].status, Some(types::BatchStatus::Failed));
    assert_eq!(data[2].status, Some(types::BatchStatus::Cancelled));
    assert_eq!(list.has_more, None);
    let retrieved: types::Batch = serde_json::from_value(example("/retrieve_batch_response").value).expect("decodes");
    assert_eq!(
        retrieved.metadata.expect("metadata")["custom_tags"],
        serde_json::json!(["legal-review", "q3"])
    );
}

#[test]
fn every_docs_verbatim_text_is_the_example_value() {
    let spec = spec_json();
    let mut checked = 0;
    for ex in examples(&spec) {
        if let Some(text) = &ex.verbatim {
            let parsed: Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{}: x-docs-verbatim is not JSON: {e}", ex.pointer));
            assert_eq!(parsed, ex.value, "{}: x-docs-verbatim and value differ", ex.pointer);
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
}

#[test]
fn unknown_values_round_trip_unchanged() {
    for raw in ["calling", "", "IN_PROGRESS", "queued ", "ünïcode"] {
        let status: types::BatchStatus = serde_json::from_value(Value::String(raw.into())).expect("any string decodes");
        assert_eq!(status, types::BatchStatus::from(raw));
        assert_eq!(serde_json::to_value(&status).unwrap(), Value::String(raw.into()));
        assert_eq!(status.to_string(), raw);
    }
    for known in types::BatchStatus::KNOWN {
        let back: types::BatchStatus = known.as_str().parse().unwrap();
        assert_eq!(&back, known);
        assert!(back.is_known());
    }
    let terminal: Vec<&str> = types::BatchStatus::KNOWN
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| s.as_str())
        .collect();
    assert_eq!(terminal, ["completed", "expired", "failed", "cancelled"]);
}
