//! # ediscovery
//!
//! An embeddable eDiscovery engine in the shape of Google Vault: it holds each custodian's
//! records exactly as they arrived, finds them again with Vault's query language inside a scope
//! no query can widen, and exports them in the files Vault users and review tools know.
//!
//! ```text
//! sources ─► ingest ─► collection (store + index) ─► search ─► export plan ─► packing ─► verify
//! ```
//!
//! - [`ingest`] reads mbox (split byte-exactly here), Gmail Takeout mbox, Maildir and `.eml`
//!   folders into [`model::Record`]s plus their original bytes; nothing is dropped without a
//!   rejection in the [`ingest::IngestReport`].
//! - [`store`] keeps the bytes in append-only, MD5-addressed pack files with crash-safe commits.
//! - [`index`] is the tantivy index; every search returns every hit.
//! - [`Collection`] and [`CollectionWriter`] keep the two in step.
//! - [`query`] parses Vault queries; [`search`] runs one within a [`query::Scope`].
//! - [`export`] plans and writes Vault-exact exports (mail, groups); [`verify`] re-reads them;
//!   [`format`](mod@format) holds each on-disk format (mbox, zip, CSV, EDRM XML, md5sum).
//! - [`extract`] reads the searchable text of Drive files (text, HTML, OOXML, ODF, PDF) as
//!   Vault searches them.
//!
//! ```
//! use ediscovery::{CollectionWriter, IngestOptions, NoProgress, ingest::Source, model::Account};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tmp = tempfile::tempdir()?;
//! let mbox = tmp.path().join("alice.mbox");
//! std::fs::write(&mbox, "From a@x Thu Jan  1 00:00:00 1970\nMessage-ID: <1@x>\nSubject: hi\n\n>From me\n\n")?;
//! let mut w = CollectionWriter::open(&tmp.path().join("coll"), 1)?;
//! let opts = IngestOptions::new(Account::new("alice@example.com")?);
//! let report = w.ingest(&Source::Mbox(mbox), &opts, &mut NoProgress)?;
//! assert_eq!((report.seen, report.ingested), (1, 1));
//! let coll = w.finish()?;
//! let rec = coll.store().get(0)?.ok_or("no record 0")?;
//! // mboxrd quoting is undone: the stored bytes are the original message.
//! assert_eq!(coll.store().bytes(&rec)?, b"Message-ID: <1@x>\nSubject: hi\n\nFrom me\n");
//! # Ok(()) }
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod collection;
pub mod digest;
mod error;
pub mod export;
pub mod extract;
pub mod format;
mod fs_safe;
pub mod governance;
pub mod index;
pub mod ingest;
mod limits;
pub mod malloc;
pub mod model;
mod partial_file;
pub mod query;
pub mod sample;
pub mod search;
pub mod split;
pub mod store;
pub mod verify;

pub use collection::{
    Collection, CollectionWriter, IngestOptions, IngestProgress, NoProgress, RemoveReport, Removed,
};
pub use error::{Error, Result};
pub use limits::{LimitError, Limits, check_json_depth};
pub use search::{Counts, SearchRequest, SearchResult};
pub use store::{CommitStep, CommitSteps, Compaction};
