//! What every agent can reach: the configuration, the shared memory, the metrics and a clock.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aimds_memory::Memory;

use crate::config::SwarmConfig;
use crate::metrics::Metrics;

/// Time, behind a trait so tests can move it (session windows, TTLs) without sleeping.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> SystemTime;

    /// Unix milliseconds.
    fn now_ms(&self) -> i64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<SystemTime>);

impl ManualClock {
    pub fn new(at: SystemTime) -> Self {
        ManualClock(std::sync::Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Shared by every agent of one swarm; cheap to clone.
#[derive(Debug, Clone)]
pub struct SwarmContext {
    pub config: Arc<SwarmConfig>,
    /// `None` when the config runs no role that remembers (e.g. `low-latency`).
    pub memory: Option<Memory>,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
}

impl SwarmContext {
    pub fn new(config: SwarmConfig, memory: Option<Memory>, metrics: Arc<Metrics>) -> Self {
        SwarmContext {
            config: Arc::new(config),
            memory,
            metrics,
            clock: Arc::new(SystemClock),
        }
    }
}
