//! Variant crates: the client crate as generated from a changed spec, each with a consumer
//! crate, all type-checked in one `cargo check` so that dependencies are built once.
//!
//! A set of variants is written under `target/variants/<set>/crates/<name>/`: `client/` holds
//! the hand-written layer of `generated/src/` with the variant's generated files in place of
//! the checked-in ones, `consumer/` a crate that uses it. Every set is checked with one target
//! directory of its own (`target/variants/target`), shared by the sets (cargo's lock takes them
//! in turn) and never the one that runs the tests.
//!
//! [`decode`] then runs decoding tests against some of the variants: real JSON values decoded
//! by a variant's generated types, in one test crate (`crates/decode/`) that is built and run
//! (the only variant code that runs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// One variant to check.
pub struct Variant {
    /// A short name, unique among the variants (letters, digits, `-`).
    pub name: String,
    /// The generator's output for the variant's spec.
    pub files: BTreeMap<String, String>,
    /// The consumer crate's `lib.rs` (it names the client `cerebras_batch`).
    pub consumer: String,
}

/// What `cargo check` said of one variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The client crate (hand-written layer plus generated code) compiled.
    pub client: bool,
    /// The consumer compiled against it.
    pub consumer: bool,
    /// The compiler's error messages, rendered.
    pub errors: Vec<String>,
}

/// Writes every variant and checks them all in one cargo invocation.
///
/// # Panics
///
/// When the files cannot be written or cargo cannot be run: the test cannot say anything then.
pub fn check(set: &str, variants: &[Variant]) -> BTreeMap<String, Outcome> {
    let root = workspace_root();
    let dir = root.join("target/variants").join(set);
    let _ = std::fs::remove_dir_all(dir.join("crates"));
    let mut members = Vec::new();
    for v in variants {
        let base = dir.join("crates").join(&v.name);
        let name = format!("{set}-{}", v.name);
        write_client(&root, &base.join("client"), &name, &v.files);
        write_consumer(&base.join("consumer"), &name, &v.consumer);
        members.push(format!("\"crates/{0}/client\", \"crates/{0}/consumer\"", v.name));
    }
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("the workspace manifest");
    let shared = &manifest[manifest.find("[workspace.package]").expect("workspace.package")..];
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "# Written by the variant tests (tests/src/variants.rs).\n[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n{shared}",
            members.join(", ")
        ),
    );
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy Cargo.lock");

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root.join("target/variants/target"))
        .env_remove("RUSTFLAGS")
        .args([
            "check",
            "--workspace",
            "--keep-going",
            "--offline",
            "--message-format=json",
        ])
        .output()
        .expect("cargo runs");

    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut built: Vec<String> = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let target = msg
            .pointer("/target/name")
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .to_owned();
        match msg["reason"].as_str() {
            Some("compiler-message") if msg.pointer("/message/level").and_then(|l| l.as_str()) == Some("error") => {
                let rendered = msg
                    .pointer("/message/rendered")
                    .and_then(|r| r.as_str())
                    .unwrap_or_default()
                    .to_owned();
                errors.entry(target).or_default().push(rendered);
            }
            Some("compiler-artifact") => built.push(target),
            _ => {}
        }
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    variants
        .iter()
        .map(|v| {
            let name = format!("{set}-{}", v.name);
            let (client, consumer) = (target_name("client", &name), target_name("consumer", &name));
            let client_errors = errors.get(&client).cloned().unwrap_or_default();
            let consumer_errors = errors.get(&consumer).cloned().unwrap_or_default();
            let mut all = client_errors.clone();
            all.extend(consumer_errors.iter().cloned());
            if all.is_empty() && !built.contains(&consumer) {
                all.push(format!("cargo did not build {consumer}; its stderr:\n{stderr}"));
            }
            let outcome = Outcome {
                client: client_errors.is_empty() && built.contains(&client),
                consumer: consumer_errors.is_empty() && built.contains(&consumer),
                errors: all,
            };
            (v.name.clone(), outcome)
        })
        .collect()
}

fn target_name(kind: &str, variant: &str) -> String {
    format!("variant_{kind}_{}", variant.replace('-', "_"))
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create a directory");
    }
    std::fs::write(path, text).expect("write a file");
}

/// The client crate of a variant: `generated/`'s manifest and hand-written sources, with the
/// variant's generated files.
fn write_client(root: &Path, dir: &Path, name: &str, files: &BTreeMap<String, String>) {
    let manifest = std::fs::read_to_string(root.join("generated/Cargo.toml")).expect("generated/Cargo.toml");
    let manifest = manifest.replacen(
        "name = \"cerebras-batch\"",
        &format!("name = \"variant-client-{name}\"\nautoexamples = false\nautotests = false\nautobenches = false"),
        1,
    );
    write(&dir.join("Cargo.toml"), &manifest);
    copy_tree(
        &root.join("generated/src"),
        &dir.join("src"),
        &root.join("generated/src/generated"),
    );
    for (rel, text) in files {
        if let Some(under) = rel.strip_prefix("generated/src/") {
            write(&dir.join("src").join(under), text);
        }
    }
}

fn write_consumer(dir: &Path, name: &str, source: &str) {
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"variant-consumer-{name}\"\nversion = \"0.0.0\"\nedition.workspace = true\npublish = false\n\n\
             [dependencies]\ncerebras_batch = {{ package = \"variant-client-{name}\", path = \"../client\" }}\n\
             serde_json.workspace = true\nreqwest.workspace = true\n"
        ),
    );
    write(&dir.join("src/lib.rs"), source);
}

/// Copies `from` into `to`, leaving out `skip` (the generated files, which each variant
/// brings).
fn copy_tree(from: &Path, to: &Path, skip: &Path) {
    for entry in std::fs::read_dir(from).expect("read a source directory").flatten() {
        let path: PathBuf = entry.path();
        if path == skip {
            continue;
        }
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target, skip);
        } else {
            std::fs::create_dir_all(to).expect("create a directory");
            std::fs::copy(&path, &target).expect("copy a source file");
        }
    }
}

/// A decoding test of a variant: `json` decoded as `types::<ty>` must give the variant
/// `expect` of that type (`error`: decoding fails), encode back to the same JSON, and hold
/// `fields` (field name to its JSON) in that variant.
pub struct Decode {
    /// The variant (as [`Variant::name`]).
    pub variant: String,
    /// The type, in the variant's `types`.
    pub ty: String,
    /// The value.
    pub json: serde_json::Value,
    /// The expected variant of `ty`, or `error`.
    pub expect: String,
    /// Fields of the expected variant's value and the JSON each must encode to.
    pub fields: Vec<(String, serde_json::Value)>,
}

/// Runs `tests` (against variants [`check`] wrote for `set`), in one test crate built and run
/// with `cargo test`; returns the failures, each naming its variant and value.
///
/// The test crate takes the clients without default features (no TLS): what it tests is
/// decoding, and a client without TLS builds in a fraction of the time.
///
/// # Panics
///
/// When the files cannot be written or cargo cannot be run.
pub fn decode(set: &str, tests: &[Decode]) -> Vec<String> {
    if tests.is_empty() {
        return Vec::new();
    }
    let root = workspace_root();
    let dir = root.join("target/variants").join(set);
    let crate_name = |v: &str| format!("v_{}", v.replace('-', "_"));
    let mut deps: Vec<&str> = tests.iter().map(|t| t.variant.as_str()).collect();
    deps.sort();
    deps.dedup();
    let dependencies: String = deps
        .iter()
        .map(|v| {
            format!(
                "{} = {{ package = \"variant-client-{set}-{v}\", path = \"../{v}/client\", default-features = false }}\n",
                crate_name(v)
            )
        })
        .collect();
    write(
        &dir.join("crates/decode/Cargo.toml"),
        &format!(
            "[package]\nname = \"variant-decode-{set}\"\nversion = \"0.0.0\"\nedition.workspace = true\npublish = false\n\n\
             [dependencies]\nserde_json.workspace = true\n{dependencies}"
        ),
    );
    let body: String = tests
        .iter()
        .enumerate()
        .map(|(i, t)| decode_test(i, t, &crate_name(&t.variant)))
        .collect();
    write(&dir.join("crates/decode/src/lib.rs"), &format!("#![cfg(test)]\n{body}"));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("check wrote the manifest");
    if !manifest.contains("\"crates/decode\"") {
        let manifest = manifest.replacen("members = [", "members = [\"crates/decode\", ", 1);
        write(&dir.join("Cargo.toml"), &manifest);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root.join("target/variants/target"))
        .env_remove("RUSTFLAGS")
        .args(["test", "--offline", "--quiet", "-p", &format!("variant-decode-{set}")])
        .output()
        .expect("cargo runs");
    if output.status.success() {
        return Vec::new();
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut failures: Vec<String> = stdout
        .split("---- ")
        .skip(1)
        .map(|f| f.lines().take(4).collect::<Vec<_>>().join("\n"))
        .filter(|f| !f.starts_with("failures:"))
        .collect();
    if failures.is_empty() {
        failures.push(format!(
            "the decoding tests did not run:\n{}\n{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    failures
}

/// One `#[test]` of the decoding crate.
fn decode_test(i: usize, t: &Decode, krate: &str) -> String {
    let ty = format!("{krate}::types::{}", t.ty);
    let label = format!("{}: {} as {}", t.variant, t.json, t.ty);
    let check = if t.expect == "error" {
        format!("    assert!(decoded.is_err(), \"{{}}: decodes, but should not: {{:?}}\", {label:?}, decoded);\n")
    } else {
        let fields: String = t
            .fields
            .iter()
            .map(|(name, want)| {
                format!(
                    "    assert_eq!(serde_json::to_value(&inner.{name}).unwrap(), serde_json::from_str::<serde_json::Value>({:?}).unwrap(), \"{{}}: field {name}\", {label:?});\n",
                    want.to_string()
                )
            })
            .collect();
        format!(
            "    let value = decoded.unwrap_or_else(|e| panic!(\"{{}}: does not decode: {{e}}\", {label:?}));\n    \
             let {ty}::{expect}(inner) = &value else {{ panic!(\"{{}}: decodes as {{value:?}}\", {label:?}) }};\n\
             {fields}    \
             assert_eq!(serde_json::to_value(&value).unwrap(), json, \"{{}}: does not encode back unchanged\", {label:?});\n    \
             let _ = inner;\n",
            expect = t.expect
        )
    };
    format!(
        "\n#[test]\nfn decode_{i}() {{\n    \
         let json: serde_json::Value = serde_json::from_str({:?}).unwrap();\n    \
         let decoded = serde_json::from_value::<{ty}>(json.clone());\n{check}}}\n",
        t.json.to_string()
    )
}
