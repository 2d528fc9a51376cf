//! What the batch statuses mean, beyond their values (which are generated from the spec).

use crate::types::BatchStatus;

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
