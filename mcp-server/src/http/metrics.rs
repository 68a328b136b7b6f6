//! HTTP-level metrics, registered in the swarm's own Prometheus registry so that one scrape of `/metrics` shows
//! both: requests by route and status, request latency by route, and requests in flight. The names are defined
//! here, once.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

use super::AppState;

/// Request latency buckets from 50 µs to 10 s: a scan answers in well under a millisecond, an audit walk of a
/// long chain can take seconds.
const BUCKETS: &[f64] = &[
    50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1.0, 2.5, 10.0,
];

#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    seconds: HistogramVec,
    pub in_flight: IntGauge,
}

impl HttpMetrics {
    /// Registers the HTTP families in `registry` (the swarm's, prefixed `aimds_`).
    pub fn register(registry: &Registry) -> Result<HttpMetrics, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status code"),
            &["route", "status"],
        )?;
        let seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_request_seconds",
                "HTTP request latency by route, as the server sees it",
            )
            .buckets(BUCKETS.to_vec()),
            &["route"],
        )?;
        let in_flight = IntGauge::new("http_in_flight", "HTTP requests being served")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(seconds.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        Ok(HttpMetrics {
            requests,
            seconds,
            in_flight,
        })
    }

    pub fn observe(&self, route: &str, status: StatusCode, took: Duration) {
        self.requests.with_label_values(&[route, status.as_str()]).inc();
        self.seconds.with_label_values(&[route]).observe(took.as_secs_f64());
    }
}

/// `GET /metrics`: the Prometheus text exposition of the swarm's and the server's metrics. Gauges that are read
/// rather than pushed (mailbox depths, memory rows) are refreshed first.
pub async fn handle(State(state): State<AppState>) -> Response {
    let swarm = state.swarm.clone();
    // `status()` counts memory rows: a blocking read, kept off the runtime's workers.
    let text = tokio::task::spawn_blocking(move || {
        let _ = swarm.status();
        swarm.metrics().encode()
    })
    .await
    .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}
