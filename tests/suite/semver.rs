//! The spec diff's verdicts, proven by the compiler.
//!
//! Each fixture in `tests/fixtures/semver/` is an edit of `spec/openapi.yaml` (a JSON Patch)
//! with the changes `cargo xtask diff` must report (and, under `rust`, Rust items the report
//! must name) and whether code written against today's client still compiles against the
//! client generated from the edited spec (`compiles`), or the message with which generation
//! refuses it (`generates`). The rule the fixtures hold the diff to: a change it calls
//! compatible compiles. Some breaking changes compile too (a moved
//! route, a tighter request validation); the fixture says so.
//!
//! The compile proof writes every variant and one consumer, generated from today's API and
//! touching every item of it (`cerebras_batch_generator::consumer`), and type-checks them all
//! in one `cargo check` (see `cerebras_batch_tests::variants`).

use cerebras_batch_generator::diff::{Format, diff, report};
use cerebras_batch_tests::{spec_json, spec_text, variants, workspace_root};
use serde_json::Value;

struct Fixture {
    name: String,
    description: String,
    patch: json_patch::Patch,
    diff: Vec<String>,
    /// Rust items the report must name (among every change's items).
    rust: Vec<String>,
    compiles: Option<bool>,
    generates: Option<String>,
}

fn fixtures() -> Vec<Fixture> {
    let dir = workspace_root().join("tests/fixtures/semver");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("the fixture directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let doc: Value = cerebras_batch_tests::yaml(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            Fixture {
                description: doc["description"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: description"))
                    .to_owned(),
                patch: serde_json::from_value(doc["patch"].clone()).unwrap_or_else(|e| panic!("{name}: patch: {e}")),
                diff: doc["diff"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| l.as_str().expect("diff lines are strings").to_owned())
                    .collect(),
                rust: doc["rust"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| l.as_str().expect("Rust items are strings").to_owned())
                    .collect(),
                compiles: doc["compiles"].as_bool(),
                generates: doc["generates"].as_str().map(str::to_owned),
                name,
            }
        })
        .collect()
}

fn head(f: &Fixture) -> Value {
    let mut spec = spec_json();
    json_patch::patch(&mut spec, &f.patch).unwrap_or_else(|e| panic!("{}: the patch does not apply: {e}", f.name));
    spec
}

fn lines(changes: &[cerebras_batch_generator::diff::Change]) -> Vec<String> {
    changes
        .iter()
        .map(|c| {
            format!(
                "{} {}: {}",
                if c.breaking { "BREAKING" } else { "compatible" },
                c.location,
                c.what
            )
        })
        .collect()
}

#[test]
fn every_fixture_gets_its_verdict() {
    let base = spec_json();
    let mut failures = Vec::new();
    for f in fixtures() {
        let changes = diff(&base, &head(&f));
        let got = lines(&changes);
        if got != f.diff {
            failures.push(format!("{}: the diff reports\n  {}", f.name, got.join("\n  ")));
        }
        let named: Vec<&String> = changes.iter().flat_map(|c| &c.rust).collect();
        for item in f.rust.iter().filter(|item| !named.contains(item)) {
            failures.push(format!(
                "{}: the report does not name {item}; it names {named:?}",
                f.name
            ));
        }
        let breaking = changes.iter().any(|c| c.breaking);
        assert!(
            f.compiles == Some(true) || breaking,
            "{}: the diff calls every change compatible, so code written today must compile",
            f.name
        );
        assert!(
            f.compiles.is_some() != f.generates.is_some(),
            "{}: give exactly one of `compiles` and `generates`",
            f.name
        );
        let generated = cerebras_batch_generator::generate(&serde_json::to_string(&head(&f)).unwrap());
        match (&f.generates, generated) {
            (Some(message), Err(e)) => assert!(e.to_string().contains(message.as_str()), "{}: {e}", f.name),
            (Some(_), Ok(_)) => panic!("{}: generation should be refused", f.name),
            (None, Err(e)) => panic!("{}: generation failed: {e}", f.name),
            (None, Ok(_)) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reports_in_every_format() {
    let base = spec_json();
    let mut out = String::new();
    for f in fixtures()
        .iter()
        .filter(|f| ["01-optional-query-parameter", "26-request-required-property-added"].contains(&f.name.as_str()))
    {
        let changes = diff(&base, &head(f));
        for format in [Format::Text, Format::Markdown, Format::Json] {
            out.push_str(&format!("==== {} ({format:?})\n", f.name));
            out.push_str(&report(&changes, "main", &f.name, format));
        }
    }
    insta::assert_snapshot!("diff_reports", out);
}

#[test]
fn the_spec_against_itself_has_no_changes() {
    let spec = spec_json();
    assert_eq!(diff(&spec, &spec), vec![]);
    assert_eq!(
        report(&[], "a", "b", Format::Text),
        "Spec changes from a to b:\n\nNo semantic changes (descriptions and examples are not compared).\n"
    );
}

/// The compile proof: code written against today's client (the consumer) against each
/// fixture's client. Today's spec itself is the control: it must compile.
#[test]
fn compatible_changes_compile_against_code_written_today() {
    let today = cerebras_batch_generator::generate(&spec_text()).expect("the spec generates");
    let consumer = cerebras_batch_generator::consumer::generate(&today.api, "cerebras_batch");
    let mut list = vec![variants::Variant {
        name: "today".into(),
        files: today.files.clone(),
        consumer: consumer.clone(),
    }];
    let fixtures = fixtures();
    for f in fixtures.iter().filter(|f| f.generates.is_none()) {
        let output = cerebras_batch_generator::generate(&serde_json::to_string(&head(f)).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", f.name));
        list.push(variants::Variant {
            name: f.name.clone(),
            files: output.files,
            consumer: consumer.clone(),
        });
    }
    let outcomes = variants::check("semver", &list);
    let today = &outcomes["today"];
    assert!(
        today.client && today.consumer,
        "today's client and consumer must compile:\n{}",
        today.errors.join("\n")
    );
    let mut wrong = Vec::new();
    for f in fixtures.iter().filter(|f| f.generates.is_none()) {
        let o = &outcomes[&f.name];
        // A breaking change may already break the hand-written layer of the client crate.
        let compiled = o.client && o.consumer;
        if Some(compiled) != f.compiles {
            wrong.push(format!(
                "{} ({}): expected compiles = {:?}, got client {} and consumer {}:\n{}",
                f.name,
                f.description,
                f.compiles,
                o.client,
                o.consumer,
                o.errors.iter().take(3).cloned().collect::<Vec<_>>().join("\n")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
