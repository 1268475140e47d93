//! glibc's malloc, told to give memory back once JavaScript lets go of it.
//!
//! Completions cross to JavaScript in chunks of up to 1 MiB, and large
//! bodies as their own buffers, all written on the workers and freed on the
//! JavaScript thread when the garbage collector lets go of the last
//! response that views them: tens of MiB at a time, since V8 collects after
//! that much external memory. Two glibc habits kept that memory:
//!
//! - it serves blocks of 128 KiB and more with their own mapping, unmapped
//!   when freed, but raises that threshold to the size of each such block
//!   freed (up to 32 MiB), so after the first chunk every chunk came from a
//!   worker's arena; setting the threshold, at glibc's own starting value,
//!   turns that raising off;
//! - an arena keeps the pages of what was freed in it unless the free space
//!   is at its very top, so a long run of `gather` calls held 45 MiB free
//!   there with 6 MiB in use. After every `TRIM_AFTER` bytes of chunks
//!   released, a helper thread runs `malloc_trim`, which gives such pages
//!   back. Large bodies are not counted: their memory is best kept, with
//!   its pages in, for the next body of their size (see prefault.rs).
//!
//! Both are the process's settings, so they are left alone when the user
//! has tuned malloc through the environment.

/// Bytes of chunks released by JavaScript between two trims.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_AFTER: usize = 32 * 1024 * 1024;

/// Applies the threshold once per process.
pub fn give_back_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    gnu::set_threshold();
}

/// Counts `bytes` that JavaScript let go of; may wake the trimming thread.
pub fn released(bytes: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    gnu::released(bytes);
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = bytes;
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod gnu {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex, Once, OnceLock};

    /// glibc's own starting threshold, in bytes.
    const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

    static TUNED: AtomicBool = AtomicBool::new(false);
    static RELEASED: AtomicUsize = AtomicUsize::new(0);

    pub fn set_threshold() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            if super::user_tuned(|name| std::env::var_os(name).is_some()) {
                return;
            }
            // SAFETY: mallopt only changes glibc's thresholds, under the
            // main arena's lock; malloc is initialized long before (the
            // process has been allocating), which is all glibc asks of it.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            }
            TUNED.store(true, Ordering::Release);
        });
    }

    pub fn released(bytes: usize) {
        if !TUNED.load(Ordering::Acquire) {
            return;
        }
        let total = RELEASED.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total >= super::TRIM_AFTER {
            RELEASED.store(0, Ordering::Relaxed);
            trimmer().wake();
        }
    }

    /// A thread that trims when woken, so the JavaScript thread never does.
    struct Trimmer {
        pending: Mutex<bool>,
        wake: Condvar,
    }

    impl Trimmer {
        fn wake(&self) {
            if let Ok(mut pending) = self.pending.lock() {
                *pending = true;
                self.wake.notify_one();
            }
        }

        fn run(&self) {
            loop {
                let Ok(mut pending) = self.pending.lock() else {
                    return;
                };
                while !*pending {
                    pending = match self.wake.wait(pending) {
                        Ok(p) => p,
                        Err(_) => return,
                    };
                }
                *pending = false;
                drop(pending);
                // SAFETY: malloc_trim takes each arena's lock itself and
                // only gives back pages of free chunks.
                unsafe {
                    libc::malloc_trim(0);
                }
            }
        }
    }

    fn trimmer() -> &'static Trimmer {
        static TRIMMER: OnceLock<&'static Trimmer> = OnceLock::new();
        TRIMMER.get_or_init(|| {
            let trimmer: &'static Trimmer = Box::leak(Box::new(Trimmer {
                pending: Mutex::new(false),
                wake: Condvar::new(),
            }));
            // Without the thread nothing is trimmed, and nothing else changes.
            let _ = std::thread::Builder::new()
                .name("fetchpool-trim".into())
                .spawn(move || trimmer.run());
            trimmer
        })
    }
}

/// Whether malloc's thresholds were set through the environment.
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
fn user_tuned(is_set: impl Fn(&str) -> bool) -> bool {
    const NAMES: [&str; 4] = [
        "MALLOC_MMAP_THRESHOLD_",
        "MALLOC_TRIM_THRESHOLD_",
        "MALLOC_TOP_PAD_",
        "MALLOC_MMAP_MAX_",
    ];
    NAMES.iter().any(|name| is_set(name))
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("glibc.malloc."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_set_in_the_environment_is_left_alone() {
        assert!(user_tuned(|name| name == "MALLOC_TRIM_THRESHOLD_"));
        assert!(user_tuned(|name| name == "MALLOC_MMAP_THRESHOLD_"));
    }

    #[test]
    fn otherwise_the_threshold_is_set() {
        if std::env::var("GLIBC_TUNABLES").is_err() {
            assert!(!user_tuned(|_| false));
        }
    }

    #[test]
    fn released_memory_is_counted_and_trimmed_without_harm() {
        give_back_large_blocks();
        for _ in 0..4 {
            let block = vec![1u8; 8 * 1024 * 1024];
            let len = block.len();
            drop(block);
            released(len);
        }
    }
}
