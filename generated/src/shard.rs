//! Splitting a request file of any size into batches that each keep the documented limits.
//!
//! A batch file holds 10 to 50,000 requests, at most 200 MB, and one model
//! (<https://inference-docs.cerebras.ai/capabilities/batch>). [`plan_shards`] reads a JSONL file
//! of any size once, checks every line on its own (naming each bad line), and plans shards:
//! the lines of each model, in input order, cut into the fewest shards that keep the limits,
//! balanced in size so that none falls under the minimum (50,005 lines make two shards of
//! 25,003 and 25,002, not 50,000 and 5). [`write_shards`] then writes each shard's file.
//!
//! Memory: about 24 bytes per input line while planning (its model, size and a hash of its
//! `custom_id`), and 4 bytes per line in the plan, whatever the size of its lines or ids: a
//! 1,000,000-line file plans in about 30 MB.
//!
//! ```
//! # async fn run() -> cerebras_batch::Result<()> {
//! use cerebras_batch::shard::{ShardLimits, plan_shards};
//!
//! let lines: String = (0..25)
//!     .map(|i| format!(r#"{{"custom_id":"r{i}","method":"POST","url":"/v1/chat/completions","body":{{"model":"llama3.1-8b","messages":[]}}}}"#) + "\n")
//!     .collect();
//! let check = plan_shards(std::io::Cursor::new(lines), ShardLimits::default().max_requests(10)).await?;
//! let plan = check.plan.expect("no problems");
//! let sizes: Vec<usize> = plan.shards.iter().map(|s| s.requests).collect();
//! assert_eq!(sizes, [13, 12]); // balanced, each at least 10
//! assert_eq!(plan.shard_of(24), Some(1));
//! # Ok(()) }
//! ```

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncSeek, AsyncSeekExt, AsyncWriteExt, BufWriter};
use tokio_util::codec::FramedRead;

use crate::error::{Error, ErrorKind, Result};
use crate::jsonl::{
    LineDecoder, MAX_LINE_BYTES, MAX_REQUESTS, MIN_REQUESTS, check_raw_line, check_request_line, utf16, utf16_problem,
};
use crate::upload::MAX_FILE_BYTES;

/// The limits each shard keeps; by default the documented ones (10 to 50,000 requests, at most
/// 200 MB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardLimits {
    /// The fewest requests in a shard.
    pub min_requests: usize,
    /// The most requests in a shard.
    pub max_requests: usize,
    /// The largest shard file, in bytes (line endings included).
    pub max_bytes: u64,
}

impl Default for ShardLimits {
    fn default() -> Self {
        Self {
            min_requests: MIN_REQUESTS,
            max_requests: MAX_REQUESTS,
            max_bytes: MAX_FILE_BYTES,
        }
    }
}

impl ShardLimits {
    /// At most `n` requests per shard (at least 1): for smaller batches than the API allows.
    pub fn max_requests(mut self, n: usize) -> Self {
        self.max_requests = n.max(1);
        self
    }

    /// At most `bytes` per shard file.
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes;
        self
    }
}

/// One planned batch: a model's lines, a consecutive run of them in input order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Shard {
    /// Its 0-based position in [`ShardPlan::shards`].
    pub index: usize,
    /// The model every line uses.
    pub model: String,
    /// How many requests (lines) it holds.
    pub requests: usize,
    /// Its file's size in bytes, LFs included.
    pub bytes: u64,
}

/// How an input file is split: its shards, and the shard of every line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardPlan {
    /// The shards, ordered by each model's first line, then by input order.
    pub shards: Vec<Shard>,
    /// The shard of each input line (by 0-based line index).
    assignment: Vec<u32>,
}

impl ShardPlan {
    /// The shard of the input's 0-based line `index`; `None` past the end.
    pub fn shard_of(&self, index: usize) -> Option<usize> {
        self.assignment.get(index).map(|s| *s as usize)
    }

    /// How many requests the input holds.
    pub fn requests(&self) -> usize {
        self.assignment.len()
    }

    /// The input's size in bytes (the sum of the shards').
    pub fn bytes(&self) -> u64 {
        self.shards.iter().map(|s| s.bytes).sum()
    }
}

/// What [`plan_shards`] found: a plan, or every problem.
#[derive(Debug)]
#[non_exhaustive]
pub struct InputCheck {
    /// The plan; `None` when there is a problem.
    pub plan: Option<ShardPlan>,
    /// Every problem (the first [`MAX_PROBLEMS`] by line), each naming its 1-based line
    /// ([`Error::line`]) when it is about one, with [`ErrorKind::InvalidInput`].
    pub problems: Vec<Error>,
    /// How many problems were found: more than `problems` holds when there were over
    /// [`MAX_PROBLEMS`]. (A file whose lines all have problems is not planned, so a problem of
    /// the plan itself, such as a model with too few requests, shows once they are fixed.)
    pub problems_found: usize,
}

/// The most problems an [`InputCheck`] lists: 1000.
pub const MAX_PROBLEMS: usize = 1000;

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}

/// Reads a request file of any size and plans its shards within `limits`.
///
/// Each line is checked on its own as [`jsonl::check_request_file`](crate::jsonl::check_request_file)
/// does (JSON, `POST`, `/v1/chat/completions`, a `model`, at most 1 MB, UTF-8, LF, not empty),
/// and every `custom_id` must be unique in the whole file (results are matched by it): a
/// duplicate is a problem at its later line that names both lines. The per-file limits are
/// what the plan keeps. A model with fewer than `min_requests` lines, or whose lines cannot be
/// cut into shards within both size limits, is a problem naming it.
///
/// The file is read once from where `reader` stands, and a second time (after seeking back)
/// only when two `custom_id`s hash alike, to compare them exactly: a file with duplicates, or
/// a hash collision. Memory: about 24 bytes per line, whatever the length of its `custom_id`.
///
/// # Errors
///
/// [`ErrorKind::Io`] when reading or seeking fails; problems of the file are in the result.
pub async fn plan_shards(mut reader: impl AsyncRead + AsyncSeek + Unpin, limits: ShardLimits) -> Result<InputCheck> {
    let start = reader.stream_position().await.map_err(crate::error::io_error)?;
    let mut problems = Vec::new();
    let mut models: Vec<String> = Vec::new();
    let mut model_index: HashMap<String, u32> = HashMap::new();
    // Per line: its model and its size (LF included); per accepted line, its id's hash.
    let mut lines: Vec<(u32, u32)> = Vec::new();
    let mut ids = IdHashes::new();
    let mut framed = FramedRead::new(&mut reader, LineDecoder::new(MAX_LINE_BYTES));
    let mut found = 0usize;
    while let Some(line) = framed.next().await {
        let line = line.map_err(crate::error::io_error)?;
        let number = line.number;
        if number == 1
            && let Some(encoding) = utf16(&line)
        {
            // Every line would say the same: the file is in the wrong encoding.
            let problems = vec![utf16_problem(encoding)];
            return Ok(InputCheck {
                plan: None,
                problems,
                problems_found: 1,
            });
        }
        match check_raw_line(&line).and_then(|text| check_request_line(number, text)) {
            Ok(a) => {
                let m = match model_index.get(&a.model) {
                    Some(m) => *m,
                    None => {
                        let m = models.len() as u32;
                        model_index.insert(a.model.clone(), m);
                        models.push(a.model);
                        m
                    }
                };
                ids.push(&a.custom_id, lines.len());
                lines.push((m, a.size as u32));
            }
            Err(e) => {
                found += 1;
                if problems.len() < MAX_PROBLEMS {
                    problems.push(e);
                }
                // A bad line still takes its place, so that line numbers stay right.
                lines.push((u32::MAX, 0));
            }
        }
    }
    drop(framed);
    let suspects = ids.suspects();
    if !suspects.is_empty() {
        reader
            .seek(SeekFrom::Start(start))
            .await
            .map_err(crate::error::io_error)?;
        let twice = duplicates(&mut reader, &suspects).await?;
        found += twice.len();
        problems.extend(twice);
        problems.sort_by_key(|p| p.line().unwrap_or(usize::MAX));
        problems.truncate(MAX_PROBLEMS);
    }
    if lines.is_empty() {
        found += 1;
        problems.push(invalid("the file holds no requests".into()));
    }
    if !problems.is_empty() {
        return Ok(InputCheck {
            plan: None,
            problems,
            problems_found: found,
        });
    }
    plan(&lines, &models, limits)
}

/// The hash of every accepted line's `custom_id`, with its 0-based line index: 16 bytes a line
/// instead of the id itself.
struct IdHashes {
    hasher: std::hash::RandomState,
    hashes: Vec<(u64, u32)>,
}

impl IdHashes {
    fn new() -> Self {
        Self {
            hasher: std::hash::RandomState::new(),
            hashes: Vec::new(),
        }
    }

    fn push(&mut self, id: &str, index: usize) {
        self.hashes.push((self.hasher.hash_one(id), index as u32));
    }

    /// The lines whose ids hash alike, in groups (each sorted), to compare exactly.
    fn suspects(mut self) -> Vec<Vec<u32>> {
        self.hashes.sort_unstable();
        self.hashes
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|group| group.len() > 1)
            .map(|group| group.iter().map(|(_, line)| *line).collect())
            .collect()
    }
}

/// Reads the ids of the `suspects` lines again and compares them: a problem for each line whose
/// id an earlier line has, naming both lines.
async fn duplicates(reader: &mut (impl AsyncRead + Unpin), suspects: &[Vec<u32>]) -> Result<Vec<Error>> {
    let wanted: HashSet<u32> = suspects.iter().flatten().copied().collect();
    let mut found: HashMap<u32, String> = HashMap::new();
    let mut framed = FramedRead::new(reader, LineDecoder::new(MAX_LINE_BYTES));
    let mut index = 0u32;
    while let Some(line) = framed.next().await {
        let line = line.map_err(crate::error::io_error)?;
        if wanted.contains(&index)
            && let Ok(a) = check_raw_line(&line).and_then(|text| check_request_line(line.number, text))
        {
            found.insert(index, a.custom_id);
        }
        index += 1;
    }
    let mut problems = Vec::new();
    for group in suspects {
        for (k, later) in group.iter().enumerate() {
            let Some(id) = found.get(later) else {
                return Err(invalid("the input changed while it was checked".into()));
            };
            if let Some(first) = group[..k].iter().find(|earlier| found.get(earlier) == Some(id)) {
                problems.push(
                    invalid(format!(
                        "custom_id {id:?} is used twice: on lines {} and {}",
                        first + 1,
                        later + 1
                    ))
                    .with_line(*later as usize + 1),
                );
            }
        }
    }
    Ok(problems)
}

/// Cuts the lines of each model into shards.
fn plan(lines: &[(u32, u32)], models: &[String], limits: ShardLimits) -> Result<InputCheck> {
    let mut problems = Vec::new();
    let mut shards = Vec::new();
    let mut assignment = vec![0u32; lines.len()];
    for (m, model) in models.iter().enumerate() {
        let members: Vec<u32> = (0..lines.len() as u32)
            .filter(|&i| lines[i as usize].0 as usize == m)
            .collect();
        if members.is_empty() {
            // A model all of whose lines were left out of a selection.
            continue;
        }
        let sizes: Vec<u64> = members.iter().map(|&i| u64::from(lines[i as usize].1)).collect();
        let bytes: u64 = sizes.iter().sum();
        if members.len() < limits.min_requests {
            problems.push(invalid(format!(
                "model {model:?} has {} request(s) (first on line {}); a batch needs at least {}",
                members.len(),
                members[0] + 1,
                limits.min_requests
            )));
            continue;
        }
        match cut(&sizes, limits) {
            Some(cuts) => {
                let mut start = 0;
                for len in cuts {
                    let index = shards.len();
                    for &line in &members[start..start + len] {
                        assignment[line as usize] = index as u32;
                    }
                    shards.push(Shard {
                        index,
                        model: model.clone(),
                        requests: len,
                        bytes: sizes[start..start + len].iter().sum(),
                    });
                    start += len;
                }
            }
            None => problems.push(invalid(format!(
                "model {model:?}: its {} requests ({bytes} bytes) cannot be cut into batches of {} to {} requests of at most {} bytes",
                members.len(),
                limits.min_requests,
                limits.max_requests,
                limits.max_bytes
            ))),
        }
    }
    if !problems.is_empty() {
        let problems_found = problems.len();
        return Ok(InputCheck {
            plan: None,
            problems,
            problems_found,
        });
    }
    Ok(InputCheck {
        plan: Some(ShardPlan { shards, assignment }),
        problems,
        problems_found: 0,
    })
}

/// The lengths of the fewest consecutive runs of `sizes` that keep `limits`, balanced by count:
/// each run takes its share of what is left (`ceil(left / runs left)`), or less when the bytes
/// limit comes first, in which case one more run is tried.
fn cut(sizes: &[u64], limits: ShardLimits) -> Option<Vec<usize>> {
    let total: u64 = sizes.iter().sum();
    let by_count = sizes.len().div_ceil(limits.max_requests);
    let by_bytes = usize::try_from(total.div_ceil(limits.max_bytes.max(1))).unwrap_or(usize::MAX);
    let mut runs = by_count.max(by_bytes).max(1);
    while runs <= sizes.len() {
        let mut out = Vec::with_capacity(runs);
        let mut at = 0;
        let mut fits = true;
        for left_runs in (1..=runs).rev() {
            let target = (sizes.len() - at).div_ceil(left_runs);
            let mut len = 0;
            let mut bytes = 0;
            while len < target && at + len < sizes.len() && bytes + sizes[at + len] <= limits.max_bytes {
                bytes += sizes[at + len];
                len += 1;
            }
            if len < limits.min_requests || len == 0 {
                fits = false;
                break;
            }
            out.push(len);
            at += len;
        }
        if fits && at == sizes.len() {
            return Some(out);
        }
        if !fits && sizes.len() / (runs + 1) < limits.min_requests {
            return None;
        }
        runs += 1;
    }
    None
}

/// Writes each shard's lines, in input order, to the file `path(shard)` gives (created or
/// truncated), reading `reader` (the same input [`plan_shards`] read) once. Returns the paths.
///
/// # Errors
///
/// [`ErrorKind::Io`] when reading or writing fails; [`ErrorKind::InvalidInput`] when the input
/// no longer matches the plan (it changed in between).
pub async fn write_shards(
    reader: impl AsyncRead + Unpin,
    plan: &ShardPlan,
    path: impl Fn(&Shard) -> PathBuf,
) -> Result<Vec<PathBuf>> {
    write_lines(reader, plan, None, path).await
}

/// Writes the shards of a plan of selected lines ([`plan_selection`]): the input's lines whose
/// 0-based index is in `selection`, byte for byte, each into its shard's file.
pub(crate) async fn write_selection(
    reader: impl AsyncRead + Unpin,
    plan: &ShardPlan,
    selection: &[u32],
    path: impl Fn(&Shard) -> PathBuf,
) -> Result<Vec<PathBuf>> {
    write_lines(reader, plan, Some(selection), path).await
}

/// Writes the lines of `plan` (every line of the input, or those of `selection`).
async fn write_lines(
    reader: impl AsyncRead + Unpin,
    plan: &ShardPlan,
    selection: Option<&[u32]>,
    path: impl Fn(&Shard) -> PathBuf,
) -> Result<Vec<PathBuf>> {
    let paths: Vec<PathBuf> = plan.shards.iter().map(&path).collect();
    let mut files = Vec::with_capacity(paths.len());
    for p in &paths {
        files.push(BufWriter::new(create(p).await?));
    }
    let mut framed = FramedRead::new(reader, LineDecoder::new(MAX_LINE_BYTES));
    // The line's index in the input, and its index in the plan.
    let (mut at, mut index) = (0u32, 0);
    while let Some(line) = framed.next().await {
        let line = line.map_err(crate::error::io_error)?;
        let chosen = selection.is_none_or(|s| s.get(index) == Some(&at));
        at += 1;
        if !chosen {
            continue;
        }
        let shard = plan.shard_of(index).ok_or_else(|| changed(line.number))?;
        let text = check_raw_line(&line).map_err(|_| changed(line.number))?;
        let file = &mut files[shard];
        file.write_all(text).await.map_err(crate::error::io_error)?;
        file.write_all(b"\n").await.map_err(crate::error::io_error)?;
        index += 1;
    }
    if index != plan.requests() {
        return Err(changed(at as usize + 1));
    }
    for mut file in files {
        file.flush().await.map_err(crate::error::io_error)?;
    }
    Ok(paths)
}

/// What [`plan_selection`] planned: the lines it kept (0-based input lines, ascending), their
/// plan (its line indices are positions among the kept lines), and the models it left out.
#[derive(Debug)]
pub(crate) struct SelectionPlan {
    pub(crate) selection: Vec<u32>,
    pub(crate) plan: ShardPlan,
    /// Each model with fewer than `limits.min_requests` selected lines, and how many it has:
    /// too few for a batch of their own.
    pub(crate) left_out: Vec<(String, usize)>,
}

/// Plans shards of the input's lines whose 0-based index is in `selection` (ascending), within
/// `limits`, as [`plan_shards`] plans a whole input: each model's lines in input order, cut
/// into balanced shards. The lines of a model with fewer than `limits.min_requests` of them
/// cannot make a batch: they are left out (and said so). Reads `reader` once.
///
/// # Errors
///
/// [`ErrorKind::Io`] when reading fails; [`ErrorKind::InvalidInput`] when a selected line is
/// no longer a request line or past the end (the input changed), or a model's lines cannot be
/// cut within the limits.
pub(crate) async fn plan_selection(
    reader: impl AsyncRead + Unpin,
    selection: &[u32],
    limits: ShardLimits,
) -> Result<SelectionPlan> {
    let mut models: Vec<String> = Vec::new();
    let mut model_index: HashMap<String, u32> = HashMap::new();
    let mut lines: Vec<(u32, u32)> = Vec::with_capacity(selection.len());
    let mut framed = FramedRead::new(reader, LineDecoder::new(MAX_LINE_BYTES));
    let mut at = 0u32;
    while let Some(line) = framed.next().await {
        let line = line.map_err(crate::error::io_error)?;
        if selection.get(lines.len()) == Some(&at) {
            let a = check_raw_line(&line)
                .and_then(|text| check_request_line(line.number, text))
                .map_err(|_| changed(line.number))?;
            let next = models.len() as u32;
            let m = *model_index.entry(a.model.clone()).or_insert_with(|| {
                models.push(a.model);
                next
            });
            lines.push((m, a.size as u32));
        }
        at += 1;
    }
    if lines.len() != selection.len() {
        return Err(changed(at as usize + 1));
    }
    let mut count = vec![0usize; models.len()];
    for (m, _) in &lines {
        count[*m as usize] += 1;
    }
    let left_out: Vec<(String, usize)> = models
        .iter()
        .zip(&count)
        .filter(|(_, n)| **n < limits.min_requests)
        .map(|(model, n)| (model.clone(), *n))
        .collect();
    let keep = |m: u32| count[m as usize] >= limits.min_requests;
    let kept: Vec<u32> = selection
        .iter()
        .zip(&lines)
        .filter(|(_, (m, _))| keep(*m))
        .map(|(line, _)| *line)
        .collect();
    let lines: Vec<(u32, u32)> = lines.into_iter().filter(|(m, _)| keep(*m)).collect();
    let check = plan(&lines, &models, limits)?;
    match check.plan {
        Some(plan) => Ok(SelectionPlan {
            selection: kept,
            plan,
            left_out,
        }),
        None => Err(check
            .problems
            .into_iter()
            .next()
            .unwrap_or_else(|| invalid("the selected lines cannot be planned".into()))),
    }
}

async fn create(path: &Path) -> Result<tokio::fs::File> {
    tokio::fs::File::create(path)
        .await
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot create {}: {e}", path.display())).with_source(e))
}

fn changed(line: usize) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        "the input changed since its shards were planned",
    )
    .with_line(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, model: &str) -> String {
        format!(
            "{{\"custom_id\":\"{id}\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{{\"model\":\"{model}\",\"messages\":[]}}}}\n"
        )
    }

    async fn plan(text: &str, limits: ShardLimits) -> InputCheck {
        plan_shards(std::io::Cursor::new(text.as_bytes()), limits)
            .await
            .unwrap()
    }

    fn sizes(check: &InputCheck) -> Vec<(String, usize)> {
        check
            .plan
            .as_ref()
            .unwrap()
            .shards
            .iter()
            .map(|s| (s.model.clone(), s.requests))
            .collect()
    }

    #[tokio::test]
    async fn balanced_shards_never_leave_a_small_one() {
        let text: String = (0..50_005).map(|i| line(&format!("r{i}"), "m")).collect();
        let check = plan(&text, ShardLimits::default()).await;
        assert_eq!(sizes(&check), [("m".into(), 25_003), ("m".into(), 25_002)]);
        let plan = check.plan.unwrap();
        assert_eq!(plan.shard_of(25_002), Some(0));
        assert_eq!(plan.shard_of(25_003), Some(1));
        assert_eq!(plan.requests(), 50_005);
        assert_eq!(plan.bytes(), text.len() as u64);
    }

    #[tokio::test]
    async fn models_are_split_apart_in_input_order() {
        let text: String = (0..30)
            .map(|i| line(&format!("r{i}"), if i % 3 == 0 { "b" } else { "a" }))
            .collect();
        let check = plan(&text, ShardLimits::default()).await;
        assert_eq!(sizes(&check), [("b".into(), 10), ("a".into(), 20)]);
        let plan = check.plan.unwrap();
        assert_eq!((plan.shard_of(0), plan.shard_of(1)), (Some(0), Some(1)));
    }

    #[tokio::test]
    async fn a_model_with_too_few_requests_is_refused_by_name() {
        let text: String = (0..15)
            .map(|i| line(&format!("r{i}"), if i == 7 { "tiny" } else { "big" }))
            .collect();
        let check = plan(&text, ShardLimits::default()).await;
        assert!(check.plan.is_none());
        let problems: Vec<String> = check.problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("model \"tiny\" has 1 request(s) (first on line 8); a batch needs at least 10"),
            "{problems:?}"
        );
    }

    #[tokio::test]
    async fn the_bytes_limit_makes_more_shards() {
        let text: String = (0..40).map(|i| line(&format!("r{i}"), "m")).collect();
        let size = line("r10", "m").len() as u64;
        let check = plan(&text, ShardLimits::default().max_bytes(size * 15)).await;
        let counts: Vec<usize> = sizes(&check).into_iter().map(|(_, n)| n).collect();
        assert_eq!(counts, [14, 13, 13]);
        let check = plan(&text, ShardLimits::default().max_bytes(size * 9)).await;
        assert!(check.plan.is_none());
        assert!(
            check.problems[0].to_string().contains("cannot be cut into batches"),
            "{}",
            check.problems[0]
        );
    }

    #[tokio::test]
    async fn every_bad_line_is_named() {
        let mut text: String = (0..12).map(|i| line(&format!("r{i}"), "m")).collect();
        text.push_str("not json\n");
        text.push_str(&line("r3", "m"));
        text.push('\n');
        let check = plan(&text, ShardLimits::default()).await;
        let lines: Vec<Option<usize>> = check.problems.iter().map(Error::line).collect();
        assert_eq!(lines, [Some(13), Some(14), Some(15)]);
        assert!(
            check.problems[1]
                .to_string()
                .contains("custom_id \"r3\" is used twice: on lines 4 and 14"),
            "{}",
            check.problems[1]
        );
    }

    #[tokio::test]
    async fn shards_are_written_in_input_order() {
        let text: String = (0..30)
            .map(|i| line(&format!("r{i}"), if i % 3 == 0 { "b" } else { "a" }))
            .collect();
        let plan = plan(&text, ShardLimits::default()).await.plan.unwrap();
        let dir = std::env::temp_dir().join(format!("cerebras-batch-shards-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let paths = write_shards(text.as_bytes(), &plan, |s| dir.join(format!("{}.jsonl", s.index)))
            .await
            .unwrap();
        let b = std::fs::read_to_string(&paths[0]).unwrap();
        let expected: String = (0..30)
            .filter(|i| i % 3 == 0)
            .map(|i| line(&format!("r{i}"), "b"))
            .collect();
        assert_eq!(b, expected);
        let changed = write_shards(&text.as_bytes()[..text.len() / 2], &plan, |s| {
            dir.join(format!("{}.jsonl", s.index))
        })
        .await
        .unwrap_err();
        assert_eq!(changed.kind(), ErrorKind::InvalidInput);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn every_duplicate_names_its_first_line_and_the_plan_reads_from_where_the_reader_stands() {
        let mut text = String::from("not part of the file\n");
        let skip = text.len() as u64;
        for i in 0..30 {
            let id = if i % 10 == 9 {
                "twin".to_owned()
            } else {
                format!("r{i}")
            };
            text.push_str(&line(&id, "m"));
        }
        let mut reader = std::io::Cursor::new(text.as_bytes());
        reader.set_position(skip);
        let check = plan_shards(reader, ShardLimits::default()).await.unwrap();
        let problems: Vec<(Option<usize>, String)> = check.problems.iter().map(|p| (p.line(), p.to_string())).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].0, Some(20));
        assert!(
            problems[0]
                .1
                .contains("custom_id \"twin\" is used twice: on lines 10 and 20"),
            "{problems:?}"
        );
        assert_eq!(problems[1].0, Some(30));
        assert!(problems[1].1.contains("on lines 10 and 30"), "{problems:?}");
    }
}
