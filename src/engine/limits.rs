//! Per-host caps and rate limits: how many connections or requests one host
//! gets at once, and how often requests may start, overall and per host.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The key a host's limits are kept under: `scheme://host:port`, lower case.
pub fn host_key(scheme: &str, host: &str, port: Option<u16>) -> String {
    let port = port.unwrap_or(if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    });
    let mut key = String::with_capacity(scheme.len() + host.len() + 9);
    key.push_str(scheme);
    key.push_str("://");
    key.push_str(host);
    // Lower-casing ASCII in place keeps the text valid UTF-8, and it is
    // done once per request, before sending: no temporary strings.
    key.make_ascii_lowercase();
    key.push(':');
    let _ = write!(key, "{port}");
    key
}

/// One semaphore of `max` permits per host, made on first use and dropped
/// again when nobody holds or waits for it, so many hosts cost no memory.
pub struct HostSemaphores {
    max: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A held permit of one host; returning the last one forgets the host.
pub struct HostPermit {
    permit: Option<OwnedSemaphorePermit>,
    key: String,
    owner: Arc<HostSemaphores>,
}

impl HostSemaphores {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(HostSemaphores {
            max: max.max(1),
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// Waits for a permit of `key`'s host.
    pub async fn acquire(self: &Arc<Self>, key: String) -> HostPermit {
        let semaphore = {
            let mut hosts = self.hosts.lock().expect("host semaphores");
            hosts
                .entry(key.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.max)))
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = semaphore.acquire_owned().await.ok();
        HostPermit {
            permit,
            key,
            owner: self.clone(),
        }
    }

    #[cfg(test)]
    fn hosts(&self) -> usize {
        self.hosts.lock().expect("host semaphores").len()
    }
}

impl Drop for HostPermit {
    fn drop(&mut self) {
        let Ok(mut hosts) = self.owner.hosts.lock() else {
            return;
        };
        // Under the lock nobody can take a new reference: two references (the
        // map's and this permit's) mean nobody else holds or waits.
        let idle = hosts
            .get(&self.key)
            .is_some_and(|s| Arc::strong_count(s) == 2 && self.permit.is_some());
        self.permit = None;
        if idle {
            hosts.remove(&self.key);
        }
    }
}

/// Requests per second as a schedule: each request takes the next free slot,
/// slots `1 / rate` apart, and waits for it (the GCRA form of a token bucket
/// holding one token, so starts are evenly spaced and never bunch).
pub struct RateLimiter {
    interval: Duration,
    next_free: Mutex<Instant>,
}

impl RateLimiter {
    pub fn new(per_second: f64) -> Self {
        RateLimiter {
            interval: Duration::from_secs_f64(1.0 / per_second.max(1e-6)),
            next_free: Mutex::new(Instant::now()),
        }
    }

    /// Reserves the next slot and returns when it may start.
    fn reserve(&self) -> Instant {
        let now = Instant::now();
        let mut next = self.next_free.lock().expect("rate limiter");
        let slot = (*next).max(now);
        *next = slot + self.interval;
        slot
    }

    fn is_idle(&self, now: Instant) -> bool {
        self.next_free.lock().map(|n| *n <= now).unwrap_or(false)
    }

    pub async fn wait(&self) {
        let slot = self.reserve();
        if slot > Instant::now() {
            tokio::time::sleep_until(slot.into()).await;
        }
    }
}

/// The client's rate limits: one overall, one per host.
pub struct RateLimits {
    overall: Option<RateLimiter>,
    per_host: Option<f64>,
    hosts: Mutex<HashMap<String, Arc<RateLimiter>>>,
}

/// Hosts remembered before idle ones are swept out.
const SWEEP_AT: usize = 1024;

impl RateLimits {
    pub fn new(overall: Option<f64>, per_host: Option<f64>) -> Self {
        RateLimits {
            overall: overall.map(RateLimiter::new),
            per_host,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_limited(&self) -> bool {
        self.overall.is_some() || self.per_host.is_some()
    }

    /// Waits until a request to `key`'s host may start.
    pub async fn wait(&self, key: &str) {
        if let Some(rate) = self.per_host {
            let limiter = {
                let mut hosts = self.hosts.lock().expect("rate limits");
                if hosts.len() >= SWEEP_AT {
                    // A limiter whose next slot has passed is as good as new.
                    let now = Instant::now();
                    hosts.retain(|_, l| Arc::strong_count(l) > 1 || !l.is_idle(now));
                }
                hosts
                    .entry(key.to_string())
                    .or_insert_with(|| Arc::new(RateLimiter::new(rate)))
                    .clone()
            };
            limiter.wait().await;
        }
        if let Some(limiter) = &self.overall {
            limiter.wait().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_scheme_host_and_port() {
        assert_eq!(
            host_key("HTTP", "Example.COM", None),
            "http://example.com:80"
        );
        assert_eq!(host_key("https", "a.test", None), "https://a.test:443");
        assert_eq!(host_key("http", "a.test", Some(8080)), "http://a.test:8080");
    }

    #[tokio::test]
    async fn host_semaphores_cap_each_host_and_forget_idle_ones() {
        let caps = HostSemaphores::new(2);
        let a1 = caps.acquire("a".into()).await;
        let _a2 = caps.acquire("a".into()).await;
        let b1 = caps.acquire("b".into()).await;
        let waiting =
            tokio::time::timeout(Duration::from_millis(50), caps.acquire("a".into())).await;
        assert!(waiting.is_err(), "a third permit for one host must wait");
        drop(a1);
        let a3 = tokio::time::timeout(Duration::from_millis(50), caps.acquire("a".into()))
            .await
            .expect("a released permit is handed on");
        let fourth =
            tokio::time::timeout(Duration::from_millis(50), caps.acquire("a".into())).await;
        assert!(
            fourth.is_err(),
            "the host is remembered while others hold it"
        );
        drop(b1);
        assert_eq!(caps.hosts(), 1, "host b is forgotten once idle");
        drop(a3);
        drop(_a2);
        assert_eq!(caps.hosts(), 0);
    }

    #[tokio::test]
    async fn rate_limiter_spaces_starts_evenly() {
        let limiter = RateLimiter::new(50.0);
        let start = Instant::now();
        for _ in 0..6 {
            limiter.wait().await;
        }
        // The first starts at once, the next five 20 ms apart.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(95), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
    }

    #[test]
    fn slots_follow_one_another_an_interval_apart() {
        // 100 s apart: the calls below all fall inside the first interval.
        let limiter = RateLimiter::new(0.01);
        assert!(limiter.is_idle(Instant::now()), "nothing reserved yet");
        let first = limiter.reserve();
        assert!(!limiter.is_idle(Instant::now()));
        let second = limiter.reserve();
        let third = limiter.reserve();
        assert_eq!(second - first, Duration::from_secs(100));
        assert_eq!(third - second, Duration::from_secs(100));
        assert!(limiter.is_idle(third + Duration::from_secs(100)));
    }

    #[tokio::test]
    async fn a_request_waits_for_its_slot_overall_and_per_host() {
        let overall = RateLimits::new(Some(0.01), None);
        let per_host = RateLimits::new(None, Some(0.01));
        let short = Duration::from_millis(20);
        for limits in [&overall, &per_host] {
            assert!(limits.is_limited());
            tokio::time::timeout(short, limits.wait("http://a.test:80"))
                .await
                .expect("the first slot is now");
            let next = tokio::time::timeout(short, limits.wait("http://a.test:80")).await;
            assert!(next.is_err(), "the second waits 100 s");
        }
        // Per host, another host has its own slots.
        tokio::time::timeout(short, per_host.wait("http://b.test:80"))
            .await
            .expect("another host's first slot is now");
        assert!(!RateLimits::new(None, None).is_limited());
    }

    fn remembered(limits: &RateLimits) -> usize {
        limits.hosts.lock().unwrap().len()
    }

    #[tokio::test]
    async fn idle_hosts_are_swept_once_many_are_remembered() {
        // Slots a nanosecond apart: every limiter is idle again at once.
        let fast = RateLimits::new(None, Some(1e9));
        for i in 0..SWEEP_AT {
            fast.wait(&format!("http://h{i}.test:80")).await;
        }
        assert_eq!(remembered(&fast), SWEEP_AT);
        // One taken by a request that has yet to reserve its slot.
        let taken = fast.hosts.lock().unwrap()["http://h0.test:80"].clone();
        fast.wait("http://last.test:80").await;
        assert_eq!(
            remembered(&fast),
            2,
            "the idle ones nobody holds are forgotten"
        );
        drop(taken);
        // Slots 100 s apart: none is idle, and none is forgotten.
        let slow = RateLimits::new(None, Some(0.01));
        for i in 0..=SWEEP_AT {
            slow.wait(&format!("http://h{i}.test:80")).await;
        }
        assert_eq!(remembered(&slow), SWEEP_AT + 1);
    }
}
