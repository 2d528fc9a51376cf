//! `status ID --wait [--timeout]`: waits on any batch, showing its progress, and exits by how it
//! ended (the table of [`crate::EXIT_CODES`]), as openai-cli's `batches retrieve --wait` does,
//! with distinct codes where it answers 1. Ctrl-C stops waiting and never cancels the batch.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cerebras_batch::types::{Batch, BatchRequestCounts};
use cerebras_batch::{Client, ErrorKind, WaitOptions};

use crate::interrupt::Interrupt;
use crate::progress::Display;
use crate::{Global, Outcome, output};

/// How a final batch ended, as an exit code.
pub fn batch_outcome(batch: &Batch) -> Outcome {
    match batch.status_text() {
        "completed" => match consistent(batch.request_counts.as_ref()) {
            None => Outcome::BadCounts,
            Some((_, 0)) => Outcome::Done,
            Some(_) => Outcome::Partial,
        },
        "expired" => Outcome::Expired,
        "cancelled" => Outcome::Cancelled,
        "failed" => Outcome::Failed,
        _ => Outcome::Unknown,
    }
}

/// `(total, failed)` when the counts are there, not negative, and add up.
fn consistent(counts: Option<&BatchRequestCounts>) -> Option<(i64, i64)> {
    let c = counts?;
    let (total, completed, failed) = (c.total?, c.completed?, c.failed?);
    (total >= 0 && completed >= 0 && failed >= 0 && total == completed + failed).then_some((total, failed))
}

/// What a poll shows: `status (done/total done, failed failed)`, and for `finalizing` that the
/// batch is writing its results (it sits at 100 % meanwhile).
pub fn describe(batch: &Batch) -> String {
    let status = batch.status_text();
    let counts = batch.request_counts.as_ref().and_then(|c| {
        let total = c.total.filter(|t| *t > 0)?;
        Some(format!(
            " ({}/{total} done, {} failed)",
            c.completed.unwrap_or(0),
            c.failed.unwrap_or(0)
        ))
    });
    let note = if status == "finalizing" {
        ": all requests ran; the server is writing the results"
    } else {
        ""
    };
    format!("{status}{}{note}", counts.unwrap_or_default())
}

/// Why the exit code is not 0, in words.
fn reason(batch: &Batch, outcome: Outcome) -> Option<String> {
    let id = &batch.id;
    Some(match outcome {
        Outcome::Done => return None,
        Outcome::Partial => format!("batch {id} completed, but some requests failed: {}", describe(batch)),
        Outcome::BadCounts => format!(
            "batch {id} completed with request counts that are missing or do not add up (total != completed + failed): {}",
            batch
                .request_counts
                .as_ref()
                // Serializing a struct of numbers and a JSON map to a string cannot fail.
                .map_or_else(|| "none".to_owned(), |c| serde_json::to_string(c).unwrap_or_default())
        ),
        Outcome::Unknown => format!(
            "batch {id} ended `{}`, a status this command does not know",
            batch.status_text()
        ),
        _ => format!("batch {id} ended `{}`", batch.status_text()),
    })
}

/// `status ID --wait [--timeout SECONDS]`.
pub async fn status_wait(
    client: &Client,
    g: &Global,
    id: &str,
    timeout: Option<Duration>,
    poll_interval: Duration,
) -> anyhow::Result<Outcome> {
    let mut display = Display::new(g.quiet);
    display.footer("Ctrl-C stops waiting; the batch goes on");
    let spinner = display.spinner(format!("batch {id}: waiting"), None);
    let last_shown: Arc<Mutex<String>> = Arc::default();
    let (shown, plain) = (spinner.clone(), display.plain());
    let mut options = WaitOptions::default()
        .intervals(poll_interval, Duration::from_secs(60))
        .on_poll(move |batch| {
            let text = output::printable(&format!("batch {}: {}", batch.id, describe(batch))).into_owned();
            let mut last = last_shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if plain && *last != text {
                eprintln!("{text}");
            }
            shown.set_message(text.clone());
            *last = text;
        });
    let (errors, plain_errors) = (spinner.clone(), display.plain());
    options = options.on_poll_error(move |e, retry_in| {
        let text = format!(
            "poll failed ({e}); trying again in {}",
            humantime::format_duration(Duration::from_millis(retry_in.as_millis() as u64))
        );
        let text = output::printable_lines(&text);
        if plain_errors {
            eprintln!("{text}");
        } else {
            errors.println(text);
        }
    });
    // Without --timeout the wait still ends: at the client's DEFAULT_WAIT_DEADLINE (25 h, a
    // day's completion window and some), which the message below then names.
    let deadline = timeout.unwrap_or(cerebras_batch::DEFAULT_WAIT_DEADLINE);
    options = options.deadline(deadline);
    let interrupt = Interrupt::install();
    let result = tokio::select! {
        result = client.wait_for_batch(id, options) => Some(result),
        () = interrupt.first() => None,
    };
    spinner.finish_and_clear();
    display.clear();
    let batch = match result {
        None => {
            eprintln!("interrupted: stopped waiting; batch {id} goes on (it was not cancelled)");
            return Ok(Outcome::Interrupted);
        }
        Some(Err(e)) if e.kind() == ErrorKind::DeadlineExceeded => {
            let seen = e.last_batch().map_or_else(|| "not seen yet".to_owned(), describe);
            let limit = match timeout {
                Some(t) => format!("{} s", t.as_secs_f64()),
                None => format!(
                    "{} (the default limit; set --timeout)",
                    humantime::format_duration(deadline)
                ),
            };
            let text = format!("timed out after {limit}: batch {id} is {seen}; it goes on");
            eprintln!("{}", output::printable(&text));
            return Ok(Outcome::TimedOut);
        }
        Some(Err(e)) => return Err(e.into()),
        Some(Ok(batch)) => batch,
    };
    if g.json {
        output::json(&batch)?;
    } else {
        println!("{}", output::batch(&batch));
    }
    let outcome = batch_outcome(&batch);
    if let Some(reason) = reason(&batch, outcome) {
        eprintln!("{}", output::printable(&format!("{reason} (exit {})", outcome.code())));
    }
    Ok(outcome)
}
