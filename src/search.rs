//! Scoped search: every matching record in a deterministic order, and exact counts per account in
//! the shape of Vault's count response (total, per account, queried and matching accounts).

use crate::index::compile::{self, CompileError};
use crate::model::{Account, DocId, Record};
use crate::query::{CorpusOptions, DataScope, Method, Query, Scope};
use crate::{Collection, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// A search: a parsed query within a scope, and the clock for relative dates.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    /// Where to look.
    pub scope: Scope,
    /// What to look for.
    pub query: Query,
    /// Corpus-specific options (shared drives, rooms, Voice data); the defaults include all.
    pub options: CorpusOptions,
    /// "Now" for `older_than:`/`newer_than:`, UTC seconds (injectable for tests and replays).
    pub now: i64,
    /// What holds keep in the searched collection: required when the scope's data scope is
    /// [`DataScope::Held`], ignored otherwise. The governance layer resolves it.
    pub held: Option<Arc<HeldSet>>,
    /// Records users deleted that a hold or retention rule still keeps
    /// (`Governance::deleted_set`): an all-data search leaves them out, as Vault's users no
    /// longer see them; a `HELD_DATA` search ignores this (holds keep them findable). `None`:
    /// nothing is left out — a search that asks for retained data.
    pub deleted: Option<Arc<HeldSet>>,
}

impl SearchRequest {
    /// A search of all data (no held set, nothing left out).
    pub fn new(scope: Scope, query: Query, now: i64) -> SearchRequest {
        SearchRequest {
            scope,
            query,
            now,
            options: CorpusOptions::default(),
            held: None,
            deleted: None,
        }
    }
}

/// The records holds keep in one collection, resolved at one moment (one committed generation):
/// what a `HELD_DATA` search is limited to. Records are kept by seq, which a collection never
/// reuses, so limiting a search costs no record decoding; the collection's folder and generation
/// travel with the set, and a search of any other state of any other collection refuses it
/// rather than filter by seqs that name other records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldSet {
    collection: PathBuf,
    generation: u64,
    records: BTreeMap<u64, DocId>,
}

impl HeldSet {
    /// An empty set for `coll` as it is now.
    pub fn new(coll: &Collection) -> HeldSet {
        HeldSet {
            collection: coll.store().dir().to_path_buf(),
            generation: coll.store().generation(),
            records: BTreeMap::new(),
        }
    }

    /// Add a hit of a search of the same collection.
    pub fn insert(&mut self, hit: &Hit) {
        self.records.insert(hit.seq, hit.doc_id);
    }

    /// Add the record `seq` with this DocId (of the same collection, as it is now).
    pub fn insert_record(&mut self, seq: u64, doc_id: DocId) {
        self.records.insert(seq, doc_id);
    }

    /// Add every record of another set; refused when it was resolved for another collection
    /// or generation (its seqs would name other records).
    pub fn extend(&mut self, other: &HeldSet) -> Result<()> {
        if other.collection != self.collection || other.generation != self.generation {
            return Err(crate::Error::HeldSetMismatch {
                dir: self.collection.clone(),
                generation: self.generation,
                held_dir: other.collection.clone(),
                held_generation: other.generation,
            });
        }
        self.records.extend(other.records.iter().map(|(s, d)| (*s, *d)));
        Ok(())
    }

    /// Whether the record with this seq and id is held.
    pub fn contains(&self, seq: u64, doc_id: &DocId) -> bool {
        self.records.get(&seq) == Some(doc_id)
    }

    /// Held records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The held records' ids, by seq.
    pub fn doc_ids(&self) -> impl Iterator<Item = &DocId> + '_ {
        self.records.values()
    }

    /// The collection generation the set was resolved at.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Refuse a set resolved for another collection, or another state of this one.
    fn check(&self, coll: &Collection) -> Result<()> {
        let dir = coll.store().dir();
        if self.collection != dir || self.generation != coll.store().generation() {
            return Err(crate::Error::HeldSetMismatch {
                dir: dir.to_path_buf(),
                generation: coll.store().generation(),
                held_dir: self.collection.clone(),
                held_generation: self.generation,
            });
        }
        Ok(())
    }
}

/// Exact counts, shaped like Vault's `CountArtifactsResponse`. Counts of disjoint parts of a
/// search (several collections, several machines) [`merge`](Counts::merge) into the counts of the
/// whole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// All hits.
    pub total: u64,
    /// Hits per queried account, zeros included, by account.
    pub per_account: BTreeMap<Account, u64>,
    /// Accounts the scope covers.
    pub queried_accounts: u64,
    /// Accounts with at least one hit.
    pub matching_accounts: u64,
}

impl Counts {
    /// Counts from hits per account (every queried account present, zeros included).
    pub fn from_per_account(per_account: BTreeMap<Account, u64>) -> Counts {
        Counts {
            total: per_account.values().sum(),
            queried_accounts: per_account.len() as u64,
            matching_accounts: per_account.values().filter(|&&n| n > 0).count() as u64,
            per_account,
        }
    }

    /// Add the counts of another, disjoint part of the same search.
    pub fn merge(&mut self, other: &Counts) {
        let mut per = std::mem::take(&mut self.per_account);
        for (a, n) in &other.per_account {
            *per.entry(a.clone()).or_insert(0) += n;
        }
        *self = Counts::from_per_account(per);
    }
}

/// One hit, owning what callers order and group by; the record itself is read from its
/// collection with [`Collection::record`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The record's identity.
    pub doc_id: crate::model::DocId,
    /// Its corpus.
    pub corpus: crate::model::Corpus,
    /// Its account.
    pub account: Account,
    /// The date it is placed by ([`Record::date`]).
    pub date: Option<i64>,
    /// Its sequence number in its collection.
    pub seq: u64,
    /// Bytes of its stored original (what an export plan splits zips by).
    pub size: u64,
    /// Which of the searched collections holds it (0 for a single collection).
    pub collection: u32,
}

impl Hit {
    /// The order of every search result: account, then date (undated last), then collection,
    /// then collection order. One key, so merged results sort exactly as a single search.
    pub fn sort_key(&self) -> (&Account, bool, Option<i64>, u32, u64) {
        (&self.account, self.date.is_none(), self.date, self.collection, self.seq)
    }
}

/// What a search found.
#[derive(Clone, Debug)]
pub struct SearchResult {
    /// Every hit, ordered by [`Hit::sort_key`].
    pub hits: Vec<Hit>,
    /// Exact counts.
    pub counts: Counts,
    /// The effective UTC bounds of the scope.
    pub bounds: (Option<i64>, Option<i64>),
    /// Things worth telling.
    pub warnings: Vec<String>,
    /// The records this search left out as deleted ([`SearchRequest::deleted`], all-data
    /// searches only): what an export must not bring back either, e.g. as Chat context.
    pub hidden: Option<Arc<HeldSet>>,
}

impl SearchResult {
    /// Add the result of the same search over another collection (or part of one), keeping the
    /// order and the counts exact.
    pub fn merge(&mut self, other: SearchResult) {
        self.hits.extend(other.hits);
        self.hits.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.counts.merge(&other.counts);
        for w in other.warnings {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
    }
}

impl Collection {
    /// Run a search: every hit, ordered, and the counts.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResult> {
        self.search_as(req, 0)
    }

    fn search_as(&self, req: &SearchRequest, collection: u32) -> Result<SearchResult> {
        let (seqs, compiled) = self.matching(req)?;
        let hits = self.ordered_hits(&seqs, collection)?;
        let counts = self.tally(&req.scope, &seqs)?;
        let hidden = req.deleted.clone().filter(|_| req.scope.data_scope == DataScope::All);
        Ok(SearchResult {
            hits,
            counts,
            bounds: compiled.bounds,
            warnings: compiled.warnings,
            hidden,
        })
    }

    /// The hits of `req` that are `account`'s, in hit order: exactly the run of
    /// [`search`](Self::search)'s hits for that account, found without building the others'. A
    /// streaming export plans and writes account by account with this, so its memory follows
    /// the largest account, not the whole search.
    pub fn account_hits(&self, req: &SearchRequest, account: &Account) -> Result<Vec<Hit>> {
        self.ordered_hits(&self.account_seqs(req, account)?, 0)
    }

    /// The seqs of `req`'s hits that are `account`'s, unordered.
    fn account_seqs(&self, req: &SearchRequest, account: &Account) -> Result<Vec<u64>> {
        let compiled =
            compile::compile_with(self.index(), &req.query, &req.scope, &req.options, req.now)
                .map_err(crate::Error::Search)?;
        let mut seqs = self.index().search_account(&compiled, account, self.store().rows())?;
        self.restrict(req, &mut seqs)?;
        Ok(seqs)
    }

    /// The hits of `seqs`, ordered by [`Hit::sort_key`]. What the order needs comes from the
    /// record table's fixed-width rows: no record is decoded (at 10 million hits decoding alone
    /// took minutes). A seq the table no longer holds (a removed record) is not a hit.
    fn ordered_hits(&self, seqs: &[u64], collection: u32) -> Result<Vec<Hit>> {
        let mut hits = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            if let Some((corpus, account, key)) = self.store().key(seq)? {
                hits.push(Hit {
                    doc_id: key.doc_id,
                    corpus,
                    account: account.clone(),
                    date: key.date,
                    seq,
                    size: key.blob.size,
                    collection,
                });
            }
        }
        // Every key ends in the seq, unique in a collection: an unstable sort gives the same
        // order without a scratch buffer of half the hits.
        hits.sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Ok(hits)
    }

    /// [`account_hits`](Self::account_hits) as an export's writer needs them: each hit's seq, in
    /// hit order, at 8 bytes a hit instead of a [`Hit`]'s 72 (what else a writer needs of a
    /// record is in its key row).
    pub fn account_records(&self, req: &SearchRequest, account: &Account) -> Result<Vec<u64>> {
        let seqs = self.account_seqs(req, account)?;
        // Within one account [`Hit::sort_key`] is (undated last, date, seq). The date becomes one
        // order-preserving u64 (undated: u64::MAX) beside the seq, so what is sorted is 16 bytes
        // a hit: this list is what an export keeps per account in flight.
        let mut keyed: Vec<(u64, u64)> = Vec::with_capacity(seqs.len());
        for &seq in &seqs {
            let (_, a, key) = match self.store().key(seq)? {
                Some(k) => k,
                None => continue,
            };
            if a != account {
                return Err(self.misindexed(seq, account, a));
            }
            let order = match key.date {
                // i64::MAX would share u64::MAX with the undated; no ingested date is near it
                // (dates end in the year 9999), so only damage gives it: order those exactly.
                Some(i64::MAX) => return self.account_records_exact(&seqs, account),
                Some(d) => (d as u64) ^ (1 << 63),
                None => u64::MAX,
            };
            keyed.push((order, seq));
        }
        drop(seqs);
        keyed.sort_unstable();
        Ok(keyed.into_iter().map(|(_, seq)| seq).collect())
    }

    /// The error for a record the index files under another account than the table.
    fn misindexed(&self, seq: u64, account: &Account, a: &Account) -> crate::Error {
        crate::Error::Store(crate::store::StoreError::Corrupt {
            path: self.store().dir().join("records"),
            reason: format!(
                "record {seq} is indexed under {account} but the table says {a}: run `ediscovery \
                 reindex`"
            ),
        })
    }

    /// [`account_records`](Self::account_records) by the wide key, for a table holding a date
    /// the narrow key cannot order.
    fn account_records_exact(&self, seqs: &[u64], account: &Account) -> Result<Vec<u64>> {
        let mut keyed = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            if let Some((_, a, key)) = self.store().key(seq)? {
                if a != account {
                    return Err(self.misindexed(seq, account, a));
                }
                keyed.push((key.date.is_none(), key.date, seq));
            }
        }
        keyed.sort_unstable();
        Ok(keyed.into_iter().map(|(_, _, seq)| seq).collect())
    }

    /// The record a hit of this collection names, decoded from the record table.
    pub fn record(&self, hit: &Hit) -> Result<Option<Record>> {
        Ok(self.store().get(hit.seq)?.filter(|r| r.doc_id == hit.doc_id))
    }

    /// The records of this collection's hits, in the hits' order.
    pub fn hit_records(&self, hits: &[Hit]) -> Result<Vec<Record>> {
        let mut out = Vec::with_capacity(hits.len());
        for h in hits.iter().filter(|h| h.collection == 0) {
            if let Some(r) = self.record(h)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Only the counts (hits are not ordered): what `--count` and results-count files need. No
    /// record is decoded and no hit list is built.
    pub fn count(&self, req: &SearchRequest) -> Result<Counts> {
        Ok(self.count_result(req)?.counts)
    }

    /// The counts, date bounds and warnings of a search, without its hits: hits are counted per
    /// account inside the index (its account fast field), so a count of 10 million hits reads
    /// no record-table row and holds no list of them. When records have been removed from the
    /// store (their index documents may remain), each hit's account is read from its row
    /// instead, which leaves removed records out; a `HELD_DATA` count checks each hit against
    /// the held set.
    pub fn count_result(&self, req: &SearchRequest) -> Result<SearchResult> {
        if req.scope.data_scope == DataScope::Held
            || req.deleted.as_ref().is_some_and(|d| !d.is_empty())
        {
            // Held or deleted records are a set of seqs: each hit is checked against it.
            let (seqs, compiled) = self.matching(req)?;
            let counts = self.tally(&req.scope, &seqs)?;
            return Ok(SearchResult {
                hits: Vec::new(),
                counts,
                bounds: compiled.bounds,
                warnings: compiled.warnings,
                hidden: None,
            });
        }
        let compiled =
            compile::compile_with(self.index(), &req.query, &req.scope, &req.options, req.now)
                .map_err(crate::Error::Search)?;
        let counts = if self.store().has_removed() {
            let limit = self.store().rows();
            self.tally(&req.scope, &self.index().search(&compiled, limit)?)?
        } else {
            let mut per_account: BTreeMap<Account, u64> =
                self.queried_accounts(&req.scope).into_iter().map(|a| (a, 0)).collect();
            for (a, n) in self.index().count_by_account(&compiled, self.store().rows())? {
                *per_account.entry(a).or_insert(0) += n;
            }
            Counts::from_per_account(per_account)
        };
        Ok(SearchResult {
            hits: Vec::new(),
            counts,
            bounds: compiled.bounds,
            warnings: compiled.warnings,
            hidden: None,
        })
    }

    /// The seqs of the committed records matching `req`, ascending.
    fn matching(&self, req: &SearchRequest) -> Result<(Vec<u64>, compile::Compiled)> {
        let compiled =
            compile::compile_with(self.index(), &req.query, &req.scope, &req.options, req.now)
                .map_err(crate::Error::Search)?;
        // Seqs run to the rows, removed ones included (`len` counts only records); hits of
        // removed records are left out where each is resolved through the record table.
        let limit = self.store().rows();
        let mut seqs = self.index().search(&compiled, limit)?;
        self.restrict(req, &mut seqs)?;
        Ok((seqs, compiled))
    }

    /// Keep only what `req`'s data scope sees: for `HELD_DATA` the held records, otherwise all
    /// but the deleted ones it leaves out.
    fn restrict(&self, req: &SearchRequest, seqs: &mut Vec<u64>) -> Result<()> {
        if req.scope.data_scope == DataScope::Held {
            let held = req.held.as_deref().ok_or(crate::Error::HeldDataWithoutHolds)?;
            held.check(self)?;
            seqs.retain(|s| held.records.contains_key(s));
        } else if let Some(deleted) = req.deleted.as_deref().filter(|d| !d.is_empty()) {
            deleted.check(self)?;
            seqs.retain(|s| !deleted.records.contains_key(s));
        }
        Ok(())
    }

    fn tally(&self, scope: &Scope, seqs: &[u64]) -> Result<Counts> {
        let mut per_account: BTreeMap<Account, u64> =
            self.queried_accounts(scope).into_iter().map(|a| (a, 0)).collect();
        // Hits of one account are mostly adjacent (ingest order): count runs, add each run once.
        let mut run: Option<(&Account, u64)> = None;
        for &seq in seqs {
            let Some((_, account)) = self.store().account_of(seq)? else { continue };
            match &mut run {
                Some((a, n)) if *a == account => *n += 1,
                _ => {
                    if let Some((a, n)) = run.replace((account, 1)) {
                        *per_account.entry(a.clone()).or_insert(0) += n;
                    }
                }
            }
        }
        if let Some((a, n)) = run {
            *per_account.entry(a.clone()).or_insert(0) += n;
        }
        Ok(Counts::from_per_account(per_account))
    }

    /// The accounts a scope covers: the listed ones, or those of the collection in the org unit
    /// (or the whole organisation) that hold data of the scope's corpus.
    pub fn queried_accounts(&self, scope: &Scope) -> Vec<Account> {
        let held = self.store().accounts().iter().filter(|((c, _), _)| *c == scope.corpus);
        let mut out: Vec<Account> = match &scope.method {
            Method::Accounts(list) => list.clone(),
            Method::OrgUnit(ou) => held
                .filter(|(_, s)| {
                    s.org_units.iter().any(|u| u.with_ancestors().iter().any(|a| a == ou.as_str()))
                })
                .map(|((_, a), _)| a.clone())
                .collect(),
            Method::EntireOrg => held.map(|((_, a), _)| a.clone()).collect(),
        };
        out.sort();
        out.dedup();
        out
    }
}

/// Run one search over several collections as one: each hit says which collection (by position
/// in `collections`) holds it; the order and the counts are those of a single search over all of
/// their records. The seam for searching a matter's collections, or splits on several machines,
/// together.
pub fn search_many(collections: &[&Collection], req: &SearchRequest) -> Result<SearchResult> {
    let mut all: Option<SearchResult> = None;
    for (i, c) in collections.iter().enumerate() {
        let part = c.search_as(req, u32::try_from(i).unwrap_or(u32::MAX))?;
        match &mut all {
            Some(a) => a.merge(part),
            None => all = Some(part),
        }
    }
    Ok(all.unwrap_or(SearchResult {
        hits: Vec::new(),
        counts: Counts::default(),
        bounds: (None, None),
        warnings: Vec::new(),
        hidden: None,
    }))
}

/// Parse and run in one call (the query text is only ever the query, never the scope).
pub fn search_text(c: &Collection, scope: Scope, text: &str, now: i64) -> Result<SearchResult> {
    let query = crate::query::parse(text).map_err(crate::Error::Parse)?;
    c.search(&SearchRequest::new(scope, query, now))
}

impl From<CompileError> for crate::Error {
    fn from(e: CompileError) -> Self {
        crate::Error::Search(e)
    }
}
