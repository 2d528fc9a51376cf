//! Per-call cost: `retrieve_batch` (`GET /v1/batches/{id}`, the vendor's retrieve example as the
//! answer) with this client, with raw reqwest + serde decoding the same answer into a struct of
//! the same fields (the floor), and with async-openai 0.43 (`client.batches().retrieve(id)`:
//! the same request on the wire).

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::Value;

use crate::stats::{Measure, Trio, measure};

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

/// async-openai, with the defaults a user gets (its own reqwest client), on the loopback API.
pub fn peer_client(base: &str) -> async_openai::Client<async_openai::config::OpenAIConfig> {
    let config = async_openai::config::OpenAIConfig::new()
        .with_api_base(format!("{base}/v1"))
        .with_api_key(KEY);
    async_openai::Client::with_config(config)
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
        .map(|i| async move { client.retrieve_batch(format!("batch_{i}")).await.map(|b| b.id.len()) })
        .buffer_unordered(inflight)
        .try_fold(0u64, |acc, _| async move { Ok(acc + 1) })
        .await
        .map_err(|e| e.to_string())
}

pub async fn floor(http: &reqwest::Client, base: &str, n: usize, inflight: usize) -> Result<u64, String> {
    futures::stream::iter(0..n)
        .map(|i| async move {
            let batch: FloorBatch = http
                .get(format!("{base}/v1/batches/batch_{i}"))
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

pub async fn peer(
    client: &async_openai::Client<async_openai::config::OpenAIConfig>,
    n: usize,
    inflight: usize,
) -> Result<u64, String> {
    futures::stream::iter(0..n)
        .map(|i| async move {
            client
                .batches()
                .retrieve(&format!("batch_{i}"))
                .await
                .map(|b| b.id.len())
        })
        .buffer_unordered(inflight)
        .try_fold(0u64, |acc, _| async move { Ok(acc + 1) })
        .await
        .map_err(|e| e.to_string())
}

/// The three clients of the call figures.
pub struct Clients {
    pub ours: cerebras_batch::Client,
    pub floor: reqwest::Client,
    pub peer: async_openai::Client<async_openai::config::OpenAIConfig>,
    pub base: String,
}

impl Clients {
    pub fn new(base: &str) -> Result<Self, String> {
        Ok(Self {
            ours: ours_client(base)?,
            floor: floor_client()?,
            peer: peer_client(base),
            base: base.to_owned(),
        })
    }

    async fn measure(&self, which: usize, n: usize, inflight: usize) -> Result<Measure, String> {
        match which {
            0 => measure(ours(&self.ours, n, inflight)).await,
            1 => measure(floor(&self.floor, &self.base, n, inflight)).await,
            _ => measure(peer(&self.peer, n, inflight)).await,
        }
    }
}

/// `n` calls, `inflight` at a time, with each client: in 6 slices, the clients taking turns in
/// every order (each first, second and third twice, `flip` reversing the orders), so that a slow
/// spell of the machine falls on all; the slices are summed.
pub async fn measure_three(clients: &Clients, n: usize, inflight: usize, flip: bool) -> Result<Trio, String> {
    const SLICES: usize = 6;
    let zero = Measure {
        wall: std::time::Duration::ZERO,
        cpu: std::time::Duration::ZERO,
        units: 0,
    };
    let mut sums = [zero; 3];
    let slice = n.div_ceil(SLICES);
    for k in 0..SLICES {
        let mut order = [0, 1, 2];
        order.rotate_left(k % 3);
        if (k / 3 == 1) != flip {
            order.reverse();
        }
        for which in order {
            let m = clients.measure(which, slice, inflight).await?;
            let sum = &mut sums[which];
            sum.wall += m.wall;
            sum.cpu += m.cpu;
            sum.units += m.units;
        }
    }
    Ok(Trio {
        ours: sums[0],
        floor: sums[1],
        peer: sums[2],
    })
}
