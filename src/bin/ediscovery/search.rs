//! `ediscovery search`: a Vault query within a scope.

use crate::exit;
use crate::output::{self, CliResult};
use crate::scope::ScopeArgs;
use clap::Args;
use ediscovery::Collection;
use ediscovery::governance::{Governance, MatterId};
use ediscovery::model::{Account, Record, time};
use ediscovery::search::Hit;
use ediscovery::split::{self, Split};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
#[command(after_help = "\
Exit codes:
  0  done (also when nothing matched, and when stdout closes early, as with `| head`)
  1  error: a bad query (pointed at), a bad scope flag, an unreadable collection, an index out of
     step with the records (run `ediscovery reindex`), a search in a matter refused by a rule
     (named; the refusal is in the audit log)
  2  usage: wrong flags or arguments, or a query starting with `--` (a mistyped flag?)
  5  transient: with --splits, the object store failed or did not answer; the same search may
     pass again")]
pub struct SearchArgs {
    /// The collection folder.
    #[arg(long, required_unless_present = "splits", conflicts_with = "splits")]
    collection: Option<PathBuf>,
    /// Search published splits instead of a collection: comma-separated split URLs
    /// (ROOT/splits/<id>, as `split publish` prints) or roots (every split under ROOT/splits/).
    /// Splits whose manifest rules them out (accounts, corpus, dates) are not fetched; counts and
    /// hit order are those of one collection holding them all. Splits carry no holds: no
    /// --matter, no HELD_DATA.
    #[arg(long, value_delimiter = ',', conflicts_with = "matter")]
    splits: Vec<String>,
    /// Where fetched split files (record tables, indexes; never packs) are kept between runs
    /// (default: ediscovery-splits in the temporary folder). Each file is checked against its
    /// manifest's MD5 before use.
    #[arg(long, requires = "splits")]
    split_cache: Option<PathBuf>,
    #[command(flatten)]
    scope: ScopeArgs,
    /// Print per-account counts and a final `total<TAB>N` line instead of hits.
    #[arg(long)]
    count: bool,
    /// Print JSON: {"counts": {"total", "per_account", …}, "warnings": […], "hits": [{"doc_id",
    /// "account", "corpus", then the corpus's own fields}]}: mail and groups "rfc822_message_id",
    /// "date_sent", "subject"; chat "message_id", "space_id", "space_name", "space_type",
    /// "thread_id", "sender", "sender_name", "created", "participants", "deleted"; Drive
    /// "drive_id", "title", "owner", "creator", "mime_type", "created", "modified", "trashed",
    /// "shared_drive_id"; Voice "item_id", "type", "started", "owner_numbers",
    /// "participant_numbers", "duration_secs", "labels" (dates in UTC, RFC 3339). No "hits" with
    /// --count; "explain": {"query", "tree", "from", "until"} with --explain.
    #[arg(long)]
    json: bool,
    /// With --json over --splits: also "fetched_bytes" and "fetched_gets", the index and
    /// record-table bytes this search fetched from the store (whole files downloaded into the
    /// cache, and blocks read by ranges; packs are never read by a search) and the ranged GETs
    /// of blocks. Off by default so the output is the same as over one collection.
    #[arg(long, requires = "splits")]
    split_stats: bool,
    /// Print the parsed query, the effective UTC bounds and warnings first.
    #[arg(long)]
    explain: bool,
    /// "Now" for older_than:/newer_than:, epoch seconds (default: the clock).
    #[arg(long)]
    now: Option<i64>,
    /// Search in this matter (needs --as): only its owner and collaborators may, only while it
    /// is open, and the search is logged with its counts.
    #[arg(long, requires = "actor")]
    matter: Option<String>,
    /// The account searching (with --matter).
    #[arg(long = "as", value_name = "ACCOUNT", requires = "matter")]
    actor: Option<String>,
    /// Also find items users deleted that a hold or retention rule still keeps (left out by
    /// default, as their users no longer see them; a HELD_DATA search always finds held ones).
    #[arg(long)]
    include_deleted: bool,
    /// The Vault query (quote it in the shell). Empty: everything in scope. It may start with
    /// `-` (`-has:attachment`); after `--` nothing is read as a flag.
    #[arg(default_value = "", allow_hyphen_values = true)]
    query: String,
}

pub fn run(o: &mut dyn Write, a: SearchArgs) -> CliResult {
    if let Some(code) = output::flag_like(&a.query) {
        return Ok(code);
    }
    let scope = a.scope.spec().to_scope()?;
    let query = match ediscovery::query::parse(&a.query) {
        Ok(q) => q,
        Err(e) => {
            output::error(format_args!("bad query\n{}", e.pointed(&a.query)));
            return Ok(exit::code(exit::ERROR));
        }
    };
    let now = a.now.unwrap_or_else(time::now);
    let mut req = ediscovery::SearchRequest::new(scope.clone(), query.clone(), now);
    req.options = a.scope.options(scope.corpus)?;
    let (r, source) = match &a.collection {
        Some(dir) => {
            let coll = Collection::open(dir)?;
            // Items users deleted that a hold or rule still keeps are left out unless asked for.
            if !a.include_deleted {
                req.deleted = Some(std::sync::Arc::new(Governance::open(dir)?.deleted_set(&coll)?));
            }
            let r = match (&a.matter, &a.actor) {
                (Some(m), Some(who)) => {
                    let actor = Account::new(who).map_err(|e| format!("--as {who}: {e}"))?;
                    let g = Governance::open(dir)?;
                    g.run(|tx| tx.search(&actor, &MatterId::new(m), &coll, &req))?
                }
                // Counting decodes no record: hits are not needed.
                _ if a.count => coll.count_result(&req)?,
                _ => coll.search(&req)?,
            };
            (r, Source::One(Box::new(coll)))
        }
        None => {
            let cache = a
                .split_cache
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("ediscovery-splits"));
            let opts = split::SplitSearchOptions { include_deleted: a.include_deleted };
            let found =
                split::search(&a.splits, &cache, &split::StoreConfig::from_env(), &req, opts)?;
            (found.result, Source::Splits(found.splits))
        }
    };
    let explain = if a.explain {
        let zone = scope.zone()?;
        let show = |t: Option<i64>| {
            t.map_or("unbounded".to_owned(), |t| {
                format!(
                    "{} = {}",
                    time::iso_utc(t).unwrap_or_default(),
                    time::show_in(t, &zone).unwrap_or_default()
                )
            })
        };
        Some([
            ("query", query.to_string()),
            ("tree", format!("{query:?}")),
            ("from", show(r.bounds.0)),
            ("until", show(r.bounds.1)),
        ])
    } else {
        None
    };
    if a.json {
        let mut v = serde_json::json!({"counts": r.counts, "warnings": r.warnings});
        if !a.count {
            let mut hits = Vec::with_capacity(r.hits.len());
            for h in &r.hits {
                let rec = source.record(h)?;
                let mut hit = serde_json::json!({
                    "doc_id": h.doc_id.to_string(), "account": h.account, "corpus": h.corpus,
                });
                if let (Some(obj), Some(fields)) =
                    (hit.as_object_mut(), hit_fields(h, rec.as_ref()))
                {
                    obj.extend(fields);
                }
                hits.push(hit);
            }
            v["hits"] = serde_json::Value::Array(hits);
        }
        if let (true, Source::Splits(splits)) = (a.split_stats, &source) {
            // After the hits' records were read: what this search cost in index and record
            // table bytes fetched from the store (packs are never read by a search).
            v["fetched_bytes"] = splits.iter().map(Split::fetched_bytes).sum::<u64>().into();
            v["fetched_gets"] = splits.iter().map(Split::fetched_gets).sum::<u64>().into();
        }
        if let Some(lines) = explain {
            v["explain"] = lines
                .into_iter()
                .map(|(k, s)| (k.to_owned(), serde_json::Value::String(s)))
                .collect();
        }
        output::json(o, &v)?;
        return Ok(exit::code(exit::OK));
    }
    if let Some(lines) = explain {
        for (k, s) in lines {
            let note = if k == "until" { " (exclusive)" } else { "" };
            writeln!(o, "{k}\t{s}{note}")?;
        }
        for w in &r.warnings {
            writeln!(o, "warning\t{w}")?;
        }
    }
    if a.count {
        for (acct, n) in &r.counts.per_account {
            writeln!(o, "{acct}\t{n}")?;
        }
        writeln!(o, "total\t{}", r.counts.total)?;
    } else {
        for h in &r.hits {
            let rec = source.record(h)?;
            // Tabs and line breaks inside fields would break the columns: shown as spaces.
            let clean = |s: Option<String>| s.unwrap_or_default().replace(['\t', '\r', '\n'], " ");
            let (id, date, title) = rec.as_ref().map(columns).unwrap_or_default();
            writeln!(
                o,
                "{}\t{}\t{}\t{}\t{}",
                h.doc_id,
                h.account,
                clean(id),
                clean(date),
                clean(title)
            )?;
        }
    }
    Ok(exit::code(exit::OK))
}

/// The corpus's own fields of a JSON hit (see `--json`), each corpus shaped after its source
/// format rather than mail's: a chat message has a sender and a space, not a subject. A record
/// gone since the search (removed by a concurrent writer) keeps mail's keys, as null, for mail.
fn hit_fields(
    h: &ediscovery::search::Hit,
    rec: Option<&ediscovery::model::Record>,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    use ediscovery::model::{ConversationType, Corpus, Metadata};
    use serde_json::json;
    let iso = |t: Option<i64>| t.and_then(time::iso_utc);
    let v = match rec.map(|r| &r.meta) {
        Some(Metadata::Chat(c)) => json!({
            "message_id": c.message_id,
            "space_id": c.space_id,
            "space_name": c.space_name,
            "space_type": c.conversation.map(|t| match t {
                ConversationType::Space => "SPACE",
                ConversationType::GroupChat => "GROUP_CHAT",
                ConversationType::DirectMessage => "DIRECT_MESSAGE",
            }),
            "thread_id": c.thread_id,
            "sender": c.sender,
            "sender_name": c.sender_name,
            "created": iso(Some(c.created)),
            "participants": c.participants,
            "deleted": iso(c.deleted),
        }),
        Some(Metadata::Drive(d)) => json!({
            "drive_id": d.drive_id,
            "title": d.title,
            "owner": d.owner,
            "creator": d.creator,
            "mime_type": d.mime_type,
            "created": iso(d.created),
            "modified": iso(d.modified),
            "trashed": d.trashed,
            "shared_drive_id": d.shared_drive_id,
        }),
        Some(Metadata::Voice(v)) => json!({
            "item_id": v.item_id,
            "type": v.kind.as_str(),
            "started": iso(Some(v.started)),
            "owner_numbers": v.owner_numbers,
            "participant_numbers": v.participant_numbers,
            "duration_secs": v.duration_secs,
            "labels": v.labels,
        }),
        _ if matches!(h.corpus, Corpus::Mail | Corpus::Groups) => {
            let m = rec.and_then(|r| r.mail());
            json!({
                "rfc822_message_id": m.and_then(|m| m.message_id.clone()),
                "date_sent": m.and_then(|m| m.date_sent).and_then(time::iso_utc),
                "subject": m.and_then(|m| m.subject.clone()),
            })
        }
        _ => return None,
    };
    match v {
        serde_json::Value::Object(o) => Some(o),
        _ => None,
    }
}

/// A hit's id, date and title columns: mail's Message-ID, sent date and subject; a chat
/// message's id, time and space; a Drive file's id, modification and title; a Voice item's id,
/// start and kind.
fn columns(r: &ediscovery::model::Record) -> (Option<String>, Option<String>, Option<String>) {
    use ediscovery::model::Metadata;
    match &r.meta {
        Metadata::Mail(m) => {
            (m.message_id.clone(), m.date_sent.and_then(time::iso_utc), m.subject.clone())
        }
        Metadata::Chat(c) => (
            Some(c.message_id.clone()),
            time::iso_utc(c.created),
            Some(c.space_name.clone().unwrap_or_else(|| c.space_id.clone())),
        ),
        Metadata::Drive(d) => {
            (Some(d.drive_id.clone()), r.date().and_then(time::iso_utc), Some(d.title.clone()))
        }
        Metadata::Voice(v) => {
            (Some(v.item_id.clone()), time::iso_utc(v.started), Some(v.kind.as_str().to_owned()))
        }
        _ => (None, None, None),
    }
}

/// Where the hits' records are read from.
enum Source {
    /// One collection.
    One(Box<Collection>),
    /// Splits, by the position a hit's `collection` gives.
    Splits(Vec<Split>),
}

impl Source {
    fn record(&self, h: &Hit) -> Result<Option<Record>, ediscovery::Error> {
        match self {
            Source::One(c) => c.record(h),
            Source::Splits(s) => match s.get(h.collection as usize) {
                Some(split) => split.collection().record(h),
                None => Ok(None),
            },
        }
    }
}
