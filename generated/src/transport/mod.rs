//! Sending requests. A call's whole life, from the request an operation describes to its typed
//! answer or error, reads top to bottom in [`execute`]; beside it, one concern per file:
//!
//! - [`request`]: the operation-specific part of a call, as a value the generated code fills
//!   in;
//! - [`retry`]: when a failed attempt is tried again, and after what delay;
//! - [`encoding`]: content encodings of a response that nobody decoded;
//! - [`path`]: the checks and encoding that keep an id in one path segment.

pub(crate) mod encoding;
pub(crate) mod execute;
pub(crate) mod path;
pub(crate) mod request;
pub(crate) mod retry;

pub(crate) use execute::{download, json};
// For the generated code of an operation whose success has no body, or whose request body is
// raw bytes (this spec has neither today).
#[allow(unused_imports)]
pub(crate) use execute::empty;
pub(crate) use path::PathSegment;
pub use path::{MAX_PATH_SEGMENT_BYTES, check_path_segment, encode_path_segment};
#[allow(unused_imports)]
pub(crate) use request::RepeatableBody;
pub(crate) use request::Request;
pub use retry::{MAX_RETRY_AFTER, retry_after};
