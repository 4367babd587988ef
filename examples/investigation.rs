//! End to end on the built-in sample organisation: generate it (mail, groups, chat, Drive and
//! Voice), ingest every custodian's every corpus, search each corpus with Vault queries and check
//! the "Project Falcon" counts per account against what the generator planted, export each corpus
//! as Vault does (one export folder per corpus), and verify every export.
//!
//! ```sh
//! cargo run --release --example investigation [-- OUT_DIR]   # default: ./investigation-output
//! ```
//!
//! Then governance: a matter with a hold on Alice's mail, a user deletion on each side of the
//! hold, a one-year retention rule for Erin applied, and the matter's `HELD_DATA` export: the
//! deleted-but-held message is exported, the unheld deleted one is purged.
//!
//! Exits non-zero if any number does not add up, so tests can run it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use ediscovery::export::request::{AccountInfo, VaultQuery};
use ediscovery::export::{self, ExportRequest, NoExportProgress};
use ediscovery::model::Corpus;
use ediscovery::query::Scope;
use ediscovery::search::search_text;
use ediscovery::{CollectionWriter, IngestOptions, NoProgress, sample};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("investigation: {e}");
            ExitCode::FAILURE
        }
    }
}

const CORPORA: [Corpus; 5] =
    [Corpus::Mail, Corpus::Groups, Corpus::Chat, Corpus::Drive, Corpus::Voice];

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("investigation-output"), PathBuf::from);
    let _ = std::fs::remove_dir_all(&out);
    let org = sample::generate(&out.join("sources"), 1)?;
    println!(
        "sample organisation: {} sources under {}",
        org.all_sources().count(),
        org.root.display()
    );
    for corpus in CORPORA {
        println!("  {:<7} {:>4} items", corpus.as_str(), org.items_of(corpus));
    }

    let coll_dir = out.join("collection");
    let mut writer = CollectionWriter::open(&coll_dir, 0)?;
    writer.set_members(
        "deals@example.org",
        ediscovery::ingest::members::read(&org.group_members, "deals@example.org")?,
    )?;
    println!(
        "\n{:<22} {:<8} {:<14} {:>5} {:>8} {:>8} {:>8}",
        "account", "corpus", "org unit", "seen", "ingested", "rejected", "defects"
    );
    for s in org.all_sources() {
        let mut opts = IngestOptions::new(s.account.clone());
        opts.corpus = s.corpus;
        opts.org_unit = s.org_unit.clone();
        let r = writer.ingest(&s.source, &opts, &mut NoProgress)?;
        println!(
            "{:<22} {:<8} {:<14} {:>5} {:>8} {:>8} {:>8}",
            s.account.as_str(),
            s.corpus.as_str(),
            s.org_unit.as_str(),
            r.seen,
            r.ingested,
            r.rejected.len(),
            r.defects.len()
        );
        if r.ingested as usize != s.messages || !r.is_clean() || !r.balances() {
            return Err(format!(
                "{} {}: expected {} clean records, report says {r:?}",
                s.account,
                s.corpus.as_str(),
                s.messages
            )
            .into());
        }
    }
    let coll = writer.finish()?;

    let st = coll.stats();
    println!(
        "\ncollection {}: {} records, {} bytes, {} distinct blobs",
        coll_dir.display(),
        st.records,
        st.bytes,
        st.blobs
    );

    // Each corpus is searched on its own, as in Vault, over the whole organisation; every
    // account's count must be what the generator planted in that account's source.
    let now = 1_700_000_000; // a fixed clock keeps the output reproducible
    let query = "\"project falcon\"";
    println!("\n{query} per corpus and account (found / planted):");
    for corpus in CORPORA {
        let r = search_text(&coll, Scope::entire_org(corpus), query, now)?;
        let planted: Vec<_> = org.all_sources().filter(|s| s.corpus == corpus).collect();
        let want: usize = planted.iter().map(|s| s.falcon).sum();
        println!(
            "  {:<7} {} in {} accounts (planted {want})",
            corpus.as_str(),
            r.counts.total,
            r.counts.matching_accounts
        );
        for s in &planted {
            let got = r.counts.per_account.get(&s.account).copied().unwrap_or(0);
            println!("    {:<22} {got} / {}", s.account.as_str(), s.falcon);
            if got != s.falcon as u64 {
                return Err(format!(
                    "{} {}: {got} Falcon items found, {} planted",
                    corpus.as_str(),
                    s.account,
                    s.falcon
                )
                .into());
            }
        }
        if r.counts.total != want as u64 {
            return Err(
                format!("{}: {} found, {want} planted", corpus.as_str(), r.counts.total).into()
            );
        }
    }
    let q = "falcon has:attachment filename:pdf -in:drafts";
    let with_att = search_text(&coll, Scope::entire_org(Corpus::Mail), q, now)?;
    println!(
        "\n{q}: {} messages in {} accounts",
        with_att.counts.total, with_att.counts.matching_accounts
    );
    for r in with_att.hits.iter().take(3) {
        let rec = coll.record(r)?;
        let m = rec.as_ref().and_then(|r| r.mail()).ok_or("not mail")?;
        let names: Vec<_> = m.attachments.iter().filter_map(|a| a.name.as_deref()).collect();
        println!(
            "  {}  {}  {:?}  {names:?}",
            r.doc_id,
            r.account,
            m.subject.as_deref().unwrap_or("")
        );
    }
    let starred = search_text(&coll, Scope::entire_org(Corpus::Mail), "is:starred", now)?;
    println!("is:starred (Maildir F flag, Takeout label): {}", starred.counts.total);
    // Export the matter, one export per corpus: mail of the Legal and Sales custodians, the
    // deals@ group, and every custodian's chat, Drive (Falcon files and the hostile titles) and
    // Voice.
    let everyone: Vec<&str> = org
        .other_sources
        .iter()
        .map(|s| s.account.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let exports = [
        (
            "Falcon-mail",
            "MAIL",
            vec!["alice@example.org", "bob@example.org", "carol@example.org"],
            "falcon OR \"term sheet\"",
        ),
        ("Falcon-groups", "GROUPS", vec!["deals@example.org"], "falcon OR \"term sheet\""),
        ("Falcon-chat", "HANGOUTS_CHAT", everyone.clone(), "\"project falcon\""),
        ("Falcon-drive", "DRIVE", everyone.clone(), "\"project falcon\" OR title:final"),
        ("Falcon-voice", "VOICE", everyone, "\"project falcon\""),
    ];
    let mut folders = Vec::new();
    for (name, corpus, accounts, terms) in exports {
        let req = ExportRequest {
            name: name.to_owned(),
            query: VaultQuery {
                corpus: corpus.to_owned(),
                search_method: "ACCOUNT".to_owned(),
                account_info: Some(AccountInfo {
                    emails: accounts.iter().map(|s| s.to_string()).collect(),
                }),
                terms: terms.to_owned(),
                time_zone: Some("America/New_York".to_owned()),
                ..VaultQuery::default()
            },
            export_options: Default::default(),
            ediscovery: Default::default(),
        };
        let plan = export::plan_search(&coll, &req, now, None)?;
        let outcome =
            export::run(&coll, &req, &plan, coll.store(), &out.join("exports"), &NoExportProgress)?;
        let dir = outcome.dir.clone();
        let s = &outcome.summary;
        println!(
            "\nexport {name} ({corpus}, {terms}): {} in scope, {} exported, {} failed, {} files in {}",
            s.totals.in_scope,
            s.totals.exported,
            s.totals.failed(),
            s.files.len() + 2,
            dir.display()
        );
        for f in &s.files {
            println!("  {:<34} {:>8} bytes  {}", f.name, f.size, f.md5);
        }
        let v = ediscovery::verify::verify(&dir)?;
        println!(
            "  verify: {} ({} messages checked)",
            if v.ok() { "OK" } else { "FAILED" },
            v.messages
        );
        if !v.ok() || s.totals.exported != s.totals.in_scope || s.totals.in_scope == 0 {
            return Err(format!("{name}: {:?}", v.problems).into());
        }
        folders.push(dir);
    }
    println!("\nexports, one folder per corpus:");
    for d in &folders {
        println!("  {}", d.display());
    }

    governance(&coll, &org, &out, now)?;

    let coll = ediscovery::Collection::open(&coll_dir)?;
    let first = coll.store().get(0)?.ok_or("no record 0")?;
    let bytes = coll.store().bytes(&first)?;
    println!(
        "\nfirst record {} is {} bytes, MD5 {} (verified: {})",
        first.doc_id,
        bytes.len(),
        first.blob().md5,
        ediscovery::digest::Md5::of(bytes) == first.blob().md5
    );
    Ok(())
}

/// The governance half: a matter, a hold, deletions, retention, and the matter's held export.
fn governance(
    coll: &ediscovery::Collection,
    org: &sample::SampleOrg,
    out: &std::path::Path,
    now: i64,
) -> Result<(), Box<dyn std::error::Error>> {
    use ediscovery::governance::{Governance, NewHold, NewRule};
    use ediscovery::model::Account;
    use ediscovery::query::DataScope;
    let dir = coll.store().dir().to_path_buf();
    let gov = Governance::open(&dir)?.with_clock(|| 1_700_000_000);
    let admin = Account::new(sample::SAMPLE_ADMIN)?;
    let (alice, erin) = (Account::new("alice@example.org")?, Account::new("erin@example.org")?);
    gov.run(|tx| {
        tx.import_org(&admin, &org.org_file, &std::fs::read(&org.org_file).unwrap_or_default())
    })?;
    let matter = gov.run(|tx| tx.create_matter(&admin, "Falcon", "acquisition leak"))?.matter_id;
    let hold = NewHold::accounts("alice-mail", Corpus::Mail, vec![alice.clone()]);
    gov.run(|tx| tx.create_hold(&admin, &matter, &hold))?;
    // Each deletes her oldest message: Alice's is held, Erin's is not.
    let oldest = |a: &Account| -> Result<ediscovery::model::Record, Box<dyn std::error::Error>> {
        let seqs = coll.store().seqs_of(Corpus::Mail, a)?;
        let first = seqs.first().ok_or("no mail")?;
        Ok(coll.store().get(*first)?.ok_or("no record")?)
    };
    let (kept, gone) = (oldest(&alice)?, oldest(&erin)?);
    gov.run(|tx| tx.delete_items(&alice, &dir, &[kept.doc_id]))?;
    gov.run(|tx| tx.delete_items(&erin, &dir, &[gone.doc_id]))?;
    let rule = NewRule {
        corpus: Some(Corpus::Mail),
        accounts: vec![erin.clone()],
        org_unit: None,
        terms: None,
        days: Some(365),
    };
    gov.run(|tx| tx.add_retention_rule(&admin, &rule))?;
    // Applied a few years on: Erin's mail is past its year; Alice's is held.
    let later = now + 3 * 365 * 86_400;
    let before = coll.stats().records;
    let applied = gov.run(|tx| tx.apply_retention(&admin, &dir, later, false))?;
    let after = ediscovery::Collection::open(&dir)?;
    let freed = applied.reclaimed.as_ref().map_or(0, |r| r.freed());
    println!(
        "\nmatter {} (Falcon): hold on {}; retention apply purged {} records ({} → {}), {} bytes of packs given back",
        matter.0,
        alice.as_str(),
        applied.purged,
        before,
        after.stats().records,
        freed
    );
    for (rule, per) in &applied.plan.per_rule {
        println!("  rule {rule}: {per:?}");
    }
    if before - after.stats().records != applied.purged
        || after.store().find(&gone.doc_id)?.is_some()
        || after.store().find(&kept.doc_id)?.is_none()
    {
        return Err("retention did not purge exactly what it reported".into());
    }
    // The matter's HELD_DATA export holds Alice's deleted message.
    let mut req = ExportRequest {
        name: "Falcon-held".to_owned(),
        query: VaultQuery {
            corpus: "MAIL".to_owned(),
            data_scope: Some("HELD_DATA".to_owned()),
            search_method: "ENTIRE_ORG".to_owned(),
            ..VaultQuery::default()
        },
        export_options: Default::default(),
        ediscovery: Default::default(),
    };
    req.ediscovery.threads = 0;
    let (export_id, held) = gov.run(|tx| tx.start_export(&admin, &matter, &after, &req))?;
    let mut sr = export::search_request(&req, now)?;
    sr.held = held;
    if sr.scope.data_scope != DataScope::Held {
        return Err("not a held export".into());
    }
    let result = after.search(&sr)?;
    let plan = export::plan(&after, &req, &result, None)?;
    let outcome =
        export::run(&after, &req, &plan, after.store(), &out.join("exports"), &NoExportProgress)?;
    gov.run(|tx| tx.finish_export(&admin, &matter, &export_id, Ok(&outcome)))?;
    let v = ediscovery::verify::verify(&outcome.dir)?;
    let has_kept = result.hits.iter().any(|h| h.doc_id == kept.doc_id);
    println!(
        "export Falcon-held (HELD_DATA): {} exported of {} held, Alice's deleted message {}, verify: {}",
        outcome.summary.totals.exported,
        result.counts.total,
        if has_kept { "included" } else { "MISSING" },
        if v.ok() { "OK" } else { "FAILED" }
    );
    let audit = ediscovery::governance::audit::verify(&dir)?;
    println!(
        "audit log: {} entries, chain {}",
        audit.entries,
        if audit.ok() { "intact" } else { "BROKEN" }
    );
    if !v.ok() || !has_kept || outcome.summary.totals.exported != result.counts.total || !audit.ok()
    {
        return Err(format!("held export: {:?}", v.problems).into());
    }
    Ok(())
}
