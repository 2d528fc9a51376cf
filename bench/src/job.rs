//! The job benchmark (`bench job`): jobs of 120,000 to 1,200,000 lines (up to 24 batches, 10
//! active) run by `cerebras_batch::job::Job` against the stateful fake (`cerebras-batch-mock`),
//! each in a process of its own, reporting wall time and peak RSS; then checking and merging
//! lines/s beside a plain `serde_json` reader of the input and of the result files, as ratios.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cerebras_batch::job::Job;
use cerebras_batch::merge::{ShardResults, merge_results};
use cerebras_batch::shard::{ShardLimits, ShardPlan, plan_shards};

use crate::stats::{Measure, Pair, Table};

/// The model of every generated request.
const MODEL: &str = "llama3.1-8b";

/// The line of request `i` (about 150 bytes: 1,200,000 lines make 181 MB, the file).
fn request(i: usize) -> String {
    format!(
        "{{\"custom_id\":\"request-{i}\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{{\"model\":\"{MODEL}\",\"messages\":[{{\"role\":\"user\",\"content\":\"question request-{i}\"}}]}}}}\n"
    )
}

/// The fake's success line for request `i` (about 390 bytes).
fn result(i: usize) -> String {
    format!(
        "{{\"custom_id\":\"request-{i}\",\"error\":null,\"response\":{{\"choices\":[{{\"finish_reason\":\"stop\",\"index\":0,\"message\":{{\"content\":\"echo: question request-{i}\",\"role\":\"assistant\"}}}}],\"created\":1796293731,\"id\":\"chatcmpl-batch_fake_1-{i}\",\"model\":\"{MODEL}\",\"object\":\"chat.completion\",\"usage\":{{\"completion_tokens\":2,\"prompt_tokens\":3,\"total_tokens\":5}}}},\"status\":\"succeeded\"}}\n"
    )
}

fn io(e: std::io::Error) -> String {
    e.to_string()
}

/// The input of `lines` requests in `dir`, written once.
fn ensure_input(dir: &Path, lines: usize) -> Result<PathBuf, String> {
    let path = dir.join(format!("requests-{lines}.jsonl"));
    let expected: u64 = (0..lines).map(|i| request(i).len() as u64).sum();
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == expected) {
        return Ok(path);
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
    for i in 0..lines {
        out.write_all(request(i).as_bytes()).map_err(io)?;
    }
    out.flush().map_err(io)?;
    Ok(path)
}

/// The result files of `plan`'s shards, one per shard: in the input's order (as the fake
/// writes them), or, when `shuffled`, each in an order of its own (a fixed permutation), as a
/// service may ("results aren't necessarily in the same order as your input").
fn ensure_results(dir: &Path, plan: &ShardPlan, shuffled: bool) -> Result<Vec<ShardResults>, String> {
    let mut start = 0;
    let mut results = Vec::new();
    for shard in &plan.shards {
        let order = if shuffled { "shuffled" } else { "ordered" };
        let path = dir.join(format!("results-{}-{order}-{}.jsonl", plan.requests(), shard.index));
        let n = shard.requests;
        if !path.exists() {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
            // 7919 is prime and does not divide n here: `k * 7919 mod n` visits every line once.
            for k in 0..n {
                let line = if shuffled { (k * 7919) % n } else { k };
                out.write_all(result(start + line).as_bytes()).map_err(io)?;
            }
            out.flush().map_err(io)?;
        }
        results.push(ShardResults::new(
            format!("batch_{}", shard.index),
            "completed",
            vec![path],
        ));
        start += n;
    }
    Ok(results)
}

/// The process's peak RSS in KiB (`VmHWM`).
fn peak_rss_kib() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(io)?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status".to_owned())
}

/// `job-fake`: the stateful fake on a free port of 127.0.0.1, until killed.
pub async fn serve_fake() -> Result<(), String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io)?;
    let fake = cerebras_batch_mock::FakeApi::start_on(listener, Default::default()).await;
    println!("listening on {}", fake.uri());
    std::future::pending::<()>().await;
    Ok(())
}

/// `job-run`: one job from `input` to `output` against `base_url`; prints its wall time and
/// peak RSS.
pub async fn run_job(base_url: &str, input: &Path, output: &Path) -> Result<(), String> {
    let client = crate::calls::ours_client(base_url)?;
    let started = Instant::now();
    let mut job = Job::builder(input, output)
        .max_active(10)
        .poll_interval(Duration::from_millis(50))
        .open(client)
        .map_err(|e| e.to_string())?;
    let summary = job.run().await.map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    if summary.succeeded != summary.requests() {
        return Err(format!("not every request succeeded: {summary:?}"));
    }
    println!(
        "job: {} lines, {} batches, {:.3} s, peak RSS KiB: {}",
        summary.requests(),
        job.state().attempts[0].shards.len(),
        wall.as_secs_f64(),
        peak_rss_kib()?
    );
    Ok(())
}

/// One job of `lines` lines in processes of their own: `(wall seconds, peak RSS MiB)`.
async fn one_job(dir: &Path, input: &Path) -> Result<(f64, f64), String> {
    let fake = crate::server::Child::start_with(&["job-fake"]).await?;
    let work = dir.join("run");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(io)?;
    let out = tokio::process::Command::new(std::env::current_exe().map_err(io)?)
        .args(["job-run", &fake.base_url])
        .arg(input)
        .arg(work.join("results.jsonl"))
        .output()
        .await
        .map_err(io)?;
    drop(fake);
    let _ = std::fs::remove_dir_all(&work);
    let text = String::from_utf8_lossy(&out.stdout);
    let parse = || -> Option<(f64, f64)> {
        let line = text.lines().find(|l| l.starts_with("job: "))?;
        let wall = line.split(" batches, ").nth(1)?.split(" s,").next()?.parse().ok()?;
        let kib: f64 = line.split("peak RSS KiB: ").nth(1)?.trim().parse().ok()?;
        Some((wall, kib / 1024.0))
    };
    parse().ok_or_else(|| format!("job-run printed {text:?} {}", String::from_utf8_lossy(&out.stderr)))
}

/// Checking: `plan_shards` over the input, lines/s.
async fn ours_check(input: &Path) -> Result<u64, String> {
    let file = tokio::io::BufReader::with_capacity(1 << 20, tokio::fs::File::open(input).await.map_err(io)?);
    let check = plan_shards(file, ShardLimits::default())
        .await
        .map_err(|e| e.to_string())?;
    Ok(check.plan.ok_or("the input has problems")?.requests() as u64)
}

/// The floor of checking and merging: every line of `paths` parsed by `serde_json`.
fn floor_read(paths: &[PathBuf]) -> Result<u64, String> {
    let mut lines = 0;
    for path in paths {
        let reader = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path).map_err(io)?);
        for line in reader.lines() {
            let _: serde_json::Value = serde_json::from_str(&line.map_err(io)?).map_err(|e| e.to_string())?;
            lines += 1;
        }
    }
    Ok(lines)
}

/// Merging: `merge_results` of the result files into one output, lines/s.
async fn ours_merge(input: &Path, plan: &ShardPlan, results: &[ShardResults], out: &Path) -> Result<u64, String> {
    let file = tokio::io::BufReader::with_capacity(1 << 20, tokio::fs::File::open(input).await.map_err(io)?);
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, tokio::fs::File::create(out).await.map_err(io)?);
    let summary = merge_results(file, plan, results, &mut writer)
        .await
        .map_err(|e| e.to_string())?;
    Ok(summary.succeeded as u64)
}

async fn timed<F: std::future::Future<Output = Result<u64, String>>>(work: F) -> Result<Measure, String> {
    crate::stats::measure(work).await
}

/// `job`: every size `runs` times (sizes interleaved), then the checking and merging ratios
/// over `rounds` rounds on the largest input.
pub async fn run(sizes: &[usize], runs: usize, rounds: usize) -> Result<(), String> {
    let dir = crate::work_dir().join("job");
    std::fs::create_dir_all(&dir).map_err(io)?;
    let inputs: Vec<PathBuf> = sizes.iter().map(|&n| ensure_input(&dir, n)).collect::<Result<_, _>>()?;
    println!(
        "jobs against the stateful fake (10 active, up to 50,000 requests a batch, polls every 50 ms); {runs} runs per size; {} logical CPUs",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let mut figures: Vec<Vec<(f64, f64)>> = vec![Vec::new(); sizes.len()];
    for run in 0..runs {
        for (k, input) in inputs.iter().enumerate() {
            let (wall, rss) = one_job(&dir, input).await?;
            eprintln!(
                "run {}/{runs}: {} lines in {wall:.1} s, peak RSS {rss:.1} MiB",
                run + 1,
                sizes[k]
            );
            figures[k].push((wall, rss));
        }
    }
    println!(
        "\n{:>10} {:>8}  {:>9} {:>17}  {:>12}  {:>15}",
        "lines", "batches", "wall s", "(spread)", "µs per line", "peak RSS MiB"
    );
    for (k, &n) in sizes.iter().enumerate() {
        let walls: Vec<f64> = figures[k].iter().map(|f| f.0).collect();
        let rss: Vec<f64> = figures[k].iter().map(|f| f.1).collect();
        let (w, w_lo, w_hi) = crate::stats::median_spread(&walls);
        let (r, r_lo, r_hi) = crate::stats::median_spread(&rss);
        println!(
            "{n:>10} {:>8}  {w:>9.1} {:>17}  {:>12.1}  {r:>5.1} ({r_lo:.1}–{r_hi:.1})",
            n.div_ceil(50_000),
            format!("({w_lo:.1}–{w_hi:.1})"),
            w * 1e6 / n as f64
        );
    }
    let largest = inputs.last().ok_or("no size")?;
    let rss_max = figures.iter().flatten().map(|f| f.1).fold(0.0, f64::max);
    println!(
        "peak RSS goal: < 128 MiB in every run: {}",
        if rss_max < 128.0 { "met" } else { "NOT met" }
    );

    let plan = plan_shards(
        tokio::fs::File::open(largest).await.map_err(io)?,
        ShardLimits::default(),
    )
    .await
    .map_err(|e| e.to_string())?
    .plan
    .ok_or("the input has problems")?;
    let ordered = ensure_results(&dir, &plan, false)?;
    let shuffled = ensure_results(&dir, &plan, true)?;
    let paths = |results: &[ShardResults]| -> Vec<PathBuf> { results.iter().flat_map(|r| r.files.clone()).collect() };
    let (ordered_paths, shuffled_paths) = (paths(&ordered), paths(&shuffled));
    let merged = dir.join("merged.jsonl");
    let mut table = Table::default();
    let n = plan.requests();
    // Warm the page cache.
    floor_read(std::slice::from_ref(largest))?;
    floor_read(&ordered_paths)?;
    floor_read(&shuffled_paths)?;
    for round in 0..rounds {
        let ours_first = round % 2 == 0;
        let check = pair(
            ours_first,
            || timed(ours_check(largest)),
            || timed(async { floor_read(std::slice::from_ref(largest)) }),
        )
        .await?;
        table.add(&format!("checking: lines/s, {n} lines"), check.rate_ratio(), "—");
        for (what, results, files) in [
            ("in input order", &ordered, &ordered_paths),
            ("shuffled", &shuffled, &shuffled_paths),
        ] {
            let merge = pair(
                ours_first,
                || timed(ours_merge(largest, &plan, results, &merged)),
                || timed(async { floor_read(files) }),
            )
            .await?;
            table.add(&format!("merging: lines/s, results {what}"), merge.rate_ratio(), "—");
        }
        eprintln!("round {}/{rounds} done", round + 1);
    }
    let _ = std::fs::remove_file(&merged);
    println!("{}", table.render());
    println!("(floor: a plain serde_json reader of the input, for checking, and of the result files, for merging)");
    Ok(())
}

/// `job-merge`: checks and merges the input of `lines` lines once, with timings.
pub async fn merge_once(lines: usize, shuffled: bool) -> Result<(), String> {
    let dir = crate::work_dir().join("job");
    let input = ensure_input(&dir, lines)?;
    let started = Instant::now();
    let file = tokio::io::BufReader::with_capacity(1 << 20, tokio::fs::File::open(&input).await.map_err(io)?);
    let plan = plan_shards(file, ShardLimits::default())
        .await
        .map_err(|e| e.to_string())?
        .plan
        .ok_or("the input has problems")?;
    let checked = started.elapsed();
    let results = ensure_results(&dir, &plan, shuffled)?;
    let started = Instant::now();
    let merged = ours_merge(&input, &plan, &results, &dir.join("merged.jsonl")).await?;
    println!(
        "checked {lines} lines in {checked:?}; merged {merged} in {:?}; peak RSS KiB: {}",
        started.elapsed(),
        peak_rss_kib()?
    );
    Ok(())
}

/// Measures ours and the floor, in the order asked.
async fn pair<A, B, FA, FB>(ours_first: bool, ours: A, floor: B) -> Result<Pair, String>
where
    A: FnOnce() -> FA,
    B: FnOnce() -> FB,
    FA: std::future::Future<Output = Result<Measure, String>>,
    FB: std::future::Future<Output = Result<Measure, String>>,
{
    if ours_first {
        let ours = ours().await?;
        Ok(Pair {
            ours,
            floor: floor().await?,
        })
    } else {
        let floor = floor().await?;
        Ok(Pair {
            ours: ours().await?,
            floor,
        })
    }
}
