//! A batch: requests that share a concurrency limit, a cancellation token and,
//! in fail-fast mode, one fate; and the registry of a client's running
//! batches with the counters behind `stats()`. The scheduler (scheduler.rs)
//! starts a batch's requests as its permits free up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::adaptive::{AdaptiveLimits, OriginPermit};
use super::config::CallOptions;
use super::deliver::{flush_later, Sink};
use super::error::FetchError;
use super::request::Checked;
use super::response::{Completion, ResponseData, Timing};
use super::stats::Stats;

/// A validated request waiting for a lane.
pub struct Item {
    pub index: u32,
    /// The URL as given where it is not `req.href` (empty where it is; see
    /// `RawRequest::check`).
    pub url: String,
    /// Small: items are queued and moved by the thousand. A plain one
    /// becomes its `Request` as it starts.
    pub req: Checked,
    /// Whether it has its own AbortSignal.
    pub abortable: bool,
    pub queued_at: Instant,
}

pub struct Batch {
    id: u32,
    pub(super) opts: Arc<CallOptions>,
    sink: Arc<dyn Sink>,
    permits: Arc<Semaphore>,
    pub(super) cancel: CancellationToken,
    /// Requests submitted and not yet finished.
    pending: AtomicUsize,
    /// Fail-fast mode: the batch's one error was delivered.
    failed: AtomicBool,
    /// Tokens of requests that can be cancelled one by one.
    items: Mutex<HashMap<u32, CancellationToken>>,
    /// Parts of a call held until its last part arrives.
    held: Mutex<Vec<Item>>,
    /// `concurrency: 'auto'`: each origin's own limit, under `concurrency`.
    adaptive: Option<AdaptiveLimits>,
}

impl Batch {
    pub fn new(id: u32, opts: Arc<CallOptions>, sink: Arc<dyn Sink>) -> Self {
        Batch {
            id,
            adaptive: opts
                .adaptive
                .then(|| AdaptiveLimits::new(opts.concurrency, opts.retry.max_delay)),
            permits: Arc::new(Semaphore::new(opts.concurrency.max(1))),
            opts,
            sink,
            cancel: CancellationToken::new(),
            pending: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
            items: Mutex::new(HashMap::new()),
            held: Mutex::new(Vec::new()),
        }
    }

    /// Each origin's adaptive limit, with `concurrency: 'auto'`.
    pub fn adaptive_limits(&self) -> Option<Vec<(String, u32)>> {
        self.adaptive.as_ref().map(AdaptiveLimits::limits)
    }

    /// A place under the origin's adaptive limit, if the call has them.
    pub async fn origin_place(&self, key: &str) -> Option<OriginPermit> {
        match &self.adaptive {
            Some(limits) => Some(limits.acquire(key).await),
            None => None,
        }
    }

    /// Drops the parts held for a call that will not start; returns how many
    /// requests they held.
    pub fn drop_held(&self) -> usize {
        std::mem::take(&mut *self.held.lock().expect("held parts")).len()
    }

    /// Queues one part of a call. Returns what is to start now: nothing while
    /// `hold`, else this part together with every part held before it.
    pub fn queue(&self, items: Vec<Item>, hold: bool) -> Option<Vec<Item>> {
        let mut held = self.held.lock().expect("held parts");
        if hold {
            held.extend(items);
            return None;
        }
        if held.is_empty() {
            return Some(items);
        }
        let mut all = std::mem::take(&mut *held);
        all.extend(items);
        Some(all)
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

    pub fn item_token(&self, index: u32) -> CancellationToken {
        self.items
            .lock()
            .expect("item tokens")
            .entry(index)
            .or_default()
            .clone()
    }

    /// A permit to start one request, waiting for one if need be. When the
    /// batch is cancelled, `drain` gives up what is queued for it, which is
    /// counted as ended, and there is no permit.
    pub async fn permit(
        &self,
        books: &Batches,
        drain: impl FnOnce() -> usize,
    ) -> Option<OwnedSemaphorePermit> {
        match self.permits.clone().try_acquire_owned() {
            Ok(p) if !self.cancel.is_cancelled() => Some(p),
            _ => tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    let left = drain();
                    books.stats.queued.fetch_sub(left as u64, Ordering::Relaxed);
                    self.settle_unstarted(books, left);
                    None
                }
                permit = self.permits.clone().acquire_owned() => permit.ok(),
            },
        }
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn concurrency(&self) -> usize {
        self.opts.concurrency
    }

    /// Delivers one outcome, unless the batch already ended.
    pub fn finish(
        &self,
        books: &Batches,
        index: u32,
        url: String,
        timing: Timing,
        attempts: u32,
        result: Result<ResponseData, FetchError>,
    ) {
        let stats = &books.stats;
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
            let held = self.sink.deliver(Completion {
                batch: self.id,
                index,
                attempts,
                timing,
                result,
                url,
            });
            if held {
                flush_later(&self.sink);
            }
        }
        if failed_fast {
            self.cancel.cancel();
            books.remove_this(self);
        }
        self.settle_unstarted(books, 1);
    }

    /// Counts `n` requests as ended; the last one unregisters the batch.
    pub fn settle_unstarted(&self, books: &Batches, n: usize) {
        if n > 0 && self.pending.fetch_sub(n, Ordering::AcqRel) == n {
            let mut batches = books.running.lock().expect("batch registry");
            // A part submitted meanwhile found this batch and counted itself
            // in (under the same lock): the batch goes on.
            if self.pending.load(Ordering::Acquire) == 0
                && batches
                    .get(&self.id)
                    .is_some_and(|b| std::ptr::eq(b.as_ref(), self))
            {
                batches.remove(&self.id);
            }
        }
    }

    /// Forgets the token of request `index`, which has ended.
    pub fn forget_item(&self, index: u32) {
        self.items.lock().expect("item tokens").remove(&index);
    }
}

/// A client's running batches, by id, and the counters behind `stats()`.
#[derive(Default)]
pub struct Batches {
    pub stats: Stats,
    running: Mutex<HashMap<u32, Arc<Batch>>>,
}

impl Batches {
    /// Batch `id`, made if it is not running, with `count` more requests
    /// counted in (under the registry's lock; see `settle_unstarted`).
    /// `own`: a call started as a batch of its own, counted in `stats()`.
    pub fn join(
        &self,
        id: u32,
        opts: Arc<CallOptions>,
        sink: Arc<dyn Sink>,
        count: usize,
        own: bool,
    ) -> Arc<Batch> {
        let mut batches = self.running.lock().expect("batch registry");
        let batch = batches
            .entry(id)
            .or_insert_with(|| {
                if own {
                    self.stats.batches.fetch_add(1, Ordering::Relaxed);
                }
                Arc::new(Batch::new(id, opts, sink))
            })
            .clone();
        batch.add_pending(count);
        batch
    }

    pub fn get(&self, id: u32) -> Option<Arc<Batch>> {
        self.running
            .lock()
            .expect("batch registry")
            .get(&id)
            .cloned()
    }

    pub fn remove(&self, id: u32) -> Option<Arc<Batch>> {
        self.running.lock().expect("batch registry").remove(&id)
    }

    /// The running batches; with `take`, the registry is emptied.
    pub fn all(&self, take: bool) -> Vec<Arc<Batch>> {
        self.running
            .lock()
            .map(|mut b| {
                if take {
                    b.drain().map(|(_, v)| v).collect()
                } else {
                    b.values().cloned().collect()
                }
            })
            .unwrap_or_default()
    }

    /// Unregisters `batch`, unless another of its id has taken its place.
    fn remove_this(&self, batch: &Batch) {
        let mut batches = self.running.lock().expect("batch registry");
        if batches
            .get(&batch.id)
            .is_some_and(|b| std::ptr::eq(b.as_ref(), batch))
        {
            batches.remove(&batch.id);
        }
    }
}
