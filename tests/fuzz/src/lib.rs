//! The fuzz entry points: one per decoder of the client. Each takes arbitrary bytes and must
//! never panic. The libFuzzer targets in `fuzz_targets/` call them, and the test suite replays
//! the corpus and random inputs through the same functions (`tests/suite/fuzz_replay.rs`
//! includes this file).

use std::time::{Duration, SystemTime};

use cerebras_batch::types;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};

/// Decodes a `Batch`; a decoded one must re-encode and decode to itself.
pub fn batch(data: &[u8]) {
    if let Ok(batch) = serde_json::from_slice::<types::Batch>(data) {
        let again: types::Batch =
            serde_json::from_slice(&serde_json::to_vec(&batch).expect("encodes")).expect("round-trips");
        assert_eq!(again, batch);
        let _ = batch.is_terminal();
    }
}

/// Decodes both list envelopes.
pub fn list(data: &[u8]) {
    if let Ok(list) = serde_json::from_slice::<types::BatchList>(data) {
        let again: types::BatchList =
            serde_json::from_slice(&serde_json::to_vec(&list).expect("encodes")).expect("round-trips");
        assert_eq!(again, list);
    }
    let _ = serde_json::from_slice::<types::FileList>(data);
}

/// Builds the client's error from a response with this body, under a few statuses.
pub fn error_body(data: &[u8]) {
    for status in [400u16, 404, 429, 502] {
        let status = reqwest::StatusCode::from_u16(status).expect("valid status");
        let err = cerebras_batch::Error::from_response_parts(status, HeaderMap::new(), data);
        assert_eq!(err.status(), Some(status));
        assert!(
            err.body_text()
                .is_some_and(|t| t.len() <= cerebras_batch::MAX_ERROR_BODY * 3)
        );
        let _ = (err.to_string(), format!("{err:?}"), err.kind(), err.request_id());
    }
}

/// Parses the bytes as `Retry-After` and `retry-after-ms` values; the delay is never above the cap.
pub fn retry_after(data: &[u8]) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_766_000_000);
    for name in ["retry-after", "retry-after-ms"] {
        if let Ok(value) = HeaderValue::from_bytes(data) {
            let mut headers = HeaderMap::new();
            headers.insert(name, value);
            if let Some(delay) = cerebras_batch::retry_after(&headers, now) {
                assert!(
                    delay > Duration::ZERO && delay <= cerebras_batch::MAX_RETRY_AFTER,
                    "{delay:?}"
                );
            }
        }
    }
}

/// Reads the bytes as a results file: every line is a result or an error with its line number.
pub fn result_lines(data: &[u8]) {
    let lines: Vec<_> = futures::executor::block_on(
        cerebras_batch::jsonl::read_results_from(std::io::Cursor::new(data.to_vec())).collect(),
    );
    let newlines = data.iter().filter(|b| **b == b'\n').count();
    assert!(lines.len() <= newlines + 1);
    for line in lines {
        match line {
            Ok(l) => {
                assert!(l.line_number() >= 1 && l.line_number() <= newlines + 1);
                let _ = (l.status(), l.completion(), l.shape(), l.error_message());
                // Built on first use from a line that decoded: must not fail (they would panic).
                let _ = (l.raw(), l.line());
            }
            Err(e) => assert!(e.line().is_some_and(|n| n >= 1 && n <= newlines + 1), "{e:?}"),
        }
    }
}

/// The result reader's first pass against its full decode: on any bytes, the same verdict, the
/// same error, and the same value from every accessor.
pub fn result_decode(data: &[u8]) {
    use cerebras_batch::jsonl::{ResultLine, decode_result_line};
    fn values(l: &ResultLine) -> impl PartialEq + std::fmt::Debug + use<> {
        (
            (l.line_number(), l.text().to_owned(), l.custom_id().to_owned()),
            (l.shape(), l.status(), l.http_status(), l.error().cloned()),
            (l.completion().cloned(), l.error_message().map(str::to_owned)),
            (l.line().clone(), l.raw().clone()),
        )
    }
    match (decode_result_line(data, false), decode_result_line(data, true)) {
        (Ok(fast), Ok(full)) => {
            assert_eq!(values(&fast), values(&full));
            assert_eq!(fast.text().as_bytes(), data, "text() is the line as received");
        }
        (Err(fast), Err(full)) => {
            assert_eq!(fast.to_string(), full.to_string());
            assert_eq!(fast.line(), Some(1));
        }
        (fast, full) => panic!("the decodes disagree: {fast:?} against {full:?}"),
    }
}

/// The list stream's decisions over a sequence of page bodies (one per line of the input, the
/// last answered again to every further request): it ends by itself, never yields an id twice,
/// asks for each next page `after` the last id of the one before, and ends in at most one error,
/// last, that names what went wrong.
pub fn pagination(data: &[u8]) {
    let bodies: Vec<&[u8]> = data.split(|b| *b == b'\n').take(16).collect();
    let listing = futures::executor::block_on(cerebras_batch::replay_listing(&bodies));
    assert!(listing.ended, "the listing did not end: {listing:?}");
    assert!(
        listing.requests.len() <= bodies.len() + 1,
        "a page beyond the sequence repeats the last one, which brings nothing new: {listing:?}"
    );
    // The page each request got, decoded as the client decodes it.
    let answered = |i: usize| {
        let body = bodies.get(i).or(bodies.last()).expect("at least one page");
        serde_json::from_slice::<types::BatchList>(body).ok()
    };
    assert_eq!(listing.requests.first(), Some(&None), "the first page has no cursor");
    for (i, after) in listing.requests.iter().enumerate().skip(1) {
        let previous = answered(i - 1).expect("a page that did not decode ends the listing");
        assert_eq!(previous.has_more, Some(true), "only has_more: true asks again");
        let last = previous.data.and_then(|d| d.last().map(|b| b.id.clone()));
        assert_eq!(after, &last, "`after` is the last id of the page before");
    }
    let mut seen = std::collections::HashSet::new();
    for (i, item) in listing.items.iter().enumerate() {
        match item {
            Ok(id) => assert!(seen.insert(id.clone()), "{id} yielded twice"),
            Err((kind, message)) => {
                assert_eq!(i, listing.items.len() - 1, "an error is the stream's last item");
                match kind {
                    cerebras_batch::ErrorKind::Protocol => assert!(
                        message.starts_with("list_batches: ")
                            && (message.contains("the listing may be incomplete")
                                || message.contains("the server repeated a page")),
                        "{message}"
                    ),
                    cerebras_batch::ErrorKind::Decode => {
                        let page = listing.requests.len() - 1;
                        assert!(answered(page).is_none(), "a page that decodes is no decode error");
                    }
                    other => panic!("unexpected error kind {other:?}: {message}"),
                }
            }
        }
    }
    // Ending without an error: the last page said so (`has_more` false, or absent with no
    // unknown field), and every item of every page answered was yielded.
    if listing.items.last().is_none_or(Result::is_ok) {
        let last = answered(listing.requests.len() - 1).expect("it decoded");
        assert_ne!(last.has_more, Some(true));
        if last.has_more.is_none() {
            assert!(
                last.extra.keys().all(|k| k == "first_id" || k == "last_id"),
                "{:?}",
                last.extra
            );
        }
        let mut all = std::collections::HashSet::new();
        for i in 0..listing.requests.len() {
            for b in answered(i).and_then(|p| p.data).into_iter().flatten() {
                all.insert(b.id);
            }
        }
        assert_eq!(seen, all, "every id of every page, once");
    }
}
