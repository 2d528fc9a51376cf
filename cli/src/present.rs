//! What `submit` shows of a job's events ([`JobEvent`]): a line per step, an upload's byte bar
//! and a live line per batch in a terminal, plain lines for each status change elsewhere
//! ([`Display`] decides which).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use cerebras_batch::job::{Job, JobEvent, ShardRef};
use cerebras_batch::types::BatchRequestCounts;
use indicatif::ProgressBar;

use crate::output::printable;
use crate::progress::Display;

/// What the presenter knows of a job before it runs.
#[derive(Default)]
struct Known {
    run_id: String,
    state: String,
    resumed: bool,
    /// `(requests, bytes)` of each shard, by attempt and index, once planned.
    shards: HashMap<(u32, usize), (usize, u64)>,
}

/// The drawing of one job, shared between the job's event callback and `submit`.
#[derive(Clone)]
pub struct Presenter(Arc<Mutex<Inner>>);

struct Inner {
    display: Display,
    known: Known,
    upload: Option<ProgressBar>,
    bars: HashMap<ShardRef, ProgressBar>,
    /// What is being done while no batch line moves: checking, downloading, merging.
    spinner: Option<ProgressBar>,
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
    match shard.attempt {
        1 => format!("batch {}/{}", shard.index + 1, shard.of),
        n => format!("rerun {} batch {}/{}", n - 1, shard.index + 1, shard.of),
    }
}

impl Presenter {
    /// A presenter on stderr, as `quiet` and the terminal allow.
    pub fn new(quiet: bool) -> Self {
        let mut display = Display::new(quiet);
        display.footer("Ctrl-C stops here; the same command resumes");
        Self(Arc::new(Mutex::new(Inner {
            display,
            known: Known::default(),
            upload: None,
            bars: HashMap::new(),
            spinner: None,
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

    /// Clears every bar and line in progress (Ctrl-C, an error): nothing stale stays on the
    /// screen; what follows is printed plainly.
    pub fn abandon(&self) {
        let mut inner = self.inner();
        // Erase what is drawn first, then stop the bars (drawing nowhere by then).
        inner.display.clear();
        inner.stop_spinner();
        for (_, bar) in inner.bars.drain() {
            bar.finish_and_clear();
        }
        if let Some(bar) = inner.upload.take() {
            bar.finish_and_clear();
        }
    }

    /// Clears the spinner and the footer (the run is over; the bars of the batches stay).
    pub fn finish(&self) {
        let mut inner = self.inner();
        inner.stop_spinner();
        inner.display.remove_footer();
    }

    /// Shows one event.
    pub fn show(&self, event: &JobEvent) {
        self.inner().show(event);
    }
}

impl Inner {
    fn stop_spinner(&mut self) {
        if let Some(spinner) = self.spinner.take() {
            spinner.finish_and_clear();
        }
    }

    /// Shows `text` with a spinner (in a terminal; nothing elsewhere), in place of any other.
    fn spin(&mut self, text: String, total: Option<u64>) {
        self.stop_spinner();
        if self.display.live() {
            self.spinner = Some(self.display.spinner(text, total));
        }
    }

    fn show(&mut self, event: &JobEvent) {
        match event {
            JobEvent::Checking => self.spin("checking the input".into(), None),
            JobEvent::Planned { .. } if self.known.resumed => self.stop_spinner(),
            JobEvent::Merging => self.spin("merging the results in the input's order".into(), None),
            JobEvent::Merged { .. } => self.stop_spinner(),
            JobEvent::DownloadStarted { shard, file, bytes } => {
                self.spin(
                    format!("{}: downloading its {} file", label(shard), file.as_str()),
                    *bytes,
                );
            }
            JobEvent::DownloadProgress { received, .. } => {
                if let Some(spinner) = &self.spinner {
                    spinner.set_position(*received);
                }
            }
            JobEvent::RerunPlanned {
                attempt,
                requests,
                bytes,
                shards,
            } => {
                let text = format!(
                    "rerun {}: {requests} unfinished requests ({bytes} bytes) in {shards} batch(es)",
                    attempt - 1
                );
                self.display.line(text);
            }
            JobEvent::TransientError { message, retry_in, .. } => {
                let text = format!(
                    "a step failed ({message}); trying again in {}",
                    humantime::format_duration(std::time::Duration::from_millis(retry_in.as_millis() as u64))
                );
                self.display.line(text);
            }
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
                self.stop_spinner();
                let text = format!(
                    "run {}: {requests} requests ({bytes} bytes) in {shards} batch(es)",
                    self.known.run_id
                );
                self.display.line(text);
                self.display.line(format!("state: {}", self.known.state));
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
                        "{}: uploaded as {file_id} ({requests} requests, {bytes} bytes)",
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
            } => {
                self.status(shard, batch_id, status, *changed, counts.as_ref());
                if matches!(status.as_str(), "completed" | "expired" | "cancelled" | "failed") {
                    self.spin(format!("{}: collecting its results", label(shard)), None);
                }
            }
            JobEvent::BatchDone { shard, .. } => {
                self.stop_spinner();
                if let Some(bar) = self.bars.get(shard) {
                    bar.finish();
                }
            }
            _ => {}
        }
    }

    /// `(requests, bytes)` of a shard, as planned.
    fn shard(&self, shard: &ShardRef) -> (usize, u64) {
        self.known
            .shards
            .get(&(shard.attempt, shard.index))
            .copied()
            .unwrap_or_default()
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
        // A batch at 100 % that is writing its results is not hung: say so.
        let note = if status == "finalizing" {
            ": writing the results"
        } else {
            ""
        };
        if changed && self.display.plain() {
            let text = match seen {
                Some((done, total, failed)) => {
                    format!(
                        "{} {batch_id}: {status} ({done}/{total} done, {failed} failed){note}",
                        label(shard)
                    )
                }
                None => format!("{} {batch_id}: {status}{note}", label(shard)),
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
                bar.set_message(printable(&format!("{status}{note}, {failed} failed")).into_owned());
            }
            None => {
                bar.set_length(requests as u64);
                bar.set_message(printable(&format!("{status}{note}")).into_owned());
            }
        }
    }
}

impl Presenter {
    /// The plan's shards, for the lines that name their sizes.
    pub fn planned(&self, attempt: u32, shards: impl IntoIterator<Item = (usize, u64)>) {
        let known = &mut self.inner().known.shards;
        for (index, sizes) in shards.into_iter().enumerate() {
            known.insert((attempt, index), sizes);
        }
    }

    /// The shards of every attempt the job's state holds.
    pub fn planned_from(&self, job: &Job) {
        for a in &job.state().attempts {
            self.planned(a.number, a.shards.iter().map(|s| (s.requests, s.bytes)));
        }
    }
}
