//! Merging the results of several batches (the shards of one input, see [`shard`](crate::shard))
//! into one file in the input's order.
//!
//! Every input line gets exactly one line in the merged file: the result line the server wrote
//! for its `custom_id` (output or error file, byte for byte, without a byte order mark or CR),
//! or, when there is none, a line this crate writes:
//!
//! ```json
//! {"custom_id":"req-7","status":"missing","error":{"code":"no_result","message":"batch batch_abc ended `completed` without a result for this request"}}
//! ```
//!
//! Its `status` and `error.code` say why:
//!
//! | the batch | `status` | `error.code` |
//! |---|---|---|
//! | expired | `expired` | `batch_expired` (the code OpenAI writes for such a request) |
//! | was cancelled | `missing` | `batch_cancelled` |
//! | failed | `missing` | `batch_failed` |
//! | ended otherwise, or was never created | `missing` | `no_result` |
//!
//! The message names the batch and its status, or says `no batch was created for this
//! request` for a shard whose [`ShardResults::batch_id`] is empty (a job cancelled before
//! creating it). Result lines whose `custom_id` is not in the input are kept too, after the
//! input's lines, and counted. Two result lines for the same `custom_id` are an error naming
//! both: which one answers the request cannot be known, and other tools have attached results
//! to the wrong request this way.
//!
//! # What is worth running again
//!
//! [`MergeSummary::rerunnable`] counts, and [`is_rerunnable`] tells of one line, the requests
//! that another run may finish (what [`Job::rerun_unfinished`](crate::job::Job::rerun_unfinished)
//! sends again). This is the one table of the rule:
//!
//! | the merged line | rerun | source |
//! |---|---|---|
//! | `"status": "succeeded"` (or a 2xx `response.status_code`) | no | |
//! | `"status": "expired"`, or `error.code` `batch_expired` | yes | Cerebras results page; OpenAI batch guide, "Batch expiration" |
//! | `"status": "missing"` (no result, written by this crate) | yes | |
//! | failed with `response.status_code` 408, 429 or 500–599 (OpenAI shape) | yes | the vendor's SDKs retry these statuses |
//! | failed with an `error.code` in [`TRANSIENT_ERROR_CODES`]: `timeout` (Cerebras shape) | yes | the code of the vendor's example of a request not reached in time (<https://inference-docs.cerebras.ai/api-reference/batch/retrieve-batch-results>) |
//! | failed with status 400 or code `invalid_request` | never | a request the API refuses fails again |
//! | failed for any other status or code | no | |
//!
//! # What a run used
//!
//! [`MergeSummary`] counts the requests by outcome, counting the lines of the error files as
//! well as the output files ([`MergeSummary::error_file_lines`]), and sums the tokens the
//! result lines report ([`Usage`]: `response.usage` in the Cerebras shape,
//! `response.body.usage` in the OpenAI shape, `completion_tokens_details.reasoning_tokens`
//! where present).
//!
//! Memory: an index of the result lines (a hash of each `custom_id`, and where its line is: 24
//! bytes a line), never the results or their ids; a 1,200,000-line merge indexes in about
//! 30 MB. Each result line is then read by its place, through a 64 KiB window when results come
//! in about the input's order (see `reader.rs` for why these reads are not handed to tokio's
//! blocking pool).

use std::hash::BuildHasher;
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
mod outcome;
mod reader;
mod rerun;
mod usage;

use index::{Entry, ResultIndex, custom_id};
pub(crate) use outcome::LineOutcome;
use outcome::{CANCELLED_CODE, EXPIRED_CODE, FAILED_BATCH_CODE, MISSING, NO_RESULT_CODE};
pub use outcome::{TRANSIENT_ERROR_CODES, is_rerunnable};
use reader::LineReader;
pub(crate) use rerun::{Previous, merge_rerun};
pub use usage::Usage;
use usage::read_head;

/// The results of one shard's batch: the files downloaded from it, and how it ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardResults {
    /// The batch's id (named in the lines written for requests without a result); empty when
    /// no batch was created.
    pub batch_id: String,
    /// The batch's final status (`completed`, `expired`, ...), as the server wrote it.
    pub status: String,
    /// Its output files (and any file whose kind is not known), as downloaded.
    pub files: Vec<PathBuf>,
    /// Its error files (`error_file_id`), as downloaded: merged as the output files are, and
    /// counted in [`MergeSummary::error_file_lines`].
    pub errors: Vec<PathBuf>,
}

impl ShardResults {
    /// The results of batch `batch_id`, which ended with `status`, in `files`.
    pub fn new(batch_id: impl Into<String>, status: impl Into<String>, files: Vec<PathBuf>) -> Self {
        Self {
            batch_id: batch_id.into(),
            status: status.into(),
            files,
            errors: Vec::new(),
        }
    }

    /// Sets [`errors`](Self::errors): the batch's error files.
    pub fn with_errors(mut self, errors: Vec<PathBuf>) -> Self {
        self.errors = errors;
        self
    }
}

/// What [`merge_results`] wrote: a count of requests per outcome (their sum is the input's
/// lines), of the other lines, and the tokens the result lines report. Serialised with these
/// field names (a job keeps it in its state).
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
    /// Result lines that are not result lines as documented (not JSON, not an object, no
    /// `custom_id`, over 64 MiB), never dropped: one whose `custom_id` can be read answers its
    /// request (counted as `failed`, never rerun: it may have run); any other is kept as the
    /// server wrote it, after the input's lines and the unexpected ones.
    #[serde(default)]
    pub unreadable: usize,
    /// Of the requests that did not succeed, those worth running again: expired, missing, or
    /// failed for a transient cause (see the [module](self)'s table).
    #[serde(default)]
    pub rerunnable: usize,
    /// Of `missing`: requests whose batch was cancelled.
    #[serde(default)]
    pub missing_in_cancelled: usize,
    /// Of `missing`: requests whose batch failed.
    #[serde(default)]
    pub missing_in_failed: usize,
    /// Result lines read from the batches' error files ([`ShardResults::errors`]), merged or
    /// kept as unexpected: their requests are counted above like those of the output files.
    /// Unlike the counts above, which describe the output as it is, this and [`usage`](Self::usage)
    /// add up over every attempt of a job: a rerun adds its lines and tokens, and takes
    /// nothing off for the lines it replaces (what the job used, not what the output holds).
    #[serde(default)]
    pub error_file_lines: usize,
    /// The tokens the result lines report, summed (merged and unexpected lines; over every
    /// attempt of a job, as `error_file_lines`).
    #[serde(default)]
    pub usage: Usage,
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

    /// Counts one request with `outcome`.
    pub(crate) fn count(&mut self, outcome: LineOutcome) {
        self.tally(outcome, |n| *n += 1);
    }

    /// Takes back one request counted with `outcome` (its line was replaced).
    pub(crate) fn uncount(&mut self, outcome: LineOutcome) {
        self.tally(outcome, |n| *n = n.saturating_sub(1));
    }

    fn tally(&mut self, outcome: LineOutcome, mut change: impl FnMut(&mut usize)) {
        match outcome {
            LineOutcome::Succeeded => change(&mut self.succeeded),
            LineOutcome::Failed | LineOutcome::FailedTransient | LineOutcome::Unreadable => change(&mut self.failed),
            LineOutcome::Expired => change(&mut self.expired),
            LineOutcome::Missing => change(&mut self.missing),
            LineOutcome::MissingCancelled => {
                change(&mut self.missing);
                change(&mut self.missing_in_cancelled);
            }
            LineOutcome::MissingBatchFailed => {
                change(&mut self.missing);
                change(&mut self.missing_in_failed);
            }
        }
        if outcome.rerunnable() {
            change(&mut self.rerunnable);
        }
    }
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
    let mut answers = Answers::open(plan, results).await?;
    let mut framed = FramedRead::new(input, LineDecoder::new(MAX_LINE_BYTES));
    let mut at = 0usize;
    while let Some(line) = framed.next().await {
        let line = line.map_err(io)?;
        let shard = plan.shard_of(at).ok_or_else(|| changed(line.number))?;
        at += 1;
        let id = input_id(&line)?;
        answers.answer(&id, shard, out).await?;
    }
    if at != plan.requests() {
        return Err(changed(at + 1));
    }
    let summary = answers.rest(out).await?;
    out.flush().await.map_err(io)?;
    Ok(summary)
}

/// The `custom_id` of an input line. The input was checked before it was planned: a line
/// over the limit means it changed; a `custom_id` that cannot be read is said as such.
pub(crate) fn input_id(line: &crate::jsonl::RawLine) -> Result<String> {
    let text = line.text.as_ref().map_err(|_| changed(line.number))?;
    custom_id(text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("the input's custom_id cannot be read: {e}"),
        )
        .with_line(line.number)
    })
}

/// The result files of one merge, indexed: what answers each request. Counts what it writes.
pub(crate) struct Answers<'a> {
    results: &'a [ShardResults],
    hasher: std::hash::RandomState,
    index: ResultIndex,
    readers: Vec<LineReader>,
    summary: MergeSummary,
}

impl<'a> Answers<'a> {
    /// Indexes every file of `results` (one entry per shard of `plan`), and checks that no two
    /// lines answer one `custom_id`.
    pub(crate) async fn open(plan: &ShardPlan, results: &'a [ShardResults]) -> Result<Self> {
        if results.len() != plan.shards.len() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("{} shard results for {} shards", results.len(), plan.shards.len()),
            ));
        }
        let mut files: Vec<&Path> = Vec::new();
        let mut from_errors: Vec<bool> = Vec::new();
        for r in results {
            files.extend(r.files.iter().map(PathBuf::as_path));
            from_errors.extend(r.files.iter().map(|_| false));
            files.extend(r.errors.iter().map(PathBuf::as_path));
            from_errors.extend(r.errors.iter().map(|_| true));
        }
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
        let index = ResultIndex::build(&files, &hasher).await?;
        let mut readers = Vec::with_capacity(files.len());
        for path in &files {
            readers.push(LineReader::new(path)?);
        }
        index.check_duplicates(&mut readers, &files)?;
        let summary = MergeSummary {
            unreadable: index.unreadable,
            error_file_lines: index.entries.iter().filter(|e| from_errors[e.file as usize]).count(),
            ..MergeSummary::default()
        };
        Ok(Self {
            results,
            hasher,
            index,
            readers,
            summary,
        })
    }

    /// Writes to `out` the line answering `id` (a request of shard `shard`), or a line saying
    /// why it has none; returns what it says.
    pub(crate) async fn answer(
        &mut self,
        id: &str,
        shard: usize,
        out: &mut (impl AsyncWrite + Unpin),
    ) -> Result<LineOutcome> {
        for k in self.index.run(self.hasher.hash_one(id)) {
            let entry = self.index.entries[k];
            if entry.used {
                continue;
            }
            let text = self.readers[entry.file as usize].read(entry.offset, entry.len as usize)?;
            let (matches, usage) = match read_head(text) {
                Some(head) => (head.custom_id == id, head.usage),
                // A line kept for its custom_id alone (its outcome `Unreadable`).
                None => (custom_id(text).is_ok_and(|c| c == id), Usage::default()),
            };
            if !matches {
                continue;
            }
            out.write_all(text).await.map_err(io)?;
            out.write_all(b"\n").await.map_err(io)?;
            self.index.entries[k].used = true;
            self.summary.count(entry.outcome);
            self.summary.usage += usage;
            return Ok(entry.outcome);
        }
        let (text, outcome) = no_result(id, &self.results[shard])?;
        out.write_all(&text).await.map_err(io)?;
        self.summary.count(outcome);
        Ok(outcome)
    }

    /// Writes the result lines no request asked for, in file order, after the input's; returns
    /// what the merge wrote.
    pub(crate) async fn rest(mut self, out: &mut (impl AsyncWrite + Unpin)) -> Result<MergeSummary> {
        let mut rest: Vec<Entry> = self.index.entries.iter().filter(|e| !e.used).copied().collect();
        drop(std::mem::take(&mut self.index.entries));
        rest.sort_unstable_by_key(|e| (e.file, e.offset));
        for e in rest {
            let text = self.readers[e.file as usize].read(e.offset, e.len as usize)?;
            out.write_all(text).await.map_err(io)?;
            out.write_all(b"\n").await.map_err(io)?;
            self.summary.unexpected += 1;
            if let Some(head) = read_head(text) {
                self.summary.usage += head.usage;
            }
        }
        // The lines with no custom_id, as the server wrote them (counted in `unreadable`).
        for e in std::mem::take(&mut self.index.raw) {
            let text = self.readers[e.file as usize].read(e.offset, e.len as usize)?;
            out.write_all(text).await.map_err(io)?;
            out.write_all(b"\n").await.map_err(io)?;
        }
        Ok(self.summary)
    }
}

/// The line written for request `id` that has no result line in `shard`'s files, and what it
/// says.
fn no_result(id: &str, shard: &ShardResults) -> Result<(Vec<u8>, LineOutcome)> {
    let (status, code, outcome) = match shard.status.as_str() {
        _ if shard.batch_id.is_empty() => (MISSING, NO_RESULT_CODE, LineOutcome::Missing),
        "expired" => ("expired", EXPIRED_CODE, LineOutcome::Expired),
        "cancelled" => (MISSING, CANCELLED_CODE, LineOutcome::MissingCancelled),
        "failed" => (MISSING, FAILED_BATCH_CODE, LineOutcome::MissingBatchFailed),
        _ => (MISSING, NO_RESULT_CODE, LineOutcome::Missing),
    };
    let message = if shard.batch_id.is_empty() {
        "no batch was created for this request".to_owned()
    } else {
        format!(
            "batch {} ended `{}` without a result for this request",
            shard.batch_id, shard.status
        )
    };
    let line = json!({"custom_id": id, "status": status, "error": {"code": code, "message": message}});
    let mut text = serde_json::to_vec(&line).map_err(|e| Error::new(ErrorKind::Decode, e.to_string()))?;
    text.push(b'\n');
    Ok((text, outcome))
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
        // one line for no request, one unreadable line, and r6's line unreadable but for its
        // custom_id (a status that is not a string).
        let mut a: Vec<String> = (0..24).step_by(2).filter(|i| *i != 4).rev().map(ok).collect();
        a[1] = "{\"custom_id\":\"r20\",\"status\":\"failed\",\"error\":{\"message\":\"bad\"}}".into();
        let r6 = a.iter().position(|l| l.contains("\"r6\"")).unwrap();
        a[r6] = "{\"custom_id\":\"r6\",\"status\":[\"odd\"],\"response\":7}".into();
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
        let text = String::from_utf8(out).unwrap();
        // The server's bytes are never dropped: the line without a custom_id comes last.
        assert_eq!(text.lines().last(), Some("not json"));
        let lines: Vec<serde_json::Value> = text
            .lines()
            .take(25)
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let ids: Vec<&str> = lines.iter().map(|l| l["custom_id"].as_str().unwrap()).collect();
        let mut expected: Vec<String> = (0..24).map(|i| format!("r{i}")).collect();
        expected.push("stranger".into());
        assert_eq!(ids, expected);
        assert_eq!(text.lines().count(), 26);
        assert_eq!(
            text.lines().nth(6),
            Some("{\"custom_id\":\"r6\",\"status\":[\"odd\"],\"response\":7}")
        );
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
                succeeded: 9 + 2,
                failed: 2,
                expired: 10,
                missing: 1,
                unexpected: 1,
                unreadable: 2,
                rerunnable: 11,
                ..MergeSummary::default()
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
