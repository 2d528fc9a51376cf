//! What commands print: tables for people, one JSON document for scripts (`--json`, with the
//! API's field names), and errors.

use std::borrow::Cow;
use std::time::{Duration, UNIX_EPOCH};

use cerebras_batch::types::{Batch, File};
use comfy_table::{Table, presets};
use serde::Serialize;

/// `text` with every control character (the line break too: a table cell or a progress line
/// is one line) and every bidirectional-text control (U+202A–U+202E, U+2066–U+2069) written as
/// its Rust escape (`\u{1b}`). Text from the server or an input file (a status, an id, a file
/// name, an error message) is shown through it, so that it cannot move the cursor, recolour or
/// retitle the terminal, or reorder what else is printed. `--json` output is for programs and
/// does not go through it: serde escapes U+0000–U+001F there, and other characters go out as
/// the server sent them.
pub fn printable(text: &str) -> Cow<'_, str> {
    let hostile = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hostile(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// As [`printable`], keeping line breaks: for text of several lines (an error with its causes).
pub fn printable_lines(text: &str) -> String {
    text.split('\n').map(printable).collect::<Vec<_>>().join("\n")
}

/// Adds a row to `t`, each cell [`printable`].
pub fn row(t: &mut Table, cells: Vec<String>) {
    t.add_row(cells.iter().map(|c| printable(c).into_owned()).collect::<Vec<_>>());
}

/// Prints `value` as one JSON document on stdout.
pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A Unix time (seconds) as RFC 3339 UTC, or `-`.
pub fn time(t: Option<i64>) -> String {
    match t.and_then(|t| u64::try_from(t).ok()) {
        Some(t) => humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(t)).to_string(),
        None => "-".into(),
    }
}

/// An optional value, or `-`.
pub fn or_dash(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.set_header(header.iter().map(|h| h.to_owned()).collect::<Vec<_>>());
    t
}

/// `completed/total` and `failed` of a batch.
fn counts(b: &Batch) -> (String, String) {
    match &b.request_counts {
        Some(c) => (
            format!("{}/{}", or_dash(c.completed), or_dash(c.total)),
            or_dash(c.failed),
        ),
        None => ("-".into(), "-".into()),
    }
}

/// Batches as a table, one per row.
pub fn batches(list: &[Batch]) -> String {
    let mut t = table(&[
        "ID",
        "STATUS",
        "CREATED",
        "DONE/TOTAL",
        "FAILED",
        "INPUT FILE",
        "OUTPUT FILE",
    ]);
    for b in list {
        let (done, failed) = counts(b);
        row(
            &mut t,
            vec![
                b.id.clone(),
                b.status_text().to_owned(),
                time(b.created_at),
                done,
                failed,
                or_dash(b.input_file_id.as_ref()),
                or_dash(b.output_file_id.as_ref()),
            ],
        );
    }
    t.to_string()
}

/// One batch, a field per row.
pub fn batch(b: &Batch) -> String {
    let mut t = table(&["FIELD", "VALUE"]);
    let (done, failed) = counts(b);
    let rows: Vec<(&str, String)> = vec![
        ("id", b.id.clone()),
        ("status", b.status_text().to_owned()),
        ("endpoint", or_dash(b.endpoint.as_ref().map(|e| e.as_str().to_owned()))),
        ("input_file_id", or_dash(b.input_file_id.as_ref())),
        ("output_file_id", or_dash(b.output_file_id.as_ref())),
        ("error_file_id", or_dash(b.error_file_id.as_ref())),
        ("requests done/total", done),
        ("requests failed", failed),
        ("created_at", time(b.created_at)),
        ("in_progress_at", time(b.in_progress_at)),
        ("finalizing_at", time(b.finalizing_at)),
        ("completed_at", time(b.completed_at)),
        ("failed_at", time(b.failed_at)),
        ("expired_at", time(b.expired_at)),
        ("cancelling_at", time(b.cancelling_at)),
        ("cancelled_at", time(b.cancelled_at)),
        ("expires_at", time(b.expires_at)),
        (
            "metadata",
            b.metadata
                .as_ref()
                .map_or_else(|| "-".into(), |m| serde_json::Value::Object(m.clone()).to_string()),
        ),
        (
            "errors",
            b.errors
                .as_ref()
                .and_then(|e| serde_json::to_string(e).ok())
                .unwrap_or_else(|| "-".into()),
        ),
    ];
    for (k, v) in rows {
        row(&mut t, vec![k.to_owned(), v]);
    }
    t.to_string()
}

/// Files as a table, one per row.
pub fn files(list: &[File]) -> String {
    let mut t = table(&["ID", "FILENAME", "BYTES", "PURPOSE", "CREATED", "EXPIRES"]);
    for f in list {
        row(
            &mut t,
            vec![
                f.id.clone(),
                or_dash(f.filename.as_ref()),
                or_dash(f.bytes),
                or_dash(f.purpose.as_ref().map(|p| p.as_str().to_owned())),
                time(f.created_at),
                time(f.expires_at),
            ],
        );
    }
    t.to_string()
}

/// A problem of an input file, as `path:line: message` (compilers' form, which editors follow).
pub fn problem(path: &std::path::Path, e: &cerebras_batch::Error) -> String {
    let text = match e.line() {
        Some(line) => format!("{}:{line}: {}", path.display(), e.message()),
        None => format!("{}: {}", path.display(), e.message()),
    };
    printable_lines(&text)
}

/// An error with its causes, for stderr (the library's errors already name the operation, the
/// HTTP status and the request id; none of them holds the API key). A cause whose text the
/// message already holds (the library's messages include their cause) is not repeated.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    printable_lines(&text)
}
