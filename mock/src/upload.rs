//! The expectation for `upload_file`, written by hand as the client's multipart upload is: it
//! reads the multipart form the client sends.

use cerebras_batch::types;
use wiremock::{Match, Mock, Request, Respond};

use crate::Reply;

/// Matches `POST /v1/files` (`upload_file`), a multipart form with `purpose`, optionally
/// `expires_after[anchor]` and `expires_after[seconds]`, then `file`. Every field given must
/// match; unset ones match anything.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct UploadFile {
    purpose: Option<String>,
    filename: Option<String>,
    expires_after: Option<i64>,
    content: Option<Vec<u8>>,
}

impl UploadFile {
    /// Any upload.
    pub fn new() -> Self {
        Self::default()
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
    pub fn respond_with(self, responder: impl Respond + 'static) -> Mock {
        Mock::given(wiremock::matchers::method("POST"))
            .and(wiremock::matchers::path("/v1/files"))
            .and(self)
            .respond_with(responder)
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
        let Some(fields) = fields(request) else {
            return false;
        };
        let text = |name: &str| {
            fields
                .iter()
                .find(|f| f.name == name)
                .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        };
        let file = fields.iter().find(|f| f.name == "file");
        let Some(file) = file else { return false };
        let expires = match self.expires_after {
            None => true,
            Some(seconds) => {
                text("expires_after[anchor]").as_deref() == Some("created_at")
                    && text("expires_after[seconds]") == Some(seconds.to_string())
            }
        };
        self.purpose
            .as_ref()
            .is_none_or(|p| text("purpose").as_ref() == Some(p))
            && self.filename.as_ref().is_none_or(|n| file.filename.as_ref() == Some(n))
            && self.content.as_ref().is_none_or(|c| &file.bytes == c)
            && expires
    }
}
