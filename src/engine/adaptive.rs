//! `concurrency: 'auto'`: a limit per origin that finds its own level, in the
//! manner of Netflix's concurrency-limits (its Vegas limit). While latency
//! stays at the least seen, the limit grows; once requests queue at the
//! server (latency above the least by more than a few requests' worth) it
//! shrinks. Overload signals (429, 503, timeouts, resets) cut it at once, and
//! a `Retry-After` holds the origin until then.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::error::{ErrorKind, FetchError};
use super::response::ResponseData;
use super::retry::retry_after;

/// Where a new origin's limit starts (Netflix's default initial limit).
const INITIAL_LIMIT: f64 = 20.0;
/// Share of the limit kept after an overload signal.
const BACKOFF: f64 = 0.75;
/// Round trips taken before the limit moves, by their median: one alone is
/// too noisy, and at thousands of requests a second a step per request
/// would swing the limit widely. The median, not the mean, so that a few
/// stalled requests (a busy CPU, a pause for garbage collection) do not read
/// as a queue at the server, which slows every request.
const WINDOW_SAMPLES: usize = 32;
/// A window closes with this many round trips even if short in time.
const WINDOW_MAX_SAMPLES: usize = 512;

/// What one finished request says about its origin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sample {
    /// Answered normally after `rtt`.
    Ok(Duration),
    /// An overload signal; `retry_after` from the response, if it said.
    Overload(Option<Duration>),
    /// Tells nothing about load (cancelled, refused input, a bad URL).
    Ignore,
}

impl Sample {
    /// What the outcome of one request, `rtt` after it started, says.
    pub fn of(result: &Result<ResponseData, FetchError>, rtt: Duration) -> Sample {
        match result {
            Ok(resp) if matches!(resp.status.as_u16(), 429 | 503) => {
                Sample::Overload(retry_after(&resp.headers.to_map()))
            }
            Ok(_) => Sample::Ok(rtt),
            Err(e) => match e.kind() {
                ErrorKind::HttpStatus(429 | 503)
                | ErrorKind::ConnectTimeout
                | ErrorKind::HeadersTimeout
                | ErrorKind::BodyTimeout
                | ErrorKind::TotalTimeout
                | ErrorKind::Socket("ECONNRESET" | "EPIPE") => Sample::Overload(None),
                // A status the caller asked to fail on is still an answer.
                ErrorKind::HttpStatus(_) => Sample::Ok(rtt),
                _ => Sample::Ignore,
            },
        }
    }
}

/// The adaptive limits of one call: one per origin, each at most `max`.
pub struct AdaptiveLimits {
    max: f64,
    /// Longest a `Retry-After` holds an origin: a server cannot stall a
    /// call for longer than its retries would wait.
    max_pause: Duration,
    origins: Mutex<HashMap<String, Arc<Origin>>>,
}

struct Origin {
    state: Mutex<OriginState>,
    freed: Notify,
}

#[derive(Debug)]
struct OriginState {
    limit: f64,
    in_flight: usize,
    /// The least round trip seen: the origin's latency with no queue.
    min_rtt: Option<Duration>,
    /// The least window median: the latency of a window with no queue, its
    /// usual jitter included, which the single least round trip is not.
    base_rtt: Option<Duration>,
    /// No request starts before then (a `Retry-After`).
    paused_until: Option<Instant>,
    /// The last cut, so that one burst of failures cuts once.
    last_cut: Option<Instant>,
    window: Window,
}

/// The round trips of the current window (see WINDOW_SAMPLES).
#[derive(Debug, Default)]
struct Window {
    start: Option<Instant>,
    rtts: Vec<Duration>,
    /// Most requests in flight seen as the window's requests ended.
    in_flight: usize,
}

/// A request's place under its origin's limit; dropping it without a
/// sample frees the place and changes nothing.
pub struct OriginPermit {
    origin: Arc<Origin>,
    max: f64,
    max_pause: Duration,
    open: bool,
}

/// `max(1, log10(n))`: the steps of Netflix's Vegas limit.
fn log10_step(n: f64) -> f64 {
    n.log10().max(1.0)
}

impl OriginState {
    fn new(max: f64) -> Self {
        OriginState {
            limit: INITIAL_LIMIT.min(max),
            in_flight: 0,
            min_rtt: None,
            base_rtt: None,
            paused_until: None,
            last_cut: None,
            window: Window::default(),
        }
    }

    fn can_start(&self, now: Instant) -> bool {
        self.paused_until.is_none_or(|t| t <= now)
            && (self.in_flight as f64) < self.limit.floor().max(1.0)
    }

    /// Adds one round trip to the window; a full window of at least two
    /// least round trips moves the limit by its mean.
    fn on_rtt(&mut self, rtt: Duration, in_flight: usize, max: f64, now: Instant) {
        let min = *self.min_rtt.get_or_insert(rtt);
        if rtt < min {
            self.min_rtt = Some(rtt);
        }
        let w = &mut self.window;
        let start = *w.start.get_or_insert(now);
        w.rtts.push(rtt);
        w.in_flight = w.in_flight.max(in_flight);
        let span = self.min_rtt.unwrap_or(rtt) * 2;
        let n = w.rtts.len();
        if n < WINDOW_SAMPLES || (now.duration_since(start) < span && n < WINDOW_MAX_SAMPLES) {
            return;
        }
        let (_, median, _) = w.rtts.select_nth_unstable(n / 2);
        let median = *median;
        let most = w.in_flight;
        self.window = Window::default();
        if self.base_rtt.is_none_or(|b| median < b) {
            self.base_rtt = Some(median);
        }
        self.vegas(median, most, max);
    }

    /// Vegas: the requests queued at the server are about
    /// `limit × (1 − base_rtt / rtt)`; few means room to grow, many means
    /// the limit is past what the origin serves without queueing.
    fn vegas(&mut self, rtt: Duration, in_flight: usize, max: f64) {
        let limit = self.limit;
        // Used well below its limit, an origin's latency says nothing of it.
        if (in_flight as f64) * 2.0 < limit {
            return;
        }
        let ratio = self.base_rtt.unwrap_or(rtt).as_secs_f64() / rtt.as_secs_f64().max(1e-9);
        let queue = (limit * (1.0 - ratio)).ceil();
        let step = log10_step(limit);
        let next = if queue <= step {
            limit + 6.0 * step
        } else if queue < 3.0 * step {
            limit + step
        } else if queue > 6.0 * step {
            limit - step
        } else {
            limit
        };
        self.limit = next.clamp(1.0, max);
    }

    fn on_overload(&mut self, retry_after: Option<Duration>, now: Instant) {
        if let Some(wait) = retry_after {
            let until = now + wait;
            self.paused_until = Some(self.paused_until.map_or(until, |t| t.max(until)));
        }
        // One cut per round trip: the requests already in flight when the
        // origin began to refuse report the same overload.
        let window = self.min_rtt.unwrap_or(Duration::from_millis(10));
        if self
            .last_cut
            .is_some_and(|t| now.duration_since(t) < window)
        {
            return;
        }
        self.last_cut = Some(now);
        self.limit = (self.limit * BACKOFF).max(1.0);
    }
}

impl AdaptiveLimits {
    /// Limits that never pass `max` (at least 1), holding an origin for at
    /// most `max_pause` whatever its `Retry-After` says.
    pub fn new(max: usize, max_pause: Duration) -> Self {
        AdaptiveLimits {
            max: (max.max(1)) as f64,
            max_pause,
            origins: Mutex::new(HashMap::new()),
        }
    }

    fn origin(&self, key: &str) -> Arc<Origin> {
        let mut origins = self.origins.lock().expect("adaptive limits");
        if let Some(o) = origins.get(key) {
            return o.clone();
        }
        let origin = Arc::new(Origin {
            state: Mutex::new(OriginState::new(self.max)),
            freed: Notify::new(),
        });
        origins.insert(key.to_string(), origin.clone());
        origin
    }

    /// Waits for a place under the limit of `key`'s origin.
    pub async fn acquire(&self, key: &str) -> OriginPermit {
        let origin = self.origin(key);
        loop {
            let freed = origin.freed.notified();
            tokio::pin!(freed);
            // Registered before looking, so a release after the look wakes it.
            freed.as_mut().enable();
            let pause = {
                let mut s = origin.state.lock().expect("origin limit");
                let now = Instant::now();
                if s.can_start(now) {
                    s.in_flight += 1;
                    return OriginPermit {
                        origin: origin.clone(),
                        max: self.max,
                        max_pause: self.max_pause,
                        open: true,
                    };
                }
                s.paused_until.filter(|t| *t > now)
            };
            match pause {
                Some(until) => tokio::time::sleep_until(until.into()).await,
                None => freed.await,
            }
        }
    }

    /// Each origin's current limit, rounded down as it is applied.
    pub fn limits(&self) -> Vec<(String, u32)> {
        let origins = self.origins.lock().expect("adaptive limits");
        origins
            .iter()
            .map(|(k, o)| {
                let limit = o.state.lock().map(|s| s.limit.floor()).unwrap_or(1.0);
                (k.clone(), limit as u32)
            })
            .collect()
    }
}

impl OriginPermit {
    /// Frees the place and updates the origin's limit from `sample`.
    pub fn finish(mut self, sample: Sample) {
        self.close(sample);
    }

    fn close(&mut self, sample: Sample) {
        if !self.open {
            return;
        }
        self.open = false;
        let (before, after) = {
            let Ok(mut s) = self.origin.state.lock() else {
                return;
            };
            let before = s.limit.floor();
            let in_flight = s.in_flight;
            s.in_flight -= 1;
            match sample {
                Sample::Ok(rtt) => s.on_rtt(rtt, in_flight, self.max, Instant::now()),
                Sample::Overload(wait) => {
                    s.on_overload(wait.map(|w| w.min(self.max_pause)), Instant::now())
                }
                Sample::Ignore => {}
            }
            (before, s.limit.floor())
        };
        // The freed place, and as many more as the limit grew by.
        let wake = 1 + (after - before).max(0.0) as usize;
        for _ in 0..wake {
            self.origin.freed.notify_one();
        }
    }
}

impl Drop for OriginPermit {
    fn drop(&mut self) {
        self.close(Sample::Ignore);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Feeds `windows` full windows of round trips `rtt(limit)`, 1 ms apart.
    fn feed(s: &mut OriginState, windows: usize, max: f64, rtt: impl Fn(f64) -> Duration) {
        let mut now = Instant::now();
        for _ in 0..windows * WINDOW_SAMPLES * 2 {
            now += ms(1);
            let n = s.limit.floor();
            s.on_rtt(rtt(n), n as usize, max, now);
        }
    }

    #[test]
    fn the_limit_grows_while_latency_stays_at_its_least() {
        let mut s = OriginState::new(1000.0);
        feed(&mut s, 20, 1000.0, |_| ms(10));
        assert!(s.limit > 100.0, "{s:?}");
    }

    #[test]
    fn the_limit_settles_where_requests_start_to_queue() {
        // A server that serves 32 at once: past that, latency grows with the queue.
        let rtt = |n: f64| Duration::from_secs_f64(0.010 * (n / 32.0).max(1.0));
        let mut s = OriginState::new(1000.0);
        feed(&mut s, 200, 1000.0, rtt);
        assert!(s.limit >= 32.0 && s.limit <= 48.0, "{s:?}");
    }

    #[test]
    fn an_idle_origin_does_not_grow() {
        let mut s = OriginState::new(1000.0);
        let mut now = Instant::now();
        for _ in 0..100 {
            now += ms(5);
            s.on_rtt(ms(10), 2, 1000.0, now);
        }
        assert_eq!(s.limit, INITIAL_LIMIT);
    }

    #[test]
    fn the_limit_stays_within_the_maximum_and_above_one() {
        let mut s = OriginState::new(8.0);
        assert_eq!(s.limit, 8.0);
        feed(&mut s, 10, 8.0, |_| ms(5));
        assert_eq!(s.limit, 8.0);
        let mut now = Instant::now();
        for _ in 0..50 {
            now += ms(100);
            s.on_overload(None, now);
        }
        assert_eq!(s.limit, 1.0);
    }

    #[test]
    fn overload_cuts_once_per_round_trip_and_retry_after_pauses() {
        let mut s = OriginState::new(1000.0);
        s.on_rtt(ms(50), 20, 1000.0, Instant::now());
        let limit = s.limit;
        let now = Instant::now();
        s.on_overload(Some(Duration::from_secs(2)), now);
        s.on_overload(None, now + ms(1));
        assert_eq!(s.limit, limit * BACKOFF);
        assert!(!s.can_start(now + ms(1999)));
        assert!(s.can_start(now + ms(2000)));
    }

    #[test]
    fn timeouts_resets_and_refusing_statuses_are_overload() {
        let err = |kind| Err(FetchError::new(kind, "x"));
        let rtt = ms(3);
        for kind in [
            ErrorKind::HeadersTimeout,
            ErrorKind::TotalTimeout,
            ErrorKind::Socket("ECONNRESET"),
            ErrorKind::HttpStatus(429),
        ] {
            assert_eq!(Sample::of(&err(kind), rtt), Sample::Overload(None));
        }
        assert_eq!(
            Sample::of(&err(ErrorKind::HttpStatus(404)), rtt),
            Sample::Ok(rtt)
        );
        assert_eq!(Sample::of(&err(ErrorKind::Aborted), rtt), Sample::Ignore);
        assert_eq!(
            Sample::of(&err(ErrorKind::Socket("ECONNREFUSED")), rtt),
            Sample::Ignore
        );
    }

    fn response(status: u16, retry_after: Option<&str>) -> Result<ResponseData, FetchError> {
        let mut headers = http::HeaderMap::new();
        if let Some(v) = retry_after {
            headers.insert(http::header::RETRY_AFTER, v.parse().expect("header value"));
        }
        Ok(ResponseData {
            status: http::StatusCode::from_u16(status).expect("status"),
            version: http::Version::HTTP_11,
            url: None,
            redirected: false,
            headers: super::super::response::Headers::Map(headers),
            body: bytes::Bytes::new(),
            saved_bytes: None,
            saved: None,
        })
    }

    #[test]
    fn a_refusing_status_brings_its_retry_after() {
        let rtt = ms(3);
        assert_eq!(
            Sample::of(&response(429, Some("2")), rtt),
            Sample::Overload(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            Sample::of(&response(503, None), rtt),
            Sample::Overload(None)
        );
        assert_eq!(Sample::of(&response(500, Some("2")), rtt), Sample::Ok(rtt));
        assert_eq!(Sample::of(&response(200, None), rtt), Sample::Ok(rtt));
    }

    #[tokio::test]
    async fn a_huge_retry_after_holds_the_origin_no_longer_than_the_cap() {
        let limits = AdaptiveLimits::new(4, Duration::from_secs(1));
        let place = limits.acquire("o").await;
        let before = Instant::now();
        place.finish(Sample::Overload(Some(Duration::from_secs(u64::MAX / 2))));
        let state = limits.origin("o");
        let until = state.state.lock().expect("origin").paused_until;
        assert!(until.is_some_and(|t| t <= Instant::now() + Duration::from_secs(1) && t > before));
    }

    #[tokio::test]
    async fn places_are_handed_on_as_requests_finish() {
        let limits = Arc::new(AdaptiveLimits::new(2, Duration::from_secs(10)));
        let a = limits.acquire("o").await;
        let _b = limits.acquire("o").await;
        let waiting = tokio::spawn({
            let limits = limits.clone();
            async move { limits.acquire("o").await }
        });
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "a third place must wait at a limit of 2"
        );
        let _other = limits.acquire("another origin").await;
        a.finish(Sample::Ignore);
        let _c = waiting.await.expect("the freed place is handed on");
        assert_eq!(limits.limits().len(), 2);
    }
}
