//! The README's Rust blocks, run. `tests/build.rs` turns each into a module; here each runs in
//! a child process of this test binary (the ignored test `child`), with `CEREBRAS_BASE_URL` and
//! `CEREBRAS_API_KEY` pointing at a stateful fake on 127.0.0.1 and a fresh working folder that
//! holds `requests.jsonl` (12 requests), and must succeed and print what its `prints:` comments
//! say. Blocks that start a mock of their own ignore the fake.
//!
//! The inline calls of the README (`client.list_files().limit(20)`, ...) are checked by
//! `every_inline_call_of_the_readme_names_a_real_item` against the public API snapshot.

use std::fmt::Display;

use cerebras_batch_mock::FakeApi;
use cerebras_batch_tests::{TEST_KEY, twelve_requests};

include!(concat!(env!("OUT_DIR"), "/readme_blocks.rs"));

/// The block the child runs, by its line in the README.
const CHILD_BLOCK: &str = "CEREBRAS_BATCH_README_BLOCK";

/// A Rust block of the README (see `tests/build.rs`).
pub struct Block {
    /// The line of its opening fence.
    pub line: usize,
    /// Texts it must print.
    pub expect: &'static [&'static str],
    /// Runs it: `Err` with its error when it failed.
    pub run: fn() -> Result<(), String>,
}

/// What a block's `main` or `run` returned, as the test reads it.
pub trait Outcome {
    fn into_result(self) -> Result<(), String>;
}

impl Outcome for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> Outcome for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

pub fn outcome(value: impl Outcome) -> Result<(), String> {
    value.into_result()
}

/// Runs an `async fn run()` block on a runtime of its own.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// In a child process: runs the block named by `CEREBRAS_BATCH_README_BLOCK`.
#[test]
#[ignore = "run in a child process by every_rust_block_of_the_readme_runs"]
fn child() {
    let Ok(line) = std::env::var(CHILD_BLOCK) else {
        return;
    };
    let block = BLOCKS
        .iter()
        .find(|b| b.line.to_string() == line)
        .unwrap_or_else(|| panic!("no Rust block at README line {line}"));
    if let Err(e) = (block.run)() {
        panic!("README line {line}: the block failed: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rust_block_of_the_readme_runs() {
    assert!(
        BLOCKS.len() >= 3,
        "the README's Rust blocks were not found: {}",
        BLOCKS.len()
    );
    let fake = FakeApi::start().await;
    let runs = BLOCKS.iter().map(|block| {
        let base = fake.uri();
        async move {
            let dir = std::env::temp_dir().join(format!("cerebras-batch-readme-{}-{}", std::process::id(), block.line));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("requests.jsonl"), twelve_requests()).unwrap();
            let mut command = tokio::process::Command::new(std::env::current_exe().unwrap());
            command
                .args([
                    "--exact",
                    "readme::child",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .current_dir(&dir)
                .env(CHILD_BLOCK, block.line.to_string())
                .env("CEREBRAS_BASE_URL", &base)
                .env("CEREBRAS_API_KEY", TEST_KEY)
                .env_remove("CEREBRAS_CUSTOM_HEADERS");
            for proxy in [
                "HTTP_PROXY",
                "http_proxy",
                "HTTPS_PROXY",
                "https_proxy",
                "ALL_PROXY",
                "all_proxy",
            ] {
                command.env_remove(proxy);
            }
            let output = command.output().await.unwrap();
            let _ = std::fs::remove_dir_all(&dir);
            (block, output)
        }
    });
    for (block, output) in futures::future::join_all(runs).await {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "README line {}: the block did not run to its end\n{stdout}\n{stderr}",
            block.line
        );
        for expect in block.expect {
            assert!(
                stdout.contains(expect),
                "README line {}: the block did not print {expect:?}\n{stdout}",
                block.line
            );
        }
    }
}

/// A function of the client's public API, from `generated/public-api.txt`.
struct ApiFn {
    /// Its path without the crate (`Client::download_output`, `jsonl::read_results`).
    path: String,
    takes_self: bool,
    params: usize,
    is_async: bool,
}

/// Names the README uses that belong to other crates or to Rust itself.
const FOREIGN: &[&str] = &[
    "default", // `Default::default`
    "from",    // `From::from`
    "Some",
    "Ok",
    "Err",
    "expect",
    "up_to_n_times",
    "with_priority",
    "default_provider",
    "install_default",
    "unwrap_or_default",
    "mount",
];

#[test]
fn every_inline_call_of_the_readme_names_a_real_item() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let (checked, problems) = check_inline_calls(&readme);
    assert!(
        checked > 50,
        "too few inline calls found ({checked}): is the README's syntax still read?"
    );
    assert!(
        problems.is_empty(),
        "the README names items wrongly:\n{}",
        problems.join("\n")
    );
}

/// The mistakes a new user found in an earlier README are each caught.
#[test]
fn the_inline_call_check_catches_wrong_calls() {
    let text = "Use `ClientBuilder::from_vars(|name| ..)`, then `client.download_output(&batch)`, \
                `BatchLifecycle::new(\"b1\").output_lines(lines).mount(&api)`, `Client::new(a, b)`, \
                `jsonl::NoSuchWriter` and `client.no_such_call()`.";
    let (_, problems) = check_inline_calls(text);
    let expected = [
        "`ClientBuilder::from_vars` is a method: call it on a value",
        "`download_output` is async: write `.await`",
        "`mount` is async: write `.await`",
        "`Client::new` takes 1 argument(s), not 2",
        "no public item `jsonl::NoSuchWriter`",
        "no public item `no_such_call`",
    ];
    for e in expected {
        assert!(
            problems.iter().any(|p| p.contains(e)),
            "{e:?} not reported: {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}

/// Checks every inline call and item path of a Markdown text against the client's public API
/// (`generated/public-api.txt`) and the mock crate's `pub fn`s; returns how many it checked and
/// what is wrong.
fn check_inline_calls(text: &str) -> (usize, Vec<String>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let api = std::fs::read_to_string(root.join("generated/public-api.txt")).unwrap();
    let (items, fns) = client_api(&api);
    let mock = mock_fns(&root.join("mock/src"));
    let mut problems = Vec::new();
    let mut checked = 0;
    for (line, span) in inline_spans(text) {
        if !span.is_ascii() || !(span.contains('(') || span.contains("::")) || span.contains(' ') && !span.contains('(')
        {
            continue;
        }
        for call in calls(span) {
            checked += 1;
            let client: Vec<&ApiFn> = fns
                .iter()
                .filter(|f| f.path.rsplit("::").next() == Some(call.name))
                .filter(|f| {
                    call.owner
                        .is_none_or(|o| f.path.ends_with(&format!("{o}::{}", call.name)))
                })
                .collect();
            let mock_defs: Vec<bool> = mock.iter().filter(|(n, _)| n == call.name).map(|(_, a)| *a).collect();
            let variant = items.iter().any(|i| i.ends_with(&format!("::{}", call.name)));
            if client.is_empty() && mock_defs.is_empty() && !variant && !FOREIGN.contains(&call.name) {
                problems.push(format!("line {line}: `{span}`: no public item `{}`", call.qualified()));
                continue;
            }
            if call.owner.is_some() && !client.is_empty() {
                if client.iter().all(|f| f.takes_self) {
                    problems.push(format!(
                        "line {line}: `{span}`: `{}` is a method: call it on a value",
                        call.qualified()
                    ));
                } else if let Some(n) = call.args
                    && !client.iter().any(|f| f.params == n)
                {
                    problems.push(format!(
                        "line {line}: `{span}`: `{}` takes {} argument(s), not {n}",
                        call.qualified(),
                        client[0].params
                    ));
                }
            }
            let all_async = (!client.is_empty() || !mock_defs.is_empty())
                && client.iter().all(|f| f.is_async)
                && mock_defs.iter().all(|a| *a);
            // A method named in prose (`run()`) needs no `.await`; a call written out does.
            let written_out = call.owner.is_some() || call.receiver;
            if all_async && written_out && !call.awaited {
                problems.push(format!(
                    "line {line}: `{span}`: `{}` is async: write `.await`",
                    call.qualified()
                ));
            }
        }
        for path in paths(span) {
            checked += 1;
            if !items.iter().any(|i| i == path || i.ends_with(&format!("::{path}")))
                && !mock.iter().any(|(n, _)| path.ends_with(&format!("::{n}")))
            {
                problems.push(format!("line {line}: `{span}`: no public item `{path}`"));
            }
        }
    }
    (checked, problems)
}

/// Every item path of the client (without `cerebras_batch::`), and every function.
fn client_api(api: &str) -> (Vec<String>, Vec<ApiFn>) {
    let mut items = Vec::new();
    let mut fns = Vec::new();
    for line in api.lines() {
        let Some(at) = line.find("cerebras_batch::") else {
            continue;
        };
        if line.starts_with("impl") {
            continue;
        }
        let rest = &line[at + "cerebras_batch::".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let end = rest[..end].trim_end_matches(':').len();
        let path = &rest[..end];
        items.push(path.to_owned());
        if line.starts_with("pub fn ") && rest[end..].starts_with('(') {
            let params = top_level_args(&rest[end..]).unwrap_or(0);
            let takes_self = rest[end + 1..].starts_with("self")
                || rest[end + 1..].starts_with("&self")
                || rest[end + 1..].starts_with("&mut self")
                || rest[end + 1..].starts_with("mut self");
            fns.push(ApiFn {
                path: path.to_owned(),
                takes_self,
                params: params - usize::from(takes_self),
                is_async: line.ends_with("[async]"),
            });
        }
    }
    (items, fns)
}

/// Every `pub fn` of the mock crate's sources: its name, and whether it is async.
fn mock_fns(dir: &std::path::Path) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for path in cerebras_batch_tests::rust_files(dir) {
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let line = line.trim_start();
            for (prefix, is_async) in [
                ("pub fn ", false),
                ("pub async fn ", true),
                ("pub struct ", false),
                ("pub enum ", false),
            ] {
                if let Some(rest) = line.strip_prefix(prefix) {
                    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    out.push((name, is_async));
                }
            }
        }
    }
    out
}

/// The inline code spans of a Markdown text outside its fenced blocks, with their line.
fn inline_spans(text: &str) -> Vec<(usize, &str)> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            spans.extend(line.split('`').skip(1).step_by(2).map(|s| (i + 1, s)));
        }
    }
    spans
}

/// A call in an inline span: `owner::name(args)`, `.name(args)` or `name(args)`.
struct Call<'a> {
    owner: Option<&'a str>,
    name: &'a str,
    /// The number of arguments, unless the span elides them (`..`).
    args: Option<usize>,
    /// Called on a value (`client.name(..)`).
    receiver: bool,
    awaited: bool,
}

impl Call<'_> {
    fn qualified(&self) -> String {
        self.owner
            .map_or(self.name.to_owned(), |o| format!("{o}::{}", self.name))
    }
}

fn calls(span: &str) -> Vec<Call<'_>> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for (open, _) in span.match_indices('(') {
        let before = &span[..open];
        let start = before.rfind(|c: char| !ident(c)).map_or(0, |i| i + 1);
        let name = &before[start..];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let owner = before[..start].strip_suffix("::").map(|p| {
            let from = p.rfind(|c: char| !ident(c)).map_or(0, |i| i + 1);
            &p[from..]
        });
        let args = top_level_args(&span[open..])
            .filter(|_| !span[open..].starts_with("(..") || span[open..].starts_with("(..)"));
        let args = match span[open..].find(')') {
            Some(close) if span[open + 1..open + close].contains("..") => None,
            _ => args,
        };
        let close = matching_close(&span[open..]).map_or(span.len(), |c| open + c + 1);
        let receiver = before[..start].ends_with('.') && start > 1;
        out.push(Call {
            owner,
            name,
            args,
            receiver,
            awaited: span[close..].starts_with(".await"),
        });
    }
    out
}

/// Paths without a call (`jsonl::RequestWriter`, `ErrorKind::Locked`) that start with a module
/// or a type of the client.
fn paths(span: &str) -> Vec<&str> {
    let first = span.split("::").next().unwrap_or("");
    let known = [
        "types",
        "jsonl",
        "job",
        "builder",
        "ErrorKind",
        "JobEvent",
        "BatchStatus",
    ];
    if span.contains('(')
        || !span.contains("::")
        || !known.contains(&first)
        || !span.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    {
        return Vec::new();
    }
    vec![span]
}

/// The index of the `)` that closes the `(` at the start of `text`.
fn matching_close(text: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '<' | '{' => depth += 1,
            ')' | ']' | '>' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The number of top-level arguments between the `(` at the start of `text` and its `)`.
fn top_level_args(text: &str) -> Option<usize> {
    let close = matching_close(text)?;
    let inner = text[1..close].trim();
    if inner.is_empty() {
        return Some(0);
    }
    let mut depth = 0;
    let mut commas = 0;
    for c in inner.chars() {
        match c {
            '(' | '[' | '<' | '{' => depth += 1,
            ')' | ']' | '>' | '}' => depth -= 1,
            ',' if depth == 0 => commas += 1,
            _ => {}
        }
    }
    Some(commas + 1)
}

/// Every relative link of the Markdown docs (`[text](CONTRIBUTING.md#set-up)`) names a file
/// that exists.
#[test]
fn every_relative_link_of_the_docs_resolves() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let docs = [
        "README.md",
        "CONTRIBUTING.md",
        "ARCHITECTURE.md",
        "CHANGELOG.md",
        "docs/performance.md",
        "docs/errors-and-retries.md",
    ];
    let mut broken = Vec::new();
    for doc in docs {
        let path = root.join(doc);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{doc}: {e}"));
        for (_, target) in text.match_indices("](").map(|(i, _)| ((), &text[i + 2..])) {
            let Some(end) = target.find(')') else { continue };
            let target = &target[..end];
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let file = target.split('#').next().unwrap_or(target);
            if !path.parent().unwrap().join(file).exists() {
                broken.push(format!("{doc}: ({target})"));
            }
        }
    }
    assert!(broken.is_empty(), "links to nowhere:\n{}", broken.join("\n"));
}
