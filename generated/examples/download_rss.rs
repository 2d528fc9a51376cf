//! Downloads a 200 MB result body from a local server to disk and reports the process's peak
//! resident memory (Linux `VmHWM`), to show that downloads stream. Fails when the peak is over
//! 64 MiB.
//!
//! ```text
//! cargo run -p cerebras-batch --example download_rss [-- SIZE_MB]
//! ```
//! The server is Python's `http.server`, in its own process, serving a file from a temporary
//! folder laid out as `/v1/files/file-big/content`; only the client's memory is measured.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cerebras_batch::Client;

/// The bound the download must stay under: 64 MiB.
const LIMIT_KIB: u64 = 64 * 1024;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let size_mb: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(200);
    let size = size_mb * 1000 * 1000;
    let root = std::env::temp_dir().join(format!("cerebras-batch-rss-{}", std::process::id()));
    let dir = root.join("v1/files/file-big");
    std::fs::create_dir_all(&dir)?;
    {
        // A JSONL-looking body, written in 1 MB chunks.
        let line = b"{\"custom_id\":\"req\",\"status\":\"succeeded\",\"response\":{\"object\":\"chat.completion\"}}\n";
        let chunk: Vec<u8> = line.iter().copied().cycle().take(1_000_000).collect();
        let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("content"))?);
        for _ in 0..size_mb {
            out.write_all(&chunk)?;
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut server = Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string()])
        .current_dir(&root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            server.kill()?;
            return Err("python3 -m http.server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    let before = peak_rss_kib();
    let client = Client::builder()
        .api_key("local")
        .base_url(&base)
        .timeout(Duration::from_secs(600))
        .build()?;
    let started = Instant::now();
    let target = root.join("downloaded.jsonl");
    let result = async { client.retrieve_file_content("file-big").await?.save(&target).await }.await;
    let elapsed = started.elapsed();
    server.kill()?;
    let _ = server.wait();
    let written = result?;
    let on_disk = std::fs::metadata(&target)?.len();
    std::fs::remove_dir_all(&root)?;

    let peak = peak_rss_kib().ok_or("no /proc/self/status (Linux only)")?;
    println!(
        "downloaded {written} bytes ({on_disk} on disk) in {:.1} s",
        elapsed.as_secs_f64()
    );
    println!("peak RSS before the download: {} MiB", before.unwrap_or(0) / 1024);
    println!("peak RSS of the whole process: {} MiB ({peak} KiB)", peak / 1024);
    if written != size || on_disk != size {
        return Err(format!("expected {size} bytes").into());
    }
    if peak > LIMIT_KIB {
        return Err(format!("peak RSS {peak} KiB is over the {LIMIT_KIB} KiB bound").into());
    }
    Ok(())
}
