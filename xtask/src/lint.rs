//! `cargo xtask lint`: the spec through Redocly (strict, with the reviewed allow-list
//! `spec/.redocly.lint-ignore.yaml`) and Spectral (the project's rules, `spec/.spectral.yaml`).

use crate::util::{ensure_spec_tools, run, spec_tool};

pub fn lint() -> Result<(), String> {
    ensure_spec_tools()?;
    println!("== redocly lint (strict; allow-list: spec/.redocly.lint-ignore.yaml)");
    run(spec_tool("redocly").args(["lint", "openapi.yaml", "--format=stylish"]))?;
    println!("== spectral lint (rules: spec/.spectral.yaml)");
    run(spec_tool("spectral").args(["lint", "openapi.yaml", "--fail-severity=warn"]))?;
    Ok(())
}
