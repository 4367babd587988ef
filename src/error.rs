//! The crate error: each module's error, rolled up.

use std::path::PathBuf;

/// Anything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The collection folder.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The search index.
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    /// A source could not be read.
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
    /// A file outside the collection.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A query that does not parse.
    #[error("query {0}")]
    Parse(#[from] crate::query::ParseError),
    /// A query that cannot run in its scope.
    #[error(transparent)]
    Search(crate::index::compile::CompileError),
    /// A thread pool could not be built.
    #[error("thread pool: {0}")]
    ThreadPool(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
