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
//! (`"code":"batch_expired"` and `"status":"expired"` when the batch expired; the message says
//! `no batch was created for this request` for a shard whose [`ShardResults::batch_id`] is
//! empty, as when a job was cancelled before creating it). Result lines whose
//! `custom_id` is not in the input are kept too, after the input's lines, and counted. Two
//! result lines for the same `custom_id` are an error naming both: which one answers the
//! request cannot be known, and other tools have attached results to the wrong request this
//! way.
//!
//! Memory: an index of the result lines (a hash of each `custom_id`, and where its line is: 24
//! bytes a line), never the results or their ids; a 1,200,000-line merge indexes in about
//! 30 MB. Each result line is then read by its place, through a 64 KiB window when results come
//! in about the input's order (see `reader.rs` for why these reads are not handed to tokio's
//! blocking pool).

use std::path::{Path, PathBuf};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::FramedRead;

use crate::error::{Error, ErrorKind, Result};
use crate::jsonl::{LineDecoder, MAX_LINE_BYTES};
use crate::shard::ShardPlan;

mod index;
mod reader;

use index::{ResultIndex, custom_id};
use reader::LineReader;

/// The results of one shard's batch: the files downloaded from it, and how it ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardResults {
    /// The batch's id (named in the lines written for requests without a result); empty when
    /// no batch was created.
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

/// What [`merge_results`] wrote: a count of requests per outcome (their sum is the input's
/// lines), and of the other lines. Serialised with these field names (a job keeps it in its
/// state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub unreadable: usize,
}

impl MergeSummary {
    /// Whether every request succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.failed == 0 && self.expired == 0 && self.missing == 0
    }

    /// The number of requests: succeeded, failed, expired and missing.
    pub fn requests(&self) -> usize {
        self.succeeded + self.failed + self.expired + self.missing
    }
}

/// What a result line says of its request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    Failed,
    Expired,
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
/// - [`ErrorKind::Io`] when a file cannot be read or `out` written;
/// - [`ErrorKind::InvalidInput`] when `results` does not have one entry per shard, or the input
///   does not match the plan;
/// - [`ErrorKind::Protocol`] when two result lines answer the same `custom_id`, naming both
///   (file and line); nothing useful is written to `out` then.
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
    let files: Vec<&Path> = results.iter().flat_map(|r| &r.files).map(PathBuf::as_path).collect();
    if files.len() > usize::from(u16::MAX) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{} result files; at most {} can be merged at once",
                files.len(),
                u16::MAX
            ),
        ));
    }
    let hasher = std::hash::RandomState::new();
    let mut index = ResultIndex::build(&files, &hasher).await?;
    let mut readers = Vec::with_capacity(files.len());
    for path in &files {
        readers.push(LineReader::new(path)?);
    }
    index.check_duplicates(&mut readers, &files)?;
    let mut summary = MergeSummary {
        unreadable: index.unreadable,
        ..MergeSummary::default()
    };

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
            .and_then(|t| custom_id(t))
            .ok_or_else(|| changed(line.number))?;
        let mut merged = false;
        for k in index.run(std::hash::BuildHasher::hash_one(&hasher, &id)) {
            let entry = index.entries[k];
            if entry.used {
                continue;
            }
            let text = readers[entry.file as usize].read(entry.offset, entry.len as usize)?;
            if custom_id(text).as_deref() != Some(id.as_str()) {
                continue;
            }
            out.write_all(text).await.map_err(io)?;
            out.write_all(b"\n").await.map_err(io)?;
            index.entries[k].used = true;
            match entry.outcome {
                Outcome::Succeeded => summary.succeeded += 1,
                Outcome::Failed => summary.failed += 1,
                Outcome::Expired => summary.expired += 1,
            }
            merged = true;
            break;
        }
        if !merged {
            let r = &results[shard];
            let expired = r.status == "expired";
            let (status, code) = if expired {
                summary.expired += 1;
                ("expired", "batch_expired")
            } else {
                summary.missing += 1;
                ("missing", "no_result")
            };
            let message = if r.batch_id.is_empty() {
                "no batch was created for this request".to_owned()
            } else {
                format!(
                    "batch {} ended `{}` without a result for this request",
                    r.batch_id, r.status
                )
            };
            let line = json!({"custom_id": id, "status": status, "error": {"code": code, "message": message}});
            let mut text = serde_json::to_vec(&line).map_err(|e| Error::new(ErrorKind::Decode, e.to_string()))?;
            text.push(b'\n');
            out.write_all(&text).await.map_err(io)?;
        }
    }
    if at != plan.requests() {
        return Err(changed(at + 1));
    }
    // What no request of the input asked for, in file order.
    let mut rest: Vec<_> = index.entries.iter().filter(|e| !e.used).copied().collect();
    drop(index);
    rest.sort_unstable_by_key(|e| (e.file, e.offset));
    for e in rest {
        let text = readers[e.file as usize].read(e.offset, e.len as usize)?;
        out.write_all(text).await.map_err(io)?;
        out.write_all(b"\n").await.map_err(io)?;
        summary.unexpected += 1;
    }
    out.flush().await.map_err(io)?;
    Ok(summary)
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
        let plan = plan_shards(std::io::Cursor::new(input.as_bytes()), ShardLimits::default())
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

    #[tokio::test]
    async fn two_result_lines_for_one_request_are_an_error_naming_both() {
        let input: String = (0..10).map(|i| request(i, "a")).collect();
        let plan = plan_shards(std::io::Cursor::new(input.as_bytes()), ShardLimits::default())
            .await
            .unwrap()
            .plan
            .unwrap();
        let dir = std::env::temp_dir().join(format!("cerebras-batch-merge-dup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let output: String = (0..10).map(|i| ok(i) + "\n").collect();
        std::fs::write(dir.join("out.jsonl"), output).unwrap();
        let errors = format!(
            "{}\n{}\n",
            ok(20),
            "{\"custom_id\":\"r7\",\"status\":\"failed\",\"error\":{\"message\":\"bad\"}}"
        );
        std::fs::write(dir.join("err.jsonl"), errors).unwrap();
        let results = [ShardResults::new(
            "batch_a",
            "completed",
            vec![dir.join("out.jsonl"), dir.join("err.jsonl")],
        )];
        let mut out = Vec::new();
        let e = merge_results(input.as_bytes(), &plan, &results, &mut out)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        let text = e.to_string();
        assert!(text.contains("two result lines answer custom_id \"r7\""), "{text}");
        assert!(text.contains("out.jsonl line 8 and "), "{text}");
        assert!(text.contains("err.jsonl line 2"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
