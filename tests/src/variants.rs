//! Variant crates: the client crate as generated from a changed spec, each with a consumer
//! crate, all type-checked in one `cargo check` so that dependencies are built once.
//!
//! A set of variants is written under `target/variants/<set>/crates/<name>/`: `client/` holds
//! the hand-written layer of `generated/src/` with the variant's generated files in place of
//! the checked-in ones, `consumer/` a crate that uses it. Every set is checked with one target
//! directory of its own (`target/variants/target`), shared by the sets (cargo's lock takes them
//! in turn) and never the one that runs the tests.

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
