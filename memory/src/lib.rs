//! aimds-memory: the swarm's shared memory (SQLite store, vector index, audit chain).
//! Built out in its own issue; the detection core does not depend on it yet.
