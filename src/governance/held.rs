//! What holds keep, and the searches and exports made in a matter.
//!
//! **Evaluation.** A record is held when any hold of any open matter covers it. A hold covers the
//! records its own search finds: the hold's corpus, its accounts (for an org-unit hold, the
//! organisation's accounts of the right kind in that unit or below *now*, so an account that
//! joined later is held, one that left is not), its UTC days, and its terms run by the
//! collection's own search. The query language is never re-implemented here: the terms mean
//! exactly what they mean in a search. The result is a [`HeldSet`] for the collection as it is,
//! which a `HELD_DATA` search is then limited to.

use super::hold::{Hold, held_kind};
use super::matter::{
    ExportFile, ExportRecord, ExportStats, ExportStatus, MatterAction, MatterId, MatterState,
    Requester,
};
use super::org::Org;
use super::state::Tx;
use super::{GovernanceError, new_id};
use crate::export::request::VaultQuery;
use crate::export::{ExportRequest, Outcome};
use crate::model::time::{self, CivilDay};
use crate::model::{Account, Record};
use crate::query::{CorpusOptions, DataScope, Query, Scope, VoiceData};
use crate::search::HeldSet;
use crate::{Collection, SearchRequest, SearchResult};
use serde_json::json;
use std::sync::Arc;

/// The records one hold keeps in a collection.
#[derive(Clone, Debug)]
pub struct HoldCoverage {
    /// The hold's matter.
    pub matter_id: MatterId,
    /// The hold.
    pub hold_id: String,
    /// What it keeps.
    pub held: HeldSet,
}

/// The search that finds what `hold` keeps — scope, query and the corpus options its query
/// names (Drive shared drives, Chat rooms, Voice covered data) — or `None` when it has no
/// account to hold (an org unit nobody is in, every account removed).
pub fn hold_search(
    hold: &Hold,
    org: Option<&Org>,
) -> Result<Option<(Scope, Query, CorpusOptions)>, GovernanceError> {
    let accounts: Vec<Account> = match &hold.org_unit {
        Some(ou) => {
            org.map(|o| o.under(&ou.org_unit_id, held_kind(hold.corpus))).unwrap_or_default()
        }
        None => hold.accounts.iter().map(|a| a.account_id.clone()).collect(),
    };
    if accounts.is_empty() {
        return Ok(None);
    }
    let day = |s: &Option<String>| -> Result<Option<CivilDay>, GovernanceError> {
        s.as_deref()
            .map(|d| {
                CivilDay::parse(d).ok_or_else(|| {
                    GovernanceError::Invalid(format!("hold {}: day {d:?}", hold.hold_id))
                })
            })
            .transpose()
    };
    let t = hold.query.terms();
    let scope = Scope {
        start: day(&t.and_then(|t| t.start_time.clone()))?,
        end: day(&t.and_then(|t| t.end_time.clone()))?,
        ..Scope::accounts(hold.corpus, accounts)
    };
    let terms = t.map_or("", |t| t.terms.as_str());
    let query = crate::query::parse(terms).map_err(|e| {
        GovernanceError::Invalid(format!("hold {} terms {terms:?}: {e}", hold.hold_id))
    })?;
    Ok(Some((scope, query, hold_options(&hold.query))))
}

/// The corpus options a hold's query names, as a search takes them. What a hold does not name
/// stays out: a Drive hold without `includeSharedDriveFiles` does not keep shared-drive files,
/// a Chat hold without `includeRooms` keeps direct messages only (Vault's hold semantics).
fn hold_options(q: &super::hold::CorpusQuery) -> CorpusOptions {
    use super::hold::{CorpusQuery, CoveredData};
    let mut o = CorpusOptions::default();
    match q {
        CorpusQuery::DriveQuery { include_shared_drive_files } => {
            o.include_shared_drives = *include_shared_drive_files;
        }
        CorpusQuery::HangoutsChatQuery { include_rooms } => o.include_rooms = *include_rooms,
        CorpusQuery::VoiceQuery { covered_data } => {
            o.voice_data = covered_data
                .iter()
                .map(|c| match c {
                    CoveredData::TextMessages => VoiceData::Texts,
                    CoveredData::Voicemails => VoiceData::Voicemails,
                    CoveredData::CallLogs => VoiceData::CallLogs,
                })
                .collect();
        }
        CorpusQuery::MailQuery(_) | CorpusQuery::GroupsQuery(_) => {}
    }
    o
}

fn searched(e: crate::Error) -> GovernanceError {
    GovernanceError::Search(Box::new(e))
}

impl Tx {
    /// What each hold of each open matter keeps in `coll`.
    pub fn coverage(&self, coll: &Collection) -> Result<Vec<HoldCoverage>, GovernanceError> {
        let mut out = Vec::new();
        for m in self.matters().filter(|m| m.matter.state == MatterState::Open) {
            for h in &m.holds {
                let mut held = HeldSet::new(coll);
                if let Some((scope, query, options)) = hold_search(h, self.org())? {
                    let mut req = SearchRequest::new(scope, query, self.now());
                    req.options = options;
                    let r = coll.search(&req).map_err(searched)?;
                    for hit in &r.hits {
                        held.insert(hit);
                    }
                }
                out.push(HoldCoverage {
                    matter_id: m.matter.matter_id.clone(),
                    hold_id: h.hold_id.clone(),
                    held,
                });
            }
        }
        Ok(out)
    }

    /// Every record of `coll` a hold of an open matter keeps.
    pub fn held_set(&self, coll: &Collection) -> Result<HeldSet, GovernanceError> {
        let mut all = HeldSet::new(coll);
        for c in self.coverage(coll)? {
            all.extend(&c.held).map_err(searched)?;
        }
        Ok(all)
    }

    /// The records of `coll` users deleted, or their sources marked deleted (Maildir `T`,
    /// Takeout Trash: labels `^DELETED`, `^TRASH`), that are still in it (a hold or a retention
    /// rule keeps them until a retention apply purges the rest): what an all-data search leaves
    /// out ([`SearchRequest::deleted`]). User deletions are found from the key rows, source
    /// deletions by a label search; no record is decoded.
    pub fn deleted_set(&self, coll: &Collection) -> Result<HeldSet, GovernanceError> {
        deleted_in(&self.state.deletions, coll)
    }

    /// Is `rec` (a record of `coll`) held by any hold of any open matter? For one record; for
    /// many, resolve [`held_set`](Self::held_set) once.
    pub fn is_held(&self, coll: &Collection, rec: &Record) -> Result<bool, GovernanceError> {
        Ok(self.held_set(coll)?.contains(rec.seq, &rec.doc_id))
    }

    /// Search in a matter: the actor must be a member of an open matter; a `HELD_DATA` scope is
    /// limited to what holds keep now. Logged with the query, scope and counts.
    pub fn search(
        &mut self,
        actor: &Account,
        id: &MatterId,
        coll: &Collection,
        req: &SearchRequest,
    ) -> Result<SearchResult, GovernanceError> {
        let terms = req.query.to_string();
        let params = json!({"query": VaultQuery::from_scope(&req.scope, &terms)});
        self.act(actor, "search", Some(id), params, |tx| {
            tx.allowed(actor, id, MatterAction::Search)?;
            let mut req = req.clone();
            if req.scope.data_scope == DataScope::Held {
                req.held = Some(Arc::new(tx.held_set(coll)?));
            }
            let r = coll.search(&req).map_err(searched)?;
            let outcome = json!({
                "total": r.counts.total, "perAccount": r.counts.per_account,
                "queriedAccounts": r.counts.queried_accounts,
                "matchingAccounts": r.counts.matching_accounts,
            });
            Ok((r, outcome))
        })
    }

    /// Start an export in a matter: check the actor may, record it (`IN_PROGRESS`) and return
    /// its id and, for a `HELD_DATA` request, the held set its search must use. Finish it with
    /// [`finish_export`](Self::finish_export) in a later transaction (the export itself runs
    /// outside any, so it holds no lock).
    pub fn start_export(
        &mut self,
        actor: &Account,
        id: &MatterId,
        coll: &Collection,
        req: &ExportRequest,
    ) -> Result<(String, Option<Arc<HeldSet>>), GovernanceError> {
        let params =
            json!({"name": req.name, "query": req.query, "exportOptions": req.export_options});
        self.act(actor, "export.start", Some(id), params, |tx| {
            tx.allowed(actor, id, MatterAction::Export)?;
            let scope = req.scope().map_err(|e| GovernanceError::Invalid(e.to_string()))?;
            let held = if scope.data_scope == DataScope::Held {
                let h = tx.held_set(coll)?;
                Some(Arc::new(h))
            } else {
                None
            };
            let export_id = new_id(tx, "export", &req.name);
            let rec = ExportRecord {
                id: export_id.clone(),
                matter_id: id.clone(),
                name: req.name.clone(),
                requester: Requester { email: actor.clone() },
                query: req.query.clone(),
                export_options: req.export_options.clone(),
                ediscovery: req.ediscovery.clone(),
                create_time: time::iso_utc(tx.now()).unwrap_or_default(),
                status: ExportStatus::InProgress,
                stats: ExportStats::default(),
                files: Vec::new(),
                dir: None,
                error: None,
            };
            tx.matter_file_mut(id)?.exports.push(rec);
            tx.touch();
            let outcome =
                json!({"exportId": export_id, "heldRecords": held.as_ref().map(|h| h.len())});
            Ok(((export_id, held), outcome))
        })
    }

    /// Record how an export started with [`start_export`](Self::start_export) ended: its
    /// numbers and files, or why it failed. Recorded whatever the actor's permissions are now:
    /// the export happened.
    pub fn finish_export(
        &mut self,
        actor: &Account,
        id: &MatterId,
        export_id: &str,
        result: Result<&Outcome, String>,
    ) -> Result<ExportRecord, GovernanceError> {
        self.act(actor, "export.finish", Some(id), json!({"exportId": export_id}), |tx| {
            let m = tx.matter_file_mut(id)?;
            let Some(rec) = m.exports.iter_mut().find(|e| e.id == export_id) else {
                return Err(GovernanceError::NotFound { what: "export", id: export_id.to_owned() });
            };
            if rec.status != ExportStatus::InProgress {
                return Err(GovernanceError::Invalid(format!(
                    "export {export_id} is finished already"
                )));
            }
            let outcome = match result {
                Ok(o) => {
                    let t = &o.summary.totals;
                    rec.status = ExportStatus::Completed;
                    rec.stats = ExportStats {
                        exported_artifact_count: t.exported,
                        total_artifact_count: t.in_scope,
                        failed_artifact_count: t.failed(),
                        size_in_bytes: o.summary.exported_bytes,
                    };
                    rec.files = o
                        .summary
                        .files
                        .iter()
                        .map(|f| ExportFile {
                            name: f.name.clone(),
                            size: f.size,
                            md5: f.md5.clone(),
                        })
                        .collect();
                    rec.dir = Some(o.dir.display().to_string());
                    json!({"stats": rec.stats, "dir": rec.dir, "files": rec.files.len()})
                }
                Err(e) => {
                    rec.status = ExportStatus::Failed;
                    rec.error = Some(e.clone());
                    json!({"exportStatus": "FAILED", "error": e})
                }
            };
            let out = rec.clone();
            tx.touch();
            Ok((out, outcome))
        })
    }
}

/// The live records of `coll` among `deletions`, as a set for its current generation.
fn deleted_in<V>(
    deletions: &std::collections::BTreeMap<crate::model::DocId, V>,
    coll: &Collection,
) -> Result<HeldSet, GovernanceError> {
    let mut set = HeldSet::new(coll);
    for corpus in [crate::model::Corpus::Mail, crate::model::Corpus::Groups] {
        let labels: Vec<String> =
            super::retention::DELETED_LABELS.iter().map(|l| format!("label:{l}")).collect();
        let scope = Scope::entire_org(corpus);
        let hits =
            crate::search::search_text(coll, scope, &labels.join(" OR "), 0).map_err(searched)?;
        for h in &hits.hits {
            set.insert(h);
        }
    }
    if deletions.is_empty() {
        return Ok(set);
    }
    let ids: std::collections::HashSet<crate::model::DocId> = deletions.keys().copied().collect();
    let seqs = coll.store().seqs_of_docs(&ids).map_err(|e| searched(crate::Error::Store(e)))?;
    for (id, seq) in seqs {
        set.insert_record(seq, id);
    }
    Ok(set)
}

impl super::Governance {
    /// [`Tx::deleted_set`] without a transaction: the committed state is read as it is (it is
    /// replaced by a rename, never written in place), no lock is taken and nothing is logged,
    /// so plain searches and exports can leave deleted items out. Without governance state,
    /// only what sources marked deleted.
    pub fn deleted_set(&self, coll: &Collection) -> Result<HeldSet, GovernanceError> {
        match super::state::load(&super::state::Paths::of(&self.collection))? {
            Some(state) => deleted_in(&state.deletions, coll),
            None => deleted_in(&std::collections::BTreeMap::<crate::model::DocId, ()>::new(), coll),
        }
    }
}
