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
    /// Run a search.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResult<'_>> {
        let compiled = compile::compile(self.index(), &req.query, &req.scope, req.now)
            .map_err(crate::Error::Search)?;
        let limit = self.store().records().len() as u64;
        let seqs = self.index().search(&compiled, limit)?;
        let mut hits: Vec<&Record> =
            seqs.into_iter().filter_map(|s| self.store().by_seq(s)).collect();
        hits.sort_by_key(|r| {
            let date = r.mail().and_then(|m| m.date_sent.or(m.date_received));
            (r.account.clone(), date.is_none(), date, r.seq)
        });
        let mut per_account: BTreeMap<Account, u64> =
            self.queried_accounts(&req.scope).into_iter().map(|a| (a, 0)).collect();
        for r in &hits {
            *per_account.entry(r.account.clone()).or_insert(0) += 1;
        }
        let counts = Counts {
            total: hits.len() as u64,
            queried_accounts: per_account.len() as u64,
            matching_accounts: per_account.values().filter(|&&n| n > 0).count() as u64,
            per_account,
        };
        Ok(SearchResult { hits, counts, bounds: compiled.bounds, warnings: compiled.warnings })
    }

    /// The accounts a scope covers: the listed ones, or those of the collection in the org unit
    /// (or the whole organisation) that hold data of the scope's corpus.
    pub fn queried_accounts(&self, scope: &Scope) -> Vec<Account> {
        let mut out: Vec<Account> = match &scope.method {
            Method::Accounts(list) => list.clone(),
            Method::OrgUnit(ou) => self
                .store()
                .records()
                .iter()
                .filter(|r| {
                    r.corpus == scope.corpus
                        && r.org_unit.with_ancestors().iter().any(|a| a == ou.as_str())
                })
                .map(|r| r.account.clone())
                .collect(),
            Method::EntireOrg => self
                .store()
                .records()
                .iter()
                .filter(|r| r.corpus == scope.corpus)
                .map(|r| r.account.clone())
                .collect(),
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
