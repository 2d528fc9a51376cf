//! [`FileLock`]: one job at a time on a state, by an advisory lock on a file beside it
//! (`std::fs::File::try_lock`: `flock` on Unix, `LockFileEx` on Windows). The operating system
//! releases it when the process ends, however it ends, so a lock is never left stale.
//!
//! The file holds its holder, `{"pid":1234,"host":"build-7","started_at":1764430000}`, for the
//! message another job gets. The holder removes the file when it lets go; the lock is taken
//! only on a file that is still the one at the path, so a job that opened the file just
//! before it was removed tries again.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Who holds a lock.
#[derive(Serialize, Deserialize)]
struct Holder {
    pid: u32,
    host: String,
    /// Unix seconds.
    started_at: u64,
}

/// A held lock; released (and its file removed) when dropped.
#[derive(Debug)]
pub(crate) struct FileLock {
    path: PathBuf,
    file: std::fs::File,
}

impl FileLock {
    /// Takes the lock at `path` (created if absent), or fails: with
    /// [`std::io::ErrorKind::WouldBlock`] and a message naming the holder and `what` when
    /// another holds it, or with the I/O error.
    pub(crate) fn acquire(path: &Path, what: &str) -> std::io::Result<Self> {
        loop {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        held_message(&mut file, path, what),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
            if !still_at(&file, path)? {
                continue;
            }
            let holder = Holder {
                pid: std::process::id(),
                host: host_name(),
                started_at: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            };
            file.set_len(0)?;
            file.write_all(&serde_json::to_vec(&holder).expect("a holder serialises"))?;
            return Ok(Self {
                path: path.to_owned(),
                file,
            });
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Removed while still held, so that no other job locks a file about to vanish; a
        // failure leaves an unlocked file, which the next job takes over.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Whether `file` is still the file at `path` (not removed or replaced since it was opened).
fn still_at(file: &std::fs::File, path: &Path) -> std::io::Result<bool> {
    let at_path = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let opened = file.metadata()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(at_path.dev() == opened.dev() && at_path.ino() == opened.ino())
    }
    #[cfg(not(unix))]
    {
        // Windows does not remove a file that is open; its path names the same file.
        let _ = (at_path, opened);
        Ok(true)
    }
}

/// `what is in use by process 1234 on host build-7 since <date> (lock file <path>)`.
fn held_message(file: &mut std::fs::File, path: &Path, what: &str) -> String {
    let mut text = String::new();
    let holder = file
        .rewind()
        .and_then(|()| file.read_to_string(&mut text))
        .ok()
        .and_then(|_| serde_json::from_str::<Holder>(&text).ok());
    let who = match holder {
        Some(h) => {
            let since = std::time::UNIX_EPOCH + std::time::Duration::from_secs(h.started_at);
            format!(
                "process {} on host {} since {}",
                h.pid,
                h.host,
                httpdate::fmt_http_date(since)
            )
        }
        // The holder has not written its name yet (it is taking the lock right now).
        None => "another process".to_owned(),
    };
    format!(
        "{what} is in use by {who} (lock file {}); two jobs on one state would interleave their uploads and batches: wait for that one to end, or stop it",
        path.display()
    )
}

/// This machine's name, for lock messages; `unknown` when it cannot be read.
fn host_name() -> String {
    let from_file = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok());
    from_file
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
