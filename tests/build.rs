//! Makes the README's Rust blocks part of the test suite: each fenced block whose info string
//! starts with `rust` becomes a module of `$OUT_DIR/readme_blocks.rs`, which
//! `suite/readme.rs` includes, compiles and runs (against the stateful fake or the mock).
//!
//! The README is read raw on GitHub and crates.io, so a block is a whole program as a reader
//! copies it: no rustdoc hidden lines (`# `), which fail the build here. Each block defines
//! `fn main`, `async fn run` or one `#[tokio::test]` function (made a `pub` function the test
//! can call); a comment `prints: TEXT` names text the block must print. A block that defines
//! none of them fails the build, naming its line.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    println!("cargo::rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme).unwrap_or_else(|e| panic!("cannot read {}: {e}", readme.display()));
    let mut modules = String::new();
    // `unit_arg`: a block's `run` may return `()`, which `outcome` accepts like a `Result`.
    let mut table = String::from(
        "/// Every Rust block of the README, in order.\n#[allow(clippy::unit_arg)]\npub const BLOCKS: &[Block] = &[\n",
    );
    for block in rust_blocks(&text) {
        let Block { line, code, expect } = block;
        let code = as_callable(line, &code);
        let entry = if code.contains("async fn run(") {
            format!("|| crate::readme::outcome(crate::readme::block_on(line_{line}::run()))")
        } else if code.contains("fn main(") {
            format!("|| crate::readme::outcome(line_{line}::main())")
        } else {
            panic!(
                "README.md line {line}: a Rust block must define `fn main`, `async fn run` or one \
                 `#[tokio::test]` function, so that the tests can run it"
            );
        };
        let code: String = code
            .lines()
            .map(|l| {
                match ["fn main(", "async fn main(", "async fn run("]
                    .iter()
                    .any(|f| l.starts_with(f))
                {
                    true => format!("pub {l}\n"),
                    false => format!("{l}\n"),
                }
            })
            .collect();
        writeln!(modules, "/// README.md, the block at line {line}.\n#[allow(dead_code, unused_imports)]\npub mod line_{line} {{\n{code}}}\n").unwrap();
        writeln!(
            table,
            "    Block {{ line: {line}, expect: &{expect:?}, run: {entry} }},"
        )
        .unwrap();
    }
    table.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("readme_blocks.rs");
    std::fs::write(&out, modules + &table).unwrap();
}

/// One fenced Rust block: its opening line (1-based), its code, and the texts its `prints:`
/// comments name.
struct Block {
    line: usize,
    code: String,
    expect: Vec<String>,
}

fn rust_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match current.as_mut() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```")
                    && info.split(',').next() == Some("rust")
                {
                    current = Some(Block {
                        line: i + 1,
                        code: String::new(),
                        expect: Vec::new(),
                    });
                }
            }
            Some(_) if trimmed.starts_with("```") => blocks.extend(current.take()),
            Some(block) => {
                assert!(
                    line != "#" && !line.starts_with("# "),
                    "README.md line {}: a rustdoc hidden line; the README is read raw, so write the \
                     block as a whole program",
                    i + 1
                );
                if let Some((_, expect)) = line.split_once("prints: ") {
                    block.expect.push(expect.trim().to_owned());
                }
                block.code.push_str(line);
                block.code.push('\n');
            }
        }
    }
    assert!(current.is_none(), "README.md: a Rust block is not closed");
    blocks
}

/// A block with one `#[tokio::test]` function: the attribute goes, and the function becomes
/// `run`, which the test calls on a runtime of its own.
fn as_callable(line: usize, code: &str) -> String {
    if !code.contains("#[tokio::test]") {
        return code.to_owned();
    }
    assert_eq!(
        code.matches("#[tokio::test]").count(),
        1,
        "README.md line {line}: one test function per block"
    );
    let mut out = String::new();
    let mut renamed = false;
    let mut after_attribute = false;
    for l in code.lines() {
        if l.trim() == "#[tokio::test]" {
            after_attribute = true;
            continue;
        }
        if after_attribute {
            let rest = l.strip_prefix("async fn ").unwrap_or_else(|| {
                panic!("README.md line {line}: `#[tokio::test]` must be followed by `async fn NAME() {{`")
            });
            let name_end = rest.find('(').expect("a function");
            out.push_str(&format!("async fn run{}\n", &rest[name_end..]));
            renamed = true;
            after_attribute = false;
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    assert!(
        renamed,
        "README.md line {line}: no test function after `#[tokio::test]`"
    );
    out
}
