//! Merging the results of several batches (the shards of one input, see [`shard`](crate::shard))
//! into one file in the input's order.
//!
//! Every input line gets exactly one line in the merged file: the result line the server wrote
//! for its `custom_id` (output or error file, byte for byte, without a byte order mark or CR),
//! or, when there is none, a line this crate writes:
//!
//! ```json
//! {"custom_id":"req-7","status":"missing","error":{"code":"no_result","message":"batch batch_abc ended `cancelled` without a result for this request"}}
//! ```
//!
//! (`"code":"batch_expired"` and `"status":"expired"` when the batch expired). Result lines whose
//! `custom_id` is not in the input are kept too, after the input's lines, and counted. Memory: an
//! index of the result files (a `custom_id` and an offset per line), never the results
//! themselves.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::PathBuf;

use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_util::codec::FramedRead;

use crate::error::{Error, ErrorKind, Result};
use crate::jsonl::{BOM, LineDecoder, MAX_LINE_BYTES, MAX_RESULT_LINE_BYTES, decode_line};
use crate::shard::ShardPlan;
use crate::types::BatchResultStatus;

/// The results of one shard's batch: the files downloaded from it, and how it ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardResults {
    /// The batch's id (named in the lines written for requests without a result).
    pub batch_id: String,
    /// The batch's final status (`completed`, `expired`, ...), as the server wrote it.
    pub status: String,
    /// Its output and error files, as downloaded.
    pub files: Vec<PathBuf>,
}

impl ShardResults {
    /// The results of batch `batch_id`, which ended with `status`, in `files`.
    pub fn new(batch_id: impl Into<String>, status: impl Into<String>, files: Vec<PathBuf>) -> Self {
        Self {
            batch_id: batch_id.into(),
            status: status.into(),
            files,
        }
    }
}

/// What [`merge_results`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MergeSummary {
    /// Requests whose result line says they succeeded.
    pub succeeded: usize,
    /// Requests whose result line says they failed (any status but `succeeded` and `expired`).
    pub failed: usize,
    /// Requests that expired: a result line says so, or their batch expired without one.
    pub expired: usize,
    /// Requests without any result line (their batch was cancelled or failed, or lost them).
    pub missing: usize,
    /// Result lines for no request of the input (kept after the input's lines).
    pub unexpected: usize,
    /// Result lines that are not result lines (not JSON, no `custom_id`); not merged, counted.
    pub unreadable: usize,
}

impl MergeSummary {
    /// Whether every request succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.failed == 0 && self.expired == 0 && self.missing == 0
    }
}

/// Where a result line is, and what it says.
#[derive(Clone, Copy)]
struct Found {
    file: u32,
    offset: u64,
    len: u32,
    outcome: Outcome,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    Failed,
    Expired,
}

#[derive(Deserialize)]
struct CustomId {
    custom_id: String,
}

fn io(e: std::io::Error) -> Error {
    crate::error::io_error(e)
}

/// Writes to `out` one line per request of `input` (the file `plan` was made from), in its
/// order: its result from `results[shard]` (indexed by the plan's shards), or a line saying it
/// has none. See the [module](self) for the lines written.
///
/// # Errors
///
/// [`ErrorKind::Io`] when a file cannot be read or `out` written; [`ErrorKind::InvalidInput`]
/// when `results` does not have one entry per shard, or the input does not match the plan.
pub async fn merge_results(
    input: impl AsyncRead + Unpin,
    plan: &ShardPlan,
    results: &[ShardResults],
    out: &mut (impl AsyncWrite + Unpin),
) -> Result<MergeSummary> {
    if results.len() != plan.shards.len() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{} shard results for {} shards", results.len(), plan.shards.len()),
        ));
    }
    let mut summary = MergeSummary::default();
    let files: Vec<&PathBuf> = results.iter().flat_map(|r| &r.files).collect();
    let mut index: HashMap<String, Found> = HashMap::new();
    let mut extra: Vec<Found> = Vec::new();
    for (f, path) in files.iter().enumerate() {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot open {}: {e}", path.display())).with_source(e))?;
        let mut framed = FramedRead::new(file, LineDecoder::new(MAX_RESULT_LINE_BYTES));
        let mut offset = 0u64;
        while let Some(line) = framed.next().await {
            let line = line.map_err(io)?;
            let Ok(raw) = &line.text else {
                summary.unreadable += 1;
                continue;
            };
            let start = offset;
            offset += raw.len() as u64 + 1;
            let mut text = &raw[..];
            let mut skip = 0;
            if line.number == 1 && text.starts_with(BOM) {
                text = &text[BOM.len()..];
                skip = BOM.len();
            }
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(decoded) = decode_line(line.number, text) else {
                summary.unreadable += 1;
                continue;
            };
            let outcome = match decoded.status() {
                BatchResultStatus::Succeeded => Outcome::Succeeded,
                BatchResultStatus::Expired => Outcome::Expired,
                _ => Outcome::Failed,
            };
            let found = Found {
                file: f as u32,
                offset: start + skip as u64,
                len: text.len() as u32,
                outcome,
            };
            // A request answered twice (an output and an error line): the first is merged, the
            // other kept with the unexpected lines.
            if index.contains_key(decoded.custom_id()) {
                extra.push(found);
            } else {
                index.insert(decoded.custom_id().to_owned(), found);
            }
        }
    }

    let mut readers = Vec::with_capacity(files.len());
    for path in &files {
        let file = tokio::fs::File::open(path).await.map_err(io)?;
        readers.push(BufReader::new(file));
    }
    let mut line_buf = Vec::new();
    let mut framed = FramedRead::new(input, LineDecoder::new(MAX_LINE_BYTES));
    let mut at = 0usize;
    while let Some(line) = framed.next().await {
        let line = line.map_err(io)?;
        let shard = plan.shard_of(at).ok_or_else(|| changed(line.number))?;
        at += 1;
        let id = line
            .text
            .as_ref()
            .ok()
            .and_then(|t| serde_json::from_slice::<CustomId>(t).ok())
            .ok_or_else(|| changed(line.number))?
            .custom_id;
        match index.remove(&id) {
            Some(found) => {
                copy_line(&mut readers, found, &mut line_buf, out).await?;
                match found.outcome {
                    Outcome::Succeeded => summary.succeeded += 1,
                    Outcome::Failed => summary.failed += 1,
                    Outcome::Expired => summary.expired += 1,
                }
            }
            None => {
                let r = &results[shard];
                let expired = r.status == "expired";
                let (status, code) = if expired {
                    summary.expired += 1;
                    ("expired", "batch_expired")
                } else {
                    summary.missing += 1;
                    ("missing", "no_result")
                };
                let message = format!(
                    "batch {} ended `{}` without a result for this request",
                    r.batch_id, r.status
                );
                let line = json!({"custom_id": id, "status": status, "error": {"code": code, "message": message}});
                let mut text = serde_json::to_vec(&line).map_err(|e| Error::new(ErrorKind::Decode, e.to_string()))?;
                text.push(b'\n');
                out.write_all(&text).await.map_err(io)?;
            }
        }
    }
    if at != plan.requests() {
        return Err(changed(at + 1));
    }
    // What no request of the input asked for, in file order.
    let mut rest: Vec<Found> = index.into_values().chain(extra).collect();
    rest.sort_by_key(|f| (f.file, f.offset));
    for found in rest {
        copy_line(&mut readers, found, &mut line_buf, out).await?;
        summary.unexpected += 1;
    }
    out.flush().await.map_err(io)?;
    Ok(summary)
}

async fn copy_line(
    readers: &mut [BufReader<tokio::fs::File>],
    found: Found,
    buf: &mut Vec<u8>,
    out: &mut (impl AsyncWrite + Unpin),
) -> Result<()> {
    let reader = &mut readers[found.file as usize];
    reader.seek(SeekFrom::Start(found.offset)).await.map_err(io)?;
    buf.resize(found.len as usize, 0);
    reader.read_exact(buf).await.map_err(io)?;
    buf.push(b'\n');
    out.write_all(buf).await.map_err(io)?;
    Ok(())
}

fn changed(line: usize) -> Error {
    Error::new(ErrorKind::InvalidInput, "the input does not match its shard plan").with_line(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::{ShardLimits, plan_shards};

    fn request(i: usize, model: &str) -> String {
        format!(
            "{{\"custom_id\":\"r{i}\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{{\"model\":\"{model}\",\"messages\":[]}}}}\n"
        )
    }

    fn ok(i: usize) -> String {
        format!("{{\"custom_id\":\"r{i}\",\"status\":\"succeeded\",\"response\":{{\"id\":\"c{i}\"}}}}")
    }

    #[tokio::test]
    async fn results_come_out_in_input_order_with_a_line_for_each_request() {
        let input: String = (0..24)
            .map(|i| request(i, if i % 2 == 0 { "a" } else { "b" }))
            .collect();
        let plan = plan_shards(input.as_bytes(), ShardLimits::default())
            .await
            .unwrap()
            .plan
            .unwrap();
        assert_eq!(plan.shards.len(), 2);
        let dir = std::env::temp_dir().join(format!("cerebras-batch-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Shard 0 (even lines): results in reverse order, a BOM and CRLF, one failure, r4 missing,
        // one line for no request, one unreadable line.
        let mut a: Vec<String> = (0..24).step_by(2).filter(|i| *i != 4).rev().map(ok).collect();
        a[1] = "{\"custom_id\":\"r20\",\"status\":\"failed\",\"error\":{\"message\":\"bad\"}}".into();
        a.push("{\"custom_id\":\"stranger\",\"status\":\"succeeded\"}".into());
        a.push("not json".into());
        let a_text = format!("\u{feff}{}\r\n", a.join("\r\n"));
        std::fs::write(dir.join("a.jsonl"), a_text).unwrap();
        // Shard 1 (odd lines): the batch expired after r1 and r3.
        std::fs::write(dir.join("b.jsonl"), format!("{}\n{}\n", ok(3), ok(1))).unwrap();
        let results = [
            ShardResults::new("batch_a", "completed", vec![dir.join("a.jsonl")]),
            ShardResults::new("batch_b", "expired", vec![dir.join("b.jsonl")]),
        ];
        let mut out = Vec::new();
        let summary = merge_results(input.as_bytes(), &plan, &results, &mut out)
            .await
            .unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let ids: Vec<&str> = lines.iter().map(|l| l["custom_id"].as_str().unwrap()).collect();
        let mut expected: Vec<String> = (0..24).map(|i| format!("r{i}")).collect();
        expected.push("stranger".into());
        assert_eq!(ids, expected);
        assert_eq!(lines[0], serde_json::from_str::<serde_json::Value>(&ok(0)).unwrap());
        assert_eq!(lines[4]["status"], "missing");
        assert_eq!(
            lines[4]["error"]["message"],
            "batch batch_a ended `completed` without a result for this request"
        );
        assert_eq!(lines[5]["error"]["code"], "batch_expired");
        assert_eq!(lines[20]["status"], "failed");
        assert_eq!(
            summary,
            MergeSummary {
                succeeded: 10 + 2,
                failed: 1,
                expired: 10,
                missing: 1,
                unexpected: 1,
                unreadable: 1,
            }
        );
        assert!(!summary.all_succeeded());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
