//! A fake Cerebras Batch API on 127.0.0.1.
//!
//! By default it serves the demo workflow of `cerebras_batch_mock::demo` (an upload, a batch that
//! completes with 12 results, a batch to cancel with 3 partial results, vendor-shaped 404s for
//! the rest), for the README's library walkthrough. With `--stateful` it serves
//! [`cerebras_batch_mock::FakeApi`]: any number of uploads and batches, with results computed
//! from their input, for the command line's walkthrough.
//!
//! ```text
//! cargo run -p cerebras-batch-mock --bin fake-server [-- [--port 7070] [--stateful]]
//! ```

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut port: u16 = 7070;
    let mut stateful = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stateful" => stateful = true,
            "--port" => match args.next().map(|n| n.parse()) {
                Some(Ok(p)) => port = p,
                _ => return fail("--port needs a port number"),
            },
            _ => return fail("usage: fake-server [--port N] [--stateful]"),
        }
    }
    let listener = match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on 127.0.0.1:{port}: {e}")),
    };
    // The server lives as long as this value: the whole process.
    let (uri, _server): (String, Box<dyn std::any::Any>) = if stateful {
        let fake = cerebras_batch_mock::FakeApi::start_on(listener, Default::default()).await;
        (fake.uri(), Box::new(fake))
    } else {
        let api = cerebras_batch_mock::MockApi::start_on(listener).await;
        cerebras_batch_mock::demo::mount(&api).await;
        (api.uri(), Box::new(api))
    };
    let what = if stateful { "stateful fake" } else { "demo" };
    println!("fake Cerebras Batch API ({what}) listening on {uri}");
    println!("  export CEREBRAS_BASE_URL={uri} CEREBRAS_API_KEY=any-key");
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("fake-server: {message}");
    ExitCode::FAILURE
}
