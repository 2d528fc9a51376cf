//! A fake Cerebras Batch API on 127.0.0.1 for the README's walkthrough: the demo workflow of
//! `cerebras_batch_mock::demo` (an upload, a batch that completes with 12 results, a batch to
//! cancel with 3 partial results, vendor-shaped 404s for the rest).
//!
//! ```text
//! cargo run -p cerebras-batch-mock --bin fake-server [-- --port 7070]
//! ```

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = match args.as_slice() {
        [] => 7070,
        [flag, n] if flag == "--port" => match n.parse() {
            Ok(p) => p,
            Err(_) => return fail(&format!("not a port: {n}")),
        },
        _ => return fail("usage: fake-server [--port N]"),
    };
    let listener = match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on 127.0.0.1:{port}: {e}")),
    };
    let api = cerebras_batch_mock::MockApi::start_on(listener).await;
    cerebras_batch_mock::demo::mount(&api).await;
    println!("fake Cerebras Batch API listening on {}", api.uri());
    println!("  export CEREBRAS_BASE_URL={} CEREBRAS_API_KEY=any-key", api.uri());
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("fake-server: {message}");
    ExitCode::FAILURE
}
