//! A batch job through the library alone: run a request file to merged results, interrupt the
//! run once its first batch exists (its future is dropped, as on Ctrl-C or a shutdown), then
//! open the job again and let it finish. Nothing is uploaded or created twice.
//!
//! ```text
//! cargo run -p cerebras-batch-mock --bin fake-server -- --stateful &
//! CEREBRAS_BASE_URL=http://127.0.0.1:7070 CEREBRAS_API_KEY=any-key cargo run -p cerebras-batch --example job
//! ```
//! Set `CEREBRAS_MODEL` to choose the model (default `llama-3.3-70b`).

use std::time::Duration;

use cerebras_batch::Client;
use cerebras_batch::job::{Job, JobBuilder, JobEvent};
use cerebras_batch::jsonl::{ChatCompletionRequest, ChatMessage, RequestWriter};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Prints what the job does: one line per step.
fn show(event: &JobEvent) {
    match event {
        JobEvent::Started {
            run_id, resumed: true, ..
        } => println!("resuming run {run_id}"),
        JobEvent::Planned { requests, shards, .. } => println!("{requests} requests in {shards} batches"),
        JobEvent::Uploaded {
            shard, file_id, found, ..
        } => println!(
            "batch {}/{}: {} {file_id}",
            shard.index + 1,
            shard.of,
            if *found { "found its upload" } else { "uploaded as" }
        ),
        JobEvent::BatchCreated {
            shard, batch_id, found, ..
        } => println!(
            "batch {}/{}: {} {batch_id}",
            shard.index + 1,
            shard.of,
            if *found { "found" } else { "created" }
        ),
        JobEvent::BatchStatus {
            shard,
            batch_id,
            status,
            changed: true,
            ..
        } => println!("batch {}/{} {batch_id}: {status}", shard.index + 1, shard.of),
        JobEvent::Merged { output, summary } => println!(
            "wrote {}: {} succeeded, {} failed, {} expired, {} missing",
            output.display(),
            summary.succeeded,
            summary.failed,
            summary.expired,
            summary.missing
        ),
        _ => {}
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let model = std::env::var("CEREBRAS_MODEL").unwrap_or_else(|_| "llama-3.3-70b".into());
    let dir = std::env::temp_dir().join(format!("cerebras-batch-job-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (input, output) = (dir.join("requests.jsonl"), dir.join("results.jsonl"));

    // 60 requests: three batches of 20.
    let mut writer = RequestWriter::new(std::io::BufWriter::new(std::fs::File::create(&input)?));
    for i in 1..=60 {
        let question = format!("What is {i} squared?");
        writer.push(
            format!("q-{i:03}"),
            &ChatCompletionRequest::new(&model, vec![ChatMessage::user(question)]),
        )?;
    }
    writer.finish()?;
    let job = || -> JobBuilder {
        Job::builder(&input, &output)
            .max_requests(20)
            .poll_interval(Duration::from_millis(500))
    };

    // 1. Run until the first batch exists, then drop the run's future.
    let (created, first_batch) = futures::channel::oneshot::channel::<()>();
    let created = std::sync::Mutex::new(Some(created));
    let mut first = job()
        .on_event(move |event| {
            show(event);
            if matches!(event, JobEvent::BatchCreated { .. })
                && let Some(created) = created.lock().expect("not poisoned").take()
            {
                let _ = created.send(());
            }
        })
        .open(client.clone())?;
    tokio::select! {
        result = first.run() => { result?; }
        _ = first_batch => println!("-- interrupted: the run's future is dropped; its state is in {}", first.state_location()),
    }
    // The job holds its state's lock until dropped.
    drop(first);

    // 2. Open the same job again: it resumes where it stopped.
    let mut again = job().on_event(show).open(client)?;
    assert!(again.is_resumed());
    let summary = again.run().await?;
    let text = std::fs::read_to_string(&output)?;
    println!(
        "{} result lines, in the input's order; the first: {}",
        summary.requests(),
        text.lines().next().unwrap_or_default()
    );
    drop(again);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
