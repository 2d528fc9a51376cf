//! Logs: each attempt's span carries the operation, method, path, status and attempt, and never the
//! key.

use cerebras_batch_tests::batch_response;
use cerebras_batch_tests::respond_in_sequence;
use cerebras_batch_tests::test_client;
use wiremock::MockServer;
use wiremock::ResponseTemplate;

/// The client's `tracing` output, captured process-wide (thread-local subscribers race with the
/// callsite cache when tests run in parallel). Only the `cerebras_batch` target is kept.
pub(crate) fn captured_log() -> &'static std::sync::Mutex<Vec<u8>> {
    use std::sync::{Mutex, OnceLock};
    use tracing_subscriber::layer::SubscriberExt;
    static LOG: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        struct Writer(&'static Mutex<Vec<u8>>);
        impl std::io::Write for Writer {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let layer = tracing_subscriber::fmt::layer()
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(move || Writer(log));
        let filter = tracing_subscriber::filter::Targets::new().with_target("cerebras_batch", tracing::Level::DEBUG);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer).with(filter))
            .expect("no other global subscriber in this test binary");
        log
    })
}

#[tokio::test]
async fn spans_carry_operation_method_path_status_attempt_and_no_secret() {
    let log = captured_log();
    let server = MockServer::start().await;
    respond_in_sequence(&server, ResponseTemplate::new(503), 1, batch_response("in_progress")).await;
    test_client(&server.uri(), 2)
        .retrieve_batch("batch_tracing_probe")
        .await
        .expect("recovers");

    let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let spans: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("cerebras_batch.request{") && l.contains("batch_tracing_probe") && l.contains("close"))
        .collect();
    assert_eq!(spans.len(), 2, "{log}");
    for (i, status) in [(1, 503), (2, 200)] {
        let span = spans[i - 1];
        for field in [
            "operation=\"retrieve_batch\"".to_owned(),
            "method=GET".to_owned(),
            "path=/v1/batches/batch_tracing_probe".to_owned(),
            format!("attempt={i}"),
            format!("status={status}"),
            "duration_ms=".to_owned(),
        ] {
            assert!(span.contains(&field), "{field} missing from {span}");
        }
    }
    assert!(
        log.lines()
            .any(|l| l.contains("batch_tracing_probe") && l.contains("retrying")),
        "{log}"
    );
    assert!(
        !log.contains("sk-fault-test"),
        "the API key leaked into the logs: {log}"
    );
}
