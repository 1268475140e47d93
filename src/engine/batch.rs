//! A batch: requests that share a concurrency limit, a cancellation token and,
//! in fail-fast mode, one fate. Its driver starts requests as permits free up.

use std::collections::{HashMap, VecDeque};
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
use super::lane::{driven, Lane};
use super::request::Request;
use super::response::{Completion, Timing};

/// Receives each finished request. Called on a worker thread.
pub trait Sink: Send + Sync + 'static {
    /// Takes one completion. Returns true when the sink holds it back to pass
    /// on together with others: then `flush` is called once the worker that
    /// delivered it runs out of work.
    fn deliver(&self, completion: Completion) -> bool;

    /// Passes on what `deliver` held back.
    fn flush(&self) {}
}

thread_local! {
    /// Sinks holding completions back, flushed when this worker parks.
    static TO_FLUSH: std::cell::RefCell<Vec<Arc<dyn Sink>>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Set on the client's worker threads, which flush when they park.
    static FLUSHES_ON_PARK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// When the oldest held completion must go even if the worker stays busy.
    static FLUSH_BY: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// Longest a worker that never runs out of work holds completions back.
const MAX_HOLD: std::time::Duration = std::time::Duration::from_millis(2);

/// Marks the current thread as one of the client's workers (`on_thread_start`).
pub fn worker_started() {
    FLUSHES_ON_PARK.with(|f| f.set(true));
}

/// Flushes the sinks that held completions back on this worker
/// (`on_thread_park`, and when a worker stops).
pub fn flush_deferred() {
    FLUSH_BY.with(|by| by.set(None));
    let sinks = TO_FLUSH.with(|list| std::mem::take(&mut *list.borrow_mut()));
    for sink in sinks {
        sink.flush();
    }
}

fn flush_later(sink: &Arc<dyn Sink>) {
    if !FLUSHES_ON_PARK.with(|f| f.get()) {
        sink.flush();
        return;
    }
    TO_FLUSH.with(|list| {
        let mut list = list.borrow_mut();
        if list.is_empty() {
            FLUSH_BY.with(|by| by.set(Some(Instant::now() + MAX_HOLD)));
        }
        if !list.iter().any(|s| Arc::ptr_eq(s, sink)) {
            list.push(sink.clone());
        }
    });
}

/// Flushes held completions whose time is up; called as the driver loops
/// are polled, for a worker that stays busy and so never parks.
pub fn flush_if_due() {
    if FLUSH_BY
        .with(|by| by.get())
        .is_some_and(|by| Instant::now() >= by)
    {
        flush_deferred();
    }
}

/// A validated request waiting for a lane.
pub struct Item {
    pub index: u32,
    /// The URL as given.
    pub url: String,
    /// Boxed: items are queued and moved by the thousand, and a request is
    /// large.
    pub req: Box<Request>,
    /// Whether it has its own AbortSignal.
    pub abortable: bool,
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
    /// Parts of a call held until its last part arrives, and when the first
    /// of them was queued.
    held: Mutex<(Vec<Item>, Option<Instant>)>,
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
            held: Mutex::new((Vec::new(), None)),
        }
    }

    /// Drops the parts held for a call that will not start; returns how many
    /// requests they held.
    pub fn drop_held(&self) -> usize {
        let mut held = self.held.lock().expect("held parts");
        held.1 = None;
        std::mem::take(&mut held.0).len()
    }

    /// Queues one part of a call. Returns what is to start now, with when it
    /// was first queued: nothing while `hold`, else this part together with
    /// every part held before it.
    pub fn queue(
        &self,
        items: Vec<Item>,
        queued_at: Instant,
        hold: bool,
    ) -> Option<(Vec<Item>, Instant)> {
        let mut held = self.held.lock().expect("held parts");
        if hold {
            held.0.extend(items);
            held.1.get_or_insert(queued_at);
            return None;
        }
        if held.0.is_empty() {
            return Some((items, queued_at));
        }
        let mut all = std::mem::take(&mut held.0);
        all.extend(items);
        Some((all, held.1.take().unwrap_or(queued_at)))
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

    /// Starts validated items in order as permits allow.
    pub async fn drive(
        client: Arc<ClientInner>,
        batch: Arc<Batch>,
        valid: Vec<Item>,
        queued_at: Instant,
    ) {
        // Driver loops ("lanes"), as many as may run at once: each takes the
        // next request, runs it inline and keeps its connection for the next.
        let lanes = batch.opts.concurrency.max(1).min(valid.len());
        let queue: Arc<Mutex<VecDeque<Item>>> = Arc::new(Mutex::new(valid.into()));
        for _ in 1..lanes {
            tokio::spawn(Batch::lane(
                client.clone(),
                batch.clone(),
                queue.clone(),
                queued_at,
            ));
        }
        if lanes > 0 {
            Batch::lane(client, batch, queue, queued_at).await;
        }
    }

    /// One driver loop: starts the queue's requests in order as permits allow
    /// until the queue is empty or the batch is cancelled.
    async fn lane(
        client: Arc<ClientInner>,
        batch: Arc<Batch>,
        queue: Arc<Mutex<VecDeque<Item>>>,
        queued_at: Instant,
    ) {
        driven(Batch::lane_loop(
            client,
            batch,
            queue,
            queued_at,
            Lane::default(),
        ))
        .await;
    }

    async fn lane_loop(
        client: Arc<ClientInner>,
        batch: Arc<Batch>,
        queue: Arc<Mutex<VecDeque<Item>>>,
        queued_at: Instant,
        mut lane: Lane,
    ) {
        loop {
            let permit = match batch.permits.clone().try_acquire_owned() {
                Ok(p) if !batch.cancel.is_cancelled() => p,
                _ => tokio::select! {
                    biased;
                    _ = batch.cancel.cancelled() => {
                        let left: Vec<Item> = queue.lock().expect("batch queue").drain(..).collect();
                        client.stats.queued.fetch_sub(left.len() as u64, Ordering::Relaxed);
                        batch.settle_unstarted(&client, left.len());
                        break;
                    }
                    permit = batch.permits.clone().acquire_owned() => match permit {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                },
            };
            let Some(Item {
                index,
                url,
                req,
                abortable,
            }) = queue.lock().expect("batch queue").pop_front()
            else {
                break;
            };
            let token = abortable.then(|| batch.item_token(index));
            Batch::run(
                client.clone(),
                batch.clone(),
                index,
                url,
                req,
                queued_at,
                permit,
                token,
                &mut lane,
            )
            .await;
        }
        lane.release(&client);
    }

    /// A batch of one, already validated.
    pub async fn drive_one(
        client: Arc<ClientInner>,
        batch: Arc<Batch>,
        item: Item,
        queued_at: Instant,
    ) {
        let Item {
            index, url, req, ..
        } = item;
        let permit = match batch.permits.clone().acquire_owned().await {
            Ok(p) => p,
            Err(_) => return,
        };
        let token = Some(batch.item_token(index));
        let mut lane = Lane::default();
        driven(async {
            Batch::run(
                client.clone(),
                batch,
                index,
                url,
                req,
                queued_at,
                permit,
                token,
                &mut lane,
            )
            .await;
            lane.release(&client);
        })
        .await;
    }

    #[allow(clippy::too_many_arguments)] // one request's whole context, moved into its task
    async fn run(
        client: Arc<ClientInner>,
        batch: Arc<Batch>,
        index: u32,
        url: String,
        req: Box<Request>,
        queued_at: Instant,
        permit: OwnedSemaphorePermit,
        token: Option<CancellationToken>,
        lane: &mut Lane,
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
            // Pinned where it is made: the request's future is large, and
            // moving it into the wrappers below would copy all of it.
            let exchange = std::pin::pin!(execute(
                &client,
                &req,
                &batch.opts,
                &mut timing,
                Some(&mut *lane),
            ));
            let work = AssertUnwindSafe(exchange).catch_unwind();
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
        let cut_short = match &outcome {
            None => true,
            Some((Err(e), _)) => matches!(e.kind(), ErrorKind::Aborted | ErrorKind::Internal),
            Some((Ok(_), _)) => false,
        };
        if cut_short {
            // A request cut short may leave its connection mid-exchange.
            lane.discard();
        }
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
    pub(crate) fn finish(
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
