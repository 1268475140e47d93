//! The guard against a body that trickles: like curl's `--speed-limit` and
//! `--speed-time`, a body that brings fewer than `bytes_per_sec` bytes a
//! second on average over any `window` fails. The pause between two pieces
//! (the body timeout) cannot see a server that sends one byte a second; a
//! total timeout would cut off a large download that is merely long.

use std::time::{Duration, Instant};

/// Slowest transfer accepted, averaged over a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinSpeed {
    pub bytes_per_sec: u64,
    pub window: Duration,
}

/// Marks a body that fell below the minimum speed, in an I/O error chain.
#[derive(Debug)]
pub struct TooSlow {
    pub limit: MinSpeed,
}

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Body slower than {} bytes/s over {} s",
            self.limit.bytes_per_sec,
            self.limit.window.as_secs_f64()
        )
    }
}

impl std::error::Error for TooSlow {}

/// Counts the bytes of one body in consecutive windows.
pub struct SpeedCheck {
    limit: Option<MinSpeed>,
    window_start: Instant,
    window_bytes: u64,
}

impl SpeedCheck {
    pub fn new(limit: Option<MinSpeed>) -> Self {
        SpeedCheck {
            limit,
            window_start: Instant::now(),
            window_bytes: 0,
        }
    }

    /// Counts `n` bytes just received; fails once a whole window has passed
    /// with fewer bytes than the limit asks for.
    pub fn add(&mut self, n: usize) -> Result<(), TooSlow> {
        self.add_at(n, Instant::now())
    }

    fn add_at(&mut self, n: usize, now: Instant) -> Result<(), TooSlow> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        self.window_bytes = self.window_bytes.saturating_add(n as u64);
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed < limit.window {
            return Ok(());
        }
        let wanted = limit.bytes_per_sec as f64 * elapsed.as_secs_f64();
        if (self.window_bytes as f64) < wanted {
            return Err(TooSlow { limit });
        }
        self.window_start = now;
        self.window_bytes = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: MinSpeed = MinSpeed {
        bytes_per_sec: 100,
        window: Duration::from_secs(10),
    };

    #[test]
    fn a_trickle_fails_once_a_window_has_passed() {
        let mut check = SpeedCheck::new(Some(LIMIT));
        let start = check.window_start;
        for s in 1..10 {
            assert!(check.add_at(1, start + Duration::from_secs(s)).is_ok());
        }
        assert!(check.add_at(1, start + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn a_steady_body_passes_window_after_window() {
        let mut check = SpeedCheck::new(Some(LIMIT));
        let start = check.window_start;
        for s in 1..=100 {
            assert!(check.add_at(100, start + Duration::from_secs(s)).is_ok());
        }
    }

    #[test]
    fn no_limit_never_fails() {
        let mut check = SpeedCheck::new(None);
        let later = check.window_start + Duration::from_secs(3600);
        assert!(check.add_at(0, later).is_ok());
    }
}
