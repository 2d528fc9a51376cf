//! [`BatchLifecycle`]: a batch that moves through its statuses over successive retrieves, as a
//! real one does, with an output file whose result lines the test supplies. What code that
//! waits for batches, cancels them and reads their results needs to be tested against.

use std::sync::{Arc, Mutex};

use cerebras_batch::types::{Batch, BatchRequestCounts, BatchStatus};
use serde_json::Value;
use wiremock::{Request, Respond, ResponseTemplate};

use crate::{MockApi, Reply};

/// A batch's life on a [`MockApi`].
///
/// - `POST /v1/batches` (once mounted with [`on_create`](Self::on_create)) answers the batch
///   in its first status (`validating` by default);
/// - each `GET /v1/batches/{id}` answers the next status of [`statuses`](Self::statuses)
///   (default `in_progress`, `finalizing`, `completed`), the last one for good;
/// - `DELETE /v1/batches/{id}` answers `cancelling` and switches the retrieves to
///   [`after_cancel`](Self::after_cancel) (default `cancelling`, `cancelled`); a cancel of a
///   batch already final answers 400 "batch is already `status`", as a real API refuses it;
/// - once final (`completed` or `cancelled`), the batch has an `output_file_id`, and
///   `GET /v1/files/{output_file_id}/content` answers its result lines: all of
///   [`output_lines`](Self::output_lines), or, after a cancel, the first
///   [`partial_after_cancel`](Self::partial_after_cancel) of them (none unless set).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cerebras_batch::{MIN_POLL_INTERVAL, WaitOptions};
/// use cerebras_batch_mock::{BatchLifecycle, MockApi};
///
/// let api = MockApi::start().await;
/// let handle = BatchLifecycle::new("batch_1")
///     .output_lines((1..=10).map(|i| serde_json::json!({"custom_id": format!("r{i}"), "status": "succeeded", "response": {}})))
///     .partial_after_cancel(4)
///     .mount(&api)
///     .await;
/// // The client never polls faster than MIN_POLL_INTERVAL (100 ms).
/// let fast = WaitOptions::default().intervals(MIN_POLL_INTERVAL, MIN_POLL_INTERVAL);
/// let batch = api.client().cancel_and_wait("batch_1", fast).await.unwrap();
/// assert_eq!(batch.status_text(), "cancelled");
/// assert!(handle.was_cancelled());
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct BatchLifecycle {
    id: String,
    input_file_id: String,
    output_file_id: String,
    created: BatchStatus,
    statuses: Vec<BatchStatus>,
    cancel: Vec<BatchStatus>,
    lines: Vec<Value>,
    partial: usize,
    mount_create: bool,
}

impl BatchLifecycle {
    /// A batch `id` with the default life (see the type's docs), no result lines, and output
    /// file `file-out-<id>`.
    pub fn new(id: impl Into<String>) -> Self {
        let id = id.into();
        Self {
            output_file_id: format!("file-out-{id}"),
            input_file_id: "file-input".into(),
            id,
            created: BatchStatus::Validating,
            statuses: vec![BatchStatus::InProgress, BatchStatus::Finalizing, BatchStatus::Completed],
            cancel: vec![BatchStatus::Cancelling, BatchStatus::Cancelled],
            lines: Vec::new(),
            partial: 0,
            mount_create: false,
        }
    }

    /// The statuses successive retrieves answer (the last one repeats).
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = BatchStatus>) -> Self {
        self.statuses = statuses.into_iter().collect();
        assert!(!self.statuses.is_empty(), "a batch has at least one status");
        self
    }

    /// The statuses retrieves answer after a cancel (the last one repeats).
    pub fn after_cancel(mut self, statuses: impl IntoIterator<Item = BatchStatus>) -> Self {
        self.cancel = statuses.into_iter().collect();
        assert!(!self.cancel.is_empty(), "a cancel leads somewhere");
        self
    }

    /// The result lines of the output file.
    pub fn output_lines(mut self, lines: impl IntoIterator<Item = Value>) -> Self {
        self.lines = lines.into_iter().collect();
        self
    }

    /// How many of the result lines a cancelled batch's output holds (its partial results):
    /// the first `lines` of [`output_lines`](Self::output_lines), or all of them when there
    /// are fewer. Default 0: a cancelled batch's output file is empty.
    pub fn partial_after_cancel(mut self, lines: usize) -> Self {
        self.partial = lines;
        self
    }

    /// The batch's `input_file_id`.
    pub fn input_file_id(mut self, id: impl Into<String>) -> Self {
        self.input_file_id = id.into();
        self
    }

    /// The batch's output file id.
    pub fn output_file_id(mut self, id: impl Into<String>) -> Self {
        self.output_file_id = id.into();
        self
    }

    /// Also answers `POST /v1/batches` (any body) with this batch in `status`.
    pub fn on_create(mut self, status: BatchStatus) -> Self {
        self.created = status;
        self.mount_create = true;
        self
    }

    /// Mounts the life on `api`.
    pub async fn mount(self, api: &MockApi) -> LifecycleHandle {
        let state = Arc::new(Mutex::new(State {
            plan: self,
            polls: 0,
            cancelled: false,
            cancel_polls: 0,
            last: None,
        }));
        let id = state.lock().expect("lifecycle state").plan.id.clone();
        let output = state.lock().expect("lifecycle state").plan.output_file_id.clone();
        if state.lock().expect("lifecycle state").plan.mount_create {
            api.create_batch()
                .respond_with(Responder(state.clone(), Action::Create))
                .mount(api)
                .await;
        }
        api.retrieve_batch()
            .batch_id(&id)
            .respond_with(Responder(state.clone(), Action::Retrieve))
            .mount(api)
            .await;
        api.cancel_batch()
            .batch_id(&id)
            .respond_with(Responder(state.clone(), Action::Cancel))
            .mount(api)
            .await;
        api.retrieve_file_content()
            .file_id(&output)
            .respond_with(Responder(state.clone(), Action::Output))
            .mount(api)
            .await;
        LifecycleHandle(state)
    }
}

/// What a mounted [`BatchLifecycle`] has been through.
#[derive(Clone, Debug)]
pub struct LifecycleHandle(Arc<Mutex<State>>);

impl LifecycleHandle {
    /// Whether the batch was cancelled.
    pub fn was_cancelled(&self) -> bool {
        self.0.lock().expect("lifecycle state").cancelled
    }

    /// How many times the batch was retrieved.
    pub fn retrieves(&self) -> usize {
        let s = self.0.lock().expect("lifecycle state");
        s.polls + s.cancel_polls
    }

    /// The last status answered.
    pub fn last_status(&self) -> Option<BatchStatus> {
        self.0.lock().expect("lifecycle state").last.clone()
    }
}

#[derive(Debug)]
struct State {
    plan: BatchLifecycle,
    polls: usize,
    cancelled: bool,
    cancel_polls: usize,
    last: Option<BatchStatus>,
}

impl State {
    fn batch(&mut self, status: BatchStatus) -> Batch {
        self.last = Some(status.clone());
        let p = &self.plan;
        let total = p.lines.len() as i64;
        let done = if self.cancelled {
            p.partial.min(p.lines.len()) as i64
        } else {
            total
        };
        let final_ = matches!(status, BatchStatus::Completed | BatchStatus::Cancelled);
        let failed = p.lines[..done as usize]
            .iter()
            .filter(|l| {
                l.get("status")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s != "succeeded")
            })
            .count() as i64;
        let mut batch = Batch::new(&p.id)
            .with_object("batch")
            .with_endpoint("/v1/chat/completions")
            .with_completion_window("24h")
            .with_input_file_id(&p.input_file_id)
            .with_created_at(1_766_003_277)
            .with_status(status.clone())
            .with_request_counts(
                BatchRequestCounts::new()
                    .with_total(total)
                    .with_completed(if final_ { done - failed } else { 0 })
                    .with_failed(if final_ { failed } else { 0 }),
            );
        if status != BatchStatus::Validating {
            batch = batch.with_in_progress_at(1_766_003_300).with_expires_at(1_766_089_677);
        }
        if self.cancelled {
            batch = batch.with_cancelling_at(1_766_003_350);
        }
        match status {
            BatchStatus::Completed => {
                batch = batch
                    .with_finalizing_at(1_766_003_400)
                    .with_completed_at(1_766_003_500)
                    .with_output_file_id(&p.output_file_id);
            }
            BatchStatus::Cancelled => {
                batch = batch
                    .with_cancelled_at(1_766_003_420)
                    .with_output_file_id(&p.output_file_id);
            }
            BatchStatus::Finalizing => batch = batch.with_finalizing_at(1_766_003_400),
            _ => {}
        }
        batch
    }

    fn is_final(&self) -> bool {
        self.last.as_ref().is_some_and(BatchStatus::is_terminal)
    }
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Create,
    Retrieve,
    Cancel,
    Output,
}

struct Responder(Arc<Mutex<State>>, Action);

impl Respond for Responder {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().expect("lifecycle state");
        match self.1 {
            Action::Create => {
                let status = s.plan.created.clone();
                ResponseTemplate::from(&Reply::ok(s.batch(status)))
            }
            Action::Retrieve => {
                let status = if s.cancelled {
                    let i = s.cancel_polls.min(s.plan.cancel.len() - 1);
                    s.cancel_polls += 1;
                    s.plan.cancel[i].clone()
                } else {
                    let i = s.polls.min(s.plan.statuses.len() - 1);
                    s.polls += 1;
                    s.plan.statuses[i].clone()
                };
                ResponseTemplate::from(&Reply::ok(s.batch(status)))
            }
            Action::Cancel if s.is_final() || s.cancelled => {
                let now = s.last.as_ref().map_or("cancelling", BatchStatus::as_str).to_owned();
                ResponseTemplate::from(&Reply::<Batch>::error_message(400, format!("batch is already {now}")))
            }
            Action::Cancel => {
                s.cancelled = true;
                ResponseTemplate::from(&Reply::ok(s.batch(BatchStatus::Cancelling)))
            }
            Action::Output => {
                let n = if s.cancelled {
                    s.plan.partial.min(s.plan.lines.len())
                } else {
                    s.plan.lines.len()
                };
                ResponseTemplate::from(&Reply::jsonl(s.plan.lines[..n].iter().cloned()))
            }
        }
    }
}
