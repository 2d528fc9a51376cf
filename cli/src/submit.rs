//! `submit`: a JSONL file of any size to one merged results file, resumable.
//!
//! The steps, each recorded in the run's state (`RESULTS.state.json`) before the next:
//! check and plan the shards ([`cerebras_batch::shard`]); write each shard's file into
//! `RESULTS.parts/`; upload each (named `<run>-shard-NNNN.jsonl`); create its batch (metadata
//! `cerebras_batch_run` and `cerebras_batch_shard`), keeping at most `--max-active` active;
//! poll; download each finished batch's output and error files; merge them in the input's order
//! ([`cerebras_batch::merge`]) into `RESULTS` (written whole, then renamed).
//!
//! Nothing is done twice: before an upload or a create is sent, the state says so; when a run
//! resumes and finds an upload or create sent but not answered (the process died in between),
//! it looks for the file (by name and size) or the batch (by metadata) on the server first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use cerebras_batch::merge::{ShardResults, merge_results};
use cerebras_batch::shard::{ShardLimits, ShardPlan, plan_shards, write_shards};
use cerebras_batch::types::{Batch, CreateBatchRequest};
use cerebras_batch::{Client, ErrorKind, UploadFile};
use clap::Args;
use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use crate::progress::Display;
use crate::state::{InputId, RunState, ShardState, Summary};
use crate::{Global, Outcome, hooks, output};

/// The metadata key naming the run a batch belongs to.
pub const RUN_KEY: &str = "cerebras_batch_run";
/// The metadata key naming the shard (1-based) a batch runs.
pub const SHARD_KEY: &str = "cerebras_batch_shard";

/// `submit`'s arguments.
#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// The JSONL request file (one request per line, any size, any number of models).
    pub requests: PathBuf,
    /// Where to write the merged results: one line per request, in the input's order.
    #[arg(long, short, value_name = "RESULTS")]
    pub out: PathBuf,
    /// Wait until every batch has finished, then merge. Without it, submit does what can be done
    /// now (upload, create, collect finished batches, merge when all are) and exits: run it
    /// again, from cron say, to go on.
    #[arg(long)]
    pub wait: bool,
    /// Metadata for every batch, as KEY=VALUE (repeatable).
    #[arg(long = "metadata", value_name = "KEY=VALUE", value_parser = key_value)]
    pub metadata: Vec<(String, String)>,
    /// The most batches active at once (the account limit is 10 concurrent batches).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_active: u32,
    /// The most requests per batch (10 to 50,000).
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u32).range(10..=50_000))]
    pub max_requests: u32,
    /// Seconds between polls of the active batches.
    #[arg(long, default_value = "10", value_parser = crate::seconds, value_name = "SECONDS")]
    pub poll_interval: Duration,
    /// On Ctrl-C, cancel the run's active batches (by default Ctrl-C stops waiting, and running
    /// the same command again resumes).
    #[arg(long)]
    pub cancel_on_interrupt: bool,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

/// The files of a run, next to its output.
struct Paths {
    out: PathBuf,
    state: PathBuf,
    parts: PathBuf,
}

impl Paths {
    fn new(out: &Path) -> Self {
        let with = |suffix: &str| {
            let mut name = out.file_name().unwrap_or_default().to_os_string();
            name.push(suffix);
            out.with_file_name(name)
        };
        Self {
            out: out.to_owned(),
            state: with(".state.json"),
            parts: with(".parts"),
        }
    }
}

/// Ctrl-C: the first stops the run at its next step (or wait); a second exits at once.
#[derive(Clone)]
struct Interrupt {
    fired: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Interrupt {
    fn install() -> Self {
        let this = Self {
            fired: Arc::new(AtomicBool::new(false)),
            notify: Arc::new(Notify::new()),
        };
        let (fired, notify) = (this.fired.clone(), this.notify.clone());
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if fired.swap(true, Ordering::SeqCst) {
                    eprintln!("\ncerebras-batch: interrupted twice; exiting now");
                    std::process::exit(130);
                }
                notify.notify_waiters();
            }
        });
        this
    }

    fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// Runs `fut` unless Ctrl-C comes first (then `None`).
    async fn or<T>(&self, fut: impl std::future::IntoFuture<Output = T>) -> Option<T> {
        let fut = fut.into_future();
        let notified = self.notify.notified();
        if self.fired() {
            return None;
        }
        tokio::select! {
            value = fut => Some(value),
            () = notified => None,
        }
    }
}

/// One run of `submit`.
struct Run<'a> {
    client: Client,
    args: &'a SubmitArgs,
    json: bool,
    paths: Paths,
    state: RunState,
    display: Display,
    bars: Vec<Option<ProgressBar>>,
    interrupt: Interrupt,
}

/// `submit`.
pub async fn run(client: Client, g: &Global, args: SubmitArgs) -> anyhow::Result<Outcome> {
    let paths = Paths::new(&args.out);
    let display = Display::new(g.quiet);
    let input = InputId::of(&args.requests)?;
    let metadata: BTreeMap<String, String> = args.metadata.iter().cloned().collect();
    let state = match RunState::load(&paths.state)? {
        Some(state) => {
            resumable(&state, &input, &client, &args, &paths)?;
            display.line(format!(
                "resuming run {} ({} batch(es)) from {}",
                state.run_id,
                state.shards.len(),
                paths.state.display()
            ));
            state
        }
        None => RunState::new(
            input,
            client.base_url().to_owned(),
            metadata,
            args.max_requests as usize,
        ),
    };
    let mut run = Run {
        client,
        args: &args,
        json: g.json,
        paths,
        state,
        display,
        bars: Vec::new(),
        interrupt: Interrupt::install(),
    };
    if let Some(summary) = run.state.merged {
        run.report(Some(summary))?;
        return Ok(outcome(summary));
    }
    let plan = run.plan().await?;
    run.bars = vec![None; run.state.shards.len()];
    run.go(&plan).await
}

/// Whether `state` may be resumed with these arguments; else why not.
fn resumable(
    state: &RunState,
    input: &InputId,
    client: &Client,
    args: &SubmitArgs,
    paths: &Paths,
) -> anyhow::Result<()> {
    let start_over = format!(
        "delete {} (and {}) to start a new run",
        paths.state.display(),
        paths.parts.display()
    );
    if state.input.bytes != input.bytes || state.input.modified_ns != input.modified_ns {
        bail!(
            "{} changed since run {} started from it; {start_over}",
            args.requests.display(),
            state.run_id
        );
    }
    if state.base_url != client.base_url() {
        bail!(
            "run {} runs against {}, not {}; {start_over}",
            state.run_id,
            state.base_url,
            client.base_url()
        );
    }
    if state.max_requests != args.max_requests as usize {
        bail!(
            "run {} splits batches at {} requests, not {}; {start_over}",
            state.run_id,
            state.max_requests,
            args.max_requests
        );
    }
    Ok(())
}

fn outcome(summary: Summary) -> Outcome {
    if summary.failed + summary.expired + summary.missing == 0 {
        Outcome::Done
    } else {
        Outcome::Incomplete
    }
}

async fn open(path: &Path) -> anyhow::Result<tokio::fs::File> {
    tokio::fs::File::open(path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))
}

/// Whether a failed request was certainly not carried out: the server answered it with a
/// client error (a timeout or a 5xx leaves it open).
fn refused(e: &cerebras_batch::Error) -> bool {
    e.status().is_some_and(|s| s.is_client_error())
}

impl Run<'_> {
    fn save(&self) -> anyhow::Result<()> {
        self.state.save(&self.paths.state)
    }

    fn label(&self, i: usize) -> String {
        format!("batch {}/{}", i + 1, self.state.shards.len())
    }

    /// Checks the input and plans its shards; records them in a new run, or checks they are the
    /// recorded ones.
    async fn plan(&mut self) -> anyhow::Result<ShardPlan> {
        let requests = &self.args.requests;
        let limits = ShardLimits::default().max_requests(self.args.max_requests as usize);
        let check = plan_shards(open(requests).await?, limits).await?;
        let Some(plan) = check.plan else {
            for problem in check.problems.iter().take(50) {
                eprintln!("{}", output::problem(requests, problem));
            }
            if check.problems.len() > 50 {
                eprintln!("... and {} more", check.problems.len() - 50);
            }
            bail!(
                "{} has {} problem(s); nothing was uploaded",
                requests.display(),
                check.problems.len()
            );
        };
        if self.state.shards.is_empty() {
            let run_id = self.state.run_id.clone();
            self.state.shards = plan
                .shards
                .iter()
                .map(|s| ShardState {
                    index: s.index,
                    model: s.model.clone(),
                    requests: s.requests,
                    bytes: s.bytes,
                    filename: format!("{run_id}-shard-{:04}.jsonl", s.index + 1),
                    ..ShardState::default()
                })
                .collect();
            self.save()?;
            self.display.line(format!(
                "run {}: {} requests ({} bytes) in {} batch(es); state in {}",
                run_id,
                plan.requests(),
                plan.bytes(),
                plan.shards.len(),
                self.paths.state.display()
            ));
        } else {
            let same = self.state.shards.len() == plan.shards.len()
                && self
                    .state
                    .shards
                    .iter()
                    .zip(&plan.shards)
                    .all(|(s, p)| s.model == p.model && s.requests == p.requests && s.bytes == p.bytes);
            if !same {
                bail!(
                    "{} no longer splits as run {} recorded; delete {} to start over",
                    requests.display(),
                    self.state.run_id,
                    self.paths.state.display()
                );
            }
        }
        Ok(plan)
    }

    /// Writes the shard files that a pending upload needs.
    async fn write_shard_files(&self, plan: &ShardPlan) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.paths.parts)
            .with_context(|| format!("cannot create {}", self.paths.parts.display()))?;
        let missing = self.state.shards.iter().any(|s| {
            s.file_id.is_none()
                && std::fs::metadata(self.paths.parts.join(&s.filename)).map_or(true, |m| m.len() != s.bytes)
        });
        if missing {
            let names: Vec<PathBuf> = self
                .state
                .shards
                .iter()
                .map(|s| self.paths.parts.join(&s.filename))
                .collect();
            write_shards(open(&self.args.requests).await?, plan, |s| names[s.index].clone()).await?;
        }
        Ok(())
    }

    async fn go(&mut self, plan: &ShardPlan) -> anyhow::Result<Outcome> {
        self.write_shard_files(plan).await?;
        loop {
            for i in 0..self.state.shards.len() {
                if self.state.shards[i].file_id.is_none() && self.upload(i).await?.is_none() {
                    return self.interrupted().await;
                }
            }
            for i in 0..self.state.shards.len() {
                let active = self
                    .state
                    .shards
                    .iter()
                    .filter(|s| s.batch_id.is_some() && !s.done)
                    .count();
                if active >= self.args.max_active as usize {
                    break;
                }
                if self.state.shards[i].batch_id.is_none() {
                    match self.create(i).await? {
                        None => return self.interrupted().await,
                        Some(false) => break,
                        Some(true) => {}
                    }
                }
            }
            for i in 0..self.state.shards.len() {
                let s = &self.state.shards[i];
                if s.batch_id.is_some() && !s.done && self.poll(i).await?.is_none() {
                    return self.interrupted().await;
                }
            }
            if self.state.shards.iter().all(|s| s.done) {
                return self.merge(plan).await;
            }
            if !self.args.wait {
                self.report(None)?;
                self.display.line(format!(
                    "not finished: run the same command again to go on (add --wait to wait here); state in {}",
                    self.paths.state.display()
                ));
                return Ok(Outcome::Done);
            }
            hooks::point("while-waiting", 0);
            if self
                .interrupt
                .or(tokio::time::sleep(self.args.poll_interval))
                .await
                .is_none()
            {
                return self.interrupted().await;
            }
        }
    }

    /// Uploads shard `i` (or finds it uploaded); `None` when interrupted.
    async fn upload(&mut self, i: usize) -> anyhow::Result<Option<()>> {
        let shard = self.state.shards[i].clone();
        if shard.upload_sent {
            let found = self
                .interrupt
                .or(find_file(&self.client, &shard.filename, shard.bytes))
                .await;
            match found {
                None => return Ok(None),
                Some(Some(id)) => {
                    self.display.line(format!(
                        "{}: found {} already uploaded as {id}",
                        self.label(i),
                        shard.filename
                    ));
                    self.state.shards[i].file_id = Some(id);
                    self.save()?;
                    return Ok(Some(()));
                }
                Some(None) => {}
            }
        }
        self.state.shards[i].upload_sent = true;
        self.save()?;
        let bar = self.display.upload(&shard.filename, shard.bytes);
        let progress = bar.clone();
        let upload = UploadFile::from_path(self.paths.parts.join(&shard.filename))
            .on_progress(move |p| progress.set_position(p.sent));
        let result = self.interrupt.or(self.client.upload_file(upload)).await;
        bar.finish_and_clear();
        let Some(result) = result else { return Ok(None) };
        let file = match result {
            Ok(file) => file,
            Err(e) => {
                if refused(&e) {
                    self.state.shards[i].upload_sent = false;
                    self.save()?;
                }
                return Err(e).with_context(|| format!("uploading {}", shard.filename));
            }
        };
        hooks::point("after-upload", i);
        self.display.line(format!(
            "{}: uploaded {} ({} requests, {} bytes) as {}",
            self.label(i),
            shard.filename,
            shard.requests,
            shard.bytes,
            file.id
        ));
        self.state.shards[i].file_id = Some(file.id);
        self.save()?;
        Ok(Some(()))
    }

    /// Creates shard `i`'s batch (or finds it created): `Some(true)` when it is, `Some(false)`
    /// when the API refused another batch for now (429: wait for a slot), `None` when
    /// interrupted.
    async fn create(&mut self, i: usize) -> anyhow::Result<Option<bool>> {
        let shard = self.state.shards[i].clone();
        let (run_id, started) = (self.state.run_id.clone(), self.state.started_at);
        if shard.create_sent {
            let Some(found) = self.interrupt.or(find_batch(&self.client, &run_id, i, started)).await else {
                return Ok(None);
            };
            if let Some(batch) = found.context("looking for a batch created before the run stopped")? {
                self.display
                    .line(format!("{}: found {} already created", self.label(i), batch.id));
                self.record(i, &batch);
                self.save()?;
                return Ok(Some(true));
            }
        }
        let mut metadata: Map<String, Value> = self
            .state
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        metadata.insert(RUN_KEY.into(), json!(run_id));
        metadata.insert(SHARD_KEY.into(), json!((i + 1).to_string()));
        let file_id = shard.file_id.clone().context("a shard is created after its upload")?;
        let request = CreateBatchRequest::chat_completions(file_id).with_metadata(metadata);
        self.state.shards[i].create_sent = true;
        self.save()?;
        let Some(result) = self.interrupt.or(self.client.create_batch(request)).await else {
            return Ok(None);
        };
        let batch = match result {
            Ok(batch) => batch,
            Err(e) if e.kind() == ErrorKind::RateLimit => {
                self.state.shards[i].create_sent = false;
                self.save()?;
                self.display.line(format!(
                    "{}: the API refuses another batch for now ({e}); waiting for a slot",
                    self.label(i)
                ));
                return Ok(Some(false));
            }
            Err(e) => {
                if refused(&e) {
                    self.state.shards[i].create_sent = false;
                    self.save()?;
                }
                return Err(e).with_context(|| format!("creating the batch of {}", shard.filename));
            }
        };
        hooks::point("after-create-sent", i);
        self.display.line(format!("{}: created {}", self.label(i), batch.id));
        self.record(i, &batch);
        self.save()?;
        hooks::point("after-create-recorded", i);
        Ok(Some(true))
    }

    /// Records what `batch` says of shard `i`, and shows it.
    fn record(&mut self, i: usize, batch: &Batch) {
        let label = self.label(i);
        let status = batch.status_text().to_owned();
        let counts = batch
            .request_counts
            .as_ref()
            .map(|c| (c.completed.unwrap_or(0), c.failed.unwrap_or(0), c.total.unwrap_or(0)));
        let s = &mut self.state.shards[i];
        let changed = s.status.as_deref() != Some(status.as_str());
        s.batch_id = Some(batch.id.clone());
        s.status = Some(status.clone());
        s.counts = counts;
        let (done, failed, total) = counts.unwrap_or((0, 0, s.requests as i64));
        if changed && self.display.plain() {
            self.display.line(format!(
                "{label} {}: {status} ({done}/{total} done, {failed} failed)",
                batch.id
            ));
        }
        let bar = self.bars[i].get_or_insert_with(|| self.display.batch(format!("{label} {}", batch.id)));
        bar.set_length(u64::try_from(total).unwrap_or(0));
        bar.set_position(u64::try_from(done + failed).unwrap_or(0));
        bar.set_message(format!("{status}, {failed} failed"));
    }

    /// Polls shard `i`'s batch; downloads its files when it is finished. `None` when
    /// interrupted.
    async fn poll(&mut self, i: usize) -> anyhow::Result<Option<()>> {
        let id = self.state.shards[i].batch_id.clone().unwrap_or_default();
        let Some(batch) = self.interrupt.or(self.client.retrieve_batch(&id)).await else {
            return Ok(None);
        };
        let batch = batch.with_context(|| format!("polling {id}"))?;
        self.record(i, &batch);
        self.save()?;
        if !batch.is_terminal() {
            return Ok(Some(()));
        }
        let filename = self.state.shards[i].filename.clone();
        let mut downloaded = Vec::new();
        for (which, wanted) in [("output", true), ("errors", false)] {
            let download = if wanted {
                self.client.download_output(&batch).await
            } else {
                self.client.download_errors(&batch).await
            };
            let Some(download) = download.with_context(|| format!("downloading {id}'s {which} file"))? else {
                continue;
            };
            let name = format!("{filename}.{which}.jsonl");
            let path = self.paths.parts.join(&name);
            let Some(saved) = self.interrupt.or(download.save(&path)).await else {
                return Ok(None);
            };
            saved.with_context(|| format!("downloading {id}'s {which} file"))?;
            downloaded.push(name);
        }
        let s = &mut self.state.shards[i];
        s.downloaded = downloaded;
        s.done = true;
        self.save()?;
        if let Some(bar) = &self.bars[i] {
            bar.finish();
        }
        Ok(Some(()))
    }

    /// Merges every shard's results into the output, in the input's order.
    async fn merge(&mut self, plan: &ShardPlan) -> anyhow::Result<Outcome> {
        let results: Vec<ShardResults> = self
            .state
            .shards
            .iter()
            .map(|s| {
                let files = s.downloaded.iter().map(|n| self.paths.parts.join(n)).collect();
                ShardResults::new(
                    s.batch_id.clone().unwrap_or_default(),
                    s.status.clone().unwrap_or_default(),
                    files,
                )
            })
            .collect();
        let out = &self.paths.out;
        let mut tmp_name = out.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".tmp");
        let tmp = out.with_file_name(tmp_name);
        let file = tokio::fs::File::create(&tmp)
            .await
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        let mut writer = tokio::io::BufWriter::new(file);
        let merged = merge_results(open(&self.args.requests).await?, plan, &results, &mut writer).await?;
        writer.flush().await?;
        writer.into_inner().sync_all().await?;
        std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
        let summary = Summary {
            succeeded: merged.succeeded,
            failed: merged.failed,
            expired: merged.expired,
            missing: merged.missing,
            unexpected: merged.unexpected,
        };
        self.state.merged = Some(summary);
        self.save()?;
        let _ = std::fs::remove_dir_all(&self.paths.parts);
        self.report(Some(summary))?;
        Ok(outcome(summary))
    }

    /// Ctrl-C: saves, cancels the active batches when asked to, and says how to resume.
    async fn interrupted(&mut self) -> anyhow::Result<Outcome> {
        for bar in self.bars.iter().flatten() {
            bar.abandon();
        }
        if self.args.cancel_on_interrupt {
            for i in 0..self.state.shards.len() {
                let s = &self.state.shards[i];
                let Some(id) = s.batch_id.clone().filter(|_| !s.done) else {
                    continue;
                };
                match self.client.cancel_batch(&id).await {
                    Ok(batch) => {
                        eprintln!("cancelled {id} ({})", batch.status_text());
                        self.record(i, &batch);
                    }
                    Err(e) => eprintln!("could not cancel {id}: {e}"),
                }
            }
            self.save()?;
            eprintln!(
                "interrupted: the active batches were cancelled. Run the same command again to collect their partial results (state in {})",
                self.paths.state.display()
            );
        } else {
            self.save()?;
            eprintln!(
                "interrupted: nothing is lost. Run the same command again to resume (state in {})",
                self.paths.state.display()
            );
        }
        Ok(Outcome::Interrupted)
    }

    /// The run's shards, and the merged counts once merged: a table, or one JSON document.
    fn report(&self, summary: Option<Summary>) -> anyhow::Result<()> {
        if self.json {
            let shards: Vec<Value> = self
                .state
                .shards
                .iter()
                .map(|s| {
                    json!({"index": s.index + 1, "model": s.model, "requests": s.requests, "bytes": s.bytes,
                           "file_id": s.file_id, "batch_id": s.batch_id, "status": s.status,
                           "completed": s.counts.map(|c| c.0), "failed": s.counts.map(|c| c.1)})
                })
                .collect();
            return output::json(&json!({
                "run_id": self.state.run_id, "out": self.paths.out, "state": self.paths.state,
                "done": summary.is_some(), "batches": shards, "summary": summary,
            }));
        }
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::NOTHING);
        table.set_header(vec!["BATCH", "MODEL", "REQUESTS", "ID", "STATUS", "DONE", "FAILED"]);
        for s in &self.state.shards {
            table.add_row(vec![
                format!("{}/{}", s.index + 1, self.state.shards.len()),
                s.model.clone(),
                s.requests.to_string(),
                output::or_dash(s.batch_id.as_ref()),
                output::or_dash(s.status.as_ref()),
                output::or_dash(s.counts.map(|c| c.0)),
                output::or_dash(s.counts.map(|c| c.1)),
            ]);
        }
        println!("{table}");
        if let Some(s) = summary {
            let total = s.succeeded + s.failed + s.expired + s.missing;
            println!(
                "\nwrote {}: {total} results in the input's order\n  succeeded {}\n  failed    {}\n  expired   {}\n  missing   {}",
                self.paths.out.display(),
                s.succeeded,
                s.failed,
                s.expired,
                s.missing
            );
            if s.unexpected > 0 {
                println!(
                    "  and {} result line(s) for no request of the input, at the end",
                    s.unexpected
                );
            }
        }
        Ok(())
    }
}

/// The id of a file named `name` of `bytes` bytes, if the server has one.
async fn find_file(client: &Client, name: &str, bytes: u64) -> Option<String> {
    let files = client.list_files().limit(100).into_stream();
    futures::pin_mut!(files);
    while let Some(Ok(f)) = files.next().await {
        if f.filename.as_deref() == Some(name) && f.bytes.is_none_or(|b| u64::try_from(b).ok() == Some(bytes)) {
            return Some(f.id);
        }
    }
    None
}

/// The batch of run `run_id`'s shard `i`, if the server has one (batches created more than a day
/// before the run started, by the local clock, are not searched: a margin for clock skew).
async fn find_batch(client: &Client, run_id: &str, i: usize, started: u64) -> anyhow::Result<Option<Batch>> {
    let shard = (i + 1).to_string();
    let since = i64::try_from(started).unwrap_or(i64::MAX) - 86_400;
    let found = client
        .list_batches()
        .limit(100)
        .into_stream()
        .try_take_while(|b| futures::future::ready(Ok(b.created_at.is_none_or(|t| t >= since))))
        .try_filter(|b| {
            let m = b.metadata.as_ref();
            let ours = m.and_then(|m| m.get(RUN_KEY)).and_then(Value::as_str) == Some(run_id)
                && m.and_then(|m| m.get(SHARD_KEY)).and_then(Value::as_str) == Some(shard.as_str());
            futures::future::ready(ours)
        })
        .try_next()
        .await?;
    Ok(found)
}
