//! The client: a tokio runtime (the workers) and the scheduler over the
//! network layer. It composes the engine's layers and none of them imports
//! it: network.rs (connections), execute.rs (one request over them),
//! scheduler.rs and batch.rs (batches, lanes, queues), deliver.rs (to the
//! sink).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::runtime::{Handle, Runtime};

use super::batch::Item;
use super::config::{CallOptions, ClientConfig};
use super::deliver::{flush_deferred, worker_started, Sink};
use super::error::{ErrorKind, FetchError, InvalidInput};
use super::network::Network;
use super::request::RawRequest;
use super::response::Timing;
use super::scheduler::{Scheduler, Start};
use super::stats::StatsSnapshot;

/// A call refused before anything of it was sent: the malformed item.
#[derive(Debug)]
pub struct Rejected {
    pub index: u32,
    pub error: FetchError,
}

/// A pool of workers and connections. Cheap to share; `close` ends it.
pub struct Client {
    inner: Arc<Scheduler>,
    config: ClientConfig,
    /// The runtime's handle, let go of at `close` with the runtime: what
    /// the I/O driver holds (its epoll and wake-up descriptors) goes with
    /// the last handle, not with the runtime alone.
    handle: Mutex<Option<Handle>>,
    runtime: Mutex<Option<Runtime>>,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, FetchError> {
        super::malloc::give_back_large_blocks();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.workers.max(1))
            .thread_name("fetchpool-worker")
            .on_thread_start(worker_started)
            .on_thread_park(flush_deferred)
            .on_thread_stop(flush_deferred)
            .enable_all()
            .build()
            .map_err(|e| FetchError::new(ErrorKind::Internal, e.to_string()))?;
        let network = {
            // The connectors' timers and resolver need the runtime's context.
            let _guard = runtime.enter();
            Network::new(&config)?
        };
        Ok(Client {
            handle: Mutex::new(Some(runtime.handle().clone())),
            inner: Arc::new(Scheduler::new(network)),
            config,
            runtime: Mutex::new(Some(runtime)),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn defaults(&self) -> &CallOptions {
        &self.config.defaults
    }

    pub fn is_closed(&self) -> bool {
        self.runtime.lock().map(|r| r.is_none()).unwrap_or(true)
    }

    /// Starts `items` as part of batch `batch_id` (created if it does not
    /// exist), numbering them from `first_index`. Each outcome goes to `sink`.
    /// See [`Client::submit_part`]; this is the whole of a call at once.
    pub fn submit(
        &self,
        batch_id: u32,
        first_index: u32,
        items: Vec<RawRequest>,
        opts: Arc<CallOptions>,
        sink: Arc<dyn Sink>,
    ) -> Result<(), FetchError> {
        self.submit_part(batch_id, first_index, items, opts, sink, Start::Now)
            .map_err(|rejected| rejected.error)
    }

    /// Validates `items` here, on the caller's thread, and queues them on
    /// batch `batch_id`. With [`Start::Hold`] they wait for a later part
    /// without it, so that a call can cross in pieces and still start as one.
    ///
    /// In fail-fast mode a malformed item rejects the whole call: nothing of
    /// it is sent, parts held before included. Otherwise a malformed item is
    /// that item's error, delivered like any outcome.
    pub fn submit_part(
        &self,
        batch_id: u32,
        first_index: u32,
        items: Vec<RawRequest>,
        opts: Arc<CallOptions>,
        sink: Arc<dyn Sink>,
        start: Start,
    ) -> Result<(), Rejected> {
        if self.is_closed() {
            return Err(Rejected {
                index: first_index,
                error: FetchError::new(
                    ErrorKind::Invalid(InvalidInput::ArgValue),
                    "The client is closed",
                ),
            });
        }
        let queued_at = Instant::now();
        let count = items.len();
        let mut valid = Vec::with_capacity(count);
        let mut invalid = Vec::new();
        for (offset, raw) in items.into_iter().enumerate() {
            let index = first_index + offset as u32;
            let abortable = raw.abortable;
            let (url, checked) = raw.check();
            match checked {
                Ok(req) => valid.push(Item {
                    index,
                    url,
                    req,
                    abortable,
                    queued_at,
                }),
                Err(error) => invalid.push((index, url, error)),
            }
        }
        if opts.fail_fast && !invalid.is_empty() {
            self.cancel(batch_id);
            let (index, _, error) = invalid.swap_remove(0);
            return Err(Rejected { index, error });
        }
        // Joined `fetch` calls and `stream`'s parts do not count as a batch:
        // the counter shows that a call crossed and ran as one.
        let own = matches!(start, Start::Now | Start::Hold);
        let books = &self.inner.books;
        let batch = books.join(batch_id, opts, sink, count, own);
        let stats = &books.stats;
        stats.queued.fetch_add(count as u64, Ordering::Relaxed);
        for (index, url, error) in invalid {
            stats.queued.fetch_sub(1, Ordering::Relaxed);
            batch.finish(
                books,
                index,
                url,
                Timing::queued_at(queued_at),
                0,
                Err(error),
            );
        }
        let Some(valid) = batch.queue(valid, start == Start::Hold) else {
            return Ok(());
        };
        // Closed since the check above: `close` cancels the batch.
        if let Some(handle) = self.handle.lock().ok().and_then(|h| h.clone()) {
            self.inner.start(&handle, batch, valid, start);
        }
        Ok(())
    }

    /// Cancels a whole batch: nothing more starts and what runs is dropped.
    pub fn cancel(&self, batch_id: u32) {
        if let Some(batch) = self.inner.books.remove(batch_id) {
            let held = batch.drop_held();
            self.inner
                .books
                .stats
                .queued
                .fetch_sub(held as u64, Ordering::Relaxed);
            batch.cancel();
        }
    }

    /// Cancels one request of a batch; it fails with `ABORT_ERR`.
    pub fn cancel_item(&self, batch_id: u32, index: u32) {
        if let Some(batch) = self.inner.books.get(batch_id) {
            batch.cancel_item(index);
        }
    }

    pub fn stats(&self) -> StatsSnapshot {
        let mut stats = self.inner.books.stats.snapshot();
        if self.is_closed() {
            // Its tasks are dropped with the runtime, in the background and
            // without running to their ends: a closed client has nothing
            // waiting and nothing in flight.
            stats.queued = 0;
            stats.in_flight = 0;
        }
        stats
    }

    /// The adaptive limit of each origin that running `concurrency: 'auto'`
    /// calls fetch from (the highest, where several calls share one).
    pub fn adaptive_limits(&self) -> HashMap<String, u32> {
        let batches = self.inner.books.all(false);
        let mut out = HashMap::new();
        for (origin, limit) in batches.iter().filter_map(|b| b.adaptive_limits()).flatten() {
            let entry = out.entry(origin).or_insert(limit);
            *entry = (*entry).max(limit);
        }
        out
    }

    /// Cancels every batch and stops the workers without waiting for them.
    pub fn close(&self) {
        for batch in self.inner.books.all(true) {
            batch.cancel();
        }
        if let Some(runtime) = self.runtime.lock().ok().and_then(|mut r| r.take()) {
            runtime.shutdown_background();
        }
        drop(self.handle.lock().ok().and_then(|mut h| h.take()));
        self.inner.close();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}
