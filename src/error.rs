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
    /// The search index does not describe the records that are committed (removed, restored
    /// from an older copy, or from another collection). Searching it would give silently empty
    /// or partial results, so reading refuses; a writer (`ediscovery reindex`) rebuilds it.
    #[error(
        "{dir}: the search index is out of step with the records (index: generation {}, {index_docs} documents; records: generation {store_generation}, {records} records); rebuild it with `ediscovery reindex --collection {dir}`",
        index_generation.map_or("none".to_owned(), |g| g.to_string())
    )]
    IndexOutOfStep {
        /// The collection folder.
        dir: PathBuf,
        /// The store generation the index's last commit carries (none: no commit).
        index_generation: Option<u64>,
        /// Live documents in the index.
        index_docs: u64,
        /// The store's committed generation.
        store_generation: u64,
        /// Committed records.
        records: u64,
    },
    /// A removal was committed, then a step after its commit failed (deleting files the
    /// manifest no longer names, or the index update). The report says what was removed; the
    /// next writer finishes what failed. Drop the writer that returned this.
    #[error(
        "removed {} records (committed, generation {}), then: {source}",
        report.removed.len(),
        report.generation
    )]
    RemovedThenFailed {
        /// What the committed removal removed.
        report: Box<crate::collection::RemoveReport>,
        /// What failed after the commit.
        source: Box<Error>,
    },
    /// A `HELD_DATA` search was asked for without the held set: only the governance layer knows
    /// what holds keep, and searching all data instead would silently widen the scope.
    #[error(
        "refused (rule held-data-needs-holds): a HELD_DATA search needs the holds resolved by the governance layer (search in a matter: --matter ID)"
    )]
    HeldDataWithoutHolds,
    /// A held set resolved for another collection, or another commit of this one.
    #[error(
        "{dir} (generation {generation}): the held set was resolved for {held_dir} at generation {held_generation}; resolve it again"
    )]
    HeldSetMismatch {
        /// The searched collection.
        dir: PathBuf,
        /// Its generation.
        generation: u64,
        /// The collection the set was resolved for.
        held_dir: PathBuf,
        /// Its generation then.
        held_generation: u64,
    },
    /// Matters, holds, the organisation and the audit log.
    #[error(transparent)]
    Governance(#[from] crate::governance::GovernanceError),
    /// Input past one of the crate's [`crate::Limits`].
    #[error(transparent)]
    Limit(#[from] crate::LimitError),
    /// A thread pool could not be built.
    #[error("thread pool: {0}")]
    ThreadPool(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
