//! Token buckets that slow down guessing and mail bombing on the sign-in, verification and
//! polling endpoints, per (route, client IP) and per (route, email).
//!
//! FIXME: the buckets live in this process. Several instances (Lambda, a load-balanced pool)
//! each allow the full rate; a shared limit needs a shared counter (a database row or Redis).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

use super::sign_in::AuthError;

/// A bucket's shape: how many requests at once, and how fast it refills.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Requests allowed in a burst.
    pub burst: u32,
    /// Time to earn one more request.
    pub refill: Duration,
}

/// Per client IP on a sign-in route: a burst of 30, then one every 2 s.
pub const PER_IP: Policy = Policy { burst: 30, refill: Duration::from_secs(2) };
/// Per email address: a burst of 5 links, then one a minute, so nobody's inbox is flooded.
pub const PER_EMAIL: Policy = Policy { burst: 5, refill: Duration::from_secs(60) };

/// A bound on remembered buckets, so a flood of distinct keys cannot grow memory without end.
const MAX_BUCKETS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of this process.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(&'static str, String), Bucket>>,
}

impl RateLimiter {
    /// Takes one request from the bucket of `(route, key)`, or says how long to wait.
    pub fn check(&self, route: &'static str, key: &str, policy: Policy) -> Result<(), AuthError> {
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        let now = Instant::now();
        if buckets.len() >= MAX_BUCKETS {
            // Full buckets carry no information: forgetting them changes nothing.
            let full = |bucket: &Bucket| refilled(bucket, now, policy) >= f64::from(policy.burst);
            buckets.retain(|_, bucket| !full(bucket));
        }
        let bucket = buckets
            .entry((route, key.to_owned()))
            .or_insert(Bucket { tokens: f64::from(policy.burst), updated: now });
        bucket.tokens = refilled(bucket, now, policy);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let missing = 1.0 - bucket.tokens;
        Err(AuthError::RateLimited(policy.refill.mul_f64(missing)))
    }
}

fn refilled(bucket: &Bucket, now: Instant, policy: Policy) -> f64 {
    let earned = now.duration_since(bucket.updated).as_secs_f64() / policy.refill.as_secs_f64();
    (bucket.tokens + earned).min(f64::from(policy.burst))
}

/// The peer address of the connection, when the server was started with connection info.
///
/// FIXME: behind a reverse proxy every client shares the proxy's address; trusting
/// `X-Forwarded-For` needs a configured list of trusted proxies, which does not exist yet.
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())
}

/// The bucket key of a client IP ("unknown" when the transport does not say).
pub fn ip_key(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_says_how_long_to_wait() {
        let limiter = RateLimiter::default();
        let policy = Policy { burst: 3, refill: Duration::from_secs(10) };
        for _ in 0..3 {
            assert!(limiter.check("r", "k", policy).is_ok());
        }
        match limiter.check("r", "k", policy) {
            Err(AuthError::RateLimited(wait)) => assert!(wait > Duration::from_secs(9)),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert!(limiter.check("r", "other key", policy).is_ok());
        assert!(limiter.check("other route", "k", policy).is_ok());
    }
}
