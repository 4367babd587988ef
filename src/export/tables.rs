//! The record tables an export reads: one collection's, or several collections' (published
//! splits, a matter's collections) seen as one.
//!
//! An export plan names records by `seq`. Over several collections each one's seqs are shifted
//! past the rows of the collections before it (`global = start[i] + local`), so a plan stays a
//! list of numbers, every record has one name, and the runner finds the table that holds it by
//! one comparison per collection boundary. A record decoded through [`Tables::get`] carries its
//! global seq, so whatever the runner passes on (a [`super::Wanted`], a failure row) names it
//! the same way. Over one collection the starts are `[0]` and every call goes straight to its
//! store: the single-collection export reads, allocates and locks nothing more than before.

use crate::Collection;
use crate::model::{Account, Corpus, DocId, GroupMember, Record};
use crate::store::{Key, Store, StoreError};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// The record tables of the collections an export reads, in search order (a hit's
/// `collection` is its position here).
#[derive(Clone)]
pub struct Tables<'a> {
    stores: Vec<&'a Store>,
    /// The global seq of each store's seq 0: the rows of the stores before it.
    starts: Vec<u64>,
    /// Per collection, the DocIds its search left out as deleted, which a plan must not bring
    /// back (as Chat context); empty unless [`hiding`](Self::hiding) set them.
    hidden: Arc<Vec<HashSet<DocId>>>,
}

impl<'a> Tables<'a> {
    /// The tables of `collections`, in that order (a hit's `collection` is its index).
    pub fn of(collections: &[&'a Collection]) -> Tables<'a> {
        Tables::of_stores(collections.iter().map(|c| c.store()))
    }

    /// The tables of `stores`, in that order.
    pub fn of_stores(stores: impl IntoIterator<Item = &'a Store>) -> Tables<'a> {
        let stores: Vec<&Store> = stores.into_iter().collect();
        let mut starts = Vec::with_capacity(stores.len());
        let mut next = 0u64;
        for s in &stores {
            starts.push(next);
            next = next.saturating_add(s.rows());
        }
        Tables { stores, starts, hidden: Arc::default() }
    }

    /// The same tables, with the DocIds each collection's search left out as deleted (in the
    /// collections' order): [`is_hidden`](Self::is_hidden) names them.
    pub fn hiding(mut self, per_collection: Vec<HashSet<DocId>>) -> Tables<'a> {
        self.hidden = Arc::new(per_collection);
        self
    }

    /// Did the search leave record `seq` (global) with this DocId out as deleted?
    pub fn is_hidden(&self, seq: u64, doc_id: &DocId) -> bool {
        if self.hidden.is_empty() {
            return false;
        }
        self.locate(seq).and_then(|(i, _)| self.hidden.get(i)).is_some_and(|h| h.contains(doc_id))
    }

    /// How many collections.
    pub fn len(&self) -> usize {
        self.stores.len()
    }

    /// True with no collection at all.
    pub fn is_empty(&self) -> bool {
        self.stores.is_empty()
    }

    /// The record tables, in order.
    pub fn stores(&self) -> &[&'a Store] {
        &self.stores
    }

    /// The global seq of record `seq` of collection `collection`; `None` when there is no such
    /// collection or the seq is past its rows.
    pub fn global(&self, collection: u32, seq: u64) -> Option<u64> {
        let i = usize::try_from(collection).ok()?;
        let store = self.stores.get(i)?;
        (seq < store.rows()).then(|| self.starts.get(i).map(|s| s + seq)).flatten()
    }

    /// Which collection holds the global `seq`, and its seq there.
    pub fn locate(&self, seq: u64) -> Option<(usize, u64)> {
        if self.stores.len() == 1 {
            return Some((0, seq));
        }
        // The last store starting at or before `seq`.
        let i = self.starts.partition_point(|&s| s <= seq).checked_sub(1)?;
        Some((i, seq - self.starts.get(i)?))
    }

    fn at(&self, seq: u64) -> Option<(&'a Store, u64)> {
        let (i, local) = self.locate(seq)?;
        self.stores.get(i).map(|s| (*s, local))
    }

    /// The first store (for messages about the export as a whole).
    fn first(&self) -> Option<&'a Store> {
        self.stores.first().copied()
    }

    /// Record `seq`, decoded, carrying its global seq; `None` when no table holds it.
    pub fn get(&self, seq: u64) -> Result<Option<Record>, StoreError> {
        let Some((store, local)) = self.at(seq) else { return Ok(None) };
        let mut rec = store.get(local)?;
        if let Some(r) = rec.as_mut() {
            r.seq = seq;
        }
        Ok(rec)
    }

    /// The key row of record `seq` ([`Store::key`]); `None` when no table holds it.
    pub fn key(&self, seq: u64) -> Result<Option<(Corpus, &'a Account, Key)>, StoreError> {
        match self.at(seq) {
            Some((store, local)) => store.key(local),
            None => Ok(None),
        }
    }

    /// The global seqs of `account`'s records in `corpus`, ascending.
    pub fn seqs_of(&self, corpus: Corpus, account: &Account) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for (s, start) in self.stores.iter().zip(&self.starts) {
            out.extend(s.seqs_of(corpus, account)?.into_iter().map(|q| start + q));
        }
        Ok(out)
    }

    /// The record with this DocId (a slow scan, as [`Store::find`]), carrying its global seq.
    pub fn find(&self, doc_id: &DocId) -> Result<Option<Record>, StoreError> {
        for (s, start) in self.stores.iter().zip(&self.starts) {
            if let Some(mut r) = s.find(doc_id)? {
                r.seq += start;
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// Group memberships of every collection, by group address. A group whose members two
    /// collections both recorded gets the first one's list (a group's mail, and so its member
    /// list, is ingested into one collection).
    pub fn members(&self) -> Result<BTreeMap<String, Vec<GroupMember>>, StoreError> {
        let mut all = BTreeMap::new();
        for s in &self.stores {
            for (group, members) in s.members()? {
                all.entry(group).or_insert(members);
            }
        }
        Ok(all)
    }

    /// The folder of each collection.
    pub fn dirs(&self) -> impl Iterator<Item = &'a Path> + '_ {
        self.stores.iter().map(|s| s.dir())
    }

    /// The folder of the collection holding `seq`, or of the first one.
    pub fn dir_of(&self, seq: u64) -> &'a Path {
        match self.at(seq).map(|(s, _)| s).or_else(|| self.first()) {
            Some(s) => s.dir(),
            None => Path::new("."),
        }
    }
}

impl std::fmt::Debug for Tables<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.dirs().zip(&self.starts)).finish()
    }
}

impl<'a> From<&'a Collection> for Tables<'a> {
    fn from(c: &'a Collection) -> Tables<'a> {
        Tables::of_stores([c.store()])
    }
}

impl<'a> From<&[&'a Collection]> for Tables<'a> {
    fn from(c: &[&'a Collection]) -> Tables<'a> {
        Tables::of(c)
    }
}

impl<'a, const N: usize> From<&[&'a Collection; N]> for Tables<'a> {
    fn from(c: &[&'a Collection; N]) -> Tables<'a> {
        Tables::of(c)
    }
}
