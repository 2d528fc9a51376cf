//! The job's loop: check and plan, set up the first attempt, then rounds of uploads, creates
//! and polls until every batch is done, then the merge. Every step saves the state before the
//! next await, so that dropping the future anywhere leaves a state to resume.

use std::path::{Path, PathBuf};

use super::Job;
use super::events::{JobEvent, ShardRef};
use super::state::{AttemptState, JobState, ShardState};
use crate::error::{Error, ErrorKind, Result};
use crate::merge::MergeSummary;
use crate::shard::{InputCheck, ShardLimits, ShardPlan, plan_shards, write_selection, write_shards};
use crate::wait::{Streak, is_transient};

/// The first attempt: the requests of the input file.
const FIRST: usize = 0;

impl Job {
    pub(super) fn emit(&self, event: JobEvent) {
        if let Some(on_event) = &self.events {
            on_event(&event);
        }
    }

    /// Saves the state.
    pub(super) fn save(&mut self) -> Result<()> {
        let bytes = self.state.to_bytes();
        self.store.save(&bytes).map_err(|e| {
            crate::error::io_error(e).with_context(format!("cannot save the job's state {}", self.store.location()))
        })
    }

    pub(super) fn shard_ref(&self, attempt: usize, index: usize) -> ShardRef {
        let a = &self.state.attempts[attempt];
        ShardRef {
            attempt: a.number,
            index,
            of: a.shards.len(),
        }
    }

    /// The input, checked and planned: once per `Job`.
    pub(super) async fn checked(&mut self) -> Result<&InputCheck> {
        if self.check.is_none() {
            self.emit(JobEvent::Checking);
            let limits = ShardLimits::default().max_requests(self.state.max_requests);
            let check = plan_shards(self.open_input().await?, limits).await?;
            if let Some(plan) = &check.plan {
                self.emit(JobEvent::Planned {
                    requests: plan.requests(),
                    bytes: plan.bytes(),
                    shards: plan.shards.len(),
                });
            }
            self.check = Some(check);
        }
        Ok(self.check.as_ref().expect("set above"))
    }

    /// The input, read in 1 MiB blocks (one hand-off to tokio's blocking pool per block).
    pub(super) async fn open_input(&self) -> Result<tokio::io::BufReader<tokio::fs::File>> {
        let path = &self.paths.input;
        let file = tokio::fs::File::open(path).await.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read the input `{}`: {e}", path.display()),
            )
            .with_source(e)
        })?;
        Ok(tokio::io::BufReader::with_capacity(1 << 20, file))
    }

    /// The plan, once the input has no problem.
    async fn plan(&mut self) -> Result<ShardPlan> {
        let input = self.paths.input.display().to_string();
        let check = self.checked().await?;
        match &check.plan {
            Some(plan) => Ok(plan.clone()),
            None => Err(Error::new(
                ErrorKind::InvalidInput,
                format!("{input} has {} problem(s); nothing was sent", check.problems.len()),
            )),
        }
    }

    /// Runs the job: to its end when `wait`, else one round. On an error before any request
    /// reached a server, the state and parts folder are removed: such a job binds to nothing.
    pub(super) async fn drive(&mut self, wait: bool) -> Result<Option<MergeSummary>> {
        self.emit(JobEvent::Started {
            run_id: self.state.run_id.clone(),
            resumed: self.resumed,
            shards: self.state.attempts.iter().map(|a| a.shards.len()).sum(),
        });
        if self.state.is_finished()
            && let Some(summary) = self.state.merged
        {
            self.remove_parts();
            return Ok(Some(summary));
        }
        let result = self.rounds(wait).await;
        if result.is_err() && !self.state.reached_server() {
            self.forget();
        }
        result
    }

    /// Removes what a job that never reached a server wrote (it is written again if the job
    /// goes on).
    fn forget(&mut self) {
        // Best effort, on the way out with the job's own error: a state left behind binds to
        // nothing and is started again on the next open.
        let _ = self.store.remove();
        self.remove_parts();
        self.resumed = false;
    }

    /// Removes the files the job wrote into its parts folder (see [`remove_parts`]).
    pub(super) fn remove_parts(&self) {
        remove_parts(&self.paths.parts, &self.state);
    }

    async fn rounds(&mut self, wait: bool) -> Result<Option<MergeSummary>> {
        if self.state.pending_merge.is_some() {
            return self.finish_pending().map(Some);
        }
        let (a, selection, plan) = if self.state.attempts.len() > 1 {
            let a = self.state.attempts.len() - 1;
            let (selection, plan) = self.rerun_plan(a).await?;
            (a, Some(selection), plan)
        } else {
            let plan = self.plan().await?;
            self.set_up(&plan)?;
            (FIRST, None, plan)
        };
        self.write_shard_files(a, &plan, selection.as_deref()).await?;
        let mut streak = Streak::default();
        loop {
            match self.round(a).await {
                Ok(()) => streak.reset(),
                Err(e) if wait && is_transient(&e) && self.state.reached_server() => {
                    let (retry_in, failing_for) = match streak.record(self.poll_interval, self.patience) {
                        Ok(next) => next,
                        Err(failing_for) => {
                            return Err(e.with_context(format!(
                                "steps failed for {} s in a row (patience {} s); giving up",
                                failing_for.as_secs(),
                                self.patience.as_secs()
                            )));
                        }
                    };
                    self.emit(JobEvent::TransientError {
                        message: e.to_string(),
                        retry_in,
                        failing_for,
                    });
                    tokio::time::sleep(retry_in).await;
                    continue;
                }
                Err(e) => return Err(e),
            }
            if self.state.attempts[a].is_finished() {
                return match &selection {
                    None => self.merge(&plan).await.map(Some),
                    Some(selection) => self.merge_again(a, selection, &plan).await.map(Some),
                };
            }
            if !wait {
                return Ok(None);
            }
            let active = self.state.attempts[a].shards.iter().filter(|s| s.is_active()).count();
            self.emit(JobEvent::Waiting {
                active,
                next_poll: self.poll_interval,
            });
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    /// Records the plan as the first attempt of a new job, or checks that it is the saved one.
    fn set_up(&mut self, plan: &ShardPlan) -> Result<()> {
        let run_id = self.state.run_id.clone();
        if self.state.attempts.is_empty() {
            let attempt = new_attempt(&run_id, 1, None, plan);
            self.state.attempts.push(attempt);
            self.save()?;
            // From now on, running this job again continues the saved state.
            self.resumed = true;
            return Ok(());
        }
        let saved = &self.state.attempts[FIRST].shards;
        let same = saved.len() == plan.shards.len()
            && saved
                .iter()
                .zip(&plan.shards)
                .all(|(s, p)| s.model == p.model && s.requests == p.requests && s.bytes == p.bytes);
        if !same {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{} no longer splits as run {run_id} recorded; delete {} to start over",
                    self.paths.input.display(),
                    self.store.location()
                ),
            ));
        }
        Ok(())
    }

    /// Writes the shard files of attempt `a` that a pending upload needs (all of them, in one
    /// read of the input, when one is missing or has the wrong size): the input's lines, or
    /// those of `selection` for a rerun.
    async fn write_shard_files(&mut self, a: usize, plan: &ShardPlan, selection: Option<&[u32]>) -> Result<()> {
        let attempt = &self.state.attempts[a];
        let parts = &self.paths.parts;
        let missing = !attempt.cancelled
            && attempt.shards.iter().any(|s| {
                s.file_id.is_none() && std::fs::metadata(parts.join(&s.filename)).map_or(true, |m| m.len() != s.bytes)
            });
        if !missing {
            return Ok(());
        }
        self.create_parts()?;
        let names: Vec<PathBuf> = attempt.shards.iter().map(|s| parts.join(&s.filename)).collect();
        let input = self.open_input().await?;
        match selection {
            None => write_shards(input, plan, |s| names[s.index].clone()).await?,
            Some(selection) => write_selection(input, plan, selection, |s| names[s.index].clone()).await?,
        };
        Ok(())
    }

    /// Creates the parts folder if it is not there.
    pub(super) fn create_parts(&self) -> Result<()> {
        let parts = &self.paths.parts;
        std::fs::create_dir_all(parts).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot create the parts folder `{}`: {e}", parts.display()),
            )
            .with_source(e)
        })
    }

    /// One round over an attempt: upload what is not, create batches up to the active limit,
    /// poll each active batch once (downloading the finished ones).
    async fn round(&mut self, attempt: usize) -> Result<()> {
        let n = self.state.attempts[attempt].shards.len();
        if !self.state.attempts[attempt].cancelled {
            for i in 0..n {
                if self.state.attempts[attempt].shards[i].file_id.is_none() {
                    self.upload(attempt, i).await?;
                }
            }
            for i in 0..n {
                let active = self.state.attempts[attempt]
                    .shards
                    .iter()
                    .filter(|s| s.is_active())
                    .count();
                if active >= self.max_active {
                    break;
                }
                if self.state.attempts[attempt].shards[i].batch_id.is_none() && !self.create(attempt, i).await? {
                    break;
                }
            }
        }
        for i in 0..n {
            if self.state.attempts[attempt].shards[i].is_active() {
                self.poll(attempt, i).await?;
            }
        }
        Ok(())
    }
}

/// Attempt `number` of run `run_id`, with a shard per shard of `plan`, nothing sent yet; its
/// shard files are `<run>-shard-NNNN.jsonl` (the first attempt) or `<run>-aN-shard-NNNN.jsonl`.
pub(super) fn new_attempt(run_id: &str, number: u32, lines: Option<Vec<[usize; 2]>>, plan: &ShardPlan) -> AttemptState {
    let prefix = if number == 1 {
        run_id.to_owned()
    } else {
        format!("{run_id}-a{number}")
    };
    let shards = plan
        .shards
        .iter()
        .map(|s| ShardState {
            index: s.index,
            model: s.model.clone(),
            requests: s.requests,
            bytes: s.bytes,
            filename: format!("{prefix}-shard-{:04}.jsonl", s.index + 1),
            ..ShardState::default()
        })
        .collect();
    AttemptState {
        number,
        cancelled: false,
        lines,
        shards,
        merged: None,
    }
}

/// Removes the files `state`'s job wrote into `parts` (shard files and downloads), and the
/// folder once empty (a folder of the caller's with other files in it stays).
pub(super) fn remove_parts(parts: &Path, state: &JobState) {
    let names = state
        .attempts
        .iter()
        .flat_map(|a| &a.shards)
        .flat_map(|s| std::iter::once(&s.filename).chain(&s.downloaded));
    let mut failures = Vec::new();
    for name in names {
        match std::fs::remove_file(parts.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    match std::fs::remove_dir(parts) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.kind() == std::io::ErrorKind::DirectoryNotEmpty => {}
        Err(e) => failures.push(e.to_string()),
    }
    // The output is written and recorded (or the job is on its way out with its own error, or
    // starts again): files left behind are not worth failing for. Say so.
    if !failures.is_empty() {
        tracing::warn!(parts = %parts.display(), "cannot remove the job's parts: {}", failures.join("; "));
    }
}
