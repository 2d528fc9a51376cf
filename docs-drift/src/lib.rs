//! `docs-drift`: catches drift at its source, between the vendor's documentation pages and
//! `spec/openapi.yaml`, which was written by hand from them.
//!
//! Cerebras publishes no OpenAPI document for the Batch and Files APIs; its pages are the
//! source of truth, published as Markdown with Mintlify tags. [`page`] reads them, [`compare`]
//! holds the spec against them, and [`check`] classifies each difference as known (listed with
//! its source in `spec/known-differences.yaml`, the one list of reviewed differences) or not.
//! The binary adds `--fetch`, which downloads the current pages (the only network code here,
//! kept out of `cargo xtask regen`).

pub mod compare;
pub mod page;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use compare::Difference;
pub use page::{Page, PageError, Source};

/// A page file as found: where, and what reading it gave.
#[derive(Clone, Debug)]
pub struct Found {
    /// The file.
    pub path: PathBuf,
    /// The page, or why it could not be read.
    pub page: Result<Page, PageError>,
}

/// Reads the pages named `wanted` (file names, as [`page_urls`] gives them) from `dirs`; a name
/// found in several folders is taken from the first. Other files of the folders are left alone.
/// A page file that cannot be read is kept as [`PageError::Unreadable`], so that the check
/// fails naming it (never as an empty page).
///
/// # Errors
///
/// A message naming a folder that cannot be listed.
pub fn load_pages(dirs: &[PathBuf], wanted: &[String]) -> Result<BTreeMap<String, Found>, String> {
    let mut out = BTreeMap::new();
    for dir in dirs {
        let cannot = |e: std::io::Error| format!("cannot list the pages in {}: {e}", dir.display());
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(cannot)? {
            let path = entry.map_err(cannot)?.path();
            if path.is_file() && path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            if out.contains_key(&name) || !wanted.contains(&name) {
                continue;
            }
            let page = std::fs::read_to_string(&path)
                .map_err(|e| PageError::Unreadable { message: e.to_string() })
                .and_then(|text| page::parse(&name, &text));
            out.insert(name, Found { path, page });
        }
    }
    Ok(out)
}

/// One entry of the known-differences list, as docs-drift uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// The entry's id.
    pub id: String,
    /// The page's file name.
    pub page: String,
    /// The JSON pointer into the spec.
    pub pointer: String,
    /// The difference texts (as [`Difference::what`]) it acknowledges.
    pub drift: Vec<String>,
}

/// Reads `spec/known-differences.yaml`.
///
/// # Errors
///
/// A message when the YAML does not parse or is not a list, or when an entry lacks its `id`,
/// `page` or `pointer`.
pub fn known_differences(text: &str) -> Result<Vec<Known>, String> {
    let list = cerebras_batch_generator::yaml::load(text)
        .map_err(|e| format!("line {}: {}", e.position.0, e.message))?
        .value;
    let entries = list.as_array().ok_or("the known differences are not a list")?;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            // A missing or non-text field is an error naming the entry, never an empty text
            // that would match nothing (or everything).
            let text = |key: &str| {
                e.get(key)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| format!("known difference {} has no text `{key}`", i + 1))
            };
            Ok(Known {
                id: text("id")?,
                page: compare::page_name(&text("page")?),
                pointer: text("pointer")?,
                drift: e
                    .get("drift")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .collect()
}

/// What a check found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every page read or refused: `(name, path, who wrote it or why it cannot be read)`.
    pub pages: Vec<(String, PathBuf, Result<Source, PageError>)>,
    /// Every difference, with the id of the known difference that acknowledges it.
    pub differences: Vec<(Difference, Option<String>)>,
    /// What was not checked, and why (the guide absent, say).
    pub notes: Vec<String>,
}

impl Report {
    /// Differences no known difference acknowledges.
    pub fn unacknowledged(&self) -> impl Iterator<Item = &Difference> {
        self.differences.iter().filter(|(_, k)| k.is_none()).map(|(d, _)| d)
    }

    /// Pages that could not be read (truncated or malformed).
    pub fn unreadable(&self) -> impl Iterator<Item = (&String, &PageError)> {
        self.pages
            .iter()
            .filter_map(|(n, _, r)| r.as_ref().err().map(|e| (n, e)))
    }

    /// Whether the check fails: unacknowledged drift, or a page that cannot be read.
    pub fn failed(&self) -> bool {
        self.unacknowledged().next().is_some() || self.unreadable().next().is_some()
    }

    /// The report as text: the pages and who wrote them, then one line per difference,
    /// breaking first (`page:line: pointer: what`), known ones marked with their id.
    pub fn text(&self) -> String {
        let mut out = String::from("pages:\n");
        for (name, path, result) in &self.pages {
            let what = match result {
                Ok(Source::Vendor) => "a vendor copy".to_owned(),
                Ok(Source::Ours) => "written by us in the vendor's markup".to_owned(),
                Err(e) => format!("UNREADABLE: {}", e.located(name)),
            };
            let _ = writeln!(out, "  {name}: {what} ({})", path.display());
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out.push('\n');
        for (d, known) in &self.differences {
            let mark = match (known, d.breaking) {
                (Some(_), _) => "known",
                (None, true) => "BREAKING",
                (None, false) => "drift",
            };
            let _ = write!(out, "{mark:<9} {}:{}: {}: {}", d.page, d.line, d.pointer, d.what);
            if let Some(id) = known {
                let _ = write!(out, " [{id}]");
            }
            out.push('\n');
        }
        let count = |source: Source| {
            self.pages
                .iter()
                .filter(|(_, _, r)| r.as_ref().is_ok_and(|s| *s == source))
                .count()
        };
        let unack = self.unacknowledged().count();
        let unreadable = self.unreadable().count();
        let _ = writeln!(
            out,
            "{}{} page(s) checked: {} vendor copies, {} written by us; {} unreadable",
            if self.differences.is_empty() { "" } else { "\n" },
            self.pages.len(),
            count(Source::Vendor),
            count(Source::Ours),
            unreadable,
        );
        let _ = writeln!(
            out,
            "{} difference(s): {} known, {unack} not",
            self.differences.len(),
            self.differences.len() - unack
        );
        if unack > 0 {
            out.push_str(
                "fix the spec, or review the difference and add its text to the `drift` list of an entry of spec/known-differences.yaml\n",
            );
        }
        if unreadable > 0 {
            out.push_str(
                "an unreadable page's operation was not checked: store the whole page (docs-drift --fetch), or fix what keeps the file from being read\n",
            );
        }
        out
    }
}

/// Checks `spec` against `pages`, classifying each difference by `known`; `guide` is the file
/// name of the guide page (the spec's top-level `externalDocs`), checked for endpoints the spec
/// lacks when present.
pub fn check(spec: &Value, pages: &BTreeMap<String, Found>, known: &[Known]) -> Report {
    let mut report = Report::default();
    let mut readable = BTreeMap::new();
    for (name, found) in pages {
        report.pages.push((
            name.clone(),
            found.path.clone(),
            found.page.as_ref().map(|p| p.source.clone()).map_err(Clone::clone),
        ));
        if let Ok(p) = &found.page {
            readable.insert(name.clone(), p.clone());
        }
    }
    let mut differences = compare::compare(spec, &readable);
    // A page that was found but cannot be read is reported as such (in `pages`), not as absent.
    differences.retain(|d| readable.contains_key(&d.page) || !pages.contains_key(&d.page));
    let guide = spec
        .pointer("/externalDocs/url")
        .and_then(Value::as_str)
        .map(compare::page_name);
    match guide.as_ref().map(|g| (g, readable.get(g))) {
        Some((_, Some(g))) => differences.extend(compare::compare_guide(spec, g)),
        Some((name, None)) => report.notes.push(format!(
            "the guide {name} was not given: the endpoints it calls were not checked"
        )),
        None => report
            .notes
            .push("the spec names no guide (top-level externalDocs): no endpoint list was checked".into()),
    }
    differences.sort_by(|a, b| b.breaking.cmp(&a.breaking).then_with(|| a.cmp(b)));
    // A page the check does not read at all (not an operation's, not the guide) is not listed.
    report.differences = differences
        .into_iter()
        .map(|d| {
            // An entry acknowledges its drift texts on its page, or at its pointer: a shared
            // schema's difference shows on every page that shows the schema.
            let id = known
                .iter()
                .find(|k| (k.page == d.page || k.pointer == d.pointer) && k.drift.contains(&d.what))
                .map(|k| k.id.clone());
            (d, id)
        })
        .collect();
    report
}

/// The pages an operation of the spec names (its `externalDocs.url`), and the guide's, as
/// `(file name, URL)`.
pub fn page_urls(spec: &Value) -> Vec<(String, String)> {
    let mut urls: Vec<String> = Vec::new();
    if let Some(u) = spec.pointer("/externalDocs/url").and_then(Value::as_str) {
        urls.push(u.to_owned());
    }
    for o in cerebras_batch_generator::spec_walk::operations(spec) {
        if let Some(u) = o.op.pointer("/externalDocs/url").and_then(Value::as_str)
            && !urls.iter().any(|x| x == u)
        {
            urls.push(u.to_owned());
        }
    }
    urls.into_iter().map(|u| (compare::page_name(&u), u)).collect()
}

/// Reads the spec file.
///
/// # Errors
///
/// A message naming the file.
pub fn read_spec(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    cerebras_batch_generator::parse_spec(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The vendor's documentation site, which every page URL of the spec is expected under.
pub const DOCS_SITE: &str = "https://inference-docs.cerebras.ai";

/// Downloads `<page URL>.md` for every page the spec names ([`page_urls`]) into `out`, each as
/// its file name (`cancel-batch.md`), and returns one line per page saying what happened.
///
/// `base` replaces [`DOCS_SITE`] in the URLs (a local test server, say); a URL outside
/// [`DOCS_SITE`] is not fetched. A page that answers with an error status is skipped and said
/// so; the old copy in `out`, if any, stays.
///
/// # Errors
///
/// A message when `out` cannot be created or written, or a request fails to connect.
pub async fn fetch(spec: &Value, base: &str, out: &Path) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for (name, url) in page_urls(spec) {
        let Some(rest) = url.strip_prefix(DOCS_SITE) else {
            lines.push(format!("{url}: not a page of {DOCS_SITE}; not fetched"));
            continue;
        };
        let url = format!("{}{}.md", base.trim_end_matches('/'), rest.trim_end_matches(".md"));
        let response = http.get(&url).send().await.map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            lines.push(format!("{url}: answered {}; skipped", response.status()));
            continue;
        }
        let text = response.text().await.map_err(|e| format!("{url}: {e}"))?;
        let file = out.join(&name);
        std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        lines.push(format!("fetched {url} into {}", file.display()));
    }
    Ok(lines)
}
