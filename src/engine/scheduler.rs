//! The scheduler: starts each batch's requests on driver loops ("lanes"),
//! each of which runs one request at a time over the network layer
//! (execute.rs, lane.rs) and reports the outcome to its batch, which
//! delivers it (deliver.rs). Joined and open calls share lanes that linger
//! for more work (joined.rs).

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use futures_util::FutureExt;
use tokio::runtime::Handle;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::adaptive::Sample;
use super::batch::{Batch, Batches, Item};
use super::deliver::driven;
use super::error::{ErrorKind, FetchError};
use super::execute::execute;
use super::joined::Joined;
use super::lane::Lane;
use super::network::Network;
use super::response::{ResponseData, Timing};

/// When a submitted part starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// At once, together with the parts of its call held before it.
    Now,
    /// Not yet: it waits for a later part of its call.
    Hold,
    /// At once, on the client's lanes for joined `fetch` calls, which wait a
    /// little for more work before they end (see joined.rs).
    Joined,
    /// At once, on lanes of the call's own that wait a little for its next
    /// part before they end: a call whose parts keep coming (`stream`).
    Open,
}

/// What the lanes of one client share: the network, the running batches
/// and the queues of joined and open calls.
pub struct Scheduler {
    pub network: Network,
    pub books: Batches,
    /// Joined `fetch` calls waiting for a lane (see joined.rs).
    joined: Arc<Joined>,
    /// Open calls' queues, by call: held by their lanes, so a call whose
    /// batch was let go of between parts (nothing pending) and made again
    /// finds its lanes still waiting.
    open: Mutex<HashMap<u32, Weak<Joined>>>,
}

impl Scheduler {
    pub fn new(network: Network) -> Self {
        Scheduler {
            network,
            books: Batches::default(),
            joined: Arc::default(),
            open: Mutex::default(),
        }
    }

    /// Starts `valid`, the checked items of `batch`, as `start` says.
    pub fn start(
        self: &Arc<Self>,
        runtime: &Handle,
        batch: Arc<Batch>,
        valid: Vec<Item>,
        start: Start,
    ) {
        if start == Start::Joined {
            drive_joined(runtime, self, &batch, &self.joined, valid);
        } else if start == Start::Open {
            let queue = self.open_lanes(batch.id(), batch.concurrency());
            drive_joined(runtime, self, &batch, &queue, valid);
        } else if valid.len() == 1 {
            let item = valid.into_iter().next().expect("one item");
            runtime.spawn(drive_one(self.clone(), batch, item));
        } else if !valid.is_empty() {
            runtime.spawn(drive(self.clone(), batch, valid));
        }
    }

    /// The queue and lanes of open call `id` (a `stream`): the one its lanes
    /// still hold, or a new one for at most `cap` lanes.
    fn open_lanes(&self, id: u32, cap: usize) -> Arc<Joined> {
        let mut open = self.open.lock().expect("open calls");
        if let Some(queue) = open.get(&id).and_then(Weak::upgrade) {
            return queue;
        }
        // Calls whose lanes have all ended leave only a dead entry.
        if open.len() >= 64 {
            open.retain(|_, queue| queue.strong_count() > 0);
        }
        let queue = Arc::new(Joined::new(cap));
        open.insert(id, Arc::downgrade(&queue));
        queue
    }

    /// Gives up what waits for a lane and closes the network's idle
    /// connections (the runtime is gone).
    pub fn close(&self) {
        self.joined.clear(&self.books);
        let open: Vec<_> = self
            .open
            .lock()
            .map(|mut o| o.drain().filter_map(|(_, q)| q.upgrade()).collect())
            .unwrap_or_default();
        for queue in open {
            queue.clear(&self.books);
        }
        self.network.close();
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
            joined.lane_gone();
        }
    }
}

impl Source {
    /// The next request to run, with its batch and a permit of the batch.
    /// A lane of joined calls that has to wait for one first hands its
    /// connection back to the sched's idle pool, where a lane woken for
    /// another origin, or another call, can take it.
    async fn next(
        &mut self,
        sched: &Scheduler,
        lane: &mut Lane,
    ) -> Option<(Arc<Batch>, Item, OwnedSemaphorePermit)> {
        match self {
            Source::Call { batch, queue } => {
                let drain = || queue.lock().expect("batch queue").drain(..).count();
                let permit = batch.permit(&sched.books, drain).await?;
                let item = queue.lock().expect("batch queue").pop_front()?;
                Some((batch.clone(), item, permit))
            }
            Source::Joined {
                joined,
                fresh,
                ended,
            } => loop {
                let release = || lane.release(&sched.network);
                let Some((batch, item)) = joined.next(std::mem::take(fresh), release).await else {
                    *ended = true;
                    return None;
                };
                // A cancelled batch's item ends here, unstarted.
                if let Some(permit) = batch.permit(&sched.books, || 1).await {
                    return Some((batch, item, permit));
                }
            },
        }
    }
}

/// Starts items on the lanes of `queue` (see [`Joined`]).
fn drive_joined(
    runtime: &tokio::runtime::Handle,
    sched: &Arc<Scheduler>,
    batch: &Arc<Batch>,
    queue: &Arc<Joined>,
    valid: Vec<Item>,
) {
    let new = queue.push(batch, valid);
    sched.network.idle.expect(queue.lanes());
    for _ in 0..new {
        let source = Source::Joined {
            joined: queue.clone(),
            fresh: true,
            ended: false,
        };
        runtime.spawn(lane(sched.clone(), source));
    }
}

/// Starts validated items in order as permits allow.
async fn drive(sched: Arc<Scheduler>, batch: Arc<Batch>, valid: Vec<Item>) {
    // Driver loops ("lanes"), as many as may run at once: each takes the
    // next request, runs it inline and keeps its connection for the next.
    let lanes = batch.opts.concurrency.max(1).min(valid.len());
    sched.network.idle.expect(lanes);
    let queue: Arc<Mutex<VecDeque<Item>>> = Arc::new(Mutex::new(valid.into()));
    for _ in 1..lanes {
        let source = Source::Call {
            batch: batch.clone(),
            queue: queue.clone(),
        };
        tokio::spawn(lane(sched.clone(), source));
    }
    if lanes > 0 {
        lane(sched, Source::Call { batch, queue }).await;
    }
}

/// A batch of one, already validated.
async fn drive_one(sched: Arc<Scheduler>, batch: Arc<Batch>, item: Item) {
    let queue = Arc::new(Mutex::new(VecDeque::from([item])));
    lane(sched, Source::Call { batch, queue }).await;
}

/// One driver loop: runs requests from `source` one after another, on
/// one connection where they go to the same origin.
async fn lane(sched: Arc<Scheduler>, mut source: Source) {
    let mut lane = Lane::default();
    driven(async {
        while let Some((batch, item, permit)) = source.next(&sched, &mut lane).await {
            let token = item.abortable.then(|| batch.item_token(item.index));
            run(sched.clone(), batch, item, permit, token, &mut lane).await;
        }
    })
    .await;
    lane.release(&sched.network);
}

async fn run(
    sched: Arc<Scheduler>,
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
    sched.books.stats.queued.fetch_sub(1, Ordering::Relaxed);
    sched.books.stats.in_flight.fetch_add(1, Ordering::Relaxed);
    let mut timing = Timing::queued_at(queued_at);
    let item_cancelled = cancelled(token.as_ref());
    let outcome: Outcome = {
        // Pinned where it is made: the request's future is large, and
        // moving it into the wrappers below would copy all of it.
        let mut exchange = std::pin::pin!(execute(
            &sched.network,
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
            result = work => Some(result.unwrap_or_else(internal_error)),
        }
    };
    if cut_short(&outcome) {
        // A request cut short may leave its connection mid-exchange.
        lane.discard();
    }
    drop(permit);
    sched.books.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
    if token.is_some() {
        batch.forget_item(index);
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
            batch.finish(&sched.books, index, url, timing, attempts, result)
        }
        None => batch.settle_unstarted(&sched.books, 1),
    }
}

/// What a request's run ends with: its outcome and attempts, or None when
/// its batch was cancelled.
type Outcome = Option<(Result<ResponseData, FetchError>, u32)>;

/// Resolves when `token` is cancelled; never without one.
async fn cancelled(token: Option<&CancellationToken>) {
    match token {
        Some(t) => t.cancelled().await,
        None => std::future::pending().await,
    }
}

/// A panic in a request's work, as that request's error.
fn internal_error(panic: Box<dyn Any + Send>) -> (Result<ResponseData, FetchError>, u32) {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string());
    let error = FetchError::new(ErrorKind::Internal, format!("Internal error: {message}"));
    (Err(error), 1)
}

/// Whether the request was cut short, which may leave its connection
/// mid-exchange.
fn cut_short(outcome: &Outcome) -> bool {
    match outcome {
        None => true,
        Some((Err(e), _)) => matches!(e.kind(), ErrorKind::Aborted | ErrorKind::Internal),
        Some((Ok(_), _)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::CallOptions;
    use crate::engine::deliver::Sink;
    use crate::engine::request::RawRequest;
    use crate::engine::response::Completion;

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
        assert_eq!(joined.lanes(), 1);
    }

    #[tokio::test]
    async fn open_calls_keep_their_lanes_and_dead_entries_are_swept() {
        let network = Network::new(&crate::engine::config::ClientConfig::default()).unwrap();
        let sched = Scheduler::new(network);
        let entries = || sched.open.lock().unwrap().len();
        let held = sched.open_lanes(0, 4);
        assert!(
            Arc::ptr_eq(&held, &sched.open_lanes(0, 4)),
            "its lanes' queue"
        );
        for id in 1..64 {
            drop(sched.open_lanes(id, 4));
        }
        assert_eq!(entries(), 64, "dead entries wait for the sweep");
        let _new = sched.open_lanes(64, 4);
        assert_eq!(entries(), 2, "the live call and the new one");
        assert!(Arc::ptr_eq(&held, &sched.open_lanes(0, 4)));
    }

    #[test]
    fn a_request_is_cut_short_by_a_cancel_an_abort_or_a_panic() {
        let err = |kind| Some((Err(FetchError::new(kind, "x")), 1));
        assert!(cut_short(&None));
        assert!(cut_short(&err(ErrorKind::Aborted)));
        assert!(cut_short(&err(ErrorKind::Internal)));
        assert!(!cut_short(&err(ErrorKind::Protocol)));
        let (failed, attempts) = internal_error(Box::new("boom"));
        assert_eq!(attempts, 1);
        assert_eq!(failed.unwrap_err().code(), "ERR_FETCHPOOL_INTERNAL");
    }

    #[tokio::test]
    async fn each_start_goes_to_its_own_lanes() {
        let network = Network::new(&crate::engine::config::ClientConfig::default()).unwrap();
        let sched = Arc::new(Scheduler::new(network));
        let runtime = Handle::current();
        // A closed port: each request fails at once, without the network.
        let refused = |index| {
            let (url, req) = RawRequest::get("http://127.0.0.1:1/").check();
            let req = req.expect("a valid request");
            let queued_at = Instant::now();
            let abortable = false;
            Item {
                index,
                url,
                req,
                abortable,
                queued_at,
            }
        };
        let opts = Arc::new(CallOptions::default());
        let start = |id, items: Vec<Item>, start| {
            let count = items.len();
            let batch = sched
                .books
                .join(id, opts.clone(), Arc::new(Nowhere), count, false);
            sched.start(&runtime, batch, items, start);
        };
        let open_calls = || sched.open.lock().unwrap().len();
        start(1, vec![refused(0), refused(1)], Start::Now);
        start(2, vec![refused(0)], Start::Now);
        assert_eq!(
            (sched.joined.lanes(), open_calls()),
            (0, 0),
            "a call's own lanes"
        );
        start(3, vec![refused(0), refused(1)], Start::Joined);
        assert!(sched.joined.lanes() > 0, "the joined calls' lanes");
        assert_eq!(open_calls(), 0);
        start(4, vec![refused(0)], Start::Open);
        assert_eq!(open_calls(), 1, "the open call's own queue");
    }
}
