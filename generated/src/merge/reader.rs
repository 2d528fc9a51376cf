//! Reading one line of a results file by its place, through a window of the file: results that
//! come in about the input's order cost one read per window, not one per line.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::{Error, ErrorKind, Result};

/// How much of a file one read brings in.
const WINDOW: usize = 64 * 1024;

/// A results file, read at offsets.
pub(super) struct LineReader {
    path: PathBuf,
    file: tokio::fs::File,
    window: Vec<u8>,
    /// The file offset of `window[0]`.
    start: u64,
}

pub(super) async fn open(path: &Path) -> Result<tokio::fs::File> {
    tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot open {}: {e}", path.display())).with_source(e))
}

impl LineReader {
    pub(super) async fn new(path: &Path) -> Result<Self> {
        Ok(Self {
            path: path.to_owned(),
            file: open(path).await?,
            window: Vec::new(),
            start: 0,
        })
    }

    /// The file's bytes `offset..offset + len`.
    pub(super) async fn read(&mut self, offset: u64, len: usize) -> Result<&[u8]> {
        let end = offset + len as u64;
        let inside = offset >= self.start && end <= self.start + self.window.len() as u64;
        if !inside {
            self.fill(offset, len).await?;
        }
        let from = (offset - self.start) as usize;
        Ok(&self.window[from..from + len])
    }

    async fn fill(&mut self, offset: u64, len: usize) -> Result<()> {
        let io = |e: std::io::Error| crate::download::io_error(e);
        self.file.seek(SeekFrom::Start(offset)).await.map_err(io)?;
        self.window.clear();
        self.window.resize(len.max(WINDOW), 0);
        self.start = offset;
        let mut filled = 0;
        while filled < self.window.len() {
            let n = self.file.read(&mut self.window[filled..]).await.map_err(io)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        self.window.truncate(filled);
        if filled < len {
            return Err(Error::new(
                ErrorKind::Io,
                format!("{} changed while it was merged", self.path.display()),
            ));
        }
        Ok(())
    }
}

/// The 1-based number of the line that starts at `offset` of the file at `path` (for messages).
pub(super) async fn line_number_at(path: &Path, offset: u64) -> Result<usize> {
    let mut file = open(path).await?;
    let mut buf = vec![0; WINDOW];
    let (mut seen, mut lines) = (0u64, 1usize);
    while seen < offset {
        let want = usize::try_from(offset - seen).unwrap_or(usize::MAX).min(buf.len());
        let n = file.read(&mut buf[..want]).await.map_err(crate::download::io_error)?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
        seen += n as u64;
    }
    Ok(lines)
}
