//! Scoped search: every matching record in a deterministic order, and exact counts per account in
//! the shape of Vault's count response (total, per account, queried and matching accounts).

use crate::index::compile::{self, CompileError};
use crate::model::{Account, Record};
use crate::query::{Method, Query, Scope};
use crate::{Collection, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// A search: a parsed query within a scope, and the clock for relative dates.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    /// Where to look.
    pub scope: Scope,
    /// What to look for.
    pub query: Query,
    /// "Now" for `older_than:`/`newer_than:`, UTC seconds (injectable for tests and replays).
    pub now: i64,
}

/// Exact counts, shaped like Vault's `CountArtifactsResponse`.
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

/// What a search found.
#[derive(Debug)]
pub struct SearchResult<'c> {
    /// Every hit, ordered by account, then date (undated last), then collection order.
    pub hits: Vec<&'c Record>,
    /// Exact counts.
    pub counts: Counts,
    /// The effective UTC bounds of the scope.
    pub bounds: (Option<i64>, Option<i64>),
    /// Things worth telling.
    pub warnings: Vec<String>,
}

impl Collection {
    /// Run a search: every hit, ordered, and the counts.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResult<'_>> {
        let (mut hits, compiled) = self.matching(req)?;
        hits.sort_by(|a, b| {
            let date = |r: &Record| r.date();
            let (da, db) = (date(a), date(b));
            (&a.account, da.is_none(), da, a.seq).cmp(&(&b.account, db.is_none(), db, b.seq))
        });
        let counts = self.tally(&req.scope, &hits);
        Ok(SearchResult { hits, counts, bounds: compiled.bounds, warnings: compiled.warnings })
    }

    /// Only the counts (hits are not ordered): what `--count` and results-count files need.
    pub fn count(&self, req: &SearchRequest) -> Result<Counts> {
        let (hits, _) = self.matching(req)?;
        Ok(self.tally(&req.scope, &hits))
    }

    fn matching(&self, req: &SearchRequest) -> Result<(Vec<&Record>, compile::Compiled)> {
        let compiled = compile::compile(self.index(), &req.query, &req.scope, req.now)
            .map_err(crate::Error::Search)?;
        let limit = self.store().records().len() as u64;
        let seqs = self.index().search(&compiled, limit)?;
        Ok((seqs.into_iter().filter_map(|s| self.store().by_seq(s)).collect(), compiled))
    }

    fn tally(&self, scope: &Scope, hits: &[&Record]) -> Counts {
        let mut per_account: BTreeMap<Account, u64> =
            self.queried_accounts(scope).into_iter().map(|a| (a, 0)).collect();
        // Hits of one account are mostly adjacent (ingest order): count runs, add each run once.
        let mut run: Option<(&Account, u64)> = None;
        for r in hits {
            match &mut run {
                Some((a, n)) if *a == &r.account => *n += 1,
                _ => {
                    if let Some((a, n)) = run.replace((&r.account, 1)) {
                        *per_account.entry(a.clone()).or_insert(0) += n;
                    }
                }
            }
        }
        if let Some((a, n)) = run {
            *per_account.entry(a.clone()).or_insert(0) += n;
        }
        Counts {
            total: hits.len() as u64,
            queried_accounts: per_account.len() as u64,
            matching_accounts: per_account.values().filter(|&&n| n > 0).count() as u64,
            per_account,
        }
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

/// Parse and run in one call (the query text is only ever the query, never the scope).
pub fn search_text<'c>(
    c: &'c Collection,
    scope: Scope,
    text: &str,
    now: i64,
) -> Result<SearchResult<'c>> {
    let query = crate::query::parse(text).map_err(crate::Error::Parse)?;
    c.search(&SearchRequest { scope, query, now })
}

impl From<CompileError> for crate::Error {
    fn from(e: CompileError) -> Self {
        crate::Error::Search(e)
    }
}
