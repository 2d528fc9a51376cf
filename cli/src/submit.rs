//! `submit`: a JSONL file of any size to one merged results file, resumable. A thin layer over
//! the library's [`cerebras_batch::job::Job`], which does the work and keeps the state: this
//! module reads the arguments, handles Ctrl-C, prints the problems and the report, and picks
//! the exit code; [`crate::present`] draws the job's events.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::bail;
use cerebras_batch::Client;
use cerebras_batch::job::Job;
use cerebras_batch::merge::MergeSummary;
use clap::Args;
use serde_json::{Value, json};

use crate::present::Presenter;
use crate::{Global, Outcome, hooks, output};

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

/// Ctrl-C: the first resolves [`first`](Self::first); a second exits at once.
struct Interrupt {
    notify: Arc<tokio::sync::Notify>,
}

impl Interrupt {
    fn install() -> Self {
        let notify = Arc::new(tokio::sync::Notify::new());
        let first = notify.clone();
        tokio::spawn(async move {
            let mut fired = false;
            while tokio::signal::ctrl_c().await.is_ok() {
                if fired {
                    eprintln!("\ncerebras-batch: interrupted twice; exiting now");
                    std::process::exit(130);
                }
                fired = true;
                first.notify_one();
            }
        });
        Self { notify }
    }

    async fn first(&self) {
        self.notify.notified().await;
    }
}

fn outcome(summary: MergeSummary) -> Outcome {
    if summary.all_succeeded() {
        Outcome::Done
    } else {
        Outcome::Incomplete
    }
}

/// `submit`.
pub async fn run(client: Client, g: &Global, args: SubmitArgs) -> anyhow::Result<Outcome> {
    let presenter = Presenter::new(g.quiet);
    let faults = Mutex::new(hooks::Faults::from_env());
    let shown = presenter.clone();
    let mut builder = Job::builder(&args.requests, &args.out)
        .max_active(args.max_active as usize)
        .max_requests(args.max_requests as usize)
        .poll_interval(args.poll_interval)
        .on_event(move |event| {
            faults
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .check(event);
            shown.show(event);
        });
    for (key, value) in &args.metadata {
        builder = builder.metadata(key, value);
    }
    let mut job = builder.open(client)?;
    presenter.begin(&job);
    if let Some(summary) = job.state().merged {
        report(&job, g.json, Some(summary))?;
        return Ok(outcome(summary));
    }
    let check = job.check().await?;
    if check.plan.is_none() {
        for problem in check.problems.iter().take(50) {
            eprintln!("{}", output::problem(&args.requests, problem));
        }
        if check.problems.len() > 50 {
            eprintln!("... and {} more", check.problems.len() - 50);
        }
        bail!(
            "{} has {} problem(s); nothing was uploaded",
            args.requests.display(),
            check.problems.len()
        );
    }
    if let Some(plan) = &check.plan {
        presenter.planned(plan.shards.iter().map(|s| (s.requests, s.bytes)).collect());
    }
    let interrupt = Interrupt::install();
    let result = tokio::select! {
        result = async { if args.wait { job.run().await.map(Some) } else { job.advance().await } } => Some(result),
        () = interrupt.first() => None,
    };
    let Some(result) = result else {
        presenter.abandon();
        return interrupted(&mut job, &args).await;
    };
    match result? {
        Some(summary) => {
            report(&job, g.json, Some(summary))?;
            Ok(outcome(summary))
        }
        None => {
            report(&job, g.json, None)?;
            presenter.line(format!(
                "not finished: run the same command again to go on (add --wait to wait here); state in {}",
                job.state_location()
            ));
            Ok(Outcome::Done)
        }
    }
}

/// Ctrl-C: the job's future is dropped (its state is saved at every step); cancels the active
/// batches when asked to, and says how to resume.
async fn interrupted(job: &mut Job, args: &SubmitArgs) -> anyhow::Result<Outcome> {
    let state = job.state_location();
    if args.cancel_on_interrupt {
        for cancelled in job.cancel().await? {
            match cancelled.result {
                Ok(status) => eprintln!("cancelled {} ({status})", cancelled.batch_id),
                Err(e) => eprintln!("could not cancel {}: {e}", cancelled.batch_id),
            }
        }
        eprintln!(
            "interrupted: the active batches were cancelled. Run the same command again to collect their partial results (state in {state})"
        );
    } else {
        eprintln!("interrupted: nothing is lost. Run the same command again to resume (state in {state})");
    }
    Ok(Outcome::Interrupted)
}

/// The run's batches, and the merged counts once merged: a table, or one JSON document.
fn report(job: &Job, json: bool, summary: Option<MergeSummary>) -> anyhow::Result<()> {
    let shards: Vec<_> = job.state().attempts.iter().flat_map(|a| &a.shards).collect();
    let count = |s: &cerebras_batch::job::ShardState,
                 pick: fn(&cerebras_batch::types::BatchRequestCounts) -> Option<i64>| {
        s.counts.as_ref().and_then(pick)
    };
    if json {
        let batches: Vec<Value> = shards
            .iter()
            .map(|s| {
                json!({"index": s.index + 1, "model": s.model, "requests": s.requests, "bytes": s.bytes,
                       "file_id": s.file_id, "batch_id": s.batch_id, "status": s.status,
                       "completed": count(s, |c| c.completed), "failed": count(s, |c| c.failed)})
            })
            .collect();
        return output::json(&json!({
            "run_id": job.run_id(), "out": job.output(), "state": job.state_location(),
            "done": summary.is_some(), "batches": batches, "summary": summary,
        }));
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(vec!["BATCH", "MODEL", "REQUESTS", "ID", "STATUS", "DONE", "FAILED"]);
    for s in &shards {
        table.add_row(vec![
            format!("{}/{}", s.index + 1, shards.len()),
            s.model.clone(),
            s.requests.to_string(),
            output::or_dash(s.batch_id.as_ref()),
            output::or_dash(s.status.as_ref()),
            output::or_dash(count(s, |c| c.completed)),
            output::or_dash(count(s, |c| c.failed)),
        ]);
    }
    println!("{table}");
    if let Some(s) = summary {
        println!(
            "\nwrote {}: {} results in the input's order\n  succeeded {}\n  failed    {}\n  expired   {}\n  missing   {}",
            job.output().display(),
            s.requests(),
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
