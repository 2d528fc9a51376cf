//! Waiting for a batch to finish, and cancelling and waiting.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::types::Batch;

/// How long [`Client::wait_for_batch`](crate::Client::wait_for_batch) waits by default: 25 hours
/// (the 24-hour completion window plus an hour for finalizing).
pub const DEFAULT_WAIT_DEADLINE: Duration = Duration::from_secs(25 * 3600);
/// How long [`Client::cancel_and_wait`](crate::Client::cancel_and_wait) waits by default:
/// 10 minutes, the vendor's bound for `cancelling` to become `cancelled`
/// (<https://inference-docs.cerebras.ai/api-reference/batch/cancel-batch>).
pub const DEFAULT_CANCEL_DEADLINE: Duration = Duration::from_secs(10 * 60);

/// The shortest delay between polls, whatever [`WaitOptions::intervals`] says: 100 ms.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How long waiting rides out transient failures in a row by default: 1 hour. A poll that
/// fails after the client's own retries (a connection that breaks, a timeout, a 408, a 429 or
/// a 5xx) is tried again, ever later, for that long; then its error ends the wait. An error that
/// another try cannot heal (a 404, a 401, a decode error) ends it at once.
pub const DEFAULT_PATIENCE: Duration = Duration::from_secs(3600);

/// The longest pause between tries after transient failures: 5 minutes.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

type PollFn = Arc<dyn Fn(&Batch) + Send + Sync>;
type PollErrorFn = Arc<dyn Fn(&Error, Duration) + Send + Sync>;

/// Whether `e` is a failure another try may heal: no answer (the connection, a timeout), or an
/// answer of 408, 429 or 5xx. The client has retried such a call already; waiting over hours
/// tries again later rather than give up on one bad minute.
pub(crate) fn is_transient(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::Server | ErrorKind::RateLimit
    ) || e.status().is_some_and(|s| s.as_u16() == 408)
}

/// The pause after `failures` transient failures in a row (1 or more): `interval` doubled each
/// time, at most [`MAX_BACKOFF`] (or `interval` when that is longer).
pub(crate) fn backoff(interval: Duration, failures: u32) -> Duration {
    let cap = MAX_BACKOFF.max(interval);
    interval
        .checked_mul(1u32 << failures.saturating_sub(1).min(16))
        .map_or(cap, |d| d.min(cap))
}

/// Transient failures in a row, and since when: what [`WaitOptions::patience`] and the job's
/// `JobBuilder::patience` bound, kept in one place for both.
#[derive(Debug, Default)]
pub(crate) struct Streak(Option<(u32, tokio::time::Instant)>);

impl Streak {
    /// Ends the streak: a step succeeded.
    pub(crate) fn reset(&mut self) {
        self.0 = None;
    }

    /// Whether failures are being ridden out.
    pub(crate) fn is_failing(&self) -> bool {
        self.0.is_some()
    }

    /// Counts one more failure. `Ok((pause, failing_for))`: try again after `pause` (the
    /// [`backoff`] from `interval`); `Err(failing_for)`: the failures have lasted `patience`.
    pub(crate) fn record(&mut self, interval: Duration, patience: Duration) -> Result<(Duration, Duration), Duration> {
        let (failures, since) = self.0.get_or_insert((0, tokio::time::Instant::now()));
        *failures += 1;
        let failing_for = since.elapsed();
        if failing_for >= patience {
            return Err(failing_for);
        }
        Ok((backoff(interval, *failures), failing_for))
    }
}

/// How to wait for a batch: a deadline, a polling backoff and an optional callback.
///
/// Polls start `first_interval` apart (default 2 s) and grow by half each time up to
/// `max_interval` (default 60 s), never closer than [`MIN_POLL_INTERVAL`]. The deadline bounds
/// the whole wait, a poll in flight included.
///
/// A poll that fails for a transient cause (see [`DEFAULT_PATIENCE`]) is tried again after a
/// pause that doubles from the current interval (at most 5 minutes), for at most
/// [`patience`](Self::patience) of failures in a row.
#[derive(Clone)]
pub struct WaitOptions {
    deadline: Option<Duration>,
    first_interval: Duration,
    max_interval: Duration,
    patience: Duration,
    on_poll: Option<PollFn>,
    on_poll_error: Option<PollErrorFn>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            deadline: None,
            first_interval: Duration::from_secs(2),
            max_interval: Duration::from_secs(60),
            patience: DEFAULT_PATIENCE,
            on_poll: None,
            on_poll_error: None,
        }
    }
}

impl std::fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitOptions")
            .field("deadline", &self.deadline)
            .field("first_interval", &self.first_interval)
            .field("max_interval", &self.max_interval)
            .field("patience", &self.patience)
            .field("on_poll", &self.on_poll.is_some())
            .field("on_poll_error", &self.on_poll_error.is_some())
            .finish()
    }
}

impl WaitOptions {
    /// Gives up after `deadline` (default: [`DEFAULT_WAIT_DEADLINE`] for waiting,
    /// [`DEFAULT_CANCEL_DEADLINE`] for cancelling).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The first delay between polls and its cap (defaults 2 s and 60 s; never below
    /// [`MIN_POLL_INTERVAL`]).
    pub fn intervals(mut self, first: Duration, max: Duration) -> Self {
        self.first_interval = first.max(MIN_POLL_INTERVAL);
        self.max_interval = max.max(self.first_interval);
        self
    }

    /// Calls `on_poll` with the batch after every poll.
    pub fn on_poll(mut self, on_poll: impl Fn(&Batch) + Send + Sync + 'static) -> Self {
        self.on_poll = Some(Arc::new(on_poll));
        self
    }

    /// Rides out transient poll failures for at most `patience` in a row (default
    /// [`DEFAULT_PATIENCE`]; `Duration::ZERO` ends the wait on the first failed poll).
    pub fn patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// Calls `on_poll_error` with each transient failure that waiting rides out, and the pause
    /// before the next try.
    pub fn on_poll_error(mut self, on_poll_error: impl Fn(&Error, Duration) + Send + Sync + 'static) -> Self {
        self.on_poll_error = Some(Arc::new(on_poll_error));
        self
    }
}

impl crate::Client {
    /// Polls `retrieve_batch` until the batch reaches a final status (`completed`, `failed`,
    /// `expired` or `cancelled`) and returns it. Any other status, unknown ones like `calling`
    /// included, means the batch may still change, so waiting goes on.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::DeadlineExceeded`] when the deadline passes first; [`Error::last_batch`]
    ///   holds the last state seen.
    /// - Any error of [`retrieve_batch`](Self::retrieve_batch) (after its retries) that is not
    ///   transient, or a transient one once they have lasted [`WaitOptions::patience`].
    pub async fn wait_for_batch(&self, batch_id: &str, options: WaitOptions) -> Result<Batch> {
        let deadline = options.deadline.unwrap_or(DEFAULT_WAIT_DEADLINE);
        self.poll_until_final(batch_id, options, deadline, None).await
    }

    /// Cancels the batch (`DELETE /v1/batches/{batch_id}`), then waits until it reaches a final
    /// status, normally `cancelled` (up to 10 minutes, the default deadline). The requests that
    /// completed stay in the batch's output file: get them with
    /// [`download_output`](Self::download_output).
    ///
    /// When the server refuses the cancel (a 4xx, such as 400 "batch is already cancelling"),
    /// the batch is retrieved: if it is `cancelling`, waiting goes on; if it is already final
    /// (`cancelled`, `completed`, `failed`, `expired`), it is returned as it is, so check its
    /// status.
    ///
    /// # Errors
    ///
    /// - The refusal, with [`Error::last_batch`] holding the batch, when the server refused the
    ///   cancel and the batch is neither cancelling nor final; the refusal, its message followed
    ///   by the retrieve's error, when the batch cannot be retrieved either (a 404, say).
    /// - Any other error of [`cancel_batch`](Self::cancel_batch), then as
    ///   [`wait_for_batch`](Self::wait_for_batch).
    pub async fn cancel_and_wait(&self, batch_id: &str, options: WaitOptions) -> Result<Batch> {
        let deadline = options.deadline.unwrap_or(DEFAULT_CANCEL_DEADLINE);
        let first = match self.cancel_batch(batch_id).await {
            Ok(batch) => batch,
            Err(refused) if refused.status().is_some_and(|s| s.is_client_error()) => {
                let batch = match self.retrieve_batch(batch_id).await {
                    Ok(batch) => batch,
                    // The refusal is the answer; the failed look at the batch is said with it.
                    Err(e) => return Err(refused.with_context(format!("retrieving the batch then failed too: {e}"))),
                };
                let cancelling = batch.status == Some(crate::types::BatchStatus::Cancelling);
                if !cancelling && !batch.is_terminal() {
                    let status = batch.status_text().to_owned();
                    return Err(refused
                        .with_context(format!("the batch is {status}, and the server refused to cancel it"))
                        .with_last_batch(batch));
                }
                tracing::debug!(batch = %batch.id, status = batch.status_text(), "cancel refused; following the batch");
                batch
            }
            Err(e) => return Err(e),
        };
        self.poll_until_final(batch_id, options, deadline, Some(first)).await
    }

    async fn poll_until_final(
        &self,
        batch_id: &str,
        options: WaitOptions,
        deadline: Duration,
        first: Option<Batch>,
    ) -> Result<Batch> {
        // A deadline too far to represent means no deadline.
        let end = tokio::time::Instant::now().checked_add(deadline);
        let expired = |last: Option<Batch>| {
            let mut e = Error::new(
                ErrorKind::DeadlineExceeded,
                match &last {
                    Some(b) => format!("batch {} is still {} after {deadline:?}", b.id, b.status_text()),
                    None => format!("batch {batch_id} was not retrieved within {deadline:?}"),
                },
            )
            .with_operation("retrieve_batch");
            if let Some(b) = last {
                e = e.with_last_batch(b);
            }
            e
        };
        let mut interval = options.first_interval.max(MIN_POLL_INTERVAL);
        let mut last = first;
        let mut streak = Streak::default();
        loop {
            // After a failed poll, `last` was seen already: poll again after the pause.
            if !streak.is_failing()
                && let Some(batch) = &last
            {
                if let Some(on_poll) = &options.on_poll {
                    on_poll(batch);
                }
                if batch.is_terminal() {
                    return Ok(last.expect("checked above"));
                }
                let remaining = end.map(|end| end.saturating_duration_since(tokio::time::Instant::now()));
                if remaining.is_some_and(|r| r.is_zero()) {
                    return Err(expired(last));
                }
                tokio::time::sleep(remaining.map_or(interval, |r| interval.min(r))).await;
                interval = interval
                    .checked_mul(3)
                    .map_or(options.max_interval, |d| d / 2)
                    .min(options.max_interval);
            }
            // The deadline also bounds a poll in flight (a slow server, a long Retry-After).
            let poll = self.retrieve_batch(batch_id);
            let result = match end {
                Some(end) => match tokio::time::timeout_at(end, poll).await {
                    Ok(result) => result,
                    Err(_) => return Err(expired(last)),
                },
                None => poll.await,
            };
            match result {
                Ok(batch) => {
                    streak.reset();
                    last = Some(batch);
                }
                Err(e) if is_transient(&e) => {
                    let pause = match streak.record(interval, options.patience) {
                        Ok((pause, _)) => pause,
                        Err(failing_for) => {
                            return Err(e.with_context(format!("polls failed for {failing_for:?} in a row; giving up")));
                        }
                    };
                    if let Some(on_poll_error) = &options.on_poll_error {
                        on_poll_error(&e, pause);
                    }
                    let pause = end.map_or(pause, |end| {
                        pause.min(end.saturating_duration_since(tokio::time::Instant::now()))
                    });
                    tokio::time::sleep(pause).await;
                    if end.is_some_and(|end| tokio::time::Instant::now() >= end) {
                        return Err(expired(last));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}
