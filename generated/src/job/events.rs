//! [`JobEvent`]: what a job reports while it runs, for a progress display or a log.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::merge::MergeSummary;
use crate::types::BatchRequestCounts;

/// Which shard an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ShardRef {
    /// The attempt (1 for the first).
    pub attempt: u32,
    /// The shard, 0-based, in its attempt.
    pub index: usize,
    /// How many shards the attempt has.
    pub of: usize,
}

/// Which file of a batch's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResultFile {
    /// `output_file_id`: its results (partial after a cancel or an expiry).
    Output,
    /// `error_file_id`: the requests that failed.
    Errors,
}

impl ResultFile {
    /// `output` or `errors`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Output => "output",
            Self::Errors => "errors",
        }
    }
}

/// What a [`Job`](super::Job) reports, in the order it happens, through the callback of
/// [`JobBuilder::on_event`](super::JobBuilder::on_event). Sizes are bytes; counts are requests.
///
/// Progress never rests on the API's `request_counts` (some servers leave them 0 until the
/// end, and a cancel answers `null`): the job's steps follow statuses, and `counts` is only
/// what the server said, to show as such.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum JobEvent {
    /// [`run`](super::Job::run) or [`advance`](super::Job::advance) began; `resumed` when the
    /// job continues a saved state (with `shards` shards in its attempts so far).
    Started {
        /// The job's run id.
        run_id: String,
        /// It continues a saved state.
        resumed: bool,
        /// Shards planned so far (0 for a new job).
        shards: usize,
    },
    /// Reading and checking the input (once per [`Job`](super::Job)).
    Checking,
    /// The input is checked and split: `shards` batches for `requests` requests of `bytes`
    /// bytes. Once per [`Job`](super::Job).
    Planned {
        /// Its requests (lines).
        requests: usize,
        /// Its size in bytes.
        bytes: u64,
        /// Its batches.
        shards: usize,
    },
    /// An upload begins (or, after an interruption, begins again).
    UploadStarted {
        /// The shard.
        shard: ShardRef,
        /// The name it is uploaded under.
        filename: String,
        /// Its size in bytes.
        bytes: u64,
    },
    /// `sent` of `total` bytes of an upload have been taken by the server.
    UploadProgress {
        /// The shard.
        shard: ShardRef,
        /// Bytes sent so far.
        sent: u64,
        /// Bytes in all.
        total: u64,
    },
    /// A shard's file is on the server: just uploaded, or `found` there (an upload whose
    /// answer was lost before an interruption). Reported as soon as known, before the state
    /// records it.
    Uploaded {
        /// The shard.
        shard: ShardRef,
        /// Its name.
        filename: String,
        /// The file's id.
        file_id: String,
        /// Found on the server rather than uploaded now.
        found: bool,
    },
    /// The API refused another batch for now (HTTP 429); the create is tried again after
    /// the next poll.
    CreateDeferred {
        /// The shard.
        shard: ShardRef,
        /// The server's reason.
        reason: String,
    },
    /// A shard's batch exists: just created, or `found` on the server (a create whose answer
    /// was lost). Reported as soon as known, before the state records it.
    BatchCreated {
        /// The shard.
        shard: ShardRef,
        /// The batch's id.
        batch_id: String,
        /// Found on the server rather than created now.
        found: bool,
    },
    /// The job learnt a batch's state (from a create, a poll or a cancel), and saved it.
    BatchStatus {
        /// The shard.
        shard: ShardRef,
        /// The batch's id.
        batch_id: String,
        /// Its status as the server wrote it (`validating`, `in_progress`, `finalizing`,
        /// `completed`, an unknown one such as `calling`, or `(no status)`).
        status: String,
        /// The status differs from the one seen before.
        changed: bool,
        /// `request_counts` as sent (`None` when absent or `null`); may be all 0 until the end.
        counts: Option<BatchRequestCounts>,
    },
    /// A download of a finished batch's file begins; `bytes` when the server said.
    DownloadStarted {
        /// The shard.
        shard: ShardRef,
        /// Which file.
        file: ResultFile,
        /// Its size, when known.
        bytes: Option<u64>,
    },
    /// `received` bytes of a download are written.
    DownloadProgress {
        /// The shard.
        shard: ShardRef,
        /// Which file.
        file: ResultFile,
        /// Bytes written so far.
        received: u64,
    },
    /// A shard's batch is final and its files are downloaded.
    BatchDone {
        /// The shard.
        shard: ShardRef,
        /// The batch's id.
        batch_id: String,
        /// Its final status.
        status: String,
    },
    /// A batch was cancelled by [`Job::cancel`](super::Job::cancel) (`status` as the server
    /// answered, normally `cancelling`).
    BatchCancelled {
        /// The shard.
        shard: ShardRef,
        /// The batch's id.
        batch_id: String,
        /// The answer's status.
        status: String,
    },
    /// Nothing more can be done now: the job sleeps `next_poll` before polling its active
    /// batches again.
    Waiting {
        /// Batches still running.
        active: usize,
        /// The sleep before the next poll.
        next_poll: Duration,
    },
    /// A rerun of what the output left unfinished was planned as a new attempt
    /// ([`Job::rerun_unfinished`](super::Job::rerun_unfinished)): `requests` requests of
    /// `bytes` bytes in `shards` batches.
    RerunPlanned {
        /// The attempt's number (2 for the first rerun).
        attempt: u32,
        /// The requests it runs again.
        requests: usize,
        /// Their size in bytes.
        bytes: u64,
        /// Its batches.
        shards: usize,
    },
    /// A step failed for a transient cause (no answer, or HTTP 408, 429 or 5xx, after the
    /// client's own retries); [`run`](super::Job::run) tries again after `retry_in`, for at
    /// most [`JobBuilder::patience`](super::JobBuilder::patience) of failures in a row.
    TransientError {
        /// The error, in words.
        message: String,
        /// The pause before the next try.
        retry_in: Duration,
        /// How long steps have failed in a row.
        failing_for: Duration,
    },
    /// Every batch of the attempt is done: the results are being merged into the output.
    Merging,
    /// The output is written.
    Merged {
        /// Its path.
        output: PathBuf,
        /// What it holds.
        summary: MergeSummary,
    },
}

/// The callback of a job.
pub(crate) type EventFn = Arc<dyn Fn(&JobEvent) + Send + Sync>;
