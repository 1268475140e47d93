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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::error::ErrorKind;
    use crate::engine::request::RawRequest;
    use crate::engine::response::Headers;
    use bytes::Bytes;
    use http::{StatusCode, Version};

    /// Keeps what it is given: (index, ok).
    #[derive(Default)]
    struct Kept(Mutex<Vec<(u32, bool)>>);

    impl Sink for Kept {
        fn deliver(&self, done: Completion) -> bool {
            let mut kept = self.0.lock().unwrap();
            kept.push((done.index, done.result.is_ok()));
            false
        }
    }

    fn item(index: u32) -> Item {
        let (url, req) = RawRequest::get("http://a.test/x").check();
        Item {
            index,
            url,
            req: req.expect("a valid request"),
            abortable: false,
            queued_at: Instant::now(),
        }
    }

    fn ok(body: &'static str) -> Result<ResponseData, FetchError> {
        Ok(ResponseData {
            status: StatusCode::OK,
            version: Version::HTTP_11,
            url: None,
            redirected: false,
            headers: Headers::Lines(Bytes::new()),
            body: Bytes::from_static(body.as_bytes()),
            saved_bytes: Some(10),
            saved: None,
        })
    }

    fn failed() -> Result<ResponseData, FetchError> {
        Err(FetchError::new(ErrorKind::Protocol, "bad"))
    }

    /// Batch 7 of `count` requests, registered in `books`.
    fn running(books: &Batches, fail_fast: bool, count: usize) -> (Arc<Batch>, Arc<Kept>) {
        let kept = Arc::new(Kept::default());
        let opts = CallOptions {
            fail_fast,
            concurrency: 2,
            ..CallOptions::default()
        };
        let batch = books.join(7, Arc::new(opts), kept.clone(), count, true);
        (batch, kept)
    }

    fn finish(
        books: &Batches,
        batch: &Batch,
        index: u32,
        result: Result<ResponseData, FetchError>,
    ) {
        let timing = Timing::queued_at(Instant::now());
        batch.finish(books, index, String::new(), timing, 1, result);
    }

    #[test]
    fn fail_fast_delivers_the_first_error_alone_and_ends_the_batch() {
        let books = Batches::default();
        let (batch, kept) = running(&books, true, 4);
        finish(&books, &batch, 0, ok("ab"));
        finish(&books, &batch, 1, failed());
        assert!(batch.cancel.is_cancelled());
        assert!(books.get(7).is_none(), "unregistered at the error");
        finish(&books, &batch, 2, failed());
        finish(&books, &batch, 3, ok("c"));
        assert_eq!(*kept.0.lock().unwrap(), [(0, true), (1, false)]);
        let stats = books.stats.snapshot();
        assert_eq!(
            (stats.done, stats.failed, stats.bytes),
            (4, 2, 2 + 10 + 1 + 10)
        );
        assert_eq!(stats.batches, 1);
    }

    #[test]
    fn settled_delivers_everything_and_ends_with_the_last() {
        let books = Batches::default();
        let (batch, kept) = running(&books, false, 3);
        finish(&books, &batch, 0, failed());
        finish(&books, &batch, 1, ok(""));
        assert!(!batch.cancel.is_cancelled());
        assert!(books.get(7).is_some(), "one request to go");
        finish(&books, &batch, 2, failed());
        assert!(books.get(7).is_none());
        assert_eq!(*kept.0.lock().unwrap(), [(0, false), (1, true), (2, false)]);
        // A batch of the same id joins anew, counted once more.
        let again = books.join(7, batch.opts.clone(), kept.clone(), 1, false);
        assert!(!Arc::ptr_eq(&again, &batch));
        assert_eq!(
            books.stats.snapshot().batches,
            1,
            "a joined call is no batch of its own"
        );
    }

    #[test]
    fn a_cancelled_batch_delivers_nothing_more() {
        for fail_fast in [false, true] {
            let books = Batches::default();
            let (batch, kept) = running(&books, fail_fast, 2);
            batch.cancel();
            finish(&books, &batch, 0, ok("x"));
            finish(&books, &batch, 1, failed());
            assert!(kept.0.lock().unwrap().is_empty(), "fail_fast: {fail_fast}");
        }
        // A finish from a batch that another of its id replaced leaves that one.
        let books = Batches::default();
        let (first, _) = running(&books, true, 1);
        books.remove(7);
        let (second, _) = running(&books, true, 1);
        finish(&books, &first, 0, failed());
        assert!(Arc::ptr_eq(&books.get(7).expect("still running"), &second));
    }

    #[test]
    fn held_parts_start_together_with_the_last() {
        let batch = Batch::new(
            1,
            Arc::new(CallOptions::default()),
            Arc::new(Kept::default()),
        );
        assert!(batch.queue(vec![item(0), item(1)], true).is_none());
        assert!(batch.queue(vec![item(2)], true).is_none());
        let all = batch.queue(vec![item(3)], false).expect("the last part");
        let order: Vec<u32> = all.iter().map(|i| i.index).collect();
        assert_eq!(order, [0, 1, 2, 3]);
        let alone = batch.queue(vec![item(4)], false).expect("nothing held");
        assert_eq!(alone.len(), 1);
        assert!(batch.queue(vec![item(5), item(6)], true).is_none());
        assert_eq!(batch.drop_held(), 2);
        assert_eq!(batch.drop_held(), 0);
    }

    #[test]
    fn one_request_is_cancelled_by_its_token() {
        let batch = Batch::new(
            1,
            Arc::new(CallOptions::default()),
            Arc::new(Kept::default()),
        );
        let token = batch.item_token(3);
        assert!(!token.is_cancelled());
        batch.cancel_item(3);
        assert!(token.is_cancelled());
        assert!(!batch.item_token(4).is_cancelled());
        // Cancelled before it starts: its token is cancelled when taken.
        batch.cancel_item(5);
        assert!(batch.item_token(5).is_cancelled());
        batch.forget_item(5);
        assert!(!batch.item_token(5).is_cancelled());
    }

    #[tokio::test]
    async fn permits_follow_concurrency_until_the_batch_is_cancelled() {
        let books = Batches::default();
        let (batch, _) = running(&books, false, 5);
        assert_eq!((batch.id(), batch.concurrency()), (7, 2));
        let first = batch.permit(&books, || 0).await;
        let second = batch.permit(&books, || 0).await;
        assert!(first.is_some() && second.is_some());
        books.stats.queued.store(3, Ordering::Relaxed);
        batch.cancel();
        // Cancelled: no permit, and the three queued count as ended.
        assert!(batch.permit(&books, || 3).await.is_none());
        assert_eq!(books.stats.queued.load(Ordering::Relaxed), 0);
        assert!(books.get(7).is_some(), "two still running");
        drop(first);
        assert!(
            batch.permit(&books, || 0).await.is_none(),
            "even with one free"
        );
    }

    #[tokio::test]
    async fn only_an_adaptive_call_has_origin_places() {
        let plain = Batch::new(
            1,
            Arc::new(CallOptions::default()),
            Arc::new(Kept::default()),
        );
        assert!(plain.origin_place("http://a.test:80").await.is_none());
        assert!(plain.adaptive_limits().is_none());
        let opts = CallOptions {
            adaptive: true,
            ..CallOptions::default()
        };
        let adaptive = Batch::new(2, Arc::new(opts), Arc::new(Kept::default()));
        assert!(adaptive.origin_place("http://a.test:80").await.is_some());
    }

    #[test]
    fn the_registry_lists_and_empties() {
        let books = Batches::default();
        let (batch, _) = running(&books, false, 1);
        assert_eq!(books.all(false).len(), 1);
        assert_eq!(books.all(true).len(), 1);
        assert!(books.all(false).is_empty());
        assert!(books.get(7).is_none());
        assert!(books.remove(7).is_none());
        drop(batch);
    }
}
