//! Rerunning what a job left unfinished: only the rerunnable requests are sent again, every
//! other line stays byte for byte, the state says which attempt wrote each line, and a rerun
//! stopped midway resumes.

use cerebras_batch::ErrorKind;
use cerebras_batch::job::JobEvent;
use cerebras_batch_mock::{FakeApi, FakeOptions, LineFailure};

use super::{Events, Scratch, assert_merged, requests};

/// 60 requests: 40 of `llama3.1-8b` (10 fail with HTTP 429, 10 with the code `timeout`, 5 with
/// `invalid_request`, 2 with HTTP 400) and 20 of `llama-3.3-70b`, whose batch expires half done.
fn input() -> String {
    let mut lines: Vec<String> = Vec::new();
    lines.extend(requests("rate-", 10, "llama3.1-8b").lines().map(str::to_owned));
    lines.extend(requests("slow-", 10, "llama3.1-8b").lines().map(str::to_owned));
    lines.extend(requests("b", 20, "llama-3.3-70b").lines().map(str::to_owned));
    lines.extend(requests("fail-", 5, "llama3.1-8b").lines().map(str::to_owned));
    lines.extend(requests("bad-", 2, "llama3.1-8b").lines().map(str::to_owned));
    lines.extend(requests("ok-", 13, "llama3.1-8b").lines().map(str::to_owned));
    // Interleave the models, so that the merge's order is the input's, not the batches'.
    lines.sort_by_key(|l| l.len() % 7);
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn fake_options() -> FakeOptions {
    FakeOptions::default()
        .fail_lines("rate-", LineFailure::status(429))
        .fail_lines("slow-", LineFailure::code("timeout"))
        .fail_lines("bad-", LineFailure::status(400))
        .expiring_model("llama-3.3-70b")
        .failures_heal()
}

#[tokio::test]
async fn a_rerun_finishes_what_did_not_and_keeps_every_success_byte_for_byte() {
    let fake = FakeApi::start_with(fake_options()).await;
    let scratch = Scratch::new("rerun");
    let input = input();
    scratch.input(&input);
    let events = Events::default();
    let mut job = scratch.job().on_event(events.recorder()).open(fake.client()).unwrap();
    let first = job.run().await.unwrap();
    assert_eq!(
        (first.succeeded, first.failed, first.expired, first.requests()),
        (23, 27, 10, 60)
    );
    assert_eq!(
        first.rerunnable, 30,
        "429, timeout and expired; never 400 or invalid_request"
    );
    assert_eq!(first.error_file_lines, 27, "failed lines come from the error files");
    assert_eq!((first.usage.lines, first.usage.total_tokens), (23, 23 * 5));
    let before = std::fs::read_to_string(scratch.path("out.jsonl")).unwrap();
    // A rerun refuses to start on a job that is not finished; this one is.
    let plan = job.rerun_unfinished().await.unwrap().expect("a rerun");
    assert_eq!((plan.attempt, plan.requests, plan.shards), (Some(2), 30, 2));
    assert!(plan.left_out.is_empty());
    let e = job.rerun_unfinished().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    // Stop the rerun after one round (uploads and creates), then open the job again.
    assert!(job.advance().await.unwrap().is_none());
    drop(job);
    let (uploads, creates) = (fake.uploads(), fake.counts().1);
    assert_eq!((uploads, creates), (2 + 2, 2 + 2), "a batch per model, then again");
    let mut job = scratch.job().on_event(events.recorder()).open(fake.client()).unwrap();
    assert!(job.is_resumed());
    let after = job.run().await.unwrap();
    assert_eq!(
        (fake.uploads(), fake.counts().1),
        (uploads, creates),
        "nothing sent twice"
    );
    assert_eq!(
        (
            after.succeeded,
            after.failed,
            after.expired,
            after.missing,
            after.rerunnable
        ),
        (53, 7, 0, 0, 0)
    );
    assert_eq!((after.usage.lines, after.usage.total_tokens), (53, 53 * 5));
    let results = assert_merged(&input, &scratch.path("out.jsonl"));
    let text = std::fs::read_to_string(scratch.path("out.jsonl")).unwrap();
    let state = job.state();
    for (n, (old, new)) in before.lines().zip(text.lines()).enumerate() {
        let old_line: serde_json::Value = serde_json::from_str(old).unwrap();
        let rerun = state.attempt_of(n + 1) == Some(2);
        if old_line["status"] == "succeeded" || old.contains("invalid_request") || old.contains("\"status_code\":400") {
            assert_eq!(old, new, "line {} kept byte for byte", n + 1);
            assert!(!rerun, "line {}", n + 1);
        } else {
            assert!(rerun, "line {} came from the rerun", n + 1);
            assert_eq!(results[n]["status"], "succeeded", "line {}", n + 1);
        }
    }
    assert_eq!(state.attempts.len(), 2);
    assert_eq!(state.attempts[1].merged.unwrap().succeeded, 30);
    assert!(events.all().iter().any(|e| matches!(
        e,
        JobEvent::RerunPlanned {
            attempt: 2,
            requests: 30,
            ..
        }
    )));
    // Nothing is left worth another run.
    assert_eq!(job.rerun_unfinished().await.unwrap(), None);
    assert!(!scratch.path("out.jsonl.parts").exists());
}

#[tokio::test]
async fn a_rerun_refuses_an_output_changed_since_the_merge() {
    let fake = FakeApi::start_with(fake_options()).await;
    let scratch = Scratch::new("rerun-changed");
    scratch.input(&input());
    let mut job = scratch.job().open(fake.client()).unwrap();
    job.run().await.unwrap();
    let out = scratch.path("out.jsonl");
    let mut text = std::fs::read_to_string(&out).unwrap();
    text.push('\n');
    std::fs::write(&out, text).unwrap();
    let e = job.rerun_unfinished().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("changed since run"), "{e}");
    assert_eq!(fake.counts().1, 2, "nothing more was created");
}

/// An output edited while the rerun's batches ran (two lines swapped: its lines are copied,
/// and their order is the input's) is refused at the merge, and left as it is.
#[tokio::test]
async fn a_rerun_refuses_to_merge_into_an_output_edited_while_it_ran() {
    let fake = FakeApi::start_with(fake_options()).await;
    let scratch = Scratch::new("rerun-edited");
    scratch.input(&input());
    let mut job = scratch.job().open(fake.client()).unwrap();
    job.run().await.unwrap();
    job.rerun_unfinished().await.unwrap().expect("a rerun");
    assert!(
        job.advance().await.unwrap().is_none(),
        "the rerun's batches are running"
    );
    let out = scratch.path("out.jsonl");
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(0, 1);
    let edited = format!("{}\n", lines.join("\n"));
    std::thread::sleep(std::time::Duration::from_millis(20)); // a later modification time
    std::fs::write(&out, &edited).unwrap();
    let e = job.run().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("changed since run"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        edited,
        "the output is left as it is"
    );
}

#[tokio::test]
async fn requests_too_few_for_a_batch_are_left_out_and_said() {
    // 12 requests, 3 of which fail with a 429: too few for a batch of their own.
    let fake = FakeApi::start_with(FakeOptions::default().fail_lines("rate-", LineFailure::status(429))).await;
    let scratch = Scratch::new("rerun-few");
    let input = requests("rate-", 3, "llama3.1-8b") + &requests("ok-", 9, "llama3.1-8b");
    scratch.input(&input);
    let mut job = scratch.job().open(fake.client()).unwrap();
    assert_eq!(job.run().await.unwrap().rerunnable, 3);
    let plan = job.rerun_unfinished().await.unwrap().expect("a plan");
    assert_eq!(plan.attempt, None);
    assert_eq!(plan.left_out, [("llama3.1-8b".to_owned(), 3)]);
    assert_eq!(job.state().attempts.len(), 1, "no attempt recorded");
}

/// A line the merge kept as the server wrote it (readable for its `custom_id` alone) is no
/// reason to refuse a rerun and is not run again: the rerun sends only the 429s, and the kept
/// line stays byte for byte where it was.
#[tokio::test]
async fn a_kept_unreadable_line_is_left_alone_by_a_rerun() {
    let options = FakeOptions::default()
        .fail_lines("rate-", LineFailure::status(429))
        .fail_lines("odd-", LineFailure::Unreadable)
        .failures_heal();
    let fake = FakeApi::start_with(options).await;
    let scratch = Scratch::new("rerun-unreadable");
    let input = requests("odd-", 2, "llama3.1-8b")
        + &requests("rate-", 10, "llama3.1-8b")
        + &requests("ok-", 10, "llama3.1-8b");
    scratch.input(&input);
    let mut job = scratch.job().open(fake.client()).unwrap();
    let first = job.run().await.unwrap();
    assert_eq!(
        (first.succeeded, first.failed, first.rerunnable, first.requests()),
        (10, 12, 10, 22)
    );
    assert_eq!(first.unreadable, 2, "the merge took them as unreadable lines");
    let out = scratch.path("out.jsonl");
    let before = std::fs::read_to_string(&out).unwrap();
    let odd: Vec<&str> = before.lines().take(2).collect();
    assert!(
        odd.iter().all(|l| l.contains("\"status\":[\"odd\"]")),
        "the unreadable lines are kept in their requests' places: {odd:?}"
    );
    let plan = job.rerun_unfinished().await.unwrap().expect("a rerun");
    assert_eq!((plan.attempt, plan.requests), (Some(2), 10), "the 429s only");
    let after = job.run().await.unwrap();
    assert_eq!((after.succeeded, after.failed, after.rerunnable), (20, 2, 0));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().take(2).collect::<Vec<_>>(), odd, "kept byte for byte");
    assert_eq!(job.rerun_unfinished().await.unwrap(), None, "nothing left worth a run");
}

/// A state file whose rerun attempt lists no lines (not one a job wrote) is refused, naming
/// it, rather than run as a rerun of nothing.
#[tokio::test]
async fn a_rerun_attempt_without_its_lines_is_refused() {
    let fake = FakeApi::start_with(fake_options()).await;
    let scratch = Scratch::new("rerun-no-lines");
    scratch.input(&input());
    let mut job = scratch.job().open(fake.client()).unwrap();
    job.run().await.unwrap();
    job.rerun_unfinished().await.unwrap().expect("a rerun");
    drop(job);
    let path = scratch.path("out.jsonl.state.json");
    let mut state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(state["attempts"][1]["lines"].is_array(), "{state}");
    state["attempts"][1].as_object_mut().unwrap().remove("lines");
    std::fs::write(&path, state.to_string()).unwrap();
    let mut job = scratch.job().open(fake.client()).unwrap();
    let e = job.run().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(
        e.to_string().contains("attempt 2 of run ") && e.to_string().contains("lists no lines"),
        "{e}"
    );
    assert_eq!(fake.counts().1, 2, "nothing created");
}
