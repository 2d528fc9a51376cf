//! The index of every result line of a merge: where it is and what it says, under a hash of its
//! `custom_id` (24 bytes a line, and a 4-byte slot of a lookup table; never the line itself or
//! its id).

use std::hash::BuildHasher;
use std::path::Path;

use futures::StreamExt;
use serde::Deserialize;
use tokio_util::codec::FramedRead;

use super::LineOutcome;
use super::reader::{LineReader, line_number_at, open};
use crate::error::{Error, ErrorKind, Result};
use crate::jsonl::{BOM, LineDecoder, MAX_RESULT_LINE_BYTES, decode_line};

/// One result line (24 bytes).
#[derive(Clone, Copy)]
pub(super) struct Entry {
    /// The hash of its `custom_id`.
    pub(super) hash: u64,
    /// Where it starts in its file (after a byte order mark).
    pub(super) offset: u64,
    /// Its length, without CR or LF.
    pub(super) len: u32,
    /// Its file, by index.
    pub(super) file: u16,
    pub(super) outcome: LineOutcome,
    /// Merged for a request of the input.
    pub(super) used: bool,
}

/// The `custom_id` of a line, read as the result reader reads it (a number is kept as its text).
#[derive(Deserialize)]
struct Id {
    #[serde(deserialize_with = "crate::tolerant::string")]
    custom_id: String,
}

/// The `custom_id` of a JSON line, or why it cannot be read.
pub(super) fn custom_id(text: &[u8]) -> serde_json::Result<String> {
    serde_json::from_slice::<Id>(text).map(|id| id.custom_id)
}

/// A result line with no `custom_id` to merge it by (not JSON, no `custom_id`, or over
/// [`MAX_RESULT_LINE_BYTES`]): kept as the server wrote it, after the merged lines.
#[derive(Clone, Copy)]
pub(super) struct RawEntry {
    pub(super) file: u16,
    pub(super) offset: u64,
    pub(super) len: u64,
}

/// Every result line of the files, sorted by hash, with a table of where each range of hashes
/// starts: a lookup reads one slot of the table and about one entry, where a binary search
/// over a million entries missed the cache some twenty times (it took half the merge).
pub(super) struct ResultIndex {
    pub(super) entries: Vec<Entry>,
    /// `starts[t]`: the first entry whose hash's top bits are `t` or more (one slot per entry,
    /// rounded up to a power of two; 4 bytes each).
    starts: Vec<u32>,
    /// `64 - log2(starts.len() - 1)`: the shift that gives a hash's top bits.
    shift: u32,
    /// Lines that are not result lines: merged by their `custom_id` when it can be read
    /// (their outcome [`LineOutcome::Unreadable`]), else kept in [`raw`](Self::raw).
    pub(super) unreadable: usize,
    /// The unreadable lines without a `custom_id`, in file order.
    pub(super) raw: Vec<RawEntry>,
}

impl ResultIndex {
    /// Reads every file once.
    pub(super) async fn build(files: &[&Path], hasher: &impl BuildHasher) -> Result<Self> {
        let mut index = Self {
            entries: Vec::new(),
            starts: Vec::new(),
            shift: 64,
            unreadable: 0,
            raw: Vec::new(),
        };
        for (f, path) in files.iter().enumerate() {
            index.add(f as u16, path, hasher).await?;
        }
        index.entries.sort_unstable_by_key(|e| (e.hash, e.file, e.offset));
        index.build_starts();
        Ok(index)
    }

    fn build_starts(&mut self) {
        let bits = self.entries.len().max(2).next_power_of_two().trailing_zeros();
        self.shift = 64 - bits;
        let slots = 1usize << bits;
        self.starts = Vec::with_capacity(slots + 1);
        let mut at = 0;
        for t in 0..slots {
            while at < self.entries.len() && ((self.entries[at].hash >> self.shift) as usize) < t {
                at += 1;
            }
            self.starts.push(at as u32);
        }
        self.starts.push(self.entries.len() as u32);
    }

    async fn add(&mut self, file: u16, path: &Path, hasher: &impl BuildHasher) -> Result<()> {
        // Read in 1 MiB blocks: one hand-off to the blocking pool per block, not per 8 KiB.
        let reader = tokio::io::BufReader::with_capacity(1 << 20, tokio::fs::File::from_std(open(path)?));
        let mut framed = FramedRead::new(reader, LineDecoder::new(MAX_RESULT_LINE_BYTES));
        let mut offset = 0u64;
        while let Some(line) = framed.next().await {
            let line = line.map_err(crate::error::io_error)?;
            let start = offset;
            let raw = match &line.text {
                Ok(raw) => raw,
                Err(len) => {
                    // Too long to read as JSON here: kept whole, as the server wrote it.
                    offset += *len as u64 + 1;
                    self.unreadable += 1;
                    self.raw.push(RawEntry {
                        file,
                        offset: start,
                        len: *len as u64,
                    });
                    continue;
                }
            };
            offset += raw.len() as u64 + 1;
            let mut text = &raw[..];
            let mut skip = 0;
            if line.number == 1 && text.starts_with(BOM) {
                text = &text[BOM.len()..];
                skip = BOM.len();
            }
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let (id, outcome) = match decode_line(line.number, text) {
                Ok(decoded) => (decoded.custom_id().to_owned(), LineOutcome::of(&decoded)),
                Err(_) => {
                    // Not a result line as documented: merged by its custom_id when that can be
                    // read, else kept after the merged lines; counted either way.
                    self.unreadable += 1;
                    match custom_id(text) {
                        Ok(id) => (id, LineOutcome::Unreadable),
                        Err(_) => {
                            self.raw.push(RawEntry {
                                file,
                                offset: start + skip as u64,
                                len: text.len() as u64,
                            });
                            continue;
                        }
                    }
                }
            };
            self.entries.push(Entry {
                hash: hasher.hash_one(&id),
                offset: start + skip as u64,
                len: text.len() as u32,
                file,
                outcome,
                used: false,
            });
        }
        Ok(())
    }

    /// The positions of the entries whose id hashes to `hash`.
    pub(super) fn run(&self, hash: u64) -> std::ops::Range<usize> {
        if self.entries.is_empty() {
            return 0..0;
        }
        let t = (hash >> self.shift) as usize;
        let (lo, hi) = (self.starts[t] as usize, self.starts[t + 1] as usize);
        let slot = &self.entries[lo..hi];
        let start = lo + slot.partition_point(|e| e.hash < hash);
        let end = lo + slot.partition_point(|e| e.hash <= hash);
        start..end
    }

    /// Fails, naming both lines, when two result lines answer the same `custom_id` (the hash
    /// suspects them; their ids are compared exactly).
    pub(super) fn check_duplicates(&self, readers: &mut [LineReader], files: &[&Path]) -> Result<()> {
        for group in self.entries.chunk_by(|a, b| a.hash == b.hash).filter(|g| g.len() > 1) {
            let mut ids = Vec::with_capacity(group.len());
            for e in group {
                let text = readers[e.file as usize].read(e.offset, e.len as usize)?;
                // Every indexed line had a custom_id when it was read: one that cannot be read
                // now means the file changed under the merge.
                let id = custom_id(text).map_err(|err| {
                    Error::new(
                        ErrorKind::Io,
                        format!(
                            "{} changed while it was merged: a line whose custom_id was read cannot be read again ({err})",
                            files[e.file as usize].display()
                        ),
                    )
                })?;
                ids.push(id);
            }
            for (k, later) in group.iter().enumerate() {
                let Some(j) = (0..k).find(|&j| ids[j] == ids[k]) else {
                    continue;
                };
                let (first, second) = (group[j], later);
                let place = |e: &Entry| -> Result<String> {
                    let path = files[e.file as usize];
                    Ok(format!("{} line {}", path.display(), line_number_at(path, e.offset)?))
                };
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "two result lines answer custom_id {:?}: {} and {}; results are matched to requests by custom_id, so neither is merged",
                        ids[k],
                        place(&first)?,
                        place(second)?
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_entry_stays_24_bytes() {
        assert_eq!(std::mem::size_of::<super::Entry>(), 24);
    }
}
