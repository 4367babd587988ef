//! Parallel MIME reading for a batch of messages (rayon), results in input order so record
//! sequence numbers and DocIds never depend on the thread count.

use super::{Prepared, RawMessage, prepare};
use rayon::prelude::*;

/// Prepare a batch on `pool`, keeping input order.
pub fn prepare_batch(pool: &rayon::ThreadPool, batch: Vec<RawMessage>) -> Vec<Prepared> {
    pool.install(|| batch.into_par_iter().map(prepare).collect())
}
