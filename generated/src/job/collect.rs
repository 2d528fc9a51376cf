//! The end of a job: each finished batch's files downloaded into the parts folder, then merged
//! into the output. Files are written under a temporary name and renamed into place, so that
//! an interruption never leaves a half file where a whole one is expected.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::Job;
use super::events::{JobEvent, ResultFile, ShardRef};
use super::state::{InputIdentity, PendingMerge};
use super::store::{sync_folder, with_suffix};
use crate::download::Download;
use crate::error::{Error, ErrorKind, Result};
use crate::merge::{MergeSummary, Previous, ShardResults, merge_rerun, merge_results};
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

/// Creates `tmp`, where `output` is written before it is renamed into place; an error names
/// `output` (the path the user gave) first.
async fn create_for(output: &Path, tmp: &Path) -> Result<tokio::fs::File> {
    tokio::fs::File::create(tmp).await.map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!(
                "cannot write `{}` (it is written as `{}` first): {e}",
                output.display(),
                tmp.display()
            ),
        )
        .with_source(e)
    })
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

    /// The results of attempt `a`'s shards: their downloads, output and error files apart.
    fn shard_results(&self, a: usize) -> Vec<ShardResults> {
        let errors_suffix = format!(".{}.jsonl", ResultFile::Errors.as_str());
        self.state.attempts[a]
            .shards
            .iter()
            .map(|s| {
                let (errors, files): (Vec<&String>, Vec<&String>) =
                    s.downloaded.iter().partition(|n| n.ends_with(&errors_suffix));
                let path = |n: &String| self.paths.parts.join(n);
                let status = s.status.clone().unwrap_or_else(|| "(no status)".into());
                ShardResults::new(
                    // Empty for a shard whose batch was never created: the merge reads that as
                    // "no batch" and calls its requests `missing` (see `merge`).
                    s.batch_id.clone().unwrap_or_default(),
                    status,
                    files.into_iter().map(path).collect(),
                )
                .with_errors(errors.into_iter().map(path).collect())
            })
            .collect()
    }

    /// Merges every shard's results into the output, in the input's order.
    pub(super) async fn merge(&mut self, plan: &ShardPlan) -> Result<MergeSummary> {
        self.emit(JobEvent::Merging);
        let results = self.shard_results(0);
        let output = self.paths.output.clone();
        let tmp = Temporary::new(with_suffix(&output, ".tmp"));
        let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, create_for(&output, &tmp.path).await?);
        let summary = merge_results(self.open_input().await?, plan, &results, &mut writer).await?;
        finish_writing(writer, &output).await?;
        tmp.keep_as(&output, true)?;
        self.state.attempts[0].merged = Some(summary);
        self.state.merged = Some(summary);
        self.state.output = Some(InputIdentity::of(&output)?);
        self.save()?;
        self.remove_parts();
        self.emit(JobEvent::Merged { output, summary });
        Ok(summary)
    }

    /// Merges the results of rerun attempt `a` (of the input's lines `selection`) into the
    /// output: written whole beside it, recorded as a [`PendingMerge`], then renamed into place
    /// (a job stopped in between finishes the rename: merging again would copy lines from the
    /// new output).
    pub(super) async fn merge_again(&mut self, a: usize, selection: &[u32], plan: &ShardPlan) -> Result<MergeSummary> {
        // The rerun copies every line it does not replace: the output must still be as the
        // last merge wrote it (it may have been edited while the rerun's batches ran).
        self.check_unchanged()?;
        self.emit(JobEvent::Merging);
        let results = self.shard_results(a);
        let output = self.paths.output.clone();
        let before = self.state.merged.ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                "a rerun needs the first attempt's merge; it is not recorded",
            )
        })?;
        let previous = tokio::fs::File::open(&output).await.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read the output `{}`: {e}", output.display()),
            )
            .with_source(e)
        })?;
        let previous = Previous {
            lines: tokio::io::BufReader::with_capacity(1 << 20, previous),
            summary: before,
        };
        let tmp = Temporary::new(with_suffix(&output, ".tmp"));
        let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, create_for(&output, &tmp.path).await?);
        let input = self.open_input().await?;
        let (attempt, summary) = merge_rerun(input, previous, selection, plan, &results, &mut writer).await?;
        finish_writing(writer, &output).await?;
        let mut written = InputIdentity::of(&tmp.path)?;
        written.path = output.clone();
        self.state.pending_merge = Some(PendingMerge {
            written,
            attempt,
            output: summary,
        });
        self.save()?;
        tmp.keep_as(&output, true)?;
        self.finish_pending()
    }

    /// Puts a rerun's merge in place (renamed already, or still beside the output) and records
    /// it.
    pub(super) fn finish_pending(&mut self) -> Result<MergeSummary> {
        let pending = self.state.pending_merge.clone().expect("a pending merge");
        let output = self.paths.output.clone();
        let tmp = with_suffix(&output, ".tmp");
        if InputIdentity::of(&tmp).is_ok_and(|t| t.same_as(&pending.written)) {
            std::fs::rename(&tmp, &output).map_err(|e| cannot_write(&output, e))?;
            sync_folder(&output).map_err(|e| cannot_write(&output, e))?;
        }
        let now = InputIdentity::of(&output)?;
        if !now.same_as(&pending.written) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{} is not the merge run {} wrote before it stopped; delete {} to start over",
                    output.display(),
                    self.state.run_id,
                    self.store.location()
                ),
            ));
        }
        let a = self.state.attempts.len() - 1;
        self.state.attempts[a].merged = Some(pending.attempt);
        self.state.merged = Some(pending.output);
        self.state.output = Some(now);
        self.state.pending_merge = None;
        self.save()?;
        self.remove_parts();
        self.emit(JobEvent::Merged {
            output,
            summary: pending.output,
        });
        Ok(pending.output)
    }
}

/// Flushes and syncs a merge's file.
async fn finish_writing(mut writer: tokio::io::BufWriter<tokio::fs::File>, output: &Path) -> Result<()> {
    writer.flush().await.map_err(|e| cannot_write(output, e))?;
    writer
        .into_inner()
        .sync_all()
        .await
        .map_err(|e| cannot_write(output, e))
}
