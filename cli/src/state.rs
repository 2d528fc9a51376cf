//! The state of a `submit` run, kept next to its output (`RESULTS.state.json`) and written
//! atomically (a temporary file renamed over it) after every step, so that a run killed at any
//! point continues from its last step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The state file's format version.
const VERSION: u32 = 1;

/// What identifies the input file: a run resumes only on the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputId {
    /// The path as given.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its modification time, nanoseconds since the Unix epoch.
    pub modified_ns: u128,
}

impl InputId {
    /// Reads `path`'s identity.
    pub fn of(path: &Path) -> anyhow::Result<Self> {
        let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
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
}

/// One shard: its batch's progress through upload, create, wait and download.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardState {
    /// 0-based.
    pub index: usize,
    /// The model of its requests.
    pub model: String,
    /// Its requests.
    pub requests: usize,
    /// Its file's size in bytes.
    pub bytes: u64,
    /// The name it is uploaded under: the run's id and the shard's number (found on the server
    /// by it when an upload's answer was lost).
    pub filename: String,
    /// An upload was sent (its answer may have been lost).
    pub upload_sent: bool,
    /// The uploaded file's id.
    pub file_id: Option<String>,
    /// A create was sent (its answer may have been lost).
    pub create_sent: bool,
    /// The batch's id.
    pub batch_id: Option<String>,
    /// The batch's last status seen.
    pub status: Option<String>,
    /// `(completed, failed, total)` requests, as last seen.
    pub counts: Option<(i64, i64, i64)>,
    /// The batch's result files, downloaded into the parts folder (their names there).
    pub downloaded: Vec<String>,
    /// The batch finished and its files are downloaded.
    pub done: bool,
}

/// The counts of a merged run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Requests that succeeded.
    pub succeeded: usize,
    /// Requests that failed.
    pub failed: usize,
    /// Requests that expired.
    pub expired: usize,
    /// Requests without a result.
    pub missing: usize,
    /// Result lines for no request of the input.
    pub unexpected: usize,
}

/// A run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    /// [`VERSION`].
    pub version: u32,
    /// The run's id, in every file name and batch metadata it creates.
    pub run_id: String,
    /// When it started, Unix seconds.
    pub started_at: u64,
    /// The input.
    pub input: InputId,
    /// The API it runs against.
    pub base_url: String,
    /// The metadata given with `--metadata`.
    pub metadata: BTreeMap<String, String>,
    /// The most requests per shard.
    pub max_requests: usize,
    /// Its shards.
    pub shards: Vec<ShardState>,
    /// The merged counts, once the results file is written.
    pub merged: Option<Summary>,
}

impl RunState {
    /// A new run's state.
    pub fn new(input: InputId, base_url: String, metadata: BTreeMap<String, String>, max_requests: usize) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        // Unique enough across runs: the time to the microsecond and the process id.
        let run_id = format!(
            "cbr{:x}{:04x}",
            now.as_micros() % 0xffff_ffff_ffff,
            std::process::id() & 0xffff
        );
        Self {
            version: VERSION,
            run_id,
            started_at: now.as_secs(),
            input,
            base_url,
            metadata,
            max_requests,
            shards: Vec::new(),
            merged: None,
        }
    }

    /// Reads the state at `path`, if there is one.
    pub fn load(path: &Path) -> anyhow::Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read the run's state {}", path.display())),
        };
        let state: Self = serde_json::from_str(&text).with_context(|| {
            format!(
                "the run's state {} is not readable; delete it to start over",
                path.display()
            )
        })?;
        if state.version != VERSION {
            bail!(
                "the run's state {} has version {}, this program writes {VERSION}",
                path.display(),
                state.version
            );
        }
        Ok(Some(state))
    }

    /// Writes the state to `path` atomically: a temporary file in the same folder, synced, then
    /// renamed over it.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_vec_pretty(self)?;
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
            file.write_all(&text)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_its_file() {
        let dir = std::env::temp_dir().join(format!("cerebras-batch-cli-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.jsonl.state.json");
        assert_eq!(RunState::load(&path).unwrap(), None);
        let input = InputId {
            path: "in.jsonl".into(),
            bytes: 10,
            modified_ns: 5,
        };
        let mut state = RunState::new(input, "http://127.0.0.1:1".into(), BTreeMap::new(), 50_000);
        state.shards.push(ShardState {
            index: 0,
            file_id: Some("file-1".into()),
            ..ShardState::default()
        });
        state.save(&path).unwrap();
        assert_eq!(RunState::load(&path).unwrap(), Some(state));
        assert!(!path.with_extension("json.tmp").exists());
        std::fs::write(&path, "{").unwrap();
        let e = RunState::load(&path).unwrap_err().to_string();
        assert!(e.contains("is not readable; delete it to start over"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
