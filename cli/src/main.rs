//! `cerebras-batch`: run a JSONL file of any size through the Cerebras Batch API to one merged
//! results file (`submit`), and small commands over the Batch and Files APIs (`status`, `list`,
//! `cancel`, `download`, `files`). A thin layer over the `cerebras-batch` library: `submit`
//! presents its `job::Job`.
//!
//! Exit codes: one table, [`EXIT_CODES`], printed by `--help` and copied into the README.

mod commands;
mod config;
mod hooks;
mod interrupt;
mod output;
mod plan;
mod present;
mod progress;
mod submit;
mod tty;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The exit codes, as `--help` prints them (the README has the same table).
pub const EXIT_CODES: &str = "\
Exit codes:
  0    done: every request succeeded (`status --wait`: the batch completed, counts consistent)
  1    an error (nothing else to say: the message is on stderr)
  2    bad arguments
  3    partial success: finished (`status --wait`: the batch completed), but some requests failed, expired or have no result
  4    the batch expired (`status --wait`)
  5    the batch was cancelled (`status --wait`)
  6    the batch failed (`status --wait`)
  7    the batch completed without request counts, or with counts that do not add up
       (total != completed + failed) (`status --wait`)
  8    submitted, not finished yet (`submit` without --wait): run it again to go on
  124  `status --wait` ran out of time (--timeout, or 25 hours without it); the batch goes on
  130  interrupted (Ctrl-C); a remote batch is never cancelled unless asked to";

/// Run Cerebras batches from the command line.
///
/// Configuration comes from the same variables as the library: CEREBRAS_API_KEY (or
/// --api-key-file), CEREBRAS_BASE_URL (or --base-url) and CEREBRAS_CUSTOM_HEADERS.
/// The key is never printed.
#[derive(Parser)]
#[command(name = "cerebras-batch", version, about, long_about, after_help = EXIT_CODES)]
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
    /// Show one batch; with --wait, wait until it ends and exit by how it ended (see the exit
    /// codes below).
    #[command(after_help = EXIT_CODES)]
    Status {
        /// The batch id (any batch, not only those `submit` created).
        batch_id: String,
        /// Wait until the batch is final, showing its progress; the exit code says how it
        /// ended. Ctrl-C stops waiting (130) and leaves the batch running.
        #[arg(long)]
        wait: bool,
        /// With --wait: stop waiting after this many seconds (exit 124); without it, after 25
        /// hours (the client's DEFAULT_WAIT_DEADLINE).
        #[arg(long, requires = "wait", value_parser = crate::seconds, value_name = "SECONDS")]
        timeout: Option<Duration>,
        /// With --wait: seconds between polls (the first; they grow by half up to 60 s).
        #[arg(long, requires = "wait", default_value = "2", value_parser = crate::seconds, value_name = "SECONDS")]
        poll_interval: Duration,
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
    /// Print a completion script for a shell on stdout (bash: `source <(cerebras-batch
    /// completions bash)`; zsh: write it as `_cerebras-batch` into a folder of `$fpath`; fish:
    /// into `~/.config/fish/completions/cerebras-batch.fish`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
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

/// How a command ended, as the process's exit code (see [`EXIT_CODES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done: 0.
    Done,
    /// Finished, some requests failed, expired or have no result: 3.
    Partial,
    /// The batch expired: 4.
    Expired,
    /// The batch was cancelled: 5.
    Cancelled,
    /// The batch failed: 6.
    Failed,
    /// The batch completed with counts missing or inconsistent: 7.
    BadCounts,
    /// Submitted, not finished yet: 8.
    NotFinished,
    /// A status the table does not know (a final status newer than this command): 1.
    Unknown,
    /// `--timeout` ran out: 124.
    TimedOut,
    /// Interrupted (Ctrl-C): 130.
    Interrupted,
}

impl Outcome {
    /// The exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Unknown => 1,
            Outcome::Partial => 3,
            Outcome::Expired => 4,
            Outcome::Cancelled => 5,
            Outcome::Failed => 6,
            Outcome::BadCounts => 7,
            Outcome::NotFinished => 8,
            Outcome::TimedOut => 124,
            Outcome::Interrupted => 130,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(o.code())
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
        Command::Submit(args) if args.dry_run => plan::dry_run(g, &args).await,
        Command::Submit(args) => submit::run(client()?, g, args).await,
        Command::Status {
            batch_id, wait: false, ..
        } => commands::status(&client()?, g, &batch_id).await,
        Command::Status {
            batch_id,
            timeout,
            poll_interval,
            ..
        } => watch::status_wait(&client()?, g, &batch_id, timeout, poll_interval).await,
        Command::List { all, limit } => commands::list_batches(&client()?, g, all, limit).await,
        Command::Cancel { batch_ids, wait } => commands::cancel(&client()?, g, &batch_ids, wait).await,
        Command::Download { batch_id, out, errors } => commands::download(&client()?, g, &batch_id, &out, errors).await,
        Command::Files(FilesCommand::List { all, limit }) => commands::list_files(&client()?, g, all, limit).await,
        Command::Files(FilesCommand::Get { file_id }) => commands::get_file(&client()?, g, &file_id).await,
        Command::Files(FilesCommand::Delete { file_id }) => commands::delete_file(&client()?, g, &file_id).await,
        Command::Files(FilesCommand::Upload { path, expires_after }) => {
            commands::upload_file(&client()?, g, &path, expires_after).await
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "cerebras-batch", &mut std::io::stdout());
            Ok(Outcome::Done)
        }
    }
}
