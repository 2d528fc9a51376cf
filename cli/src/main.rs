//! `cerebras-batch`: run a JSONL file of any size through the Cerebras Batch API to one merged
//! results file (`submit`), and small commands over the Batch and Files APIs (`status`, `list`,
//! `cancel`, `download`, `files`). A thin layer over the `cerebras-batch` library: `submit`
//! presents its `job::Job`.
//!
//! Exit codes: 0 done (or, without `--wait`, progressing); 1 an error; 2 bad arguments;
//! 3 `submit` finished but some requests failed, expired or have no result; 130 interrupted.

mod commands;
mod config;
mod hooks;
mod output;
mod present;
mod progress;
mod submit;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Run Cerebras batches from the command line.
///
/// Configuration comes from the same variables as the library: CEREBRAS_API_KEY (or
/// --api-key-file), CEREBRAS_BASE_URL (or --base-url) and CEREBRAS_CUSTOM_HEADERS.
/// The key is never printed.
#[derive(Parser)]
#[command(name = "cerebras-batch", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Args, Clone, Debug)]
pub struct Global {
    /// The API's base URL (default: CEREBRAS_BASE_URL, else https://api.cerebras.ai).
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Read the API key from this file (its first line) instead of CEREBRAS_API_KEY.
    #[arg(long, global = true, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Print one JSON document on stdout instead of a table (stable field names: the API's).
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing on stderr but errors (no progress).
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log each request and step on stderr (tracing).
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run a JSONL request file of any size to one merged results file, in the input's order.
    ///
    /// Checks every line, splits the file into batches within the limits (50,000 requests and
    /// 200 MB per batch, one model each), uploads, creates, waits and merges. The run keeps its
    /// state in RESULTS.state.json: run the same command again after any interruption to
    /// continue, without uploading or creating anything twice.
    Submit(submit::SubmitArgs),
    /// Show one batch.
    Status {
        /// The batch id.
        batch_id: String,
    },
    /// List batches, newest first.
    List {
        /// Every batch, following the pages (default: the first page).
        #[arg(long)]
        all: bool,
        /// Batches per page (1 to 100).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=100))]
        limit: i64,
    },
    /// Cancel batches (Cerebras cancels with DELETE /v1/batches/{batch_id}).
    Cancel {
        /// The batch ids.
        #[arg(required = true)]
        batch_ids: Vec<String>,
        /// Wait until each is `cancelled` (or otherwise finished).
        #[arg(long)]
        wait: bool,
    },
    /// Download a batch's output file (or, with --errors, its error file).
    Download {
        /// The batch id.
        batch_id: String,
        /// Where to write it.
        #[arg(long, short)]
        out: PathBuf,
        /// The error file instead of the output file.
        #[arg(long)]
        errors: bool,
    },
    /// Work with files.
    #[command(subcommand)]
    Files(FilesCommand),
}

#[derive(Subcommand)]
enum FilesCommand {
    /// List files, newest first.
    List {
        /// Every file, following the pages.
        #[arg(long)]
        all: bool,
        /// Files per page (1 to 100).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=100))]
        limit: i64,
    },
    /// Show one file.
    Get {
        /// The file id.
        file_id: String,
    },
    /// Delete a file.
    Delete {
        /// The file id.
        file_id: String,
    },
    /// Upload a JSONL request file (purpose `batch`), checked first.
    Upload {
        /// The file.
        path: PathBuf,
        /// Seconds after which the API deletes it (3600 to 2592000).
        #[arg(long, value_name = "SECONDS")]
        expires_after: Option<i64>,
    },
}

/// How a command ended, as the process's exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done (or progressing).
    Done,
    /// Some requests failed, expired or have no result.
    Incomplete,
    /// Interrupted (Ctrl-C).
    Interrupted,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Done => ExitCode::SUCCESS,
            Outcome::Incomplete => ExitCode::from(3),
            Outcome::Interrupted => ExitCode::from(130),
        }
    }
}

/// Parses a duration in seconds (`0.5`, `10`).
pub fn seconds(text: &str) -> Result<Duration, String> {
    let s: f64 = text.parse().map_err(|_| format!("not a number of seconds: {text}"))?;
    if !(0.05..=86_400.0).contains(&s) {
        return Err(format!("{text}: give 0.05 to 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(s))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if cli.global.verbose { "debug" } else { "warn" };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(level.parse::<tracing::Level>().unwrap_or(tracing::Level::WARN))
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cerebras-batch: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    hooks::report_peak_rss();
    match result {
        Ok(outcome) => outcome.into(),
        Err(e) => {
            eprintln!("cerebras-batch: {}", output::error_text(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let g = &cli.global;
    let client = || config::client(g);
    match cli.command {
        Command::Submit(args) => submit::run(client()?, g, args).await,
        Command::Status { batch_id } => commands::status(&client()?, g, &batch_id).await,
        Command::List { all, limit } => commands::list_batches(&client()?, g, all, limit).await,
        Command::Cancel { batch_ids, wait } => commands::cancel(&client()?, g, &batch_ids, wait).await,
        Command::Download { batch_id, out, errors } => commands::download(&client()?, g, &batch_id, &out, errors).await,
        Command::Files(FilesCommand::List { all, limit }) => commands::list_files(&client()?, g, all, limit).await,
        Command::Files(FilesCommand::Get { file_id }) => commands::get_file(&client()?, g, &file_id).await,
        Command::Files(FilesCommand::Delete { file_id }) => commands::delete_file(&client()?, g, &file_id).await,
        Command::Files(FilesCommand::Upload { path, expires_after }) => {
            commands::upload_file(&client()?, g, &path, expires_after).await
        }
    }
}
