//! `cargo xtask regen` run for real on a copy of the workspace with a changed spec: what a
//! maintainer sees when a spec change breaks hand-written code anywhere in the workspace.
//!
//! The copy lives in `target/variants/workspace/` (the workspace's files as git lists them,
//! with its own git repository whose `HEAD` holds the checked-in spec, as a maintainer's
//! checkout does) and is built in `target/variants/target`, never the target directory that
//! runs the tests. Cases run one after another in the same copy: before each, the copy is put
//! back to the workspace's files, rewriting only the files that differ, so that cargo rechecks
//! only what the case changes.

use std::path::Path;
use std::process::Command;

use crate::workspace_root;

/// What `cargo xtask regen` did in the copy for one spec.
pub struct Regen {
    /// Whether it exited successfully.
    pub success: bool,
    /// Its standard output and standard error, one after the other.
    pub output: String,
}

/// Runs `cargo xtask regen` in the copy for each `(name, spec text)`, in turn.
///
/// # Panics
///
/// When the copy cannot be written or cargo or git cannot be run.
pub fn regen_each(specs: &[(String, String)]) -> Vec<(String, Regen)> {
    let root = workspace_root();
    let copy = root.join("target/variants/workspace");
    // Read once, so that a case sees the workspace as it was when the test began.
    let files: Vec<(String, Vec<u8>)> = workspace_files(&root)
        .into_iter()
        .map(|f| {
            let text = std::fs::read(root.join(&f)).expect("read a workspace file");
            (f, text)
        })
        .collect();
    let mut out = Vec::new();
    for (name, spec) in specs {
        sync(&copy, &files);
        commit_spec(&copy);
        std::fs::write(copy.join("spec/openapi.yaml"), spec).expect("write the changed spec");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let result = Command::new(cargo)
            .current_dir(&copy)
            .env("CARGO_TARGET_DIR", root.join("target/variants/target"))
            .env_remove("RUSTFLAGS")
            .args(["run", "--quiet", "--offline", "--package", "xtask", "--", "regen"])
            .output()
            .expect("cargo runs");
        out.push((
            name.clone(),
            Regen {
                success: result.status.success(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&result.stdout),
                    String::from_utf8_lossy(&result.stderr)
                ),
            },
        ));
    }
    out
}

/// The workspace's files as git lists them (tracked, and new ones not ignored), that exist.
fn workspace_files(root: &Path) -> Vec<String> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git ls-files: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|f| !f.is_empty() && root.join(f).is_file())
        .map(str::to_owned)
        .collect()
}

/// Makes the copy hold the workspace's `files`: writes those that differ, removes the
/// generated files the workspace does not have.
fn sync(copy: &Path, files: &[(String, Vec<u8>)]) {
    for (f, from) in files {
        let to = copy.join(f);
        if std::fs::read(&to).ok().as_deref() != Some(from.as_slice()) {
            std::fs::create_dir_all(to.parent().expect("a file is in a folder")).expect("create a folder");
            std::fs::write(&to, from).expect("write a file of the copy");
        }
    }
    for dir in ["generated/src/generated", "mock/src/generated"] {
        for entry in std::fs::read_dir(copy.join(dir))
            .expect("the copy's generated folder")
            .flatten()
        {
            let rel = format!("{dir}/{}", entry.file_name().to_string_lossy());
            if !files.iter().any(|(f, _)| *f == rel) {
                std::fs::remove_file(entry.path()).expect("remove a stale generated file");
            }
        }
    }
}

/// A git repository in the copy whose `HEAD` holds the checked-in spec.
fn commit_spec(copy: &Path) {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(copy)
            .args([
                "-c",
                "user.name=tests",
                "-c",
                "user.email=tests@127.0.0.1",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if !copy.join(".git").exists() {
        git(&["init", "--quiet"]);
    }
    git(&["add", "spec/openapi.yaml"]);
    git(&["commit", "--quiet", "--allow-empty", "-m", "the checked-in spec"]);
}
