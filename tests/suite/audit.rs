//! The spec audit: each example against its own schema, and the vendor's contradictions. The
//! oddities are recorded here on purpose: a new one changes the snapshot.

use cerebras_batch_tests::{audit, example, spec_json};

#[test]
fn spec_audit() {
    insta::assert_snapshot!("spec_audit", audit::report(&spec_json()));
}

#[test]
fn cancel_example_oddities_are_found() {
    let spec = spec_json();
    let ex = example("/cancel_batch_response");
    let findings = audit::audit_example(&spec, &ex);
    let has = |needle: &str| findings.iter().any(|f| f.contains(needle));
    assert!(has("schema: /status: \"calling\" is not one of"), "{findings:#?}");
    assert!(has("/status: \"calling\" is not a documented status"), "{findings:#?}");
    assert!(
        has("/completed_at is set while the status is \"calling\""),
        "{findings:#?}"
    );
    assert!(has("/request_counts is null"), "{findings:#?}");
}

#[test]
fn a_clean_batch_has_no_findings() {
    let spec = spec_json();
    let mut ex = example("/retrieve_batch_response");
    ex.value["metadata"] = serde_json::json!({"k": "v"});
    assert_eq!(audit::audit_example(&spec, &ex), Vec::<String>::new());
    ex.value["created_at"] = serde_json::json!("yesterday");
    let findings = audit::audit_example(&spec, &ex);
    assert!(
        findings.iter().any(|f| f.starts_with("schema: /created_at:")),
        "{findings:#?}"
    );
}
