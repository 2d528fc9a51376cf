//! Test doubles on 127.0.0.1 for the TLS, proxy and upload tests: a throwaway certificate
//! authority, an HTTPS server, an HTTP proxy (that tunnels, refuses or talks nonsense), and
//! raw HTTP/1.1 servers that read a request in the ways real servers do (slowly, not at all,
//! or not past its head). Each counts what it saw, so that tests can count attempts on the
//! server's side.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A throwaway certificate authority and a server certificate it signed for `127.0.0.1`.
pub struct Pki {
    /// The CA's certificate (PEM): what `SSL_CERT_FILE` names to trust the server.
    pub ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

/// A new CA and server certificate, made for one test and trusted by nothing else.
pub fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "cerebras-batch throwaway test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

/// An HTTP/1.1 answer `200` with a batch whose id is `id`, closing the connection.
pub fn batch_answer(id: &str) -> String {
    let body = serde_json::to_string(&cerebras_batch_tests::batch_json(
        id,
        "in_progress",
        serde_json::json!({}),
    ))
    .unwrap();
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Reads a request's head (through the blank line); `None` when the peer closed first.
pub async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// The value of a header in a request head.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// An HTTPS server on 127.0.0.1 with `pki`'s certificate that answers every request with
/// `answer`; the counter is the connections it accepted (each one a handshake tried).
pub async fn https_server(pki: &Pki, answer: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let (counter, acceptor) = (accepted.clone(), tokio_rustls::TlsAcceptor::from(pki.server.clone()));
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let (acceptor, answer) = (acceptor.clone(), answer.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                if read_head(&mut tls).await.is_some() {
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    (base, accepted)
}

/// How a [`proxy`] answers.
#[derive(Clone, Copy)]
pub enum ProxyAnswer {
    /// `CONNECT` opens a tunnel to its target; any other request (an `http://` URL in
    /// absolute form) is answered by the proxy itself with a batch whose id is `proxied`.
    Tunnel,
    /// Every request gets this status line (`HTTP/1.1 403 Forbidden`), then the connection
    /// closes.
    Refuse(&'static str),
    /// Every request gets a line that is not HTTP (an SSH greeting).
    Nonsense,
}

/// An HTTP proxy on 127.0.0.1; `seen` holds the first line of each request it received.
pub struct Proxy {
    pub url: String,
    pub seen: Arc<Mutex<Vec<String>>>,
}

pub async fn proxy(answer: ProxyAnswer) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let Some(head) = read_head(&mut socket).await else {
                    return;
                };
                let line = head.lines().next().unwrap_or_default().to_owned();
                log.lock().unwrap().push(line.clone());
                match (answer, line.split(' ').collect::<Vec<_>>().as_slice()) {
                    (ProxyAnswer::Tunnel, ["CONNECT", target, ..]) => {
                        let Ok(mut upstream) = TcpStream::connect(*target).await else {
                            let _ = socket.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                            return;
                        };
                        let _ = socket.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                        let _ = tokio::io::copy_bidirectional(&mut socket, &mut upstream).await;
                    }
                    (ProxyAnswer::Tunnel, _) => {
                        let _ = socket.write_all(batch_answer("proxied").as_bytes()).await;
                    }
                    (ProxyAnswer::Refuse(status), _) => {
                        let _ = socket
                            .write_all(format!("{status}\r\ncontent-length: 0\r\n\r\n").as_bytes())
                            .await;
                    }
                    (ProxyAnswer::Nonsense, _) => {
                        let _ = socket.write_all(b"SSH-2.0-OpenSSH_9.6\r\n").await;
                    }
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    Proxy { url, seen }
}

/// A server on 127.0.0.1 that answers every request with `answer` (any bytes), counting the
/// connections it accepted.
pub async fn raw_server(answer: &'static [u8]) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if read_head(&mut socket).await.is_some() {
                    let _ = socket.write_all(answer).await;
                    let _ = socket.shutdown().await;
                }
            });
        }
    });
    (base, accepted)
}

/// How an [`upload_server`] reads a request's body.
#[derive(Clone, Copy, Debug)]
pub enum Reading {
    /// `rate` bytes per second, in 20 ms steps, then a `200` with a file.
    Steady { rate: u64 },
    /// `bytes` of the body, then nothing more; never answers.
    StopsAfter { bytes: u64 },
    /// The whole body as fast as it comes; never answers.
    AllThenSilent,
}

/// An upload server on 127.0.0.1 for one request; the counter is the body bytes it read.
pub async fn upload_server(reading: Reading) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let read = Arc::new(AtomicU64::new(0));
    let counter = read.clone();
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let Some(head) = read_head(&mut socket).await else {
            return;
        };
        let length: u64 = header(&head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        let step = Duration::from_millis(20);
        let mut next = tokio::time::Instant::now();
        while total < length {
            let want = match reading {
                Reading::Steady { rate } => {
                    next += step;
                    tokio::time::sleep_until(next).await;
                    (rate / 50).min(length - total)
                }
                Reading::StopsAfter { bytes } if total >= bytes => {
                    tokio::time::sleep(Duration::from_secs(600)).await;
                    return;
                }
                Reading::StopsAfter { bytes } => bytes - total,
                Reading::AllThenSilent => length - total,
            };
            let mut step_read = 0;
            while step_read < want {
                let room = (want - step_read).min(buf.len() as u64) as usize;
                match socket.read(&mut buf[..room]).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => step_read += n as u64,
                }
            }
            total += step_read;
            counter.store(total, Ordering::SeqCst);
        }
        if let Reading::Steady { .. } = reading {
            let body = r#"{"id":"file-steady","object":"file","purpose":"batch"}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
        tokio::time::sleep(Duration::from_secs(600)).await;
    });
    (base, read)
}
