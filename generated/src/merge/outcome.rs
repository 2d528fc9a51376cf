//! What a merged line says of its request, and whether running it again may succeed: the one
//! place that decides which requests a rerun sends (see [`is_rerunnable`] and the table in the
//! [module](super) docs).

use crate::jsonl::ResultLine;
use crate::types::BatchResultStatus;

/// The error codes of a `failed` result line that name a transient cause: running the request
/// again may succeed. One entry today, `timeout`, the code of the vendor's documented example of
/// a request its batch did not reach in time
/// (<https://inference-docs.cerebras.ai/api-reference/batch/retrieve-batch-results>). A code not
/// listed here (`invalid_request` above all) is not rerunnable.
pub const TRANSIENT_ERROR_CODES: &[&str] = &["timeout"];

/// The status this crate writes for a request without a result line (see the [module](super)).
pub(crate) const MISSING: &str = "missing";

/// The codes that say a request was never run, and why (the OpenAI shape's `batch_expired`,
/// from OpenAI's batch guide, "Batch expiration"; the others are the codes this crate writes).
pub(crate) const EXPIRED_CODE: &str = "batch_expired";
pub(crate) const CANCELLED_CODE: &str = "batch_cancelled";
pub(crate) const FAILED_BATCH_CODE: &str = "batch_failed";
pub(crate) const NO_RESULT_CODE: &str = "no_result";

/// What one line of a merged output says of its request (one byte: the merge keeps one per
/// result line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineOutcome {
    Succeeded,
    /// Failed for a cause that another run will not heal.
    Failed,
    /// Failed for a transient cause.
    FailedTransient,
    Expired,
    /// No result: the batch lost it, or was never created.
    Missing,
    /// No result: the batch was cancelled.
    MissingCancelled,
    /// No result: the batch failed.
    MissingBatchFailed,
    /// A line with a `custom_id` that is otherwise not a result line: kept as the server wrote
    /// it and counted as failed, but never sent again (it may have run).
    Unreadable,
}

impl LineOutcome {
    /// Whether running the request again may succeed.
    pub(crate) fn rerunnable(self) -> bool {
        !matches!(self, Self::Succeeded | Self::Failed | Self::Unreadable)
    }

    /// The outcome of a result line (the server's, or one this crate wrote).
    pub(crate) fn of(line: &ResultLine) -> Self {
        let code = line.error().and_then(|e| e.code.as_deref());
        let status = line.status();
        match (&status, code) {
            (BatchResultStatus::Succeeded, _) => Self::Succeeded,
            (BatchResultStatus::Expired, _) | (_, Some(EXPIRED_CODE)) => Self::Expired,
            (_, Some(CANCELLED_CODE)) => Self::MissingCancelled,
            (_, Some(FAILED_BATCH_CODE)) => Self::MissingBatchFailed,
            _ if status.as_str() == MISSING => Self::Missing,
            _ if transient(line.http_status(), code) => Self::FailedTransient,
            _ => Self::Failed,
        }
    }
}

/// Whether a failure with this HTTP status (OpenAI shape) or error code (Cerebras shape) is
/// transient: 408, 429 or 5xx, or a code of [`TRANSIENT_ERROR_CODES`]; never a 400 or
/// `invalid_request`.
fn transient(status: Option<u16>, code: Option<&str>) -> bool {
    if status == Some(400) || code == Some("invalid_request") {
        return false;
    }
    let by_status = status.is_some_and(|s| matches!(s, 408 | 429 | 500..=599));
    by_status || code.is_some_and(|c| TRANSIENT_ERROR_CODES.contains(&c))
}

/// Whether a request whose merged line is `line` is worth running again: it expired, has no
/// result (a line this crate wrote with `"status": "missing"`), or failed for a transient cause
/// (HTTP 408, 429 or 5xx in the OpenAI shape, or an error code of
/// [`TRANSIENT_ERROR_CODES`]); never one that succeeded, nor a failure with HTTP 400 or the code
/// `invalid_request`. This is the rule of [`Job::rerun_unfinished`](crate::job::Job::rerun_unfinished).
pub fn is_rerunnable(line: &ResultLine) -> bool {
    LineOutcome::of(line).rerunnable()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(text: &str) -> LineOutcome {
        LineOutcome::of(&crate::jsonl::decode_line(1, text.as_bytes()).unwrap())
    }

    fn openai(status: u16) -> String {
        format!(
            r#"{{"id":"r","custom_id":"a","response":{{"status_code":{status},"request_id":"q","body":{{"error":{{"message":"m"}}}}}},"error":null}}"#
        )
    }

    #[test]
    fn the_rule_of_reruns() {
        for (status, rerun) in [(408, true), (429, true), (500, true), (503, true), (599, true)] {
            assert_eq!(
                outcome(&openai(status)),
                if rerun {
                    LineOutcome::FailedTransient
                } else {
                    LineOutcome::Failed
                },
                "{status}"
            );
        }
        for status in [400, 401, 404, 409, 422] {
            assert_eq!(outcome(&openai(status)), LineOutcome::Failed, "{status}");
        }
        let cerebras = |status: &str, code: &str| {
            outcome(&format!(
                r#"{{"custom_id":"a","status":"{status}","error":{{"code":"{code}","message":"m"}}}}"#
            ))
        };
        assert_eq!(cerebras("failed", "timeout"), LineOutcome::FailedTransient);
        assert_eq!(cerebras("failed", "invalid_request"), LineOutcome::Failed);
        assert_eq!(cerebras("failed", "rate_limit"), LineOutcome::Failed);
        assert_eq!(cerebras("expired", "timeout"), LineOutcome::Expired);
        assert_eq!(cerebras("missing", "no_result"), LineOutcome::Missing);
        assert_eq!(cerebras("missing", "batch_cancelled"), LineOutcome::MissingCancelled);
        assert_eq!(cerebras("missing", "batch_failed"), LineOutcome::MissingBatchFailed);
        assert_eq!(cerebras("expired", "batch_expired"), LineOutcome::Expired);
        // OpenAI writes a request its batch never reached into the error file so.
        let expired = r#"{"id":"r","custom_id":"a","response":null,"error":{"code":"batch_expired","message":"m"}}"#;
        assert_eq!(outcome(expired), LineOutcome::Expired);
        assert_eq!(
            outcome(r#"{"custom_id":"a","status":"succeeded","response":{}}"#),
            LineOutcome::Succeeded
        );
        // A 5xx that also says invalid_request is never sent again.
        let both = r#"{"custom_id":"a","response":{"status_code":500,"body":{}},"error":{"code":"invalid_request"}}"#;
        assert_eq!(outcome(both), LineOutcome::Failed);
        assert!(LineOutcome::Expired.rerunnable() && LineOutcome::MissingCancelled.rerunnable());
        assert!(!LineOutcome::Succeeded.rerunnable());
    }
}
