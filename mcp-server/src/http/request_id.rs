//! Request ids, trace spans and HTTP metrics: the outermost layer, around every route.
//!
//! A client's `x-request-id` is kept when it is a plausible id (1–128 characters of `A-Z a-z 0-9 . _ : -`),
//! otherwise one is generated. The id is in the request's trace span (so the swarm's own spans and logs carry
//! it), in the `x-request-id` response header, and in every JSON body the API answers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::AppState;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of one request (an extension on every request the API sees).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The client's id when it is acceptable, else a fresh one.
    pub fn from_header(value: Option<&HeaderValue>) -> RequestId {
        match value.and_then(|v| v.to_str().ok()) {
            Some(s) if is_valid(s) => RequestId(s.to_string()),
            _ => RequestId::generate(),
        }
    }

    /// `<16 hex digits unique to this process>-<sequence>`: unique within a process, and across replicas unless
    /// two started in the same nanosecond with the same pid.
    pub fn generate() -> RequestId {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        static PREFIX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let prefix = *PREFIX.get_or_init(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            // A 64-bit mix (splitmix64) so that ids of replicas started close together do not share a prefix.
            let mut z = nanos ^ (u64::from(std::process::id()) << 32);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        });
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        RequestId(format!("{prefix:016x}-{n}"))
    }
}

fn is_valid(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// The route a path belongs to, as a bounded metric label (unknown paths are `other`, so scanners probing random
/// URLs cannot blow up the label set).
pub fn route_label(path: &str) -> &'static str {
    match path {
        "/v1/scan" => "/v1/scan",
        "/v1/scan/output" => "/v1/scan/output",
        "/v1/tool-call" => "/v1/tool-call",
        "/v1/feedback" => "/v1/feedback",
        "/v1/audit/verify" => "/v1/audit/verify",
        "/metrics" => "/metrics",
        "/health" => "/health",
        "/ready" => "/ready",
        _ => "other",
    }
}

/// The middleware: id, span, metrics, access log.
pub async fn trace(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = RequestId::from_header(req.headers().get(&X_REQUEST_ID));
    let route = route_label(req.uri().path());
    let method = req.method().clone();
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!("http", request_id = %id.as_str(), %method, route);
    let in_flight = InFlight::enter(&state.metrics.in_flight);
    let mut resp = next.run(req).instrument(span.clone()).await;
    drop(in_flight);
    let status = resp.status();
    state.metrics.observe(route, status, started.elapsed());
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        resp.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    let us = started.elapsed().as_micros() as u64;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), us, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), us, "request");
        }
    });
    resp
}

/// Counts a request in flight until dropped (also when a client hangs up and its future is dropped).
struct InFlight(prometheus::IntGauge);

impl InFlight {
    fn enter(gauge: &prometheus::IntGauge) -> InFlight {
        gauge.inc();
        InFlight(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_kept_when_plausible() {
        let ok = HeaderValue::from_static("req-42.a_b:c");
        assert_eq!(RequestId::from_header(Some(&ok)).as_str(), "req-42.a_b:c");
        for bad in ["", "has space", "<script>", &"x".repeat(129)] {
            let v = HeaderValue::from_str(bad).unwrap();
            assert_ne!(RequestId::from_header(Some(&v)).as_str(), bad);
        }
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a, b);
        assert!(is_valid(a.as_str()));
    }
}
