//! Jobs run to their end: the files, the events, the state, the lock, cancelling.

use std::time::Duration;

use cerebras_batch::ErrorKind;
use cerebras_batch::job::{FileStore, Job, JobEvent, ResultFile, STATE_VERSION, ShardRef};
use cerebras_batch_mock::{FakeApi, FakeOptions};

use super::{Events, Scratch, assert_merged, requests};

fn shard_of(event: &JobEvent) -> Option<ShardRef> {
    match event {
        JobEvent::UploadStarted { shard, .. }
        | JobEvent::UploadProgress { shard, .. }
        | JobEvent::Uploaded { shard, .. }
        | JobEvent::CreateDeferred { shard, .. }
        | JobEvent::BatchCreated { shard, .. }
        | JobEvent::BatchStatus { shard, .. }
        | JobEvent::DownloadStarted { shard, .. }
        | JobEvent::DownloadProgress { shard, .. }
        | JobEvent::BatchDone { shard, .. }
        | JobEvent::BatchCancelled { shard, .. } => Some(*shard),
        _ => None,
    }
}

#[tokio::test]
async fn a_job_runs_a_file_to_merged_results_and_says_what_it_does() {
    let fake = FakeApi::start().await;
    let scratch = Scratch::new("run");
    let input = requests("q", 30, "llama3.1-8b").replace("\"q7\"", "\"fail-7\"");
    scratch.input(&input);
    let events = Events::default();
    let mut job = scratch
        .job()
        .max_requests(10)
        .metadata("team", "evals")
        .on_event(events.recorder())
        .open(fake.client())
        .unwrap();
    assert!(!job.is_resumed());
    let summary = job.run().await.unwrap();
    assert_eq!((summary.succeeded, summary.failed, summary.requests()), (29, 1, 30));
    let results = assert_merged(&input, &scratch.path("out.jsonl"));
    assert_eq!(results[7]["status"], "failed");
    assert_eq!(fake.uploads(), 3);
    assert_eq!(
        fake.counts(),
        (3 + 3 + 1, 3),
        "3 inputs, 3 outputs, 1 error file; 3 batches"
    );
    // Only the output and the state stay; the lock is held while the job is open.
    assert_eq!(
        scratch.listing(),
        [
            "in.jsonl",
            "out.jsonl",
            "out.jsonl.state.json",
            "out.jsonl.state.json.lock"
        ]
    );
    let batch = &fake.batches()[1];
    assert_eq!(batch["metadata"]["team"], "evals");
    assert_eq!(batch["metadata"]["cerebras_batch_run"], job.run_id());
    assert_eq!(batch["metadata"]["cerebras_batch_shard"], "2");
    assert_eq!(batch["metadata"]["cerebras_batch_attempt"], "1");

    let all = events.all();
    let first = all.iter().find_map(shard_of).unwrap();
    assert_eq!((first.attempt, first.index, first.of), (1, 0, 3));
    let kinds: Vec<String> = all
        .iter()
        .filter(|e| shard_of(e).is_none_or(|s| s.index == 0))
        .filter(|e| !matches!(e, JobEvent::UploadProgress { .. } | JobEvent::DownloadProgress { .. }))
        .map(|e| match e {
            JobEvent::Started { resumed, .. } => format!("started resumed={resumed}"),
            JobEvent::Checking => "checking".into(),
            JobEvent::Planned { requests, shards, .. } => format!("planned {requests} in {shards}"),
            JobEvent::UploadStarted { filename, .. } => format!("upload {}", &filename[filename.len() - 16..]),
            JobEvent::Uploaded { found, .. } => format!("uploaded found={found}"),
            JobEvent::BatchCreated { batch_id, .. } => format!("created {batch_id}"),
            JobEvent::BatchStatus { status, changed, .. } => format!("{status} changed={changed}"),
            JobEvent::DownloadStarted { file, .. } => format!("download {}", file.as_str()),
            JobEvent::BatchDone { status, .. } => format!("done {status}"),
            JobEvent::Waiting { .. } => "waiting".into(),
            JobEvent::Merging => "merging".into(),
            JobEvent::Merged { summary, .. } => format!("merged {}", summary.requests()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "started resumed=false",
            "checking",
            "planned 30 in 3",
            "upload shard-0001.jsonl",
            "uploaded found=false",
            "created batch_fake_1",
            "validating changed=true",
            "in_progress changed=true",
            "waiting",
            "finalizing changed=true",
            "waiting",
            "completed changed=true",
            "download output",
            "download errors",
            "done completed",
            "merging",
            "merged 30"
        ],
        "{all:#?}"
    );
    let progress = all.iter().rev().find_map(|e| match e {
        JobEvent::UploadProgress { shard, sent, total } if shard.index == 2 => Some((*sent, *total)),
        _ => None,
    });
    let bytes = std::fs::metadata(scratch.path("in.jsonl")).unwrap().len();
    let (sent, total) = progress.expect("upload progress");
    assert_eq!(sent, total, "the last progress is the whole file");
    assert!(total > bytes / 4 && total < bytes / 2, "{total} of {bytes}");
    assert!(all.iter().any(|e| matches!(
        e,
        JobEvent::DownloadStarted { shard, file: ResultFile::Errors, .. } if shard.index == 0
    )));

    // The state says it all; running again only reports, without a request.
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(scratch.path("out.jsonl.state.json")).unwrap()).unwrap();
    assert_eq!(state["version"], STATE_VERSION);
    assert_eq!(state["merged"]["succeeded"], 29);
    assert_eq!(state["attempts"][0]["shards"][2]["status"], "completed");
    drop(job);
    assert_eq!(
        scratch.listing(),
        ["in.jsonl", "out.jsonl", "out.jsonl.state.json"],
        "the lock file goes with the job"
    );
    let mut again = scratch.job().open(fake.client()).unwrap();
    assert!(again.is_resumed());
    assert_eq!(again.run().await.unwrap(), summary);
    assert_eq!(fake.counts(), (7, 3));
}

#[tokio::test]
async fn two_jobs_on_one_state_are_refused_naming_the_holder() {
    let fake = FakeApi::start().await;
    let scratch = Scratch::new("lock");
    scratch.input(&requests("q", 10, "m"));
    let first = scratch.job().open(fake.client()).unwrap();
    let second = scratch.job().open(fake.client()).unwrap_err();
    assert_eq!(second.kind(), ErrorKind::Locked);
    let text = second.to_string();
    let pid = std::process::id();
    assert!(
        text.contains(&format!("out.jsonl.state.json is in use by process {pid} on host ")),
        "{text}"
    );
    assert!(text.contains(" since ") && text.contains(" GMT (lock file "), "{text}");
    // Another store of the same state is refused too; another state is not.
    let third = Job::builder(scratch.path("in.jsonl"), scratch.path("other.jsonl"))
        .state_store(FileStore::new(scratch.path("out.jsonl.state.json")))
        .open(fake.client())
        .unwrap_err();
    assert_eq!(third.kind(), ErrorKind::Locked);
    Job::builder(scratch.path("in.jsonl"), scratch.path("other.jsonl"))
        .open(fake.client())
        .unwrap();
    drop(first);
    scratch
        .job()
        .open(fake.client())
        .expect("free once the first is dropped");
}

#[tokio::test]
async fn progress_follows_statuses_when_the_server_keeps_no_counts() {
    let fake = FakeApi::start_with(FakeOptions::default().hide_request_counts().finalizing_polls(3)).await;
    let scratch = Scratch::new("no-counts");
    let input = requests("q", 10, "m");
    scratch.input(&input);
    let events = Events::default();
    let mut job = scratch.job().on_event(events.recorder()).open(fake.client()).unwrap();
    job.run().await.unwrap();
    assert_merged(&input, &scratch.path("out.jsonl"));
    let statuses: Vec<(String, bool, Option<i64>)> = events
        .all()
        .iter()
        .filter_map(|e| match e {
            JobEvent::BatchStatus {
                status,
                changed,
                counts,
                ..
            } => Some((status.clone(), *changed, counts.as_ref().and_then(|c| c.total))),
            _ => None,
        })
        .collect();
    let expected: Vec<(String, bool, Option<i64>)> = [
        ("validating", true, Some(0)),
        ("in_progress", true, Some(0)),
        ("finalizing", true, Some(0)),
        ("finalizing", false, Some(0)),
        ("finalizing", false, Some(0)),
        ("completed", true, Some(10)),
    ]
    .iter()
    .map(|(s, c, t)| ((*s).to_owned(), *c, *t))
    .collect();
    assert_eq!(statuses, expected);
}

#[tokio::test]
async fn cancelling_a_job_cancels_its_batches_and_the_run_merges_what_they_hold() {
    let fake = FakeApi::start_with(FakeOptions::default().polls_per_status(1000).hide_request_counts()).await;
    let scratch = Scratch::new("cancel");
    let input = requests("q", 40, "m");
    scratch.input(&input);
    // Two of four batches active at most: two are never created.
    let mut job = scratch
        .job()
        .max_requests(10)
        .max_active(2)
        .open(fake.client())
        .unwrap();
    assert_eq!(job.advance().await.unwrap(), None);
    assert_eq!(fake.counts().1, 2);
    let cancelled = job.cancel().await.unwrap();
    let answers: Vec<(usize, String, String)> = cancelled
        .iter()
        .map(|c| (c.shard.index, c.batch_id.clone(), c.result.as_ref().unwrap().clone()))
        .collect();
    assert_eq!(
        answers,
        [
            (0, "batch_fake_1".into(), "cancelling".into()),
            (1, "batch_fake_2".into(), "cancelling".into())
        ]
    );
    assert!(job.state().attempts[0].cancelled);
    assert_eq!(
        job.state().attempts[0].shards[0].counts,
        None,
        "the cancel answered null counts"
    );
    let summary = tokio::time::timeout(Duration::from_secs(30), job.run())
        .await
        .unwrap()
        .unwrap();
    // Each cancelled batch kept the first half of its requests; the others never ran.
    assert_eq!((summary.succeeded, summary.missing), (10, 30));
    assert_eq!(fake.counts().1, 2, "nothing was created after the cancel");
    let results = assert_merged(&input, &scratch.path("out.jsonl"));
    assert_eq!(results[39]["error"]["message"], "no batch was created for this request");
    assert_eq!(
        results[9]["error"]["message"],
        "batch batch_fake_1 ended `cancelled` without a result for this request"
    );
}

/// A job, its futures and its events can move between threads: a program can spawn it.
#[test]
fn a_job_and_its_futures_can_move_between_threads() {
    fn send<T: Send>(_: &T) {}
    fn futures(job: &mut Job) {
        send(&job.run());
        send(&job.advance());
        send(&job.cancel());
        send(&job.check());
    }
    fn sync<T: Send + Sync>() {}
    let _ = futures;
    sync::<JobEvent>();
    sync::<cerebras_batch::job::JobState>();
    fn owned<T: Send + 'static>() {}
    owned::<Job>();
}
