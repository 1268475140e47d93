//! The counters behind `stats()`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Stats {
    pub queued: AtomicU64,
    pub in_flight: AtomicU64,
    pub done: AtomicU64,
    pub failed: AtomicU64,
    pub bytes: AtomicU64,
    /// Calls started as a batch of their own (see `Client::submit_part`).
    pub batches: AtomicU64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub queued: u64,
    pub in_flight: u64,
    pub done: u64,
    pub failed: u64,
    pub bytes: u64,
    pub batches: u64,
}

impl Stats {
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            queued: self.queued.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
        }
    }
}
