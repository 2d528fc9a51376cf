//! What batches mean beyond their generated types: which statuses are final, and the one
//! create request the API accepts today.

use crate::types::{Batch, BatchEndpoint, BatchStatus, CompletionWindow, CreateBatchRequest};

impl BatchStatus {
    /// Whether a batch in this status will not change again: `completed`, `failed`, `expired`
    /// or `cancelled`. Every other status, unknown ones included (the Cancel batch example
    /// shows `calling`), may still change.
    ///
    /// Source: the "Batch States" table of <https://inference-docs.cerebras.ai/capabilities/batch>.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Expired | Self::Cancelled)
    }
}

impl Batch {
    /// Whether the batch's status is final (see [`BatchStatus::is_terminal`]); `false` when the
    /// server sent no status.
    pub fn is_terminal(&self) -> bool {
        self.status.as_ref().is_some_and(BatchStatus::is_terminal)
    }

    /// The status as sent on the wire, or `"(no status)"` when the server sent none; for
    /// messages and logs.
    pub fn status_text(&self) -> &str {
        self.status.as_ref().map_or("(no status)", BatchStatus::as_str)
    }
}

impl CreateBatchRequest {
    /// A request for a batch over `input_file_id` (the id of a file uploaded with purpose
    /// `batch`), sent to `/v1/chat/completions` within the `24h` window: the only endpoint and
    /// window the API documents. Add metadata with
    /// [`with_metadata`](CreateBatchRequest::with_metadata).
    ///
    /// Source: <https://inference-docs.cerebras.ai/api-reference/batch/create-batch>.
    pub fn chat_completions(input_file_id: impl Into<String>) -> Self {
        Self::new(CompletionWindow::Hours24, BatchEndpoint::ChatCompletions, input_file_id)
    }
}
