//! Benchmarks of `cerebras-batch` against the floor of its own stack, raw `reqwest` + `serde`,
//! and against async-openai 0.43 (the call figures), on loopback; and the build cost of a
//! downstream crate. Run them as `cargo xtask bench` and `cargo xtask build-cost` (release
//! builds); CI runs neither (they take minutes, and a shared machine is noisy).
//!
//! Every figure is a ratio of two clients measured in the same round, the clients interleaved
//! (the order alternates between rounds; the call figures take turns in six slices within a
//! round, every client in every place), over several rounds; the report gives each ratio's
//! median and its spread (lowest–highest). The server is another process (axum), so that the
//! client's CPU time is its own.

mod build_cost;
mod calls;
mod job;
mod results;
mod server;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bench",
    about = "cerebras-batch against raw reqwest on loopback, and build costs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every figure: calls at 1 and 64 in flight, CPU per call, results reading, saving.
    Run {
        /// Interleaved rounds (at least 5).
        #[arg(long, default_value_t = 7)]
        rounds: usize,
        /// Calls per measurement at 1 in flight (64 in flight makes 10× as many).
        #[arg(long, default_value_t = 12_000)]
        calls: usize,
        /// The results file's size in MB.
        #[arg(long, default_value_t = 200)]
        results_mb: u64,
    },
    /// Jobs of each size against the stateful fake (up to 24 batches, 10 active), in
    /// processes of their own: wall time and peak RSS; then checking and merging lines/s
    /// beside a plain serde_json reader, as ratios.
    Job {
        /// Requests per job, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [120_000, 600_000, 1_200_000])]
        lines: Vec<usize>,
        /// Runs of each size (at least 1).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Interleaved rounds of the checking and merging ratios.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Only check and merge a job's input once (for a profiler: `perf record -g
    /// target/release/bench job-merge`); the files of `job` must exist.
    JobMerge {
        /// Requests (a size `job` ran).
        #[arg(long, default_value_t = 1_200_000)]
        lines: usize,
        /// The shuffled result files instead of those in input order.
        #[arg(long)]
        shuffled: bool,
    },
    /// Serve the stateful fake (started by `job`).
    JobFake,
    /// Run one job (started by `job`).
    JobRun {
        /// The fake's base URL.
        base_url: String,
        /// The request file.
        input: PathBuf,
        /// The results file.
        output: PathBuf,
    },
    /// Only calls, with one client (for a profiler: `perf record -g target/release/bench calls`).
    Calls {
        /// `ours`, `ours-plain` (with a plain reqwest client), `floor` or `async-openai`.
        #[arg(long, default_value = "ours")]
        client: String,
        /// Calls.
        #[arg(long, default_value_t = 50_000)]
        n: usize,
        /// In flight.
        #[arg(long, default_value_t = 64)]
        inflight: usize,
        /// Read the results file instead of making calls.
        #[arg(long)]
        results: bool,
    },
    /// Serve the loopback API (started by `run`).
    Serve {
        /// The results file served as `GET /v1/files/{id}/content`.
        results: PathBuf,
    },
    /// Save the results file once with the client and print the process's peak RSS (started
    /// by `run`, in a process of its own).
    SaveRss {
        /// The server's base URL.
        base_url: String,
        /// Where to save.
        out: PathBuf,
    },
    /// Build a minimal downstream crate that cancels one batch, clean, in release: with this
    /// crate and with async-openai; print crates compiled and CPU seconds.
    BuildCost {
        /// Also build with these features of cerebras-batch (and `default-features = false`),
        /// e.g. `rustls-ring`; repeatable.
        #[arg(long = "features")]
        features: Vec<String>,
        /// Skip the async-openai build.
        #[arg(long)]
        skip_async_openai: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The floor's reqwest is the client's (same features): rustls without a built-in provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = if std::env::var_os("BENCH_CURRENT_THREAD").is_some() {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    }
    .expect("a runtime");
    let result = match cli.command {
        Command::Run {
            rounds,
            calls,
            results_mb,
        } => runtime.block_on(run(rounds.max(5), calls, results_mb)),
        Command::Calls {
            client,
            n,
            inflight,
            results,
        } => runtime.block_on(only(&client, n, inflight, results)),
        Command::Job { lines, runs, rounds } => runtime.block_on(job::run(&lines, runs.max(1), rounds.max(1))),
        Command::JobMerge { lines, shuffled } => runtime.block_on(job::merge_once(lines, shuffled)),
        Command::JobFake => runtime.block_on(job::serve_fake()),
        Command::JobRun {
            base_url,
            input,
            output,
        } => runtime.block_on(job::run_job(&base_url, &input, &output)),
        Command::Serve { results } => runtime.block_on(server::serve(results)),
        Command::SaveRss { base_url, out } => runtime.block_on(results::save_rss(&base_url, &out)),
        Command::BuildCost {
            features,
            skip_async_openai,
        } => build_cost::run(&features, skip_async_openai),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The folder for generated files: `target/bench`.
fn work_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench can be created");
    dir
}

async fn only(which: &str, n: usize, inflight: usize, read_results: bool) -> Result<(), String> {
    let results_file = results::ensure_file(&work_dir(), 200)?;
    let server = server::Child::start(&results_file).await?;
    let ours = calls::ours_client(&server.base_url)?;
    let floor = calls::floor_client()?;
    let peer = calls::peer_client(&server.base_url);
    let m = match (which, read_results) {
        ("ours", false) => stats::measure(calls::ours(&ours, n, inflight)).await?,
        ("ours-plain", false) => {
            let plain = cerebras_batch::Client::builder()
                .api_key(calls::KEY)
                .base_url(&server.base_url)
                .http_client(calls::floor_client()?)
                .build()
                .map_err(|e| e.to_string())?;
            stats::measure(calls::ours(&plain, n, inflight)).await?
        }
        ("floor", false) => stats::measure(calls::floor(&floor, &server.base_url, n, inflight)).await?,
        ("async-openai", false) => stats::measure(calls::peer(&peer, n, inflight)).await?,
        ("ours", true) => stats::measure(results::ours_read(&ours)).await?,
        ("floor", true) => stats::measure(results::floor_read(&floor, &server.base_url)).await?,
        _ => return Err("--client is ours, ours-plain, floor or async-openai (results: ours or floor)".into()),
    };
    println!(
        "{which}: {} units in {:?} ({:.0}/s), CPU {:?}",
        m.units,
        m.wall,
        m.units as f64 / m.wall.as_secs_f64(),
        m.cpu
    );
    Ok(())
}

async fn run(rounds: usize, calls: usize, results_mb: u64) -> Result<(), String> {
    let results_file = results::ensure_file(&work_dir(), results_mb)?;
    let server = server::Child::start(&results_file).await?;
    let base = server.base_url.clone();
    println!(
        "cerebras-batch (this workspace) vs raw reqwest + serde (the floor) and async-openai 0.43, loopback {base}; {rounds} interleaved rounds; {} logical CPUs",
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    let mut table = stats::Table::default();
    let clients = calls::Clients::new(&base)?;
    let (ours, floor) = (&clients.ours, &clients.floor);
    // Warm up every client: connections, allocator, page cache.
    calls::measure_three(&clients, 600, 8, true).await?;
    calls::measure_three(&clients, 600, 64, false).await?;
    for round in 0..rounds {
        let flip = round % 2 == 1;
        // retrieve_batch (GET /v1/batches/{id}) with each client.
        let one = calls::measure_three(&clients, calls, 1, flip).await?;
        table.add("calls/s, 1 in flight: ours / floor", one.ours_floor().rate_ratio(), "—");
        table.add(
            "calls/s, 1 in flight: ours / async-openai",
            one.ours_peer().rate_ratio(),
            "—",
        );
        let many = calls::measure_three(&clients, calls * 10, 64, flip).await?;
        let (vs_floor, vs_peer, peer) = (many.ours_floor(), many.ours_peer(), many.peer_floor());
        table.add("calls/s, 64 in flight: ours / floor", vs_floor.rate_ratio(), "≥ 0.90×");
        table.add(
            "calls/s, 64 in flight: ours / async-openai",
            vs_peer.rate_ratio(),
            "≥ 1.00×",
        );
        table.add("calls/s, 64 in flight: async-openai / floor", peer.rate_ratio(), "—");
        table.add(
            "client CPU per call, 64 in flight: ours / floor",
            vs_floor.cpu_ratio(),
            "≤ 1.15×",
        );
        table.add(
            "client CPU per call, 64 in flight: ours / async-openai",
            vs_peer.cpu_ratio(),
            "< 1.00×",
        );
        table.add(
            "client CPU per call, 64 in flight: async-openai / floor",
            peer.cpu_ratio(),
            "—",
        );
        let read = results::measure_pair(ours, floor, &base, !flip).await?;
        table.add(
            "results(): typed lines/s, 200 MB file: ours / floor (1)",
            read.rate_ratio(),
            "≥ 2.0×",
        );
        let save = results::measure_save_pair(ours, floor, &base, &work_dir(), !flip).await?;
        table.add(
            "save() of the 200 MB file, bytes/s: ours / floor",
            save.rate_ratio(),
            "≥ 0.9×",
        );
        eprintln!("round {}/{rounds} done", round + 1);
    }
    let rss = results::save_rss_child(&base, &work_dir()).await?;
    println!("{}", table.render());
    println!(
        "(1) the floor parses each line's `response` into a map; ours checks it as a full decode would and keeps it raw until asked."
    );
    println!("save(): peak RSS of a process that saves the 200 MB file: {rss:.1} MiB (goal < 64 MiB)");
    Ok(())
}
