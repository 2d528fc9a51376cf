//! [`Download`]: a response body streamed from the server, never buffered unless you ask; and
//! the client's helpers that download a batch's output and error files.

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{CallInfo, ErrorResponse, Result, from_reqwest, io_error};
use crate::types::Batch;

/// The body of a download (`retrieve_file_content`, `retrieve_batch_results`) as a stream of
/// chunks. Memory use stays bounded by one chunk unless you call [`bytes`](Self::bytes).
pub struct Download {
    status: StatusCode,
    headers: HeaderMap,
    /// The response, its body not read yet.
    response: reqwest::Response,
    /// The operation, request and attempts, for errors while reading the body.
    call: CallInfo,
    /// Called with the bytes written so far (see [`Download::on_progress`]).
    on_progress: Option<Box<dyn Fn(u64) + Send + Sync>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl Download {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, response: reqwest::Response, call: CallInfo) -> Self {
        Self {
            status,
            headers,
            response,
            call,
            on_progress: None,
        }
    }

    /// Calls `on_progress` with the number of bytes written so far after each chunk that
    /// [`write_to`](Self::write_to) or [`save`](Self::save) writes (a few KiB each; compare with
    /// [`content_length`](Self::content_length) for a share).
    pub fn on_progress(mut self, on_progress: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Box::new(on_progress));
        self
    }

    /// The HTTP status (a 2xx).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers; `content-type` is `application/x-ndjson` for JSONL files.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body's length in bytes, when the server sent `content-length`.
    pub fn content_length(&self) -> Option<u64> {
        // hyper (HTTP/1) and h2 (HTTP/2) refuse a response whose content-length is not a number
        // before it gets here, so `None` means the header is absent.
        self.headers
            .get(reqwest::header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse()
            .ok()
    }

    /// The body as a stream of chunks.
    ///
    /// # Errors
    ///
    /// Each item is [`ErrorKind::Connection`](crate::ErrorKind::Connection) or [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) when the body broke off;
    /// the error keeps the response's status and headers, the operation, the request and the
    /// attempts it took to get the response. A body that breaks off is not retried: its first
    /// bytes already reached you.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes>> + Send + Unpin {
        let Self {
            status,
            headers,
            response,
            call,
            on_progress: _,
        } = self;
        response.bytes_stream().map_err(move |e| {
            call.name(from_reqwest(e).with_response(ErrorResponse::new(status, headers.clone(), &[], false)))
        })
    }

    /// Reads the whole body into memory. Prefer [`write_to`](Self::write_to) for large files.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Connection`](crate::ErrorKind::Connection) or [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) when the body broke off.
    pub async fn bytes(self) -> Result<Bytes> {
        let mut out = Vec::with_capacity(self.content_length().unwrap_or(0).min(1 << 20) as usize);
        let mut stream = self.into_stream();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.into())
    }

    /// Copies the body to `writer` chunk by chunk and flushes it; returns the number of bytes
    /// written.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Connection`](crate::ErrorKind::Connection) or [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) when the body broke off, and
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when writing failed.
    pub async fn write_to<W: AsyncWrite + Unpin>(mut self, writer: &mut W) -> Result<u64> {
        let mut written = 0u64;
        let on_progress = self.on_progress.take();
        let mut stream = self.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            writer.write_all(&chunk).await.map_err(io_error)?;
            written += chunk.len() as u64;
            if let Some(on_progress) = &on_progress {
                on_progress(written);
            }
        }
        writer.flush().await.map_err(io_error)?;
        Ok(written)
    }

    /// Writes the body to the file at `path` (replacing one that exists) and returns the number
    /// of bytes written. The body goes to a temporary file in the same directory
    /// (`.cerebras-batch-<pid>-<n>.part`, unique to the call), then renamed to `path`: on an
    /// error, or when the future is dropped before it finishes, `path` is untouched and the
    /// temporary file is removed. The rename replaces `path` itself (a symlink there is
    /// replaced, not written through). The file is not synced to disk (as with any write, a
    /// power loss may lose what the kernel has not written yet; call
    /// `std::fs::File::open(path)?.sync_all()` when that matters): syncing 200 MB costs more
    /// than the download itself on a fast link.
    ///
    /// # Errors
    ///
    /// As [`write_to`](Self::write_to), and [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be created.
    pub async fn save(self, path: impl AsRef<std::path::Path>) -> Result<u64> {
        let path = path.as_ref();
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => std::path::Path::new("."),
        };
        let (mut file, mut tmp) = TempFile::create(dir).await?;
        let written = self.write_to(&mut file).await?;
        drop(file);
        tokio::fs::rename(tmp.path(), path).await.map_err(io_error)?;
        tmp.kept();
        Ok(written)
    }
}

/// A temporary file for [`Download::save`], removed when dropped unless kept (renamed).
struct TempFile {
    path: std::path::PathBuf,
    kept: bool,
}

impl TempFile {
    /// A new file in `dir`, with a name no other call uses: the process id and a counter,
    /// created only if absent.
    async fn create(dir: &std::path::Path) -> Result<(tokio::fs::File, Self)> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        loop {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = dir.join(format!(".cerebras-batch-{}-{n}.part", std::process::id()));
            match tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .await
            {
                Ok(file) => return Ok((file, Self { path, kept: false })),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error(e)),
            }
        }
    }

    fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The file was renamed into place: nothing to remove.
    fn kept(&mut self) {
        self.kept = true;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl crate::Client {
    /// Downloads the batch's output file (`output_file_id`: its results, partial after a
    /// cancellation), or `None`, without a request, when it has none yet (absent, `null` or
    /// empty).
    ///
    /// # Errors
    ///
    /// As [`retrieve_file_content`](Self::retrieve_file_content).
    pub async fn download_output(&self, batch: &Batch) -> Result<Option<Download>> {
        match batch.output_file_id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => self.retrieve_file_content(id).await.map(Some),
            None => Ok(None),
        }
    }

    /// Downloads the batch's error file (`error_file_id`), or `None`, without a request, when it
    /// has none.
    ///
    /// # Errors
    ///
    /// As [`retrieve_file_content`](Self::retrieve_file_content).
    pub async fn download_errors(&self, batch: &Batch) -> Result<Option<Download>> {
        match batch.error_file_id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => self.retrieve_file_content(id).await.map(Some),
            None => Ok(None),
        }
    }
}
