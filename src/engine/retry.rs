//! Whether and when to try a request again.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method};

use super::config::RetryPolicy;

pub fn may_retry_method(policy: &RetryPolicy, method: &Method) -> bool {
    policy.methods.iter().any(|m| m == method)
}

/// `Retry-After` as a wait: delta-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Exponential backoff with full jitter in [delay/2, delay], capped by `max_delay`.
/// `retry` counts from 1.
pub fn backoff(policy: &RetryPolicy, retry: u32, server_wait: Option<Duration>) -> Duration {
    if let Some(wait) = server_wait {
        return wait.min(policy.max_delay);
    }
    let exp = policy
        .min_delay
        .saturating_mul(1u32 << (retry.saturating_sub(1)).min(20));
    let capped = exp.min(policy.max_delay);
    let jitter = 0.5 + 0.5 * random_unit();
    capped.mul_f64(jitter)
}

/// A cheap uniform number in [0, 1); jitter needs spread, not secrecy.
fn random_unit() -> f64 {
    use std::cell::Cell;
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new(RandomState::new().build_hasher().finish() | 1);
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            ..RetryPolicy::default()
        };
        let first = backoff(&policy, 1, None);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let late = backoff(&policy, 10, None);
        assert!(late <= Duration::from_millis(300));
        assert_eq!(
            backoff(&policy, 1, Some(Duration::from_secs(5))),
            Duration::from_millis(300)
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        let past = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH);
        headers.insert(http::header::RETRY_AFTER, past.parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    }
}
