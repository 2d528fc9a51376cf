//! `docs-drift` (run it as `cargo xtask docs-drift`): checks `spec/openapi.yaml` against the
//! vendor's documentation pages; `--fetch` downloads the current pages first.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "docs-drift",
    about = "Check spec/openapi.yaml against the vendor's documentation pages (Mintlify .md)"
)]
struct Args {
    /// The spec.
    #[arg(long, default_value = "spec/openapi.yaml")]
    spec: PathBuf,
    /// The reviewed list of known differences (the allow-list).
    #[arg(long, default_value = "spec/known-differences.yaml")]
    known: PathBuf,
    /// A folder of stored pages (`cancel-batch.md`, ...); may repeat, the first folder holding a
    /// page wins. Default: those of spec/vendor-pages (fetched pages), ../shared/reference (the
    /// vendor's cancel page) and tests/fixtures/docs-pages (pages written by us) that exist.
    #[arg(long = "pages")]
    pages: Vec<PathBuf>,
    /// Download the current `.md` pages of every operation (and the guide) into `--out` first,
    /// and check those.
    #[arg(long)]
    fetch: bool,
    /// Where the pages are fetched from (a test server, say), instead of the vendor's site.
    #[arg(long, default_value = "https://inference-docs.cerebras.ai", requires = "fetch")]
    base_url: String,
    /// Where fetched pages are written: a folder of the repository, so that a pull request that
    /// follows a docs change shows the change too.
    #[arg(long, default_value = "spec/vendor-pages")]
    out: PathBuf,
}

/// The folders read when `--pages` is not given, in order; those that exist are read.
const DEFAULT_PAGES: &[&str] = &["spec/vendor-pages", "../shared/reference", "tests/fixtures/docs-pages"];

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("docs-drift: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let spec = cerebras_batch_docs_drift::read_spec(&args.spec)?;
    let known_text =
        std::fs::read_to_string(&args.known).map_err(|e| format!("cannot read {}: {e}", args.known.display()))?;
    let known = cerebras_batch_docs_drift::known_differences(&known_text)
        .map_err(|e| format!("{}: {e}", args.known.display()))?;
    let mut dirs = args.pages.clone();
    if dirs.is_empty() {
        dirs = DEFAULT_PAGES.iter().map(PathBuf::from).filter(|d| d.is_dir()).collect();
    }
    if args.fetch {
        for line in cerebras_batch_docs_drift::fetch(&spec, &args.base_url, &args.out).await? {
            println!("{line}");
        }
        dirs.retain(|d| *d != args.out);
        dirs.insert(0, args.out.clone());
    }
    if dirs.is_empty() {
        return Err("no pages: give --pages DIR (stored pages) or --fetch".into());
    }
    let absent: Vec<&str> = DEFAULT_PAGES
        .iter()
        .copied()
        .filter(|d| args.pages.is_empty() && !std::path::Path::new(d).is_dir())
        .collect();
    println!(
        "pages read from: {}{}",
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        if absent.is_empty() {
            String::new()
        } else {
            format!(" (absent here: {})", absent.join(", "))
        }
    );
    let wanted: Vec<String> = cerebras_batch_docs_drift::page_urls(&spec)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let pages = cerebras_batch_docs_drift::load_pages(&dirs, &wanted)?;
    let report = cerebras_batch_docs_drift::check(&spec, &pages, &known);
    print!("{}", report.text());
    Ok(!report.failed())
}
