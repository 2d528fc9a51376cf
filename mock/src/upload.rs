//! The expectation for `upload_file`, written by hand as the client's multipart upload is: it
//! reads the multipart form the client sends.

use cerebras_batch::types;
use wiremock::{Match, Mock, Request, Respond};

use crate::Reply;
use crate::unmatched::{Explain, Mismatch, Registry, Stage, arguments};

/// Matches `POST /v1/files` (`upload_file`), a multipart form with `purpose`, optionally
/// `expires_after[anchor]` and `expires_after[seconds]`, then `file`. Every field given must
/// match; unset ones match anything.
///
/// Its mocks are named after it, as `upload_file(purpose = "batch", file_content = 3 bytes)`.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct UploadFile {
    purpose: Option<String>,
    filename: Option<String>,
    expires_after: Option<i64>,
    content: Option<Vec<u8>>,
    mock_api: Registry,
}

impl UploadFile {
    /// Any upload.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the mocks it builds in `api`'s registry (for `fail_on_unmatched`).
    pub(crate) fn with_mock_api(mut self, api: &crate::MockApi) -> Self {
        self.mock_api = api.registry();
        self
    }

    /// Only uploads with this `purpose` (the client sends `batch` by default).
    pub fn purpose(mut self, purpose: impl Into<types::FilePurpose>) -> Self {
        self.purpose = Some(purpose.into().as_str().to_owned());
        self
    }

    /// Only uploads of a file with this name.
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    /// Only uploads that expire this many seconds after creation (`expires_after[anchor]` is
    /// then `created_at`).
    pub fn expires_after(mut self, seconds: i64) -> Self {
        self.expires_after = Some(seconds);
        self
    }

    /// Only uploads of exactly these bytes.
    pub fn file_content(mut self, content: impl Into<Vec<u8>>) -> Self {
        self.content = Some(content.into());
        self
    }

    /// Answers with `reply`; mount the mock on a [`MockApi`](crate::MockApi).
    pub fn respond(self, reply: Reply<types::File>) -> Mock {
        self.respond_with(reply)
    }

    /// Answers with any responder.
    pub fn respond_with(mut self, responder: impl Respond + 'static) -> Mock {
        // The copies the mock and the registry keep do not point back at the registry.
        let registry = std::mem::take(&mut self.mock_api);
        let name = self.to_string();
        let mock = Mock::given(wiremock::matchers::method(METHOD))
            .and(wiremock::matchers::path(PATH))
            .and(self.clone())
            .respond_with(responder)
            .named(name);
        registry.add(self);
        mock
    }

    /// Every condition of the form `fields` fails, in order.
    fn form_mismatches(&self, fields: &[Field]) -> Vec<String> {
        let text = |name: &str| {
            fields
                .iter()
                .find(|f| f.name == name)
                .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        };
        let mut out = Vec::new();
        if let Some(want) = &self.purpose
            && text("purpose").as_ref() != Some(want)
        {
            out.push(format!(
                "form field purpose is {}, the mock expects {want:?}",
                quoted(text("purpose"))
            ));
        }
        let Some(file) = fields.iter().find(|f| f.name == "file") else {
            out.push("the form has no `file` field".to_owned());
            return out;
        };
        if let Some(want) = &self.filename
            && file.filename.as_ref() != Some(want)
        {
            out.push(format!(
                "the file name is {}, the mock expects {want:?}",
                quoted(file.filename.clone())
            ));
        }
        if let Some(seconds) = self.expires_after {
            let (anchor, sent) = (text("expires_after[anchor]"), text("expires_after[seconds]"));
            if anchor.as_deref() != Some("created_at") || sent != Some(seconds.to_string()) {
                out.push(format!(
                    "form fields expires_after[anchor] and expires_after[seconds] are {} and {}, the mock expects \"created_at\" and \"{seconds}\"",
                    quoted(anchor),
                    quoted(sent)
                ));
            }
        }
        if let Some(want) = &self.content
            && &file.bytes != want
        {
            out.push(format!(
                "the file's content differs: {} bytes, the mock expects {} bytes{}",
                file.bytes.len(),
                want.len(),
                if file.bytes.len() == want.len() {
                    " of other content"
                } else {
                    ""
                }
            ));
        }
        out
    }
}

const METHOD: &str = "POST";
const PATH: &str = "/v1/files";

/// A value as `"text"`, or `absent`.
fn quoted(value: Option<String>) -> String {
    value.map_or_else(|| "absent".to_owned(), |v| format!("{v:?}"))
}

impl std::fmt::Display for UploadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(p) = &self.purpose {
            parts.push(format!("purpose = {p:?}"));
        }
        if let Some(n) = &self.filename {
            parts.push(format!("filename = {n:?}"));
        }
        if let Some(s) = self.expires_after {
            parts.push(format!("expires_after = {s}"));
        }
        if let Some(c) = &self.content {
            parts.push(format!("file_content = {} bytes", c.len()));
        }
        write!(f, "upload_file{}", arguments(&parts))
    }
}

impl Explain for UploadFile {
    fn mismatches(&self, request: &Request) -> Vec<Mismatch> {
        let mut out = Vec::new();
        if !wiremock::matchers::method(METHOD).matches(request) {
            out.push((
                Stage::Method,
                format!("method is {}, the mock expects {METHOD}", request.method),
            ));
        }
        if !wiremock::matchers::path(PATH).matches(request) {
            out.push((Stage::Path, format!("path {} is not {PATH}", request.url.path())));
        }
        match fields(request) {
            None => out.push((Stage::Body, "the body is not a multipart form".to_owned())),
            Some(fields) => out.extend(self.form_mismatches(&fields).into_iter().map(|r| (Stage::Body, r))),
        }
        out.into_iter()
            .map(|(stage, reason)| Mismatch { stage, reason })
            .collect()
    }
}

/// One field of a multipart form: its name, file name and bytes.
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) filename: Option<String>,
    pub(crate) bytes: Vec<u8>,
}

/// The fields of a multipart request, or `None` when it is not one.
pub(crate) fn fields(request: &Request) -> Option<Vec<Field>> {
    let content_type = request.headers.get("content-type")?.to_str().ok()?;
    let boundary = multer::parse_boundary(content_type).ok()?;
    let body = bytes::Bytes::from(request.body.clone());
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    // The body is in memory: reading it never waits on I/O.
    futures::executor::block_on(async {
        let mut out = Vec::new();
        while let Some(field) = multipart.next_field().await.ok()? {
            let name = field.name().unwrap_or_default().to_owned();
            let filename = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.ok()?.to_vec();
            out.push(Field { name, filename, bytes });
        }
        Some(out)
    })
}

impl Match for UploadFile {
    fn matches(&self, request: &Request) -> bool {
        fields(request).is_some_and(|fields| self.form_mismatches(&fields).is_empty())
    }
}
