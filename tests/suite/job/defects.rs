//! Regression tests of the defects issue 20 lists: lookups that failed read as "not found",
//! outputs checked only at the merge, duplicate ids named by one line, a mistyped base URL
//! that locked the run.

use std::time::Duration;

use cerebras_batch::job::Job;
use cerebras_batch::{Client, ErrorKind, operations};
use cerebras_batch_mock::{FakeApi, FakeOptions};

use super::{Scratch, assert_merged, requests};

/// Runs the job until `cond` holds on the fake, then drops its future.
async fn run_until(job: &mut Job, cond: impl Fn() -> bool) {
    tokio::select! {
        result = job.run() => panic!("the run ended: {result:?}"),
        () = async {
            while !cond() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        } => {}
    }
}

#[tokio::test]
async fn a_failed_file_lookup_is_an_error_not_a_second_upload() {
    let fake =
        FakeApi::start_with(FakeOptions::default().delay(&operations::UPLOAD_FILE, Duration::from_secs(30))).await;
    let scratch = Scratch::new("lookup-files");
    let input = requests("q", 30, "m");
    scratch.input(&input);
    // No patience: the lookup's failure ends the run (with patience, it is tried again later).
    let mut job = scratch
        .job()
        .max_requests(10)
        .patience(Duration::ZERO)
        .open(fake.client())
        .unwrap();
    run_until(&mut job, || fake.uploads() == 1).await;
    fake.set_delay(&operations::UPLOAD_FILE, None);
    // GET /v1/files answers 503 to the lookup and both retries.
    fake.fail_next(&operations::LIST_FILES, 503, 3);
    let e = job.run().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert!(
        e.to_string().contains("looking for ")
            && e.to_string()
                .contains("-shard-0001.jsonl, uploaded before the job stopped (nothing was uploaded again)"),
        "{e}"
    );
    assert_eq!(fake.uploads(), 1, "nothing uploaded again");
    // Once the server answers, the file is found: three shard files for three shards.
    job.run().await.unwrap();
    assert_merged(&input, &scratch.path("out.jsonl"));
    assert_eq!(fake.uploads(), 3);
    assert_eq!(fake.counts(), (6, 3));
}

#[tokio::test]
async fn a_failed_batch_lookup_is_an_error_not_a_second_batch() {
    let fake =
        FakeApi::start_with(FakeOptions::default().delay(&operations::CREATE_BATCH, Duration::from_secs(30))).await;
    let scratch = Scratch::new("lookup-batches");
    let input = requests("q", 12, "m");
    scratch.input(&input);
    let mut job = scratch.job().patience(Duration::ZERO).open(fake.client()).unwrap();
    run_until(&mut job, || fake.counts().1 == 1).await;
    fake.set_delay(&operations::CREATE_BATCH, None);
    fake.fail_next(&operations::LIST_BATCHES, 502, 3);
    let e = job.run().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    assert!(
        e.to_string()
            .contains("looking for a batch created before the job stopped"),
        "{e}"
    );
    assert_eq!(fake.counts().1, 1);
    job.run().await.unwrap();
    assert_merged(&input, &scratch.path("out.jsonl"));
    assert_eq!(fake.counts().1, 1, "one batch");
}

#[tokio::test]
async fn outputs_that_cannot_be_written_are_refused_before_anything_is_sent_or_written() {
    let fake = FakeApi::start().await;
    let scratch = Scratch::new("outputs");
    let input = scratch.input(&requests("q", 10, "m"));
    std::fs::create_dir(scratch.path("a-dir")).unwrap();
    std::fs::write(scratch.path("a-file"), "x").unwrap();
    let before = scratch.listing();
    let cases: Vec<(std::path::PathBuf, &str)> = vec![
        (
            scratch.path("a-dir"),
            "is a directory; give the path of the results file to write",
        ),
        ("/".into(), "names no file"),
        (scratch.path("a-dir/.."), "names no file"),
        (scratch.path("missing/out.jsonl"), "cannot be written: its folder"),
        (scratch.path("a-file/out.jsonl"), "is not a folder"),
        (input.clone(), "is the input: the results would overwrite the requests"),
    ];
    for (output, expected) in cases {
        let e = Job::builder(&input, &output).open(fake.client()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}: {e}", output.display());
        assert!(e.to_string().contains(expected), "{}: {e}", output.display());
        assert!(
            e.to_string().contains(&format!("`{}`", output.display())),
            "names the path: {e}"
        );
    }
    // A parts folder that is a file.
    let e = Job::builder(&input, scratch.path("out.jsonl"))
        .parts_dir(scratch.path("a-file"))
        .open(fake.client())
        .unwrap_err();
    assert!(e.to_string().contains("is not a folder"), "{e}");
    // A folder this process cannot write into (root writes anywhere: then it is skipped).
    let locked = scratch.path("read-only");
    std::fs::create_dir(&locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(locked.join("probe"), "").is_err() {
        let e = Job::builder(&input, locked.join("out.jsonl"))
            .open(fake.client())
            .unwrap_err();
        assert!(e.to_string().contains("cannot create files in"), "{e}");
    } else {
        eprintln!("skipped the read-only folder: this process writes anywhere (root)");
        std::fs::remove_file(locked.join("probe")).unwrap();
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir(&locked).unwrap();
    assert_eq!(scratch.listing(), before, "nothing left behind");
    assert!(std::fs::read_dir(scratch.path("a-dir")).unwrap().next().is_none());
    assert_eq!(fake.counts(), (0, 0), "nothing sent");
}

#[tokio::test]
async fn a_duplicate_custom_id_names_both_lines() {
    let fake = FakeApi::start().await;
    let scratch = Scratch::new("duplicate");
    let mut input = requests("q", 12, "m");
    input.push_str(&requests("q", 1, "m"));
    scratch.input(&input);
    let mut job = scratch.job().open(fake.client()).unwrap();
    let check = job.check().await.unwrap();
    let problems: Vec<(Option<usize>, String)> = check
        .problems
        .iter()
        .map(|p| (p.line(), p.message().to_owned()))
        .collect();
    assert_eq!(
        problems,
        [(Some(13), "custom_id \"q0\" is used twice: on lines 1 and 13".to_owned())]
    );
    let e = job.run().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("has 1 problem(s); nothing was sent"), "{e}");
    assert_eq!(fake.counts(), (0, 0));
    assert_eq!(
        scratch.listing(),
        ["in.jsonl", "out.jsonl.state.json.lock"],
        "no state, no parts"
    );
}

/// A mistyped base URL: nothing answers there. The job fails, leaves no state, and the same
/// job against the right server runs.
#[tokio::test]
async fn a_base_url_that_never_answered_binds_nothing() {
    let fake = FakeApi::start().await;
    let scratch = Scratch::new("base-url");
    let input = requests("q", 12, "m");
    scratch.input(&input);
    // A port with nothing listening: the connection is refused, so nothing was sent.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = Client::builder()
        .api_key("k")
        .base_url(&nowhere)
        .retry_delays(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let mut job = scratch.job().open(client).unwrap();
    let e = job.run().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(!job.state().reached_server());
    drop(job);
    assert_eq!(scratch.listing(), ["in.jsonl"], "no state, no parts");

    // A server that takes the connection and never answers; the job is dropped mid-upload.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let accepting = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let client = Client::builder().api_key("k").base_url(&silent_url).build().unwrap();
    let mut job = scratch.job().open(client).unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), job.run())
            .await
            .is_err()
    );
    assert!(job.state().reached_server() && !job.state().answered());
    let stale_id = job.run_id().to_owned();
    drop(job);
    accepting.abort();

    // Against the right server, the state of the silent one binds nothing: a new run.
    let mut job = scratch.job().open(fake.client()).unwrap();
    assert!(!job.is_resumed());
    assert_ne!(job.run_id(), stale_id);
    job.run().await.unwrap();
    assert_merged(&input, &scratch.path("out.jsonl"));
    assert_eq!((fake.uploads(), fake.counts().1), (1, 1));
    assert_eq!(
        scratch.listing(),
        [
            "in.jsonl",
            "out.jsonl",
            "out.jsonl.state.json",
            "out.jsonl.state.json.lock"
        ],
        "the silent server's shard file went with its state"
    );
}

#[tokio::test]
async fn a_run_rides_out_polls_that_fail_after_their_retries() {
    let fake = FakeApi::start_with(FakeOptions::default().polls_per_status(2)).await;
    let scratch = Scratch::new("patience");
    let input = requests("q", 12, "m");
    scratch.input(&input);
    let events = super::Events::default();
    let mut job = scratch.job().on_event(events.recorder()).open(fake.client()).unwrap();
    run_until(&mut job, || fake.counts().1 == 1).await;
    // The next poll fails with 503, and so do both its retries: twice in a row.
    fake.fail_next(&operations::RETRIEVE_BATCH, 503, 6);
    let summary = job.run().await.unwrap();
    assert_eq!(summary.succeeded, 12);
    assert_merged(&input, &scratch.path("out.jsonl"));
    let transient: Vec<_> = events
        .all()
        .into_iter()
        .filter_map(|e| match e {
            cerebras_batch::job::JobEvent::TransientError { message, retry_in, .. } => Some((message, retry_in)),
            _ => None,
        })
        .collect();
    assert_eq!(transient.len(), 2, "{transient:?}");
    assert!(transient[0].0.contains("503"), "{}", transient[0].0);
    assert!(transient[1].1 > transient[0].1, "the pause grows: {transient:?}");
    assert_eq!(fake.counts().1, 1, "one batch");
}
