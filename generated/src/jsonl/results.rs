//! Reading result lines of either known shape, fast: each line is parsed once, into what every
//! caller needs (`custom_id`, `id`, `status`, `error`, the shape and HTTP status of its
//! `response`), checking every byte as a full decode would ([`checked`](super::checked)); the
//! line's map and the spec's `BatchResultLine` are built only when asked for, once, from the
//! same text, which cannot fail then.

use std::sync::OnceLock;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::io::AsyncRead;
use tokio_util::codec::FramedRead;

use super::checked::{Fast, HttpStatus, ResponseHead};
use super::lines::LineDecoder;
use super::surrogates::replace_lone_surrogates;
use super::{BOM, MAX_RESULT_LINE_BYTES};
use crate::error::{Error, ErrorKind, Result};
use crate::types::{BatchResultError, BatchResultLine, BatchResultStatus};

/// Which documented shape a result line has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultShape {
    /// `{custom_id, status, response: <chat.completion>, error}`, as the Cerebras docs show.
    Cerebras,
    /// `{id, custom_id, response: {status_code, request_id, body}, error}`, as OpenAI writes.
    OpenAi,
}

/// One line of a batch's results, decoded, with every field of the line kept (the line's text
/// is kept whole; [`raw`](Self::raw) is every field of it).
///
/// **Lone surrogates.** JSON text can escape a lone UTF-16 surrogate (`"\ud800"` with no
/// trailing surrogate after it): valid JSON, but not valid Unicode. Such a line decodes, and
/// every decoded value ([`custom_id`](Self::custom_id), [`raw`](Self::raw),
/// [`line`](Self::line), [`completion`](Self::completion), [`error`](Self::error),
/// [`error_message`](Self::error_message)) holds U+FFFD (`�`) in place of each lone surrogate,
/// as `String::from_utf16_lossy` reads them; [`text`](Self::text) keeps the line's bytes
/// exactly as received, so a merged results file is byte-identical to what the server sent.
#[derive(Clone)]
pub struct ResultLine {
    number: usize,
    /// The line, valid UTF-8, without a byte order mark, CR or LF.
    text: Box<str>,
    /// What the decoders read: `text` with each lone surrogate escape replaced by `\ufffd`
    /// (same length), when it had one.
    replaced: Option<Box<str>>,
    custom_id: String,
    id: Option<String>,
    status: Option<BatchResultStatus>,
    error: Option<BatchResultError>,
    /// `None` when `response` is absent or null (otherwise it is an object).
    response: Option<ResponseHead>,
    line: OnceLock<BatchResultLine>,
    raw: OnceLock<Map<String, Value>>,
}

/// Two lines are equal when they are the same line: the same number and text.
impl PartialEq for ResultLine {
    fn eq(&self, other: &Self) -> bool {
        self.number == other.number && self.text == other.text
    }
}

impl std::fmt::Debug for ResultLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultLine")
            .field("number", &self.number)
            .field("custom_id", &self.custom_id)
            .field("status", &self.status)
            .field("text", &self.text)
            .finish()
    }
}

/// Which decode reads a line: [`Fast`](Decode::Fast) for the lines it takes, else the full one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decode {
    /// The first pass ([`Fast`]), or the full decode for a line it does not take.
    Fast,
    /// Always the full decode: the whole line into a map, then the spec's `BatchResultLine`.
    Full,
}

impl ResultLine {
    /// Decodes `text` (line `number`, without BOM, CR or LF). Both decodes give the same
    /// verdict and the same values on every input (the fuzz target `result_decode` checks it);
    /// errors always come from the full decode.
    pub(crate) fn parse(number: usize, text: &[u8], decode: Decode) -> Result<Self> {
        let error = |message: String| Error::new(ErrorKind::Decode, message).with_line(number);
        let text = match std::str::from_utf8(text) {
            Ok(text) => text,
            Err(e) => return Err(error(format!("not a JSON object: the line is not UTF-8 ({e})"))),
        };
        let replaced = replace_lone_surrogates(text);
        // The text itself when it has no lone surrogate escape.
        let json = replaced.as_deref().unwrap_or(text);
        // Only an object takes the first pass (serde would also read a struct from an array).
        let object = json.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{');
        let fast = match decode {
            Decode::Fast if object => serde_json::from_str::<Fast>(json).ok(),
            // A line the first pass does not take (not an object, an unknown field, a repeated
            // key, a value it refuses): the full decode reads it, and its error is the one kept.
            Decode::Fast | Decode::Full => None,
        };
        let line = match fast {
            Some(fast) => Self {
                number,
                text: text.into(),
                replaced: replaced.map(String::into_boxed_str),
                custom_id: fast.custom_id,
                id: fast.id,
                status: fast.status,
                error: fast.error,
                response: fast.response,
                line: OnceLock::new(),
                raw: OnceLock::new(),
            },
            None => {
                let raw = serde_json::from_str::<Map<String, Value>>(json)
                    .map_err(|e| error(format!("not a JSON object: {e}")))?;
                let line = serde_json::from_value::<BatchResultLine>(Value::Object(raw.clone()))
                    .map_err(|e| error(format!("not a batch result line: {e}")))?;
                let response = match &line.response {
                    None => None,
                    Some(response) => Some(head_of(response).map_err(|e| {
                        error(format!(
                            "custom_id {:?}: response.status_code is not an HTTP status: {e}",
                            line.custom_id
                        ))
                    })?),
                };
                Self {
                    number,
                    text: text.into(),
                    replaced: replaced.map(String::into_boxed_str),
                    custom_id: line.custom_id.clone(),
                    id: line.id.clone(),
                    status: line.status.clone(),
                    error: line.error.clone(),
                    response,
                    line: OnceLock::from(line),
                    raw: OnceLock::from(raw),
                }
            }
        };
        Ok(line)
    }

    /// The text the decoders read (see [`ResultLine`]'s lone surrogates).
    fn json(&self) -> &str {
        match &self.replaced {
            Some(replaced) => replaced,
            None => &self.text,
        }
    }

    /// The 1-based line number in the results file.
    pub fn line_number(&self) -> usize {
        self.number
    }

    /// The line decoded as the spec's `BatchResultLine` (built on first use).
    pub fn line(&self) -> &BatchResultLine {
        self.line.get_or_init(|| reparse(self.json()))
    }

    /// Every field of the line as received, unknown ones included (built on first use).
    pub fn raw(&self) -> &Map<String, Value> {
        self.raw.get_or_init(|| reparse(self.json()))
    }

    /// The line's text exactly as received (lone surrogate escapes included), without a byte
    /// order mark, CR or LF.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The `custom_id` of the request this line answers.
    pub fn custom_id(&self) -> &str {
        &self.custom_id
    }

    /// The line's shape: [`OpenAi`](ResultShape::OpenAi) when `response` has both
    /// `status_code` and `body`, or when the line has an `id` and no `status`; otherwise
    /// [`Cerebras`](ResultShape::Cerebras).
    pub fn shape(&self) -> ResultShape {
        let openai_response = self.response.is_some_and(|h| h.has_status_code && h.has_body);
        if openai_response || (self.status.is_none() && self.id.is_some()) {
            ResultShape::OpenAi
        } else {
            ResultShape::Cerebras
        }
    }

    /// The outcome: the line's `status`, or, for the OpenAI shape, `succeeded` when
    /// `response.status_code` is 2xx and there is no error, else `failed`.
    pub fn status(&self) -> BatchResultStatus {
        if let Some(status) = &self.status {
            return status.clone();
        }
        match (self.http_status(), &self.error) {
            (Some(s), None) if (200..300).contains(&s) => BatchResultStatus::Succeeded,
            _ => BatchResultStatus::Failed,
        }
    }

    /// The chat.completion object of a successful request: `response` (Cerebras shape) or
    /// `response.body` (OpenAI shape). `None` for a request that did not succeed: in the OpenAI
    /// shape a non-2xx `status_code` means `body` is an error, not a completion (see
    /// [`error_message`](Self::error_message)).
    pub fn completion(&self) -> Option<&Map<String, Value>> {
        let response = self.line().response.as_ref()?;
        match self.shape() {
            ResultShape::OpenAi if self.http_status().is_some_and(|s| !(200..300).contains(&s)) => None,
            ResultShape::OpenAi => response.get("body").and_then(Value::as_object),
            ResultShape::Cerebras => Some(response),
        }
    }

    /// Why the request did not succeed, in words: the line's `error.message` (or its `code`),
    /// or, in the OpenAI shape, the message of the error body of a non-2xx response
    /// (`response.body.error.message`). `None` for a success.
    pub fn error_message(&self) -> Option<&str> {
        if let Some(e) = &self.error
            && let Some(text) = e.message.as_deref().or(e.code.as_deref())
        {
            return Some(text);
        }
        if self.http_status().is_some_and(|s| !(200..300).contains(&s)) {
            let body = self.line().response.as_ref()?.get("body")?;
            // The body's `error` object when it has one, else the body itself.
            let error = body.get("error").unwrap_or(body);
            return error.get("message").and_then(Value::as_str).or_else(|| error.as_str());
        }
        None
    }

    /// The HTTP status of the request: `response.status_code`, an integer or a numeric string
    /// (`"200"` is 200). `None` when `response` has no `status_code` (the Cerebras shape).
    pub fn http_status(&self) -> Option<u16> {
        self.response.and_then(|h| h.http_status)
    }

    /// Why the request did not succeed, if it did not.
    pub fn error(&self) -> Option<&BatchResultError> {
        self.error.as_ref()
    }
}

/// The head of an object `response` of the full decode, as [`ResponseHead`] reads it.
fn head_of(response: &Map<String, Value>) -> std::result::Result<ResponseHead, serde_json::Error> {
    let http_status = match response.get("status_code") {
        Some(code) => HttpStatus::deserialize(code)?.0,
        None => None,
    };
    Ok(ResponseHead {
        has_status_code: response.contains_key("status_code"),
        has_body: response.contains_key("body"),
        http_status,
    })
}

/// Parses a line's text again, into its map or its `BatchResultLine`. This cannot fail: the
/// line was parsed whole once, and [`Fast`] reads every byte of it as strictly as these
/// decodes do (the fuzz target `result_decode` holds the two to it). A failure here is a bug
/// of this crate, never a value made up: it panics rather than hand back an empty line.
fn reparse<T: DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).expect("a result line that decoded once decodes again")
}

/// Reads result lines from a byte stream (a [`Download`](crate::Download)'s
/// [`into_stream`](crate::Download::into_stream)). A malformed line becomes an `Err` naming its
/// line, and reading goes on; blank lines are skipped. Memory stays bounded by one line (at
/// most [`MAX_RESULT_LINE_BYTES`]).
///
/// A line decodes only if all of it does: a value serde_json cannot decode anywhere in it (a
/// number beyond `f64`'s range, nesting deeper than 128) makes it an `Err`, never a line with an
/// empty response. A lone UTF-16 surrogate escape reads as U+FFFD (see [`ResultLine`]).
pub fn read_results(
    body: impl Stream<Item = Result<Bytes>> + Send + Unpin + 'static,
) -> impl Stream<Item = Result<ResultLine>> + Send + Unpin {
    let reader = tokio_util::io::StreamReader::new(body.map_err(std::io::Error::other));
    read_results_from(reader)
}

/// As [`read_results`], from any `AsyncRead` (a results file on disk).
pub fn read_results_from(
    reader: impl AsyncRead + Send + Unpin + 'static,
) -> impl Stream<Item = Result<ResultLine>> + Send + Unpin {
    FramedRead::new(reader, LineDecoder::new(MAX_RESULT_LINE_BYTES))
        .filter_map(|item| async move {
            let line = match item {
                Ok(line) => line,
                Err(e) => return Some(Err(from_io(e))),
            };
            let number = line.number;
            Some(match line.text {
                Err(len) => Err(Error::new(
                    ErrorKind::Decode,
                    format!("the line is over {MAX_RESULT_LINE_BYTES} bytes ({len} read)"),
                )
                .with_line(number)),
                Ok(text) => {
                    // A byte order mark before the first line and CRLF endings are read past.
                    let mut text = &text[..];
                    if number == 1
                        && let Some(rest) = text.strip_prefix(BOM)
                    {
                        text = rest;
                    }
                    if let Some(rest) = text.strip_suffix(b"\r") {
                        text = rest;
                    }
                    if text.iter().all(u8::is_ascii_whitespace) {
                        return None;
                    }
                    ResultLine::parse(number, text, Decode::Fast)
                }
            })
        })
        .boxed()
}

/// One result line, as [`read_results`] decodes it.
pub(crate) fn decode_line(number: usize, text: &[u8]) -> Result<ResultLine> {
    ResultLine::parse(number, text, Decode::Fast)
}

/// One result line (line 1), read by the first pass as [`read_results`] does (`full` false),
/// or by the full decode alone (`full` true). For the fuzz target `result_decode` and the
/// tests, which hold the two to the same verdict and the same values; not part of the API.
#[doc(hidden)]
pub fn decode_result_line(text: &[u8], full: bool) -> Result<ResultLine> {
    ResultLine::parse(1, text, if full { Decode::Full } else { Decode::Fast })
}

/// Turns an I/O error from the byte stream back into the client error it carries.
fn from_io(e: std::io::Error) -> Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(_) => *e
            .into_inner()
            .expect("checked above")
            .downcast::<Error>()
            .expect("checked above"),
        None => crate::error::io_error(e),
    }
}

impl crate::Download {
    /// The body read as result lines; see [`read_results`].
    pub fn results(self) -> impl Stream<Item = Result<ResultLine>> + Send + Unpin {
        read_results(self.into_stream())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value a caller can read of a line, for comparing the two decodes.
    fn values(line: &ResultLine) -> impl PartialEq + std::fmt::Debug + use<> {
        (
            (line.line_number(), line.text().to_owned(), line.custom_id().to_owned()),
            (line.shape(), line.status(), line.http_status(), line.error().cloned()),
            (line.completion().cloned(), line.error_message().map(str::to_owned)),
            (line.line().clone(), line.raw().clone()),
        )
    }

    /// Decodes `text` both ways, checks that they agree, and gives the first pass's line and
    /// whether the first pass took it.
    fn decode(text: &str) -> Result<(ResultLine, bool)> {
        let fast = ResultLine::parse(1, text.as_bytes(), Decode::Fast);
        let full = ResultLine::parse(1, text.as_bytes(), Decode::Full);
        match (fast, full) {
            (Ok(fast), Ok(full)) => {
                let took = fast.raw.get().is_none();
                assert_eq!(values(&fast), values(&full), "{text}");
                Ok((fast, took))
            }
            (Err(fast), Err(full)) => {
                assert_eq!(fast.to_string(), full.to_string(), "{text}");
                Err(fast)
            }
            (fast, full) => panic!("{text}: the decodes disagree: {fast:?} against {full:?}"),
        }
    }

    #[test]
    fn the_first_pass_agrees_with_the_full_decode() {
        let lines = [
            // (text, taken by the first pass, status, message)
            (
                r#"{"custom_id":"a","status":"succeeded","response":{"id":"c","choices":[]},"error":null}"#,
                true,
                "succeeded",
                None,
            ),
            (
                r#"{"id":"batch_req_1","custom_id":"b","response":{"status_code":200,"request_id":"r","body":{"id":"c"}},"error":null}"#,
                true,
                "succeeded",
                None,
            ),
            (
                r#"{"id":"batch_req_2","custom_id":"c","response":{"status_code":400,"body":{"error":{"message":"bad"}}},"error":null}"#,
                true,
                "failed",
                Some("bad"),
            ),
            (
                r#"{"custom_id":7,"status":"failed","error":"Prompt too long"}"#,
                true,
                "failed",
                Some("Prompt too long"),
            ),
            (
                r#"{"custom_id":"d","status":"expired","response":null,"error":{"code":"timeout","message":null},"extra":[1,2]}"#,
                false,
                "expired",
                Some("timeout"),
            ),
            (r#"{"custom_id":"e","status":"paused","id":""}"#, true, "paused", None),
            // A numeric string is an HTTP status (the tolerance rule for integers).
            (
                r#"  {"custom_id":"f","response":{"status_code":"200","body":{}}}"#,
                true,
                "succeeded",
                None,
            ),
            (
                r#"{"custom_id":"f2","response":{"status_code":" 503 ","body":"overloaded"}}"#,
                true,
                "failed",
                Some("overloaded"),
            ),
            (
                r#"{"custom_id":"f3","response":{"status_code":201.0,"body":{}}}"#,
                true,
                "succeeded",
                None,
            ),
            (
                r#"{"custom_id":"g","custom_id":"h","status":"succeeded"}"#,
                false,
                "succeeded",
                None,
            ),
            (
                r#"{"custom_id":"i","response":{"status_code":500,"status_code":200,"body":{}}}"#,
                true,
                "succeeded",
                None,
            ),
        ];
        for (text, taken, status, message) in lines {
            let (line, took) = decode(text).unwrap();
            assert_eq!(took, taken, "{text}");
            assert_eq!(
                (line.status().as_str(), line.error_message()),
                (status, message),
                "{text}"
            );
            assert_eq!(line.text(), text);
        }
    }

    #[test]
    fn what_the_first_pass_skips_is_still_checked() {
        // Each of these passes serde_json's skip (`IgnoredAny`, `RawValue`) and fails its
        // decode: the line is an error, never `Ok` with an empty response.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for text in [
            r#"{"custom_id":"a","status":"succeeded","response":{"usage":{"total_tokens":1e400}}}"#.to_owned(),
            r#"{"custom_id":"a","status":"succeeded","response":{"id":"c"},"note":-1e999}"#.to_owned(),
            format!(r#"{{"custom_id":"a","status":"succeeded","response":{{"choices":{deep}}}}}"#),
            format!(r#"{{"custom_id":"a","response":{{"status_code":200,"body":{deep}}}}}"#),
        ] {
            let e = decode(&text).unwrap_err();
            assert_eq!((e.kind(), e.line()), (ErrorKind::Decode, Some(1)), "{text}");
            assert!(e.message().starts_with("not a JSON object: "), "{text}: {e}");
        }
        // serde_json's private keys take the full decode (which decides what they mean).
        let (line, took) =
            decode(r#"{"custom_id":"a","status":"succeeded","response":{"$serde_json::private::Number":"x"}}"#)
                .unwrap();
        assert!(!took);
        assert_eq!(line.custom_id(), "a");
    }

    #[test]
    fn lone_surrogates_read_as_replacement_characters() {
        let text = r#"{"custom_id":"r\ud800","status":"succeeded","response":{"choices":[{"message":{"content":"a\udc00b \ud83d\ude00"}}]},"error":null}"#;
        let (line, took) = decode(text).unwrap();
        assert!(took);
        assert_eq!(line.text(), text, "the text is kept as received");
        assert_eq!(line.custom_id(), "r\u{FFFD}");
        assert_eq!(line.status(), BatchResultStatus::Succeeded);
        assert_eq!(
            line.completion().unwrap()["choices"][0]["message"]["content"],
            "a\u{FFFD}b \u{1F600}"
        );
        assert_eq!(line.raw()["custom_id"], "r\u{FFFD}");
        assert_eq!(line.line().custom_id, "r\u{FFFD}");

        let failed =
            r#"{"custom_id":"s","status":"failed","error":{"code":"x","message":"bad \uDBFF input"},"note":"\uDFFF"}"#;
        let (line, took) = decode(failed).unwrap();
        assert!(!took, "an unknown field takes the full decode");
        assert_eq!(line.error_message(), Some("bad \u{FFFD} input"));
        assert_eq!(line.raw()["note"], "\u{FFFD}");
    }

    #[test]
    fn a_status_code_that_is_no_http_status_is_an_error_naming_the_request() {
        for text in [
            r#"{"custom_id":"q1","response":{"status_code":"OK","body":{}}}"#,
            r#"{"custom_id":"q2","response":{"status_code":70000,"body":{}}}"#,
            r#"{"custom_id":"q3","response":{"status_code":-1,"body":{}}}"#,
            r#"{"custom_id":"q4","response":{"status_code":200.5,"body":{}}}"#,
            r#"{"custom_id":"q5","response":{"status_code":true,"body":{}}}"#,
        ] {
            let e = decode(text).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode);
            assert!(
                e.message().contains("response.status_code is not an HTTP status"),
                "{text}: {e}"
            );
            let id = &text[14..16];
            assert!(e.message().contains(&format!("custom_id \"{id}\"")), "{text}: {e}");
        }
        let (line, _) = decode(r#"{"custom_id":"q6","response":{"status_code":null,"body":{}}}"#).unwrap();
        assert_eq!((line.http_status(), line.status()), (None, BatchResultStatus::Failed));
    }

    #[test]
    fn what_is_not_a_result_line_is_refused_as_before() {
        for (text, message) in [
            (r#"["a"]"#, "not a JSON object"),
            (r#"{"status":"succeeded"}"#, "not a batch result line"),
            (r#"{"custom_id":"a","response":"text"}"#, "not a batch result line"),
            (r#"{"custom_id":"a","response":["a"]}"#, "not a batch result line"),
            (r#"{"custom_id":"a""#, "not a JSON object"),
        ] {
            let e = decode(text).unwrap_err();
            assert_eq!(e.line(), Some(1));
            assert!(e.to_string().contains(message), "{text}: {e}");
        }
        for decode in [Decode::Fast, Decode::Full] {
            let e = ResultLine::parse(4, b"{\"custom_id\":\"\xff\"}", decode).unwrap_err();
            assert_eq!(e.line(), Some(4));
            assert!(e.message().contains("not UTF-8"), "{e}");
        }
    }
}
