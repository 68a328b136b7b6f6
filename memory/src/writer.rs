//! The single writer: a dedicated thread that owns the read-write connection and commits in groups.
//!
//! Callers send jobs (closures over a `&Connection`) through a channel. The thread runs each job inside its own
//! savepoint, so a failing job rolls back alone, and commits the open transaction when
//! - a job that must be durable before it returns (`Wait::Commit`) is in it — after draining whatever else is
//!   already queued, which is the group commit: many concurrent durable writes share one fsync;
//! - or the batch is full, or the oldest uncommitted job is older than the bounded delay;
//! - or on shutdown (`Memory::close` or the last handle dropped) and when every sender is gone.
//!
//! `Wait::Applied` jobs (the `batched` durability for audit and events) are answered as soon as they ran, before
//! their commit; a crash may cost that bounded window, never the chain's integrity, since a transaction commits
//! whole or not at all. Changes to the vector index are applied only after their commit succeeded.
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::error::{MemoryError, Result};
use crate::vector::{IndexOp, VectorIndex};

/// When a write returns to its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// After the transaction holding it committed.
    Commit,
    /// As soon as it ran; its commit follows within the batch window.
    Applied,
}

type Reply = Box<dyn FnOnce(Result<()>) + Send>;
type JobFn = Box<dyn FnOnce(&Connection, &mut Vec<IndexOp>) -> Option<Reply> + Send>;

pub(crate) struct Job {
    wait: Wait,
    run: JobFn,
    /// Answers the caller when the job cannot even start.
    fail: Box<dyn FnOnce(MemoryError) + Send>,
}

pub(crate) enum Msg {
    Job(Job),
    /// A read on the writer's own connection (an in-RAM database has no other); sees the open batch.
    Read(Box<dyn FnOnce(&Connection) + Send>),
    /// Rebuild the vector index from the `vectors` table (compaction).
    Compact(SyncSender<Result<usize>>),
    Shutdown(SyncSender<Result<()>>),
}

/// Builds a job that sends its result (or the commit's failure) to `tx`.
pub(crate) fn job<T: Send + 'static>(
    wait: Wait,
    tx: SyncSender<Result<T>>,
    f: impl FnOnce(&Connection, &mut Vec<IndexOp>) -> Result<T> + Send + 'static,
) -> Msg {
    job_then(
        wait,
        move |r| {
            let _ = tx.send(r);
        },
        f,
    )
}

/// Builds a job that hands its result (or the commit's failure) to `done`, on the writer thread. `done` is called
/// at most once; it is dropped uncalled only when the job panicked.
pub(crate) fn job_then<T: Send + 'static>(
    wait: Wait,
    done: impl FnOnce(Result<T>) + Send + 'static,
    f: impl FnOnce(&Connection, &mut Vec<IndexOp>) -> Result<T> + Send + 'static,
) -> Msg {
    // Exactly one of `fail` and `run` is ever called; they share the answer.
    let slot = Arc::new(Mutex::new(Some(done)));
    let fail_slot = slot.clone();
    let fail = Box::new(move |e: MemoryError| {
        if let Some(done) = take(&fail_slot) {
            done(Err(e));
        }
    });
    let run: JobFn = Box::new(move |conn, ops| {
        let done = take(&slot)?;
        match f(conn, ops) {
            Ok(value) => Some(Box::new(move |committed: Result<()>| done(committed.map(|()| value)))),
            Err(e) => {
                done(Err(e));
                None
            }
        }
    });
    Msg::Job(Job { wait, run, fail })
}

fn take<F>(slot: &Mutex<Option<F>>) -> Option<F> {
    slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
}

/// How long the writer lets `Wait::Applied` jobs queue up between rounds while a batch is open.
/// Their callers do not wait for them; a `Wait::Commit` job or a read waits at most this long.
const LINGER: Duration = Duration::from_micros(500);

pub(crate) struct WriterConfig {
    pub max_delay: Duration,
    pub max_batch: usize,
}

struct Batch {
    started: Option<Instant>,
    jobs: usize,
    must_commit: bool,
    after_commit: Vec<Reply>,
    ops: Vec<IndexOp>,
}

impl Batch {
    fn new() -> Self {
        Self {
            started: None,
            jobs: 0,
            must_commit: false,
            after_commit: Vec::new(),
            ops: Vec::new(),
        }
    }
}

pub(crate) fn run(conn: Connection, rx: Receiver<Msg>, index: Arc<VectorIndex>, cfg: WriterConfig) {
    let mut batch = Batch::new();
    loop {
        let msg = match batch.started {
            None => match rx.recv() {
                Ok(m) => m,
                Err(_) => return,
            },
            Some(started) => {
                let left = cfg.max_delay.saturating_sub(started.elapsed());
                match rx.recv_timeout(left) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => {
                        commit(&conn, &index, &mut batch);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        commit(&conn, &index, &mut batch);
                        return;
                    }
                }
            }
        };
        match msg {
            Msg::Job(job) => {
                run_job(&conn, &mut batch, job);
                // Group commit: take what is already queued into the same transaction.
                while batch.jobs < cfg.max_batch {
                    match rx.try_recv() {
                        Ok(Msg::Job(job)) => run_job(&conn, &mut batch, job),
                        Ok(Msg::Read(read)) => read(&conn),
                        Ok(other) => {
                            commit(&conn, &index, &mut batch);
                            if handle_control(&conn, &index, other) {
                                return;
                            }
                            break;
                        }
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            commit(&conn, &index, &mut batch);
                            return;
                        }
                    }
                }
                let overdue = batch.started.is_some_and(|s| s.elapsed() >= cfg.max_delay);
                if batch.must_commit || batch.jobs >= cfg.max_batch || overdue {
                    commit(&conn, &index, &mut batch);
                } else if let Some(started) = batch.started {
                    // A batch of jobs nobody waits on is open: let the next ones queue up for a
                    // moment rather than park on the channel, so that senders need not wake this
                    // thread for every job (a futex round trip each, under load most of its cost).
                    let left = cfg.max_delay.saturating_sub(started.elapsed());
                    std::thread::sleep(left.min(LINGER));
                }
            }
            Msg::Read(read) => read(&conn),
            other => {
                commit(&conn, &index, &mut batch);
                if handle_control(&conn, &index, other) {
                    return;
                }
            }
        }
    }
}

/// Returns true when the writer must stop.
fn handle_control(conn: &Connection, index: &VectorIndex, msg: Msg) -> bool {
    match msg {
        Msg::Job(_) => false,
        Msg::Read(read) => {
            read(conn);
            false
        }
        Msg::Compact(reply) => {
            let _ = reply.send(crate::store::rebuild_index(conn, index));
            false
        }
        Msg::Shutdown(reply) => {
            let _ = reply.send(Ok(()));
            true
        }
    }
}

fn run_job(conn: &Connection, batch: &mut Batch, job: Job) {
    let Job { wait, run, fail } = job;
    if batch.started.is_none() {
        if let Err(e) = exec_cached(conn, "BEGIN IMMEDIATE") {
            fail(MemoryError::Commit(format!("cannot begin a transaction: {e}")));
            return;
        }
        batch.started = Some(Instant::now());
    }
    if let Err(e) = exec_cached(conn, "SAVEPOINT job") {
        fail(MemoryError::Commit(format!("cannot open a savepoint: {e}")));
        return;
    }
    let mut ops = Vec::new();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(conn, &mut ops)));
    match outcome {
        Ok(Some(reply)) => {
            let _ = exec_cached(conn, "RELEASE job");
            batch.jobs += 1;
            batch.ops.append(&mut ops);
            match wait {
                Wait::Applied => reply(Ok(())),
                Wait::Commit => {
                    batch.must_commit = true;
                    batch.after_commit.push(reply);
                }
            }
        }
        // The job failed (and has told its caller) or panicked (its caller sees the writer's channel close):
        // undo only its own changes.
        Ok(None) | Err(_) => {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
        }
    }
}

/// Runs one statement from the connection's statement cache: every job opens and releases a
/// savepoint, and parsing those each time was a fifth of the writer thread's work under load.
fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn commit(conn: &Connection, index: &VectorIndex, batch: &mut Batch) {
    if batch.started.is_none() {
        return;
    }
    let done = std::mem::replace(batch, Batch::new());
    match exec_cached(conn, "COMMIT") {
        Ok(()) => {
            // The data is committed; an index that fails to take it is rebuilt from SQLite rather than left behind.
            let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| index.apply(done.ops)));
            if applied.is_err() {
                tracing::error!("the vector index refused a committed change; rebuilding it from the database");
                if let Err(e) = crate::store::rebuild_index(conn, index) {
                    tracing::error!(error = %e, "index rebuild failed");
                }
            }
            for reply in done.after_commit {
                reply(Ok(()));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "commit failed; the batch was rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            let msg = e.to_string();
            for reply in done.after_commit {
                reply(Err(MemoryError::Commit(msg.clone())));
            }
        }
    }
}
