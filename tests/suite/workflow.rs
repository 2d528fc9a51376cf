//! The whole batch workflow against the fake API on 127.0.0.1: upload, create, wait, download and
//! read the results.

use cerebras_batch::Client;
use cerebras_batch::UploadFile;
use cerebras_batch::WaitOptions;
use cerebras_batch::jsonl::ChatCompletionRequest;
use cerebras_batch::jsonl::ChatMessage;
use cerebras_batch::jsonl::RequestWriter;
use cerebras_batch::jsonl::ResultShape;
use cerebras_batch::types::BatchResultStatus;
use cerebras_batch::types::BatchStatus;
use futures::StreamExt;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use wiremock::MockServer;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .expect("client builds")
}

fn fast() -> WaitOptions {
    WaitOptions::default().intervals(Duration::from_millis(1), Duration::from_millis(5))
}

fn twelve_requests() -> Vec<u8> {
    let mut writer = RequestWriter::new(Vec::new());
    for i in 1..=12 {
        let body = ChatCompletionRequest::new("llama-3.3-70b", vec![ChatMessage::user(format!("Question {i}"))])
            .max_completion_tokens(500);
        writer.push(format!("req-{i:02}"), &body).expect("valid line");
    }
    let (bytes, summary) = writer.finish().expect("12 lines are enough");
    assert_eq!((summary.lines, summary.bytes as usize), (12, bytes.len()));
    bytes
}

#[tokio::test]
async fn create_wait_and_download_the_results() {
    let server = cerebras_batch_tests::demo().await;
    let c = client(&server);
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
