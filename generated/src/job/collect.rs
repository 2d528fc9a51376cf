//! The end of a job: each finished batch's files downloaded into the parts folder, then merged
//! into the output. Files are written under a temporary name and renamed into place, so that
//! an interruption never leaves a half file where a whole one is expected.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::Job;
use super::events::{JobEvent, ResultFile, ShardRef};
use super::store::{sync_folder, with_suffix};
use crate::download::Download;
use crate::error::{Error, ErrorKind, Result};
use crate::merge::{MergeSummary, ShardResults, merge_results};
use crate::shard::ShardPlan;
use crate::types::Batch;

/// Download progress is reported at most once per this many bytes.
const PROGRESS_STEP: u64 = 1 << 20;

/// A file being written under a temporary name: removed when dropped (an error, or the job's
/// future dropped), unless renamed into place.
struct Temporary {
    path: PathBuf,
    kept: bool,
}

impl Temporary {
    fn new(path: PathBuf) -> Self {
        Self { path, kept: false }
    }

    /// Renames the file to `to` (and syncs the folder when `durable`).
    fn keep_as(mut self, to: &Path, durable: bool) -> Result<()> {
        std::fs::rename(&self.path, to).map_err(|e| cannot_write(to, e))?;
        self.kept = true;
        if durable {
            sync_folder(to).map_err(|e| cannot_write(to, e))?;
        }
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.kept {
            // Nothing else to do with a failure: the file is a leftover either way.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn cannot_write(path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("cannot write `{}`: {e}", path.display())).with_source(e)
}

async fn create(path: &Path) -> Result<tokio::fs::File> {
    tokio::fs::File::create(path).await.map_err(|e| cannot_write(path, e))
}

impl Job {
    /// Downloads finished shard `i`'s output and error files, then records it done.
    pub(super) async fn collect(&mut self, attempt: usize, i: usize, batch: &Batch) -> Result<()> {
        let shard = self.shard_ref(attempt, i);
        let filename = self.state.attempts[attempt].shards[i].filename.clone();
        let mut downloaded = Vec::new();
        for file in [ResultFile::Output, ResultFile::Errors] {
            let download = match file {
                ResultFile::Output => self.client.download_output(batch).await?,
                ResultFile::Errors => self.client.download_errors(batch).await?,
            };
            let Some(download) = download else {
                continue;
            };
            let name = format!("{filename}.{}.jsonl", file.as_str());
            self.emit(JobEvent::DownloadStarted {
                shard,
                file,
                bytes: download.content_length(),
            });
            self.save_download(download, &name, shard, file).await?;
            downloaded.push(name);
        }
        let s = &mut self.state.attempts[attempt].shards[i];
        s.downloaded = downloaded;
        s.done = true;
        self.save()?;
        self.emit(JobEvent::BatchDone {
            shard,
            batch_id: batch.id.clone(),
            status: batch.status_text().to_owned(),
        });
        Ok(())
    }

    /// Writes `download` to `name` in the parts folder, reporting its progress.
    async fn save_download(&self, download: Download, name: &str, shard: ShardRef, file: ResultFile) -> Result<()> {
        self.create_parts()?;
        let path = self.paths.parts.join(name);
        let tmp = Temporary::new(self.paths.parts.join(format!(".{name}.part")));
        let mut out = tokio::io::BufWriter::with_capacity(1 << 20, create(&tmp.path).await?);
        let mut stream = download.into_stream();
        let (mut received, mut reported) = (0u64, 0u64);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            out.write_all(&chunk).await.map_err(|e| cannot_write(&path, e))?;
            received += chunk.len() as u64;
            if received - reported >= PROGRESS_STEP {
                reported = received;
                self.emit(JobEvent::DownloadProgress { shard, file, received });
            }
        }
        out.flush().await.map_err(|e| cannot_write(&path, e))?;
        drop(out);
        if received != reported {
            self.emit(JobEvent::DownloadProgress { shard, file, received });
        }
        // Not synced: a crash before the merge downloads it again.
        tmp.keep_as(&path, false)
    }

    /// Merges every shard's results into the output, in the input's order.
    pub(super) async fn merge(&mut self, plan: &ShardPlan) -> Result<MergeSummary> {
        self.emit(JobEvent::Merging);
        let results: Vec<ShardResults> = self.state.attempts[0]
            .shards
            .iter()
            .map(|s| {
                let files = s.downloaded.iter().map(|n| self.paths.parts.join(n)).collect();
                let status = s.status.clone().unwrap_or_else(|| "(no status)".into());
                ShardResults::new(s.batch_id.clone().unwrap_or_default(), status, files)
            })
            .collect();
        let output = self.paths.output.clone();
        let tmp = Temporary::new(with_suffix(&output, ".tmp"));
        let file = create(&tmp.path).await?;
        let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, file);
        let summary = merge_results(self.open_input().await?, plan, &results, &mut writer).await?;
        writer.flush().await.map_err(|e| cannot_write(&output, e))?;
        writer
            .into_inner()
            .sync_all()
            .await
            .map_err(|e| cannot_write(&output, e))?;
        tmp.keep_as(&output, true)?;
        self.state.merged = Some(summary);
        self.save()?;
        self.remove_parts();
        self.emit(JobEvent::Merged { output, summary });
        Ok(summary)
    }
}
