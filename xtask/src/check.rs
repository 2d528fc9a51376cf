//! `cargo xtask check` (and `regen --check`): writes nothing, and fails with a unified diff when
//! the checked-in generated code differs from what the spec generates, or when a file in the
//! generated folders is no longer generated. When the generated code is fresh, it proves that
//! the whole workspace compiles against it, as `regen` does after a change (`prove.rs`).

use crate::regen::{files, generate, stale_extra_files};

pub fn check() -> Result<(), String> {
    let output = generate()?;
    let mut report = String::new();
    for (rel, new, old) in files(&output) {
        // A file that is not there yet shows as wholly added.
        let old = old.unwrap_or_default();
        if old != new {
            let diff = similar::TextDiff::from_lines(&old, &new);
            report.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{rel} (checked in)"), &format!("b/{rel} (from spec)"))
                    .to_string(),
            );
        }
    }
    for rel in stale_extra_files(&output) {
        report.push_str(&format!("{rel}: checked in but no longer generated\n"));
    }
    if report.is_empty() {
        println!("generated code is up to date with spec/openapi.yaml");
        crate::prove::prove_workspace(&output)
    } else {
        Err(format!(
            "{report}\ngenerated code is stale: run `cargo xtask regen` and commit the result"
        ))
    }
}
