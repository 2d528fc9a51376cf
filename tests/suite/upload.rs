//! Uploads: the multipart form as the client sends it, and bad input refused before sending.

use cerebras_batch::ErrorKind;
use cerebras_batch::UploadFile;
use cerebras_batch::types;
use cerebras_batch_tests::TEST_KEY;
use cerebras_batch_tests::request_count;
use cerebras_batch_tests::test_client;
use cerebras_batch_tests::twelve_requests;
use std::sync::Arc;
use std::sync::Mutex;
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
async fn a_slow_but_steady_upload_outlives_the_timeout() {
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

/// A server on 127.0.0.1 that accepts one connection and then `reads` (everything it is sent)
/// or not, and never answers.
async fn silent_server(reads: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if reads {
                use tokio::io::AsyncReadExt;
                if matches!(socket.read(&mut buf).await, Ok(0) | Err(_)) {
                    return;
                }
            } else {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            }
        }
    });
    base
}

#[tokio::test]
async fn an_upload_the_server_stops_taking_or_never_answers_times_out() {
    for reads in [false, true] {
        let base = silent_server(reads).await;
        let client = cerebras_batch_tests::test_client_builder(&base, 2)
            .timeout(std::time::Duration::from_millis(300))
            .build()
            .unwrap();
        // 64 MiB: more than loopback's socket buffers hold, so a server that does not read
        // stops the body.
        let size = 64 << 20;
        let reader = tokio::io::repeat(b'x').take(size);
        let started = std::time::Instant::now();
        let err = client
            .upload_file(UploadFile::from_reader(reader, "big.jsonl", Some(size)))
            .await
            .expect_err("nothing answers");
        assert_eq!(err.kind(), ErrorKind::Timeout, "reads={reads}: {err}");
        assert!(err.to_string().contains("no progress"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "reads={reads}");
    }
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
