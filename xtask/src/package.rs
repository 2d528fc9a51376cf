//! `cargo xtask package`: the publishable crates packaged and built from their packages alone, the
//! client built with the lowest versions its manifest allows, and no dependency whose
//! `rust-version` is above ours.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::util::{root, run, target_dir};

/// The crates this workspace publishes.
pub const PUBLISHED: &[&str] = &["cerebras-batch", "cerebras-batch-mock", "cerebras-batch-cli"];

/// Runs every packaging check.
pub fn package() -> Result<(), String> {
    forget_earlier_packages()?;
    println!("== cargo package (each publishable crate, built from its package alone)");
    let mut cmd = std::process::Command::new("cargo");
    cmd.current_dir(root()).arg("package").arg("--allow-dirty");
    for p in PUBLISHED {
        cmd.args(["-p", p]);
    }
    run(&mut cmd)?;
    minimal_versions()?;
    msrv()
}

/// Removes the copies of our own packages that earlier runs left unpacked in cargo's home.
/// `cargo package` verifies the CLI and the mock against the client through a registry in
/// `target/package/tmp-registry`, which cargo unpacks into `$CARGO_HOME/registry/src/-HASH/`
/// (the hash is of the registry's path); it does not unpack a version it finds there again,
/// so a second run of the same version would build the first run's code (a stale client that
/// fails to compile, or worse, one that compiles).
fn forget_earlier_packages() -> Result<(), String> {
    let home = match std::env::var_os("CARGO_HOME") {
        Some(home) => std::path::PathBuf::from(home),
        None => std::path::PathBuf::from(std::env::var_os("HOME").ok_or("neither CARGO_HOME nor HOME is set")?)
            .join(".cargo"),
    };
    let src = home.join("registry/src");
    let Ok(registries) = std::fs::read_dir(&src) else {
        return Ok(()); // no registry unpacked yet: nothing to forget
    };
    for registry in registries {
        let registry = registry
            .map_err(|e| format!("cannot read {}: {e}", src.display()))?
            .path();
        // Only the local registries `cargo package` makes (their names start with `-`), never
        // crates.io's.
        if !registry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('-'))
        {
            continue;
        }
        for name in PUBLISHED {
            let unpacked = registry.join(format!("{name}-{}", workspace_version(name)?));
            if unpacked.exists() {
                std::fs::remove_dir_all(&unpacked).map_err(|e| format!("cannot remove {}: {e}", unpacked.display()))?;
            }
        }
    }
    Ok(())
}

/// Builds the packaged client with the lowest version of each direct dependency its manifest
/// allows (`-Z direct-minimal-versions`, through `RUSTC_BOOTSTRAP` on the stable toolchain), and
/// runs its doc tests there: the README, packaged with it, is among them.
fn minimal_versions() -> Result<(), String> {
    println!("== the packaged cerebras-batch with the lowest versions its manifest allows");
    let version = workspace_version("cerebras-batch")?;
    let packaged = target_dir().join(format!("package/cerebras-batch-{version}"));
    let dir = root().join("target/minimal-versions/cerebras-batch");
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&packaged, &dir)?;
    let _ = std::fs::remove_file(dir.join("Cargo.lock"));
    // A workspace of its own (it sits under this one's target folder).
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| e.to_string())?;
    std::fs::write(&manifest, format!("{text}\n[workspace]\n")).map_err(|e| e.to_string())?;
    let cargo = |args: &[&str]| {
        let mut c = std::process::Command::new("cargo");
        c.current_dir(&dir)
            .args(args)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_DIR", root().join("target/minimal-versions/target"));
        c
    };
    run(&mut cargo(&["-Z", "direct-minimal-versions", "generate-lockfile"]))?;
    run(&mut cargo(&["check", "--all-targets", "--locked"]))?;
    println!("== the packaged crate's doc tests (the README's Rust snippets included)");
    run(&mut cargo(&["test", "--doc", "--locked", "--quiet"]))
}

/// Fails when a dependency of a publishable crate declares a `rust-version` above the
/// workspace's.
fn msrv() -> Result<(), String> {
    println!("== no dependency needs a newer Rust than our rust-version");
    let out = std::process::Command::new("cargo")
        .current_dir(root())
        .args(["metadata", "--format-version", "1", "--locked"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let packages: BTreeMap<&str, &serde_json::Value> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let ours = packages
        .values()
        .find(|p| p["name"] == "cerebras-batch")
        .and_then(|p| p["rust_version"].as_str())
        .ok_or("cerebras-batch has no rust-version")?;
    // The normal dependencies reachable from the published crates.
    let nodes: BTreeMap<&str, &serde_json::Value> = meta["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let mut todo: Vec<&str> = packages
        .iter()
        .filter(|(_, p)| PUBLISHED.iter().any(|n| p["name"] == *n))
        .map(|(id, _)| *id)
        .collect();
    let mut seen = BTreeSet::new();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes.get(id).and_then(|n| n["deps"].as_array()).into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null() || k["kind"] == "build");
            if normal && let Some(pkg) = dep["pkg"].as_str() {
                todo.push(pkg);
            }
        }
    }
    let mut too_new = Vec::new();
    for id in &seen {
        let Some(p) = packages.get(id) else { continue };
        if let Some(rv) = p["rust_version"].as_str()
            && newer(rv, ours)
        {
            too_new.push(format!(
                "{} {} needs Rust {rv}",
                p["name"].as_str().unwrap_or("?"),
                p["version"].as_str().unwrap_or("?")
            ));
        }
    }
    if too_new.is_empty() {
        println!("{} crates checked against rust-version {ours}", seen.len());
        Ok(())
    } else {
        Err(format!(
            "dependencies need a newer Rust than our {ours}:\n  {}",
            too_new.join("\n  ")
        ))
    }
}

/// Whether version `a` (`1.90`, `1.88.0`) is above `b`.
fn newer(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let (mut a, mut b) = (parse(a), parse(b));
    a.resize(3, 0);
    b.resize(3, 0);
    a > b
}

fn workspace_version(name: &str) -> Result<String, String> {
    let manifest = std::fs::read_to_string(root().join("generated/Cargo.toml")).map_err(|e| e.to_string())?;
    let _ = name;
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .map(|v| v.trim_end_matches('"').to_owned())
        .ok_or_else(|| "no version in generated/Cargo.toml".into())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    for entry in
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e} (run cargo package first)", from.display()))?
    {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(|e| e.to_string())?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_compare_as_numbers() {
        assert!(super::newer("1.90", "1.88"));
        assert!(super::newer("1.88.1", "1.88"));
        assert!(!super::newer("1.88.0", "1.88"));
        assert!(!super::newer("1.70", "1.88"));
        assert!(super::newer("1.100", "1.88"));
    }
}
