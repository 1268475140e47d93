//! Body buffers made ready off the workers.
//!
//! A body kept by JavaScript is fresh memory, and the kernel faults it in a
//! 4 KiB page at a time as the socket's data is copied there: at 64 KiB that
//! was about 45 % of a worker's time, mostly the handling of each fault rather
//! than the copy. The workers are what limits throughput, while a core often
//! has time to spare; so one helper thread per client allocates body buffers
//! of the sizes in demand and touches their pages ahead of time, and a worker
//! that needs one takes it from the pool. When the pool has none, the worker
//! allocates as before.
//!
//! Sizes go by class (powers of two from 32 KiB to 1 MiB); a body shorter than
//! three quarters of its class gives the rest back (`shrink_to_fit`). A body
//! that filled at least that much of its buffer keeps it, and when the body
//! is dropped (in JavaScript, when its Buffer is collected) the buffer goes
//! back on the shelf while the client's shelves hold less than
//! `RECYCLED_BYTES` (or its class holds less than the helper's usual stock):
//! its pages are still in, so a client that lets go of the bodies it has
//! read runs on recycled memory. The helper stocks each class up to
//! `PER_CLASS_BYTES`, and only classes asked for in the last `IDLE_AFTER`
//! are kept: the others' buffers are freed.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::platform;

/// Smallest and largest body sizes served from the pool.
const MIN_CLASS: usize = 32 * 1024;
const MAX_CLASS: usize = 1024 * 1024;
const CLASSES: usize = 6; // 32, 64, 128, 256, 512 KiB, 1 MiB
/// Ready bytes kept per class.
const PER_CLASS_BYTES: usize = 2 * 1024 * 1024;
/// Bytes kept ready in all, counting buffers back from dropped bodies: the
/// garbage collector lets go of many at once (V8 collects after tens of MiB
/// of external memory), and each one kept is one the helper need not fault
/// in. They are freed with the rest once their class is idle.
const RECYCLED_BYTES: usize = 64 * 1024 * 1024;
/// A class not asked for this long is no longer kept ready.
const IDLE_AFTER: Duration = Duration::from_secs(10);
const PAGE: usize = 4096;

fn class_of(len: usize) -> Option<usize> {
    if !(MIN_CLASS / 2..=MAX_CLASS).contains(&len) {
        return None;
    }
    let size = len.next_power_of_two().max(MIN_CLASS);
    Some(size.trailing_zeros() as usize - MIN_CLASS.trailing_zeros() as usize)
}

fn class_size(class: usize) -> usize {
    MIN_CLASS << class
}

#[derive(Default)]
struct Shelves {
    ready: [Vec<Vec<u8>>; CLASSES],
    /// When each class was last asked for (it is kept stocked until idle).
    wanted: [Option<Instant>; CLASSES],
    closed: bool,
}

impl Shelves {
    fn let_go_of_idle(&mut self, now: Instant) {
        for class in 0..CLASSES {
            if self.wanted[class].is_some_and(|at| now.duration_since(at) >= IDLE_AFTER) {
                self.wanted[class] = None;
                self.ready[class] = Vec::new();
            }
        }
    }
}

/// The pool a client's workers take body buffers from.
pub struct Prefault {
    shelves: Mutex<Shelves>,
    wake: Condvar,
}

impl Prefault {
    /// Starts the helper thread. Returns None if it cannot be started; then
    /// every body is allocated where it is needed.
    pub fn start() -> Option<Arc<Self>> {
        if !platform::PREFAULT {
            return None;
        }
        let pool = Arc::new(Prefault {
            shelves: Mutex::new(Shelves::default()),
            wake: Condvar::new(),
        });
        // The helper holds the pool only while it works: once the client
        // lets go of it, the helper ends within a second.
        let helper = Arc::downgrade(&pool);
        std::thread::Builder::new()
            .name("fetchpool-prefault".into())
            .spawn(move || {
                while let Some(pool) = helper.upgrade() {
                    if !pool.step() {
                        return;
                    }
                }
            })
            .ok()?;
        Some(pool)
    }

    /// A buffer with room for `len` bytes: a ready one when the pool has it.
    pub fn take(&self, len: usize) -> Vec<u8> {
        if let Some(class) = class_of(len) {
            if let Ok(mut shelves) = self.shelves.lock() {
                shelves.wanted[class] = Some(Instant::now());
                if let Some(buf) = shelves.ready[class].pop() {
                    if shelves.ready[class].len() < Self::target(class) / 2 {
                        self.wake.notify_one();
                    }
                    return buf;
                }
                self.wake.notify_one();
            }
        }
        Vec::with_capacity(len)
    }

    /// `buf`, filled, as `Bytes`. A buffer of a class size that the body
    /// fills at least three quarters of comes back to the pool when the
    /// `Bytes` is dropped; any other gives back its unused room now.
    pub fn freeze(self: &Arc<Self>, mut buf: Vec<u8>) -> Bytes {
        let recyclable = class_of(buf.capacity()).is_some_and(|class| {
            buf.capacity() == class_size(class) && buf.len() >= class_size(class) / 4 * 3
        });
        if recyclable {
            return Bytes::from_owner(Recycled {
                buf,
                pool: Arc::downgrade(self),
            });
        }
        buf.shrink_to_fit();
        Bytes::from(buf)
    }

    /// Takes back a class-size buffer whose body is gone, if its shelf has
    /// room and the class is still in demand.
    fn give_back(&self, mut buf: Vec<u8>) {
        let Some(class) = class_of(buf.capacity()) else {
            return;
        };
        if buf.capacity() != class_size(class) {
            return;
        }
        buf.clear();
        if let Ok(mut shelves) = self.shelves.lock() {
            let shelved: usize = (0..CLASSES)
                .map(|c| shelves.ready[c].len() * class_size(c))
                .sum();
            if !shelves.closed
                && shelves.wanted[class].is_some()
                && (shelved + class_size(class) <= RECYCLED_BYTES
                    || shelves.ready[class].len() < Self::target(class))
            {
                shelves.ready[class].push(buf);
            }
        }
    }

    /// Stops the helper and frees what is ready.
    pub fn close(&self) {
        if let Ok(mut shelves) = self.shelves.lock() {
            shelves.closed = true;
            for shelf in shelves.ready.iter_mut() {
                *shelf = Vec::new();
            }
        }
        self.wake.notify_all();
    }

    fn target(class: usize) -> usize {
        (PER_CLASS_BYTES / class_size(class)).max(2)
    }

    /// Makes one buffer ready, waiting up to a second for a class to need
    /// one. Returns false once the pool is closed.
    fn step(&self) -> bool {
        let next = {
            let Ok(mut shelves) = self.shelves.lock() else {
                return false;
            };
            let short = |shelves: &Shelves| {
                (0..CLASSES)
                    .filter(|&c| {
                        shelves.wanted[c].is_some() && shelves.ready[c].len() < Self::target(c)
                    })
                    .min_by_key(|&c| shelves.ready[c].len() * 1000 / Self::target(c))
            };
            if shelves.closed {
                return false;
            }
            match short(&shelves) {
                Some(class) => class,
                None => {
                    let Ok((guard, _)) = self.wake.wait_timeout(shelves, Duration::from_secs(1))
                    else {
                        return false;
                    };
                    shelves = guard;
                    shelves.let_go_of_idle(Instant::now());
                    match short(&shelves) {
                        Some(class) if !shelves.closed => class,
                        _ => return !shelves.closed,
                    }
                }
            }
        };
        let size = class_size(next);
        let mut buf: Vec<u8> = Vec::with_capacity(size);
        fault_in(buf.spare_capacity_mut());
        let Ok(mut shelves) = self.shelves.lock() else {
            return false;
        };
        if shelves.closed {
            return false;
        }
        shelves.ready[next].push(buf);
        true
    }
}

/// Faults `buf`'s pages in here rather than on a worker: the whole pages in
/// one call where the kernel can (see `platform::populate_write`), else (and
/// for the partial pages at either end) one write per page.
fn fault_in(buf: &mut [std::mem::MaybeUninit<u8>]) {
    let Some(last) = buf.len().checked_sub(1) else {
        return;
    };
    let start = buf.as_mut_ptr() as usize;
    let whole_from = start.next_multiple_of(PAGE);
    let whole_to = (start + buf.len()) / PAGE * PAGE;
    let populated =
        whole_from < whole_to && platform::populate_write(whole_from, whole_to - whole_from);
    if !populated {
        for at in (0..buf.len()).step_by(PAGE) {
            buf[at].write(0);
        }
    }
    buf[0].write(0);
    buf[last].write(0);
}

/// A body in a buffer that goes back to its pool once the body is dropped.
struct Recycled {
    buf: Vec<u8>,
    pool: Weak<Prefault>,
}

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.upgrade() {
            pool.give_back(std::mem::take(&mut self.buf));
        }
    }
}

impl Drop for Prefault {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_map_to_classes() {
        assert_eq!(class_of(1000), None);
        assert_eq!(class_of(16 * 1024), Some(0));
        assert_eq!(class_of(32 * 1024), Some(0));
        assert_eq!(class_of(64 * 1024), Some(1));
        assert_eq!(class_of(64 * 1024 + 1), Some(2));
        assert_eq!(class_of(MAX_CLASS), Some(CLASSES - 1));
        assert_eq!(class_of(MAX_CLASS + 1), None);
    }

    #[test]
    fn a_helper_starts_only_where_prefaulting_pays() {
        assert_eq!(Prefault::start().is_some(), platform::PREFAULT);
    }

    #[test]
    #[cfg(all(target_os = "linux", not(feature = "portable")))]
    fn the_helper_stocks_what_is_asked_for() {
        let pool = Prefault::start().unwrap();
        let first = pool.take(64 * 1024);
        assert!(first.capacity() >= 64 * 1024);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let ready = pool.shelves.lock().unwrap().ready[1].len();
            if ready == Prefault::target(1) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "stocked {ready}");
            std::thread::sleep(Duration::from_millis(5));
        }
        let taken = pool.take(50_000);
        assert_eq!(taken.capacity(), 64 * 1024);
        pool.close();
    }

    #[test]
    fn a_full_buffer_comes_back_when_its_body_is_dropped() {
        // No helper: only what comes back is on the shelf.
        let pool = Arc::new(Prefault {
            shelves: Mutex::new(Shelves::default()),
            wake: Condvar::new(),
        });
        let mut buf = pool.take(64 * 1024);
        buf.resize(60 * 1024, 7);
        let body = pool.freeze(buf);
        assert_eq!(body.len(), 60 * 1024);
        assert!(body.iter().all(|&b| b == 7));
        let shared = body.clone();
        drop(body);
        assert!(pool.shelves.lock().unwrap().ready[1].is_empty());
        drop(shared);
        let back = pool.shelves.lock().unwrap().ready[1].pop().unwrap();
        assert_eq!((back.len(), back.capacity()), (0, 64 * 1024));
        // A body that uses little of its buffer gives the rest back instead.
        let mut small = pool.take(40 * 1024);
        small.resize(40 * 1024, 1);
        let body = pool.freeze(small);
        drop(body);
        assert!(pool.shelves.lock().unwrap().ready[1].is_empty());
    }

    #[test]
    fn classes_not_asked_for_are_let_go() {
        let mut shelves = Shelves::default();
        let now = Instant::now();
        shelves.wanted[1] = Some(now);
        shelves.ready[1].push(Vec::with_capacity(class_size(1)));
        shelves.let_go_of_idle(now + IDLE_AFTER / 2);
        assert_eq!(shelves.ready[1].len(), 1);
        shelves.let_go_of_idle(now + IDLE_AFTER);
        assert!(shelves.ready[1].is_empty() && shelves.wanted[1].is_none());
    }
}
