//! A fanned-out analyzer: each request is reviewed by several instances at once and their opinions combine by the
//! role's `aggregate` — the highest risk (`max`) or the mean (`weighted`) — before they meet the verdict. One
//! failing instance costs a note, not the stage.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aimds_agents::SwarmBuilder;
use aimds_memory::Memory;
use aimds_runtime::config::Aggregate;
use aimds_runtime::{
    Agent, AgentError, AgentFactory, Category, Finding, Opinion, Outcome, Role, ScanRequest, Severity, Source, Span,
    SwarmConfig, SwarmContext, Task,
};
use async_trait::async_trait;

/// One reviewer of an ensemble: each instance has its own risk (0.2, 0.5, 0.8, ...) and names itself in a finding;
/// the instance built with risk 0.8 fails when the text says "FAIL".
struct Reviewer {
    risk: f32,
}

#[async_trait]
impl Agent for Reviewer {
    fn role(&self) -> Role {
        Role::Analyzer
    }
    async fn handle(&self, task: Task, _ctx: &SwarmContext) -> Result<Outcome, AgentError> {
        let Task::Review(t) = task else {
            return Err(AgentError::failed(Role::Analyzer, "unexpected task"));
        };
        // Hold the instance a moment, so the fanned-out calls land on different instances.
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        if t.request.text.contains("FAIL") && self.risk > 0.7 {
            return Err(AgentError::failed(Role::Analyzer, "reviewer 0.8 is down"));
        }
        Ok(Outcome::Opinion(Opinion {
            risk: Some(self.risk),
            findings: vec![Finding {
                category: Category::Anomaly,
                rule_id: format!("reviewer.{}", self.risk),
                span: Span::new(0, 1),
                severity: Severity::Low,
                confidence: self.risk,
                evidence: String::new(),
            }],
            ..Opinion::default()
        }))
    }
}

fn ensemble(aggregate: Aggregate) -> (SwarmConfig, AgentFactory) {
    let mut cfg = SwarmConfig::default();
    let analyzer = cfg.roles.get_mut(&Role::Analyzer).unwrap();
    analyzer.instances = 3;
    analyzer.fanout = 3;
    analyzer.aggregate = aggregate;
    analyzer.weight = 1.0;
    analyzer.deadline_ms = 2000;
    let built = Arc::new(AtomicUsize::new(0));
    let factory: AgentFactory = Arc::new(move || {
        let k = built.fetch_add(1, Ordering::SeqCst) % 3;
        Arc::new(Reviewer {
            risk: [0.2, 0.5, 0.8][k],
        }) as Arc<dyn Agent>
    });
    (cfg, factory)
}

fn session(text: &str) -> ScanRequest {
    ScanRequest {
        session_id: Some("ensemble".into()),
        ..ScanRequest::new(text, Source::User)
    }
}

fn reviewers(v: &aimds_runtime::Verdict) -> Vec<&str> {
    let mut r: Vec<&str> = v
        .findings
        .iter()
        .map(|f| f.rule_id.as_str())
        .filter(|r| r.starts_with("reviewer."))
        .collect();
    r.sort();
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_takes_the_most_alarmed_reviewer() {
    let (cfg, factory) = ensemble(Aggregate::Max);
    let swarm = SwarmBuilder::new(cfg)
        .memory(Some(Memory::open_in_memory().unwrap()))
        .agent(Role::Analyzer, factory)
        .start()
        .unwrap();
    let v = swarm.scan(session("What is the capital of France?")).await.unwrap();
    assert_eq!(reviewers(&v), ["reviewer.0.2", "reviewer.0.5", "reviewer.0.8"], "{v:?}");
    assert!((v.risk - 0.8).abs() < 1e-6, "{}", v.risk);
    assert!(v.flagged, "0.8 is over the user threshold");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_averages_the_reviewers_and_survives_one_failing() {
    let (cfg, factory) = ensemble(Aggregate::Weighted);
    let swarm = SwarmBuilder::new(cfg)
        .memory(Some(Memory::open_in_memory().unwrap()))
        .agent(Role::Analyzer, factory)
        .start()
        .unwrap();
    let v = swarm.scan(session("What is the capital of France?")).await.unwrap();
    assert_eq!(reviewers(&v).len(), 3, "{v:?}");
    // The instances' mean is 0.5; weighted against the detector's low risk r with weight 1: (r + 0.5) / 2.
    // (read as the swarm reads a prompt: at the prompts' classifier point)
    let detector = swarm
        .detect("What is the capital of France?", Source::User)
        .unwrap()
        .risk;
    let want = detector.max((detector + 0.5) / 2.0);
    assert!((v.risk - want).abs() < 1e-5, "{} vs {want}", v.risk);
    assert!(!v.flagged, "{v:?}");

    // One reviewer down: the two others decide, and the failure is noted.
    let v = swarm
        .scan(session("FAIL what is the capital of France?"))
        .await
        .unwrap();
    assert_eq!(reviewers(&v), ["reviewer.0.2", "reviewer.0.5"], "{v:?}");
    assert!(
        v.degraded
            .iter()
            .any(|d| d.contains("1 of 3 fanned-out reviews failed")),
        "{:?}",
        v.degraded
    );
}
