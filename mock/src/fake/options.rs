//! [`FakeOptions`]: every knob of the [`FakeApi`](super::FakeApi), and [`LineFailure`], the
//! causes a request line can fail with.

use std::time::Duration;

use cerebras_batch::Operation;

/// Why a request fails in a batch's results, and so which result line the fake writes for it
/// (into the batch's error file; an expired line into its output file).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineFailure {
    /// An HTTP status in OpenAI's result shape:
    /// `{"id", "custom_id", "response": {"status_code": 429, "request_id", "body": {"error":
    /// {"message", "type", "code"}}}, "error": null}`. Use 408, 429 or a 5xx for causes worth
    /// trying again, 400 for a request that will never pass.
    Status(u16),
    /// An error code in the Cerebras shape: `{"custom_id", "status": "failed", "response":
    /// null, "error": {"code": "<code>", "message"}}` (the docs show `invalid_request`).
    Code(String),
    /// A request the batch did not reach in time, in the Cerebras shape: `{"custom_id",
    /// "status": "expired", "error": {"code": "timeout", "message"}}`, as the docs show.
    Expired,
    /// A result line no client can read but for its `custom_id`, into the error file:
    /// `{"custom_id", "status": ["odd"], "response": 7}` (a status that is not a string, a
    /// response that is not an object). A merge keeps it in its request's place as the server
    /// wrote it, and counts it as failed; it is never worth another run.
    Unreadable,
}

impl LineFailure {
    /// [`LineFailure::Status`].
    pub fn status(status: u16) -> Self {
        Self::Status(status)
    }

    /// [`LineFailure::Code`].
    pub fn code(code: impl Into<String>) -> Self {
        Self::Code(code.into())
    }
}

/// A route's next answers replaced by an error: see [`FakeOptions::fail_next`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RouteFault {
    pub(crate) operation: &'static str,
    pub(crate) status: u16,
    pub(crate) remaining: u32,
}

/// How a [`FakeApi`](super::FakeApi) behaves. Every knob is off by default; the fake then
/// plays a well-behaved service (see [`FakeApi`](super::FakeApi) for what that is).
///
/// ```
/// use std::time::Duration;
/// use cerebras_batch::operations;
/// use cerebras_batch_mock::{FakeOptions, LineFailure};
///
/// let options = FakeOptions::default()
///     .polls_per_status(2)
///     .fail_lines("rate-", LineFailure::status(429))
///     .fail_lines("bad-", LineFailure::code("invalid_request"))
///     .finalizing_polls(5)
///     .fail_next(&operations::LIST_FILES, 503, 3)
///     .slow_downloads(Duration::from_millis(200));
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FakeOptions {
    /// Answers per status (default 1): each retrieve moves a batch one status on, or every
    /// `polls_per_status` answers.
    pub polls_per_status: u32,
    /// Batches whose requests use this model end `failed`, with no output (default none).
    pub failing_model: Option<String>,
    /// Batches whose requests use this model end `expired`, with half their results (default
    /// none).
    pub expiring_model: Option<String>,
    /// Requests whose `custom_id` starts with the prefix fail with the cause, the first
    /// matching rule winning (default none). After these rules, a `custom_id` starting with
    /// `fail` fails with the code `invalid_request`, as it always has.
    pub line_failures: Vec<(String, LineFailure)>,
    /// How many retrieves answer `finalizing` before `completed` (default: as every status,
    /// [`polls_per_status`](Self::polls_per_status)).
    pub finalizing_polls: Option<u32>,
    /// `request_counts` as some servers keep them: all 0 until the batch is final, and `null`
    /// in a cancel's answer, as the vendor's example shows (default: counts as they move).
    pub hide_request_counts: bool,
    /// A final batch's `request_counts` do not add up: `total` is one more than `completed` +
    /// `failed` (default off), as a server with a bug might say.
    pub inconsistent_counts: bool,
    /// Failures that heal (default off): a request fails by
    /// [`line_failures`](Self::line_failures), and a batch of
    /// [`expiring_model`](Self::expiring_model) expires, only the first time its `custom_id` is
    /// in a batch; run again (a rerun), it succeeds. A `custom_id` starting with `fail` keeps
    /// failing with `invalid_request`.
    pub failures_heal: bool,
    /// Answers to delay, by operation id: the request takes effect at once, its answer comes
    /// after the delay (default none).
    pub delays: Vec<(&'static str, Duration)>,
    pub(crate) faults: Vec<RouteFault>,
}

impl Default for FakeOptions {
    fn default() -> Self {
        Self {
            polls_per_status: 1,
            failing_model: None,
            expiring_model: None,
            line_failures: Vec::new(),
            finalizing_polls: None,
            hide_request_counts: false,
            failures_heal: false,
            inconsistent_counts: false,
            delays: Vec::new(),
            faults: Vec::new(),
        }
    }
}

impl FakeOptions {
    /// See [`polls_per_status`](Self::polls_per_status) (at least 1).
    pub fn polls_per_status(mut self, polls: u32) -> Self {
        self.polls_per_status = polls.max(1);
        self
    }

    /// See [`failing_model`](Self::failing_model).
    pub fn failing_model(mut self, model: impl Into<String>) -> Self {
        self.failing_model = Some(model.into());
        self
    }

    /// See [`expiring_model`](Self::expiring_model).
    pub fn expiring_model(mut self, model: impl Into<String>) -> Self {
        self.expiring_model = Some(model.into());
        self
    }

    /// Requests whose `custom_id` starts with `prefix` fail with `cause` (see
    /// [`line_failures`](Self::line_failures)); repeatable.
    pub fn fail_lines(mut self, prefix: impl Into<String>, cause: LineFailure) -> Self {
        self.line_failures.push((prefix.into(), cause));
        self
    }

    /// A batch answers `finalizing` to `polls` retrieves (at least 1) before `completed`: a
    /// batch that sits at 100 % while its output file is written.
    pub fn finalizing_polls(mut self, polls: u32) -> Self {
        self.finalizing_polls = Some(polls.max(1));
        self
    }

    /// See [`inconsistent_counts`](Self::inconsistent_counts).
    pub fn inconsistent_counts(mut self) -> Self {
        self.inconsistent_counts = true;
        self
    }

    /// See [`failures_heal`](Self::failures_heal).
    pub fn failures_heal(mut self) -> Self {
        self.failures_heal = true;
        self
    }

    /// See [`hide_request_counts`](Self::hide_request_counts).
    pub fn hide_request_counts(mut self) -> Self {
        self.hide_request_counts = true;
        self
    }

    /// The next `times` requests to `operation` (say
    /// [`operations::LIST_FILES`](cerebras_batch::operations::LIST_FILES)) get `status` (a
    /// 5xx, a 429, ...) with a vendor-shaped error body, and have no effect. The client retries
    /// 2 times by default, so `times` of 3 makes one call fail. At run time:
    /// [`FakeApi::fail_next`](super::FakeApi::fail_next).
    pub fn fail_next(mut self, operation: &Operation, status: u16, times: u32) -> Self {
        self.faults.push(RouteFault {
            operation: operation.id,
            status,
            remaining: times,
        });
        self
    }

    /// Every answer to `operation` comes `delay` late; the request takes effect at once (a
    /// create creates its batch, then the answer waits). At run time:
    /// [`FakeApi::set_delay`](super::FakeApi::set_delay).
    pub fn delay(mut self, operation: &Operation, delay: Duration) -> Self {
        self.delays.retain(|(op, _)| *op != operation.id);
        self.delays.push((operation.id, delay));
        self
    }

    /// A slow download: file contents (`retrieve_file_content`) come `delay` late.
    pub fn slow_downloads(self, delay: Duration) -> Self {
        self.delay(&cerebras_batch::operations::RETRIEVE_FILE_CONTENT, delay)
    }

    /// The cause a request fails with, if it fails.
    pub(crate) fn failure_of(&self, custom_id: &str) -> Option<LineFailure> {
        self.line_failures
            .iter()
            .find(|(prefix, _)| custom_id.starts_with(prefix.as_str()))
            .map(|(_, cause)| cause.clone())
            .or_else(|| {
                custom_id
                    .starts_with("fail")
                    .then(|| LineFailure::code("invalid_request"))
            })
    }
}
