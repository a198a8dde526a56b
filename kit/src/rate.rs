//! Per-client rate limits in bounded memory: a [`KeyedLimit`] allows each key (a client address,
//! a token's subject) `per_second` requests a second with bursts of twice that, and tells a
//! refused client how long to wait; [`rate_limited`] is the API's answer to it
//! (`429 rate_limited` with `Retry-After`).
//!
//! The keyed state lives in this instance's memory (a client spreading requests over several
//! instances gets each one's allowance). A key costs memory only while its allowance is not
//! full again, which for a key used once is `2 / per_second` seconds: every [`SWEEP_EVERY`]
//! checks, when more than `max_keys` are kept, those keys are forgotten. A flood of distinct
//! keys (made-up addresses, many accounts) therefore holds about `max_keys` entries, not one
//! per key ever seen.
//!
//! IPv6 clients are keyed by their /64 network ([`client_key`]): one host usually owns a whole
//! /64, so keying by full address would give it 2^64 allowances.

use crate::error::json_error_retry_after;
use axum::http::StatusCode;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How many checks pass between two looks at the number of keys kept.
pub const SWEEP_EVERY: u64 = 1024;

/// The default bound on the keys one limit keeps before it forgets the idle ones.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// A rate limit per key.
pub struct KeyedLimit<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    max_keys: usize,
    checks: AtomicU64,
}

/// `per_second` a second (at least 1), with bursts of twice that.
pub fn quota(per_second: u32) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).expect("at least 1");
    let burst = NonZeroU32::new(per_second.max(1).saturating_mul(2)).expect("at least 2");
    Quota::per_second(rate).allow_burst(burst)
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    /// `per_second` requests a second per key, bursts of twice that, about `max_keys` keys kept.
    pub fn new(per_second: u32, max_keys: usize) -> Self {
        Self {
            limiter: RateLimiter::keyed(quota(per_second)),
            clock: DefaultClock::default(),
            max_keys: max_keys.max(1),
            checks: AtomicU64::new(0),
        }
    }

    /// `Err(wait)` when `key` is over its limit: it may try again after `wait`.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep_if_full();
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// The keys kept now (an estimate while checks run).
    pub fn keys(&self) -> usize {
        self.limiter.len()
    }

    /// Forgets the keys whose allowance is full again.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    fn sweep_if_full(&self) {
        if self.limiter.len() > self.max_keys {
            self.forget_idle();
        }
    }
}

/// The key of a client address: an IPv4 address as it is (an IPv4-mapped IPv6 address as its
/// IPv4 address), an IPv6 address as its /64 network.
pub fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(network))
            }
        },
    }
}

/// `429 rate_limited` with `Retry-After` (whole seconds, at least 1), for a client over `which`
/// limit ("address", "customer", …).
pub fn rate_limited(which: &str, wait: Duration) -> Response {
    metrics::counter!("tv_http_rate_limited_total", "limit" => which.to_owned()).increment(1);
    json_error_retry_after(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        &format!("too many requests from this {which}; retry after the Retry-After seconds"),
        wait,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_over_the_limit_is_refused_with_a_wait_and_other_keys_are_not() {
        let limit = KeyedLimit::new(2, 100);
        assert!((0..4).all(|_| limit.check(&"ann").is_ok()), "a burst of 4");
        let wait = limit.check(&"ann").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(limit.check(&"bob").is_ok(), "Bob is not held back by Ann");
    }

    #[test]
    fn a_flood_of_distinct_keys_keeps_about_max_keys_of_them() {
        let max_keys = 1_000;
        let limit = KeyedLimit::new(1_000_000, max_keys);
        for n in 0..50_000u32 {
            let _ = limit.check(&n);
        }
        // Each key was used once and is idle again after 2 µs: every sweep forgets them.
        let kept = limit.keys();
        assert!(
            kept <= max_keys + SWEEP_EVERY as usize,
            "{kept} keys kept of 50,000 seen"
        );
    }

    #[test]
    fn a_busy_key_is_not_forgotten_by_a_sweep() {
        let limit = KeyedLimit::new(1, 10);
        assert!(limit.check(&u32::MAX).is_ok());
        assert!(limit.check(&u32::MAX).is_ok());
        for n in 0..(SWEEP_EVERY as u32 * 2) {
            let _ = limit.check(&n);
        }
        assert!(
            limit.check(&u32::MAX).is_err(),
            "its spent burst is remembered"
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_network() {
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(one), client_key(other));
        assert_ne!(client_key(one), client_key(elsewhere));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
