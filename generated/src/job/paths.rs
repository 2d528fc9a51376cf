//! The files a job writes, checked before anything is sent or written: the output, and the
//! parts folder beside it (shard files and downloads, removed after the merge).

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// A job's files.
#[derive(Clone, Debug)]
pub(crate) struct JobPaths {
    pub(crate) input: PathBuf,
    pub(crate) output: PathBuf,
    pub(crate) parts: PathBuf,
}

fn refuse(message: String) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}

/// The folder `path` is in (`.` for a bare file name).
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl JobPaths {
    /// Checks that `output` can be written as a job's output, and `parts` as its parts folder,
    /// leaving nothing behind: `output` names a file (not `/`, not `..`), is not a directory or
    /// the input, and is in an existing folder this process can create files in; `parts` is a
    /// folder or absent.
    pub(crate) fn check(input: PathBuf, output: PathBuf, parts: PathBuf) -> Result<Self> {
        let shown = output.display();
        if output.file_name().is_none() {
            return Err(refuse(format!(
                "the output `{shown}` names no file; give the path of the results file to write"
            )));
        }
        match std::fs::metadata(&output) {
            Ok(m) if m.is_dir() => {
                return Err(refuse(format!(
                    "the output `{shown}` is a directory; give the path of the results file to write"
                )));
            }
            Ok(m) if !m.is_file() => {
                return Err(refuse(format!("the output `{shown}` exists and is not a regular file")));
            }
            Ok(_) if same_file(&input, &output) => {
                return Err(refuse(format!(
                    "the output `{shown}` is the input: the results would overwrite the requests"
                )));
            }
            _ => {}
        }
        let folder = folder_of(&output);
        match std::fs::metadata(folder) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(refuse(format!(
                    "the output `{shown}` cannot be written: `{}` is not a folder",
                    folder.display()
                )));
            }
            Err(e) => {
                return Err(refuse(format!(
                    "the output `{shown}` cannot be written: its folder `{}`: {e}",
                    folder.display()
                )));
            }
        }
        probe(folder).map_err(|e| {
            refuse(format!(
                "the output `{shown}` cannot be written: cannot create files in `{}`: {e}",
                folder.display()
            ))
        })?;
        if std::fs::metadata(&parts).is_ok_and(|m| !m.is_dir()) {
            return Err(refuse(format!(
                "the parts folder `{}` exists and is not a folder",
                parts.display()
            )));
        }
        Ok(Self { input, output, parts })
    }
}

/// Whether `a` and `b` are the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        // One of them does not exist (or cannot be resolved): they are not the same file.
        _ => false,
    }
}

/// Creates and removes a file in `folder`: whether files can be created there, asked of the
/// file system itself (permissions, read-only mounts, quotas).
fn probe(folder: &Path) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    loop {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = folder.join(format!(".cerebras-batch-probe-{}-{n}", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => return std::fs::remove_file(&path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}
