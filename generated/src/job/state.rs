//! [`JobState`]: everything a job knows, saved (as JSON, see the [module](super) for the format)
//! after every step so that it can resume from any point.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::merge::MergeSummary;
use crate::types::BatchRequestCounts;

/// The state format this version writes. Version 1 (the `cerebras-batch` command of 0.2) is
/// read too.
pub const STATE_VERSION: u32 = 2;

/// What identifies the input file: a job resumes only on the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputIdentity {
    /// The path as given.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its modification time, nanoseconds since the Unix epoch (0 when the platform has none).
    pub modified_ns: u128,
}

impl InputIdentity {
    /// Reads `path`'s identity.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when `path` cannot be read.
    pub fn of(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read the input `{}`: {e}", path.display()),
            )
            .with_source(e)
        })?;
        if meta.is_dir() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("the input `{}` is a directory, not a request file", path.display()),
            ));
        }
        // No modification time on this platform: size alone identifies the input.
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(Self {
            path: path.to_owned(),
            bytes: meta.len(),
            modified_ns,
        })
    }

    /// Whether `other` is the same file content as far as size and time tell.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        self.bytes == other.bytes && self.modified_ns == other.modified_ns
    }
}

/// One shard of an attempt: its batch's progress through upload, create, wait and download.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShardState {
    /// 0-based, in its attempt.
    pub index: usize,
    /// The model of its requests.
    pub model: String,
    /// How many requests it holds.
    pub requests: usize,
    /// Its file's size in bytes.
    pub bytes: u64,
    /// The name it is uploaded under (`<job>-shard-NNNN.jsonl`), by which a lost upload is
    /// found again.
    pub filename: String,
    /// An upload was sent; its answer may have been lost.
    pub upload_sent: bool,
    /// The uploaded file's id.
    pub file_id: Option<String>,
    /// A create was sent; its answer may have been lost.
    pub create_sent: bool,
    /// The batch's id.
    pub batch_id: Option<String>,
    /// The batch's status as last seen, as the server wrote it (`finalizing`, `calling`, ...).
    pub status: Option<String>,
    /// The batch's `request_counts` as last seen, as the server sent them (`None` when it sent
    /// none): for showing, never for deciding.
    pub counts: Option<BatchRequestCounts>,
    /// The batch's result files, downloaded into the parts folder (their names there).
    pub downloaded: Vec<String>,
    /// The batch is final and its files are downloaded.
    pub done: bool,
}

impl ShardState {
    /// Its batch exists and is not done.
    pub fn is_active(&self) -> bool {
        self.batch_id.is_some() && !self.done
    }

    /// A request of it may have reached a server (an upload was sent, or a file exists).
    pub(crate) fn reached_server(&self) -> bool {
        self.upload_sent || self.file_id.is_some()
    }
}

/// One run of batches over a set of requests. A job has one attempt today; attempts after the
/// first will rerun what the earlier ones did not finish.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AttemptState {
    /// 1 for the first.
    pub number: u32,
    /// Cancelled by [`Job::cancel`](super::Job::cancel): nothing more is uploaded or created;
    /// its batches are followed to their end and merged.
    #[serde(default)]
    pub cancelled: bool,
    /// Its shards, one batch each.
    pub shards: Vec<ShardState>,
}

impl AttemptState {
    /// Whether every shard is done (or, once cancelled, will never get a batch).
    pub fn is_finished(&self) -> bool {
        self.shards
            .iter()
            .all(|s| s.done || (self.cancelled && s.batch_id.is_none() && !s.create_sent))
    }
}

/// Everything a [`Job`](super::Job) knows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobState {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// The run id (`cbr` and up to 16 hex digits) that names the job on the server: in every
    /// file name and batch metadata it creates.
    pub run_id: String,
    /// When it started, Unix seconds.
    pub started_at: u64,
    /// The input.
    pub input: InputIdentity,
    /// The API it runs against.
    pub base_url: String,
    /// The metadata every batch gets.
    pub metadata: BTreeMap<String, String>,
    /// The most requests per batch.
    pub max_requests: usize,
    /// Its attempts, the first first.
    pub attempts: Vec<AttemptState>,
    /// The merged counts, once the results file is written.
    pub merged: Option<MergeSummary>,
}

impl JobState {
    /// A new job's state, with no attempt yet.
    pub(crate) fn new(
        input: InputIdentity,
        base_url: String,
        metadata: BTreeMap<String, String>,
        max_requests: usize,
    ) -> Self {
        // No clock before 1970: the id stays unique by the process id, the start time is 0.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        // Unique enough across jobs: the time to the microsecond and the process id.
        let run_id = format!(
            "cbr{:x}{:04x}",
            now.as_micros() % 0xffff_ffff_ffff,
            std::process::id() & 0xffff
        );
        Self {
            version: STATE_VERSION,
            run_id,
            started_at: now.as_secs(),
            input,
            base_url,
            metadata,
            max_requests,
            attempts: Vec::new(),
            merged: None,
        }
    }

    /// Whether any request of the job may have reached its server (an upload was sent). A
    /// state that never did binds to nothing: it can be dropped and started again.
    pub fn reached_server(&self) -> bool {
        self.shards().any(ShardState::reached_server)
    }

    /// Whether the job's server answered one of its uploads (a file or a batch of the job
    /// exists there).
    pub fn answered(&self) -> bool {
        self.shards().any(|s| s.file_id.is_some() || s.batch_id.is_some())
    }

    /// Whether this state binds a job run against `base_url`: its server answered, or an
    /// upload may have reached `base_url` itself (then it must be looked for there). A state
    /// of a server that never answered (a mistyped base URL) binds to nothing.
    pub fn binds(&self, base_url: &str) -> bool {
        self.answered() || (self.reached_server() && self.base_url == base_url)
    }

    fn shards(&self) -> impl Iterator<Item = &ShardState> {
        self.attempts.iter().flat_map(|a| &a.shards)
    }

    /// The state as saved.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a job state serialises")
    }

    /// Reads a saved state (`location` names it in errors); version 1 is converted.
    pub(crate) fn from_bytes(bytes: &[u8], location: &str) -> Result<Self> {
        let unreadable = |e: serde_json::Error| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("the job's state {location} is not readable ({e}); delete it to start over"),
            )
        };
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        match serde_json::from_slice::<Version>(bytes).map_err(unreadable)?.version {
            STATE_VERSION => serde_json::from_slice(bytes).map_err(unreadable),
            1 => Ok(serde_json::from_slice::<v1::RunState>(bytes)
                .map_err(unreadable)?
                .into()),
            other => Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "the job's state {location} has version {other}; this version of cerebras-batch reads 1 and {STATE_VERSION}"
                ),
            )),
        }
    }
}

/// The state of a `cerebras-batch submit` run of version 0.2, converted on reading.
mod v1 {
    use super::*;

    #[derive(Deserialize)]
    pub(super) struct RunState {
        run_id: String,
        started_at: u64,
        input: InputIdentity,
        base_url: String,
        metadata: BTreeMap<String, String>,
        max_requests: usize,
        shards: Vec<Shard>,
        merged: Option<MergeSummary>,
    }

    #[derive(Deserialize)]
    struct Shard {
        index: usize,
        model: String,
        requests: usize,
        bytes: u64,
        filename: String,
        upload_sent: bool,
        file_id: Option<String>,
        create_sent: bool,
        batch_id: Option<String>,
        status: Option<String>,
        /// `(completed, failed, total)`.
        counts: Option<(i64, i64, i64)>,
        downloaded: Vec<String>,
        done: bool,
    }

    impl From<RunState> for JobState {
        fn from(v1: RunState) -> Self {
            let shards = v1
                .shards
                .into_iter()
                .map(|s| ShardState {
                    index: s.index,
                    model: s.model,
                    requests: s.requests,
                    bytes: s.bytes,
                    filename: s.filename,
                    upload_sent: s.upload_sent,
                    file_id: s.file_id,
                    create_sent: s.create_sent,
                    batch_id: s.batch_id,
                    status: s.status,
                    counts: s.counts.map(|(completed, failed, total)| {
                        BatchRequestCounts::new()
                            .with_completed(completed)
                            .with_failed(failed)
                            .with_total(total)
                    }),
                    downloaded: s.downloaded,
                    done: s.done,
                })
                .collect();
            JobState {
                version: STATE_VERSION,
                run_id: v1.run_id,
                started_at: v1.started_at,
                input: v1.input,
                base_url: v1.base_url,
                metadata: v1.metadata,
                max_requests: v1.max_requests,
                attempts: vec![AttemptState {
                    number: 1,
                    cancelled: false,
                    shards,
                }],
                merged: v1.merged,
            }
        }
    }
}
