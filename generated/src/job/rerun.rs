//! Running again what a finished job left unfinished: [`Job::rerun_unfinished`] reads the
//! output, picks the requests worth another run (the rule of
//! [`is_rerunnable`](crate::merge::is_rerunnable)), and records them as a new attempt, which
//! [`Job::run`] then uploads, creates, waits for and merges like the first, resumably. The merge
//! replaces only their lines: every other line of the output is copied byte for byte.

use futures::StreamExt;
use tokio_util::codec::FramedRead;

use super::Job;
use super::engine::new_attempt;
use super::events::JobEvent;
use super::state::{InputIdentity, lines_of, ranges_of};
use crate::error::{Error, ErrorKind, Result};
use crate::jsonl::{LineDecoder, MAX_RESULT_LINE_BYTES, decode_line};
use crate::merge::LineOutcome;
use crate::shard::{SelectionPlan, ShardLimits, plan_selection};

/// What [`Job::rerun_unfinished`] planned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RerunPlan {
    /// The new attempt's number (2 for the first rerun); `None` when no batch could be made of
    /// the unfinished requests (all of them are in [`left_out`](Self::left_out)).
    pub attempt: Option<u32>,
    /// The requests it runs again.
    pub requests: usize,
    /// Their size in bytes.
    pub bytes: u64,
    /// Its batches.
    pub shards: usize,
    /// Unfinished requests it cannot run, by model: fewer than 10 of that model, the API's
    /// least number of requests in a batch. Their lines stay as they are.
    pub left_out: Vec<(String, usize)>,
}

fn refuse(message: String) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}

impl Job {
    /// Plans a rerun of the requests the output left unfinished: those that expired, have no
    /// result, or failed for a transient cause (see [`is_rerunnable`](crate::merge::is_rerunnable)
    /// and the table in [`merge`](crate::merge)). Records them as a new attempt (saved at once)
    /// that [`run`](Self::run) or [`advance`](Self::advance) then carries out and merges into
    /// the same output, in the input's order, leaving every other line byte for byte as it is.
    /// Repeat until it returns `None`, or a plan with no attempt (what is left is too few of
    /// each model for a batch). Sends nothing.
    ///
    /// Returns `None` when no request is worth running again.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::InvalidInput`] when the job is not finished (run it first), or the input
    ///   or the output changed since the last merge (a rerun copies the output's other lines,
    ///   and reads its requests from the input);
    /// - [`ErrorKind::Io`] when the input or output cannot be read, or the state saved.
    pub async fn rerun_unfinished(&mut self) -> Result<Option<RerunPlan>> {
        let Some((mut rerun, SelectionPlan { selection, plan, .. })) = self.plan_rerun().await? else {
            return Ok(None);
        };
        if selection.is_empty() {
            return Ok(Some(rerun));
        }
        let number = self.state.attempts.last().map_or(1, |a| a.number) + 1;
        let attempt = new_attempt(&self.state.run_id, number, Some(ranges_of(&selection)), &plan);
        self.state.attempts.push(attempt);
        self.save()?;
        self.resumed = true;
        rerun.attempt = Some(number);
        self.emit(JobEvent::RerunPlanned {
            attempt: number,
            requests: rerun.requests,
            bytes: rerun.bytes,
            shards: rerun.shards,
        });
        Ok(Some(rerun))
    }

    /// What [`rerun_unfinished`](Self::rerun_unfinished) would plan now, recording nothing:
    /// its [`attempt`](RerunPlan::attempt) is always `None`, and its
    /// [`shards`](RerunPlan::shards) says whether a rerun would make any batch. Reads the
    /// output and the input, as a rerun does.
    ///
    /// # Errors
    ///
    /// As [`rerun_unfinished`](Self::rerun_unfinished).
    pub async fn preview_rerun(&self) -> Result<Option<RerunPlan>> {
        Ok(self.plan_rerun().await?.map(|(rerun, _)| rerun))
    }

    /// The checks and the plan of a rerun, shared by
    /// [`rerun_unfinished`](Self::rerun_unfinished) and [`preview_rerun`](Self::preview_rerun):
    /// `None` when nothing is worth running again.
    async fn plan_rerun(&self) -> Result<Option<(RerunPlan, SelectionPlan)>> {
        if !self.state.is_finished() {
            return Err(refuse(format!(
                "run {} is not finished: run it to its end before rerunning what it left unfinished",
                self.state.run_id
            )));
        }
        self.check_unchanged()?;
        let selection = self.unfinished().await?;
        if selection.is_empty() {
            return Ok(None);
        }
        let limits = ShardLimits::default().max_requests(self.state.max_requests);
        let planned = plan_selection(self.open_input().await?, &selection, limits).await?;
        let rerun = RerunPlan {
            attempt: None,
            requests: planned.plan.requests(),
            bytes: planned.plan.bytes(),
            shards: planned.plan.shards.len(),
            left_out: planned.left_out.clone(),
        };
        Ok(Some((rerun, planned)))
    }

    /// Refuses a rerun when the input or the output is not what the last merge saw.
    pub(super) fn check_unchanged(&self) -> Result<()> {
        let state = self.store.location();
        if !InputIdentity::of(&self.paths.input)?.same_as(&self.state.input) {
            return Err(refuse(format!(
                "{} changed since run {} read it; a rerun cannot tell which requests are whose (delete {state} to start a new run)",
                self.paths.input.display(),
                self.state.run_id
            )));
        }
        let output = &self.paths.output;
        let now = InputIdentity::of(output).map_err(|e| {
            e.with_context(format!(
                "the output `{}` of run {} is needed to rerun what it left unfinished",
                output.display(),
                self.state.run_id
            ))
        })?;
        if let Some(written) = &self.state.output
            && !now.same_as(written)
        {
            return Err(refuse(format!(
                "{} changed since run {} wrote it (size or modification time); a rerun copies its lines, so it must be as written (delete {state} to start a new run)",
                output.display(),
                self.state.run_id
            )));
        }
        Ok(())
    }

    /// The 0-based input lines whose output line is worth running again.
    async fn unfinished(&self) -> Result<Vec<u32>> {
        let requests = self.state.merged.map_or(0, |m| m.requests());
        let file = tokio::fs::File::open(&self.paths.output).await.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read the output `{}`: {e}", self.paths.output.display()),
            )
            .with_source(e)
        })?;
        let reader = tokio::io::BufReader::with_capacity(1 << 20, file);
        let mut lines = FramedRead::new(reader, LineDecoder::new(MAX_RESULT_LINE_BYTES));
        let mut selection = Vec::new();
        let mut at = 0usize;
        while at < requests {
            let Some(line) = lines.next().await else {
                break;
            };
            let line = line.map_err(crate::error::io_error)?;
            // A line that does not read as a result is one the merge kept as the server sent
            // it (an unreadable result answers its request in place; see `merge`): it is not
            // worth another run, and edits of the output are caught by `check_unchanged`.
            if let Ok(text) = &line.text
                && let Ok(decoded) = decode_line(line.number, text)
                && LineOutcome::of(&decoded).rerunnable()
            {
                selection.push(at as u32);
            }
            at += 1;
        }
        if at != requests {
            return Err(refuse(format!(
                "{} has {at} result lines where run {} wrote {requests}; the output changed",
                self.paths.output.display(),
                self.state.run_id
            )));
        }
        Ok(selection)
    }

    /// The plan of attempt `a` (a rerun), as recomputed from the input: the same as saved, or
    /// the input changed.
    pub(super) async fn rerun_plan(&mut self, a: usize) -> Result<(Vec<u32>, crate::shard::ShardPlan)> {
        // Only the first attempt runs every line: a rerun without its lines was not saved by a
        // job, and running it as "no line" would merge nothing and call the job finished.
        let Some(ranges) = self.state.attempts[a].lines.clone() else {
            return Err(refuse(format!(
                "{}: attempt {} of run {} is a rerun but lists no lines; delete it to start over",
                self.store.location(),
                self.state.attempts[a].number,
                self.state.run_id
            )));
        };
        let selection = lines_of(&ranges);
        let limits = ShardLimits::default().max_requests(self.state.max_requests);
        let planned = plan_selection(self.open_input().await?, &selection, limits).await?;
        let saved = &self.state.attempts[a].shards;
        let same = planned.selection == selection
            && saved.len() == planned.plan.shards.len()
            && saved
                .iter()
                .zip(&planned.plan.shards)
                .all(|(s, p)| s.model == p.model && s.requests == p.requests && s.bytes == p.bytes);
        if !same {
            return Err(refuse(format!(
                "{} no longer splits as attempt {} of run {} recorded; delete {} to start over",
                self.paths.input.display(),
                self.state.attempts[a].number,
                self.state.run_id,
                self.store.location()
            )));
        }
        Ok((selection, planned.plan))
    }
}
