//! The queue of requests that arrive a few at a time, with lanes that
//! linger for more: joined `fetch` calls and open calls (`stream`).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::batch::{Batch, Batches, Item};

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
    pub fn clear(&self, books: &Batches) {
        let left = std::mem::take(&mut self.state.lock().expect("joined calls").items);
        books
            .stats
            .queued
            .fetch_sub(left.len() as u64, Ordering::Relaxed);
        for (batch, _) in left {
            batch.settle_unstarted(books, 1);
        }
    }

    /// The next item, waiting up to `LINGER` for one; None ends the lane.
    /// `idle`: the lane is already counted as idle (it was just started).
    /// `before_waiting` runs when there is nothing to take yet.
    pub async fn next(
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

    /// Counts out a lane that ended other than through `next`.
    pub fn lane_gone(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.lanes = state.lanes.saturating_sub(1);
        }
    }

    /// Lanes alive, idle or running a request.
    pub fn lanes(&self) -> usize {
        self.state.lock().expect("joined calls").lanes
    }
}
