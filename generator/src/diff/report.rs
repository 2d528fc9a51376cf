//! The report of a diff: text for a terminal, Markdown for a pull request, JSON for tools.

use std::fmt::Write;

use super::{Change, Format};

/// A report of the changes from `from` to `to` in `format`.
pub fn report(changes: &[Change], from: &str, to: &str, format: Format) -> String {
    let breaking = changes.iter().filter(|c| c.breaking).count();
    let compatible = changes.len() - breaking;
    let mut out = String::new();
    match format {
        Format::Text => {
            let _ = writeln!(out, "Spec changes from {from} to {to}:\n");
            if changes.is_empty() {
                out.push_str("No semantic changes (descriptions and examples are not compared).\n");
                return out;
            }
            for c in changes {
                let _ = writeln!(
                    out,
                    "{:<11} {}: {}",
                    if c.breaking { "BREAKING" } else { "compatible" },
                    c.location,
                    c.what
                );
            }
            let _ = writeln!(out, "\n{breaking} breaking, {compatible} compatible.");
        }
        Format::Markdown => {
            let _ = writeln!(out, "## Spec changes from `{from}` to `{to}`\n");
            if changes.is_empty() {
                out.push_str("No semantic changes (descriptions and examples are not compared).\n");
                return out;
            }
            let _ = writeln!(out, "**{breaking} breaking, {compatible} compatible.**\n");
            for (title, want) in [("Breaking", true), ("Compatible", false)] {
                let group: Vec<&Change> = changes.iter().filter(|c| c.breaking == want).collect();
                if group.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "### {title}\n");
                out.push_str("| change | spec location | Rust items |\n|---|---|---|\n");
                for c in group {
                    let rust = c.rust.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ");
                    let _ = writeln!(
                        out,
                        "| {}: {} | `{}` | {} |",
                        cell(&c.location),
                        cell(&c.what),
                        cell(&c.pointer),
                        cell(&rust)
                    );
                }
                out.push('\n');
            }
            if breaking > 0 {
                out.push_str(
                    "A breaking change lands only with a `Spec-Breaking-Change: <why>` line in its commit message, \
                     and a CHANGELOG entry saying what users must change.\n",
                );
            }
        }
        Format::Json => {
            let doc = serde_json::json!({
                "from": from,
                "to": to,
                "breaking": breaking,
                "compatible": compatible,
                "changes": changes,
            });
            out = serde_json::to_string_pretty(&doc).expect("changes serialise");
            out.push('\n');
        }
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
