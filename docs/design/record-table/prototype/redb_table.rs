//! (A) The record table in redb. Values are the same hand-rolled binary encoding as (B).
//! Tables: records seq -> bytes; by_account (acct id, seq) -> (); accounts name -> id;
//! summaries id -> encoded Summary; meta "live"/"rows"/"generation" -> u64.
use crate::api::{Summary, Table};
use crate::codec;
use crate::model::Record;
use redb::{Database, ReadOnlyTable, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;

const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("records");
const BY_ACCOUNT: TableDefinition<(u32, u64), ()> = TableDefinition::new("by_account");
const ACCOUNTS: TableDefinition<&str, u32> = TableDefinition::new("accounts");
const SUMMARIES: TableDefinition<u32, &[u8]> = TableDefinition::new("summaries");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

fn e<E: std::fmt::Display>(x: E) -> io::Error {
    io::Error::other(x.to_string())
}

pub struct RedbTable {
    db: Database,
    rec: Option<ReadOnlyTable<u64, &'static [u8]>>,
    by_acct: Option<ReadOnlyTable<(u32, u64), ()>>,
    accounts: HashMap<String, u32>,
    summaries: Vec<Summary>,
    live: u64,
    rows: u64,
    generation: u64,
    pending: Vec<(u32, Vec<u8>)>,
    pending_removes: Vec<(u64, u32)>,
    pending_set: std::collections::HashSet<u64>,
    new_accounts: Vec<(String, u32)>,
    dirty: std::collections::BTreeSet<u32>,
}

fn enc_summary(s: &Summary) -> Vec<u8> {
    let mut b = vec![];
    let mut w = codec::W(&mut b);
    w.u(s.records);
    w.u(s.bytes);
    w.u(s.org_units.len() as u64);
    for (k, v) in &s.org_units {
        w.s(k);
        w.u(*v);
    }
    b
}
fn dec_summary(b: &[u8]) -> Summary {
    let mut r = codec::R { b, p: 0 };
    let records = r.u().unwrap();
    let bytes = r.u().unwrap();
    let n = r.u().unwrap();
    let mut org_units = BTreeMap::new();
    for _ in 0..n {
        let k = r.s().unwrap();
        org_units.insert(k, r.u().unwrap());
    }
    Summary { records, bytes, org_units }
}

impl RedbTable {
    /// cache: redb's page cache budget (default 1 GiB).
    pub fn open(path: &Path, cache: usize) -> io::Result<RedbTable> {
        let db = Database::builder().set_cache_size(cache).create(path).map_err(e)?;
        {
            let w = db.begin_write().map_err(e)?;
            w.open_table(RECORDS).map_err(e)?;
            w.open_table(BY_ACCOUNT).map_err(e)?;
            w.open_table(ACCOUNTS).map_err(e)?;
            w.open_table(SUMMARIES).map_err(e)?;
            w.open_table(META).map_err(e)?;
            w.commit().map_err(e)?;
        }
        let mut t = RedbTable { db, rec: None, by_acct: None, accounts: HashMap::new(), summaries: vec![], live: 0, rows: 0, generation: 0, pending: vec![], pending_removes: vec![], pending_set: Default::default(), new_accounts: vec![], dirty: Default::default() };
        t.load()?;
        Ok(t)
    }

    fn load(&mut self) -> io::Result<()> {
        let r = self.db.begin_read().map_err(e)?;
        let meta = r.open_table(META).map_err(e)?;
        let g = |k: &str| -> io::Result<u64> { Ok(meta.get(k).map_err(e)?.map(|v| v.value()).unwrap_or(0)) };
        self.live = g("live")?;
        self.rows = g("rows")?;
        self.generation = g("generation")?;
        self.accounts.clear();
        for x in r.open_table(ACCOUNTS).map_err(e)?.iter().map_err(e)? {
            let (k, v) = x.map_err(e)?;
            self.accounts.insert(k.value().to_string(), v.value());
        }
        self.summaries = vec![Summary::default(); self.accounts.len()];
        for x in r.open_table(SUMMARIES).map_err(e)?.iter().map_err(e)? {
            let (k, v) = x.map_err(e)?;
            self.summaries[k.value() as usize] = dec_summary(v.value());
        }
        self.rec = Some(r.open_table(RECORDS).map_err(e)?);
        self.by_acct = Some(r.open_table(BY_ACCOUNT).map_err(e)?);
        Ok(())
    }

    pub fn file_len(&self, path: &Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    pub fn records_table_len(&self) -> u64 {
        self.rec.as_ref().map(|t| t.len().unwrap()).unwrap_or(0)
    }
}

impl Table for RedbTable {
    fn append(&mut self, recs: &[Record]) -> io::Result<()> {
        for r in recs {
            let id = match self.accounts.get(&r.account.0) {
                Some(&i) => i,
                None => {
                    let i = self.summaries.len() as u32;
                    self.accounts.insert(r.account.0.clone(), i);
                    self.summaries.push(Summary::default());
                    self.new_accounts.push((r.account.0.clone(), i));
                    i
                }
            };
            self.summaries[id as usize].add(r);
            self.dirty.insert(id);
            let mut b = Vec::with_capacity(512);
            codec::encode(r, &mut b);
            self.pending.push((id, b));
        }
        Ok(())
    }

    fn commit(&mut self) -> io::Result<()> {
        // drop read handles (they pin the old snapshot's pages)
        self.rec = None;
        self.by_acct = None;
        let mut w = self.db.begin_write().map_err(e)?;
        if std::env::var("REDB_QUICK_REPAIR").is_ok() {
            // saves the allocator state with every commit, so an unclean shutdown does not
            // need a full repair at the next open
            w.set_quick_repair(true);
        }
        let n = self.pending.len() as u64;
        {
            let mut rec = w.open_table(RECORDS).map_err(e)?;
            let mut by = w.open_table(BY_ACCOUNT).map_err(e)?;
            for (i, (id, b)) in self.pending.iter().enumerate() {
                let seq = self.rows + i as u64;
                rec.insert(seq, b.as_slice()).map_err(e)?;
                by.insert((*id, seq), ()).map_err(e)?;
            }
            for &(seq, id) in &self.pending_removes {
                rec.remove(seq).map_err(e)?;
                by.remove((id, seq)).map_err(e)?;
            }
            let mut acc = w.open_table(ACCOUNTS).map_err(e)?;
            for (k, v) in &self.new_accounts {
                acc.insert(k.as_str(), *v).map_err(e)?;
            }
            let mut s = w.open_table(SUMMARIES).map_err(e)?;
            for id in &self.dirty {
                s.insert(*id, enc_summary(&self.summaries[*id as usize]).as_slice()).map_err(e)?;
            }
            let mut m = w.open_table(META).map_err(e)?;
            m.insert("live", self.live + n - self.pending_removes.len() as u64).map_err(e)?;
            m.insert("rows", self.rows + n).map_err(e)?;
            m.insert("generation", self.generation + 1).map_err(e)?;
        }
        w.commit().map_err(e)?; // Durability::Immediate is the default
        self.pending.clear();
        self.pending_removes.clear();
        self.pending_set.clear();
        self.new_accounts.clear();
        self.dirty.clear();
        self.load()
    }

    fn by_seq(&self, seq: u64) -> io::Result<Option<Record>> {
        let t = self.rec.as_ref().unwrap();
        match t.get(seq).map_err(e)? {
            None => Ok(None),
            Some(v) => codec::decode(v.value(), seq).map(Some).map_err(|x| e(x.0)),
        }
    }

    fn count(&self) -> u64 {
        self.live
    }

    fn next_seq(&self) -> u64 {
        self.rows + self.pending.len() as u64
    }

    fn account_summary(&self, account: &str) -> Option<Summary> {
        self.accounts.get(account).map(|&i| self.summaries[i as usize].clone())
    }

    fn seqs_of_account(&self, account: &str) -> io::Result<Vec<u64>> {
        let mut v = vec![];
        self.for_each_seq_of_account(account, &mut |s| v.push(s))?;
        Ok(v)
    }

    fn for_each_seq_of_account(&self, account: &str, f: &mut dyn FnMut(u64)) -> io::Result<u64> {
        let Some(&id) = self.accounts.get(account) else { return Ok(0) };
        let t = self.by_acct.as_ref().unwrap();
        let mut n = 0;
        for x in t.range((id, 0)..=(id, u64::MAX)).map_err(e)? {
            let (k, _) = x.map_err(e)?;
            f(k.value().1);
            n += 1;
        }
        Ok(n)
    }

    fn remove(&mut self, seq: u64) -> io::Result<bool> {
        if self.pending_set.contains(&seq) {
            return Ok(false);
        }
        let Some(r) = self.by_seq(seq)? else { return Ok(false) };
        self.pending_set.insert(seq);
        let id = self.accounts[&r.account.0];
        self.summaries[id as usize].sub(&r);
        self.dirty.insert(id);
        self.pending_removes.push((seq, id));
        Ok(true)
    }

    fn compact(&mut self) -> io::Result<()> {
        self.rec = None;
        self.by_acct = None;
        while self.db.compact().map_err(e)? {}
        self.load()
    }
}
