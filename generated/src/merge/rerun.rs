//! Merging a rerun: the results of the requests an attempt ran again, into the output an earlier
//! merge wrote. Every other line of that output is copied byte for byte, so a request that
//! succeeded before keeps its line exactly.

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::FramedRead;

use super::{Answers, LineOutcome, MergeSummary, ShardResults, input_id, io};
use crate::error::{Error, ErrorKind, Result};
use crate::jsonl::{LineDecoder, MAX_LINE_BYTES, MAX_RESULT_LINE_BYTES, RawLine, decode_line};
use crate::shard::ShardPlan;

/// The output an earlier merge wrote: its lines (one per request of the input, in order, then
/// the unexpected ones), and what they hold.
pub(crate) struct Previous<R> {
    pub(crate) lines: R,
    pub(crate) summary: MergeSummary,
}

fn changed(what: &str, line: usize) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("{what} does not match the rerun's plan; delete the job's state to start over"),
    )
    .with_line(line)
}

/// The text of a line, or an error naming it.
fn text_of(line: &RawLine, what: &str) -> Result<Vec<u8>> {
    line.text
        .as_ref()
        .map(|t| t.to_vec())
        .map_err(|len| changed(&format!("{what} has a line of over {len} bytes that"), line.number))
}

/// Writes to `out` the previous output with the lines of the requests in `selection` (0-based
/// input lines, ascending) replaced by their results from `results` (one per shard of `plan`,
/// a plan of the selected lines in their order), then the previous output's unexpected lines,
/// then this merge's. Returns what this merge wrote for the selected requests, and what the
/// new output holds.
///
/// # Errors
///
/// As [`merge_results`](super::merge_results); [`ErrorKind::InvalidInput`] when the input or
/// the previous output does not match (a line's `custom_id` differs, a line is missing).
pub(crate) async fn merge_rerun(
    input: impl AsyncRead + Unpin,
    previous: Previous<impl AsyncRead + Unpin>,
    selection: &[u32],
    plan: &ShardPlan,
    results: &[ShardResults],
    out: &mut (impl AsyncWrite + Unpin),
) -> Result<(MergeSummary, MergeSummary)> {
    if selection.len() != plan.requests() {
        return Err(changed("the rerun's plan", 0));
    }
    let mut answers = Answers::open(plan, results).await?;
    let mut output = previous.summary;
    let mut requests = FramedRead::new(input, LineDecoder::new(MAX_LINE_BYTES));
    let mut before = FramedRead::new(previous.lines, LineDecoder::new(MAX_RESULT_LINE_BYTES));
    let mut next = 0usize;
    let mut at = 0u32;
    while let Some(request) = requests.next().await {
        let request = request.map_err(io)?;
        let Some(old) = before.next().await.transpose().map_err(io)? else {
            return Err(changed(
                "the output (it has fewer lines than the input)",
                request.number,
            ));
        };
        let old_text = text_of(&old, "the output")?;
        if selection.get(next) != Some(&at) {
            out.write_all(&old_text).await.map_err(io)?;
            out.write_all(b"\n").await.map_err(io)?;
            at += 1;
            continue;
        }
        let id = input_id(&request)?;
        let old_line = decode_line(old.number, &old_text).map_err(|_| changed("the output", old.number))?;
        if old_line.custom_id() != id {
            return Err(changed(
                &format!(
                    "the output (it answers {:?} where the input asks {id:?})",
                    old_line.custom_id()
                ),
                old.number,
            ));
        }
        output.uncount(LineOutcome::of(&old_line));
        let shard = plan
            .shard_of(next)
            .ok_or_else(|| changed("the input", request.number))?;
        output.count(answers.answer(&id, shard, out).await?);
        next += 1;
        at += 1;
    }
    if next != selection.len() {
        return Err(changed("the input", at as usize + 1));
    }
    while let Some(old) = before.next().await {
        let old = old.map_err(io)?;
        out.write_all(&text_of(&old, "the output")?).await.map_err(io)?;
        out.write_all(b"\n").await.map_err(io)?;
    }
    let attempt = answers.rest(out).await?;
    out.flush().await.map_err(io)?;
    output.unexpected += attempt.unexpected;
    output.unreadable += attempt.unreadable;
    output.error_file_lines += attempt.error_file_lines;
    output.usage += attempt.usage;
    Ok((attempt, output))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::{ShardLimits, plan_shards};

    fn request(i: usize) -> String {
        format!(
            "{{\"custom_id\":\"r{i}\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{{\"model\":\"m\",\"messages\":[]}}}}\n"
        )
    }

    #[tokio::test]
    async fn a_rerun_replaces_only_its_lines_and_keeps_every_other_byte() {
        let input: String = (0..12).map(request).collect();
        // The previous output: r3 expired, r5 failed with a 429; a stranger at the end.
        let mut previous = String::new();
        for i in 0..12 {
            let line = match i {
                3 => r#"{"custom_id":"r3","status":"expired","error":{"code":"timeout","message":"m"}}"#.to_owned(),
                5 => r#"{"id":"x","custom_id":"r5","response":{"status_code":429,"body":{}},"error":null}"#.to_owned(),
                _ => format!(
                    r#"{{"custom_id":"r{i}","status":"succeeded","response":{{"usage":{{"total_tokens":5}}}}}}"#
                ),
            };
            previous.push_str(&line);
            previous.push('\n');
        }
        previous.push_str("{\"custom_id\":\"stranger\",\"status\":\"succeeded\"}\n");
        let summary = MergeSummary {
            succeeded: 10,
            failed: 1,
            expired: 1,
            unexpected: 1,
            rerunnable: 2,
            ..MergeSummary::default()
        };
        // The rerun: a plan of the two selected requests (a batch of 10 needs more lines, so
        // the plan's limits are lowered for the test).
        let selected: String = [3, 5].iter().map(|&i| request(i)).collect();
        let limits = ShardLimits {
            min_requests: 1,
            ..ShardLimits::default()
        };
        let plan = plan_shards(std::io::Cursor::new(selected.as_bytes()), limits)
            .await
            .unwrap()
            .plan
            .unwrap();
        let dir = std::env::temp_dir().join(format!("cerebras-batch-rerun-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let answer = "{\"custom_id\":\"r3\",\"status\":\"succeeded\",\"response\":{\"usage\":{\"prompt_tokens\":2,\"total_tokens\":3}}}\n";
        std::fs::write(dir.join("out.jsonl"), answer).unwrap();
        let results = [ShardResults::new("batch_2", "expired", vec![dir.join("out.jsonl")])];
        let mut out = Vec::new();
        let previous_lines = Previous {
            lines: previous.as_bytes(),
            summary,
        };
        let (attempt, output) = merge_rerun(input.as_bytes(), previous_lines, &[3, 5], &plan, &results, &mut out)
            .await
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let before: Vec<&str> = previous.lines().collect();
        for i in (0..13).filter(|i| ![3, 5].contains(i)) {
            assert_eq!(lines[i], before[i], "line {} kept byte for byte", i + 1);
        }
        assert_eq!(lines[3], answer.trim_end());
        assert!(
            lines[5].contains("\"status\":\"expired\"") && lines[5].contains("batch_expired"),
            "{}",
            lines[5]
        );
        assert_eq!(lines.len(), 13);
        assert_eq!((attempt.succeeded, attempt.expired, attempt.requests()), (1, 1, 2));
        assert_eq!((attempt.usage.lines, attempt.usage.total_tokens), (1, 3));
        assert_eq!(
            (
                output.succeeded,
                output.failed,
                output.expired,
                output.rerunnable,
                output.unexpected
            ),
            (11, 0, 1, 1, 1)
        );
        // A previous output that does not answer the input line by line is refused.
        let swapped = previous.replace("\"r3\"", "\"rX\"");
        let results = [ShardResults::new("batch_2", "completed", vec![dir.join("out.jsonl")])];
        let e = merge_rerun(
            input.as_bytes(),
            Previous {
                lines: swapped.as_bytes(),
                summary,
            },
            &[3, 5],
            &plan,
            &results,
            &mut Vec::new(),
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(
            e.to_string().contains("it answers \"rX\" where the input asks \"r3\""),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
