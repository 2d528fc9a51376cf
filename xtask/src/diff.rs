//! `cargo xtask diff`: the semantic diff of the spec between two git refs (or a ref and the
//! working tree), each change BREAKING or compatible with the Rust items it changes; and
//! `--history`, which checks every commit that changed the spec against its parent. The rules
//! are in `generator/src/diff.rs`.

use cerebras_batch_generator as generator;
use generator::diff::Format;

use crate::util::{SPEC, git, root};

/// Compares the spec at `base` (default `origin/main`, or `HEAD~1` without a remote) with the
/// spec at `head` (default: the working tree), prints the report in `format`, and fails on a
/// breaking change unless `allow_breaking`.
pub fn diff(base: Option<String>, head: Option<String>, format: Format, allow_breaking: bool) -> Result<(), String> {
    let base = match base {
        Some(r) => r,
        None if git(&["rev-parse", "--verify", "--quiet", "origin/main"]).is_ok() => "origin/main".to_owned(),
        None => "HEAD~1".to_owned(),
    };
    let (head_name, head) = match head {
        Some(r) => {
            let spec = spec_at(&r)?;
            (r, spec)
        }
        None => {
            let text = std::fs::read_to_string(root().join(SPEC)).map_err(|e| format!("cannot read {SPEC}: {e}"))?;
            (
                "the working tree".to_owned(),
                generator::parse_spec(&text).map_err(|e| e.to_string())?,
            )
        }
    };
    let changes = generator::diff::diff(&spec_at(&base)?, &head);
    print!("{}", generator::diff::report(&changes, &base, &head_name, format));
    let breaking = changes.iter().filter(|c| c.breaking).count();
    if breaking > 0 && !allow_breaking {
        return Err(format!(
            "{breaking} breaking spec change(s): if they are deliberate, pass --allow-breaking (in CI: add a `Spec-Breaking-Change: <why>` line to the commit message)"
        ));
    }
    Ok(())
}

/// Checks every commit that changed the spec against its parent. A commit with breaking
/// changes must say so with a `Spec-Breaking-Change: <why>` line in its message.
pub fn history() -> Result<(), String> {
    let commits = git(&["rev-list", "--reverse", "HEAD", "--", SPEC])?;
    let mut unacknowledged = Vec::new();
    for commit in commits.lines() {
        let parent = format!("{commit}~1");
        // The commit that created the spec has nothing to compare with; any other failure to
        // read or parse the parent's spec is an error, not a commit to leave out.
        if git(&["cat-file", "-e", &format!("{parent}:{SPEC}")]).is_err() {
            continue;
        }
        let changes = generator::diff::diff(&spec_at(&parent)?, &spec_at(commit)?);
        let subject = git(&["log", "-1", "--format=%h %s", commit])?;
        let message = git(&["log", "-1", "--format=%B", commit])?;
        let acknowledged = message.lines().any(|l| l.starts_with("Spec-Breaking-Change:"));
        let breaking = changes.iter().filter(|c| c.breaking).count();
        println!("== {}", subject.trim());
        print!("{}", generator::diff::report(&changes, &parent, commit, Format::Text));
        if breaking > 0 && !acknowledged {
            unacknowledged.push(subject.trim().to_owned());
        }
    }
    if unacknowledged.is_empty() {
        println!("every breaking spec change in the history is acknowledged");
        Ok(())
    } else {
        Err(format!(
            "breaking spec changes without a `Spec-Breaking-Change: <why>` line in the commit message:\n  {}",
            unacknowledged.join("\n  ")
        ))
    }
}

/// The spec at a git ref, parsed.
fn spec_at(reference: &str) -> Result<serde_json::Value, String> {
    let text = git(&["show", &format!("{reference}:{SPEC}")])?;
    generator::parse_spec(&text).map_err(|e| format!("{SPEC} at {reference}: {e}"))
}
