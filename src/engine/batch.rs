//! A batch: requests that share a concurrency limit, a cancellation token and,
//! in fail-fast mode, one fate. Its driver starts requests as permits free up.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::client::ClientInner;
use super::config::CallOptions;
use super::error::{ErrorKind, FetchError};
use super::execute::execute;
use super::request::{RawRequest, Request};
use super::response::{Completion, Timing};

/// Receives each finished request. Called on a worker thread.
pub trait Sink: Send + Sync + 'static {
    fn deliver(&self, completion: Completion);
}

pub struct Batch {
    id: u32,
    opts: Arc<CallOptions>,
    sink: Arc<dyn Sink>,
    permits: Arc<Semaphore>,
    cancel: CancellationToken,
    /// Requests submitted and not yet finished.
    pending: AtomicUsize,
    /// Fail-fast mode: the batch's one error was delivered.
    failed: AtomicBool,
    /// Tokens of requests that can be cancelled one by one.
    items: Mutex<HashMap<u32, CancellationToken>>,
}

impl Batch {
    pub fn new(id: u32, opts: Arc<CallOptions>, sink: Arc<dyn Sink>) -> Self {
        Batch {
            id,
            permits: Arc::new(Semaphore::new(opts.concurrency.max(1))),
            opts,
            sink,
            cancel: CancellationToken::new(),
            pending: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
            items: Mutex::new(HashMap::new()),
        }
    }

    pub fn add_pending(&self, count: usize) {
        self.pending.fetch_add(count, Ordering::AcqRel);
    }

    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn cancel_item(&self, index: u32) {
        let token = self
            .items
            .lock()
            .expect("item tokens")
            .entry(index)
            .or_default()
            .clone();
        token.cancel();
    }

    fn item_token(&self, index: u32) -> CancellationToken {
        self.items
            .lock()
            .expect("item tokens")
            .entry(index)
            .or_default()
            .clone()
    }

    /// Validates every item, then starts them in order as permits allow.
    pub async fn drive(
        client: Arc<ClientInner>,
        batch: Arc<Batch>,
        first_index: u32,
        items: Vec<RawRequest>,
        queued_at: Instant,
    ) {
        let count = items.len();
        let mut valid = Vec::with_capacity(count);
        let mut invalid = Vec::new();
        for (offset, raw) in items.into_iter().enumerate() {
            let index = first_index + offset as u32;
            let url = raw.url.clone();
            let abortable = raw.abortable;
            match raw.validate() {
                Ok(req) => valid.push((index, url, req, abortable)),
                Err(err) => invalid.push((index, url, err)),
            }
        }
        if !invalid.is_empty() && batch.opts.fail_fast {
            // Nothing is sent: the first malformed item is the call's error.
            let (index, url, err) = invalid.swap_remove(0);
            client
                .stats
                .queued
                .fetch_sub(count as u64, Ordering::Relaxed);
            batch.finish(
                &client,
                index,
                url,
                Timing::queued_at(queued_at),
                0,
                Err(err),
            );
            batch.settle_unstarted(&client, count - 1);
            return;
        }
        for (index, url, err) in invalid {
            client.stats.queued.fetch_sub(1, Ordering::Relaxed);
            batch.finish(
                &client,
                index,
                url,
                Timing::queued_at(queued_at),
                0,
                Err(err),
            );
        }
        let mut remaining = valid.len();
        for (index, url, req, abortable) in valid {
            let permit = tokio::select! {
                biased;
                _ = batch.cancel.cancelled() => {
                    client.stats.queued.fetch_sub(remaining as u64, Ordering::Relaxed);
                    batch.settle_unstarted(&client, remaining);
                    return;
                }
                permit = batch.permits.clone().acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => return,
                },
            };
            remaining -= 1;
            let token = abortable.then(|| batch.item_token(index));
            tokio::spawn(Batch::run(
                client.clone(),
                batch.clone(),
                index,
                url,
                req,
                queued_at,
                permit,
                token,
            ));
        }
    }

    /// A batch of one, already validated.
    pub async fn drive_one(
        client: Arc<ClientInner>,
        batch: Arc<Batch>,
        index: u32,
        url: String,
        req: Request,
        queued_at: Instant,
    ) {
        let permit = match batch.permits.clone().acquire_owned().await {
            Ok(p) => p,
            Err(_) => return,
        };
        let token = Some(batch.item_token(index));
        Batch::run(client, batch, index, url, req, queued_at, permit, token).await;
    }

    #[allow(clippy::too_many_arguments)] // one request's whole context, moved into its task
    async fn run(
        client: Arc<ClientInner>,
        batch: Arc<Batch>,
        index: u32,
        url: String,
        req: Request,
        queued_at: Instant,
        permit: OwnedSemaphorePermit,
        token: Option<CancellationToken>,
    ) {
        client.stats.queued.fetch_sub(1, Ordering::Relaxed);
        client.stats.in_flight.fetch_add(1, Ordering::Relaxed);
        let mut timing = Timing::queued_at(queued_at);
        let item_cancelled = async {
            match &token {
                Some(t) => t.cancelled().await,
                None => std::future::pending().await,
            }
        };
        let outcome = {
            let work =
                AssertUnwindSafe(execute(&client, &req, &batch.opts, &mut timing)).catch_unwind();
            tokio::select! {
                biased;
                _ = batch.cancel.cancelled() => None,
                _ = item_cancelled => Some((Err(FetchError::aborted()), 1)),
                result = work => Some(result.unwrap_or_else(|panic| {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panic".to_string());
                    (Err(FetchError::new(ErrorKind::Internal, format!("Internal error: {message}"))), 1)
                })),
            }
        };
        drop(permit);
        client.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
        if token.is_some() {
            batch.items.lock().expect("item tokens").remove(&index);
        }
        match outcome {
            Some((result, attempts)) => {
                timing.end.get_or_insert_with(Instant::now);
                batch.finish(&client, index, url, timing, attempts, result)
            }
            None => batch.settle_unstarted(&client, 1),
        }
    }

    /// Delivers one outcome, unless the batch already ended.
    fn finish(
        &self,
        client: &ClientInner,
        index: u32,
        url: String,
        timing: Timing,
        attempts: u32,
        result: Result<super::response::ResponseData, FetchError>,
    ) {
        let stats = &client.stats;
        stats.done.fetch_add(1, Ordering::Relaxed);
        match &result {
            Ok(resp) => {
                stats.bytes.fetch_add(
                    resp.body.len() as u64 + resp.saved_bytes.unwrap_or(0),
                    Ordering::Relaxed,
                );
            }
            Err(_) => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        let deliver = if self.opts.fail_fast {
            match &result {
                Ok(_) => !self.failed.load(Ordering::Acquire) && !self.cancel.is_cancelled(),
                Err(_) => !self.failed.swap(true, Ordering::AcqRel) && !self.cancel.is_cancelled(),
            }
        } else {
            !self.cancel.is_cancelled()
        };
        let failed_fast = self.opts.fail_fast && result.is_err();
        if deliver {
            self.sink.deliver(Completion {
                batch: self.id,
                index,
                attempts,
                timing,
                result,
                url,
            });
        }
        if failed_fast {
            self.cancel.cancel();
            self.remove_from(client);
        }
        self.settle_unstarted(client, 1);
    }

    /// Counts `n` requests as ended; the last one unregisters the batch.
    fn settle_unstarted(&self, client: &ClientInner, n: usize) {
        if n > 0 && self.pending.fetch_sub(n, Ordering::AcqRel) == n {
            self.remove_from(client);
        }
    }

    fn remove_from(&self, client: &ClientInner) {
        let mut batches = client.batches.lock().expect("batch registry");
        if batches
            .get(&self.id)
            .is_some_and(|b| std::ptr::eq(b.as_ref(), self))
        {
            batches.remove(&self.id);
        }
    }
}
