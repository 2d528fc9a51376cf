//! JSONL for batches: writing request files within the documented limits, checking existing
//! request files, and reading result lines of either known shape.
//!
//! Limits (<https://inference-docs.cerebras.ai/capabilities/batch>): 10 to 50,000 lines, each at
//! most 1 MB, at most 200 MB per file, UTF-8 with LF line endings, unique `custom_id`s, and one
//! model for every line. Every error names the 1-based line it is about ([`Error::line`]).

use std::collections::HashMap;
use std::io::Write;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::io::AsyncRead;
use tokio_util::codec::FramedRead;

mod checked;
mod lines;
mod results;
mod surrogates;

pub(crate) use lines::{LineDecoder, RawLine};
pub(crate) use results::decode_line;
#[doc(hidden)]
pub use results::decode_result_line;
pub use results::{ResultLine, ResultShape, read_results, read_results_from};

use crate::error::{Error, ErrorKind, Result};
use crate::types::{BatchEndpoint, BatchRequestLine, BatchRequestLineMethod};

/// The fewest requests a batch file may hold: 10.
pub const MIN_REQUESTS: usize = 10;
/// The most requests a batch file may hold: 50,000.
pub const MAX_REQUESTS: usize = 50_000;
/// The longest request line, in bytes, without its LF: 1 MB (1,000,000 bytes).
pub const MAX_LINE_BYTES: usize = 1_000_000;
pub use crate::upload::MAX_FILE_BYTES;

/// The UTF-8 byte order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The longest result line the reader accepts (64 MiB); a longer one is an error for that line.
pub const MAX_RESULT_LINE_BYTES: usize = 64 * 1024 * 1024;

/// A chat-completions request body: `model`, `messages` and any other parameter of a regular
/// chat completion (`max_completion_tokens`, `temperature`, ...), kept in `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequest {
    /// The model; every line of a file must use the same one.
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Every other parameter, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionRequest {
    /// A request for `model` with `messages` and no other parameter.
    pub fn new(model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        Self {
            model: model.into(),
            messages,
            extra: Map::new(),
        }
    }

    /// Sets `max_completion_tokens`.
    pub fn max_completion_tokens(self, tokens: u32) -> Self {
        self.param("max_completion_tokens", tokens)
    }

    /// Sets any other parameter.
    pub fn param(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(name.to_owned(), value.into());
        self
    }
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant`, ...
    pub role: String,
    /// The text.
    pub content: String,
    /// Every other field, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatMessage {
    fn new(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.to_owned(),
            content: content.into(),
            extra: Map::new(),
        }
    }
    /// A `system` message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }
    /// A `user` message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }
    /// An `assistant` message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new("assistant", content)
    }
}

/// What a request file holds, once written or checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestFileSummary {
    /// The number of request lines.
    pub lines: usize,
    /// The file's size in bytes, line endings included.
    pub bytes: u64,
    /// The one model every line uses.
    pub model: Option<String>,
}

fn invalid(line: usize, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, message).with_line(line)
}

/// A line that passed [`check_request_line`] (and [`LineChecker::check`]).
pub(crate) struct Accepted {
    pub(crate) custom_id: String,
    pub(crate) model: String,
    /// Bytes, LF included.
    pub(crate) size: u64,
}

/// The checks of one request line on its own (line `number`, without its LF): its size, that it
/// is a batch request line, `POST` to `/v1/chat/completions`, with a string `model`.
pub(crate) fn check_request_line(number: usize, text: &[u8]) -> Result<Accepted> {
    if text.len() > MAX_LINE_BYTES {
        return Err(invalid(
            number,
            format!("the line is {} bytes; the limit is {MAX_LINE_BYTES}", text.len()),
        ));
    }
    // `BatchRequestLine` is a type the client sends: serde's derived decoder would also read a
    // JSON array by position, which the API would refuse. A line is an object.
    if text.trim_ascii_start().first() != Some(&b'{') {
        return Err(invalid(number, "not a batch request line: a JSON object is expected"));
    }
    let line: BatchRequestLine =
        serde_json::from_slice(text).map_err(|e| invalid(number, format!("not a batch request line: {e}")))?;
    if line.custom_id.is_empty() {
        return Err(invalid(
            number,
            "custom_id is empty; every request needs its own (results are matched to requests by it)",
        ));
    }
    if line.method != BatchRequestLineMethod::Post {
        return Err(invalid(
            number,
            format!("method is {:?}; only POST is accepted", line.method.as_str()),
        ));
    }
    if line.url != BatchEndpoint::ChatCompletions {
        return Err(invalid(
            number,
            format!("url is {:?}; only /v1/chat/completions is accepted", line.url.as_str()),
        ));
    }
    let model = line
        .body
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(number, "body has no string `model`"))?;
    Ok(Accepted {
        custom_id: line.custom_id,
        model: model.to_owned(),
        size: text.len() as u64 + 1,
    })
}

/// The UTF-16 encoding a file's line is in, said in words, when it looks like UTF-16 rather than
/// UTF-8: line 1 starts with a UTF-16 byte order mark (`FF FE` or `FE FF`), or the line has NUL
/// bytes at every other place (ASCII saved as UTF-16; a NUL never appears in a JSON line).
pub(crate) fn utf16(line: &RawLine) -> Option<&'static str> {
    // A line that could not be read is reported as such by the caller, not as UTF-16.
    let text = line.text.as_ref().ok()?;
    if line.number == 1 && text.starts_with(b"\xFF\xFE") {
        return Some("UTF-16 (little-endian: it starts with the byte order mark FF FE)");
    }
    if line.number == 1 && text.starts_with(b"\xFE\xFF") {
        return Some("UTF-16 (big-endian: it starts with the byte order mark FE FF)");
    }
    if !text.contains(&0) {
        return None;
    }
    let every_other = |start: usize| text.iter().skip(start).step_by(2).all(|b| *b == 0);
    match (every_other(0), every_other(1)) {
        (false, true) => Some("UTF-16 (little-endian: every other byte is 0)"),
        (true, false) => Some("UTF-16 (big-endian: every other byte is 0)"),
        _ => None,
    }
}

/// The problem of a file in UTF-16, once for the whole file (its line 1).
pub(crate) fn utf16_problem(encoding: &str) -> Error {
    invalid(
        1,
        format!("the file is {encoding}; save it as UTF-8 (the Batch API reads UTF-8 only)"),
    )
}

/// The checks of a line as read from a file, before its content: not over-long, no byte order
/// mark (line 1), no CRLF, valid UTF-8, not empty. Gives the line's bytes.
pub(crate) fn check_raw_line(line: &RawLine) -> Result<&[u8]> {
    let number = line.number;
    if let Some(encoding) = utf16(line) {
        return Err(invalid(
            number,
            format!("the line is {encoding}, not UTF-8; save the file as UTF-8"),
        ));
    }
    match &line.text {
        Err(len) => Err(invalid(
            number,
            format!("the line is over {MAX_LINE_BYTES} bytes ({len} read before giving up)"),
        )),
        Ok(text) if number == 1 && text.starts_with(BOM) => Err(invalid(
            number,
            "the file starts with a UTF-8 byte order mark (EF BB BF); save it as UTF-8 without one",
        )),
        Ok(text) if text.ends_with(b"\r") => Err(invalid(number, "the line ends with CRLF; use LF line endings")),
        Ok(text) if std::str::from_utf8(text).is_err() => Err(invalid(number, "the line is not valid UTF-8")),
        Ok(text) if text.iter().all(u8::is_ascii_whitespace) => Err(invalid(number, "the line is empty")),
        Ok(text) => Ok(text),
    }
}

/// The per-line limits, shared by [`RequestWriter`] and [`check_request_file`].
#[derive(Default)]
struct LineChecker {
    lines: usize,
    bytes: u64,
    /// Each `custom_id`, with its 1-based line.
    ids: HashMap<String, usize>,
    model: Option<String>,
}

impl LineChecker {
    /// Checks one line (without its LF) as line `number`. Nothing is counted until
    /// [`commit`](Self::commit).
    fn check(&self, number: usize, text: &[u8]) -> Result<Accepted> {
        if self.lines >= MAX_REQUESTS {
            return Err(invalid(
                number,
                format!("a batch file holds at most {MAX_REQUESTS} requests"),
            ));
        }
        if text.len() <= MAX_LINE_BYTES && self.bytes + text.len() as u64 + 1 > MAX_FILE_BYTES {
            return Err(invalid(number, format!("the file would exceed {MAX_FILE_BYTES} bytes")));
        }
        let accepted = check_request_line(number, text)?;
        match &self.model {
            Some(m) if *m != accepted.model => {
                return Err(invalid(
                    number,
                    format!(
                        "model {:?} differs from {m:?} of line 1; one model per file",
                        accepted.model
                    ),
                ));
            }
            _ => {}
        }
        if let Some(first) = self.ids.get(&accepted.custom_id) {
            return Err(invalid(
                number,
                format!(
                    "custom_id {:?} is used twice: on lines {first} and {number}",
                    accepted.custom_id
                ),
            ));
        }
        Ok(accepted)
    }

    /// Counts a line that [`check`](Self::check) accepted (once it is written).
    fn commit(&mut self, number: usize, line: Accepted) {
        self.model.get_or_insert(line.model);
        self.lines += 1;
        self.ids.insert(line.custom_id, number);
        self.bytes += line.size;
    }

    fn finish(&self) -> Result<RequestFileSummary> {
        if self.lines < MIN_REQUESTS {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "the file has {} requests; a batch needs at least {MIN_REQUESTS}",
                    self.lines
                ),
            ));
        }
        Ok(RequestFileSummary {
            lines: self.lines,
            bytes: self.bytes,
            model: self.model.clone(),
        })
    }
}

/// Writes a batch request file line by line, refusing any line that would break a documented
/// limit (the refused line is not written, so the file stays valid).
///
/// ```
/// use cerebras_batch::jsonl::{ChatCompletionRequest, ChatMessage, RequestWriter};
/// let mut writer = RequestWriter::new(Vec::new());
/// for i in 0..10 {
///     let body = ChatCompletionRequest::new("llama-3.3-70b", vec![ChatMessage::user(format!("Question {i}"))])
///         .max_completion_tokens(500);
///     writer.push(format!("eval-{i:03}"), &body)?;
/// }
/// let (bytes, summary) = writer.finish()?;
/// assert_eq!(summary.lines, 10);
/// assert!(bytes.ends_with(b"}\n"));
/// # Ok::<(), cerebras_batch::Error>(())
/// ```
pub struct RequestWriter<W: Write> {
    out: W,
    checker: LineChecker,
}

impl<W: Write> RequestWriter<W> {
    /// A writer into `out` (a file, a `Vec<u8>`, ...). Wrap files in a `BufWriter`.
    pub fn new(out: W) -> Self {
        Self {
            out,
            checker: LineChecker::default(),
        }
    }

    /// Appends the request `custom_id` → `POST /v1/chat/completions` with `body`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`], naming the line, when the line would break a limit
    /// (duplicate `custom_id`, another model, over 1 MB, over 50,000 lines or 200 MB);
    /// [`ErrorKind::Io`] when writing fails.
    pub fn push(&mut self, custom_id: impl Into<String>, body: &ChatCompletionRequest) -> Result<()> {
        let body = match serde_json::to_value(body) {
            Ok(Value::Object(map)) => map,
            _ => unreachable!("a struct serialises to an object"),
        };
        self.push_line(&BatchRequestLine::new(
            body,
            custom_id,
            BatchRequestLineMethod::Post,
            BatchEndpoint::ChatCompletions,
        ))
    }

    /// Appends a line built by hand.
    ///
    /// # Errors
    ///
    /// As [`push`](Self::push).
    pub fn push_line(&mut self, line: &BatchRequestLine) -> Result<()> {
        let mut text = serde_json::to_vec(line).expect("a request line serialises");
        let accepted = self.checker.check(self.checker.lines + 1, &text)?;
        text.push(b'\n');
        // Counted only once written: a failed write leaves the writer as it was.
        self.out
            .write_all(&text)
            .map_err(|e| crate::error::io_error(e).with_line(self.checker.lines + 1))?;
        self.checker.commit(self.checker.lines + 1, accepted);
        Ok(())
    }

    /// The number of lines written so far.
    pub fn lines(&self) -> usize {
        self.checker.lines
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Flushes and returns the writer and a summary.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] with fewer than 10 lines; [`ErrorKind::Io`] when flushing fails.
    pub fn finish(mut self) -> Result<(W, RequestFileSummary)> {
        let summary = self.checker.finish()?;
        self.out.flush().map_err(crate::error::io_error)?;
        Ok((self.out, summary))
    }
}

/// The outcome of [`check_request_file`].
#[derive(Debug)]
pub struct RequestFileCheck {
    /// The counts of the lines that passed.
    pub summary: RequestFileSummary,
    /// Every problem found, each naming its line (the first 1000).
    pub problems: Vec<Error>,
}

impl RequestFileCheck {
    /// Whether the file can be uploaded as is.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks an existing request file against every documented limit, streaming it (memory stays
/// bounded). Beyond [`RequestWriter`]'s checks it finds invalid UTF-8, CRLF line endings and
/// empty lines. A missing LF after the last line is accepted.
///
/// # Errors
///
/// [`ErrorKind::Io`] when reading fails; the problems of the file itself are in the result.
pub async fn check_request_file(reader: impl AsyncRead + Unpin) -> Result<RequestFileCheck> {
    const MAX_PROBLEMS: usize = 1000;
    let mut checker = LineChecker::default();
    let mut problems = Vec::new();
    let mut total: u64 = 0;
    let mut lines = FramedRead::new(reader, LineDecoder::new(MAX_LINE_BYTES));
    while let Some(line) = lines.next().await {
        let line = line.map_err(crate::error::io_error)?;
        let number = line.number;
        if number == 1
            && let Some(encoding) = utf16(&line)
        {
            // Every line would say the same: the file is in the wrong encoding.
            problems.push(utf16_problem(encoding));
            break;
        }
        let result = check_raw_line(&line).and_then(|text| {
            total += text.len() as u64 + 1;
            checker
                .check(number, text)
                .map(|accepted| checker.commit(number, accepted))
        });
        if let Err(e) = result
            && problems.len() < MAX_PROBLEMS
        {
            problems.push(e);
        }
    }
    if total > MAX_FILE_BYTES {
        problems.push(Error::new(
            ErrorKind::InvalidInput,
            format!("the file is {total} bytes; the limit is {MAX_FILE_BYTES}"),
        ));
    }
    if problems.is_empty()
        && let Err(e) = checker.finish()
    {
        problems.push(e);
    }
    let summary = RequestFileSummary {
        lines: checker.lines,
        bytes: checker.bytes,
        model: checker.model.clone(),
    };
    Ok(RequestFileCheck { summary, problems })
}
