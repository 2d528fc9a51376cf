//! [`Operation`]: what the client knows of each operation of the spec, for its errors and the
//! path checks. The generated `operations` module has one constant per operation.

/// One operation of the spec: what the generated constants in [`crate::operations`] describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The `operationId`, e.g. `cancel_batch`.
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template, e.g. `/v1/batches/{batch_id}`.
    pub path: &'static str,
    /// The vendor's doc page for the operation.
    pub docs_url: Option<&'static str>,
    /// Whether the method was generated (otherwise it is implemented by hand).
    pub generated: bool,
}
