//! A job's future dropped at every point, then resumed: nothing uploaded or created twice,
//! nothing lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cerebras_batch::job::{Job, JobEvent};
use cerebras_batch::operations;
use cerebras_batch_mock::{FakeApi, FakeOptions};

use super::{Scratch, assert_merged, requests};

/// Polls `done` every 5 ms, for up to 10 s.
async fn until(done: impl Fn() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened");
}

/// The "done when": the future is dropped while the create's answer is on its way
/// (the batch exists on the server, the job has not heard of it), and a new job on the same
/// state finishes with exactly one batch.
#[tokio::test]
async fn a_job_dropped_in_the_create_window_resumes_with_one_batch() {
    let fake =
        FakeApi::start_with(FakeOptions::default().delay(&operations::CREATE_BATCH, Duration::from_secs(30))).await;
    let scratch = Scratch::new("create-window");
    let input = requests("q", 12, "llama3.1-8b");
    scratch.input(&input);
    let mut job = scratch.job().open(fake.client()).unwrap();
    tokio::select! {
        result = job.run() => panic!("the run ended: {result:?}"),
        () = until(|| fake.counts().1 == 1) => {}
    }
    let state = job.state().attempts[0].shards[0].clone();
    assert!(state.create_sent && state.batch_id.is_none(), "{state:?}");
    drop(job);
    fake.set_delay(&operations::CREATE_BATCH, None);

    let mut resumed = scratch.job().open(fake.client()).unwrap();
    assert!(resumed.is_resumed());
    let summary = resumed.run().await.unwrap();
    assert_eq!(summary.succeeded, 12);
    assert_merged(&input, &scratch.path("out.jsonl"));
    assert_eq!(fake.counts().1, 1, "one batch");
    assert_eq!(fake.uploads(), 1, "one upload");
}

/// The same in the upload window, resumed by the same `Job` value.
#[tokio::test]
async fn a_job_dropped_in_the_upload_window_finds_its_file() {
    let fake =
        FakeApi::start_with(FakeOptions::default().delay(&operations::UPLOAD_FILE, Duration::from_secs(30))).await;
    let scratch = Scratch::new("upload-window");
    let input = requests("q", 12, "m");
    scratch.input(&input);
    let mut job = scratch.job().open(fake.client()).unwrap();
    tokio::select! {
        result = job.run() => panic!("the run ended: {result:?}"),
        () = until(|| fake.uploads() == 1) => {}
    }
    fake.set_delay(&operations::UPLOAD_FILE, None);
    job.run().await.unwrap();
    assert_merged(&input, &scratch.path("out.jsonl"));
    assert_eq!((fake.uploads(), fake.counts().1), (1, 1));
}

/// Dropped after each event of a whole run in turn (the future stops at its next await), and
/// resumed by a new job each time.
#[tokio::test]
async fn a_job_dropped_after_any_event_resumes_without_doing_anything_twice() {
    let input = requests("q", 30, "m");
    let mut k = 0;
    loop {
        let fake = FakeApi::start().await;
        let scratch = Scratch::new(&format!("drop-{k}"));
        scratch.input(&input);
        let seen = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stop = std::sync::Mutex::new(Some(stop));
        let counter = seen.clone();
        let mut job = scratch
            .job()
            .max_requests(10)
            .on_event(move |e| {
                if matches!(e, JobEvent::UploadProgress { .. } | JobEvent::DownloadProgress { .. }) {
                    return;
                }
                if counter.fetch_add(1, Ordering::SeqCst) == k
                    && let Some(stop) = stop.lock().unwrap().take()
                {
                    let _ = stop.send(());
                }
            })
            .open(fake.client())
            .unwrap();
        let finished = tokio::select! {
            result = job.run() => { result.unwrap(); true }
            _ = stopped => false,
        };
        drop(job);
        if !finished {
            let summary = scratch
                .job()
                .max_requests(10)
                .open(fake.client())
                .unwrap()
                .run()
                .await
                .unwrap();
            assert_eq!(summary.succeeded, 30, "dropped after event {k}");
        }
        assert_merged(&input, &scratch.path("out.jsonl"));
        assert_eq!(fake.uploads(), 3, "dropped after event {k}: an upload was repeated");
        assert_eq!(fake.counts().1, 3, "dropped after event {k}: a batch was created twice");
        if finished {
            assert!(k > 20, "a whole run has more events than {k}");
            break;
        }
        k += 1;
    }
}

/// Dropped again and again after a growing time, with the upload and create answers slow:
/// drops fall in the windows of every shard (request sent, answer not recorded).
#[tokio::test]
async fn a_job_dropped_again_and_again_gets_there_with_one_of_each() {
    let options = FakeOptions::default()
        .delay(&operations::UPLOAD_FILE, Duration::from_millis(40))
        .delay(&operations::CREATE_BATCH, Duration::from_millis(40))
        .polls_per_status(2);
    let fake = FakeApi::start_with(options).await;
    let scratch = Scratch::new("drops");
    let input = requests("q", 30, "m");
    scratch.input(&input);
    let mut done = None;
    for round in 0..300 {
        let mut job = scratch.job().max_requests(10).open(fake.client()).unwrap();
        // 10 ms, then 2 ms more each time: drops within the slow answers and between them,
        // until one run is long enough to end (however busy the machine).
        let budget = Duration::from_millis(10 + 2 * round);
        if let Ok(result) = tokio::time::timeout(budget, job.run()).await {
            done = Some((round, result.unwrap()));
            break;
        }
    }
    let (rounds, summary) = done.expect("finished within 300 drops");
    assert!(rounds > 5, "{rounds}");
    assert_eq!(summary.succeeded, 30);
    assert_merged(&input, &scratch.path("out.jsonl"));
    assert_eq!((fake.uploads(), fake.counts().1), (3, 3));
}

/// A state written by the command of version 0.2 (format 1) is read and resumed.
#[tokio::test]
async fn a_state_of_version_1_is_resumed() {
    let fake = FakeApi::start().await;
    let scratch = Scratch::new("v1");
    let input = requests("q", 10, "m");
    let path = scratch.input(&input);
    let identity = cerebras_batch::job::InputIdentity::of(&path).unwrap();
    // Uploaded, its create sent but not answered.
    let client = fake.client();
    let file = client
        .upload_file(cerebras_batch::UploadFile::from_reader(
            std::io::Cursor::new(input.clone().into_bytes()),
            "cbrold-shard-0001.jsonl",
            Some(input.len() as u64),
        ))
        .await
        .unwrap();
    let v1 = serde_json::json!({
        "version": 1, "run_id": "cbrold", "started_at": 1, "input": identity,
        "base_url": fake.uri(), "metadata": {}, "max_requests": 50000,
        "shards": [{"index": 0, "model": "m", "requests": 10, "bytes": input.len(),
                    "filename": "cbrold-shard-0001.jsonl", "upload_sent": true, "file_id": file.id,
                    "create_sent": false, "batch_id": null, "status": null, "counts": null,
                    "downloaded": [], "done": false}],
        "merged": null
    });
    std::fs::write(scratch.path("out.jsonl.state.json"), v1.to_string()).unwrap();
    let mut job = Job::builder(&path, scratch.path("out.jsonl"))
        .poll_interval(Duration::from_millis(20))
        .open(client)
        .unwrap();
    assert!(job.is_resumed());
    assert_eq!(job.run_id(), "cbrold");
    job.run().await.unwrap();
    assert_merged(&input, &scratch.path("out.jsonl"));
    assert_eq!((fake.uploads(), fake.counts().1), (1, 1));
    assert_eq!(fake.batches()[0]["metadata"]["cerebras_batch_run"], "cbrold");
}
