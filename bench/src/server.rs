//! The loopback API (axum, in a process of its own): `GET /v1/batches/{id}` answers the vendor's
//! retrieve example, `DELETE /v1/batches/{id}` its cancel example; `GET /v1/files/{id}/content`
//! streams the results file.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::header;
use axum::routing::get;
use tokio::io::AsyncBufReadExt;

/// The vendor's cancel example (inference-docs.cerebras.ai/api-reference/batch/cancel-batch),
/// `"status": "calling"` included.
pub const CANCEL_EXAMPLE: &str = r#"{"id":"batch_abc123","object":"batch","endpoint":"/v1/chat/completions","errors":null,"input_file_id":"file-abc123","completion_window":"24h","status":"calling","output_file_id":null,"error_file_id":null,"created_at":1765492780,"in_progress_at":null,"expires_at":null,"finalizing_at":null,"completed_at":1765493188,"failed_at":null,"expired_at":null,"cancelling_at":1765492797,"cancelled_at":null,"request_counts":null,"metadata":null}"#;

/// The vendor's retrieve example (inference-docs.cerebras.ai/api-reference/batch/retrieve-batch),
/// which every client of the call figures decodes.
pub const RETRIEVE_EXAMPLE: &str = r#"{"id":"batch_abc123","object":"batch","endpoint":"/v1/chat/completions","errors":null,"input_file_id":"file_abc123","completion_window":"24h","status":"in_progress","output_file_id":null,"error_file_id":null,"created_at":1766003277,"in_progress_at":1766003300,"expires_at":1766089677,"finalizing_at":null,"completed_at":null,"failed_at":null,"expired_at":null,"cancelling_at":null,"cancelled_at":null,"request_counts":{"total":100,"completed":75,"failed":2},"metadata":{"custom_tags":["legal-review","q3"]}}"#;

/// Serves until killed; prints `listening on <url>` first.
pub async fn serve(results: PathBuf) -> Result<(), String> {
    let app = Router::new()
        .route(
            "/v1/batches/{id}",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], RETRIEVE_EXAMPLE) })
                .delete(|| async { ([(header::CONTENT_TYPE, "application/json")], CANCEL_EXAMPLE) }),
        )
        .route(
            "/v1/files/{id}/content",
            get(move || {
                let results = results.clone();
                async move {
                    let file = tokio::fs::File::open(&results).await.expect("the results file");
                    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
                    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
                    (
                        [
                            (header::CONTENT_TYPE, "application/x-ndjson".to_owned()),
                            (header::CONTENT_LENGTH, len.to_string()),
                        ],
                        body,
                    )
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{addr}");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

/// The server process, killed on drop.
pub struct Child {
    _process: tokio::process::Child,
    pub base_url: String,
}

impl Child {
    pub async fn start(results: &Path) -> Result<Self, String> {
        Self::start_with(&[std::ffi::OsStr::new("serve"), results.as_os_str()]).await
    }

    /// Starts this program with `args`, a server that prints `listening on <url>` first.
    pub async fn start_with(args: &[impl AsRef<std::ffi::OsStr>]) -> Result<Self, String> {
        let mut process = tokio::process::Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let stdout = process.stdout.take().expect("piped");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = lines
            .next_line()
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the server printed nothing")?;
        let base_url = line
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected server output: {line}"))?
            .to_owned();
        Ok(Self {
            _process: process,
            base_url,
        })
    }
}
