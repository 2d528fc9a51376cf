//! A batch job: a request file of any size run to one merged results file, resumable from any
//! point, in bounded memory.
//!
//! [`Job`] does, in order, with the state saved after every step:
//!
//! 1. **check** the input, every line, naming each bad one (nothing is sent when one is bad);
//! 2. **plan** its batches within the limits (50,000 requests and 200 MB per batch, one model
//!    each), balanced so that none falls under 10 requests ([`shard`](crate::shard));
//! 3. **upload** each batch's file, named `<run>-shard-NNNN.jsonl`;
//! 4. **create** its batch (metadata `cerebras_batch_run`, `cerebras_batch_shard` and
//!    `cerebras_batch_attempt`), keeping at most [`JobBuilder::max_active`] active;
//! 5. **wait**, polling the active batches;
//! 6. **download** each finished batch's output and error files;
//! 7. **merge** them into the output, one line per request in the input's order
//!    ([`merge`](crate::merge)), written whole and then renamed into place.
//!
//! A step that fails for a transient cause (no answer, a 408, a 429 or a 5xx, after the
//! client's own retries) is tried again for [`JobBuilder::patience`] of failures in a row.
//! Once merged, [`Job::rerun_unfinished`] plans the requests worth another run as a new
//! attempt, which [`Job::run`] carries out the same way and merges in place (see
//! [`rerun_unfinished`](Job::rerun_unfinished)).
//!
//! ```no_run
//! # async fn run() -> cerebras_batch::Result<()> {
//! use cerebras_batch::Client;
//! use cerebras_batch::job::{Job, JobEvent};
//!
//! let client = Client::from_env()?;
//! let mut job = Job::builder("requests.jsonl", "results.jsonl")
//!     .metadata("team", "evals")
//!     .on_event(|event| {
//!         if let JobEvent::BatchStatus { shard, status, changed: true, .. } = event {
//!             println!("batch {}/{}: {status}", shard.index + 1, shard.of);
//!         }
//!     })
//!     .open(client)?; // the state in results.jsonl.state.json, locked; resumed if it exists
//! let summary = job.run().await?;
//! println!("{} succeeded, {} failed", summary.succeeded, summary.failed);
//! # Ok(()) }
//! ```
//!
//! # Resuming, and nothing twice
//!
//! Drop the future of [`Job::run`] at any await (Ctrl-C, a timeout, a shutdown), or kill the
//! process, and open the job again with the same paths: it continues where it stopped. It
//! never uploads a file or creates a batch twice: before sending an upload or a create it saves
//! that it did, and when it finds one sent but not answered, it first looks on the server for
//! a file of that name and size, or a batch with its metadata. That lookup failing is an
//! error, never "not found". A request refused by the server (a 4xx) or a connection that was
//! never made is certainly not carried out, and is forgotten.
//!
//! A job resumes only on the same input (size and modification time), server and batch size;
//! otherwise [`JobBuilder::open`] refuses, saying how to start over. A saved state that never
//! reached a server (nothing was sent, or every send certainly failed: a mistyped base URL)
//! binds to nothing: it is started again with the options given; and a job that fails before
//! reaching a server removes its state and parts folder.
//!
//! Two jobs on one state would interleave their uploads and batches: the state is locked
//! (through `<state>.lock`, an operating-system lock released when the process ends), and a
//! second [`JobBuilder::open`] fails with [`ErrorKind::Locked`](crate::ErrorKind::Locked),
//! naming the holder's process id, host and start time.
//!
//! # Files
//!
//! Beside the output `RESULTS`: `RESULTS.state.json` (the state, with [`FileStore`]; any
//! [`StateStore`] can keep it elsewhere), `RESULTS.state.json.lock` while the job is open, and
//! `RESULTS.parts/` (each batch's file, and its downloads) until the merge. The output is
//! checked before anything is sent or written: a directory, `/`, the input itself or a folder
//! that cannot be written is refused, and nothing is left behind.
//!
//! # The state (version 2)
//!
//! JSON, a few hundred bytes per batch:
//!
//! ```json
//! {
//!   "version": 2,
//!   "run_id": "cbr19ac53d3fdd5258",
//!   "started_at": 1764440343,
//!   "input": {"path": "requests.jsonl", "bytes": 12175, "modified_ns": 1764440300000000000},
//!   "base_url": "https://api.cerebras.ai",
//!   "metadata": {"team": "evals"},
//!   "max_requests": 50000,
//!   "attempts": [{
//!     "number": 1,
//!     "cancelled": false,
//!     "shards": [{
//!       "index": 0, "model": "llama3.1-8b", "requests": 60, "bytes": 12175,
//!       "filename": "cbr19ac53d3fdd5258-shard-0001.jsonl",
//!       "upload_sent": true, "file_id": "file-abc",
//!       "create_sent": true, "batch_id": "batch_abc",
//!       "status": "completed", "counts": {"completed": 59, "failed": 1, "total": 60},
//!       "downloaded": ["cbr19ac53d3fdd5258-shard-0001.jsonl.output.jsonl"], "done": true
//!     }],
//!     "merged": {"succeeded": 59, "failed": 1, "expired": 0, "missing": 0, "unexpected": 0, "unreadable": 0,
//!                "rerunnable": 0, "missing_in_cancelled": 0, "missing_in_failed": 0, "error_file_lines": 1,
//!                "usage": {"lines": 59, "prompt_tokens": 177, "completion_tokens": 118, "total_tokens": 295}}
//!   }],
//!   "merged": {"succeeded": 59, "failed": 1, "...": "as the attempt's, for the whole output"},
//!   "output": {"path": "results.jsonl", "bytes": 30211, "modified_ns": 1764440400000000000}
//! }
//! ```
//!
//! A rerun's attempt adds `"lines": [[3, 7], [12, 12]]`: the input's lines it runs (1-based,
//! both ends included). `JobState::attempt_of` says which attempt wrote each line of the output.
//!
//! See [`JobState`] for each field. A state of version 1 (written by the `cerebras-batch`
//! command of 0.2) is read and resumed.
//!
//! # Memory
//!
//! A job holds a few bytes per request (a shard number, and while checking or merging a hash
//! of its `custom_id` and where its result is: about 30 bytes), never requests or results:
//! a 1,200,000-line job peaks well under 128 MiB (see the README's performance section).

mod builder;
mod collect;
mod engine;
mod events;
mod lock;
mod paths;
mod recover;
mod rerun;
mod state;
mod steps;
mod store;

use std::path::Path;
use std::time::Duration;

pub use builder::{DEFAULT_MAX_ACTIVE, DEFAULT_POLL_INTERVAL, JobBuilder};
pub use events::{JobEvent, ResultFile, ShardRef};
pub use recover::{ATTEMPT_KEY, RUN_KEY, SHARD_KEY};
pub use rerun::RerunPlan;
pub use state::{AttemptState, InputIdentity, JobState, PendingMerge, STATE_VERSION, ShardState};
pub use store::{FileStore, StateStore};

use crate::Client;
use crate::error::Result;
use crate::merge::MergeSummary;
use crate::shard::InputCheck;
use events::EventFn;
use paths::JobPaths;

/// A batch job: a request file run to one merged results file, resumably (see the
/// [module](self)). Open one with [`Job::builder`]; it holds its state's lock until dropped.
pub struct Job {
    client: Client,
    paths: JobPaths,
    store: Box<dyn StateStore>,
    state: JobState,
    resumed: bool,
    max_active: usize,
    poll_interval: Duration,
    patience: Duration,
    events: Option<EventFn>,
    /// The input, checked and planned (once).
    check: Option<InputCheck>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("run_id", &self.state.run_id)
            .field("input", &self.paths.input)
            .field("output", &self.paths.output)
            .field("state", &self.store.location())
            .finish_non_exhaustive()
    }
}

/// What [`Job::cancel`] did to one batch.
#[derive(Debug)]
#[non_exhaustive]
pub struct CancelOutcome {
    /// The shard.
    pub shard: ShardRef,
    /// Its batch.
    pub batch_id: String,
    /// The status the cancel answered (normally `cancelling`), or why it failed.
    pub result: Result<String>,
}

impl Job {
    /// A job that runs the requests of `input` (a JSONL request file of any size) to `output`.
    pub fn builder(input: impl AsRef<Path>, output: impl AsRef<Path>) -> JobBuilder {
        JobBuilder::new(input.as_ref(), output.as_ref())
    }

    /// The run id that names the job on the server (`cbr…`).
    pub fn run_id(&self) -> &str {
        &self.state.run_id
    }

    /// Everything the job knows, as saved.
    pub fn state(&self) -> &JobState {
        &self.state
    }

    /// Whether the job continues a saved state.
    pub fn is_resumed(&self) -> bool {
        self.resumed
    }

    /// The results file it writes.
    pub fn output(&self) -> &Path {
        &self.paths.output
    }

    /// The folder of its shard files and downloads (removed after the merge).
    pub fn parts_dir(&self) -> &Path {
        &self.paths.parts
    }

    /// Where its state is ([`StateStore::location`]).
    pub fn state_location(&self) -> String {
        self.store.location()
    }

    /// Checks the input and plans its batches, once per `Job` (sends nothing, writes nothing):
    /// the plan, or every problem, each naming its line.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the input cannot be read. The problems of
    /// the file are in the result.
    pub async fn check(&mut self) -> Result<&InputCheck> {
        self.checked().await
    }

    /// Runs the job to its end: what [`advance`](Self::advance) does, again every poll
    /// interval, until the output is written. Returns what the output holds. Dropping the
    /// future at any point leaves a state this job (or a new one) resumes.
    ///
    /// A job already merged returns its summary without reading anything.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the input has
    ///   problems (nothing is sent; [`check`](Self::check) lists them) or no longer matches
    ///   the saved plan;
    /// - any error of an upload, a create, a poll, a lookup or a download, with the shard it
    ///   was for; [`ErrorKind::Io`](crate::ErrorKind::Io) for the files;
    /// - [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when two result lines answer one
    ///   request (see [`merge_results`](crate::merge::merge_results)).
    ///
    /// After an error, running again resumes.
    pub async fn run(&mut self) -> Result<MergeSummary> {
        let summary = self.drive(true).await?;
        Ok(summary.expect("a job run to its end is merged"))
    }

    /// Does what can be done now without waiting: checks and plans (the first time),
    /// uploads, creates batches up to the active limit, polls each active batch once,
    /// downloads the finished ones, and merges when all are. Returns the merged summary once
    /// the output is written, `None` before. For a program (or a cron job) that comes back
    /// later.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    pub async fn advance(&mut self) -> Result<Option<MergeSummary>> {
        self.drive(false).await
    }

    /// Cancels the job: every active batch is cancelled (`DELETE /v1/batches/{batch_id}`), and
    /// nothing more will be uploaded or created. Its batches keep the results they have:
    /// [`run`](Self::run) then follows them to their end (`cancelled`) and merges what they
    /// hold; requests without a result get a `missing` line. A create whose answer was lost
    /// is looked up first, so that its batch is cancelled too.
    ///
    /// # Errors
    ///
    /// An error of that lookup, or of saving the state. A cancel the server refuses is in its
    /// [`CancelOutcome`].
    pub async fn cancel(&mut self) -> Result<Vec<CancelOutcome>> {
        self.cancel_batches().await
    }
}
