//! Finding on the server what an interrupted job sent but never heard back about: an upload
//! by its file name and size, a batch by its metadata. A lookup that fails is an error, never
//! "not found": deciding "not found" on a failed page would upload or create a second time.

use futures::TryStreamExt;
use serde_json::Value;

use crate::Client;
use crate::error::Result;
use crate::types::{Batch, File};

/// The metadata key naming the job a batch belongs to (its run id).
pub const RUN_KEY: &str = "cerebras_batch_run";
/// The metadata key naming the shard (1-based, in its attempt) a batch runs.
pub const SHARD_KEY: &str = "cerebras_batch_shard";
/// The metadata key naming the attempt (1-based) a batch belongs to.
pub const ATTEMPT_KEY: &str = "cerebras_batch_attempt";

/// The file named `name` of `bytes` bytes, if the server has one (the newest first). A file
/// whose size the server leaves out is taken on its name.
///
/// # Errors
///
/// Any error listing the files, on any page.
pub(crate) async fn find_file(client: &Client, name: &str, bytes: u64) -> Result<Option<File>> {
    client
        .list_files()
        .limit(100)
        .into_stream()
        .try_filter(|f| {
            let size_matches = f.bytes.is_none_or(|b| u64::try_from(b).is_ok_and(|b| b == bytes));
            futures::future::ready(f.filename.as_deref() == Some(name) && size_matches)
        })
        .try_next()
        .await
}

/// What identifies a job's batch on the server.
pub(crate) struct BatchKey<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) attempt: u32,
    /// 0-based.
    pub(crate) shard: usize,
    pub(crate) input_file_id: &'a str,
    /// When the job started, Unix seconds: batches created more than a day before (by the
    /// local clock, a margin for skew) are not searched.
    pub(crate) started_at: u64,
}

impl BatchKey<'_> {
    fn matches(&self, batch: &Batch) -> bool {
        let Some(m) = batch.metadata.as_ref() else {
            return false;
        };
        let text = |key: &str| m.get(key).and_then(Value::as_str);
        let shard = (self.shard + 1).to_string();
        // Batches of version 0.2 carry no attempt: theirs was the first.
        let attempt_matches = match text(ATTEMPT_KEY) {
            Some(a) => a == self.attempt.to_string(),
            None => self.attempt == 1,
        };
        text(RUN_KEY) == Some(self.run_id)
            && text(SHARD_KEY) == Some(shard.as_str())
            && attempt_matches
            && batch.input_file_id.as_deref().is_none_or(|id| id == self.input_file_id)
    }
}

/// The job's batch `key`, if the server has one. Batches are listed newest first, so the
/// search stops at the first batch created well before the job.
///
/// # Errors
///
/// Any error listing the batches, on any page.
pub(crate) async fn find_batch(client: &Client, key: &BatchKey<'_>) -> Result<Option<Batch>> {
    let since = i64::try_from(key.started_at).unwrap_or(i64::MAX) - 86_400;
    client
        .list_batches()
        .limit(100)
        .into_stream()
        .try_take_while(|b| futures::future::ready(Ok(b.created_at.is_none_or(|t| t >= since))))
        .try_filter(|b| futures::future::ready(key.matches(b)))
        .try_next()
        .await
}
