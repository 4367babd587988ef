//! Parallel MIME reading for a batch of messages (rayon), results in input order so record
//! sequence numbers and DocIds never depend on the thread count. The only rayon user of ingest.

use super::{Prepared, RawMessage, prepare_within};
use rayon::prelude::*;
use std::sync::Arc;

/// The worker threads that read MIME; cheap to clone (shared).
#[derive(Clone)]
pub struct Workers(Arc<rayon::ThreadPool>);

impl Workers {
    /// `threads` workers (at least one).
    pub fn new(threads: usize) -> Result<Workers, String> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()
            .map(|p| Workers(Arc::new(p)))
            .map_err(|e| e.to_string())
    }

    /// Prepare a batch, keeping input order.
    pub fn prepare_batch(&self, batch: Vec<RawMessage>, limits: &crate::Limits) -> Vec<Prepared> {
        self.0.install(|| batch.into_par_iter().map(|raw| prepare_within(raw, limits)).collect())
    }
}
