//! Where the runner finds a zip's records: in the plan, or, for a streaming plan (which holds
//! none, so that an export's memory does not grow with its size), by asking the collection for
//! the zip's account's hits again.
//!
//! The zip writers and the listing writer ask for the same accounts at about the same time, so
//! the last few accounts' hits are kept: each account is searched once when planned and, in the
//! common case, once more when written.

use super::ExportError;
use super::plan::{ExportPlan, ZipPlan};
use super::tables::Tables;
use crate::model::Account;
use crate::store::StoreError;
use crate::{Collection, SearchRequest};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

/// One account's hits as the run needs them: seqs, in hit order (a writer reads the rest from
/// each record's key row).
type AccountRecords = Arc<Vec<u64>>;

/// An account's records, found by the first writer that asks for them.
type Slot = Arc<Mutex<Option<AccountRecords>>>;

/// A zip's records (seqs) and, when the plan holds them, their stored sizes, in plan order: the
/// plan's lists, or a run of its account's found records (shared, not copied: a zip writer
/// holds its account's list while it writes, and a copy would double that).
pub enum ZipRecords<'z> {
    /// Held by the plan: seqs, and sizes (may be empty in a plan built by hand).
    Plan(&'z [u64], &'z [u64]),
    /// Found again: this run of the account's seqs (sizes are in the records' key rows).
    Found(AccountRecords, std::ops::Range<usize>),
}

impl ZipRecords<'_> {
    /// How many records.
    pub fn len(&self) -> usize {
        match self {
            ZipRecords::Plan(seqs, _) => seqs.len(),
            ZipRecords::Found(_, run) => run.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th record's seq and, when the plan holds it, stored size; `None` past the end.
    pub fn get(&self, i: usize) -> Option<(u64, Option<u64>)> {
        match self {
            ZipRecords::Plan(seqs, sizes) => Some((*seqs.get(i)?, sizes.get(i).copied())),
            ZipRecords::Found(all, run) => {
                Some((*all.get(run.start.checked_add(i).filter(|&k| k < run.end)?)?, None))
            }
        }
    }

    /// The seqs, in order.
    pub fn seqs(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).filter_map(|i| self.get(i).map(|(s, _)| s))
    }
}

/// The records of a plan's zips, held or found again.
pub struct PlanRecords<'a> {
    /// The collection a streaming plan was made on (`None` over several collections, whose
    /// plans hold their records).
    coll: Option<&'a Collection>,
    /// Where errors point.
    dir: &'a std::path::Path,
    search: Option<&'a SearchRequest>,
    /// The most recently asked-for accounts, newest last, each with its records once found
    /// and how many more asks are expected for it.
    recent: Mutex<VecDeque<(Account, Slot, usize)>>,
    keep: usize,
    /// Asks expected per account: two per zip (its writer and the listing writer). An account
    /// asked for that many times is let go at once instead of waiting to be the oldest.
    uses: BTreeMap<Account, usize>,
}

impl<'a> PlanRecords<'a> {
    /// The records of `plan`'s zips, from `coll` (the collection it was planned on). `keep`:
    /// how many accounts' hits to keep at once (the writers in flight, plus the listing's).
    pub fn new(
        tables: impl Into<Tables<'a>>,
        plan: &'a ExportPlan,
        keep: usize,
    ) -> PlanRecords<'a> {
        let tables: Tables<'a> = tables.into();
        let mut uses = BTreeMap::new();
        for z in plan.zips.iter().filter(|z| z.deferred.is_some()) {
            *uses.entry(z.account.clone()).or_insert(0) += 2;
        }
        PlanRecords {
            coll: tables.collection(),
            dir: tables.collection().map_or(std::path::Path::new("."), |c| c.store().dir()),
            search: plan.search.as_deref(),
            recent: Mutex::new(VecDeque::new()),
            keep: keep.max(1),
            uses,
        }
    }

    /// `z`'s records (seqs), in plan order, with their stored sizes when the plan holds them.
    pub fn of<'z>(&self, z: &'z ZipPlan) -> Result<ZipRecords<'z>, ExportError> {
        let Some(d) = z.deferred else {
            return Ok(ZipRecords::Plan(&z.records, &z.sizes));
        };
        let all = self.account(&z.account)?;
        let changed = || {
            ExportError::Store(StoreError::Corrupt {
                path: self.dir.to_path_buf(),
                reason: format!(
                    "the collection changed while exporting: account {} had {} hits when the \
                     export was planned and {} when {} was written; export again",
                    z.account,
                    d.of,
                    all.len(),
                    z.file
                ),
            })
        };
        if all.len() != d.of {
            return Err(changed());
        }
        let run = d.first..d.first.checked_add(d.count).ok_or_else(changed)?;
        if run.end > all.len() {
            return Err(changed());
        }
        Ok(ZipRecords::Found(all, run))
    }

    /// Every planned record's seq, in plan order, zip by zip.
    pub fn planned<'p>(
        &'p self,
        plan: &'p ExportPlan,
    ) -> impl Iterator<Item = Result<u64, ExportError>> + 'p {
        let mut zips = plan.zips.iter();
        let mut current: Option<(ZipRecords<'p>, usize)> = None;
        std::iter::from_fn(move || {
            loop {
                if let Some((recs, i)) = current.as_mut()
                    && let Some((seq, _)) = recs.get(*i)
                {
                    *i += 1;
                    return Some(Ok(seq));
                }
                current = None;
                let z = zips.next()?;
                match self.of(z) {
                    Ok(recs) => current = Some((recs, 0)),
                    Err(e) => {
                        zips = [].iter();
                        return Some(Err(e));
                    }
                }
            }
        })
    }

    fn account(&self, account: &Account) -> Result<AccountRecords, ExportError> {
        // The writers in flight and the listing writer ask for the same account at about the
        // same time: the first one finds it, the others wait for it (a search each would hold
        // several copies at once).
        let slot = {
            let mut recent = self.recent.lock().map_err(|_| self.poisoned())?;
            let at = match recent.iter().position(|(a, _, _)| a == account) {
                Some(at) => at,
                None => {
                    let uses = self.uses.get(account).copied().unwrap_or(1);
                    recent.push_back((account.clone(), Arc::new(Mutex::new(None)), uses));
                    while recent.len() > self.keep {
                        recent.pop_front();
                    }
                    recent.len() - 1
                }
            };
            let Some((_, slot, left)) = recent.get_mut(at) else {
                return Err(self.poisoned());
            };
            let slot = Arc::clone(slot);
            *left = left.saturating_sub(1);
            if *left == 0 {
                recent.remove(at);
            }
            slot
        };
        let mut found = slot.lock().map_err(|_| self.poisoned())?;
        if let Some(r) = found.as_ref() {
            return Ok(Arc::clone(r));
        }
        let search = self.search.ok_or_else(|| {
            ExportError::Store(StoreError::Corrupt {
                path: self.dir.to_path_buf(),
                reason: "a zip of the plan holds no records and the plan has no search to find \
                         them with"
                    .to_owned(),
            })
        })?;
        let coll = self.coll.ok_or_else(|| {
            ExportError::Store(StoreError::Corrupt {
                path: self.dir.to_path_buf(),
                reason: "a streaming plan's records can be found again only in the one \
                         collection it was planned on"
                    .to_owned(),
            })
        })?;
        let records =
            coll.account_records(search, account).map_err(|e| ExportError::Search(Box::new(e)))?;
        let records = Arc::new(records);
        *found = Some(Arc::clone(&records));
        Ok(records)
    }

    fn poisoned(&self) -> ExportError {
        ExportError::Io {
            path: self.dir.to_path_buf(),
            source: std::io::Error::other("a thread finding an account's records panicked"),
        }
    }
}
