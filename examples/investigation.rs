//! End to end on the built-in sample organisation: generate it, ingest every custodian, search it
//! with Vault queries, export the matter's mail and group mail as Vault does, and verify the
//! exports.
//!
//! ```sh
//! cargo run --release --example investigation [-- OUT_DIR]   # default: target/investigation
//! ```
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

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/investigation"), PathBuf::from);
    let _ = std::fs::remove_dir_all(&out);
    let org = sample::generate(&out.join("sources"), 1)?;
    println!(
        "sample organisation: {} sources, {} messages under {}",
        org.sources.len(),
        org.total_messages(),
        org.root.display()
    );

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
    for s in &org.sources {
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
                "{}: expected {} clean records, report says {r:?}",
                s.account, s.messages
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

    // Mail and group mail are separate corpora, as in Vault: search each, the whole organisation.
    let now = 1_700_000_000; // a fixed clock keeps the output reproducible
    let query = "\"project falcon\"";
    let mut falcon = std::collections::BTreeMap::new();
    for corpus in [Corpus::Mail, Corpus::Groups] {
        let r = search_text(&coll, Scope::entire_org(corpus), query, now)?;
        falcon.extend(r.counts.per_account);
    }
    println!("\n{query} (subject, body, names, attachment names), per account:");
    for (a, n) in &falcon {
        println!("  {:<22} {n}", a.as_str());
    }
    for s in &org.sources {
        let got = falcon.get(&s.account).copied().unwrap_or(0);
        if got != s.falcon as u64 {
            return Err(format!(
                "{}: {got} Falcon messages found, {} planted",
                s.account, s.falcon
            )
            .into());
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
    // Export the matter: mail of the Legal and Sales custodians, and the deals@ group.
    for (name, corpus, accounts) in [
        ("Falcon-mail", "MAIL", vec!["alice@example.org", "bob@example.org", "carol@example.org"]),
        ("Falcon-groups", "GROUPS", vec!["deals@example.org"]),
    ] {
        let req = ExportRequest {
            name: name.to_owned(),
            query: VaultQuery {
                corpus: corpus.to_owned(),
                search_method: "ACCOUNT".to_owned(),
                account_info: Some(AccountInfo {
                    emails: accounts.iter().map(|s| s.to_string()).collect(),
                }),
                terms: "falcon OR \"term sheet\"".to_owned(),
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
            "\nexport {name}: {} in scope, {} exported, {} failed, {} files in {}",
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
    }

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
