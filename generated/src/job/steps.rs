//! The job's steps on one shard: upload its file, create its batch, poll it, cancel it. Each
//! marks a request as sent, and saves, before sending it; each records the answer, and saves,
//! before the next await.

use serde_json::{Map, Value, json};

use super::events::JobEvent;
use super::recover::{ATTEMPT_KEY, BatchKey, RUN_KEY, SHARD_KEY, find_batch, find_file};
use super::{CancelOutcome, Job};
use crate::error::{Error, ErrorKind, Result};
use crate::types::{Batch, CreateBatchRequest};
use crate::upload::UploadFile;

/// Whether a failed request was certainly not carried out: the server refused it (a 4xx), or
/// no connection was ever made, so nothing was sent. A timeout, a 5xx or a connection lost
/// after sending leave it open.
fn not_carried_out(e: &Error) -> bool {
    if e.status().is_some_and(|s| s.is_client_error()) {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<reqwest::Error>() {
            return r.is_connect();
        }
        source = s.source();
    }
    false
}

impl Job {
    /// Uploads shard `i`'s file, or finds it uploaded by an earlier run whose answer was lost.
    pub(super) async fn upload(&mut self, attempt: usize, i: usize) -> Result<()> {
        let shard = self.shard_ref(attempt, i);
        let s = self.state.attempts[attempt].shards[i].clone();
        if s.upload_sent {
            let found = find_file(&self.client, &s.filename, s.bytes).await.map_err(|e| {
                e.with_context(format!(
                    "looking for {}, uploaded before the job stopped (nothing was uploaded again)",
                    s.filename
                ))
            })?;
            if let Some(file) = found {
                self.emit(JobEvent::Uploaded {
                    shard,
                    filename: s.filename.clone(),
                    file_id: file.id.clone(),
                    found: true,
                });
                self.state.attempts[attempt].shards[i].file_id = Some(file.id);
                return self.save();
            }
        }
        self.state.attempts[attempt].shards[i].upload_sent = true;
        self.save()?;
        self.emit(JobEvent::UploadStarted {
            shard,
            filename: s.filename.clone(),
            bytes: s.bytes,
        });
        let events = self.events.clone();
        let total = s.bytes;
        let upload = UploadFile::from_path(self.paths.parts.join(&s.filename)).on_progress(move |p| {
            if let Some(on_event) = &events {
                on_event(&JobEvent::UploadProgress {
                    shard,
                    sent: p.sent,
                    total,
                });
            }
        });
        let file = match self.client.upload_file(upload).await {
            Ok(file) => file,
            Err(e) => {
                if not_carried_out(&e) {
                    self.state.attempts[attempt].shards[i].upload_sent = false;
                    self.save()?;
                }
                return Err(e.with_context(format!("uploading {}", s.filename)));
            }
        };
        self.emit(JobEvent::Uploaded {
            shard,
            filename: s.filename.clone(),
            file_id: file.id.clone(),
            found: false,
        });
        self.state.attempts[attempt].shards[i].file_id = Some(file.id);
        self.save()
    }

    fn batch_key(&self, attempt: usize, i: usize) -> BatchKey<'_> {
        let s = &self.state.attempts[attempt].shards[i];
        BatchKey {
            run_id: &self.state.run_id,
            attempt: self.state.attempts[attempt].number,
            shard: i,
            input_file_id: s.file_id.as_deref().unwrap_or_default(),
            started_at: self.state.started_at,
        }
    }

    /// Settles a create whose answer was lost: finds its batch (and records it), or, when the
    /// server has none, forgets the create. Returns whether the batch exists.
    async fn settle_create(&mut self, attempt: usize, i: usize) -> Result<bool> {
        let found = find_batch(&self.client, &self.batch_key(attempt, i))
            .await
            .map_err(|e| {
                e.with_context("looking for a batch created before the job stopped (nothing was created again)")
            })?;
        match found {
            Some(batch) => {
                self.emit(JobEvent::BatchCreated {
                    shard: self.shard_ref(attempt, i),
                    batch_id: batch.id.clone(),
                    found: true,
                });
                let event = self.record(attempt, i, &batch);
                self.save()?;
                self.emit(event);
                Ok(true)
            }
            None => {
                self.state.attempts[attempt].shards[i].create_sent = false;
                self.save()?;
                Ok(false)
            }
        }
    }

    /// Creates shard `i`'s batch (or finds it created). `false` when the API refuses another
    /// batch for now (429): wait for a slot.
    pub(super) async fn create(&mut self, attempt: usize, i: usize) -> Result<bool> {
        let shard = self.shard_ref(attempt, i);
        if self.state.attempts[attempt].shards[i].create_sent && self.settle_create(attempt, i).await? {
            return Ok(true);
        }
        let s = &self.state.attempts[attempt].shards[i];
        let file_id = s.file_id.clone().expect("a shard is created after its upload");
        let filename = s.filename.clone();
        let mut metadata: Map<String, Value> = self
            .state
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        metadata.insert(RUN_KEY.into(), json!(self.state.run_id));
        metadata.insert(SHARD_KEY.into(), json!((i + 1).to_string()));
        metadata.insert(ATTEMPT_KEY.into(), json!(shard.attempt.to_string()));
        let request = CreateBatchRequest::chat_completions(file_id).with_metadata(metadata);
        self.state.attempts[attempt].shards[i].create_sent = true;
        self.save()?;
        let batch = match self.client.create_batch(request).await {
            Ok(batch) => batch,
            Err(e) if e.kind() == ErrorKind::RateLimit => {
                self.state.attempts[attempt].shards[i].create_sent = false;
                self.save()?;
                self.emit(JobEvent::CreateDeferred {
                    shard,
                    reason: e.to_string(),
                });
                return Ok(false);
            }
            Err(e) => {
                if not_carried_out(&e) {
                    self.state.attempts[attempt].shards[i].create_sent = false;
                    self.save()?;
                }
                return Err(e.with_context(format!("creating the batch of {filename}")));
            }
        };
        self.emit(JobEvent::BatchCreated {
            shard,
            batch_id: batch.id.clone(),
            found: false,
        });
        let event = self.record(attempt, i, &batch);
        self.save()?;
        self.emit(event);
        Ok(true)
    }

    /// Records what `batch` says of shard `i`; returns the event that reports it, to emit once
    /// the state is saved.
    pub(super) fn record(&mut self, attempt: usize, i: usize, batch: &Batch) -> JobEvent {
        let shard = self.shard_ref(attempt, i);
        let status = batch.status_text().to_owned();
        let s = &mut self.state.attempts[attempt].shards[i];
        let changed = s.status.as_deref() != Some(status.as_str());
        s.batch_id = Some(batch.id.clone());
        s.status = Some(status.clone());
        s.counts = batch.request_counts.clone();
        JobEvent::BatchStatus {
            shard,
            batch_id: batch.id.clone(),
            status,
            changed,
            counts: batch.request_counts.clone(),
        }
    }

    /// Polls shard `i`'s batch; downloads its files once it is final.
    pub(super) async fn poll(&mut self, attempt: usize, i: usize) -> Result<()> {
        let id = self.state.attempts[attempt].shards[i]
            .batch_id
            .clone()
            .expect("an active shard has a batch");
        let batch = self.client.retrieve_batch(&id).await?;
        let before = self.state.attempts[attempt].shards[i].clone();
        let event = self.record(attempt, i, &batch);
        if self.state.attempts[attempt].shards[i] != before {
            self.save()?;
        }
        self.emit(event);
        if batch.is_terminal() {
            self.collect(attempt, i, &batch).await?;
        }
        Ok(())
    }

    /// See [`Job::cancel`].
    pub(super) async fn cancel_batches(&mut self) -> Result<Vec<CancelOutcome>> {
        let mut outcomes = Vec::new();
        for attempt in 0..self.state.attempts.len() {
            self.state.attempts[attempt].cancelled = true;
            self.save()?;
            for i in 0..self.state.attempts[attempt].shards.len() {
                let s = &self.state.attempts[attempt].shards[i];
                if s.create_sent && s.batch_id.is_none() && !self.settle_create(attempt, i).await? {
                    continue;
                }
                let s = &self.state.attempts[attempt].shards[i];
                if !s.is_active() {
                    continue;
                }
                let id = s.batch_id.clone().expect("an active shard has a batch");
                let shard = self.shard_ref(attempt, i);
                let result = match self.client.cancel_batch(&id).await {
                    Ok(batch) => {
                        let event = self.record(attempt, i, &batch);
                        self.save()?;
                        self.emit(event);
                        self.emit(JobEvent::BatchCancelled {
                            shard,
                            batch_id: id.clone(),
                            status: batch.status_text().to_owned(),
                        });
                        Ok(batch.status_text().to_owned())
                    }
                    Err(e) => Err(e),
                };
                outcomes.push(CancelOutcome {
                    shard,
                    batch_id: id,
                    result,
                });
            }
        }
        Ok(outcomes)
    }
}
