//! What the commands share: the workspace root, running a program, git, and the pinned spec
//! tools (`spec/node_modules`, installed from `spec/package-lock.json`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The spec, relative to the workspace root.
pub const SPEC: &str = "spec/openapi.yaml";

/// The workspace root, read at run time (cargo sets `CARGO_MANIFEST_DIR` for `cargo run`), so
/// that a target directory shared by two checkouts never makes one act on the other.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().expect("xtask lives in the workspace").to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the workspace root when
/// relative), else `target/` of the workspace. Where `cargo doc` and `cargo package` write.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Runs `cmd` with its output shown; an error names the command and its exit status.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("failed ({status}): {shown}"))
    }
}

/// Whether `cargo <subcommand> --version` runs (an installed cargo plugin).
pub fn cargo_plugin_installed(subcommand: &str) -> bool {
    Command::new("cargo")
        .args([subcommand, "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `git args...` in the workspace root; its standard output, or an error with its standard error.
pub fn git(args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .current_dir(root())
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The Node.js versions the pinned spec tools need (`engines` in spec/package-lock.json):
/// Redocly CLI 2.77 needs 20.19+ on the 20 line, or 22.12+.
const NODE_NEEDED: &str = "Node.js 22.12 or later (or 20.19+ on the 20 line) with npm 10+";

/// Checks that `node` is there and new enough for the pinned tools.
fn check_node() -> Result<(), String> {
    let out = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run node ({e}): the spec tools need {NODE_NEEDED}"))?;
    let version = String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches('v')
        .to_owned();
    if node_supported(&version) {
        Ok(())
    } else {
        Err(format!(
            "node {version} is too old or unsupported: the spec tools need {NODE_NEEDED}"
        ))
    }
}

/// Whether `version` (`22.12.0`, without the `v`) is one the pinned tools support.
fn node_supported(version: &str) -> bool {
    let parts: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [20, minor, ..] => *minor >= 19,
        [22, minor, ..] => *minor >= 12,
        [major, ..] => *major > 22,
        [] => false,
    }
}

/// Installs the pinned spec tools (`spec/package-lock.json`) unless they are installed already
/// from the same lockfile.
pub fn ensure_spec_tools() -> Result<(), String> {
    check_node()?;
    let spec = root().join("spec");
    let installed = spec.join("node_modules/.package-lock.json");
    let fresh = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let up_to_date = match (fresh(&installed), fresh(&spec.join("package-lock.json"))) {
        (Some(i), Some(l)) => i >= l && spec.join("node_modules/.bin/prism").exists(),
        _ => false,
    };
    if !up_to_date {
        println!("== installing the pinned spec tools (npm ci)");
        run(Command::new("npm")
            .current_dir(&spec)
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"]))?;
    }
    Ok(())
}

/// One of the pinned spec tools (`redocly`, `spectral`, `prism`), run in `spec/` with telemetry
/// and update notices off.
pub fn spec_tool(name: &str) -> Command {
    let mut cmd = Command::new(root().join("spec/node_modules/.bin").join(name));
    cmd.current_dir(root().join("spec"))
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true");
    cmd
}

#[cfg(test)]
mod tests {
    #[test]
    fn node_versions_the_pinned_tools_support() {
        for ok in ["20.19.0", "20.20.2", "22.12.0", "22.20.1", "24.0.0", "25.1.0"] {
            assert!(super::node_supported(ok), "{ok}");
        }
        for old in ["18.20.4", "20.18.3", "21.7.3", "22.11.0", "", "x"] {
            assert!(!super::node_supported(old), "{old}");
        }
    }
}
