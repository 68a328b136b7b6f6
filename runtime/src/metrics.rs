//! Prometheus metrics of one swarm. Every name is defined here, once, so dashboards never chase a renamed
//! metric; agents record through the typed methods rather than touching the registry.

use std::time::Duration;

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::agent::Role;
use crate::types::{Source, Verdict};

#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    verdicts: IntCounterVec,
    verdict_categories: IntCounterVec,
    stage_seconds: HistogramVec,
    mailbox_depth: IntGaugeVec,
    restarts: IntCounterVec,
    agent_errors: IntCounterVec,
    memory_rows: IntGaugeVec,
    judge_calls: IntCounterVec,
}

#[derive(Debug, thiserror::Error)]
#[error("metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

/// Stage latencies from 5 µs to 2.5 s: the fast path lives at the bottom, the judge at the top.
const STAGE_BUCKETS: &[f64] = &[
    5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
    1.0, 2.5,
];

impl Metrics {
    pub fn new() -> Result<Self, MetricsError> {
        let registry = Registry::new_custom(Some("aimds".into()), None)?;
        let requests = IntCounterVec::new(Opts::new("requests_total", "Scan requests by source"), &["source"])?;
        let verdicts = IntCounterVec::new(Opts::new("verdicts_total", "Verdicts by action"), &["action"])?;
        let verdict_categories = IntCounterVec::new(
            Opts::new(
                "verdict_categories_total",
                "Flagged verdicts by finding category and action",
            ),
            &["category", "action"],
        )?;
        let stage_seconds = HistogramVec::new(
            HistogramOpts::new("stage_seconds", "Time spent in each stage of a scan").buckets(STAGE_BUCKETS.to_vec()),
            &["stage"],
        )?;
        let mailbox_depth = IntGaugeVec::new(
            Opts::new("mailbox_depth", "Tasks waiting in a supervised role's mailbox"),
            &["role"],
        )?;
        let restarts = IntCounterVec::new(
            Opts::new(
                "agent_restarts_total",
                "Agent instances restarted after a panic or a hang",
            ),
            &["role", "reason"],
        )?;
        let agent_errors = IntCounterVec::new(
            Opts::new(
                "agent_errors_total",
                "Stage failures (deadline, panic, error) that fell back",
            ),
            &["role", "kind"],
        )?;
        let memory_rows = IntGaugeVec::new(
            Opts::new("memory_rows", "Rows in the shared memory by table"),
            &["table"],
        )?;
        let judge_calls = IntCounterVec::new(
            Opts::new("judge_calls_total", "LLM judge calls by outcome"),
            &["outcome"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(verdicts.clone()))?;
        registry.register(Box::new(verdict_categories.clone()))?;
        registry.register(Box::new(stage_seconds.clone()))?;
        registry.register(Box::new(mailbox_depth.clone()))?;
        registry.register(Box::new(restarts.clone()))?;
        registry.register(Box::new(agent_errors.clone()))?;
        registry.register(Box::new(memory_rows.clone()))?;
        registry.register(Box::new(judge_calls.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            verdicts,
            verdict_categories,
            stage_seconds,
            mailbox_depth,
            restarts,
            agent_errors,
            memory_rows,
            judge_calls,
        })
    }

    /// Creates a supervised role's series at zero (restarts by reason, mailbox depth), so that dashboards and
    /// alerts see `0` from the start instead of a series that appears with the first restart.
    pub fn declare_role(&self, role: Role) {
        for reason in ["panic", "hang"] {
            self.restarts.with_label_values(&[role.as_str(), reason]);
        }
        self.mailbox_depth.with_label_values(&[role.as_str()]);
    }

    pub fn request(&self, source: Source) {
        self.requests.with_label_values(&[source.as_str()]).inc();
    }

    pub fn verdict(&self, v: &Verdict) {
        self.verdicts.with_label_values(&[v.action.as_str()]).inc();
        if v.flagged {
            for c in &v.categories {
                self.verdict_categories
                    .with_label_values(&[c.as_str(), v.action.as_str()])
                    .inc();
            }
        }
    }

    pub fn stage(&self, stage: &str, took: Duration) {
        self.stage_seconds
            .with_label_values(&[stage])
            .observe(took.as_secs_f64());
    }

    pub fn mailbox_depth(&self, role: Role, depth: usize) {
        self.mailbox_depth
            .with_label_values(&[role.as_str()])
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    pub fn restart(&self, role: Role, reason: &str) {
        self.restarts.with_label_values(&[role.as_str(), reason]).inc();
    }

    pub fn agent_error(&self, role: Role, kind: &str) {
        self.agent_errors.with_label_values(&[role.as_str(), kind]).inc();
    }

    pub fn memory_rows(&self, table: &str, rows: u64) {
        self.memory_rows
            .with_label_values(&[table])
            .set(i64::try_from(rows).unwrap_or(i64::MAX));
    }

    pub fn judge_call(&self, outcome: &str) {
        self.judge_calls.with_label_values(&[outcome]).inc();
    }

    /// Restarts so far for a role (all reasons), for `swarm status`.
    pub fn restarts_of(&self, role: Role) -> u64 {
        ["panic", "hang"]
            .iter()
            .map(|r| self.restarts.with_label_values(&[role.as_str(), r]).get())
            .sum()
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec cannot fail for well-formed families; an error leaves what was written.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_every_family() {
        let m = Metrics::new().unwrap();
        m.request(Source::User);
        m.stage("detector", Duration::from_micros(40));
        m.mailbox_depth(Role::Logger, 3);
        m.restart(Role::Analyzer, "panic");
        m.agent_error(Role::Analyzer, "deadline");
        m.memory_rows("audit", 7);
        m.judge_call("ok");
        let text = m.encode();
        for name in [
            "aimds_requests_total{source=\"user\"} 1",
            "aimds_stage_seconds_bucket",
            "aimds_mailbox_depth{role=\"logger\"} 3",
            "aimds_agent_restarts_total{reason=\"panic\",role=\"analyzer\"} 1",
            "aimds_memory_rows{table=\"audit\"} 7",
        ] {
            assert!(text.contains(name), "{name} missing in\n{text}");
        }
        assert_eq!(m.restarts_of(Role::Analyzer), 1);
    }
}
