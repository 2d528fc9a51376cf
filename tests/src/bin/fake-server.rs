//! `cargo run -p cerebras-batch-tests --bin fake-server [-- --port N]`: a fake Cerebras Batch
//! API on 127.0.0.1 (default port 7070) for running the client's examples locally. It accepts
//! any API key. Stop it with Ctrl-C.

use cerebras_batch_tests::fake;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = match args.as_slice() {
        [] => 7070,
        [flag, n] if flag == "--port" => n.parse().unwrap_or_else(|_| exit(&format!("not a port: {n}"))),
        _ => exit("usage: fake-server [--port N]"),
    };
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| exit(&format!("cannot listen on 127.0.0.1:{port}: {e}")));
    let server = wiremock::MockServer::builder().listener(listener).start().await;
    fake::mount_workflow(&server).await;
    fake::mount_not_found(&server).await;
    println!("fake Cerebras Batch API listening on {}", server.uri());
    println!("  export CEREBRAS_BASE_URL={} CEREBRAS_API_KEY=any-key", server.uri());
    println!(
        "  batch to wait for: {} (created by the workflow example); batch to cancel: {}",
        fake::BATCH_ID,
        fake::CANCEL_BATCH_ID
    );
    std::future::pending::<()>().await;
}

fn exit(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}
