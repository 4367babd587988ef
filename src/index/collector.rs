//! A collector that returns every hit (no top-K window, no scoring), as record sequence numbers.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Collects the `seq` of every matching document; the merged result is sorted.
pub struct AllSeqs {
    /// The fast field holding `seq`.
    pub field: &'static str,
}

/// Per-segment part of [`AllSeqs`].
pub struct SegmentSeqs {
    column: Column<u64>,
    docs: Vec<DocId>,
}

impl Collector for AllSeqs {
    type Fruit = Vec<u64>;
    type Child = SegmentSeqs;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<SegmentSeqs> {
        Ok(SegmentSeqs { column: seg.fast_fields().u64(self.field)?, docs: Vec::new() })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<u64>>) -> tantivy::Result<Vec<u64>> {
        let mut all: Vec<u64> = fruits.into_iter().flatten().collect();
        all.sort_unstable();
        Ok(all)
    }
}

impl SegmentCollector for SegmentSeqs {
    type Fruit = Vec<u64>;

    fn collect(&mut self, doc: DocId, _: Score) {
        self.docs.push(doc);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.docs.extend_from_slice(docs);
    }

    fn harvest(self) -> Vec<u64> {
        let mut out = vec![None; self.docs.len()];
        self.column.first_vals(&self.docs, &mut out);
        out.into_iter().flatten().collect()
    }
}
