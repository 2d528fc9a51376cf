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

/// One run of batches over a set of requests: the first attempt runs every request of the
/// input; each later one ([`Job::rerun_unfinished`](super::Job::rerun_unfinished)) runs again
/// the requests the output left unfinished.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AttemptState {
    /// 1 for the first.
    pub number: u32,
    /// Cancelled by [`Job::cancel`](super::Job::cancel): nothing more is uploaded or created;
    /// its batches are followed to their end and merged.
    #[serde(default)]
    pub cancelled: bool,
    /// Where its requests come from: the input's lines it runs, as ranges of 1-based line
    /// numbers, both ends included (`[[3, 7], [12, 12]]`: lines 3 to 7 and 12), each line byte
    /// for byte. `None` for the first attempt: every line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<[usize; 2]>>,
    /// Its shards, one batch each.
    pub shards: Vec<ShardState>,
    /// Once merged: what the output got from this attempt (its requests' outcomes, and the
    /// tokens and error-file lines of its result files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergeSummary>,
}

impl AttemptState {
    /// Whether every shard is done (or, once cancelled, will never get a batch).
    pub fn is_finished(&self) -> bool {
        self.shards
            .iter()
            .all(|s| s.done || (self.cancelled && s.batch_id.is_none() && !s.create_sent))
    }

    /// How many requests it runs.
    pub fn requests(&self) -> usize {
        self.shards.iter().map(|s| s.requests).sum()
    }

    /// Whether it runs the input's line `line` (1-based).
    pub fn runs_line(&self, line: usize) -> bool {
        match &self.lines {
            None => line >= 1,
            Some(ranges) => {
                let i = ranges.partition_point(|r| r[1] < line);
                ranges.get(i).is_some_and(|r| r[0] <= line)
            }
        }
    }
}

/// The 1-based, inclusive ranges of 0-based `lines` (ascending): `[2, 3, 4, 9]` → `[[3, 5],
/// [10, 10]]`.
pub(crate) fn ranges_of(lines: &[u32]) -> Vec<[usize; 2]> {
    let mut ranges: Vec<[usize; 2]> = Vec::new();
    for &line in lines {
        let n = line as usize + 1;
        match ranges.last_mut() {
            Some(last) if last[1] + 1 == n => last[1] = n,
            _ => ranges.push([n, n]),
        }
    }
    ranges
}

/// The 0-based lines of 1-based, inclusive `ranges` (the inverse of [`ranges_of`]).
pub(crate) fn lines_of(ranges: &[[usize; 2]]) -> Vec<u32> {
    ranges
        .iter()
        .flat_map(|r| (r[0]..=r[1]).map(|n| (n - 1) as u32))
        .collect()
}

/// A rerun's merge, written in full beside the output and recorded before it replaces the
/// output: a job that stops between the two finishes the replacement instead of merging again
/// (the lines it copies would come from the new output).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingMerge {
    /// The merged file, as written (its size and modification time stay when it is renamed).
    pub written: InputIdentity,
    /// What the attempt got ([`AttemptState::merged`]).
    pub attempt: MergeSummary,
    /// What the output holds then ([`JobState::merged`]).
    pub output: MergeSummary,
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
    /// What the output holds, once written: its requests by outcome (the lines of the attempts
    /// that produced them), and the tokens and error-file lines of every merged attempt.
    pub merged: Option<MergeSummary>,
    /// The output as the last merge wrote it (size and modification time): a rerun copies
    /// every line it does not run from it, so it must not have changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<InputIdentity>,
    /// A rerun's merge written but perhaps not yet in place (see [`PendingMerge`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_merge: Option<PendingMerge>,
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
            output: None,
            pending_merge: None,
        }
    }

    /// Whether the job is done: its last attempt is merged into the output.
    pub fn is_finished(&self) -> bool {
        self.attempts.last().is_some_and(|a| a.merged.is_some())
    }

    /// The number of the attempt whose result line the output holds for the input's `line`
    /// (1-based): the last merged attempt that ran it. `None` before the first merge, or past
    /// the input's end.
    pub fn attempt_of(&self, line: usize) -> Option<u32> {
        let requests = self.merged?.requests();
        if line == 0 || line > requests {
            return None;
        }
        self.attempts
            .iter()
            .rev()
            .find(|a| a.merged.is_some() && a.runs_line(line))
            .map(|a| a.number)
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
            STATE_VERSION => {
                let mut state: Self = serde_json::from_slice(bytes).map_err(unreadable)?;
                // Saved before attempts kept their own summary: a merged job had one attempt.
                if let (Some(merged), [only]) = (state.merged, state.attempts.as_mut_slice())
                    && only.merged.is_none()
                {
                    only.merged = Some(merged);
                }
                Ok(state)
            }
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
                    lines: None,
                    shards,
                    merged: v1.merged,
                }],
                merged: v1.merged,
                output: None,
                pending_merge: None,
            }
        }
    }
}
