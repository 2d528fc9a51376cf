//! Per-call cost: `cancel_batch` (DELETE /v1/batches/{id}, the vendor's example as the answer)
//! against raw reqwest + serde decoding the same answer into a struct of the same fields.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::Value;

use crate::stats::{Measure, Pair, measure};

/// The API key both clients send.
pub const KEY: &str = "bench-key";

/// The floor's batch: the fields `cerebras_batch::types::Batch` exposes.
#[allow(dead_code)]
#[derive(Deserialize)]
pub struct FloorBatch {
    id: String,
    object: Option<String>,
    endpoint: Option<String>,
    errors: Option<Value>,
    input_file_id: Option<String>,
    completion_window: Option<String>,
    status: Option<String>,
    output_file_id: Option<String>,
    error_file_id: Option<String>,
    created_at: Option<i64>,
    in_progress_at: Option<i64>,
    expires_at: Option<i64>,
    finalizing_at: Option<i64>,
    completed_at: Option<i64>,
    failed_at: Option<i64>,
    expired_at: Option<i64>,
    cancelling_at: Option<i64>,
    cancelled_at: Option<i64>,
    request_counts: Option<BTreeMap<String, Option<i64>>>,
    metadata: Option<serde_json::Map<String, Value>>,
}

/// Our client, with the defaults a user gets.
pub fn ours_client(base: &str) -> Result<cerebras_batch::Client, String> {
    cerebras_batch::Client::builder()
        .api_key(KEY)
        .base_url(base)
        .build()
        .map_err(|e| e.to_string())
}

/// The floor: a plain reqwest client.
pub fn floor_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder().build().map_err(|e| e.to_string())
}

pub async fn ours(client: &cerebras_batch::Client, n: usize, inflight: usize) -> Result<u64, String> {
    futures::stream::iter(0..n)
        .map(|i| async move { client.cancel_batch(format!("batch_{i}")).await.map(|b| b.id.len()) })
        .buffer_unordered(inflight)
        .try_fold(0u64, |acc, _| async move { Ok(acc + 1) })
        .await
        .map_err(|e| e.to_string())
}

pub async fn floor(http: &reqwest::Client, base: &str, n: usize, inflight: usize) -> Result<u64, String> {
    futures::stream::iter(0..n)
        .map(|i| async move {
            let batch: FloorBatch = http
                .delete(format!("{base}/v1/batches/batch_{i}"))
                .bearer_auth(KEY)
                .header(reqwest::header::ACCEPT, "application/json")
                .header(reqwest::header::USER_AGENT, "cerebras-batch/0.2.0")
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            Ok::<_, reqwest::Error>(batch.id.len())
        })
        .buffer_unordered(inflight)
        .try_fold(0u64, |acc, _| async move { Ok(acc + 1) })
        .await
        .map_err(|e| e.to_string())
}

/// `n` calls, `inflight` at a time, with each client: in 4 slices, the clients taking turns
/// (ABBA order), so that a slow spell of the machine falls on both; the slices are summed.
pub async fn measure_pair(
    client: &cerebras_batch::Client,
    http: &reqwest::Client,
    base: &str,
    n: usize,
    inflight: usize,
    ours_first: bool,
) -> Result<Pair, String> {
    const SLICES: usize = 4;
    let add = |a: &mut Measure, b: Measure| {
        a.wall += b.wall;
        a.cpu += b.cpu;
        a.units += b.units;
    };
    let zero = Measure {
        wall: std::time::Duration::ZERO,
        cpu: std::time::Duration::ZERO,
        units: 0,
    };
    let (mut o, mut f) = (zero, zero);
    let slice = n.div_ceil(SLICES);
    for k in 0..SLICES {
        // ours_first: O F F O O F F O; otherwise F O O F F O O F.
        if (k % 2 == 0) == ours_first {
            add(&mut o, measure(ours(client, slice, inflight)).await?);
            add(&mut f, measure(floor(http, base, slice, inflight)).await?);
        } else {
            add(&mut f, measure(floor(http, base, slice, inflight)).await?);
            add(&mut o, measure(ours(client, slice, inflight)).await?);
        }
    }
    Ok(Pair { ours: o, floor: f })
}
