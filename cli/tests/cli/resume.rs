//! Runs killed at every step, resumed: nothing uploaded or created twice, nothing lost.

use std::time::Duration;

use cerebras_batch_mock::FakeOptions;

use crate::common::{Env, assert_merged, requests, submit};

/// 30 requests in three batches of 10.
const ARGS: &[&str] = &["--wait", "--max-requests", "10"];

async fn killed_at(fault: &str) -> Env {
    let env = Env::new(&format!("fault-{}", fault.replace(':', "-")), FakeOptions::default()).await;
    let input = requests("q", 30, "llama3.1-8b");
    env.write("in.jsonl", &input);
    let first = env.run_with_fault(fault, &submit(ARGS)).await;
    first.expect(86);
    assert!(
        first
            .stderr
            .contains(&format!("fault injected at {}", fault.split(':').next().unwrap()))
    );
    assert!(!env.exists("out.jsonl"));
    let resumed = env.run(&submit(ARGS)).await;
    resumed.expect(0);
    assert!(resumed.stderr.contains("resuming run cbr"), "{}", resumed.stderr);
    assert_merged(&input, &env.read("out.jsonl"));
    assert_eq!(env.fake.uploads(), 3, "{fault}: an upload was repeated");
    assert_eq!(env.fake.counts(), (6, 3), "{fault}: a file or batch was created twice");
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_an_upload_whose_answer_was_not_recorded() {
    let env = killed_at("after-upload:1").await;
    let out = env.read("out.jsonl");
    assert_eq!(out.lines().count(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_a_create_was_sent_before_its_answer_was_recorded() {
    killed_at("after-create-sent:1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_a_create_was_recorded() {
    killed_at("after-create-recorded:2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_waiting() {
    killed_at("while-waiting").await;
}

/// A real `kill -9` while batches run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_kill_while_batches_run() {
    let env = Env::new("kill", FakeOptions::default().polls_per_status(5)).await;
    let input = requests("q", 30, "llama3.1-8b");
    env.write("in.jsonl", &input);
    let mut child = env.command(&submit(ARGS)).spawn().unwrap();
    for _ in 0..400 {
        if env.fake.counts().1 >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(env.fake.counts().1 >= 2, "batches were created");
    child.kill().await.unwrap();
    let resumed = env.run(&submit(ARGS)).await;
    resumed.expect(0);
    assert_merged(&input, &env.read("out.jsonl"));
    assert_eq!(env.fake.uploads(), 3);
    assert_eq!(env.fake.counts().1, 3);
}

fn interrupt(child: &tokio::process::Child) {
    let pid = child.id().expect("running") as libc::pid_t;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
}

async fn wait_for_batches(env: &Env, n: usize) {
    for _ in 0..500 {
        if env.fake.counts().1 >= n {
            // Let the command record the answer and start waiting.
            tokio::time::sleep(Duration::from_millis(200)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{n} batches were never created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_waiting_and_says_how_to_resume() {
    let env = Env::new("ctrl-c", FakeOptions::default().polls_per_status(1000)).await;
    let input = requests("q", 30, "llama3.1-8b");
    env.write("in.jsonl", &input);
    let child = env
        .command(&submit(&["--wait", "--max-requests", "10", "--poll-interval", "0.2"]))
        .spawn()
        .unwrap();
    wait_for_batches(&env, 3).await;
    interrupt(&child);
    let out = crate::common::output_of(child).await;
    out.expect(130);
    assert!(
        out.stderr.contains(
            "interrupted: nothing is lost. Run the same command again to resume (state in out.jsonl.state.json)"
        ),
        "{}",
        out.stderr
    );
    let statuses: Vec<String> = env
        .fake
        .batches()
        .iter()
        .map(|b| b["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        statuses,
        ["validating", "validating", "validating"],
        "nothing was cancelled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_with_cancel_on_interrupt_cancels_and_resuming_collects_the_partial_results() {
    let env = Env::new("ctrl-c-cancel", FakeOptions::default().polls_per_status(1000)).await;
    let input = requests("q", 30, "llama3.1-8b");
    env.write("in.jsonl", &input);
    let args = submit(&[
        "--wait",
        "--max-requests",
        "10",
        "--cancel-on-interrupt",
        "--poll-interval",
        "0.2",
    ]);
    let child = env.command(&args).spawn().unwrap();
    wait_for_batches(&env, 3).await;
    interrupt(&child);
    let out = crate::common::output_of(child).await;
    out.expect(130);
    assert!(
        out.stderr.contains("cancelled batch_fake_1 (cancelling)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the active batches were cancelled"),
        "{}",
        out.stderr
    );
    let resumed = env.run(&args).await;
    resumed.expect(3);
    // Each cancelled batch kept the first half of its requests.
    assert!(resumed.stdout.contains("succeeded 15"), "{}", resumed.stdout);
    assert!(resumed.stdout.contains("missing   15"), "{}", resumed.stdout);
    assert_merged(&input, &env.read("out.jsonl"));
    assert_eq!(env.fake.counts().1, 3);
}
