//! Supervised agent pools: how a slow or stateful role runs off the request path.
//!
//! A pool is `instances` worker tasks sharing one bounded mailbox with two lanes: critical tasks (a verdict that
//! already blocks or escalates) are taken before normal ones. A full mailbox makes callers wait — backpressure,
//! never an unbounded queue — and every call carries a deadline, so a caller gets an answer or a clear error in
//! bounded time.
//!
//! The supervisor keeps the workers alive: a panic inside `handle` is caught, answered as an error, and the
//! instance is rebuilt from its factory (its in-memory state may be inconsistent); a worker busy with one task for
//! longer than `hang_after` is aborted and replaced. Abort works at `.await` points: agents must do blocking or
//! CPU-heavy work in `spawn_blocking`, never spin on a runtime thread.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::FutureExt;
use serde::Serialize;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::agent::{Agent, AgentError, Outcome, Role, Task};
use crate::context::SwarmContext;

/// Builds a fresh instance of an agent (at start and after every restart).
pub type AgentFactory = Arc<dyn Fn() -> Arc<dyn Agent> + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Critical,
    Normal,
}

#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    pub instances: usize,
    /// Capacity of each mailbox lane.
    pub mailbox: usize,
    /// A task running longer than this marks its worker as hung.
    pub hang_after: Duration,
}

struct Job {
    task: Task,
    reply: oneshot::Sender<Result<Outcome, AgentError>>,
}

/// Health of one pool, for `aimds swarm status` and `/ready`.
#[derive(Debug, Clone, Serialize)]
pub struct RoleStatus {
    pub role: Role,
    pub mode: &'static str,
    pub instances: usize,
    pub busy: usize,
    pub queue_depth: usize,
    pub restarts: u64,
    pub healthy: bool,
}

struct Shared {
    role: Role,
    ctx: SwarmContext,
    factory: AgentFactory,
    lanes: Mutex<(mpsc::Receiver<Job>, mpsc::Receiver<Job>)>,
    /// Per worker slot: when its current task started (ms since `epoch`), 0 when idle.
    busy_since: Vec<AtomicU64>,
    epoch: Instant,
    queued: AtomicUsize,
    restarts: AtomicU64,
    /// Wakes the supervisor at shutdown so it can wait for the workers instead of its next tick.
    stop: tokio::sync::Notify,
}

/// A running pool. Dropping it closes the mailbox: workers finish what they hold and stop.
pub struct AgentPool {
    shared: Arc<Shared>,
    critical: mpsc::Sender<Job>,
    normal: mpsc::Sender<Job>,
    config: PoolConfig,
    supervisor: JoinHandle<()>,
}

impl std::fmt::Debug for AgentPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentPool")
            .field("role", &self.shared.role)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AgentPool {
    /// Starts `config.instances` workers and their supervisor on the current tokio runtime.
    pub fn spawn(role: Role, factory: AgentFactory, config: PoolConfig, ctx: SwarmContext) -> AgentPool {
        let instances = config.instances.max(1);
        let mailbox = config.mailbox.max(1);
        let (critical, crit_rx) = mpsc::channel(mailbox);
        let (normal, norm_rx) = mpsc::channel(mailbox);
        let shared = Arc::new(Shared {
            role,
            ctx,
            factory,
            lanes: Mutex::new((crit_rx, norm_rx)),
            busy_since: (0..instances).map(|_| AtomicU64::new(0)).collect(),
            epoch: Instant::now(),
            queued: AtomicUsize::new(0),
            restarts: AtomicU64::new(0),
            stop: tokio::sync::Notify::new(),
        });
        let workers: Vec<JoinHandle<()>> = (0..instances).map(|slot| spawn_worker(&shared, slot)).collect();
        let supervisor = tokio::spawn(supervise(shared.clone(), workers, config.hang_after));
        AgentPool {
            shared,
            critical,
            normal,
            config: PoolConfig {
                instances,
                mailbox,
                hang_after: config.hang_after,
            },
            supervisor,
        }
    }

    pub fn role(&self) -> Role {
        self.shared.role
    }

    /// Sends a task and waits for its outcome, all within `deadline` (waiting for mailbox space counts).
    pub async fn call(&self, task: Task, priority: Priority, deadline: Duration) -> Result<Outcome, AgentError> {
        let role = self.shared.role;
        let deadline_ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX);
        let work = async {
            let rx = self.enqueue(task, priority).await?;
            rx.await.map_err(|_| AgentError::Failed {
                role,
                message: "the worker was restarted before it answered".into(),
            })?
        };
        match tokio::time::timeout(deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(AgentError::Deadline { role, deadline_ms }),
        }
    }

    /// Sends a task without waiting for its outcome beyond mailbox space (e.g. batched audit writes).
    pub async fn cast(&self, task: Task, priority: Priority) -> Result<(), AgentError> {
        self.enqueue(task, priority).await.map(|_| ())
    }

    async fn enqueue(
        &self,
        task: Task,
        priority: Priority,
    ) -> Result<oneshot::Receiver<Result<Outcome, AgentError>>, AgentError> {
        let (reply, rx) = oneshot::channel();
        let lane = match priority {
            Priority::Critical => &self.critical,
            Priority::Normal => &self.normal,
        };
        self.shared.queued.fetch_add(1, Ordering::Relaxed);
        let sent = lane.send(Job { task, reply }).await;
        let depth = self.queue_depth();
        self.shared.ctx.metrics.mailbox_depth(self.shared.role, depth);
        match sent {
            Ok(()) => Ok(rx),
            Err(_) => {
                self.shared.queued.fetch_sub(1, Ordering::Relaxed);
                Err(AgentError::Stopped { role: self.shared.role })
            }
        }
    }

    pub fn queue_depth(&self) -> usize {
        (self.critical.max_capacity() - self.critical.capacity())
            + (self.normal.max_capacity() - self.normal.capacity())
    }

    pub fn status(&self) -> RoleStatus {
        let busy = self
            .shared
            .busy_since
            .iter()
            .filter(|b| b.load(Ordering::Relaxed) != 0)
            .count();
        RoleStatus {
            role: self.shared.role,
            mode: "supervised",
            instances: self.config.instances,
            busy,
            queue_depth: self.queue_depth(),
            restarts: self.shared.restarts.load(Ordering::Relaxed),
            healthy: !self.supervisor.is_finished() && !self.critical.is_closed(),
        }
    }

    /// Closes the mailbox and waits (up to `grace`) for queued tasks to finish.
    pub async fn shutdown(self, grace: Duration) {
        let AgentPool {
            shared,
            critical,
            normal,
            supervisor,
            ..
        } = self;
        drop(critical);
        drop(normal);
        shared.stop.notify_one();
        let _ = tokio::time::timeout(grace, supervisor).await;
        drop(shared);
    }
}

fn spawn_worker(shared: &Arc<Shared>, slot: usize) -> JoinHandle<()> {
    let shared = shared.clone();
    tokio::spawn(async move {
        let mut agent = (shared.factory)();
        loop {
            let job = {
                let mut lanes = shared.lanes.lock().await;
                let (crit, norm) = &mut *lanes;
                tokio::select! {
                    biased;
                    Some(job) = crit.recv() => job,
                    Some(job) = norm.recv() => job,
                    else => break,
                }
            };
            shared.queued.fetch_sub(1, Ordering::Relaxed);
            let started = shared.epoch.elapsed().as_millis().max(1);
            if let Some(b) = shared.busy_since.get(slot) {
                b.store(u64::try_from(started).unwrap_or(u64::MAX), Ordering::Relaxed);
            }
            let kind = job.task.kind();
            let span = tracing::info_span!("agent", role = %shared.role, task = kind);
            let result = AssertUnwindSafe(agent.handle(job.task, &shared.ctx))
                .catch_unwind()
                .await;
            if let Some(b) = shared.busy_since.get(slot) {
                b.store(0, Ordering::Relaxed);
            }
            drop(span);
            match result {
                Ok(outcome) => {
                    let _ = job.reply.send(outcome);
                }
                Err(panic) => {
                    let message = panic_message(&panic);
                    tracing::error!(role = %shared.role, %message, "agent panicked; restarting the instance");
                    let _ = job.reply.send(Err(AgentError::Panicked {
                        role: shared.role,
                        message,
                    }));
                    shared.restarts.fetch_add(1, Ordering::Relaxed);
                    shared.ctx.metrics.restart(shared.role, "panic");
                    agent = (shared.factory)();
                }
            }
        }
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".into()
    }
}

/// Watches the workers: replaces one that has been busy with a single task past `hang_after`, or that died.
async fn supervise(shared: Arc<Shared>, mut workers: Vec<JoinHandle<()>>, hang_after: Duration) {
    let tick = (hang_after / 4).clamp(Duration::from_millis(5), Duration::from_millis(250));
    let hang_ms = u64::try_from(hang_after.as_millis()).unwrap_or(u64::MAX).max(1);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shared.stop.notified() => {
                // The mailbox is closed: workers drain what is queued, then see the end.
                for w in workers {
                    let _ = w.await;
                }
                return;
            }
        }
        let now = u64::try_from(shared.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut all_done = true;
        for (slot, worker) in workers.iter_mut().enumerate() {
            let since = shared.busy_since.get(slot).map_or(0, |b| b.load(Ordering::Relaxed));
            let hung = since != 0 && now.saturating_sub(since) > hang_ms;
            if hung {
                tracing::error!(role = %shared.role, slot, "agent hung; aborting and restarting it");
                worker.abort();
                if let Some(b) = shared.busy_since.get(slot) {
                    b.store(0, Ordering::Relaxed);
                }
                shared.restarts.fetch_add(1, Ordering::Relaxed);
                shared.ctx.metrics.restart(shared.role, "hang");
                *worker = spawn_worker(&shared, slot);
                all_done = false;
            } else if !worker.is_finished() {
                all_done = false;
            }
        }
        if all_done {
            // Every worker saw the mailbox closed: the pool is shutting down.
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Feedback, FeedbackLabel, FeedbackReport};
    use crate::config::SwarmConfig;
    use crate::metrics::Metrics;
    use async_trait::async_trait;
    use std::sync::atomic::AtomicBool;

    /// Panics or hangs on texts that say so, answers otherwise.
    struct Moody {
        poisoned: Arc<AtomicBool>,
    }

    #[async_trait]
    impl Agent for Moody {
        fn role(&self) -> Role {
            Role::Analyzer
        }
        async fn handle(&self, task: Task, _ctx: &SwarmContext) -> Result<Outcome, AgentError> {
            let Task::Learn(fb) = task else {
                return Err(AgentError::Unsupported {
                    role: Role::Analyzer,
                    task: task.kind(),
                });
            };
            if self.poisoned.load(Ordering::Relaxed) {
                panic!("state of a crashed instance was reused");
            }
            match fb.text.as_str() {
                "panic" => {
                    self.poisoned.store(true, Ordering::Relaxed);
                    panic!("injected panic")
                }
                t if t.starts_with("sleep") => {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    Ok(Outcome::Learned(FeedbackReport {
                        signature: None,
                        label: fb.label,
                        status: "ok".into(),
                        id: None,
                        reason: fb.text,
                        conflicts: vec![],
                        audit_id: None,
                    }))
                }
                "hang" => {
                    std::future::pending::<()>().await;
                    unreachable!()
                }
                _ => Ok(Outcome::Learned(FeedbackReport {
                    signature: None,
                    label: fb.label,
                    status: "ok".into(),
                    id: None,
                    reason: fb.text,
                    conflicts: vec![],
                    audit_id: None,
                })),
            }
        }
    }

    fn task(text: &str) -> Task {
        Task::Learn(Feedback {
            text: text.into(),
            label: FeedbackLabel::Benign,
            category: None,
            reporter: "test".into(),
            note: None,
        })
    }

    fn pool(instances: usize, hang_after: Duration) -> AgentPool {
        let ctx = SwarmContext::new(SwarmConfig::default(), None, Arc::new(Metrics::new().unwrap()));
        let factory: AgentFactory = Arc::new(|| {
            Arc::new(Moody {
                poisoned: Arc::new(AtomicBool::new(false)),
            }) as Arc<dyn Agent>
        });
        AgentPool::spawn(
            Role::Analyzer,
            factory,
            PoolConfig {
                instances,
                mailbox: 4,
                hang_after,
            },
            ctx,
        )
    }

    async fn ok(p: &AgentPool, text: &str) -> bool {
        matches!(p.call(task(text), Priority::Normal, Duration::from_secs(2)).await,
                 Ok(Outcome::Learned(r)) if r.reason == text)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_agent_is_restarted_and_the_caller_gets_an_error() {
        let p = pool(1, Duration::from_secs(5));
        assert!(ok(&p, "hello").await);
        let err = p
            .call(task("panic"), Priority::Normal, Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(matches!(err, AgentError::Panicked { .. }), "{err}");
        // The poisoned instance was replaced by a fresh one.
        assert!(ok(&p, "after").await);
        assert_eq!(p.status().restarts, 1);
        p.shutdown(Duration::from_secs(1)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hung_agent_misses_its_deadline_and_is_replaced() {
        let p = pool(1, Duration::from_millis(100));
        let t = Instant::now();
        let err = p
            .call(task("hang"), Priority::Normal, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(matches!(err, AgentError::Deadline { .. }), "{err}");
        assert!(t.elapsed() < Duration::from_millis(500));
        // With its only worker stuck, the next call is served once the supervisor replaces it.
        assert!(ok(&p, "later").await);
        assert!(p.status().restarts >= 1);
        p.shutdown(Duration::from_secs(1)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn critical_tasks_jump_the_queue() {
        // One worker, kept busy; queue a normal then a critical task: the critical one is served first.
        let p = pool(1, Duration::from_secs(5));
        let first = p.enqueue(task("sleep-0"), Priority::Normal).await.unwrap();
        while p.status().busy == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut normal = p.enqueue(task("sleep-n"), Priority::Normal).await.unwrap();
        let critical = p.enqueue(task("sleep-c"), Priority::Critical).await.unwrap();
        assert!(first.await.unwrap().is_ok());
        assert!(matches!(critical.await.unwrap(), Ok(Outcome::Learned(r)) if r.reason == "sleep-c"));
        // Each sleeps 150 ms: the normal task has not been answered yet.
        assert!(normal.try_recv().is_err());
        assert!(matches!(normal.await.unwrap(), Ok(Outcome::Learned(r)) if r.reason == "sleep-n"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_mailbox_applies_backpressure_within_the_deadline() {
        let p = pool(1, Duration::from_secs(30));
        // Occupy the worker and fill the lane (capacity 4).
        let mut pending = Vec::new();
        for _ in 0..5 {
            pending.push(p.cast(task("hang"), Priority::Normal));
        }
        for c in pending {
            let _ = tokio::time::timeout(Duration::from_millis(50), c).await;
        }
        let t = Instant::now();
        let err = p
            .call(task("x"), Priority::Normal, Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(matches!(err, AgentError::Deadline { .. }), "{err}");
        assert!(t.elapsed() < Duration::from_millis(400));
    }
}
