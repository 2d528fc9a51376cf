//! Cancel a batch, wait until it is `cancelled` (up to 10 minutes), then count the partial
//! results in its output file.
//!
//! ```text
//! CEREBRAS_BASE_URL=http://127.0.0.1:7070 CEREBRAS_API_KEY=any-key cargo run -p cerebras-batch --example cancel -- batch_cancel1
//! ```

use std::time::Duration;

use cerebras_batch::{Client, WaitOptions};
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
    let batch_id = std::env::args().nth(1).ok_or("usage: cancel <batch_id>")?;
    let client = Client::from_env()?;
    let options = WaitOptions::default()
        .intervals(Duration::from_millis(200), Duration::from_secs(15))
        .on_poll(|b| println!("  {} is {}", b.id, b.status_text()));
    let batch = client.cancel_and_wait(&batch_id, options).await?;
    println!(
        "{} ended {} (cancelled at {:?}, Unix seconds)",
        batch.id,
        batch.status_text(),
        batch.cancelled_at
    );
    match client.download_output(&batch).await? {
        Some(download) => {
            let lines: Vec<_> = download.results().collect().await;
            let ok = lines.iter().filter(|l| l.is_ok()).count();
            println!("partial results: {ok} lines ({} unreadable)", lines.len() - ok);
        }
        None => println!("no partial results"),
    }
    Ok(())
}
