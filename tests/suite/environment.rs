//! The environment variables the client honours for proxies and trusted certificates
//! (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, their lower-case forms,
//! `SSL_CERT_FILE`, `SSL_CERT_DIR`, and `REQUEST_METHOD`, which turns proxies off). reqwest
//! reads them when a client is built, so each case runs in a child process of this test binary
//! (the ignored test `child`) with its own environment, against servers and a proxy on
//! 127.0.0.1 that say who answered: the server (`direct`, `direct-tls`) or the proxy
//! (`proxied`).

use std::time::Duration;

use cerebras_batch::Client;
use cerebras_batch_tests::TEST_KEY;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

use crate::doubles;

/// The base URL the child's client uses.
const CHILD_BASE: &str = "CEREBRAS_BATCH_TEST_CHILD_BASE";

/// Every variable that changes how the client connects: removed from each child's
/// environment (this machine's own included), then set as the case says.
const VARIABLES: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUEST_METHOD",
];

/// In a child process (see the module's docs): builds a client for the base URL it is given,
/// retrieves batch `b1` through the JSON client and downloads file `f1` through the client for
/// transfers (built later), and prints `child outcome: ok <batch id> <downloaded batch id>`,
/// `child outcome: error <kind>: <message>` or `child outcome: build error: <message>`.
#[test]
#[ignore = "run in a child process, with its own environment, by the other tests of this file"]
fn child() {
    let Ok(base) = std::env::var(CHILD_BASE) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let built = Client::builder()
        .api_key(TEST_KEY)
        .base_url(base)
        .max_retries(0)
        .timeout(Duration::from_secs(5))
        .build();
    let outcome = match built {
        Err(e) => Ok(format!("build error: {}", e.message())),
        Ok(client) => runtime.block_on(async {
            let batch = client.retrieve_batch("b1").await?;
            let file = client.retrieve_file_content("f1").await?.bytes().await?;
            let file: cerebras_batch::types::Batch = serde_json::from_slice(&file).expect("a batch");
            Ok::<_, cerebras_batch::Error>(format!("ok {} {}", batch.id, file.id))
        }),
    }
    .unwrap_or_else(|e| format!("error {:?}: {}", e.kind(), e.message()));
    println!("child outcome: {outcome}");
}

/// Runs [`child`] in a new process of this test binary, against `base`, with `vars`;
/// returns what it printed after `child outcome: `.
async fn in_child(base: &str, vars: &[(&str, &str)]) -> String {
    let mut command = tokio::process::Command::new(std::env::current_exe().unwrap());
    command.args([
        "--exact",
        "environment::child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for name in VARIABLES {
        command.env_remove(name);
    }
    command.env(CHILD_BASE, base).envs(vars.iter().copied());
    let output = command.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| Some(line.split_once("child outcome: ")?.1))
        .unwrap_or_else(|| {
            panic!(
                "the child printed no outcome ({vars:?}): {stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
        .to_owned()
}

/// A plain-HTTP API on 127.0.0.1 that answers every request with batch `direct`.
async fn direct_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(cerebras_batch_tests::batch_json(
                "direct",
                "in_progress",
                serde_json::json!({}),
            )),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_variables_choose_who_carries_a_request() {
    let server = direct_server().await;
    let base = server.uri();
    let host = base.trim_start_matches("http://").to_owned();
    let proxy = doubles::proxy(doubles::ProxyAnswer::Tunnel).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let closed = format!("http://{closed}");
    let p = proxy.url.as_str();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "ok direct direct"),
        (&[("HTTP_PROXY", p)], "ok proxied proxied"),
        (&[("http_proxy", p)], "ok proxied proxied"),
        (&[("ALL_PROXY", p)], "ok proxied proxied"),
        (&[("all_proxy", p)], "ok proxied proxied"),
        // The upper-case form wins (curl reads only the lower-case `http_proxy`).
        (&[("HTTP_PROXY", p), ("http_proxy", &closed)], "ok proxied proxied"),
        // A proxy for https:// URLs leaves http:// ones alone.
        (&[("HTTPS_PROXY", p), ("https_proxy", p)], "ok direct direct"),
        (&[("HTTP_PROXY", p), ("NO_PROXY", "127.0.0.1")], "ok direct direct"),
        (&[("HTTP_PROXY", p), ("no_proxy", "127.0.0.0/8")], "ok direct direct"),
        (
            &[("HTTP_PROXY", p), ("NO_PROXY", "localhost, .example.com")],
            "ok proxied proxied",
        ),
        // `*` alone: every host directly, an IP address too (reqwest alone would proxy it).
        (&[("HTTP_PROXY", p), ("NO_PROXY", "*")], "ok direct direct"),
        (&[("ALL_PROXY", p), ("no_proxy", " * ")], "ok direct direct"),
        // NO_PROXY set (even empty) hides no_proxy, as reqwest reads them.
        (
            &[("HTTP_PROXY", p), ("NO_PROXY", ""), ("no_proxy", "*")],
            "ok proxied proxied",
        ),
        // A CGI program (httpoxy): proxies are ignored.
        (&[("HTTP_PROXY", p), ("REQUEST_METHOD", "GET")], "ok direct direct"),
    ];
    let mut proxied_requests = 0;
    for (vars, expected) in cases {
        assert_eq!(in_child(&base, vars).await, *expected, "{vars:?}");
        if expected.contains("proxied") {
            proxied_requests += 2;
        }
    }
    let seen = proxy.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), proxied_requests, "{seen:?}");
    assert!(
        seen.iter()
            .all(|line| line == &format!("GET http://{host}/v1/batches/b1 HTTP/1.1")
                || line == &format!("GET http://{host}/v1/files/f1/content HTTP/1.1")),
        "an http:// request reaches the proxy in absolute form: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_variables_choose_what_the_client_trusts() {
    let pki = doubles::pki();
    let (base, handshakes) = doubles::https_server(&pki, doubles::batch_answer("direct-tls")).await;
    let dir = std::env::temp_dir().join(format!("cerebras-batch-trust-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    std::fs::write(dir.join("certs/ca.pem"), &pki.ca_pem).unwrap();
    let (ca_file, ca_dir) = (ca_file.to_str().unwrap(), dir.join("certs"));
    let ca_dir = ca_dir.to_str().unwrap();
    let missing = dir.join("missing.pem");
    let missing = missing.to_str().unwrap();
    let untrusted = "error Connection: the TLS handshake failed (error sending request for url";

    assert_eq!(
        in_child(&base, &[("SSL_CERT_FILE", ca_file)]).await,
        "ok direct-tls direct-tls"
    );
    assert_eq!(
        in_child(&base, &[("SSL_CERT_DIR", ca_dir)]).await,
        "ok direct-tls direct-tls"
    );
    // Either variable replaces the system's certificates: the CA's alone is trusted.
    assert_eq!(
        in_child(&base, &[("SSL_CERT_FILE", ca_file), ("SSL_CERT_DIR", "/nonexistent")]).await,
        "ok direct-tls direct-tls"
    );
    // Without them, the system's store, which does not hold the throwaway CA.
    let outcome = in_child(&base, &[]).await;
    assert!(outcome.starts_with(untrusted), "{outcome}");
    assert!(outcome.contains("UnknownIssuer"), "{outcome}");
    assert!(
        outcome.contains("point SSL_CERT_FILE or SSL_CERT_DIR at it (not retried)"),
        "{outcome}"
    );
    // A file that holds no certificate leaves nothing to trust: the client cannot be built.
    let outcome = in_child(&base, &[("SSL_CERT_FILE", missing)]).await;
    assert!(
        outcome.starts_with("build error: could not build the HTTP client"),
        "{outcome}"
    );
    assert!(outcome.contains("No CA certificates were loaded"), "{outcome}");
    assert_eq!(
        handshakes.load(std::sync::atomic::Ordering::SeqCst),
        3 * 2 + 1,
        "two handshakes per trusting child, one for the untrusting one"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_proxy_tunnels_to_the_server_it_is_asked_for() {
    let pki = doubles::pki();
    let (base, _) = doubles::https_server(&pki, doubles::batch_answer("direct-tls")).await;
    let target = base.trim_start_matches("https://").to_owned();
    let proxy = doubles::proxy(doubles::ProxyAnswer::Tunnel).await;
    let ca_file = std::env::temp_dir().join(format!("cerebras-batch-proxy-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let (p, ca) = (proxy.url.as_str(), ca_file.to_str().unwrap());
    let cases: &[(&[(&str, &str)], usize)] = &[
        (&[("HTTPS_PROXY", p), ("SSL_CERT_FILE", ca)], 2),
        (&[("https_proxy", p), ("SSL_CERT_FILE", ca)], 2),
        (&[("ALL_PROXY", p), ("SSL_CERT_FILE", ca)], 2),
        // A proxy for http:// URLs leaves https:// ones alone.
        (&[("HTTP_PROXY", p), ("SSL_CERT_FILE", ca)], 0),
        (&[("HTTPS_PROXY", p), ("NO_PROXY", "*"), ("SSL_CERT_FILE", ca)], 0),
    ];
    for (vars, tunnels) in cases {
        let before = proxy.seen.lock().unwrap().len();
        // The TLS server answers for itself, through the tunnel or not.
        assert_eq!(in_child(&base, vars).await, "ok direct-tls direct-tls", "{vars:?}");
        let seen = proxy.seen.lock().unwrap()[before..].to_vec();
        assert_eq!(seen, vec![format!("CONNECT {target} HTTP/1.1"); *tunnels], "{vars:?}");
    }
    std::fs::remove_file(&ca_file).unwrap();
}

/// In a child process: `Client::from_env()` with the environment it was given; prints
/// `from_env outcome: ok <base URL>` or `from_env outcome: error <kind>: <message>`.
#[test]
#[ignore = "run in a child process, with its own environment, by the test below"]
fn from_env_child() {
    if std::env::var_os("CEREBRAS_BATCH_TEST_FROM_ENV").is_none() {
        return;
    }
    let outcome = match Client::from_env() {
        Ok(client) => format!("ok {}", client.base_url()),
        Err(e) => format!("error {:?}: {}", e.kind(), e.message()),
    };
    println!("from_env outcome: {outcome}");
}

/// A variable that is set but not UTF-8 is a configuration error naming it: never read as
/// unset, which would send the key to the default base URL instead of the one the user chose.
#[cfg(unix)]
#[tokio::test]
async fn a_variable_that_is_not_utf8_is_an_error_not_unset() {
    use std::os::unix::ffi::OsStringExt;
    let bad = std::ffi::OsString::from_vec(b"http://127.0.0.1:1/\xff".to_vec());
    let cases: [(&str, std::ffi::OsString, &str); 4] = [
        (
            "CEREBRAS_BASE_URL",
            bad.clone(),
            "error Config: CEREBRAS_BASE_URL is not valid UTF-8",
        ),
        (
            "CEREBRAS_API_KEY",
            bad.clone(),
            "error Config: CEREBRAS_API_KEY is not valid UTF-8",
        ),
        (
            "CEREBRAS_CUSTOM_HEADERS",
            bad,
            "error Config: CEREBRAS_CUSTOM_HEADERS is not valid UTF-8",
        ),
        (
            "CEREBRAS_BASE_URL",
            "http://127.0.0.1:9/v1".into(),
            "ok http://127.0.0.1:9",
        ),
    ];
    for (name, value, expected) in cases {
        let mut command = tokio::process::Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "environment::from_env_child", "--ignored", "--nocapture"])
            .env_remove("CEREBRAS_API_KEY")
            .env_remove("CEREBRAS_BASE_URL")
            .env_remove("CEREBRAS_CUSTOM_HEADERS")
            .env("CEREBRAS_BATCH_TEST_FROM_ENV", "1");
        if name != "CEREBRAS_API_KEY" {
            command.env("CEREBRAS_API_KEY", TEST_KEY);
        }
        command.env(name, value);
        let output = command.output().await.unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let outcome = stdout
            .lines()
            .find_map(|line| line.split_once("from_env outcome: ").map(|(_, o)| o.to_owned()))
            .unwrap_or_else(|| panic!("no outcome for {name}: {stdout}"));
        assert_eq!(outcome, expected, "{name}");
    }
}
