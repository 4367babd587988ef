//! One search over many splits, in process: splits whose manifest rules them out are not
//! fetched, the rest are searched as one ([`crate::search::search_many`]), so counts and hit
//! order are those of one collection holding every split's records.

use super::SplitError;
use super::manifest::SplitManifest;
use super::open::{Split, open_with, read_manifest, split_url_parts};
use super::remote::{Remote, StoreConfig};
use crate::model::{Account, DocId};
use crate::query::DataScope;
use crate::search::{Counts, SearchRequest, SearchResult, search_many};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// How a split search treats what the splits' collections had marked.
#[derive(Clone, Copy, Debug, Default)]
pub struct SplitSearchOptions {
    /// Also find items users deleted that the collection still kept at publish time (left out
    /// by default, as an all-data search of the collection leaves them out).
    pub include_deleted: bool,
}

/// What a split search found.
#[derive(Debug)]
pub struct SplitSearch {
    /// Hits and counts; a hit's `collection` is its split's position in `splits`.
    pub result: SearchResult,
    /// The splits searched (fetched and opened), in the order given.
    pub splits: Vec<Split>,
    /// URLs of the splits their manifests ruled out (not fetched).
    pub skipped: Vec<String>,
    /// The options it ran with (an export over its splits leaves out what it left out).
    pub options: SplitSearchOptions,
}

/// The split URLs `url` names: itself when it is a split's (`ROOT/splits/<id>`), else every
/// published split under it (those with a manifest), by id.
pub fn list_splits(url: &str, cfg: &StoreConfig) -> Result<Vec<String>, SplitError> {
    if split_url_parts(url).is_ok() {
        return Ok(vec![url.trim_end_matches('/').to_owned()]);
    }
    let remote = Remote::open_existing(url, cfg)?;
    let mut out = Vec::new();
    for id in remote.folders("splits")? {
        let is_id = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
        if is_id && remote.size(&format!("splits/{id}/manifest.json"))?.is_some() {
            out.push(format!("{}/splits/{id}", remote.url()));
        }
    }
    if out.is_empty() {
        return Err(SplitError::NoSplits { url: remote.url().to_owned() });
    }
    Ok(out)
}

/// Run `req` over the splits `urls` name (split URLs or roots, [`list_splits`]), fetching what
/// is searched into `cache_dir`. A split listed twice is searched once. `HELD_DATA` needs holds,
/// which splits do not carry: refused.
pub fn search(
    urls: &[String],
    cache_dir: &Path,
    cfg: &StoreConfig,
    req: &SearchRequest,
    opts: SplitSearchOptions,
) -> Result<SplitSearch, SplitError> {
    if req.scope.data_scope == DataScope::Held {
        return Err(crate::Error::HeldDataWithoutHolds.into());
    }
    let mut seen = HashSet::new();
    let mut all: Vec<(Remote, SplitManifest)> = Vec::new();
    for url in urls {
        for split_url in list_splits(url, cfg)? {
            let (root, id) = split_url_parts(&split_url)?;
            if !seen.insert(id.to_owned()) {
                continue;
            }
            let remote = Remote::open_existing(root, cfg)?;
            let m = read_manifest(&remote, id)?;
            all.push((remote, m));
        }
    }
    let (mut kept, mut ruled_out): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|(_, m)| m.may_match(&req.scope));
    // With nothing left to search, the first split is searched anyway (it finds nothing): the
    // query is still checked, and the bounds and warnings are those of a real search.
    if kept.is_empty() && !ruled_out.is_empty() {
        kept.push(ruled_out.remove(0));
    }
    let mut zeros: BTreeMap<Account, u64> = BTreeMap::new();
    let mut skipped = Vec::with_capacity(ruled_out.len());
    for (remote, m) in &ruled_out {
        zeros.extend(m.zero_counts(&req.scope));
        skipped.push(format!("{}/splits/{}", remote.url(), m.split_id));
    }
    let mut splits = Vec::with_capacity(kept.len());
    for (remote, m) in kept {
        splits.push(open_with(remote, m, cache_dir)?);
    }
    let mut one = req.clone();
    one.held = None;
    one.deleted = None;
    let collections: Vec<&crate::Collection> = splits.iter().map(Split::collection).collect();
    let mut result = search_many(&collections, &one)?;
    if !opts.include_deleted {
        leave_out_deleted(&mut result, &splits);
    }
    result.counts.merge(&Counts::from_per_account(zeros));
    Ok(SplitSearch { result, splits, skipped, options: opts })
}

/// Drop the hits of items each split's manifest lists as deleted, and count them out.
fn leave_out_deleted(result: &mut SearchResult, splits: &[Split]) {
    let deleted: Vec<HashSet<&DocId>> =
        splits.iter().map(|s| s.manifest().deleted.iter().collect()).collect();
    if deleted.iter().all(HashSet::is_empty) {
        return;
    }
    let mut per = std::mem::take(&mut result.counts.per_account);
    result.hits.retain(|h| {
        let gone = deleted.get(h.collection as usize).is_some_and(|d| d.contains(&h.doc_id));
        if gone && let Some(n) = per.get_mut(&h.account) {
            *n = n.saturating_sub(1);
        }
        !gone
    });
    result.counts = Counts::from_per_account(per);
}
