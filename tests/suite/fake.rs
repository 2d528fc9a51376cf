//! The stateful fake's knobs (`cerebras_batch_mock::FakeOptions`), each played as the job's tests
//! use it.

use std::time::Duration;

use cerebras_batch::jsonl::{ResultShape, read_results_from};
use cerebras_batch::types::{BatchResultStatus, CreateBatchRequest};
use cerebras_batch::{Client, ErrorKind, UploadFile, operations};
use cerebras_batch_mock::{FakeApi, FakeOptions, LineFailure};
use futures::StreamExt;

fn requests(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| {
            format!(
                "{{\"custom_id\":\"{id}\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{{\"model\":\"m\",\"messages\":[{{\"role\":\"user\",\"content\":\"q {id}\"}}]}}}}\n"
            )
        })
        .collect()
}

/// Uploads `lines` and creates their batch; returns its id.
async fn start(client: &Client, lines: String) -> String {
    let size = lines.len() as u64;
    let file = client
        .upload_file(UploadFile::from_reader(
            std::io::Cursor::new(lines.into_bytes()),
            "in.jsonl",
            Some(size),
        ))
        .await
        .unwrap();
    client
        .create_batch(CreateBatchRequest::chat_completions(file.id))
        .await
        .unwrap()
        .id
}

/// Retrieves the batch until it is final; returns every status seen.
async fn statuses(client: &Client, id: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..100 {
        let batch = client.retrieve_batch(id).await.unwrap();
        seen.push(batch.status_text().to_owned());
        if batch.is_terminal() {
            return seen;
        }
    }
    panic!("never final: {seen:?}");
}

#[tokio::test]
async fn lines_fail_with_the_cause_asked_for_in_its_shape() {
    let options = FakeOptions::default()
        .fail_lines("rate-", LineFailure::status(429))
        .fail_lines("down-", LineFailure::status(503))
        .fail_lines("slow-", LineFailure::code("timeout"))
        .fail_lines("late-", LineFailure::Expired);
    let fake = FakeApi::start_with(options).await;
    let client = fake.client();
    let ids = [
        "ok-1", "rate-1", "down-1", "slow-1", "late-1", "fail-1", "ok-2", "ok-3", "ok-4", "ok-5",
    ];
    let id = start(&client, requests(&ids)).await;
    assert_eq!(statuses(&client, &id).await, ["in_progress", "finalizing", "completed"]);
    let batch = client.retrieve_batch(&id).await.unwrap();
    let counts = batch.request_counts.clone().unwrap();
    assert_eq!(
        (counts.total, counts.completed, counts.failed),
        (Some(10), Some(5), Some(5))
    );
    let mut lines = Vec::new();
    for download in [
        client.download_output(&batch).await,
        client.download_errors(&batch).await,
    ] {
        let bytes = download.unwrap().expect("a file").bytes().await.unwrap();
        let mut stream = read_results_from(std::io::Cursor::new(bytes.to_vec()));
        while let Some(line) = stream.next().await {
            lines.push(line.unwrap());
        }
    }
    /// `custom_id`, status, shape, HTTP status, error code.
    type Seen = (String, BatchResultStatus, ResultShape, Option<u16>, Option<String>);
    let seen: Vec<Seen> = lines
        .iter()
        .filter(|l| !l.custom_id().starts_with("ok"))
        .map(|l| {
            (
                l.custom_id().to_owned(),
                l.status(),
                l.shape(),
                l.http_status(),
                l.error().and_then(|e| e.code.clone()),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "late-1".into(),
                BatchResultStatus::Expired,
                ResultShape::Cerebras,
                None,
                Some("timeout".into())
            ),
            (
                "rate-1".into(),
                BatchResultStatus::Failed,
                ResultShape::OpenAi,
                Some(429),
                None
            ),
            (
                "down-1".into(),
                BatchResultStatus::Failed,
                ResultShape::OpenAi,
                Some(503),
                None
            ),
            (
                "slow-1".into(),
                BatchResultStatus::Failed,
                ResultShape::Cerebras,
                None,
                Some("timeout".into())
            ),
            (
                "fail-1".into(),
                BatchResultStatus::Failed,
                ResultShape::Cerebras,
                None,
                Some("invalid_request".into())
            ),
        ]
    );
}

#[tokio::test]
async fn a_batch_stays_in_finalizing_for_the_polls_asked_for() {
    let fake = FakeApi::start_with(FakeOptions::default().finalizing_polls(4)).await;
    let client = fake.client();
    let ids: Vec<String> = (0..10).map(|i| format!("q{i}")).collect();
    let id = start(&client, requests(&ids.iter().map(String::as_str).collect::<Vec<_>>())).await;
    assert_eq!(
        statuses(&client, &id).await,
        [
            "in_progress",
            "finalizing",
            "finalizing",
            "finalizing",
            "finalizing",
            "completed"
        ]
    );
}

#[tokio::test]
async fn request_counts_can_stay_zero_until_the_end_and_null_on_cancel() {
    let fake = FakeApi::start_with(FakeOptions::default().hide_request_counts().polls_per_status(2)).await;
    let client = fake.client();
    let ids: Vec<String> = (0..10).map(|i| format!("q{i}")).collect();
    let lines = requests(&ids.iter().map(String::as_str).collect::<Vec<_>>());
    let id = start(&client, lines.clone()).await;
    loop {
        let batch = client.retrieve_batch(&id).await.unwrap();
        let c = batch.request_counts.clone().unwrap();
        if batch.is_terminal() {
            assert_eq!((c.total, c.completed), (Some(10), Some(10)));
            break;
        }
        assert_eq!(
            (c.total, c.completed, c.failed),
            (Some(0), Some(0), Some(0)),
            "{}",
            batch.status_text()
        );
    }
    let other = start(&client, lines).await;
    let cancelled = client.cancel_batch(&other).await.unwrap();
    assert_eq!(cancelled.status_text(), "cancelling");
    assert_eq!(cancelled.request_counts, None);
}

#[tokio::test]
async fn a_route_fails_for_the_next_requests_then_recovers() {
    let fake = FakeApi::start_with(FakeOptions::default().fail_next(&operations::LIST_FILES, 503, 3)).await;
    let client = fake.client();
    let err = client.list_files().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.attempts(), 3, "the client retried twice");
    assert_eq!(fake.pending_faults(&operations::LIST_FILES), 0);
    client.list_files().await.unwrap();
    // Armed at run time, on another route: the failed create has no effect.
    fake.fail_next(&operations::CREATE_BATCH, 500, 1);
    let err = client
        .create_batch(CreateBatchRequest::chat_completions("file-fake-1"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(fake.counts(), (0, 0));
}

#[tokio::test]
async fn a_slow_download_answers_late_and_a_delayed_create_takes_effect_at_once() {
    let fake = FakeApi::start_with(FakeOptions::default().slow_downloads(Duration::from_secs(3))).await;
    let ids: Vec<String> = (0..10).map(|i| format!("q{i}")).collect();
    let lines = requests(&ids.iter().map(String::as_str).collect::<Vec<_>>());
    let client = fake.client();
    let id = start(&client, lines).await;
    statuses(&client, &id).await;
    let batch = client.retrieve_batch(&id).await.unwrap();
    let impatient = Client::builder()
        .api_key("k")
        .base_url(fake.uri())
        .timeout(Duration::from_millis(300))
        .max_retries(0)
        .build()
        .unwrap();
    let err = impatient.download_output(&batch).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");

    fake.set_delay(&operations::CREATE_BATCH, Some(Duration::from_secs(30)));
    let create = client.create_batch(CreateBatchRequest::chat_completions(
        batch.input_file_id.clone().unwrap(),
    ));
    let dropped = tokio::time::timeout(Duration::from_millis(500), create.send()).await;
    assert!(dropped.is_err(), "the answer is late");
    assert_eq!(fake.counts().1, 2, "the batch was created before its answer");
}
