//! One connection first to an https origin not yet seen, when HTTP/2 is
//! negotiated by ALPN. Until a connection is up, nobody knows whether the
//! origin speaks HTTP/2, and hyper's pool opens a connection per waiting
//! request; for an HTTP/2 origin all but one are handshakes thrown away (64
//! for a cold burst at the default concurrency). So the first request to an
//! origin goes alone, and the others wait until it has a connection (not
//! for its response): then the pool has an HTTP/2 connection to share, or
//! the origin speaks HTTP/1.1 and they connect in parallel as usual.
//!
//! The first request opens its connection on the fast path where it can
//! (lane.rs), offering both versions, and that connection serves it either
//! way (handoff.rs). What the probe found is kept: an origin that answered
//! over HTTP/1.1 is sent to the fast path from then on, HTTP/2 ones to
//! hyper.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

enum Origin {
    /// A first request is on its way; the others wait for this.
    Probing(Arc<Notify>),
    /// A connection is up: the origin speaks HTTP/2 (true) or HTTP/1.1.
    Known(bool),
}

/// What `enter` found for an origin.
pub enum Entry<'a> {
    /// This request is the first: it finds out what the origin speaks.
    Probe(Probe<'a>),
    /// The origin is known to speak HTTP/2 (`h2`) or HTTP/1.1.
    Known { h2: bool },
}

/// Origins remembered in one generation (forgetting one costs only a probe
/// the next time).
const FORGET_AT: usize = 4096;

#[derive(Default)]
pub struct AlpnGate {
    origins: Mutex<Origins>,
}

/// Two generations: when the current one is full, it becomes the previous
/// one and the one before is forgotten. An origin still in use moves back
/// to the current generation when it is next entered, so a long crawl keeps
/// what it knows of the origins it keeps going to.
#[derive(Default)]
struct Origins {
    current: HashMap<String, Origin>,
    previous: HashMap<String, bool>,
}

impl Origins {
    fn get(&self, key: &str) -> Option<&Origin> {
        self.current.get(key)
    }

    /// What the previous generation knew of `key`, moved to the current one.
    fn recall(&mut self, key: &str) -> Option<bool> {
        let h2 = self.previous.remove(key)?;
        self.make_room();
        self.current.insert(key.to_string(), Origin::Known(h2));
        Some(h2)
    }

    /// Turns the generations over when the current one is full. Probing
    /// origins stay current: their probes will report there.
    fn make_room(&mut self) {
        if self.current.len() < FORGET_AT {
            return;
        }
        self.previous.clear();
        for (key, origin) in std::mem::take(&mut self.current) {
            if let Origin::Known(h2) = origin {
                self.previous.insert(key, h2);
            } else {
                self.current.insert(key, origin);
            }
        }
    }
}

/// Held by the request that probes an origin. `succeeded(h2)` opens the gate
/// for good; dropping it unsucceeded lets the next request probe.
pub struct Probe<'a> {
    gate: &'a AlpnGate,
    key: String,
    succeeded: Option<bool>,
}

impl AlpnGate {
    /// Waits while another request probes `key`'s origin. Returns the probe
    /// when this request is to be the first, else what the origin speaks.
    pub async fn enter(&self, key: &str) -> Entry<'_> {
        loop {
            let notify = {
                let mut origins = self.origins.lock().expect("alpn gate");
                match origins.get(key) {
                    Some(Origin::Known(h2)) => return Entry::Known { h2: *h2 },
                    Some(Origin::Probing(notify)) => notify.clone(),
                    None => {
                        if let Some(h2) = origins.recall(key) {
                            return Entry::Known { h2 };
                        }
                        origins.make_room();
                        origins
                            .current
                            .insert(key.to_string(), Origin::Probing(Arc::new(Notify::new())));
                        return Entry::Probe(Probe {
                            gate: self,
                            key: key.to_string(),
                            succeeded: None,
                        });
                    }
                }
            };
            let notified = notify.notified();
            tokio::pin!(notified);
            // Registered before the state is looked at again, so a wake-up
            // between the two is not lost.
            notified.as_mut().enable();
            let still_probing = matches!(
                self.origins.lock().expect("alpn gate").get(key),
                Some(Origin::Probing(n)) if Arc::ptr_eq(n, &notify)
            );
            if still_probing {
                notified.await;
            }
        }
    }
}

impl Probe<'_> {
    /// A connection is up; `h2` says whether it negotiated HTTP/2.
    pub fn succeeded(mut self, h2: bool) {
        self.succeeded = Some(h2);
    }
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        let Ok(mut origins) = self.gate.origins.lock() else {
            return;
        };
        let notify = if let Some(h2) = self.succeeded {
            origins.current.insert(self.key.clone(), Origin::Known(h2))
        } else {
            origins.current.remove(&self.key)
        };
        if let Some(Origin::Probing(notify)) = notify {
            notify.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    impl<'a> Entry<'a> {
        fn probe(self) -> Option<Probe<'a>> {
            match self {
                Entry::Probe(probe) => Some(probe),
                Entry::Known { .. } => None,
            }
        }

        fn known(&self) -> Option<bool> {
            match self {
                Entry::Probe(_) => None,
                Entry::Known { h2 } => Some(*h2),
            }
        }
    }

    /// Enters an origin no one has probed yet: this request is the probe.
    async fn first_probe(gate: &AlpnGate) -> Probe<'_> {
        gate.enter("https://a.test:443")
            .await
            .probe()
            .expect("first probes")
    }

    #[tokio::test]
    async fn one_probe_at_a_time_then_everyone() {
        let gate = Arc::new(AlpnGate::default());
        let probe = first_probe(&gate).await;
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter("https://a.test:443").await.known() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "the second waits for the probe");
        assert!(
            gate.enter("https://b.test:443").await.probe().is_some(),
            "another origin is not held up"
        );
        probe.succeeded(true);
        let passed = tokio::time::timeout(Duration::from_secs(1), waiter).await;
        assert_eq!(
            passed.expect("released").expect("task"),
            Some(true),
            "after success nobody probes, and the protocol is known"
        );
    }

    #[tokio::test]
    async fn an_http1_origin_is_remembered_as_such() {
        let gate = AlpnGate::default();
        first_probe(&gate).await.succeeded(false);
        assert_eq!(gate.enter("https://a.test:443").await.known(), Some(false));
    }

    #[tokio::test]
    async fn origins_in_use_are_kept_across_generations_and_idle_ones_forgotten() {
        let gate = AlpnGate::default();
        let learn = |name: String, h2: bool| {
            let gate = &gate;
            async move {
                gate.enter(&name)
                    .await
                    .probe()
                    .expect("an origin not known")
                    .succeeded(h2)
            }
        };
        learn("https://kept.test:443".into(), false).await;
        learn("https://idle.test:443".into(), true).await;
        // Two generations' worth of other origins, with the kept one entered
        // again after each generation's worth.
        for round in 0..2 {
            for i in 0..FORGET_AT {
                learn(format!("https://o{round}-{i}.test:443"), i % 2 == 0).await;
            }
            assert_eq!(
                gate.enter("https://kept.test:443").await.known(),
                Some(false),
                "an origin in use stays known"
            );
        }
        assert!(
            gate.enter("https://idle.test:443").await.probe().is_some(),
            "an origin not entered for two generations is probed again"
        );
        let origins = gate.origins.lock().expect("alpn gate");
        assert!(origins.current.len() + origins.previous.len() <= 2 * FORGET_AT + 1);
    }

    #[tokio::test]
    async fn a_failed_probe_hands_probing_on() {
        let gate = Arc::new(AlpnGate::default());
        let probe = first_probe(&gate).await;
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.enter("https://a.test:443")
                    .await
                    .probe()
                    .map(|p| p.succeeded(true))
                    .is_some()
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(probe);
        let became_probe = tokio::time::timeout(Duration::from_secs(1), waiter).await;
        assert!(became_probe.expect("released").expect("task"));
        assert_eq!(gate.enter("https://a.test:443").await.known(), Some(true));
    }
}
