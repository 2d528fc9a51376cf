//! [`Client`]: configuration and auth: the settings every request shares, and the reqwest
//! clients the call path (`transport/execute.rs`) sends through.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

use crate::error::{Error, ErrorKind, Result};
use crate::transport::retry::Policy;

/// The API's base URL. Every path carries `/v1`; this URL does not.
pub const DEFAULT_BASE_URL: &str = "https://api.cerebras.ai";
/// The timeout of an attempt, 60 s (as the vendor's SDKs): a JSON call's whole answer must
/// arrive within it; a download must not wait longer than it for its next bytes; an upload
/// fails when the server takes none of the body, or sends no answer, for that long (a slow
/// but steady transfer never times out). See [`ClientBuilder::timeout`] for the exact rules.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed to connect, as in the vendor's SDKs: 5 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Retries after a failed first attempt, as in the vendor's SDKs.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// A client of the Cerebras Batch and Files APIs.
///
/// Cheap to clone; clones share connections. The operations are its methods: the generated
/// ones (`cancel_batch`, `retrieve_batch`, `list_batches`, `create_batch`, ...), each
/// returning a request builder from [`crate::builder`] that you `.await` (or `.send().await`),
/// and the hand-written ones (`upload_file`, `wait_for_batch`, `cancel_and_wait`). Its `Debug`
/// output never shows the API key.
///
/// ```no_run
/// # async fn run() -> cerebras_batch::Result<()> {
/// let client = cerebras_batch::Client::from_env()?;
/// let batch = client.cancel_batch("batch_abc123").await?;
/// println!("{} is {}", batch.id, batch.status_text());
/// let page = client.list_files().limit(50).await?; // optional parameters are setters
/// println!("{} files", page.data.map_or(0, |d| d.len()));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    /// For JSON calls: its timeout bounds each attempt whole (one timer per attempt).
    http: reqwest::Client,
    /// For uploads and downloads: built on the first transfer (a reqwest client costs about
    /// 3 ms to build, 20 ms in a debug build), shared by clones.
    transfers: Arc<Transfers>,
    settings: Arc<Settings>,
    base_url: Arc<str>,
}

/// Settings every request of a client shares.
pub(crate) struct Settings {
    /// The API key, kept only to redact it from errors.
    pub(crate) api_key: Box<str>,
    /// `Authorization: Bearer …`, marked sensitive.
    pub(crate) authorization: HeaderValue,
    /// User agent and custom headers, added to every request.
    pub(crate) headers: HeaderMap,
    /// When and how often a failed attempt is tried again.
    pub(crate) retry: Policy,
}

/// The reqwest clients for transfers, or what it takes to build them.
struct Transfers {
    /// For downloads (and raw request bodies): reqwest's per-read timeout.
    stream: OnceLock<reqwest::Client>,
    /// For uploads: no reqwest timeout (reqwest's per-read timeout would count the time spent
    /// sending the body); `upload.rs` stops an upload that makes no progress for `timeout`.
    upload: OnceLock<reqwest::Client>,
    timeout: Duration,
    connect_timeout: Duration,
    /// Whether the timeouts are ours (not those of a client given to `http_client`).
    own: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("api_key", &"[redacted]")
            .field("max_retries", &self.settings.retry.max_retries)
            .finish()
    }
}

impl Client {
    /// A client for [`DEFAULT_BASE_URL`] with this API key and the default settings.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when the key is empty or not a valid header value.
    pub fn new(api_key: impl Into<String>) -> Result<Self> {
        Self::builder().api_key(api_key).build()
    }

    /// A client configured from the environment, as the vendor's SDKs are:
    ///
    /// - `CEREBRAS_API_KEY` (required): the API key.
    /// - `CEREBRAS_BASE_URL` (optional): the base URL, default [`DEFAULT_BASE_URL`].
    /// - `CEREBRAS_CUSTOM_HEADERS` (optional): extra headers, one `Name: value` per line.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when `CEREBRAS_API_KEY` is missing or empty, or a variable is
    /// invalid.
    pub fn from_env() -> Result<Self> {
        Self::builder().from_env()?.build()
    }

    /// A [`ClientBuilder`] with the default settings and no API key.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The normalised base URL, without a trailing slash or `/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The settings every request shares.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The reqwest client for calls answered in JSON.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The reqwest client for downloads (and raw request bodies), built on first use.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when reqwest cannot build it (as [`ClientBuilder::build`] would
    /// have failed for the JSON client, with the same settings).
    pub(crate) fn http_stream(&self) -> Result<&reqwest::Client> {
        self.lazy(&self.transfers.stream, reqwest::ClientBuilder::read_timeout)
    }

    /// The reqwest client for uploads, built on first use, and the idle timeout its caller
    /// must apply (`None` with a client given to [`ClientBuilder::http_client`]).
    ///
    /// # Errors
    ///
    /// As [`http_stream`](Self::http_stream).
    pub(crate) fn http_upload(&self) -> Result<(&reqwest::Client, Option<Duration>)> {
        let http = self.lazy(&self.transfers.upload, upload_timeouts)?;
        Ok((http, self.transfers.own.then_some(self.transfers.timeout)))
    }

    fn lazy<'a>(
        &'a self,
        cell: &'a OnceLock<reqwest::Client>,
        set_timeout: fn(reqwest::ClientBuilder, Duration) -> reqwest::ClientBuilder,
    ) -> Result<&'a reqwest::Client> {
        if let Some(http) = cell.get() {
            return Ok(http);
        }
        let http = http_client(set_timeout, self.transfers.timeout, self.transfers.connect_timeout)?;
        // Two tasks may build one each at first; the first stored is kept.
        Ok(cell.get_or_init(|| http))
    }
}

/// Builds a [`Client`]. Every setting has the vendor SDKs' default.
#[derive(Default)]
pub struct ClientBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    /// The variable the base URL came from, for errors.
    base_url_from: Option<&'static str>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    max_retries: Option<u32>,
    retry_delays: Option<(Duration, Duration)>,
    user_agent: Option<String>,
    headers: HeaderMap,
    http_client: Option<reqwest::Client>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A base URL may (wrongly) carry credentials: show it only once normalised.
        let base_url = self
            .base_url
            .as_deref()
            .map(|u| normalize_base_url(u).unwrap_or_else(|_| "[invalid]".into()));
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("base_url", &base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ClientBuilder {
    /// The API key, sent as `Authorization: Bearer <key>`.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The base URL, default [`DEFAULT_BASE_URL`]. A trailing `/` and a trailing `/v1` are
    /// removed (every path already carries `/v1`), so `https://api.cerebras.ai/v1/` works too.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self.base_url_from = None;
        self
    }

    /// The timeout of each attempt, default [`DEFAULT_TIMEOUT`].
    ///
    /// - **A call answered in JSON** (every operation but uploads and downloads): the whole
    ///   answer must arrive within it, counted from sending.
    /// - **A download**: the longest wait for the server to send anything: the response, then
    ///   each next part of the body.
    /// - **An upload** ([`Client::upload_file`]), while the body is sent: the longest time the
    ///   server may take none of it. On Linux and Android the operating system counts: the
    ///   client for uploads sets TCP's user timeout (`TCP_USER_TIMEOUT`) to this value, and the
    ///   connection fails when bytes sent stay unacknowledged by the server, or its receive
    ///   window stays closed, for longer. Bytes waiting in the client's own buffers count
    ///   neither as progress nor as its absence, so a server that reads at any steady pace is
    ///   never cut off, and one that stops reading is, after about this long. Elsewhere
    ///   (macOS, Windows) the client counts: the connection must take more of the body within
    ///   this long plus the drain allowance below (it takes the body in steps, as the kernel's
    ///   send buffer empties).
    /// - **An upload, once the connection has taken the whole body**: the longest wait for the
    ///   answer, plus a drain allowance. When the client hands over the last byte, the
    ///   connection may still hold megabytes the server has not read: hyper's write buffer
    ///   (about 400 KB) and the kernel's send buffer, which Linux grows up to the third value
    ///   of `net.ipv4.tcp_wmem` (4 MiB by default; on loopback it fills). The allowance is the
    ///   time that end of the body takes at [`MIN_DRAIN_PACE`] (64 KiB/s): the body's size,
    ///   at most the kernel's largest send buffer plus 1 MiB, divided by that pace (at most
    ///   80 s by default). So the server must take the end of the body at 64 KiB/s or faster
    ///   and answer within this timeout of that; a server that takes the body and never
    ///   answers is caught after this timeout plus the allowance. (The client cannot see when
    ///   the server's TCP has acknowledged the last byte; this is the bound it can keep.)
    ///
    /// An attempt that times out is an [`ErrorKind::Timeout`], retried as the retry rules
    /// say (an upload is never retried). Ignored with [`http_client`](Self::http_client).
    ///
    /// [`MIN_DRAIN_PACE`]: crate::MIN_DRAIN_PACE
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The time allowed to connect, default [`DEFAULT_CONNECT_TIMEOUT`]. Ignored with
    /// [`http_client`](Self::http_client).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Retries after a failed first attempt, default [`DEFAULT_MAX_RETRIES`]; 0 disables them.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = Some(max_retries);
        self
    }

    /// The backoff's first delay and cap, default 0.5 s and 8 s.
    pub fn retry_delays(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_delays = Some((initial, max));
        self
    }

    /// The `User-Agent`, default `cerebras-batch/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// An extra header for every request (for example `X-Cerebras-3rd-Party-Integration`). It
    /// replaces a default header of the same name; a name may repeat, and every value is sent.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when the name or value is not a valid header (a value with a line
    /// break included), or the header frames or routes the request (`Host`, `Content-Length`,
    /// `Transfer-Encoding`, `Connection`, ...) or describes its body (`Content-Type`, set by
    /// each request).
    pub fn header(mut self, name: &str, value: &str) -> Result<Self> {
        let (name, value) = crate::headers::custom_header(name, value)
            .map_err(|why| Error::new(ErrorKind::Config, format!("custom header: {why}")))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Your own `reqwest::Client` (proxies, TLS roots, pools). Its timeouts apply instead of
    /// this builder's (an upload's clock and `TCP_USER_TIMEOUT` included), and its proxies
    /// and trusted certificates are its own: the environment is read as it was built.
    ///
    /// Without it, the client's reqwest clients read the environment when they are built (the
    /// one for JSON calls by [`build`](Self::build); the one for uploads and downloads on the
    /// first transfer): `HTTPS_PROXY` / `https_proxy` for `https://` URLs, `HTTP_PROXY` /
    /// `http_proxy` for `http://` ones, `ALL_PROXY` / `all_proxy` for both (upper case
    /// first, unlike curl), `NO_PROXY` / `no_proxy` (a list of hosts, domains, IP addresses
    /// and networks to reach directly; `*` alone reaches every host directly, IP addresses
    /// included, which the client arranges itself), and, with the default rustls features,
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR`, which replace the system's trusted certificates.
    /// Proxies are ignored when `REQUEST_METHOD` is set (a CGI program: httpoxy). See the
    /// README's configuration section.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Applies `CEREBRAS_API_KEY`, `CEREBRAS_BASE_URL` and `CEREBRAS_CUSTOM_HEADERS` (see
    /// [`Client::from_env`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when `CEREBRAS_API_KEY` is missing or a variable is invalid.
    pub fn from_env(self) -> Result<Self> {
        // A value that is not UTF-8 is an error, never "unset" (which would fall back to the
        // default base URL, or say the key is missing when it is there).
        for name in ["CEREBRAS_API_KEY", "CEREBRAS_BASE_URL", "CEREBRAS_CUSTOM_HEADERS"] {
            if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(name) {
                return Err(Error::new(ErrorKind::Config, format!("{name} is not valid UTF-8")));
            }
        }
        // Checked above: `.ok()` is `None` only for a variable that is not set.
        self.from_vars(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading each variable through `var` (for a `.env`
    /// map, or for tests). Empty values count as unset.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when `CEREBRAS_API_KEY` is missing or a variable is invalid.
    pub fn from_vars(mut self, var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        self.api_key = Some(var("CEREBRAS_API_KEY").ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "CEREBRAS_API_KEY is not set: export your Cerebras API key, or pass one with Client::builder().api_key(..)",
            )
        })?);
        if let Some(url) = var("CEREBRAS_BASE_URL") {
            self.base_url = Some(url);
            self.base_url_from = Some("CEREBRAS_BASE_URL");
        }
        if let Some(lines) = var("CEREBRAS_CUSTOM_HEADERS") {
            self.headers
                .extend(crate::headers::parse_header_lines("CEREBRAS_CUSTOM_HEADERS", &lines)?);
        }
        Ok(self)
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when no API key was given, or the key, base URL or user agent is
    /// invalid.
    pub fn build(self) -> Result<Client> {
        let key = self.api_key.filter(|k| !k.trim().is_empty()).ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "no API key: set one with .api_key(..) or CEREBRAS_API_KEY",
            )
        })?;
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", key.trim())).map_err(|_| {
            Error::new(
                ErrorKind::Config,
                "the API key contains characters not allowed in an HTTP header",
            )
        })?;
        authorization.set_sensitive(true);
        let base_url =
            normalize_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL)).map_err(|e| {
                match self.base_url_from {
                    Some(variable) => Error::new(ErrorKind::Config, format!("{variable}: {}", e.message())),
                    None => e,
                }
            })?;

        let mut headers = HeaderMap::new();
        let agent = self
            .user_agent
            .unwrap_or_else(|| concat!("cerebras-batch/", env!("CARGO_PKG_VERSION")).to_owned());
        headers.insert(
            reqwest::header::USER_AGENT,
            HeaderValue::from_str(&agent).map_err(|_| Error::new(ErrorKind::Config, "invalid user agent"))?,
        );
        headers.extend(self.headers);

        let (initial_retry_delay, max_retry_delay) = self
            .retry_delays
            .unwrap_or((Duration::from_millis(500), Duration::from_secs(8)));
        let settings = Arc::new(Settings {
            api_key: key.trim().into(),
            authorization,
            headers,
            retry: Policy {
                max_retries: self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
                initial_delay: initial_retry_delay,
                max_delay: max_retry_delay,
            },
        });
        // Two reqwest clients, alike but for their timeout: a total one for JSON calls (one
        // timer per attempt; reqwest's per-read timeout arms a timer for the response and
        // again for the body) and a per-read one for streamed bodies, whose length has no
        // bound, built on the first transfer (with a third, for uploads).
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let connect_timeout = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let mut transfers = Transfers {
            stream: OnceLock::new(),
            upload: OnceLock::new(),
            timeout,
            connect_timeout,
            own: self.http_client.is_none(),
        };
        let http = match self.http_client {
            Some(c) => {
                transfers.stream = c.clone().into();
                transfers.upload = c.clone().into();
                c
            }
            None => http_client(reqwest::ClientBuilder::timeout, timeout, connect_timeout)?,
        };
        Ok(Client {
            http,
            transfers: Arc::new(transfers),
            settings,
            base_url: base_url.into(),
        })
    }
}

/// The timeouts of the client for uploads: none of reqwest's (its per-read timer would count
/// the whole time spent sending the body; `upload.rs` keeps the upload's clock) and, where the
/// kernel can count the body's progress, TCP's user timeout: the connection fails when bytes
/// sent stay unacknowledged, or the server's receive window stays closed, for `timeout`.
fn upload_timeouts(builder: reqwest::ClientBuilder, timeout: Duration) -> reqwest::ClientBuilder {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
    return builder.tcp_user_timeout(timeout);
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "fuchsia")))]
    {
        let _ = timeout;
        builder
    }
}

/// A reqwest client with the given timeout setting (`timeout` or `read_timeout`), never
/// following redirects.
///
/// # Errors
///
/// [`ErrorKind::Config`] when reqwest cannot build it.
fn http_client(
    set_timeout: fn(reqwest::ClientBuilder, Duration) -> reqwest::ClientBuilder,
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<reqwest::Client> {
    install_crypto_provider();
    let builder = set_timeout(reqwest::Client::builder(), timeout)
        // The API never redirects; following one could send a request (a POST, custom headers)
        // to another server.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout);
    let builder = if no_proxy_for_any_host() {
        builder.no_proxy()
    } else {
        builder
    };
    builder.build().map_err(|e| {
        // reqwest says "builder error"; its cause says what (no certificate to trust, ...).
        let why = std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ");
        Error::new(ErrorKind::Config, format!("could not build the HTTP client: {why}")).with_source(e)
    })
}

/// Whether `NO_PROXY` (or, when it is unset, `no_proxy`) is `*`: no proxy for any host, as curl
/// reads it. reqwest (through hyper-util's matcher, which reads the variables in that order)
/// applies `*` to host names only, so a base URL with an IP address would still go through
/// the proxy (<https://github.com/seanmonstar/reqwest/issues/2579>); the client turns proxies
/// off instead. Other lists are left to reqwest.
fn no_proxy_for_any_host() -> bool {
    std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .is_ok_and(|list| list.trim() == "*")
}

/// With the `rustls` feature, makes ring the process's default rustls crypto provider, unless one
/// is installed already (by the application, or by an earlier client): reqwest's rustls without
/// a built-in provider needs one.
fn install_crypto_provider() {
    #[cfg(feature = "rustls")]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is fine: one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Normalises a base URL: `http` or `https`, no credentials, query or fragment, and without a
/// trailing `/` or `/v1` (every path of the spec starts with `/v1`).
///
/// # Errors
///
/// [`ErrorKind::Config`] naming the problem (never echoing credentials).
pub fn normalize_base_url(input: &str) -> Result<String> {
    let input = input.trim();
    // The URL is echoed only when it cannot hold credentials.
    let shown = if input.contains('@') {
        "the URL".to_owned()
    } else {
        format!("`{input}`")
    };
    let bad = |what: &str| Error::new(ErrorKind::Config, format!("invalid base URL {shown}: {what}"));
    if input.is_empty() {
        return Err(Error::new(ErrorKind::Config, "invalid base URL: it is empty"));
    }
    let url = match reqwest::Url::parse(input) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            let local = input.starts_with("127.") || input.starts_with("localhost") || input.starts_with("[::1]");
            let scheme = if local { "http" } else { "https" };
            return Err(bad(&format!("it has no scheme; write `{scheme}://{input}`")));
        }
        Err(e) => return Err(bad(&e.to_string())),
    };
    if !matches!(url.scheme(), "http" | "https") {
        // A host and port whose host starts with a letter (`localhost:7070`) parse as a scheme.
        if url.cannot_be_a_base()
            && input
                .split_once(':')
                .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
        {
            return Err(bad(&format!("it has no scheme; write `http://{input}`")));
        }
        return Err(bad(&format!("the scheme `{}` is not http or https", url.scheme())));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it must not contain credentials; pass the API key separately"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    let host = url.host_str().ok_or_else(|| bad("it has no host"))?;
    let mut path = url.path().trim_end_matches('/');
    if let Some(stripped) = path.strip_suffix("/v1") {
        path = stripped.trim_end_matches('/');
    }
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    Ok(format!("{}://{host}{port}{path}", url.scheme()))
}
