//! One error type for the whole crate. Every variant names what was wrong, so a CLI or an MCP tool can show it as is.
use std::path::PathBuf;

/// Everything that can go wrong in the memory.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("cannot open memory database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },

    #[error("{path} is not a SQLite database or is corrupt ({detail}); it was left untouched")]
    Corrupt { path: PathBuf, detail: String },

    #[error(
        "{path} is a SQLite database of another application (application_id {application_id:#010x}, {tables} tables); \
         it was left untouched"
    )]
    Foreign {
        path: PathBuf,
        application_id: i32,
        tables: i64,
    },

    #[error(
        "{path} has schema version {found}, but this build knows versions up to {supported}; \
         use a newer aimds (the file was left untouched)"
    )]
    SchemaTooNew { path: PathBuf, found: i64, supported: i64 },

    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("json: {0}")]
    Json(#[from] serde_json::Error),

    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },

    #[error("embedding has dimension {got}, but embedder {embedder} produces dimension {expected}")]
    Dimension {
        embedder: String,
        expected: usize,
        got: usize,
    },

    #[error("embedding contains a non-finite value at index {index}")]
    NonFinite { index: usize },

    #[error("{what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },

    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },

    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },

    #[error("the commit of this write failed: {0}")]
    Commit(String),

    #[error("the memory writer thread has stopped")]
    WriterGone,

    #[error("the memory writer's queue is full; try again")]
    Busy,

    #[error("vector index: {0}")]
    Index(String),
}

pub type Result<T, E = MemoryError> = std::result::Result<T, E>;

impl MemoryError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        MemoryError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        MemoryError::Io {
            context: context.into(),
            source,
        }
    }
}
