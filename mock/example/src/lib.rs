//! A downstream crate's own batch code, as a user of `cerebras-batch` writes it, and (in
//! `tests/`) how it is tested without the network with `cerebras-batch-mock`.

use cerebras_batch::types::BatchResultStatus;
use cerebras_batch::{Client, WaitOptions};
use futures::StreamExt;

/// What a cancelled batch left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartialResults {
    /// The batch's final status (`cancelled`, or `completed` if it finished first).
    pub status: String,
    /// Result lines that succeeded.
    pub succeeded: usize,
    /// Result lines that failed or expired.
    pub failed: usize,
}

/// Cancels a batch, waits until it is final, and counts the results it kept.
///
/// # Errors
///
/// Any error of [`Client::cancel_and_wait`] or of downloading the output.
pub async fn cancel_and_count(
    client: &Client,
    batch_id: &str,
    wait: WaitOptions,
) -> cerebras_batch::Result<PartialResults> {
    let batch = client.cancel_and_wait(batch_id, wait).await?;
    let (mut succeeded, mut failed) = (0, 0);
    if let Some(download) = client.download_output(&batch).await? {
        let mut lines = download.results();
        while let Some(line) = lines.next().await {
            match line?.status() {
                BatchResultStatus::Succeeded => succeeded += 1,
                _ => failed += 1,
            }
        }
    }
    Ok(PartialResults {
        status: batch.status_text().to_owned(),
        succeeded,
        failed,
    })
}

/// Counts the files of the account, page by page.
///
/// # Errors
///
/// Any error of listing files (after the client's retries).
pub async fn count_files(client: &Client) -> cerebras_batch::Result<usize> {
    let mut files = client.list_files().limit(100).into_stream();
    let mut n = 0;
    while let Some(file) = files.next().await {
        file?;
        n += 1;
    }
    Ok(n)
}
