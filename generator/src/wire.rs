//! What the spec says of an operation on the wire that progenitor's method signatures do not:
//! the media type its request body is sent in, and the statuses of its success. Read from the
//! normalised spec (the copy progenitor reads), where each request body has one media type
//! and only the success responses are left (see `normalize/operations.rs`).

use openapiv3::{OpenAPI, ReferenceOr, StatusCode};

use crate::OperationSpec;

/// How a request body goes on the wire (the spec's one media type for it, after
/// normalisation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `application/json`: the value serialized as JSON.
    Json,
    /// `application/x-www-form-urlencoded`: the value serialized as a form.
    Form,
    /// `text/plain` and the like (the media type): a `String`.
    Text(String),
    /// `application/octet-stream`: the caller's `reqwest::Body` (bytes sent again on a retry, a
    /// stream once).
    Raw,
}

/// How one operation goes on the wire.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    /// Its request body's media type, if it has a body.
    pub(crate) body: Option<Body>,
    /// Its success statuses, as inclusive ranges.
    pub(crate) success: Vec<(u16, u16)>,
}

/// What the spec copy `spec` says of `op` on the wire.
pub(crate) fn of(op: &OperationSpec, spec: &OpenAPI) -> Wire {
    let operation = spec
        .paths
        .paths
        .get(&op.path)
        .and_then(ReferenceOr::as_item)
        .and_then(|item| item.iter().find(|(m, _)| m.eq_ignore_ascii_case(&op.method)))
        .map(|(_, o)| o);
    let Some(operation) = operation else {
        return Wire {
            body: None,
            success: vec![(200, 299)],
        };
    };
    let body = operation
        .request_body
        .as_ref()
        .and_then(ReferenceOr::as_item)
        .and_then(|b| b.content.keys().next())
        .map(|media| match media.as_str() {
            "application/json" => Body::Json,
            "application/x-www-form-urlencoded" => Body::Form,
            "application/octet-stream" => Body::Raw,
            other => Body::Text(other.to_owned()),
        });
    // As progenitor reads them: a code, a `2XX` range, or `default` for every 2xx.
    let mut success: Vec<(u16, u16)> = operation
        .responses
        .responses
        .keys()
        .filter_map(|code| match code {
            StatusCode::Code(c) if (200..300).contains(c) => Some((*c, *c)),
            StatusCode::Range(2) => Some((200, 299)),
            _ => None,
        })
        .collect();
    if operation.responses.default.is_some() || success.is_empty() {
        success.push((200, 299));
    }
    success.sort_unstable();
    success.dedup();
    Wire { body, success }
}
