//! The build cost of a downstream crate: a minimal binary that cancels one batch, built clean in
//! release with its own target folder; crates compiled (cargo's `Compiling` lines) and the CPU
//! seconds of cargo and every compiler it ran. Once with `cerebras-batch` (default features, and
//! each `--features` set asked for), once with async-openai 0.43 (`rustls`, `batch`).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// CPU time (user + system) of every waited-for child process so far.
fn children_cpu() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

struct Cost {
    crates: usize,
    cpu: Duration,
    wall: Duration,
}

fn build(dir: &Path, manifest: &str, main: &str) -> Result<Cost, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("src/main.rs"), main).map_err(|e| e.to_string())?;
    // Resolve and download first, so that only compiling is measured.
    let fetch = std::process::Command::new("cargo")
        .arg("fetch")
        .current_dir(dir)
        .status()
        .map_err(|e| e.to_string())?;
    if !fetch.success() {
        return Err(format!("cargo fetch failed in {}", dir.display()));
    }
    let (cpu, wall) = (children_cpu(), std::time::Instant::now());
    let out = std::process::Command::new("cargo")
        .args(["build", "--release"])
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .current_dir(dir)
        .output()
        .map_err(|e| e.to_string())?;
    let (cpu, wall) = (children_cpu().saturating_sub(cpu), wall.elapsed());
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("the build in {} failed:\n{stderr}", dir.display()));
    }
    let compiled = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling "))
        .count();
    Ok(Cost {
        crates: compiled,
        cpu,
        wall,
    })
}

fn manifest(name: &str, dependency: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{dependency}\ntokio = {{ version = \"1\", features = [\"macros\", \"rt\"] }}\n\n[workspace]\n"
    )
}

const OURS_MAIN: &str = r#"#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), cerebras_batch::Error> {
    let client = cerebras_batch::Client::from_env()?;
    let batch = client.cancel_batch("batch_abc123").await?;
    println!("{}", batch.status_text());
    Ok(())
}
"#;

const ASYNC_OPENAI_MAIN: &str = r#"#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), async_openai::error::OpenAIError> {
    let client = async_openai::Client::new();
    let batch = client.batches().cancel("batch_abc123").await?;
    println!("{:?}", batch.status);
    Ok(())
}
"#;

/// `build-cost`.
pub fn run(feature_sets: &[String], skip_async_openai: bool) -> Result<(), String> {
    let root: PathBuf = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().map_err(|e| e.to_string())?;
    let generated = root.join("generated");
    let work = root.join("target/build-cost");
    let mut rows: Vec<(String, Cost)> = Vec::new();
    let mut variants = vec![(
        "cerebras-batch (default features)".to_owned(),
        format!("cerebras-batch = {{ path = {:?} }}", generated.display().to_string()),
    )];
    for set in feature_sets {
        variants.push((
            format!("cerebras-batch (features: {set})"),
            format!(
                "cerebras-batch = {{ path = {:?}, default-features = false, features = [{}] }}",
                generated.display().to_string(),
                set.split(',')
                    .map(|f| format!("{:?}", f.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    for (i, (label, dependency)) in variants.iter().enumerate() {
        eprintln!("building a crate with {label} ...");
        let cost = build(
            &work.join(format!("ours-{i}")),
            &manifest("downstream", dependency),
            OURS_MAIN,
        )?;
        rows.push((label.clone(), cost));
    }
    if !skip_async_openai {
        eprintln!("building a crate with async-openai 0.43 ...");
        let dependency =
            "async-openai = { version = \"=0.43.0\", default-features = false, features = [\"rustls\", \"batch\"] }";
        let cost = build(
            &work.join("async-openai"),
            &manifest("downstream", dependency),
            ASYNC_OPENAI_MAIN,
        )?;
        rows.push(("async-openai 0.43 (rustls, batch)".into(), cost));
    }
    let reference = rows
        .iter()
        .find(|(l, _)| l.starts_with("async-openai"))
        .map(|(_, c)| c.cpu);
    println!(
        "\n{:<56} {:>7} {:>9} {:>9} {:>20}",
        "a downstream crate that cancels one batch", "crates", "CPU s", "wall s", "CPU vs async-openai"
    );
    for (label, cost) in &rows {
        let ratio = reference.map_or_else(
            || "-".into(),
            |r| format!("{:.2}×", cost.cpu.as_secs_f64() / r.as_secs_f64()),
        );
        println!(
            "{:<56} {:>7} {:>9.1} {:>9.1} {:>20}",
            label,
            cost.crates,
            cost.cpu.as_secs_f64(),
            cost.wall.as_secs_f64(),
            ratio
        );
    }
    Ok(())
}
