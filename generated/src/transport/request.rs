//! [`Request`]: the operation-specific part of a call, as a value. A generated `send()` fills
//! one in (the method, the path with each id percent-encoded, the query pairs, the header
//! parameters, the body, the success statuses) and hands it to the call path
//! ([`super::execute`]); the hand-written upload does the same with its multipart form.
//!
//! Building a request sends nothing: a value that cannot go on the wire (a header parameter
//! that is not a header value, a body that does not serialize) is an
//! [`ErrorKind::InvalidInput`] naming the operation and its route.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use crate::error::{Error, ErrorKind, Result};
use crate::operation::Operation;

/// What one call sends.
pub(crate) struct Request {
    pub(crate) op: &'static Operation,
    pub(crate) method: Method,
    /// The path, each parameter percent-encoded (`/v1/batches/batch_abc`).
    pub(crate) path: String,
    /// The query, encoded (`after=batch_1&limit=10`); empty when there is none.
    pub(crate) query: String,
    /// The statuses the operation declares as its success, as inclusive ranges; any other
    /// status is an error.
    pub(crate) success: &'static [(u16, u16)],
    /// The operation's own headers: `Accept`, the body's `Content-Type`, header parameters.
    /// The client's headers are added to each attempt (see [`super::execute`]).
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
}

/// A request's body.
pub(crate) enum Body {
    None,
    /// Bytes held in memory (JSON, a form, text): sent again from them on a retry.
    Bytes(Bytes),
    /// The caller's raw body: sent again from its bytes, or once if it is a stream.
    #[allow(dead_code)] // See `Request::header`.
    Raw(RepeatableBody),
    /// A multipart form (an upload): streamed, sent once.
    Multipart(Option<reqwest::multipart::Form>),
}

impl Body {
    /// Whether another attempt can send the body again.
    pub(crate) fn repeatable(&self) -> bool {
        match self {
            Self::None | Self::Bytes(_) => true,
            Self::Raw(body) => body.bytes.is_some(),
            Self::Multipart(_) => false,
        }
    }

    /// Whether it may be a stream (an upload): such a body goes through the client for
    /// transfers, whose timeout is not one bound on the whole attempt.
    pub(crate) fn streams(&self) -> bool {
        matches!(self, Self::Raw(_) | Self::Multipart(_))
    }
}

impl Request {
    /// A request for `op`: `method` on `path` (its parameters already percent-encoded),
    /// answered with success by the statuses in `success`.
    pub(crate) fn new(op: &'static Operation, method: Method, path: String, success: &'static [(u16, u16)]) -> Self {
        Self {
            op,
            method,
            path,
            query: String::new(),
            success,
            headers: HeaderMap::new(),
            body: Body::None,
        }
    }

    /// The error for a value that cannot be sent: nothing was.
    fn refuse(&self, message: String) -> Error {
        Error::new(ErrorKind::InvalidInput, message)
            .with_operation(self.op.id)
            .with_request(self.op.method, self.op.path)
    }

    /// Adds the query pair `name=value` (a string, number, boolean or open enum), encoded as a
    /// form (`a b` as `a+b`).
    pub(crate) fn query(&mut self, name: &str, value: &(impl serde::Serialize + ?Sized)) -> Result<()> {
        let pair = serde_urlencoded::to_string([(name, value)])
            .map_err(|e| self.refuse(format!("query parameter `{name}`: {e}")))?;
        if !self.query.is_empty() && !pair.is_empty() {
            self.query.push('&');
        }
        self.query.push_str(&pair);
        Ok(())
    }

    /// Adds the header parameter `name: value` (the value's text).
    ///
    /// (This method, [`form`](Self::form), [`text`](Self::text) and [`raw`](Self::raw) serve
    /// operations this spec does not have today; the drift corpus compiles them.)
    #[allow(dead_code)]
    pub(crate) fn header(&mut self, name: &str, value: &(impl std::fmt::Display + ?Sized)) -> Result<()> {
        let header = HeaderName::from_bytes(name.as_bytes())
            .ok()
            .zip(HeaderValue::from_str(&value.to_string()).ok());
        let Some((name, value)) = header else {
            return Err(self.refuse(format!("header parameter `{name}`: not a valid header value")));
        };
        self.headers.append(name, value);
        Ok(())
    }

    /// Asks for a JSON answer (`Accept: application/json`).
    pub(crate) fn accept_json(&mut self) {
        self.headers
            .insert(reqwest::header::ACCEPT, HeaderValue::from_static("application/json"));
    }

    /// The body: `value` as JSON.
    pub(crate) fn json(&mut self, value: &impl serde::Serialize) -> Result<()> {
        let bytes = serde_json::to_vec(value).map_err(|e| self.refuse(format!("the request body: {e}")))?;
        self.bytes(HeaderValue::from_static("application/json"), bytes.into());
        Ok(())
    }

    /// The body: `value` as a form (`application/x-www-form-urlencoded`).
    #[allow(dead_code)]
    pub(crate) fn form(&mut self, value: &impl serde::Serialize) -> Result<()> {
        let text = serde_urlencoded::to_string(value).map_err(|e| self.refuse(format!("the request body: {e}")))?;
        self.bytes(
            HeaderValue::from_static("application/x-www-form-urlencoded"),
            text.into(),
        );
        Ok(())
    }

    /// The body: `text`, of the media type `media_type` (`text/plain`, ...).
    #[allow(dead_code)]
    pub(crate) fn text(&mut self, media_type: &'static str, text: String) {
        self.bytes(HeaderValue::from_static(media_type), text.into());
    }

    /// The body: the caller's raw bytes or stream (`application/octet-stream`).
    #[allow(dead_code)]
    pub(crate) fn raw(&mut self, body: RepeatableBody) {
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        self.body = Body::Raw(body);
    }

    /// The body: a multipart form (reqwest sets its `Content-Type`, with the boundary).
    pub(crate) fn multipart(&mut self, form: reqwest::multipart::Form) {
        self.body = Body::Multipart(Some(form));
    }

    fn bytes(&mut self, content_type: HeaderValue, bytes: Bytes) {
        self.headers.insert(CONTENT_TYPE, content_type);
        self.body = Body::Bytes(bytes);
    }
}

/// A request body for a call that may be attempted more than once: a body held in memory is
/// sent again from its bytes (a cheap shared copy); a stream is sent once (the call path never
/// repeats a request whose body is a stream, so a second attempt does not happen; should it,
/// its body fails with an I/O error rather than send something else). The generated code uses
/// it for an operation whose request body is raw bytes (this spec has none today).
pub(crate) struct RepeatableBody {
    bytes: Option<Bytes>,
    stream: Option<reqwest::Body>,
}

impl RepeatableBody {
    #[allow(dead_code)] // See `Request::header`.
    pub(crate) fn new(body: reqwest::Body) -> Self {
        match body.as_bytes().map(Bytes::copy_from_slice) {
            Some(bytes) => Self {
                bytes: Some(bytes),
                stream: None,
            },
            None => Self {
                bytes: None,
                stream: Some(body),
            },
        }
    }

    /// The body for the next attempt.
    pub(crate) fn next(&mut self) -> reqwest::Body {
        if let Some(bytes) = &self.bytes {
            return reqwest::Body::from(bytes.clone());
        }
        self.stream.take().unwrap_or_else(sent_once)
    }
}

/// The body of a second attempt with a streamed body, should one happen (the call path never
/// makes one): an error, never an empty body.
pub(crate) fn sent_once() -> reqwest::Body {
    reqwest::Body::wrap_stream(futures::stream::once(async {
        Err::<Bytes, _>(std::io::Error::other("a streamed request body is sent once"))
    }))
}

#[cfg(test)]
mod tests {
    use super::RepeatableBody;

    #[test]
    fn a_body_in_memory_is_sent_again_and_a_stream_once() {
        let mut body = RepeatableBody::new(reqwest::Body::from("abc"));
        assert_eq!(body.next().as_bytes(), Some(&b"abc"[..]));
        assert_eq!(body.next().as_bytes(), Some(&b"abc"[..]));
        let stream = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"x"))]);
        let mut body = RepeatableBody::new(reqwest::Body::wrap_stream(stream));
        assert!(body.next().as_bytes().is_none(), "the stream itself, first");
        assert!(
            body.next().as_bytes().is_none(),
            "then a body that fails, never an empty one"
        );
    }

    #[test]
    fn query_pairs_are_encoded_as_a_form_and_join() {
        let mut request = super::Request::new(
            &crate::operations::LIST_FILES,
            reqwest::Method::GET,
            "/v1/files".into(),
            &[(200, 200)],
        );
        request.query("after", "file a&b").unwrap();
        request.query("limit", &10).unwrap();
        request
            .query("order", &crate::types::BatchStatus::from("in_progress"))
            .unwrap();
        assert_eq!(request.query, "after=file+a%26b&limit=10&order=in_progress");
    }
}
