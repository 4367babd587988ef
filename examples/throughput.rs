//! Export throughput on a large corpus: ingest it once, then export everything with `store` and
//! with `deflate`, printing MB/s and messages/s for each (and verifying each export).
//!
//! ```sh
//! ../shared/corpus/fetch-spamassassin.sh ../corpus 31        # about 1 GB in ../corpus/scaled-k31
//! cargo run --release --example throughput -- ../corpus/scaled-k31/mbox [WORK_DIR] [THREADS]
//! ```
//! Without arguments it uses the sample organisation at scale 200 (about 60 MB), so it always runs.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use ediscovery::export::request::{ExportOptions, Options, VaultQuery};
use ediscovery::export::{self, ExportRequest, NoExportProgress};
use ediscovery::format::zip::Compression;
use ediscovery::ingest::Source;
use ediscovery::model::Account;
use ediscovery::{CollectionWriter, IngestOptions, NoProgress, sample};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("throughput: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let work = args.get(1).map_or_else(|| PathBuf::from("target/throughput"), PathBuf::from);
    let threads: usize = args.get(2).map_or(Ok(0), |t| t.parse())?;
    let _ = std::fs::remove_dir_all(&work);
    let sources: Vec<(Account, Source)> = match args.first() {
        Some(dir) => {
            let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "mbox"))
                .collect();
            v.sort();
            v.into_iter()
                .map(|p| {
                    Ok((
                        Account::new(&p.file_stem().unwrap_or_default().to_string_lossy())?,
                        Source::Mbox(p),
                    ))
                })
                .collect::<Result<_, Box<dyn std::error::Error>>>()?
        }
        None => {
            let org = sample::generate(&work.join("sample"), 200)?;
            org.sources
                .into_iter()
                .filter(|s| s.corpus == ediscovery::model::Corpus::Mail)
                .map(|s| (s.account, s.source))
                .collect()
        }
    };
    let t = Instant::now();
    let mut w = CollectionWriter::open(&work.join("collection"), threads)?;
    let mut accounts = Vec::new();
    for (a, s) in &sources {
        w.ingest(s, &IngestOptions::new(a.clone()), &mut NoProgress)?;
        accounts.push(a.to_string());
    }
    let coll = w.finish()?;
    let stats = coll.stats();
    println!(
        "ingested {} messages, {:.1} MB in {:.1} s",
        stats.records,
        stats.bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    for compression in [Compression::Store, Compression::Deflate] {
        let req = ExportRequest {
            name: format!("tp-{compression:?}").to_lowercase(),
            query: VaultQuery {
                corpus: "MAIL".into(),
                search_method: "ENTIRE_ORG".into(),
                ..VaultQuery::default()
            },
            export_options: ExportOptions::default(),
            ediscovery: Options { compression, threads, ..Options::default() },
        };
        let t = Instant::now();
        let plan = export::plan_search(&coll, &req, 0, None)?;
        let plan_secs = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let outcome = export::run(&coll, &req, &plan, coll.store(), &work, &NoExportProgress)?;
        let secs = t.elapsed().as_secs_f64();
        let out = outcome.dir.clone();
        let s = &outcome.summary;
        let written: u64 = std::fs::read_dir(&out)?
            .filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        println!(
            "{:<8} {} messages, {:.1} MB in {:.2} s: {:.1} MB/s, {:.0} messages/s ({} threads, {:.1} MB written; search + plan {:.2} s before)",
            format!("{compression:?}").to_lowercase(),
            s.totals.exported,
            s.exported_bytes as f64 / 1e6,
            secs,
            s.exported_bytes as f64 / 1e6 / secs,
            s.totals.exported as f64 / secs,
            s.threads,
            written as f64 / 1e6,
            plan_secs
        );
        let t = Instant::now();
        let v = ediscovery::verify::verify(&out)?;
        println!(
            "         verify: {} in {:.2} s",
            if v.ok() { "OK" } else { "FAILED" },
            t.elapsed().as_secs_f64()
        );
        if !v.ok() {
            return Err(format!(
                "verify found problems: {:?}",
                &v.problems[..v.problems.len().min(5)]
            )
            .into());
        }
    }
    Ok(())
}
