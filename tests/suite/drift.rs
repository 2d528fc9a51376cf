//! The drift corpus: realistic edits of `spec/openapi.yaml`, one per kind of spec change the
//! generator must survive, each with its expected outcome written beside it
//! (`tests/fixtures/drift/*.yaml`):
//!
//! - `expect: compiles`: regenerates, and the client crate plus a consumer touching every
//!   item of its API type-check (all such variants in one `cargo check`); `surface`,
//!   `notes`, `files_contain` and `files_lack` say more about the output;
//! - `expect: refused`: generation fails, every problem carrying file, line, column, JSON
//!   pointer and a hint, and each listed text appears among them;
//! - `expect: client-fails`: generation succeeds but the client crate does not compile, with
//!   the listed errors (what `cargo xtask regen` then reports).
//! - `expect: workspace-fails`: `cargo xtask regen` itself, run on a copy of the workspace with
//!   the edited spec (see `workspace`), fails, and its report contains every text of `report`:
//!   the spec location that caused each breakage and the hand-written files and lines it
//!   breaks, in any crate of the workspace.
//!
//! A generated variant may also list `decode` tests: a JSON value (`json`), the type that
//! decodes it (`type`), the variant it must decode as (`variant`, or `error`), and `fields` its
//! value must hold; every value that decodes must encode back unchanged. They run against the
//! variant's generated code (see `variants::decode`).
//!
//! An edit is a JSON Patch (`patch`) and/or text replacements (`replace`, for what only YAML
//! can say: a duplicated key, a version line). Patched specs are generated from pretty JSON, so
//! their positions are lines of that text.

use cerebras_batch_tests::{spec_text, variants, workspace, workspace_root};
use serde_json::Value;

struct Case {
    name: String,
    doc: Value,
}

fn cases() -> Vec<Case> {
    let dir = workspace_root().join("tests/fixtures/drift");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("the corpus directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let doc = cerebras_batch_tests::yaml(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            Case { name, doc }
        })
        .collect()
}

impl Case {
    fn strings(&self, key: &str) -> Vec<String> {
        self.doc[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                v.as_str()
                    .unwrap_or_else(|| panic!("{}: {key} holds strings", self.name))
                    .to_owned()
            })
            .collect()
    }

    fn expect(&self) -> &str {
        self.doc["expect"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no `expect`", self.name))
    }

    /// The decoding tests of a case (`decode`).
    fn decodes(&self) -> Vec<variants::Decode> {
        let text = |v: &Value, key: &str| {
            v[key]
                .as_str()
                .unwrap_or_else(|| panic!("{}: a decode test needs `{key}`", self.name))
                .to_owned()
        };
        self.doc["decode"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| variants::Decode {
                variant: self.name.clone(),
                ty: text(d, "type"),
                json: d["json"].clone(),
                expect: text(d, "variant"),
                fields: d["fields"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            })
            .collect()
    }

    /// The edited spec's text.
    fn spec(&self) -> String {
        let mut text = spec_text();
        for r in self.doc["replace"].as_array().into_iter().flatten() {
            let (from, to) = (r["from"].as_str().unwrap(), r["to"].as_str().unwrap());
            assert!(text.contains(from), "{}: the spec has no {from:?}", self.name);
            text = text.replacen(from, to, 1);
        }
        if self.doc.get("patch").is_some() {
            let mut spec = cerebras_batch_generator::parse_spec(&text).expect("the spec parses");
            let patch: json_patch::Patch = serde_json::from_value(self.doc["patch"].clone())
                .unwrap_or_else(|e| panic!("{}: patch: {e}", self.name));
            json_patch::patch(&mut spec, &patch)
                .unwrap_or_else(|e| panic!("{}: the patch does not apply: {e}", self.name));
            text = serde_json::to_string_pretty(&spec).unwrap();
        }
        text
    }
}

#[test]
fn every_refusal_is_located_and_every_generated_variant_compiles() {
    let mut list = Vec::new();
    let mut client_fails = Vec::new();
    let mut failures = Vec::new();
    let mut decodes = Vec::new();
    for case in cases().into_iter().filter(|c| c.expect() != "workspace-fails") {
        let result = cerebras_batch_generator::generate(&case.spec());
        match (case.expect(), result) {
            ("refused", Ok(_)) => failures.push(format!("{}: generated, but should be refused", case.name)),
            ("refused", Err(e)) => {
                let problems = e.problems();
                if problems.is_empty() {
                    failures.push(format!("{}: refused without located problems: {e}", case.name));
                }
                for p in problems {
                    let located = p.file == "spec/openapi.yaml" && p.line > 0 && p.column > 0 && !p.hint.is_empty();
                    if !located || (p.pointer.is_empty() && !p.message.contains("openapi")) {
                        failures.push(format!(
                            "{}: a problem without file, line, column, pointer or hint: {p:?}",
                            case.name
                        ));
                    }
                }
                let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
                for want in case.strings("problems") {
                    if !text.iter().any(|t| t.contains(&want)) {
                        failures.push(format!(
                            "{}: no problem contains {want:?}; got:\n{}",
                            case.name,
                            text.join("\n")
                        ));
                    }
                }
            }
            (_, Err(e)) => failures.push(format!("{}: {e}", case.name)),
            (expect, Ok(output)) => {
                for want in case.strings("surface") {
                    if !output.surface.contains(&want) {
                        failures.push(format!(
                            "{}: the surface lacks {want:?}:\n{}",
                            case.name, output.surface
                        ));
                    }
                }
                for want in case.strings("notes") {
                    if !output.summary.notes.iter().any(|n| n.contains(&want)) {
                        failures.push(format!("{}: no note {want:?} in {:?}", case.name, output.summary.notes));
                    }
                }
                let all: String = output.files.values().cloned().collect();
                for want in case.strings("files_contain") {
                    if !all.contains(&want) {
                        failures.push(format!("{}: the generated files lack {want:?}", case.name));
                    }
                }
                for unwanted in case.strings("files_lack") {
                    if all.contains(&unwanted) {
                        failures.push(format!("{}: the generated files contain {unwanted:?}", case.name));
                    }
                }
                decodes.extend(case.decodes());
                let consumer = cerebras_batch_generator::consumer::generate(&output.api, "cerebras_batch");
                list.push(variants::Variant {
                    name: case.name.clone(),
                    files: output.files,
                    consumer,
                });
                match expect {
                    "compiles" => {}
                    "client-fails" => client_fails.push((case.name.clone(), case.strings("errors"))),
                    other => failures.push(format!("{}: unknown expectation {other:?}", case.name)),
                }
            }
        }
    }
    let outcomes = variants::check("drift", &list);
    failures.extend(variants::decode("drift", &decodes));
    for v in &list {
        let o = &outcomes[&v.name];
        match client_fails.iter().find(|(n, _)| *n == v.name) {
            Some((_, errors)) => {
                if o.client {
                    failures.push(format!("{}: the client crate compiled, but should not", v.name));
                }
                for want in errors {
                    if !o.errors.iter().any(|e| e.contains(want.as_str())) {
                        failures.push(format!(
                            "{}: no compiler error contains {want:?}:\n{}",
                            v.name,
                            o.errors.join("\n")
                        ));
                    }
                }
            }
            None if !(o.client && o.consumer) => failures.push(format!(
                "{}: does not compile (client {}, consumer {}):\n{}",
                v.name,
                o.client,
                o.consumer,
                o.errors.iter().take(3).cloned().collect::<Vec<_>>().join("\n")
            )),
            None => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn regen_reports_each_breakage_of_the_workspace_with_the_spec_change_that_caused_it() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.expect() == "workspace-fails")
        .collect();
    let specs: Vec<(String, String)> = cases.iter().map(|c| (c.name.clone(), c.spec())).collect();
    let mut failures = Vec::new();
    for (case, (_, regen)) in cases.iter().zip(workspace::regen_each(&specs)) {
        if regen.success {
            failures.push(format!(
                "{}: regen succeeded, but should fail:\n{}",
                case.name, regen.output
            ));
            continue;
        }
        // Each change is written as `spec/openapi.yaml:LINE:COLUMN[ (in HEAD)] POINTER`.
        let located = regen.output.lines().any(|l| {
            l.strip_prefix("spec/openapi.yaml:").is_some_and(|rest| {
                let mut parts = rest.splitn(3, [':', ' ']);
                let number =
                    |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
                number(parts.next()) && number(parts.next()) && parts.next().is_some_and(|p| p.contains('/'))
            })
        });
        if !located {
            failures.push(format!(
                "{}: no change located as file:line:column pointer:\n{}",
                case.name, regen.output
            ));
        }
        for want in case.strings("report") {
            if !regen.output.contains(&want) {
                failures.push(format!("{}: the report lacks {want:?}:\n{}", case.name, regen.output));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
