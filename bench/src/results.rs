//! Reading and saving a 200 MB results file: `Download::results()` (typed lines) against raw
//! reqwest + `serde_json::from_slice` per line into a struct of the same fields, each response
//! parsed into a map; and `Download::save()` against writing reqwest's byte stream to a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use cerebras_batch::types::BatchResultStatus;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::calls::KEY;
use crate::stats::{Pair, measure};

/// The file id the server answers for (any id works).
const FILE_ID: &str = "file-results";

/// The floor's result line: the fields `cerebras_batch::jsonl::ResultLine` exposes.
#[allow(dead_code)]
#[derive(Deserialize)]
struct FloorLine {
    id: Option<String>,
    custom_id: String,
    status: Option<String>,
    response: Option<Map<String, Value>>,
    error: Option<Value>,
}

/// `target/bench/results-<mb>mb.jsonl`, written once: success lines in the Cerebras shape, one in
/// ten in the OpenAI shape, each with a chat.completion of a few hundred bytes.
pub fn ensure_file(dir: &Path, mb: u64) -> Result<PathBuf, String> {
    let path = dir.join(format!("results-{mb}mb.jsonl"));
    if std::fs::metadata(&path).is_ok_and(|m| m.len() >= mb * 1_000_000) {
        return Ok(path);
    }
    eprintln!("writing {} ...", path.display());
    let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    let mut out = std::io::BufWriter::new(file);
    let mut written = 0u64;
    let mut i = 0u64;
    while written < mb * 1_000_000 {
        let completion = format!(
            r#"{{"id":"chatcmpl-{i}","object":"chat.completion","created":1766003300,"model":"llama-3.3-70b","choices":[{{"index":0,"message":{{"role":"assistant","content":"The water cycle is the continuous movement of water on, above and below the surface of the Earth: evaporation, condensation, precipitation and collection, request {i}."}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":24,"completion_tokens":42,"total_tokens":66}}}}"#
        );
        let line = if i % 10 == 9 {
            format!(
                r#"{{"id":"batch_req_{i}","custom_id":"req-{i:08}","response":{{"status_code":200,"request_id":"req_{i}","body":{completion}}},"error":null}}"#
            )
        } else {
            format!(r#"{{"custom_id":"req-{i:08}","status":"succeeded","response":{completion},"error":null}}"#)
        };
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
        written += line.len() as u64 + 1;
        i += 1;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(path)
}

pub async fn ours_read(client: &cerebras_batch::Client) -> Result<u64, String> {
    let download = client.retrieve_file_content(FILE_ID).await.map_err(|e| e.to_string())?;
    let mut lines = download.results();
    let (mut n, mut ok) = (0u64, 0u64);
    while let Some(line) = lines.next().await {
        let line = line.map_err(|e| e.to_string())?;
        n += 1;
        if line.status() == BatchResultStatus::Succeeded && !line.custom_id().is_empty() {
            ok += 1;
        }
    }
    if ok != n {
        return Err(format!("ours: {ok} of {n} lines succeeded"));
    }
    Ok(n)
}

/// The floor's `GET /v1/files/{id}/content`: plain reqwest, the status checked.
async fn floor_get_content(http: &reqwest::Client, base: &str) -> Result<reqwest::Response, String> {
    http.get(format!("{base}/v1/files/{FILE_ID}/content"))
        .bearer_auth(KEY)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.to_string())
}

pub async fn floor_read(http: &reqwest::Client, base: &str) -> Result<u64, String> {
    let response = floor_get_content(http, base).await?;
    let stream = response.bytes_stream().map_err(std::io::Error::other);
    let mut reader = tokio::io::BufReader::with_capacity(64 * 1024, tokio_util::io::StreamReader::new(stream));
    let mut buf = Vec::new();
    let (mut n, mut ok) = (0u64, 0u64);
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).await.map_err(|e| e.to_string())? == 0 {
            break;
        }
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if text.is_empty() {
            continue;
        }
        let line: FloorLine = serde_json::from_slice(text).map_err(|e| e.to_string())?;
        n += 1;
        let succeeded = match line.status.as_deref() {
            Some(s) => s == "succeeded",
            None => {
                line.response
                    .as_ref()
                    .and_then(|r| r.get("status_code"))
                    .and_then(Value::as_u64)
                    == Some(200)
            }
        };
        if succeeded && !line.custom_id.is_empty() {
            ok += 1;
        }
    }
    if ok != n {
        return Err(format!("floor: {ok} of {n} lines succeeded"));
    }
    Ok(n)
}

/// Reading every result line, with each client.
pub async fn measure_pair(
    client: &cerebras_batch::Client,
    http: &reqwest::Client,
    base: &str,
    ours_first: bool,
) -> Result<Pair, String> {
    if ours_first {
        let o = measure(ours_read(client)).await?;
        let f = measure(floor_read(http, base)).await?;
        Ok(Pair { ours: o, floor: f })
    } else {
        let f = measure(floor_read(http, base)).await?;
        let o = measure(ours_read(client)).await?;
        Ok(Pair { ours: o, floor: f })
    }
}

async fn ours_save(client: &cerebras_batch::Client, out: &Path) -> Result<u64, String> {
    let download = client.retrieve_file_content(FILE_ID).await.map_err(|e| e.to_string())?;
    download.save(out).await.map_err(|e| e.to_string())
}

async fn floor_save(http: &reqwest::Client, base: &str, out: &Path) -> Result<u64, String> {
    let response = floor_get_content(http, base).await?;
    let mut file = tokio::fs::File::create(out).await.map_err(|e| e.to_string())?;
    let mut stream = response.bytes_stream();
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        file.write_all(&chunk).await.map_err(|e| e.to_string())?;
        n += chunk.len() as u64;
    }
    file.flush().await.map_err(|e| e.to_string())?;
    Ok(n)
}

/// Saving the file to disk, with each client.
pub async fn measure_save_pair(
    client: &cerebras_batch::Client,
    http: &reqwest::Client,
    base: &str,
    dir: &Path,
    ours_first: bool,
) -> Result<Pair, String> {
    let (o_path, f_path) = (dir.join("saved-ours.jsonl"), dir.join("saved-floor.jsonl"));
    // Each file is removed as soon as its time is taken: its 200 MB of pages not yet written
    // to disk go with it, instead of throttling the other client's writes (the kernel makes a
    // writer wait when too much is dirty), which made the second of each pair the slower.
    let ours = async {
        let m = measure(ours_save(client, &o_path)).await;
        remove(&o_path)?;
        m
    };
    let floor = async {
        let m = measure(floor_save(http, base, &f_path)).await;
        remove(&f_path)?;
        m
    };
    if ours_first {
        let o = ours.await?;
        let f = floor.await?;
        Ok(Pair { ours: o, floor: f })
    } else {
        let f = floor.await?;
        let o = ours.await?;
        Ok(Pair { ours: o, floor: f })
    }
}

/// Removes a saved file; a file that is not there (its save failed) is no error.
fn remove(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("{}: {e}", path.display())),
        _ => Ok(()),
    }
}

/// `save-rss`: saves once, prints `peak RSS MiB: N`.
pub async fn save_rss(base: &str, out: &Path) -> Result<(), String> {
    let client = crate::calls::ours_client(base)?;
    let bytes = ours_save(&client, out).await?;
    let _ = std::fs::remove_file(out);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or("no VmHWM in /proc/self/status")?;
    println!("saved {bytes} bytes; peak RSS MiB: {:.1}", kib / 1024.0);
    Ok(())
}

/// Runs `save-rss` in a process of its own and returns its peak RSS in MiB.
pub async fn save_rss_child(base: &str, dir: &Path) -> Result<f64, String> {
    let out = tokio::process::Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["save-rss", base])
        .arg(dir.join("saved-rss.jsonl"))
        .output()
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("peak RSS MiB: ")
        .nth(1)
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("save-rss printed {text:?} {}", String::from_utf8_lossy(&out.stderr)))
}
