//! The whole batch workflow against the fake API on 127.0.0.1: upload, create, wait, download and
//! read the results.

use cerebras_batch::UploadFile;
use cerebras_batch::WaitOptions;
use cerebras_batch::jsonl::ResultShape;
use cerebras_batch::types::BatchResultStatus;
use cerebras_batch::types::BatchStatus;
use cerebras_batch_tests::test_client;
use cerebras_batch_tests::twelve_requests;
use futures::StreamExt;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

fn fast() -> WaitOptions {
    WaitOptions::default().intervals(Duration::from_millis(1), Duration::from_millis(5))
}

#[tokio::test]
async fn create_wait_and_download_the_results() {
    let server = cerebras_batch_tests::demo().await;
    let c = test_client(&server.uri(), 0);
    let file = c
        .upload_file(UploadFile::from_reader(
            std::io::Cursor::new(twelve_requests()),
            "requests.jsonl",
            None,
        ))
        .await
        .expect("upload");
    let batch = c
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions(&file.id))
        .await
        .expect("create");
    assert_eq!(batch.status, Some(BatchStatus::Validating));

    let statuses = Arc::new(Mutex::new(Vec::new()));
    let seen = statuses.clone();
    let done = c
        .wait_for_batch(
            &batch.id,
            fast().on_poll(move |b| seen.lock().unwrap().push(b.status.clone())),
        )
        .await
        .expect("completes");
    assert_eq!(
        *statuses.lock().unwrap(),
        [BatchStatus::InProgress, BatchStatus::Finalizing, BatchStatus::Completed].map(Some)
    );
    assert_eq!(
        done.output_file_id.as_deref(),
        Some(cerebras_batch_mock::demo::OUTPUT_FILE_ID)
    );

    let lines: Vec<_> = c
        .download_output(&done)
        .await
        .expect("download")
        .expect("an output file")
        .results()
        .collect()
        .await;
    let lines: Vec<_> = lines.into_iter().map(|l| l.expect("every line decodes")).collect();
    assert_eq!(lines.len(), 12);
    let count = |s: BatchResultStatus| lines.iter().filter(|l| l.status() == s).count();
    assert_eq!(
        (
            count(BatchResultStatus::Succeeded),
            count(BatchResultStatus::Failed),
            count(BatchResultStatus::Expired)
        ),
        (10, 1, 1)
    );
    assert_eq!(lines[1].shape(), ResultShape::OpenAi);
    assert_eq!(lines[1].http_status(), Some(200));
    assert_eq!(
        lines[0].completion().unwrap()["choices"][0]["message"]["content"],
        "Answer 1"
    );
    assert_eq!(
        lines[1].completion().unwrap()["choices"][0]["message"]["content"],
        "Answer 2"
    );
    assert_eq!(
        lines[2].error().and_then(|e| e.code.as_deref()),
        Some("invalid_request")
    );
}
