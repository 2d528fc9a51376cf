//! `cargo test` fails when the checked-in generated code is stale, as `cargo xtask check` does.

use cerebras_batch_tests::{spec_text, workspace_root};

#[test]
fn generated_code_matches_the_spec() {
    let output = cerebras_batch_generator::generate(&spec_text()).expect("the spec generates");
    let dir = workspace_root().join(cerebras_batch_generator::OUTPUT_DIR);
    let mut stale = Vec::new();
    for (name, text) in &output.files {
        let on_disk = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        if &on_disk != text {
            let diff = similar::TextDiff::from_lines(&on_disk, text);
            stale.push(format!("{name}:\n{}", diff.unified_diff().context_radius(2)));
        }
    }
    assert!(
        stale.is_empty(),
        "generated code is stale; run `cargo xtask regen`:\n{}",
        stale.join("\n")
    );
}

#[test]
fn generation_is_deterministic() {
    let a = cerebras_batch_generator::generate(&spec_text()).expect("the spec generates");
    let b = cerebras_batch_generator::generate(&spec_text()).expect("the spec generates");
    assert_eq!(a.files, b.files);
    assert_eq!(a.surface, b.surface);
}

#[test]
fn every_generated_file_carries_the_do_not_edit_header() {
    let output = cerebras_batch_generator::generate(&spec_text()).expect("the spec generates");
    assert_eq!(
        output.files.keys().copied().collect::<Vec<_>>(),
        ["enums.rs", "mod.rs", "operations.rs", "progenitor.rs"]
    );
    for (name, text) in &output.files {
        assert!(text.starts_with(cerebras_batch_generator::HEADER), "{name}");
        assert!(text.contains("Do not edit"), "{name}");
    }
}
