//! Parallel preparation of a batch (rayon): MIME reading of messages, hashing and text
//! extraction of chat, Drive and Voice records. Results come back in input order so record
//! sequence numbers and DocIds never depend on the thread count. The only rayon user of ingest.

use super::record::{PreparedRecord, RawRecord, prepare_record};
use super::{Prepared, RawMessage, Rejection, prepare_within};
use rayon::prelude::*;
use std::sync::Arc;

/// The worker threads that read MIME; cheap to clone (shared).
#[derive(Clone)]
pub struct Workers(Arc<rayon::ThreadPool>);

/// One item of a batch, raw. (Messages are the common case and are not boxed.)
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Raw {
    /// A mail message.
    Message(RawMessage),
    /// A chat, Drive or Voice record.
    Record(Box<RawRecord>),
}

/// One item of a batch, ready to store (or refused while being prepared).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Ready {
    /// A mail message.
    Message(Prepared),
    /// A chat, Drive or Voice record.
    Record(Box<PreparedRecord>),
    /// A record whose content could not be read.
    Rejected(Rejection),
}

impl Workers {
    /// `threads` workers (at least one).
    pub fn new(threads: usize) -> Result<Workers, String> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()
            .map(|p| Workers(Arc::new(p)))
            .map_err(|e| e.to_string())
    }

    /// Prepare a batch of messages, keeping input order.
    pub fn prepare_batch(&self, batch: Vec<RawMessage>, limits: &crate::Limits) -> Vec<Prepared> {
        self.0.install(|| batch.into_par_iter().map(|raw| prepare_within(raw, limits)).collect())
    }

    /// Prepare a batch of messages and records, keeping input order.
    pub fn prepare_items(&self, batch: Vec<Raw>, limits: &crate::Limits) -> Vec<Ready> {
        self.0.install(|| {
            batch
                .into_par_iter()
                .map(|raw| match raw {
                    Raw::Message(m) => Ready::Message(prepare_within(m, limits)),
                    Raw::Record(r) => match prepare_record(*r, limits) {
                        Ok(p) => Ready::Record(Box::new(p)),
                        Err(e) => Ready::Rejected(e),
                    },
                })
                .collect()
        })
    }
}
