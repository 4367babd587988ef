use crate::model::Record;
use std::collections::BTreeMap;
use std::io;

/// What the table keeps per account, updated at every commit (no scan).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    pub bytes: u64,
    /// org unit -> records under it (a count, so removals can drop a unit).
    pub org_units: BTreeMap<String, u64>,
}

impl Summary {
    pub fn add(&mut self, r: &Record) {
        self.records += 1;
        self.bytes += r.blob.size;
        *self.org_units.entry(r.org_unit.0.clone()).or_default() += 1;
    }
    pub fn sub(&mut self, r: &Record) {
        self.records -= 1;
        self.bytes -= r.blob.size;
        if let Some(c) = self.org_units.get_mut(&r.org_unit.0) {
            *c -= 1;
            if *c == 0 {
                self.org_units.remove(&r.org_unit.0);
            }
        }
    }
}

pub trait Table {
    /// Queue records; their seqs are assigned in order from `next_seq()`.
    fn append(&mut self, recs: &[Record]) -> io::Result<()>;
    /// Make everything queued durable (one commit point).
    fn commit(&mut self) -> io::Result<()>;
    /// Committed, not removed record.
    fn by_seq(&self, seq: u64) -> io::Result<Option<Record>>;
    /// Live committed records.
    fn count(&self) -> u64;
    /// Next seq to be assigned (committed rows incl. removed ones + queued).
    fn next_seq(&self) -> u64;
    fn account_summary(&self, account: &str) -> Option<Summary>;
    fn seqs_of_account(&self, account: &str) -> io::Result<Vec<u64>>;
    /// Iterate (not collect) the seqs of an account, calling f for each; returns how many.
    fn for_each_seq_of_account(&self, account: &str, f: &mut dyn FnMut(u64)) -> io::Result<u64>;
    /// Tombstone a committed record (takes effect at commit).
    fn remove(&mut self, seq: u64) -> io::Result<bool>;
    /// Reclaim space of removed records; seqs stay as they are.
    fn compact(&mut self) -> io::Result<()>;
}
