//! Uploads: the multipart form as the client sends it, bad input refused before sending, the
//! timeout against servers that read slowly, stop reading or never answer, and a 413 sent
//! before the body.

use crate::doubles;
use cerebras_batch::ErrorKind;
use cerebras_batch::UploadFile;
use cerebras_batch::types;
use cerebras_batch_tests::TEST_KEY;
use cerebras_batch_tests::request_count;
use cerebras_batch_tests::test_client;
use cerebras_batch_tests::twelve_requests;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt as _;

/// The multipart fields of a request body: `(name, filename, content type, bytes)`.
async fn multipart_fields(request: &wiremock::Request) -> Vec<(String, Option<String>, Option<String>, Vec<u8>)> {
    let content_type = request
        .headers
        .get("content-type")
        .expect("content-type")
        .to_str()
        .unwrap();
    let boundary = multer::parse_boundary(content_type).expect("a multipart boundary");
    let body = request.body.clone();
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(bytes::Bytes::from(body)) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.expect("valid multipart") {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        fields.push((
            name,
            filename,
            content_type,
            field.bytes().await.expect("field body").to_vec(),
        ));
    }
    fields
}

#[tokio::test]
async fn upload_streams_a_12_line_file_as_multipart() {
    let server = cerebras_batch_tests::demo().await;
    let dir = std::env::temp_dir().join(format!("cerebras-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("requests.jsonl");
    let content = twelve_requests();
    std::fs::write(&path, &content).unwrap();

    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let file = test_client(&server.uri(), 0)
        .upload_file(
            UploadFile::from_path(&path)
                .expires_after(86400)
                .on_progress(move |p| seen.lock().unwrap().push(p)),
        )
        .await
        .expect("upload succeeds");
    assert_eq!(file.id, cerebras_batch_mock::demo::INPUT_FILE_ID);
    assert_eq!(file.purpose, Some(types::FilePurpose::Batch));

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.url.path()), ("POST", "/v1/files"));
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        &format!("Bearer {TEST_KEY}")
    );
    let fields = multipart_fields(request).await;
    let names: Vec<&str> = fields.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        ["purpose", "expires_after[anchor]", "expires_after[seconds]", "file"]
    );
    assert_eq!(fields[0].3, b"batch");
    assert_eq!(fields[1].3, b"created_at");
    assert_eq!(fields[2].3, b"86400");
    assert_eq!(fields[3].1.as_deref(), Some("requests.jsonl"));
    assert_eq!(fields[3].2.as_deref(), Some("application/octet-stream"));
    assert_eq!(fields[3].3, content, "the server received the file byte for byte");
    assert_eq!(fields[3].3.iter().filter(|b| **b == b'\n').count(), 12);

    let progress = progress.lock().unwrap();
    let last = progress.last().expect("progress was reported");
    assert_eq!(
        (last.sent, last.total),
        (content.len() as u64, Some(content.len() as u64))
    );
    assert!(progress.windows(2).all(|w| w[0].sent <= w[1].sent));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn upload_refuses_bad_input_before_sending() {
    let server = cerebras_batch_tests::demo().await;
    let c = test_client(&server.uri(), 0);
    let err = c
        .upload_file(UploadFile::from_reader(&b"x"[..], "a.jsonl", Some(1)).expires_after(60))
        .await
        .expect_err("too short");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.message(), "expires_after is 60 s; it must be from 3600 to 2592000");
    let err = c
        .upload_file(UploadFile::from_reader(
            &b"x"[..],
            "a.jsonl",
            Some(cerebras_batch::MAX_FILE_BYTES + 1),
        ))
        .await
        .expect_err("too big");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = c
        .upload_file(UploadFile::from_path("/nonexistent/requests.jsonl"))
        .await
        .expect_err("no file");
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn upload_problems_are_io_or_invalid_input_errors() {
    let server = cerebras_batch_tests::demo().await;
    let c = test_client(&server.uri(), 2);
    let err = c
        .upload_file(UploadFile::from_reader(
            std::io::Cursor::new(vec![b'x'; 5000]),
            "a.jsonl",
            Some(100),
        ))
        .await
        .expect_err("longer");
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Io, "the reader gave more than the 100 bytes declared")
    );
    let err = c
        .upload_file(UploadFile::from_reader(
            std::io::Cursor::new(vec![b'x'; 100]),
            "a.jsonl",
            Some(5000),
        ))
        .await
        .expect_err("shorter");
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Io, "the reader ended after 100 of the 5000 bytes declared")
    );

    struct Failing(usize);
    impl tokio::io::AsyncRead for Failing {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if self.0 == 0 {
                return std::task::Poll::Ready(Err(std::io::Error::other("disk on fire")));
            }
            self.0 -= 1;
            buf.put_slice(b"{}\n");
            std::task::Poll::Ready(Ok(()))
        }
    }
    let err = c
        .upload_file(UploadFile::from_reader(Failing(3), "a.jsonl", None))
        .await
        .expect_err("reader fails");
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Io, "reading the file failed: disk on fire")
    );

    let dir = std::env::temp_dir();
    let err = c
        .upload_file(UploadFile::from_path(&dir))
        .await
        .expect_err("a directory");
    assert_eq!(err.kind(), ErrorKind::Io);

    let before = request_count(&server).await;
    for name in [
        "a.jsonl\"\r\nContent-Type: text/evil",
        "line\nbreak.jsonl",
        "",
        "tab\there",
    ] {
        let err = c
            .upload_file(UploadFile::from_reader(&b"{}\n"[..], name, Some(3)))
            .await
            .expect_err(name);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name:?}");
    }
    assert_eq!(request_count(&server).await, before, "refused names send nothing");
}

#[tokio::test]
async fn a_slow_but_steady_reader_outlives_the_timeout() {
    // 20 parts of 16 KiB, 50 ms apart: 1 s in all, against a 300 ms timeout.
    let server = cerebras_batch_tests::demo().await;
    let (mut writer, reader) = tokio::io::duplex(64 * 1024);
    let total = 20 * 16 * 1024;
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        for _ in 0..20 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            writer.write_all(&[b'x'; 16 * 1024]).await.unwrap();
        }
    });
    let client = cerebras_batch_tests::test_client_builder(&server.uri(), 0)
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let file = client
        .upload_file(UploadFile::from_reader(reader, "steady.jsonl", Some(total)))
        .await
        .expect("a steady upload does not time out");
    assert_eq!(file.id, cerebras_batch_mock::demo::INPUT_FILE_ID);
}

/// `size` bytes of `x`, to upload.
fn bytes(size: u64) -> UploadFile {
    UploadFile::from_reader(tokio::io::repeat(b'x').take(size), "big.jsonl", Some(size))
}

/// A client with `timeout` and no retries.
fn client_with_timeout(base: &str, timeout: Duration) -> cerebras_batch::Client {
    cerebras_batch_tests::test_client_builder(base, 0)
        .timeout(timeout)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_reads_slowly_but_steadily_never_trips_the_timeout() {
    // Each upload takes several timeouts; most of it sits in the connection's buffers at
    // first (on loopback the kernel's send buffer holds about 4 MiB), so the server is still
    // reading long after the client handed over the last byte.
    let cases = [
        (300_000, 1_500_000, Duration::from_millis(1000)),
        (400_000, 2_000_000, Duration::from_millis(1500)),
        (1_000_000, 6_000_000, Duration::from_millis(700)),
    ];
    let runs = cases.map(|(rate, size, timeout)| async move {
        let (base, read) = doubles::upload_server(doubles::Reading::Steady { rate }).await;
        let started = Instant::now();
        let file = client_with_timeout(&base, timeout)
            .upload_file(bytes(size))
            .await
            .unwrap_or_else(|e| panic!("{rate} B/s, {size} B, timeout {timeout:?}: {e}"));
        let took = started.elapsed();
        assert_eq!(file.id, "file-steady");
        assert!(read.load(Ordering::SeqCst) > size, "the server read the whole form");
        assert!(
            took > timeout * 3,
            "{rate} B/s: the upload took {took:?}, several timeouts"
        );
    });
    futures::future::join_all(runs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_reading_trips_the_timeout_after_one_attempt() {
    let timeout = Duration::from_millis(500);
    let runs = [0, 100_000, 3_000_000].map(|stop| async move {
        let (base, read) = doubles::upload_server(doubles::Reading::StopsAfter { bytes: stop }).await;
        let started = Instant::now();
        // 64 MiB: more than the connection's buffers hold, so the body stalls.
        let err = client_with_timeout(&base, timeout)
            .upload_file(bytes(64 << 20))
            .await
            .expect_err("the server stopped reading");
        let took = started.elapsed();
        assert_eq!(
            (err.kind(), err.attempts(), err.status(), err.operation()),
            (ErrorKind::Timeout, 1, None, Some("upload_file")),
            "stops after {stop} B: {err}"
        );
        assert!(err.message().contains("the upload made no progress"), "{err}");
        assert_eq!(read.load(Ordering::SeqCst), stop);
        assert!(took < Duration::from_secs(20), "stops after {stop} B: took {took:?}");
    });
    futures::future::join_all(runs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_takes_the_body_and_never_answers_trips_the_timeout() {
    let timeout = Duration::from_millis(300);
    // The drain allowance is the body (at most the buffers' size) at 64 KiB/s: 1 s for
    // 64 KiB, about 3 s for 200 KB.
    let runs = [0, 64 * 1024, 200_000].map(|size| async move {
        let (base, read) = doubles::upload_server(doubles::Reading::AllThenSilent).await;
        let started = Instant::now();
        let err = client_with_timeout(&base, timeout)
            .upload_file(bytes(size))
            .await
            .expect_err("no answer comes");
        let took = started.elapsed();
        assert_eq!(
            (err.kind(), err.attempts(), err.status()),
            (ErrorKind::Timeout, 1, None),
            "{size} B: {err}"
        );
        assert!(
            err.message()
                .starts_with("the upload made no progress: no answer came 300ms after the body was sent (plus "),
            "{err}"
        );
        assert!(read.load(Ordering::SeqCst) >= size);
        let allowance = Duration::from_secs_f64(size as f64 / cerebras_batch::MIN_DRAIN_PACE as f64);
        assert!(took >= timeout + allowance, "{size} B: {took:?}");
        assert!(
            took < timeout + allowance + Duration::from_secs(5),
            "{size} B: {took:?}"
        );
    });
    futures::future::join_all(runs).await;
}

/// A server on 127.0.0.1 that answers every upload `413` with a JSON message after reading
/// the request's head, and then closes the connection: at once (`linger` false: the unread
/// body makes the kernel reset the connection), or after reading what the client still sends
/// (`linger` true, as nginx does).
async fn refuses_uploads(linger: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                if doubles::read_head(&mut socket).await.is_none() {
                    return;
                }
                let body = r#"{"error":{"message":"File exceeds the 200 MB limit","type":"invalid_request_error","code":"file_too_large"}}"#;
                let answer = format!(
                    "HTTP/1.1 413 Payload Too Large\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                if linger {
                    let _ = socket.shutdown().await;
                    let _ = tokio::io::copy(&mut socket, &mut tokio::io::sink()).await;
                }
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_413_is_surfaced_or_the_error_says_the_upload_may_have_been_refused() {
    const CLOSED: &str = "the server closed the connection while the upload was sent; it may have refused it";
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for linger in [false, true] {
        let client = cerebras_batch_tests::test_client(&refuses_uploads(linger).await, 2);
        for (i, size) in [64 * 1024, 1 << 20, 8 << 20].into_iter().cycle().take(60).enumerate() {
            let err = client.upload_file(bytes(size)).await.expect_err("refused");
            assert_eq!(err.attempts(), 1, "{i}: an upload is sent once: {err}");
            let outcome = match err.status().map(|s| s.as_u16()) {
                Some(413) if err.message() == "File exceeds the 200 MB limit" => "413 with its message",
                Some(413)
                    if err
                        .message()
                        .contains("the connection closed before the whole answer arrived") =>
                {
                    "413, its body cut off"
                }
                None if err.kind() == ErrorKind::Connection && err.message().contains(CLOSED) => {
                    "closed while sent, said so"
                }
                _ => panic!("linger {linger}, {size} B: neither the 413 nor an explanation: {err}"),
            };
            if linger {
                assert_eq!(
                    outcome, "413 with its message",
                    "{size} B: a server that lingers is always heard"
                );
            }
            *outcomes.entry(format!("linger={linger}: {outcome}")).or_default() += 1;
        }
    }
    println!("{outcomes:#?}");
    // How often the 413 wins the race against the reset depends on scheduling: 19 in 20 on an
    // idle machine, 25 in 60 under a load of 9 on 2 cores (CI, 2026-12-03). A rate is a
    // measurement, not a test; the test asserts what holds in every timing: each try is the 413
    // or says it may have been refused (above), and the 413 is heard at least once.
    assert!(
        outcomes.get("linger=false: 413 with its message").copied().unwrap_or(0) >= 1,
        "the 413 of a server that resets is never surfaced: {outcomes:?}"
    );
}

#[tokio::test]
async fn the_stateful_fake_never_reuses_a_deleted_files_id() {
    let fake = cerebras_batch_mock::FakeApi::start().await;
    let client = fake.client();
    let upload = |name: &'static str| UploadFile::from_reader(&b"{}\n"[..], name, Some(3));
    let first = client.upload_file(upload("a.jsonl")).await.unwrap();
    let second = client.upload_file(upload("b.jsonl")).await.unwrap();
    client.delete_file(first.id.clone()).await.unwrap();
    let third = client.upload_file(upload("c.jsonl")).await.unwrap();
    assert_eq!(
        [first.id.as_str(), second.id.as_str(), third.id.as_str()],
        ["file-fake-1", "file-fake-2", "file-fake-3"]
    );
}
