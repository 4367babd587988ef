//! Collectors: every hit (no top-K window, no scoring) as record sequence numbers, and hits
//! counted per account.

use crate::model::Account;
use std::collections::BTreeMap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
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

/// Counts hits per account from the `account` fast field, for counts that need no hit list: no
/// seq is materialised, nothing is sorted and no record-table row is read. At 10 million hits
/// the seq list alone was 280 MB of transient memory and most of the time.
pub struct AccountCounts {
    /// The fast field holding the account (term ordinals per segment).
    pub account: &'static str,
    /// The fast field holding `seq`.
    pub seq: &'static str,
    /// Documents with `seq` at or past this are not committed records: not counted.
    pub limit_seq: u64,
}

/// Per-segment part of [`AccountCounts`].
pub struct SegmentAccountCounts {
    accounts: StrColumn,
    /// Only for a segment holding documents past the limit.
    seqs: Option<Column<u64>>,
    limit_seq: u64,
    /// Hits per term ordinal of `accounts`.
    counts: Vec<u64>,
    ords: Vec<Option<u64>>,
    seq_vals: Vec<Option<u64>>,
}

impl SegmentAccountCounts {
    fn count(&mut self, ord: Option<u64>, seq: Option<u64>) {
        if self.seqs.is_some() && seq.is_none_or(|s| s >= self.limit_seq) {
            return;
        }
        if let Some(n) =
            ord.and_then(|o| usize::try_from(o).ok()).and_then(|o| self.counts.get_mut(o))
        {
            *n += 1;
        }
    }
}

impl Collector for AccountCounts {
    type Fruit = BTreeMap<Account, u64>;
    type Child = SegmentAccountCounts;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        seg: &SegmentReader,
    ) -> tantivy::Result<SegmentAccountCounts> {
        let accounts = seg.fast_fields().str(self.account)?.ok_or_else(|| {
            tantivy::TantivyError::SchemaError(format!("no fast field {}", self.account))
        })?;
        let seqs = seg.fast_fields().u64(self.seq)?;
        let seqs = (seqs.max_value() >= self.limit_seq).then_some(seqs);
        Ok(SegmentAccountCounts {
            counts: vec![0; accounts.num_terms()],
            accounts,
            seqs,
            limit_seq: self.limit_seq,
            ords: Vec::new(),
            seq_vals: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<(StrColumn, Vec<u64>)>,
    ) -> tantivy::Result<BTreeMap<Account, u64>> {
        let mut all = BTreeMap::new();
        let mut name = String::new();
        for (accounts, counts) in fruits {
            for (ord, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
                if !accounts.ord_to_str(ord as u64, &mut name)? {
                    let e =
                        format!("{}: term ordinal {ord} is not in the dictionary", self.account);
                    return Err(tantivy::TantivyError::InvalidArgument(e));
                }
                let a = Account::new(&name).map_err(|e| {
                    tantivy::TantivyError::InvalidArgument(format!("indexed account {name:?}: {e}"))
                })?;
                *all.entry(a).or_insert(0) += n;
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentAccountCounts {
    type Fruit = (StrColumn, Vec<u64>);

    fn collect(&mut self, doc: DocId, _: Score) {
        let ord = self.accounts.ords().first(doc);
        let seq = self.seqs.as_ref().and_then(|c| c.first(doc));
        self.count(ord, seq);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.ords.clear();
        self.ords.resize(docs.len(), None);
        self.accounts.ords().first_vals(docs, &mut self.ords);
        self.seq_vals.clear();
        self.seq_vals.resize(docs.len(), None);
        if let Some(c) = &self.seqs {
            c.first_vals(docs, &mut self.seq_vals);
        }
        for i in 0..docs.len() {
            let (ord, seq) = (self.ords[i], self.seq_vals[i]);
            self.count(ord, seq);
        }
    }

    fn harvest(self) -> (StrColumn, Vec<u64>) {
        // Names are looked up once per account when the segments' counts are merged.
        (self.accounts, self.counts)
    }
}
