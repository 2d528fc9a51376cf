//! The whole batch workflow: write a JSONL file of 12 requests, upload it, create a batch, wait
//! for it, download the results and print a summary per status.
//!
//! ```text
//! CEREBRAS_BASE_URL=http://127.0.0.1:7070 CEREBRAS_API_KEY=any-key cargo run -p cerebras-batch --example workflow
//! ```
//! Set `CEREBRAS_MODEL` to choose the model (default `llama-3.3-70b`).

use std::collections::BTreeMap;
use std::time::Duration;

use cerebras_batch::jsonl::{ChatCompletionRequest, ChatMessage, RequestWriter, check_request_file};
use cerebras_batch::types::CreateBatchRequest;
use cerebras_batch::{Client, UploadFile, WaitOptions};
use futures::StreamExt;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Errors are printed with `Display`: the operation, the request, the status and the
    // server's message, in one line.
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let model = std::env::var("CEREBRAS_MODEL").unwrap_or_else(|_| "llama-3.3-70b".into());

    // 1. Write the requests; the writer refuses any line that breaks a documented limit.
    let path = std::env::temp_dir().join("cerebras-batch-workflow.jsonl");
    let mut writer = RequestWriter::new(std::io::BufWriter::new(std::fs::File::create(&path)?));
    for i in 1..=12 {
        let body = ChatCompletionRequest::new(
            &model,
            vec![ChatMessage::user(format!(
                "Give me fact number {i} about the water cycle."
            ))],
        )
        .max_completion_tokens(200);
        writer.push(format!("req-{i:02}"), &body)?;
    }
    let (_, summary) = writer.finish()?;
    println!(
        "wrote {} requests ({} bytes) to {}",
        summary.lines,
        summary.bytes,
        path.display()
    );
    let check = check_request_file(tokio::fs::File::open(&path).await?).await?;
    assert!(check.is_ok(), "{:?}", check.problems);

    // 2. Upload it, streaming, with progress.
    let file = client
        .upload_file(UploadFile::from_path(&path).on_progress(|p| {
            eprint!(
                "\ruploaded {} of {} bytes",
                p.sent,
                p.total.map_or("?".to_owned(), |t| t.to_string())
            )
        }))
        .await?;
    eprintln!();
    println!(
        "uploaded {} as {}",
        file.filename.as_deref().unwrap_or("(unnamed)"),
        file.id
    );

    // 3. Create the batch.
    let batch = client
        .create_batch(CreateBatchRequest::chat_completions(&file.id))
        .await?;
    println!("created {} ({})", batch.id, batch.status_text());

    // 4. Wait for a final status.
    let options = WaitOptions::default()
        .intervals(Duration::from_millis(200), Duration::from_secs(30))
        .on_poll(|b| println!("  {} is {}", b.id, b.status_text()));
    let batch = client.wait_for_batch(&batch.id, options).await?;
    println!("{} ended {}", batch.id, batch.status_text());

    // 5. Download the results and summarise them by status.
    let Some(download) = client.download_output(&batch).await? else {
        println!("no output file");
        return Ok(());
    };
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut results = download.results();
    while let Some(line) = results.next().await {
        match line {
            Ok(line) => {
                *by_status.entry(line.status().to_string()).or_default() += 1;
                if let Some(e) = line.error() {
                    println!("  {}: {:?} {:?}", line.custom_id(), e.code, e.message);
                }
            }
            Err(e) => println!("  unreadable result: {e}"),
        }
    }
    for (status, n) in by_status {
        println!("{status}: {n}");
    }
    Ok(())
}
