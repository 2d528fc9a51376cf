//! The spec says what the vendor documents, and says where it knowingly differs: every entry of
//! `spec/known-differences.yaml` (the one list of reviewed differences, also the docs check's
//! allow-list) has an id, a place in the spec that exists, the vendor page, what each side says,
//! why, and a source.

use cerebras_batch_tests::{spec_json, workspace_root, yaml};

#[test]
fn every_known_difference_is_sourced_and_points_at_the_spec() {
    let text = std::fs::read_to_string(workspace_root().join("spec/known-differences.yaml")).unwrap();
    let list = yaml(&text).expect("the list parses");
    let entries = list.as_array().expect("a list of differences");
    assert!(entries.len() >= 10, "{} entries", entries.len());
    let spec = spec_json();
    let mut ids = std::collections::BTreeSet::new();
    for entry in entries {
        let field = |k: &str| {
            entry
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let id = field("id");
        assert!(
            !id.is_empty() && ids.insert(id.clone()),
            "a missing or repeated id: {entry}"
        );
        for key in ["docs", "spec", "why", "source"] {
            assert!(!field(key).is_empty(), "{id}: `{key}` is empty");
        }
        assert!(
            field("page").starts_with("https://inference-docs.cerebras.ai/"),
            "{id}: `page` is not a vendor page: {}",
            field("page")
        );
        let pointer = field("pointer");
        assert!(
            spec.pointer(&pointer).is_some(),
            "{id}: {pointer} is not a place in the spec"
        );
    }
}

#[test]
fn every_operation_declares_the_documented_error_statuses() {
    let output = cerebras_batch_generator::generate(&cerebras_batch_tests::spec_text()).unwrap();
    for op in &output.normalized.operations {
        let codes: Vec<&str> = op.error_responses.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            codes,
            [
                "400", "401", "402", "403", "404", "422", "429", "4XX", "500", "503", "5XX"
            ],
            "{}",
            op.id
        );
    }
    assert_eq!(
        cerebras_batch::ErrorKind::from_status(402),
        cerebras_batch::ErrorKind::PaymentRequired
    );
    assert_eq!(
        cerebras_batch::ErrorKind::from_status(503),
        cerebras_batch::ErrorKind::Server
    );
}
