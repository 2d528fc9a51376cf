//! What `submit` shows of a job's events ([`JobEvent`]): a line per step, an upload's byte bar
//! and a live line per batch in a terminal, plain lines for each status change elsewhere
//! ([`Display`] decides which).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use cerebras_batch::job::{Job, JobEvent, ShardRef};
use cerebras_batch::types::BatchRequestCounts;
use indicatif::ProgressBar;

use crate::progress::Display;

/// What the presenter knows of a job before it runs.
#[derive(Default)]
struct Known {
    run_id: String,
    state: String,
    resumed: bool,
    /// `(requests, bytes)` of each shard of the first attempt, once planned.
    shards: Vec<(usize, u64)>,
}

/// The drawing of one job, shared between the job's event callback and `submit`.
#[derive(Clone)]
pub struct Presenter(Arc<Mutex<Inner>>);

struct Inner {
    display: Display,
    known: Known,
    upload: Option<ProgressBar>,
    bars: HashMap<ShardRef, ProgressBar>,
}

/// `(done, total, failed)` from counts worth showing: present, with a total, and consistent. Some
/// servers leave them at 0 until the end, and a cancel answers `null`: then there is nothing to
/// show but the status.
fn progress(counts: Option<&BatchRequestCounts>) -> Option<(i64, i64, i64)> {
    let c = counts?;
    let (total, completed, failed) = (c.total?, c.completed.unwrap_or(0), c.failed.unwrap_or(0));
    (total > 0 && completed >= 0 && failed >= 0 && completed + failed <= total).then_some((completed, total, failed))
}

fn label(shard: &ShardRef) -> String {
    format!("batch {}/{}", shard.index + 1, shard.of)
}

impl Presenter {
    /// A presenter on stderr, as `quiet` and the terminal allow.
    pub fn new(quiet: bool) -> Self {
        Self(Arc::new(Mutex::new(Inner {
            display: Display::new(quiet),
            known: Known::default(),
            upload: None,
            bars: HashMap::new(),
        })))
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What the job is, once opened.
    pub fn begin(&self, job: &Job) {
        let mut inner = self.inner();
        inner.known.run_id = job.run_id().to_owned();
        inner.known.state = job.state_location();
        inner.known.resumed = job.is_resumed();
    }

    /// Prints a line above the bars (or plainly).
    pub fn line(&self, text: impl AsRef<str>) {
        self.inner().display.line(text);
    }

    /// Leaves the bars as they are (Ctrl-C).
    pub fn abandon(&self) {
        let mut inner = self.inner();
        for bar in inner.bars.values() {
            bar.abandon();
        }
        if let Some(bar) = inner.upload.take() {
            bar.abandon();
        }
    }

    /// Shows one event.
    pub fn show(&self, event: &JobEvent) {
        self.inner().show(event);
    }
}

impl Inner {
    fn show(&mut self, event: &JobEvent) {
        match event {
            JobEvent::Started {
                run_id,
                resumed: true,
                shards,
            } => {
                let text = format!("resuming run {run_id} ({shards} batch(es)) from {}", self.known.state);
                self.display.line(text);
            }
            JobEvent::Planned {
                requests,
                bytes,
                shards,
            } if !self.known.resumed => {
                let text = format!(
                    "run {}: {requests} requests ({bytes} bytes) in {shards} batch(es); state in {}",
                    self.known.run_id, self.known.state
                );
                self.display.line(text);
            }
            JobEvent::UploadStarted { filename, bytes, .. } => {
                self.upload = Some(self.display.upload(filename, *bytes))
            }
            JobEvent::UploadProgress { sent, .. } => {
                if let Some(bar) = &self.upload {
                    bar.set_position(*sent);
                }
            }
            JobEvent::Uploaded {
                shard,
                filename,
                file_id,
                found,
            } => {
                if let Some(bar) = self.upload.take() {
                    bar.finish_and_clear();
                }
                let text = if *found {
                    format!("{}: found {filename} already uploaded as {file_id}", label(shard))
                } else {
                    let (requests, bytes) = self.shard(shard);
                    format!(
                        "{}: uploaded {filename} ({requests} requests, {bytes} bytes) as {file_id}",
                        label(shard)
                    )
                };
                self.display.line(text);
            }
            JobEvent::BatchCreated { shard, batch_id, found } => {
                let text = if *found {
                    format!("{}: found {batch_id} already created", label(shard))
                } else {
                    format!("{}: created {batch_id}", label(shard))
                };
                self.display.line(text);
            }
            JobEvent::CreateDeferred { shard, reason } => {
                let text = format!(
                    "{}: the API refuses another batch for now ({reason}); waiting for a slot",
                    label(shard)
                );
                self.display.line(text);
            }
            JobEvent::BatchStatus {
                shard,
                batch_id,
                status,
                changed,
                counts,
            } => self.status(shard, batch_id, status, *changed, counts.as_ref()),
            JobEvent::BatchDone { shard, .. } => {
                if let Some(bar) = self.bars.get(shard) {
                    bar.finish();
                }
            }
            _ => {}
        }
    }

    /// `(requests, bytes)` of a shard of the first attempt, as planned.
    fn shard(&self, shard: &ShardRef) -> (usize, u64) {
        self.known.shards.get(shard.index).copied().unwrap_or_default()
    }

    fn status(
        &mut self,
        shard: &ShardRef,
        batch_id: &str,
        status: &str,
        changed: bool,
        counts: Option<&BatchRequestCounts>,
    ) {
        let seen = progress(counts);
        if changed && self.display.plain() {
            let text = match seen {
                Some((done, total, failed)) => {
                    format!(
                        "{} {batch_id}: {status} ({done}/{total} done, {failed} failed)",
                        label(shard)
                    )
                }
                None => format!("{} {batch_id}: {status}", label(shard)),
            };
            self.display.line(text);
        }
        let requests = self.shard(shard).0;
        let display = &self.display;
        let bar = self
            .bars
            .entry(*shard)
            .or_insert_with(|| display.batch(format!("{} {batch_id}", label(shard))));
        match seen {
            Some((done, total, failed)) => {
                bar.set_length(u64::try_from(total).unwrap_or(0));
                bar.set_position(u64::try_from(done + failed).unwrap_or(0));
                bar.set_message(format!("{status}, {failed} failed"));
            }
            None => {
                bar.set_length(requests as u64);
                bar.set_message(status.to_owned());
            }
        }
    }
}

impl Presenter {
    /// The plan's shards, for the lines that name their sizes.
    pub fn planned(&self, shards: Vec<(usize, u64)>) {
        self.inner().known.shards = shards;
    }
}
