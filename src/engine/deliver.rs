//! Delivery of finished requests to their sink: a sink may hold
//! completions back to pass on several at once, and the worker that
//! delivered them flushes it when it runs out of work, or after `MAX_HOLD`
//! when it never does. The scheduler reports here; nothing here knows of it.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use super::response::Completion;

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

pub fn flush_later(sink: &Arc<dyn Sink>) {
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

/// Runs `work` (a lane's loop), passing on held completions when they are
/// due each time it is polled.
pub async fn driven<F: Future>(work: F) -> F::Output {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| {
        let out = work.as_mut().poll(cx);
        flush_if_due();
        out
    })
    .await
}
