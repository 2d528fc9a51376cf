//! Reading one line of a results file by its place. Results that come in about the input's
//! order are read through a 64 KiB window (one read per window, not per line); a line out of
//! order is read alone.
//!
//! The reads are positional reads made on the calling task, not handed to tokio's blocking
//! pool: a result file was just downloaded and sits in the page cache, so each read is a
//! memory copy of a few hundred bytes, cheaper than the hand-off (which made merging results
//! in a random order 25 times slower than reading them).

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// How much of a file one read brings in when lines come in order.
const WINDOW: usize = 64 * 1024;

/// A results file, read at offsets.
pub(super) struct LineReader {
    path: PathBuf,
    file: std::fs::File,
    window: Vec<u8>,
    /// The file offset of `window[0]`.
    start: u64,
}

pub(super) fn open(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path)
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot open {}: {e}", path.display())).with_source(e))
}

/// Reads into `buf` from `offset` until it is full or the file ends; returns the bytes read.
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(file, &mut buf[filled..], offset + filled as u64);
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(file, &mut buf[filled..], offset + filled as u64);
        #[cfg(not(any(unix, windows)))]
        let n = {
            use std::io::{Read, Seek};
            let mut f = file;
            f.seek(std::io::SeekFrom::Start(offset + filled as u64))
                .and_then(|_| f.read(&mut buf[filled..]))
        };
        match n {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl LineReader {
    pub(super) fn new(path: &Path) -> Result<Self> {
        Ok(Self {
            path: path.to_owned(),
            file: open(path)?,
            window: Vec::new(),
            start: 0,
        })
    }

    /// The file's bytes `offset..offset + len`.
    pub(super) fn read(&mut self, offset: u64, len: usize) -> Result<&[u8]> {
        let end = offset + len as u64;
        let window_end = self.start + self.window.len() as u64;
        if !(offset >= self.start && end <= window_end) {
            // In order (at or just past the window): a new window there; else this line alone.
            let in_order = offset >= self.start && offset <= window_end;
            self.fill(offset, if in_order { len.max(WINDOW) } else { len })?;
            if self.window.len() < len {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("{} changed while it was merged", self.path.display()),
                ));
            }
        }
        let from = (offset - self.start) as usize;
        Ok(&self.window[from..from + len])
    }

    fn fill(&mut self, offset: u64, size: usize) -> Result<()> {
        self.window.resize(size, 0);
        self.start = offset;
        let filled = read_at(&self.file, &mut self.window, offset).map_err(crate::error::io_error)?;
        self.window.truncate(filled);
        Ok(())
    }
}

/// The 1-based number of the line that starts at `offset` of the file at `path` (for messages).
pub(super) fn line_number_at(path: &Path, offset: u64) -> Result<usize> {
    let file = open(path)?;
    let mut buf = vec![0; WINDOW];
    let (mut seen, mut lines) = (0u64, 1usize);
    while seen < offset {
        let want = usize::try_from(offset - seen).unwrap_or(usize::MAX).min(buf.len());
        let n = read_at(&file, &mut buf[..want], seen).map_err(crate::error::io_error)?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
        seen += n as u64;
    }
    Ok(lines)
}
