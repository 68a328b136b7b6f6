//! Per-client rate limiting: a token bucket per peer IP address (`rate` tokens a second, at most `burst` saved
//! up). A request without a token gets 429 with `Retry-After`. The key is the TCP peer, not `X-Forwarded-For`,
//! which any client can forge: behind a proxy, every request shares the proxy's bucket, so size the limit for
//! that or rate-limit at the proxy.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState, request_id::RequestId};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub rate: f64,
    /// Bucket size: the burst a client may send at once.
    pub burst: f64,
}

/// Buckets kept before idle ones are dropped (a full bucket carries no state worth keeping).
const MAX_CLIENTS: usize = 65_536;

#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    epoch: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    /// Seconds since the limiter's epoch.
    at: f64,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Limiter {
        Limiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
            epoch: Instant::now(),
        }
    }

    /// Takes a token for `client`; `Err(seconds)` = none left, retry after that many seconds.
    pub fn check(&self, client: IpAddr) -> Result<(), f64> {
        self.check_at(client, self.epoch.elapsed().as_secs_f64())
    }

    fn check_at(&self, client: IpAddr, now: f64) -> Result<(), f64> {
        let RateLimit { rate, burst } = self.limit;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            buckets.retain(|_, b| b.tokens + (now - b.at) * rate < burst);
        }
        let b = buckets.entry(client).or_insert(Bucket { tokens: burst, at: now });
        b.tokens = (b.tokens + (now - b.at) * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - b.tokens) / rate)
        }
    }
}

pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(limiter) = &state.limiter else {
        return next.run(req).await;
    };
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    match limiter.check(client) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let mut err = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "rate limit of {} requests/s (burst {}) per client exceeded; retry in {:.3} s",
                    limiter.limit.rate, limiter.limit.burst, wait
                ),
            )
            .with_retry_after(wait.ceil().max(1.0) as u64);
            if let Some(id) = req.extensions().get::<RequestId>() {
                err = err.with_request_id(id);
            }
            err.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_the_rate_and_caps_at_the_burst() {
        let l = Limiter::new(RateLimit { rate: 10.0, burst: 3.0 });
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check_at(a, 0.0).is_ok());
        }
        let wait = l.check_at(a, 0.0).unwrap_err();
        assert!((wait - 0.1).abs() < 1e-9, "{wait}");
        assert!(l.check_at(b, 0.0).is_ok(), "clients have their own buckets");
        assert!(l.check_at(a, 0.1).is_ok());
        assert!(l.check_at(a, 0.1).is_err());
        // A long pause refills to the burst, not beyond.
        for _ in 0..3 {
            assert!(l.check_at(a, 100.0).is_ok());
        }
        assert!(l.check_at(a, 100.0).is_err());
    }
}
