//! Collections published as immutable splits on object storage (S3-compatible stores, or a local
//! folder that works the same way), and searched in place.
//!
//! ```text
//! URL/splits/<id>/manifest.json        written last, create-only: what the split holds
//! URL/splits/<id>/MANIFEST.json        the collection's commit, as published
//! URL/splits/<id>/records/…            the record table (committed bytes only)
//! URL/splits/<id>/index/…              the search index (meta.json and its segments' files)
//! URL/splits/<id>/packs/NNNNNN.pack    the stored bytes (committed bytes only)
//! URL/splits/<id>/groups.json          group memberships, when the collection has them
//! ```
//!
//! **Identity.** The split id is the hex MD5 of the sorted list of (name, size, MD5) of its
//! files (and of the deleted items' DocIds, see below), so publishing the same committed collection twice names the same split, and a split's
//! files never change once named. [`publish`] uploads the files (large ones by multipart upload),
//! then writes `manifest.json` with a create-only put: a split exists exactly when its manifest
//! does. A second publisher of the same content finds the manifest there with identical bytes
//! and succeeds; a manifest with other bytes under the same id is an error
//! ([`SplitError::ManifestConflict`]), never overwritten.
//!
//! **The create-only probe, and why we refuse rather than fall back.** Some S3 servers accept
//! `If-None-Match: *` and ignore it (Garage 2.5 does), so two publishers would both "win". Before
//! publishing, [`publish`] puts a probe object create-only twice; unless the second put fails
//! with "already exists" (HTTP 412), it refuses with [`SplitError::CreateOnlyIgnored`]. The
//! alternative — attempt-unique names plus a manifest written by one driver — would move the
//! one-writer guarantee out of the store into whoever runs the publishers, where nothing checks
//! it; and a store that silently drops a precondition may drop others. A clear refusal at start
//! costs an operator one configuration change (a store that honours conditional writes); a
//! silently doubled or overwritten split would cost an unexplained difference in a court
//! production. The probe object is deleted afterwards.
//!
//! **Reading.** [`open_split`] reads and checks the manifest. A split published with a block
//! list (`blocks.json`: the MD5 of every aligned 1 MiB block of each index and record-data
//! file, see [`manifest::BlockList`] for why a separate file) is opened in place: the record
//! table's small files (rows, keys, account runs, summaries, tombstones: about 1.7% of the
//! packs' bytes for mail) are fetched into a local cache with each file's MD5 checked, and the
//! index and the record data are read by checked, cached blocks ([`ranged`]) through
//! [`Collection::open_ranged`], so a search fetches the parts of the index it touches and the
//! records of its hits, not the files. A split without a block list (published before them)
//! is opened as before: its record table and index fetched whole into the cache, each file's
//! MD5 checked (a mismatch is [`SplitError::Md5Mismatch`] naming the file), and opened as a
//! collection without packs ([`Collection::open_without_packs`]); [`READ_VAR`]`=whole` asks
//! for that on any split. Either way the search code runs unchanged. Pack bytes stay in the
//! store: [`Split::part_bytes`] reads one blob by a ranged GET and checks its MD5.
//! [`search`] fans one search out over splits in process, skipping splits whose manifest proves
//! they hold nothing in the scope (accounts, corpus, dates), with counts and hit order exactly
//! those of one collection holding everything ([`crate::search::search_many`]).
//!
//! **Governance.** A split carries no governance state. The items users deleted that the
//! collection still keeps (a hold or rule) are listed in the manifest at publish time and left
//! out of split searches, as an all-data search of the collection leaves them out, unless the
//! search asks for them ([`SplitSearchOptions::include_deleted`]). Later deletions do not reach
//! a published split: it is a snapshot.
//!
//! **Exports on object storage.** [`upload_export`] writes a finished, verified export folder to
//! `URL/NAME/` with its checksum file last and create-only (the export's commit, as the manifest
//! is a split's); [`fetch_export`] reads one back (`export --out URL`).
//!
//! `object_store` and `tokio` are used only in [`remote`]: a small current-thread runtime owned
//! by each open store, so the rest of the crate stays synchronous.

mod export;
mod manifest;
mod open;
mod publish;
mod ranged;
mod remote;
mod search;
mod upload;

pub use export::{SplitBlobs, WINDOW, WINDOWS};
pub use manifest::{DateRange, SplitAccount, SplitFile, SplitManifest};
pub use open::{READ_VAR, Split, open_split};
pub use publish::{PublishOptions, Published, publish, publish_with};
pub use ranged::{CACHE_VAR, DEFAULT_CACHE_MIB};
pub use remote::StoreConfig;
pub use search::{SplitSearch, SplitSearchOptions, list_splits, search};
pub use upload::{Uploaded, fetch_export, upload_export};

use crate::digest::Md5;
use std::path::PathBuf;

/// Errors of publishing, opening and searching splits, each naming the URL or file it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    /// The URL is not one this version understands.
    #[error("split URL {url}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The object store refused or failed an operation.
    #[error("{url}: {op} {key}: {source}")]
    Store {
        /// The store's URL.
        url: String,
        /// What was being done (put, get, head, …).
        op: &'static str,
        /// The object's key.
        key: String,
        /// What the store said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store accepted a second create-only put of the same object: it ignores conditional
    /// writes, and two publishers could both believe they wrote a split (see the module docs).
    #[error(
        "{url}: the store ignores create-only puts (a second If-None-Match put of {key} succeeded); \
         refusing to publish: use a store that honours conditional writes"
    )]
    CreateOnlyIgnored {
        /// The store's URL.
        url: String,
        /// The probe object's key.
        key: String,
    },
    /// A different manifest is already published under this split id.
    #[error("{url}: split {split_id} already has a manifest with other content; not overwritten")]
    ManifestConflict {
        /// The store's URL.
        url: String,
        /// The split id.
        split_id: String,
    },
    /// No manifest at the split's URL: never published, or its publisher stopped before the
    /// manifest (its files are then not a split).
    #[error("{url}: no split here (no manifest.json)")]
    NoManifest {
        /// The split's URL.
        url: String,
    },
    /// A root URL given to a search holds no published split.
    #[error("{url}: no published split under {url}/splits/")]
    NoSplits {
        /// The root's URL.
        url: String,
    },
    /// The manifest is not one this version reads, or contradicts itself.
    #[error("{url}: bad split manifest: {reason}")]
    BadManifest {
        /// The split's URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A file's bytes do not have the MD5 the manifest gives.
    #[error("{url}: file {file}: MD5 {actual}, the manifest says {expected}")]
    Md5Mismatch {
        /// The split's URL.
        url: String,
        /// The file, relative to the split.
        file: String,
        /// From the manifest.
        expected: Md5,
        /// Of the bytes read.
        actual: Md5,
    },
    /// A file's size differs from the manifest's (0 when the file is missing).
    #[error("{url}: file {file}: {actual} bytes, the manifest says {expected}")]
    SizeMismatch {
        /// The split's URL.
        url: String,
        /// The file, relative to the split.
        file: String,
        /// From the manifest.
        expected: u64,
        /// Of the bytes found.
        actual: u64,
    },
    /// A blob lies outside the pack the manifest lists.
    #[error(
        "{url}: record {doc_id}: blob at pack {pack} offset {offset} size {size} is outside the split's pack"
    )]
    BlobOutOfRange {
        /// The split's URL.
        url: String,
        /// The record.
        doc_id: crate::model::DocId,
        /// Pack number.
        pack: u32,
        /// Offset.
        offset: u64,
        /// Size.
        size: u64,
    },
    /// The collection changed while it was being published (a writer committed): its files
    /// no longer have the bytes first hashed.
    #[error("{path}: changed while being published; publish again when no writer is running")]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// A writer holds the collection: publishing waits for a committed, quiet collection.
    #[error("{dir}: a writer holds the collection (LOCK); publish when it has finished")]
    Busy {
        /// The collection folder.
        dir: PathBuf,
    },
    /// An export's checksum file is already stored under this name with other bytes: another
    /// export has this name there. Nothing was uploaded.
    #[error("{url}/{file} exists: choose another name (nothing uploaded)")]
    ExportExists {
        /// `URL/NAME`.
        url: String,
        /// The checksum file's name.
        file: String,
    },
    /// Another export holds this name: its upload claimed it (`URL/NAME.claim` holds another
    /// checksum file) and is running, or stopped before committing. Nothing was uploaded.
    #[error(
        "{url}: another export is being uploaded under this name, or its upload stopped before \
         committing ({claim} holds another checksum file); nothing uploaded: choose another \
         name, or delete {claim} if no upload is running"
    )]
    ExportClaimed {
        /// `URL/NAME`.
        url: String,
        /// The claim object's URL.
        claim: String,
    },
    /// No export under the URL (its checksum file is missing: never uploaded, or its upload
    /// stopped before the checksum file).
    #[error("{url}: no export here (no checksum file)")]
    NoExport {
        /// `URL/NAME`.
        url: String,
    },
    /// An export folder (or its checksum file) that cannot be uploaded or read as it is.
    #[error("{at}: {reason}")]
    BadExport {
        /// The file or folder, local path or URL.
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a local file.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Opening or searching the collection (or its local copy) failed.
    #[error(transparent)]
    Collection(Box<crate::Error>),
}

impl From<crate::Error> for SplitError {
    fn from(e: crate::Error) -> Self {
        SplitError::Collection(Box::new(e))
    }
}

impl From<crate::store::StoreError> for SplitError {
    fn from(e: crate::store::StoreError) -> Self {
        SplitError::Collection(Box::new(e.into()))
    }
}

fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> SplitError + '_ {
    move |source| SplitError::Io { path: path.to_path_buf(), source }
}
