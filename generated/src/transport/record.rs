//! The record of a call: what its attempts saw, for its error (or its download) to keep, and the
//! body of a JSON success for the decoder. It is current, through a thread-local, while the call
//! is polled.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

/// What one call saw, for errors raised after the transport returned (decode failures).
#[derive(Default)]
pub(crate) struct CallRecord {
    pub(crate) attempts: AtomicU32,
    pub(crate) last: std::sync::Mutex<Option<(StatusCode, HeaderMap)>>,
    /// The method and path of the request (with its ids).
    pub(crate) request: std::sync::Mutex<Option<(Method, String)>>,
    /// The method of the call (set first: a method copies without allocating); the path is
    /// added to `request` only when an error or a download needs it.
    pub(crate) method: std::sync::Mutex<Option<Method>>,
    /// Set by an attempt that failed and is to be tried again: the delay before the next one
    /// (the transport decides; the call loop in `client.rs` waits and rebuilds the request).
    pub(crate) retry: std::sync::Mutex<Option<std::time::Duration>>,
    /// A JSON success's body, read whole within its attempt (so that a body that breaks off is
    /// retried); `json_response` takes it from here.
    pub(crate) body: std::sync::Mutex<Option<bytes::Bytes>>,
}

thread_local! {
    /// The record of the call being polled on this thread, set by [`WithRecord`] around each
    /// poll (a task-local, without tokio's rewrapping of the output on every poll).
    static CALL: std::cell::RefCell<Option<Arc<CallRecord>>> = const { std::cell::RefCell::new(None) };
}

pub(crate) fn record(f: impl FnOnce(&CallRecord)) {
    CALL.with(|c| {
        if let Some(r) = c.borrow().as_ref() {
            f(r);
        }
    });
}

/// A call's future with its record, which is current while the future is polled.
pub(crate) struct WithRecord<F> {
    record: Option<Arc<CallRecord>>,
    future: F,
}

impl<F> WithRecord<F> {
    pub(crate) fn new(record: Arc<CallRecord>, future: F) -> Self {
        Self {
            record: Some(record),
            future,
        }
    }
}

impl<F: std::future::Future + Unpin> std::future::Future for WithRecord<F> {
    type Output = F::Output;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        let this = &mut *self;
        // Swapped in for the poll and back out after, also when the poll panics.
        struct Restore<'a>(&'a mut Option<Arc<CallRecord>>);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                CALL.with(|c| std::mem::swap(&mut *c.borrow_mut(), self.0));
            }
        }
        CALL.with(|c| std::mem::swap(&mut *c.borrow_mut(), &mut this.record));
        let restore = Restore(&mut this.record);
        let result = std::pin::Pin::new(&mut this.future).poll(cx);
        drop(restore);
        result
    }
}

/// The response with its whole body read (2xx JSON answers only; they are read whole anyway).
/// Keeps the request's method and path for the error (or the download) of this call.
pub(crate) fn record_request(url: &reqwest::Url) {
    record(|r| {
        let method = r.method.lock().expect("call record lock").clone();
        if let Some(method) = method {
            *r.request.lock().expect("call record lock") = Some((method, url.path().to_owned()));
        }
    });
}

/// Keeps what a response said for the error of this call (see [`CallRecord`]).
pub(crate) fn record_response(status: StatusCode, headers: HeaderMap) {
    record(|r| *r.last.lock().expect("call record lock") = Some((status, headers)));
}

/// The body `buffer_body` kept for this call, if any.
pub(crate) fn take_body() -> Option<bytes::Bytes> {
    let mut body = None;
    record(|r| body = r.body.lock().expect("call record lock").take());
    body
}
