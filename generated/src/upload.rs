//! `upload_file`: the multipart upload progenitor cannot generate, written by hand against the
//! generated types and the spec's `UPLOAD_FILE` operation.
//!
//! The file is streamed from disk or from any `AsyncRead`, never buffered whole; files may be
//! up to 200 MB (<https://inference-docs.cerebras.ai/api-reference/file/upload-file>).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use progenitor_client::ResponseValue;
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;

use crate::error::{Error, ErrorKind, Result};
use crate::operations::UPLOAD_FILE;
use crate::types::{self, FilePurpose, UploadFileRequestExpiresAfterAnchor};

/// The largest file the API accepts: 200 MB (200 × 1000 × 1000 bytes).
pub const MAX_FILE_BYTES: u64 = 200 * 1000 * 1000;
/// The shortest `expires_after`: 3600 s (1 hour).
pub const MIN_EXPIRES_AFTER_SECS: i64 = 3600;
/// The longest `expires_after`: 2,592,000 s (30 days).
pub const MAX_EXPIRES_AFTER_SECS: i64 = 2_592_000;

/// Progress of an upload, reported after every chunk sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadProgress {
    /// Bytes of the file sent so far.
    pub sent: u64,
    /// The file's size in bytes, when known.
    pub total: Option<u64>,
}

type ProgressFn = Arc<dyn Fn(UploadProgress) + Send + Sync>;

/// A failure on the local side of an upload (reading the file, or a length that does not match
/// the declared one). It travels through the HTTP body as the stream's error; the client
/// reports it as [`ErrorKind::Io`].
#[derive(Debug)]
pub(crate) struct LocalReadError(String);

impl std::fmt::Display for LocalReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LocalReadError {}

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

    /// Calls `progress` after every chunk sent.
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
    ///   body; [`ErrorKind::Decode`]; [`ErrorKind::Connection`] or [`ErrorKind::Timeout`]
    ///   (the body took no progress, or no answer came, for the client's timeout).
    /// - [`ErrorKind::Config`] when the HTTP client for uploads, built on a client's first
    ///   upload, cannot be built.
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
                    .map_err(|e| crate::download::io_error(e).with_operation(op.id))?;
                let metadata = file
                    .metadata()
                    .await
                    .map_err(|e| crate::download::io_error(e).with_operation(op.id))?;
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

        let sent = Arc::new(AtomicU64::new(0));
        let progress = upload.progress.clone();
        let counted = sent.clone();
        // When the body last moved (milliseconds since `started`), for the idle timeout below.
        let started = tokio::time::Instant::now();
        let moved = Arc::new(AtomicU64::new(0));
        let (moved_chunk, moved_end) = (moved.clone(), moved.clone());
        let mark = move |moved: &AtomicU64| moved.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        let chunks = ReaderStream::with_capacity(reader, 64 * 1024).map(move |chunk| {
            mark(&moved_chunk);
            let bytes = chunk.map_err(|e| LocalReadError(format!("reading the file failed: {e}")))?;
            let now = counted.fetch_add(bytes.len() as u64, Ordering::Relaxed) + bytes.len() as u64;
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
            mark(&moved_end);
            let sent = sent.load(Ordering::Relaxed);
            match length {
                Some(len) if sent < len => Err(LocalReadError(format!(
                    "the reader ended after {sent} of the {len} bytes declared"
                ))),
                _ => Ok(bytes::Bytes::new()),
            }
        });
        let chunks = chunks.chain(end);
        let body = reqwest::Body::wrap_stream(chunks);
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

        let (raw, idle_timeout) = self.raw_upload()?;
        let url = format!("{}{}", progenitor_client::ClientInfo::baseurl(raw), op.path);
        // The form streams the file: it is sent once (the transport never repeats a request
        // whose body is a stream), so a second call of this closure does not happen.
        let mut form = Some(form);
        let call = move || {
            let form = form.take();
            let url = url.clone();
            Box::pin(async move {
                let form = form.ok_or_else(|| {
                    progenitor_client::Error::InvalidRequest("an upload's body is sent once".to_owned())
                })?;
                let http = progenitor_client::ClientInfo::client(raw);
                let request = http
                    .post(url)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .multipart(form)
                    .build()?;
                let response = progenitor_client::ClientInfo::inner(raw)
                    .send(http, request, op.id)
                    .await?;
                match response.status().as_u16() {
                    200 => crate::transport::json_response(response).await,
                    _ => Err(progenitor_client::Error::UnexpectedResponse(response)),
                }
            })
        };
        let upload = std::pin::pin!(self.execute(op, call));
        let Some(timeout) = idle_timeout else {
            return upload.await.map(ResponseValue::into_inner);
        };
        // The timeout is per read and per write, as httpx's in the vendor's SDKs: the upload
        // fails when the body has not moved for `timeout` (the server stopped reading) or, once
        // it is sent, when no answer came within `timeout` of its end. reqwest's own per-read
        // timeout would count the whole time spent sending the body.
        let idle = async {
            loop {
                let last = std::time::Duration::from_millis(moved.load(Ordering::Relaxed));
                let deadline = started + last + timeout;
                if tokio::time::Instant::now() >= deadline {
                    return;
                }
                tokio::time::sleep_until(deadline).await;
            }
        };
        match futures::future::select(upload, std::pin::pin!(idle)).await {
            futures::future::Either::Left((result, _)) => result.map(ResponseValue::into_inner),
            futures::future::Either::Right(((), _)) => Err(Error::new(
                ErrorKind::Timeout,
                format!("the upload made no progress, and no answer came, for {timeout:?}"),
            )
            .with_operation(op.id)
            .with_request(op.method, op.path)),
        }
    }
}
