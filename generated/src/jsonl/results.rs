//! Reading result lines of either known shape, fast: each line is parsed once, into what every
//! caller needs (`custom_id`, `id`, `status`, `error`), and its `response` is validated but kept
//! as raw JSON text. The map of the response, the whole line as the spec's `BatchResultLine` and
//! the map of every field are built only when asked for, once.

use std::ops::Range;
use std::sync::OnceLock;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::io::AsyncRead;
use tokio_util::codec::FramedRead;

use super::lines::LineDecoder;
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

/// What the first pass reads of a line: the fields every caller needs, with the spec's decoders
/// (the tolerance rule included), and the response as raw JSON.
#[derive(Deserialize)]
struct Eager<'a> {
    #[serde(deserialize_with = "crate::tolerant::string")]
    custom_id: String,
    #[serde(default, deserialize_with = "crate::tolerant::option_message_object")]
    error: Option<BatchResultError>,
    #[serde(default, deserialize_with = "crate::tolerant::option_id")]
    id: Option<String>,
    #[serde(default, borrow)]
    response: Option<&'a RawValue>,
    #[serde(default)]
    status: Option<BatchResultStatus>,
}

/// What `shape` and `http_status` read of the response: two keys, without building it.
#[derive(Deserialize, Default)]
struct ResponseHead {
    #[serde(default)]
    status_code: Option<Value>,
    #[serde(default)]
    body: Option<serde::de::IgnoredAny>,
}

/// One line of a batch's results, decoded, with every field of the line kept (the line's text
/// is kept whole; [`raw`](Self::raw) is every field of it).
pub struct ResultLine {
    number: usize,
    /// The line, valid UTF-8 JSON, without a byte order mark, CR or LF.
    text: Bytes,
    custom_id: String,
    id: Option<String>,
    status: Option<BatchResultStatus>,
    error: Option<BatchResultError>,
    /// Where `response` is in `text`, when it is an object (not absent or null).
    response: Option<Range<usize>>,
    head: OnceLock<(bool, Option<u16>)>,
    response_map: OnceLock<Option<Map<String, Value>>>,
    line: OnceLock<BatchResultLine>,
    raw: OnceLock<Map<String, Value>>,
}

impl Clone for ResultLine {
    fn clone(&self) -> Self {
        Self {
            number: self.number,
            text: self.text.clone(),
            custom_id: self.custom_id.clone(),
            id: self.id.clone(),
            status: self.status.clone(),
            error: self.error.clone(),
            response: self.response.clone(),
            head: self.head.clone(),
            response_map: self.response_map.clone(),
            line: self.line.clone(),
            raw: self.raw.clone(),
        }
    }
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
            .field("text", &self.text_str())
            .finish()
    }
}

impl ResultLine {
    /// Parses `text` (line `number`, without BOM, CR or LF): the fast path, or, for a line it
    /// does not take (duplicate keys, a non-object `response`), the full decode, with its errors.
    fn parse(number: usize, text: Bytes) -> Result<Self> {
        let decode = |message: String| Error::new(ErrorKind::Decode, message).with_line(number);
        let Ok(s) = std::str::from_utf8(&text) else {
            return Err(decode(format!(
                "not a JSON object: {}",
                serde_json::from_slice::<Value>(&text)
                    .err()
                    .map_or_else(|| "invalid UTF-8".into(), |e| e.to_string())
            )));
        };
        // Only an object takes the fast path (serde would also read a struct from an array).
        let object = s.trim_start().starts_with('{');
        if let Some(eager) = object.then(|| serde_json::from_str::<Eager<'_>>(s).ok()).flatten() {
            let response = match eager.response {
                None => Some(None),
                Some(raw) if raw.get().starts_with('{') => {
                    let start = raw.get().as_ptr() as usize - s.as_ptr() as usize;
                    Some(Some(start..start + raw.get().len()))
                }
                // `null` is absent; anything else is not the spec's object: the full decode says why.
                Some(raw) if raw.get() == "null" => Some(None),
                Some(_) => None,
            };
            if let Some(response) = response {
                return Ok(Self {
                    number,
                    custom_id: eager.custom_id,
                    id: eager.id,
                    status: eager.status,
                    error: eager.error,
                    response,
                    text,
                    head: OnceLock::new(),
                    response_map: OnceLock::new(),
                    line: OnceLock::new(),
                    raw: OnceLock::new(),
                });
            }
        }
        // The full decode: into a map, then the spec's line from it.
        let raw =
            serde_json::from_str::<Map<String, Value>>(s).map_err(|e| decode(format!("not a JSON object: {e}")))?;
        let line = serde_json::from_value::<BatchResultLine>(Value::Object(raw.clone()))
            .map_err(|e| decode(format!("not a batch result line: {e}")))?;
        let this = Self {
            number,
            custom_id: line.custom_id.clone(),
            id: line.id.clone(),
            status: line.status.clone(),
            error: line.error.clone(),
            response: None,
            text,
            head: OnceLock::new(),
            response_map: OnceLock::from(line.response.clone()),
            line: OnceLock::new(),
            raw: OnceLock::from(raw),
        };
        let _ = this.line.set(line);
        Ok(this)
    }

    fn text_str(&self) -> &str {
        // Checked to be UTF-8 when the line was read.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    fn response_text(&self) -> Option<&str> {
        self.response.clone().and_then(|r| self.text_str().get(r))
    }

    /// `response`, as a map (built on first use).
    fn response_map(&self) -> Option<&Map<String, Value>> {
        self.response_map
            .get_or_init(|| self.response_text().and_then(|t| serde_json::from_str(t).ok()))
            .as_ref()
    }

    /// Whether `response` has `status_code` and `body`, and `status_code` as a `u16`.
    fn head(&self) -> (bool, Option<u16>) {
        *self.head.get_or_init(|| {
            if let Some(map) = self.response_map.get() {
                let map = map.as_ref();
                let code = map.and_then(|m| m.get("status_code"));
                let both = map.is_some_and(|m| m.contains_key("status_code") && m.contains_key("body"));
                return (both, code.and_then(Value::as_u64).and_then(|s| u16::try_from(s).ok()));
            }
            let head: ResponseHead = self
                .response_text()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default();
            let both = head.status_code.is_some() && head.body.is_some();
            let code = head
                .status_code
                .as_ref()
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok());
            (both, code)
        })
    }

    /// The 1-based line number in the results file.
    pub fn line_number(&self) -> usize {
        self.number
    }

    /// The line decoded as the spec's `BatchResultLine` (built on first use).
    pub fn line(&self) -> &BatchResultLine {
        self.line.get_or_init(|| {
            let mut line = BatchResultLine::new(self.custom_id.clone());
            line.id = self.id.clone();
            line.status = self.status.clone();
            line.error = self.error.clone();
            line.response = self.response_map().cloned();
            line
        })
    }

    /// Every field of the line as received, unknown ones included (built on first use).
    pub fn raw(&self) -> &Map<String, Value> {
        self.raw
            .get_or_init(|| serde_json::from_str(self.text_str()).unwrap_or_default())
    }

    /// The line's text as received, without a byte order mark, CR or LF.
    pub fn text(&self) -> &str {
        self.text_str()
    }

    /// The `custom_id` of the request this line answers.
    pub fn custom_id(&self) -> &str {
        &self.custom_id
    }

    /// The line's shape.
    pub fn shape(&self) -> ResultShape {
        let openai_response = self.response.is_some() && self.head().0;
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
        let response = self.response_map()?;
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
            let body = self.response_map()?.get("body")?;
            let error = body.get("error").unwrap_or(body);
            return error.get("message").and_then(Value::as_str).or_else(|| error.as_str());
        }
        None
    }

    /// The HTTP status of the request (OpenAI shape only).
    pub fn http_status(&self) -> Option<u16> {
        self.response.as_ref()?;
        self.head().1
    }

    /// Why the request did not succeed, if it did not.
    pub fn error(&self) -> Option<&BatchResultError> {
        self.error.as_ref()
    }
}

/// Reads result lines from a byte stream (a [`Download`](crate::Download)'s
/// [`into_stream`](crate::Download::into_stream)). A malformed line becomes an `Err` naming its
/// line, and reading goes on; blank lines are skipped. Memory stays bounded by one line (at
/// most [`MAX_RESULT_LINE_BYTES`]).
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
                    let text = text.freeze();
                    // A byte order mark before the first line and CRLF endings are read past.
                    let start = if number == 1 && text.starts_with(BOM) {
                        BOM.len()
                    } else {
                        0
                    };
                    let end = if text.ends_with(b"\r") {
                        text.len() - 1
                    } else {
                        text.len()
                    };
                    let text = text.slice(start..end.max(start));
                    if text.iter().all(u8::is_ascii_whitespace) {
                        return None;
                    }
                    ResultLine::parse(number, text)
                }
            })
        })
        .boxed()
}

/// One result line, as [`read_results`] decodes it.
pub(crate) fn decode_line(number: usize, text: &[u8]) -> Result<ResultLine> {
    ResultLine::parse(number, Bytes::copy_from_slice(text))
}

/// Turns an I/O error from the byte stream back into the client error it carries.
fn from_io(e: std::io::Error) -> Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(_) => *e
            .into_inner()
            .expect("checked above")
            .downcast::<Error>()
            .expect("checked above"),
        None => crate::download::io_error(e),
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

    /// The fast path gives what the full decode gives, for every shape and oddity.
    #[test]
    fn the_fast_path_agrees_with_the_full_decode() {
        let lines = [
            r#"{"custom_id":"a","status":"succeeded","response":{"id":"c","choices":[]},"error":null}"#,
            r#"{"id":"batch_req_1","custom_id":"b","response":{"status_code":200,"request_id":"r","body":{"id":"c"}},"error":null}"#,
            r#"{"id":"batch_req_2","custom_id":"c","response":{"status_code":400,"body":{"error":{"message":"bad"}}},"error":null}"#,
            r#"{"custom_id":7,"status":"failed","error":"Prompt too long"}"#,
            r#"{"custom_id":"d","status":"expired","response":null,"error":{"code":"timeout","message":null},"extra":[1,2]}"#,
            r#"{"custom_id":"e","status":"paused","id":""}"#,
            r#"  {"custom_id":"f","response":{"status_code":"200","body":{}}}"#,
            r#"{"custom_id":"g","custom_id":"h","status":"succeeded"}"#,
        ];
        for (i, text) in lines.iter().enumerate() {
            let fast = ResultLine::parse(i + 1, Bytes::from_static(text.as_bytes())).unwrap();
            let map: Map<String, Value> = serde_json::from_str(text).unwrap();
            let full: BatchResultLine = serde_json::from_value(Value::Object(map.clone())).unwrap();
            assert_eq!(fast.line(), &full, "{text}");
            assert_eq!(fast.raw(), &map, "{text}");
            assert_eq!(fast.custom_id(), full.custom_id, "{text}");
            assert_eq!(
                fast.completion(),
                full.response
                    .as_ref()
                    .filter(|_| fast.shape() == ResultShape::Cerebras)
                    .or_else(|| {
                        full.response
                            .as_ref()
                            .and_then(|r| r.get("body"))
                            .and_then(Value::as_object)
                            .filter(|_| {
                                fast.http_status().is_none_or(|s| (200..300).contains(&s))
                                    && fast.shape() == ResultShape::OpenAi
                            })
                    }),
                "{text}"
            );
            assert_eq!(fast.text(), text.to_string(), "{text}");
        }
        let statuses: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, t)| {
                ResultLine::parse(i + 1, Bytes::from_static(t.as_bytes()))
                    .unwrap()
                    .status()
                    .as_str()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            statuses,
            [
                "succeeded",
                "succeeded",
                "failed",
                "failed",
                "expired",
                "paused",
                "failed",
                "succeeded"
            ]
        );
        let messages: Vec<Option<String>> = lines
            .iter()
            .enumerate()
            .map(|(i, t)| {
                ResultLine::parse(i + 1, Bytes::from_static(t.as_bytes()))
                    .unwrap()
                    .error_message()
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(messages[2].as_deref(), Some("bad"));
        assert_eq!(messages[3].as_deref(), Some("Prompt too long"));
        assert_eq!(messages[4].as_deref(), Some("timeout"));
    }

    #[test]
    fn what_is_not_a_result_line_is_refused_as_before() {
        for (text, message) in [
            (r#"["a"]"#, "not a JSON object"),
            (r#"{"status":"succeeded"}"#, "not a batch result line"),
            (r#"{"custom_id":"a","response":"text"}"#, "not a batch result line"),
            (r#"{"custom_id":"a""#, "not a JSON object"),
        ] {
            let e = ResultLine::parse(3, Bytes::from_static(text.as_bytes())).unwrap_err();
            assert_eq!(e.line(), Some(3));
            assert!(e.to_string().contains(message), "{text}: {e}");
        }
    }
}
