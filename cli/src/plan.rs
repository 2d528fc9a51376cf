//! `submit --dry-run`: the input checked and its plan printed (batches; per model, requests
//! and bytes). Sends nothing (no client is even made: no key is needed) and writes nothing.

use std::path::Path;

use anyhow::Context;
use cerebras_batch::shard::{ShardLimits, plan_shards};
use serde_json::json;

use crate::submit::{SubmitArgs, problems};
use crate::{Global, Outcome, output};

/// Opens the request file the user named, saying what is wrong with it in their words (a
/// directory, a missing file) rather than the system's alone.
pub async fn open_requests(path: &Path) -> anyhow::Result<tokio::fs::File> {
    let meta = tokio::fs::metadata(path)
        .await
        .with_context(|| format!("cannot read the request file `{}`", path.display()))?;
    if meta.is_dir() {
        anyhow::bail!("`{}` is a directory; give a JSONL request file", path.display());
    }
    tokio::fs::File::open(path)
        .await
        .with_context(|| format!("cannot read the request file `{}`", path.display()))
}

/// Per model: `(model, batches, requests, bytes)`, in the plan's order.
fn per_model(plan: &cerebras_batch::shard::ShardPlan) -> Vec<(String, usize, usize, u64)> {
    let mut models: Vec<(String, usize, usize, u64)> = Vec::new();
    for s in &plan.shards {
        match models.iter_mut().find(|m| m.0 == s.model) {
            Some(m) => {
                m.1 += 1;
                m.2 += s.requests;
                m.3 += s.bytes;
            }
            None => models.push((s.model.clone(), 1, s.requests, s.bytes)),
        }
    }
    models
}

/// `submit --dry-run`.
pub async fn dry_run(g: &Global, args: &SubmitArgs) -> anyhow::Result<Outcome> {
    // The output is refused as the real run would refuse it (a directory, the input, a
    // missing folder), before the plan says all is well.
    cerebras_batch::job::Job::builder(&args.requests, &args.out).check_paths()?;
    let file = open_requests(&args.requests).await?;
    let reader = tokio::io::BufReader::with_capacity(1 << 20, file);
    let limits = ShardLimits::default().max_requests(args.max_requests as usize);
    let check = plan_shards(reader, limits)
        .await
        .with_context(|| format!("cannot read the request file `{}`", args.requests.display()))?;
    let Some(plan) = check.plan else {
        return Err(problems(
            &args.requests,
            &check.problems,
            Some(check.problems_found),
            "",
        ));
    };
    let models = per_model(&plan);
    if g.json {
        let batches: Vec<_> = plan
            .shards
            .iter()
            .map(|s| json!({"index": s.index + 1, "model": s.model, "requests": s.requests, "bytes": s.bytes}))
            .collect();
        let models: Vec<_> = models
            .iter()
            .map(|(model, batches, requests, bytes)| {
                json!({"model": model, "batches": batches, "requests": requests, "bytes": bytes})
            })
            .collect();
        output::json(&json!({
            "requests": plan.requests(), "bytes": plan.bytes(), "batches": batches, "models": models,
            "sent": false,
        }))?;
        return Ok(Outcome::Done);
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(vec!["BATCH", "MODEL", "REQUESTS", "BYTES"]);
    for s in &plan.shards {
        crate::output::row(
            &mut table,
            vec![
                format!("{}/{}", s.index + 1, plan.shards.len()),
                s.model.clone(),
                s.requests.to_string(),
                s.bytes.to_string(),
            ],
        );
    }
    println!("{table}\n");
    let mut by_model = comfy_table::Table::new();
    by_model.load_preset(comfy_table::presets::NOTHING);
    by_model.set_header(vec!["MODEL", "BATCHES", "REQUESTS", "BYTES"]);
    for (model, batches, requests, bytes) in &models {
        crate::output::row(
            &mut by_model,
            vec![
                model.clone(),
                batches.to_string(),
                requests.to_string(),
                bytes.to_string(),
            ],
        );
    }
    println!("{by_model}\n");
    println!(
        "dry run: {} requests ({} bytes) in {} batch(es); nothing was sent or written",
        plan.requests(),
        plan.bytes(),
        plan.shards.len()
    );
    Ok(Outcome::Done)
}
