//! [`JobBuilder`]: a job's options, and opening it (checking its files, locking and reading its
//! state, deciding whether it resumes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::Job;
use super::events::{EventFn, JobEvent};
use super::paths::JobPaths;
use super::state::{InputIdentity, JobState};
use super::store::{FileStore, StateStore, with_suffix};
use crate::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::jsonl::{MAX_REQUESTS, MIN_REQUESTS};

/// The most batches a job keeps active by default: 10, the account's limit of concurrent
/// batches (<https://inference-docs.cerebras.ai/capabilities/batch>).
pub const DEFAULT_MAX_ACTIVE: usize = 10;

/// How long a job waits between polls of its active batches by default: 10 s.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// Options of a [`Job`], then [`open`](Self::open).
pub struct JobBuilder {
    input: PathBuf,
    output: PathBuf,
    parts: Option<PathBuf>,
    store: Option<Box<dyn StateStore>>,
    max_active: usize,
    max_requests: usize,
    poll_interval: Duration,
    patience: Duration,
    metadata: BTreeMap<String, String>,
    events: Option<EventFn>,
}

impl std::fmt::Debug for JobBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobBuilder")
            .field("input", &self.input)
            .field("output", &self.output)
            .field("max_active", &self.max_active)
            .field("max_requests", &self.max_requests)
            .field("poll_interval", &self.poll_interval)
            .field("patience", &self.patience)
            .finish_non_exhaustive()
    }
}

impl JobBuilder {
    pub(super) fn new(input: &Path, output: &Path) -> Self {
        Self {
            input: input.to_owned(),
            output: output.to_owned(),
            parts: None,
            store: None,
            max_active: DEFAULT_MAX_ACTIVE,
            max_requests: MAX_REQUESTS,
            poll_interval: DEFAULT_POLL_INTERVAL,
            patience: crate::DEFAULT_PATIENCE,
            metadata: BTreeMap::new(),
            events: None,
        }
    }

    /// At most `n` batches active at once (at least 1; default [`DEFAULT_MAX_ACTIVE`]). May
    /// change between runs of a job.
    pub fn max_active(mut self, n: usize) -> Self {
        self.max_active = n.max(1);
        self
    }

    /// At most `n` requests per batch, kept within 10 to 50,000 (default 50,000). Fixed for the
    /// life of a job: a saved job resumes only with the same value.
    pub fn max_requests(mut self, n: usize) -> Self {
        self.max_requests = n.clamp(MIN_REQUESTS, MAX_REQUESTS);
        self
    }

    /// How long [`Job::run`] waits between polls of the active batches (default
    /// [`DEFAULT_POLL_INTERVAL`]; at least 10 ms). May change between runs.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How long [`Job::run`] rides out transient failures in a row (default
    /// [`DEFAULT_PATIENCE`](crate::DEFAULT_PATIENCE), 1 hour): a step that fails with no answer
    /// or an HTTP 408, 429 or 5xx (after the client's own retries) is tried again in the next
    /// round, after a pause that doubles from the poll interval up to 5 minutes, reported as
    /// [`JobEvent::TransientError`]. Only once the server has answered the job (a mistyped
    /// base URL fails at once). `Duration::ZERO` ends the run on the first such failure; any
    /// other error ends it at once. May change between runs.
    pub fn patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// Metadata every batch of the job gets (beside the job's own keys,
    /// [`RUN_KEY`](super::RUN_KEY), [`SHARD_KEY`](super::SHARD_KEY) and
    /// [`ATTEMPT_KEY`](super::ATTEMPT_KEY)); repeatable. Saved with a new job: a resumed job
    /// keeps the metadata it started with.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Keeps the state in `store` (default: [`FileStore::beside`] the output).
    pub fn state_store(mut self, store: impl StateStore + 'static) -> Self {
        self.store = Some(Box::new(store));
        self
    }

    /// Keeps shard files and downloads in `dir` (default: `<output>.parts` beside the output).
    /// Fixed for the life of a job.
    pub fn parts_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.parts = Some(dir.into());
        self
    }

    /// Calls `on_event` with every [`JobEvent`], in order, from the job's future (keep it
    /// quick: draw, log or send to a channel).
    pub fn on_event(mut self, on_event: impl Fn(&JobEvent) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(on_event));
        self
    }

    /// Checks the job's output paths as [`open`](Self::open) does, and nothing else: no
    /// lock, no state read, nothing written. What a dry run uses to refuse an output the real
    /// run would refuse.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when the output cannot be written: it names no file, is a
    /// directory or the input, or its folder is missing or read-only (naming what is wrong).
    pub fn check_paths(&self) -> Result<()> {
        let parts = self
            .parts
            .clone()
            .unwrap_or_else(|| with_suffix(&self.output, ".parts"));
        JobPaths::check(self.input.clone(), self.output.clone(), parts).map(|_| ())
    }

    /// Opens the job: checks its output paths, locks its state and reads it. A saved state
    /// is resumed when it matches (see the [module](super)); sends nothing.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::InvalidInput`] when the output cannot be written (naming what is wrong
    ///   with it), or a saved state does not match the input, the client's base URL or
    ///   [`max_requests`](Self::max_requests) (saying how to start over), or cannot be read;
    /// - [`ErrorKind::Locked`] when another job holds the state, naming it;
    /// - [`ErrorKind::Io`] when the input or the state cannot be read.
    pub fn open(self, client: Client) -> Result<Job> {
        let parts = self.parts.unwrap_or_else(|| with_suffix(&self.output, ".parts"));
        let paths = JobPaths::check(self.input, self.output, parts)?;
        let mut store = self.store.unwrap_or_else(|| Box::new(FileStore::beside(&paths.output)));
        let location = store.location();
        store.lock().map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock => Error::new(ErrorKind::Locked, e.to_string()),
            _ => crate::error::io_error(e).with_context(format!("cannot lock the job's state {location}")),
        })?;
        let saved = store
            .load()
            .map_err(|e| crate::error::io_error(e).with_context(format!("cannot read the job's state {location}")))?
            .map(|bytes| JobState::from_bytes(&bytes, &location))
            .transpose()?;
        // A state that never reached a server (or only one that never answered) binds to
        // nothing: its files go, and the job starts again.
        let saved = match saved {
            Some(state) if !state.binds(client.base_url()) => {
                super::engine::remove_parts(&paths.parts, &state);
                None
            }
            other => other,
        };
        let resumed = saved.is_some();
        let state = match saved {
            Some(state) if state.is_finished() => state,
            Some(state) => {
                resumable(&state, &paths, &client, self.max_requests, &location)?;
                state
            }
            None => JobState::new(
                InputIdentity::of(&paths.input)?,
                client.base_url().to_owned(),
                self.metadata,
                self.max_requests,
            ),
        };
        Ok(Job {
            client,
            paths,
            store,
            state,
            resumed,
            max_active: self.max_active,
            poll_interval: self.poll_interval,
            patience: self.patience,
            events: self.events,
            check: None,
        })
    }
}

/// Whether `state` may be resumed with these paths and options; else why not.
pub(super) fn resumable(
    state: &JobState,
    paths: &JobPaths,
    client: &Client,
    max_requests: usize,
    location: &str,
) -> Result<()> {
    let start_over = format!("delete {location} (and {}) to start a new run", paths.parts.display());
    let refuse = |message: String| Err(Error::new(ErrorKind::InvalidInput, format!("{message}; {start_over}")));
    if !InputIdentity::of(&paths.input)?.same_as(&state.input) {
        return refuse(format!(
            "{} changed since run {} started from it",
            paths.input.display(),
            state.run_id
        ));
    }
    if state.base_url != client.base_url() {
        return refuse(format!(
            "run {} runs against {}, not {}",
            state.run_id,
            state.base_url,
            client.base_url()
        ));
    }
    if state.max_requests != max_requests {
        return refuse(format!(
            "run {} splits batches at {} requests, not {max_requests}",
            state.run_id, state.max_requests
        ));
    }
    Ok(())
}
