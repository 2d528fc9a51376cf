//! `upload_file`: the multipart upload progenitor cannot generate, written by hand against the
//! generated types and the spec's `UPLOAD_FILE` operation.
//!
//! The file is streamed from disk or from any `AsyncRead`, never buffered whole; files may be
//! up to 200 MB (<https://inference-docs.cerebras.ai/api-reference/file/upload-file>).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;

use crate::error::{Error, ErrorKind, LocalReadError, Result, io_error};
use crate::operations::UPLOAD_FILE;
use crate::transport::{Request, execute};
use crate::types::{self, FilePurpose, UploadFileRequestExpiresAfterAnchor};

/// The largest file the API accepts: 200 MB (200 × 1000 × 1000 bytes).
pub const MAX_FILE_BYTES: u64 = 200 * 1000 * 1000;
/// The shortest `expires_after`: 3600 s (1 hour).
pub const MIN_EXPIRES_AFTER_SECS: i64 = 3600;
/// The longest `expires_after`: 2,592,000 s (30 days).
pub const MAX_EXPIRES_AFTER_SECS: i64 = 2_592_000;

/// Progress of an upload, reported after every chunk handed to the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadProgress {
    /// Bytes of the file handed to the connection so far. The last few megabytes may still be
    /// in the connection's buffers when this reaches the total (see
    /// [`ClientBuilder::timeout`](crate::ClientBuilder::timeout)).
    pub sent: u64,
    /// The file's size in bytes, when known.
    pub total: Option<u64>,
}

type ProgressFn = Arc<dyn Fn(UploadProgress) + Send + Sync>;

enum Source {
    Path(PathBuf),
    Reader(Box<dyn AsyncRead + Send + Sync + Unpin>, Option<u64>),
}

/// What to upload, for [`Client::upload_file`](crate::Client::upload_file).
pub struct UploadFile {
    source: Source,
    filename: String,
    purpose: FilePurpose,
    /// Seconds after creation when the file expires.
    expires_after: Option<i64>,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadFile")
            .field("filename", &self.filename)
            .field("purpose", &self.purpose)
            .field("expires_after", &self.expires_after)
            .finish_non_exhaustive()
    }
}

impl UploadFile {
    /// The file at `path`, sent under its file name, with purpose `batch`.
    pub fn from_path(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "batch.jsonl".into());
        Self {
            source: Source::Path(path),
            filename,
            purpose: FilePurpose::Batch,
            expires_after: None,
            progress: None,
        }
    }

    /// The bytes of `reader`, sent as `filename`, with purpose `batch`. Give `length` (bytes)
    /// when you know it: the request then has a `Content-Length`, progress has a total, and a
    /// file over 200 MB is refused before sending.
    pub fn from_reader(
        reader: impl AsyncRead + Send + Sync + Unpin + 'static,
        filename: impl Into<String>,
        length: Option<u64>,
    ) -> Self {
        Self {
            source: Source::Reader(Box::new(reader), length),
            filename: filename.into(),
            purpose: FilePurpose::Batch,
            expires_after: None,
            progress: None,
        }
    }

    /// The file's purpose; `batch` (the default) is the only documented one.
    pub fn purpose(mut self, purpose: FilePurpose) -> Self {
        self.purpose = purpose;
        self
    }

    /// Deletes the file `seconds` after its creation (3600 to 2,592,000 s) instead of after
    /// the default 7 days. Sent as the form fields `expires_after[anchor]=created_at` and
    /// `expires_after[seconds]`, as OpenAI's SDK does; Cerebras does not document the encoding.
    pub fn expires_after(mut self, seconds: i64) -> Self {
        self.expires_after = Some(seconds);
        self
    }

    /// Calls `progress` after every chunk handed to the connection.
    pub fn on_progress(mut self, progress: impl Fn(UploadProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }
}

impl crate::Client {
    /// Upload file.
    ///
    /// Uploads a JSONL file for use with the Batch API (at most 200 MB; files are retained
    /// for 7 days by default). The file is streamed, never buffered whole. Sends
    /// `POST /v1/files` as `multipart/form-data` with the fields `purpose`, optionally
    /// `expires_after[anchor]` and `expires_after[seconds]`, then `file`
    /// (operationId `upload_file`). Vendor docs:
    /// <https://inference-docs.cerebras.ai/api-reference/file/upload-file>.
    ///
    /// Progenitor cannot generate multipart requests, so this method is written by hand. It
    /// uses the generated [`types::File`] and the spec's [`UPLOAD_FILE`] route. Its body is a
    /// stream, so a failed attempt is not retried.
    ///
    /// # Returns
    ///
    /// The uploaded file's metadata.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::InvalidInput`] before any request when the file is over
    ///   [`MAX_FILE_BYTES`], `expires_after` is outside 3600..=2592000 s, or the file name is
    ///   empty or holds a control character or `"`.
    /// - [`ErrorKind::Io`] when the file is not a regular file or cannot be read, or a reader
    ///   gives more or fewer bytes than the length declared for it.
    /// - As the generated methods: the kind of a non-2xx status, with status, headers and raw
    ///   body; [`ErrorKind::Decode`]; [`ErrorKind::Connection`].
    /// - [`ErrorKind::Timeout`] when the server took none of the body, or sent no answer, for
    ///   the client's timeout (the exact rules, and what counts as the server taking the body,
    ///   are in [`ClientBuilder::timeout`](crate::ClientBuilder::timeout)). The error counts its
    ///   one attempt.
    /// - [`ErrorKind::Config`] when the HTTP client for uploads, built on a client's first
    ///   upload, cannot be built.
    ///
    /// # An answer sent before the body
    ///
    /// A server may refuse an upload as soon as it has read the request's head (`413` for a
    /// file too large) and close the connection. The client reads such an answer while it
    /// sends the body, and returns it with its status and message. If the server closes
    /// without reading the rest of the body, its kernel resets the connection; when the reset
    /// reaches the client before it has read the answer, the answer is lost: hyper, the HTTP
    /// stack under reqwest, fails the request on its next write and does not read what had
    /// arrived (it polls reads only when the runtime has reported the socket readable). The
    /// client lets the runtime look between chunks, which surfaces the answer in most such
    /// races (on an idle machine's loopback, about 19 in 20 for an 8 MiB upload; fewer on a
    /// busy one: 25 in 60 under a load of 9 on 2 cores); otherwise the error is an
    /// [`ErrorKind::Connection`] that says "the server closed the connection while the upload
    /// was sent; it may have refused it". A server that closes gracefully (reading, or
    /// half-closing, after its answer, as nginx does) is always heard. hyper does not send
    /// `Expect: 100-continue`, which would avoid the race
    /// (<https://github.com/hyperium/hyper/issues/3833>); why a server's kernel resets such a
    /// connection: <https://github.com/hyperium/hyper/issues/3078>.
    pub async fn upload_file(&self, upload: UploadFile) -> Result<types::File> {
        let op = &UPLOAD_FILE;
        let refuse = |message: String| Error::new(ErrorKind::InvalidInput, message).with_operation(op.id);
        if upload.filename.is_empty() || upload.filename.chars().any(|c| c.is_control() || c == '"') {
            return Err(refuse(format!(
                "the file name {:?} is empty or holds a control character or `\"`",
                upload.filename
            )));
        }
        if let Some(seconds) = upload.expires_after
            && !(MIN_EXPIRES_AFTER_SECS..=MAX_EXPIRES_AFTER_SECS).contains(&seconds)
        {
            return Err(refuse(format!(
                "expires_after is {seconds} s; it must be from 3600 to 2592000"
            )));
        }
        let (reader, length): (Box<dyn AsyncRead + Send + Sync + Unpin>, Option<u64>) = match upload.source {
            Source::Path(path) => {
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|e| io_error(e).with_operation(op.id))?;
                let metadata = file.metadata().await.map_err(|e| io_error(e).with_operation(op.id))?;
                if !metadata.is_file() {
                    return Err(
                        Error::new(ErrorKind::Io, format!("{} is not a regular file", path.display()))
                            .with_operation(op.id),
                    );
                }
                (Box::new(file), Some(metadata.len()))
            }
            Source::Reader(reader, length) => (reader, length),
        };
        if let Some(len) = length
            && len > MAX_FILE_BYTES
        {
            return Err(refuse(format!(
                "the file is {len} bytes; the API accepts at most {MAX_FILE_BYTES}"
            )));
        }

        let handover = Arc::new(Handover::new());
        let body = body(reader, length, upload.progress.clone(), handover.clone());
        let part = match length {
            Some(len) => reqwest::multipart::Part::stream_with_length(body, len),
            None => reqwest::multipart::Part::stream(body),
        };
        let part = part
            .file_name(upload.filename)
            .mime_str("application/octet-stream")
            .expect("a constant, valid MIME type");
        let mut form = reqwest::multipart::Form::new().text("purpose", upload.purpose.to_string());
        // The spec's `UploadFileRequest` names these two fields (see its description).
        if let Some(seconds) = upload.expires_after {
            form = form
                .text(
                    "expires_after[anchor]",
                    UploadFileRequestExpiresAfterAnchor::CreatedAt.to_string(),
                )
                .text("expires_after[seconds]", seconds.to_string());
        }
        let form = form.part("file", part);

        let (http, idle_timeout) = self.http_upload()?;
        let mut request = Request::new(op, reqwest::Method::POST, op.path.to_owned(), &[(200, 200)]);
        request.accept_json();
        // The form streams the file: it is sent once (the call path never repeats a request
        // whose body is a stream).
        request.multipart(form);
        let upload = async {
            let answer = execute::execute(self, http, request, execute::read_all).await?;
            execute::decode(self, answer)
        };
        let upload = std::pin::pin!(upload);
        let result = match idle_timeout {
            None => upload.await,
            Some(timeout) => match futures::future::select(upload, std::pin::pin!(handover.clock(timeout))).await {
                futures::future::Either::Left((result, _)) => result,
                futures::future::Either::Right((message, _)) => Err(Error::new(ErrorKind::Timeout, message)
                    .with_operation(op.id)
                    .with_request(op.method, op.path)
                    // The upload's one attempt: the clock runs once it has begun.
                    .with_attempts(1)),
            },
        };
        result.map_err(explain)
    }
}

/// The body of the file part: the reader's chunks, counted for progress and for the upload's
/// clock, then a check that the reader gave the length declared.
fn body(
    reader: Box<dyn AsyncRead + Send + Sync + Unpin>,
    length: Option<u64>,
    progress: Option<ProgressFn>,
    handover: Arc<Handover>,
) -> reqwest::Body {
    let ended = handover.clone();
    let chunks = ReaderStream::with_capacity(reader, 64 * 1024)
        // hyper's connection polls its read side before it writes, but a read only happens
        // once the runtime has seen the socket become readable; yielding before each chunk
        // lets the runtime look, so that an answer the server sent early (a 413 before it
        // closes) is read before a write meets the closed connection. Costs a task wake-up
        // per 64 KiB.
        .then(|chunk| async move {
            tokio::task::yield_now().await;
            chunk
        })
        .map(move |chunk| {
            let bytes = chunk.map_err(|e| LocalReadError(format!("reading the file failed: {e}")))?;
            let now = handover.took(bytes.len() as u64);
            if let Some(len) = length
                && now > len
            {
                return Err(LocalReadError(format!(
                    "the reader gave more than the {len} bytes declared"
                )));
            }
            if let Some(report) = &progress {
                report(UploadProgress {
                    sent: now,
                    total: length,
                });
            }
            Ok(bytes)
        });
    // At the end, a reader that gave fewer bytes than declared is an error too.
    let end = futures::stream::once(async move {
        let sent = ended.finished();
        match length {
            Some(len) if sent < len => Err(LocalReadError(format!(
                "the reader ended after {sent} of the {len} bytes declared"
            ))),
            _ => Ok(bytes::Bytes::new()),
        }
    });
    reqwest::Body::wrap_stream(chunks.chain(end))
}

/// Whether the operating system counts an upload's progress: on these systems the client for
/// uploads sets TCP's user timeout (`TCP_USER_TIMEOUT`) to the client's timeout (see
/// `upload_timeouts` in `client.rs`), so the kernel fails the connection when the server takes
/// none of the body for that long.
pub(crate) const KERNEL_COUNTS_PROGRESS: bool =
    cfg!(any(target_os = "linux", target_os = "android", target_os = "fuchsia"));

/// The slowest pace, in bytes per second, at which the client expects the server to take what
/// the connection still buffers: 64 KiB/s.
pub const MIN_DRAIN_PACE: u64 = 64 * 1024;

/// The most an upload's connection can hold that the server has not taken: the kernel's send
/// buffer at its largest (Linux: the third value of `net.ipv4.tcp_wmem`, else 4 MiB, Linux's
/// default), plus 1 MiB for hyper's write buffer (about 400 KB) and the server's receive
/// window.
fn buffer_capacity() -> u64 {
    const DEFAULT_SEND_BUFFER: u64 = 4 << 20;
    // Not on Linux, or not readable (a sandbox): the default is the documented assumption.
    let send_buffer = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|text| text.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(DEFAULT_SEND_BUFFER);
    send_buffer + (1 << 20)
}

/// What the body has done, for the upload's clock (see
/// [`ClientBuilder::timeout`](crate::ClientBuilder::timeout) for the rules).
struct Handover {
    started: tokio::time::Instant,
    /// Milliseconds from `started` to the latest chunk the connection took (0: none yet).
    last: AtomicU64,
    /// Bytes of the file the connection took.
    bytes: AtomicU64,
    /// Whether the connection took the whole body.
    done: std::sync::atomic::AtomicBool,
    /// [`buffer_capacity`], read once.
    capacity: u64,
}

impl Handover {
    fn new() -> Self {
        Self {
            started: tokio::time::Instant::now(),
            last: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            done: false.into(),
            capacity: buffer_capacity(),
        }
    }

    /// The connection took `len` more bytes of the file; returns how many it took in all.
    fn took(&self, len: u64) -> u64 {
        self.last
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.bytes.fetch_add(len, Ordering::Relaxed) + len
    }

    /// The connection took the last of the body; returns the file's bytes it took.
    fn finished(&self) -> u64 {
        let total = self.took(0);
        self.done.store(true, Ordering::Relaxed);
        total
    }

    /// When the upload times out unless something happens first, and what its error then
    /// says; `None` while the body is being sent and the kernel counts its progress.
    fn deadline(&self, timeout: std::time::Duration) -> Option<(tokio::time::Instant, String)> {
        let last = self.started + std::time::Duration::from_millis(self.last.load(Ordering::Relaxed));
        // The time the server may need to take what the connection still buffers.
        let buffered = self.bytes.load(Ordering::Relaxed).min(self.capacity);
        let drain = std::time::Duration::from_secs_f64(buffered as f64 / MIN_DRAIN_PACE as f64);
        let message = if self.done.load(Ordering::Relaxed) {
            format!(
                "the upload made no progress: no answer came {timeout:?} after the body was sent (plus {drain:?} for what the connection still buffered)"
            )
        } else if KERNEL_COUNTS_PROGRESS {
            return None;
        } else {
            format!(
                "the upload made no progress: the connection took none of the body for {timeout:?} (plus {drain:?} for what it buffered)"
            )
        };
        Some((last + drain + timeout, message))
    }

    /// Completes when the upload has timed out, with the error's message.
    async fn clock(&self, timeout: std::time::Duration) -> String {
        loop {
            match self.deadline(timeout) {
                Some((deadline, message)) if tokio::time::Instant::now() >= deadline => return message,
                Some((deadline, _)) => tokio::time::sleep_until(deadline).await,
                None => tokio::time::sleep(timeout).await,
            }
        }
    }
}

/// Adds to an upload's error what its cause means here.
fn explain(err: Error) -> Error {
    if err.status().is_some() {
        return err;
    }
    // The kind of the first I/O error behind it: the operating system's verdict.
    let io_kind = std::iter::successors(std::error::Error::source(&err), |e| e.source())
        .find_map(|e| e.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    use std::io::ErrorKind as K;
    match io_kind {
        Some(K::ConnectionReset | K::BrokenPipe | K::ConnectionAborted) => err.with_context(
            "the server closed the connection while the upload was sent; it may have refused it (a file too large, say), and its answer, if it sent one, was lost",
        ),
        Some(K::TimedOut) if KERNEL_COUNTS_PROGRESS => err.with_context(
            "the upload made no progress: the server took none of the body for the client's timeout (TCP's user timeout)",
        ),
        _ => err,
    }
}
