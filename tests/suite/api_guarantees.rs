//! What the public API promises beyond its signatures, checked by the compiler: the client is
//! `Send + Sync + Clone + 'static`, so one client serves every task; every future and stream it
//! returns is `Send`, so it can be spawned on a multi-threaded runtime; errors are
//! `Send + Sync + 'static`, so they go into `anyhow` or `Box<dyn Error + Send + Sync>`.

use std::future::IntoFuture;

use cerebras_batch::jsonl::ResultLine;
use cerebras_batch::types::{Batch, CreateBatchRequest};
use cerebras_batch::{Client, ClientBuilder, Download, Error, UploadFile, WaitOptions};

fn shared<T: Send + Sync + Clone + 'static>() {}
fn thread_safe<T: Send + Sync + 'static>() {}
fn error<T: std::error::Error + Send + Sync + 'static>() {}
fn send<T: Send>(_: &T) {}

#[test]
fn the_client_and_its_values_cross_threads() {
    shared::<Client>();
    shared::<Batch>();
    shared::<ResultLine>();
    shared::<WaitOptions>();
    thread_safe::<ClientBuilder>();
    thread_safe::<Download>();
    thread_safe::<UploadFile>();
    error::<Error>();
}

/// Never run: the futures are only built, to type-check that they are `Send`.
#[test]
fn every_future_and_stream_is_send() {
    fn check(client: &Client, download: Download) {
        send(&client.cancel_batch("batch_1").into_future());
        send(&client.cancel_batch("batch_1").send());
        send(
            &client
                .create_batch(CreateBatchRequest::chat_completions("file_1"))
                .into_future(),
        );
        send(&client.list_batches().into_stream());
        send(&client.list_files().into_stream());
        send(&client.retrieve_file_content("file_1").into_future());
        send(&client.upload_file(UploadFile::from_path("in.jsonl")));
        send(&client.wait_for_batch("batch_1", WaitOptions::default()));
        send(&client.cancel_and_wait("batch_1", WaitOptions::default()));
        send(&client.download_output(&Batch::new("batch_1")));
        send(&download.results());
    }
    let _ = check;
}
