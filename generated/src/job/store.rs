//! [`StateStore`]: where a job keeps its state, and [`FileStore`], the default: a JSON file
//! beside the output, replaced atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::lock::FileLock;

/// Where a [`Job`](super::Job) keeps its state: a few kilobytes of JSON (see the
/// [module](super) for the format), saved after every step. [`FileStore`] is the default; a
/// program can keep the state elsewhere (a database row, an object store) by implementing
/// this trait.
///
/// Every method is called from the job's future and should return quickly (they are
/// synchronous so that a save is never cut in half by dropping that future); the store is
/// `Send + Sync` so that the future can run on any thread. The job's
/// guarantees rest on two properties of an implementation:
///
/// - **`save` is atomic**: a later `load` returns the bytes of the last `save` that returned
///   `Ok`, whole, even after a crash (a file store writes a temporary file and renames it);
/// - **`lock` is exclusive**: while one store holds the lock, `lock` on any other store of the
///   same state fails, in any process, until the holder is dropped.
pub trait StateStore: Send + Sync {
    /// Takes the state for this job alone, until the store is dropped.
    ///
    /// # Errors
    ///
    /// An error of kind [`std::io::ErrorKind::WouldBlock`] whose message names the holder when
    /// another job holds it; any other error when the lock cannot be taken.
    fn lock(&mut self) -> std::io::Result<()>;

    /// The last state saved, or `None` when there is none.
    ///
    /// # Errors
    ///
    /// Any error reading it (an absent state is `Ok(None)`, not an error).
    fn load(&mut self) -> std::io::Result<Option<Vec<u8>>>;

    /// Replaces the state with `state`, atomically.
    ///
    /// # Errors
    ///
    /// Any error writing it; the previous state must then still be there.
    fn save(&mut self, state: &[u8]) -> std::io::Result<()>;

    /// Removes the state (a job that never reached a server leaves none behind).
    ///
    /// # Errors
    ///
    /// Any error removing it (an absent state is not an error).
    fn remove(&mut self) -> std::io::Result<()>;

    /// Where the state is, for messages (a path, a key).
    fn location(&self) -> String;
}

/// The default [`StateStore`]: the file `path`, replaced atomically on each save (written to
/// `<path>.tmp` in the same folder, synced, renamed over `path`, and the folder synced), and
/// locked through `<path>.lock` (see [`StateStore::lock`]).
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    lock: Option<FileLock>,
}

impl FileStore {
    /// A store at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: None,
        }
    }

    /// The store a job writing `output` uses by default: `<output>.state.json`.
    pub fn beside(output: &Path) -> Self {
        Self::new(with_suffix(output, ".state.json"))
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn temporary(&self) -> PathBuf {
        with_suffix(&self.path, ".tmp")
    }
}

/// `path` with `suffix` appended to its file name (`out.jsonl` → `out.jsonl.state.json`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

impl StateStore for FileStore {
    fn lock(&mut self) -> std::io::Result<()> {
        if self.lock.is_none() {
            let what = format!("the job's state {}", self.path.display());
            self.lock = Some(FileLock::acquire(&with_suffix(&self.path, ".lock"), &what)?);
        }
        Ok(())
    }

    fn load(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn save(&mut self, state: &[u8]) -> std::io::Result<()> {
        let tmp = self.temporary();
        let written = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(state)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            // The previous state is untouched; the half-written temporary goes.
            let _ = std::fs::remove_file(&tmp);
            let message = format!("writing it as `{}` first: {e}", tmp.display());
            return Err(std::io::Error::new(e.kind(), message));
        }
        sync_folder(&self.path)
    }

    fn remove(&mut self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

/// Syncs the folder of `path`, so that a rename into it survives a crash (Unix; elsewhere the
/// rename is left to the file system).
pub(crate) fn sync_folder(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::File::open(folder)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}
