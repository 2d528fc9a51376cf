//! `submit`: a JSONL file of any size to one merged results file, resumable. A thin layer over
//! the library's [`cerebras_batch::job::Job`], which does the work and keeps the state: this
//! module reads the arguments, handles Ctrl-C, prints the problems and the report, and picks
//! the exit code; [`crate::present`] draws the job's events.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use cerebras_batch::Client;
use cerebras_batch::job::{Job, ShardState};
use cerebras_batch::jsonl::MIN_REQUESTS;
use cerebras_batch::merge::MergeSummary;
use clap::Args;
use serde_json::{Value, json};

use crate::interrupt::Interrupt;
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
    /// Once the run has finished: run again, as new batches, the requests it left unfinished
    /// (expired, without a result, or failed with HTTP 408, 429 or 5xx, or a transient error
    /// code; never a 400 or `invalid_request`), and merge their results into the same output,
    /// every other line left byte for byte. Resumable like the first run; repeat until
    /// nothing is left. On a run not finished yet, it goes on with the run.
    #[arg(long)]
    pub rerun_unfinished: bool,
    /// Check the input and print the plan (batches; per model, requests and bytes), then stop:
    /// nothing is sent, nothing is written.
    #[arg(long, conflicts_with_all = ["rerun_unfinished", "cancel_on_interrupt"])]
    pub dry_run: bool,
}

/// The most problems of an input printed (the rest are counted).
const SHOWN_PROBLEMS: usize = 50;

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

fn outcome(summary: MergeSummary) -> Outcome {
    if summary.all_succeeded() {
        Outcome::Done
    } else {
        Outcome::Partial
    }
}

/// Prints the problems of an input (at most [`SHOWN_PROBLEMS`]), and returns the error saying
/// how many there are: `found` when the check counted them all, else (`None`) as many as it
/// listed, "at least" when it stopped listing at its cap. `hint` ends the message.
pub fn problems(
    path: &std::path::Path,
    list: &[cerebras_batch::Error],
    found: Option<usize>,
    hint: &str,
) -> anyhow::Error {
    for problem in list.iter().take(SHOWN_PROBLEMS) {
        eprintln!("{}", output::problem(path, problem));
    }
    let count = found.unwrap_or(list.len()).max(list.len());
    if count > SHOWN_PROBLEMS {
        eprintln!("... and {} more", count - SHOWN_PROBLEMS);
    }
    let count = match found {
        None if list.len() >= cerebras_batch::shard::MAX_PROBLEMS => format!("at least {count}"),
        _ => count.to_string(),
    };
    anyhow::anyhow!("{} has {count} problem(s); nothing was uploaded{hint}", path.display())
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
    presenter.planned_from(&job);
    if job.state().is_finished() {
        // A state file is input: one that says its last attempt merged but holds no summary
        // is an error naming it, not a panic.
        let summary = job.state().merged.ok_or_else(|| {
            anyhow::anyhow!(
                "{}: the state says the job finished but holds no merge summary; delete it to start again",
                job.state_location()
            )
        })?;
        output_still_there(&job)?;
        if !args.rerun_unfinished || !rerun(&mut job, &presenter, summary).await? {
            // A rerun asked for that did not run left its requests out as too few (said above).
            let advice = if args.rerun_unfinished {
                RerunAdvice::TooFew
            } else {
                rerun_advice(&job, Some(&summary)).await
            };
            report(&job, g.json, Some(summary), advice)?;
            return Ok(outcome(summary));
        }
    } else {
        let check = job.check().await?;
        if check.plan.is_none() {
            return Err(problems(
                &args.requests,
                &check.problems,
                Some(check.problems_found),
                "",
            ));
        }
        if let Some(plan) = &check.plan {
            presenter.planned(1, plan.shards.iter().map(|s| (s.requests, s.bytes)));
        }
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
    let result = result.inspect_err(|_| presenter.abandon());
    match result? {
        Some(summary) => {
            presenter.finish();
            let advice = rerun_advice(&job, Some(&summary)).await;
            report(&job, g.json, Some(summary), advice)?;
            Ok(outcome(summary))
        }
        None => {
            presenter.finish();
            report(&job, g.json, None, RerunAdvice::None)?;
            presenter.line(format!(
                "not finished: run the same command again to go on (add --wait to wait here); state in {}",
                job.state_location()
            ));
            Ok(Outcome::NotFinished)
        }
    }
}

/// What the summary says of a rerun of the requests worth another run.
enum RerunAdvice {
    /// Nothing: none is worth it, or the run is not finished.
    None,
    /// A rerun would make a batch: add `--rerun-unfinished`.
    Run,
    /// Too few of each model for a batch.
    TooFew,
    /// Planning it failed (the output or input could not be read): the error, said as such.
    Failed(String),
}

/// Whether a rerun of what `summary` counts as worth another run would make a batch: the
/// plan [`Job::preview_rerun`] makes (the least of a batch counts per model).
async fn rerun_advice(job: &Job, summary: Option<&MergeSummary>) -> RerunAdvice {
    if summary.is_none_or(|s| s.rerunnable == 0) {
        return RerunAdvice::None;
    }
    match job.preview_rerun().await {
        Ok(Some(plan)) if plan.shards > 0 => RerunAdvice::Run,
        Ok(_) => RerunAdvice::TooFew,
        Err(e) => RerunAdvice::Failed(e.to_string()),
    }
}

/// A finished job's summary says what its output holds: refused when the output is gone (a
/// cron job would read "wrote" and exit 0 for a file that is not there).
fn output_still_there(job: &Job) -> anyhow::Result<()> {
    match std::fs::metadata(job.output()) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "{} is gone: run {} wrote it and finished; delete {} to run the requests again",
            job.output().display(),
            job.state().run_id,
            job.state_location()
        ),
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read {}", job.output().display()))),
    }
}

/// Plans a rerun of what the finished `job` left unfinished; whether there is one to run.
async fn rerun(job: &mut Job, presenter: &Presenter, summary: MergeSummary) -> anyhow::Result<bool> {
    if summary.rerunnable == 0 {
        presenter.line(format!(
            "nothing to rerun: {} left no request worth another run",
            job.output().display()
        ));
        return Ok(false);
    }
    let Some(plan) = job.rerun_unfinished().await? else {
        return Ok(false);
    };
    presenter.planned_from(job);
    for (model, n) in &plan.left_out {
        presenter.line(format!(
            "left out: {n} unfinished request(s) of {model}, fewer than the {MIN_REQUESTS} a batch needs; their lines stay as they are"
        ));
    }
    Ok(plan.attempt.is_some())
}

/// Ctrl-C: the job's future is dropped (its state is saved at every step); cancels the active
/// batches when asked to, and says how to resume.
async fn interrupted(job: &mut Job, args: &SubmitArgs) -> anyhow::Result<Outcome> {
    let state = job.state_location();
    if args.cancel_on_interrupt {
        for cancelled in job.cancel().await? {
            match cancelled.result {
                Ok(status) => eprintln!(
                    "{}",
                    output::printable(&format!("cancelled {} ({status})", cancelled.batch_id))
                ),
                Err(e) => eprintln!(
                    "{}",
                    output::printable_lines(&format!("could not cancel {}: {e}", cancelled.batch_id))
                ),
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

/// The run's batches, and the merged counts once merged: a table (saying what `advice` says of
/// a rerun), or one JSON document.
fn report(job: &Job, json: bool, summary: Option<MergeSummary>, advice: RerunAdvice) -> anyhow::Result<()> {
    // Each batch with its attempt's number (1 for the first run, 2 for the first rerun, ...).
    let shards: Vec<(u32, usize, &ShardState)> = job
        .state()
        .attempts
        .iter()
        .flat_map(|a| a.shards.iter().map(move |s| (a.number, a.shards.len(), s)))
        .collect();
    let count = |s: &ShardState, pick: fn(&cerebras_batch::types::BatchRequestCounts) -> Option<i64>| {
        s.counts.as_ref().and_then(pick)
    };
    if json {
        let batches: Vec<Value> = shards
            .iter()
            .map(|&(attempt, _, s)| {
                json!({"attempt": attempt, "index": s.index + 1, "model": s.model, "requests": s.requests, "bytes": s.bytes,
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
    for &(attempt, of, s) in &shards {
        let name = if attempt == 1 {
            format!("{}/{of}", s.index + 1)
        } else {
            format!("{}/{of} (rerun {})", s.index + 1, attempt - 1)
        };
        output::row(
            &mut table,
            vec![
                name,
                s.model.clone(),
                s.requests.to_string(),
                output::or_dash(s.batch_id.as_ref()),
                output::or_dash(s.status.as_ref()),
                output::or_dash(count(s, |c| c.completed)),
                output::or_dash(count(s, |c| c.failed)),
            ],
        );
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
        let n = s.rerunnable;
        match advice {
            RerunAdvice::None => {}
            RerunAdvice::Run => println!("  {n} of them worth another run: add --rerun-unfinished"),
            RerunAdvice::TooFew => println!(
                "  {n} of them worth another run, too few for a batch ({MIN_REQUESTS} of one model): send them another way"
            ),
            RerunAdvice::Failed(e) => println!(
                "  {n} of them worth another run; planning a rerun failed: {}",
                output::printable_lines(&e)
            ),
        }
        if s.error_file_lines > 0 {
            println!("  ({} of these lines came from error files)", s.error_file_lines);
        }
        if s.unexpected > 0 {
            println!(
                "  and {} result line(s) for no request of the input, at the end",
                s.unexpected
            );
        }
        if s.unreadable > 0 {
            println!(
                "  and {} unreadable result line(s), kept as the server wrote them",
                s.unreadable
            );
        }
        let u = s.usage;
        let reasoning = u
            .reasoning_tokens
            .map_or_else(String::new, |r| format!(", reasoning {r}"));
        println!(
            "tokens: prompt {}, completion {}, total {}{reasoning} (from {} result lines)",
            u.prompt_tokens, u.completion_tokens, u.total_tokens, u.lines
        );
    }
    Ok(())
}
