//! A batch: requests that share a concurrency limit, a cancellation token and,
//! in fail-fast mode, one fate. Its driver starts requests as permits free up.

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::FutureExt;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::adaptive::{AdaptiveLimits, OriginPermit, Sample};
use super::client::ClientInner;
use super::config::CallOptions;
use super::deliver::{driven, flush_later, Sink};
use super::error::{ErrorKind, FetchError};
use super::execute::execute;
use super::lane::Lane;
use super::request::Checked;
use super::response::{Completion, Timing};

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

/// How long a lane of joined calls waits for more work before it ends.
const LINGER: std::time::Duration = std::time::Duration::from_millis(100);

/// A queue of requests that arrive a few at a time, with lanes that wait
/// `LINGER` for more when they run out before they end, so that work which
/// trickles in keeps its lanes rather than starting new ones:
/// - the client's joined `fetch` calls (see lib/join.js), whatever
///   batch each belongs to, as in a loop that starts the next call as one
///   finishes;
/// - an open call's parts (`stream`), as its consumer makes room.
pub struct Joined {
    state: Mutex<JoinedState>,
    more: Notify,
    /// Most lanes at once: the call's concurrency, or unlimited.
    cap: usize,
}

impl Default for Joined {
    fn default() -> Self {
        Joined::new(usize::MAX)
    }
}

#[derive(Default)]
struct JoinedState {
    items: VecDeque<(Arc<Batch>, Item)>,
    /// Lanes that will take queued items without a new lane being started:
    /// started and not yet running, or waiting for work (woken by `push`).
    idle: usize,
    /// Lanes alive, idle or running a request.
    lanes: usize,
}

impl Joined {
    pub fn new(cap: usize) -> Self {
        Joined {
            state: Mutex::default(),
            more: Notify::new(),
            cap: cap.max(1),
        }
    }

    /// Queues `items` of `batch` and wakes as many waiting lanes. Returns how
    /// many new lanes to start: one for each item no idle lane will take,
    /// within the cap (the others wait for a running lane to finish).
    pub fn push(&self, batch: &Arc<Batch>, items: Vec<Item>) -> usize {
        let added = items.len();
        let (wake, new) = {
            let mut state = self.state.lock().expect("joined calls");
            state
                .items
                .extend(items.into_iter().map(|item| (batch.clone(), item)));
            let wake = added.min(state.idle);
            let new = state
                .items
                .len()
                .saturating_sub(state.idle)
                .min(self.cap.saturating_sub(state.lanes));
            state.idle += new;
            state.lanes += new;
            (wake, new)
        };
        for _ in 0..wake {
            self.more.notify_one();
        }
        new
    }

    /// Gives up every queued item, counted as ended unstarted (the client is
    /// closing: its lanes are gone).
    pub fn clear(&self, client: &ClientInner) {
        let left = std::mem::take(&mut self.state.lock().expect("joined calls").items);
        client
            .stats
            .queued
            .fetch_sub(left.len() as u64, Ordering::Relaxed);
        for (batch, _) in left {
            batch.settle_unstarted(client, 1);
        }
    }

    /// The next item, waiting up to `LINGER` for one; None ends the lane.
    /// `idle`: the lane is already counted as idle (it was just started).
    /// `before_waiting` runs when there is nothing to take yet.
    async fn next(
        &self,
        mut idle: bool,
        mut before_waiting: impl FnMut(),
    ) -> Option<(Arc<Batch>, Item)> {
        loop {
            let more = self.more.notified();
            tokio::pin!(more);
            // Registered before the queue is looked at, so a push after the
            // look still wakes this lane.
            more.as_mut().enable();
            {
                let mut state = self.state.lock().expect("joined calls");
                if !idle {
                    state.idle += 1;
                    idle = true;
                }
                if let Some(next) = state.items.pop_front() {
                    state.idle -= 1;
                    return Some(next);
                }
            }
            before_waiting();
            let woken = tokio::time::timeout(LINGER, more).await.is_ok();
            let mut state = self.state.lock().expect("joined calls");
            if let Some(next) = state.items.pop_front() {
                state.idle -= 1;
                return Some(next);
            }
            if !woken {
                state.idle -= 1;
                state.lanes -= 1;
                return None;
            }
        }
    }
}

/// Where a lane takes its next request from.
enum Source {
    /// One call's queue: the lane ends when it is empty or the call is
    /// cancelled.
    Call {
        batch: Arc<Batch>,
        queue: Arc<Mutex<VecDeque<Item>>>,
    },
    /// Joined calls, or an open call's parts. `fresh` until the lane first
    /// looks; `ended` once `Joined::next` has let the lane go.
    Joined {
        joined: Arc<Joined>,
        fresh: bool,
        ended: bool,
    },
}

impl Drop for Source {
    /// A lane of a [`Joined`] queue that ends other than through its `next`
    /// (a panic outside the request, or the runtime shutting down) still
    /// leaves the count, so that later pushes start lanes in its place.
    fn drop(&mut self) {
        if let Source::Joined {
            joined,
            ended: false,
            ..
        } = self
        {
            if let Ok(mut state) = joined.state.lock() {
                state.lanes = state.lanes.saturating_sub(1);
            }
        }
    }
}

impl Source {
    /// The next request to run, with its batch and a permit of the batch.
    /// A lane of joined calls that has to wait for one first hands its
    /// connection back to the client's idle pool, where a lane woken for
    /// another origin, or another call, can take it.
    async fn next(
        &mut self,
        client: &ClientInner,
        lane: &mut Lane,
    ) -> Option<(Arc<Batch>, Item, OwnedSemaphorePermit)> {
        match self {
            Source::Call { batch, queue } => {
                let drain = || queue.lock().expect("batch queue").drain(..).count();
                let permit = batch.permit(client, drain).await?;
                let item = queue.lock().expect("batch queue").pop_front()?;
                Some((batch.clone(), item, permit))
            }
            Source::Joined {
                joined,
                fresh,
                ended,
            } => loop {
                let release = || lane.release(client);
                let Some((batch, item)) = joined.next(std::mem::take(fresh), release).await else {
                    *ended = true;
                    return None;
                };
                // A cancelled batch's item ends here, unstarted.
                if let Some(permit) = batch.permit(client, || 1).await {
                    return Some((batch, item, permit));
                }
            },
        }
    }
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
    async fn origin_place(&self, key: &str) -> Option<OriginPermit> {
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

    fn item_token(&self, index: u32) -> CancellationToken {
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
    async fn permit(
        &self,
        client: &ClientInner,
        drain: impl FnOnce() -> usize,
    ) -> Option<OwnedSemaphorePermit> {
        match self.permits.clone().try_acquire_owned() {
            Ok(p) if !self.cancel.is_cancelled() => Some(p),
            _ => tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    let left = drain();
                    client.stats.queued.fetch_sub(left as u64, Ordering::Relaxed);
                    self.settle_unstarted(client, left);
                    None
                }
                permit = self.permits.clone().acquire_owned() => permit.ok(),
            },
        }
    }

    /// Starts items on the lanes of `queue` (see [`Joined`]).
    pub fn drive_joined(
        runtime: &tokio::runtime::Handle,
        client: &Arc<ClientInner>,
        batch: &Arc<Batch>,
        queue: &Arc<Joined>,
        valid: Vec<Item>,
    ) {
        let new = queue.push(batch, valid);
        for _ in 0..new {
            let source = Source::Joined {
                joined: queue.clone(),
                fresh: true,
                ended: false,
            };
            runtime.spawn(Batch::lane(client.clone(), source));
        }
    }

    pub fn concurrency(&self) -> usize {
        self.opts.concurrency
    }

    /// Starts validated items in order as permits allow.
    pub async fn drive(client: Arc<ClientInner>, batch: Arc<Batch>, valid: Vec<Item>) {
        // Driver loops ("lanes"), as many as may run at once: each takes the
        // next request, runs it inline and keeps its connection for the next.
        let lanes = batch.opts.concurrency.max(1).min(valid.len());
        let queue: Arc<Mutex<VecDeque<Item>>> = Arc::new(Mutex::new(valid.into()));
        for _ in 1..lanes {
            let source = Source::Call {
                batch: batch.clone(),
                queue: queue.clone(),
            };
            tokio::spawn(Batch::lane(client.clone(), source));
        }
        if lanes > 0 {
            Batch::lane(client, Source::Call { batch, queue }).await;
        }
    }

    /// A batch of one, already validated.
    pub async fn drive_one(client: Arc<ClientInner>, batch: Arc<Batch>, item: Item) {
        let queue = Arc::new(Mutex::new(VecDeque::from([item])));
        Batch::lane(client, Source::Call { batch, queue }).await;
    }

    /// One driver loop: runs requests from `source` one after another, on
    /// one connection where they go to the same origin.
    async fn lane(client: Arc<ClientInner>, mut source: Source) {
        let mut lane = Lane::default();
        driven(async {
            while let Some((batch, item, permit)) = source.next(&client, &mut lane).await {
                let token = item.abortable.then(|| batch.item_token(item.index));
                Batch::run(client.clone(), batch, item, permit, token, &mut lane).await;
            }
        })
        .await;
        lane.release(&client);
    }

    async fn run(
        client: Arc<ClientInner>,
        batch: Arc<Batch>,
        item: Item,
        permit: OwnedSemaphorePermit,
        token: Option<CancellationToken>,
        lane: &mut Lane,
    ) {
        let Item {
            index,
            url,
            req,
            queued_at,
            ..
        } = item;
        let req = req.into_request();
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
            let mut exchange = std::pin::pin!(execute(
                &client,
                &req,
                &batch.opts,
                &mut timing,
                Some(&mut *lane),
            ));
            let limited = std::pin::pin!(async {
                // Waiting for the origin's place is still waiting in line.
                let place = batch.origin_place(&req.key).await;
                let began = Instant::now();
                let outcome = exchange.as_mut().await;
                if let Some(place) = place {
                    place.finish(Sample::of(&outcome.0, began.elapsed()));
                }
                outcome
            });
            let work = AssertUnwindSafe(limited).catch_unwind();
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
                // Only an error names the URL as given.
                let url = if url.is_empty() && result.is_err() {
                    req.href.clone()
                } else {
                    url
                };
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
            let mut batches = client.batches.lock().expect("batch registry");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::request::RawRequest;

    struct Nowhere;

    impl Sink for Nowhere {
        fn deliver(&self, _: Completion) -> bool {
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

    #[test]
    fn a_lane_that_dies_running_a_request_leaves_the_count() {
        let joined = Arc::new(Joined::new(1));
        let batch = Arc::new(Batch::new(
            1,
            Arc::new(CallOptions::default()),
            Arc::new(Nowhere),
        ));
        assert_eq!(joined.push(&batch, vec![item(0)]), 1, "one lane to start");
        let lane = Source::Joined {
            joined: joined.clone(),
            fresh: false,
            ended: false,
        };
        let (_, taken) = joined
            .next(true, || {})
            .now_or_never()
            .flatten()
            .expect("the queued item, at once");
        assert_eq!(taken.index, 0);
        // The lane's task ends while it runs the request (a panic outside
        // the exchange, say): the next item gets a lane in its place.
        drop(lane);
        assert_eq!(joined.push(&batch, vec![item(1)]), 1);
        // A lane that ends through `next` is not taken out twice.
        let ended = Source::Joined {
            joined: joined.clone(),
            fresh: false,
            ended: true,
        };
        drop(ended);
        assert_eq!(joined.state.lock().unwrap().lanes, 1);
    }
}
