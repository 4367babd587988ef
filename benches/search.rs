//! Parse + compile + count latency for field queries, on the SpamAssassin corpus (6,046 messages)
//! and on its 10× scaled copy (60,460), when present; else on the sample organisation at scale 20.
//!
//! ```sh
//! ../shared/corpus/fetch-spamassassin.sh ../corpus 10   # builds ../corpus and ../corpus/scaled-k10
//! cargo bench --bench search
//! ```
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use criterion::{Criterion, criterion_group, criterion_main};
use ediscovery::ingest::Source;
use ediscovery::model::{Account, Corpus};
use ediscovery::query::Scope;
use ediscovery::search::search_text;
use ediscovery::{Collection, CollectionWriter, IngestOptions, NoProgress, sample};
use std::path::{Path, PathBuf};

const QUERIES: &[&str] = &[
    "from:yahoo.com",
    "subject:razor",
    "rfc822msgid:<13258.1030015585@munnari.OZ.AU>",
    "has:attachment",
    "larger:10000",
    "after:2002/09/01 before:2002/10/01",
    "list:fork.xent.com -from:rssfeeds",
    "\"mortgage rates\" OR refinanc*",
    "",
];

fn build(mbox_dir: &Path, out: &Path) -> Collection {
    let mut w = CollectionWriter::open(out, 0).unwrap();
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(mbox_dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for p in files {
        let a = Account::new(&p.file_stem().unwrap().to_string_lossy()).unwrap();
        w.ingest(&Source::Mbox(p), &IngestOptions::new(a), &mut NoProgress).unwrap();
    }
    w.finish().unwrap()
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = std::env::var_os("EDISCOVERY_CORPUS")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus"), PathBuf::from);
    let mut sets: Vec<(String, Collection)> = Vec::new();
    if corpus.join("mbox").is_dir() {
        sets.push(("6k".into(), build(&corpus.join("mbox"), &tmp.path().join("6k"))));
        if corpus.join("scaled-k10/mbox").is_dir() {
            sets.push((
                "60k".into(),
                build(&corpus.join("scaled-k10/mbox"), &tmp.path().join("60k")),
            ));
        } else {
            eprintln!(
                "no scaled copy at {}: run fetch-spamassassin.sh {} 10",
                corpus.join("scaled-k10").display(),
                corpus.display()
            );
        }
    } else {
        eprintln!(
            "corpus not found at {}: benchmarking the sample organisation (scale 20)",
            corpus.display()
        );
        let org = sample::generate(&tmp.path().join("org"), 20).unwrap();
        let mut w = CollectionWriter::open(&tmp.path().join("sample"), 0).unwrap();
        for s in &org.sources {
            w.ingest(&s.source, &IngestOptions::new(s.account.clone()), &mut NoProgress).unwrap();
        }
        sets.push(("sample".into(), w.finish().unwrap()));
    }
    for (name, coll) in &sets {
        let mut g = c.benchmark_group(format!("search-{name}"));
        for q in QUERIES {
            let hits = search_text(coll, Scope::entire_org(Corpus::Mail), q, 1_700_000_000)
                .unwrap()
                .counts
                .total;
            eprintln!("{name}: {q:?} → {hits} hits");
            g.bench_function(if q.is_empty() { "(everything)" } else { q }, |b| {
                b.iter(|| {
                    let query = ediscovery::query::parse(q).unwrap();
                    let req = ediscovery::SearchRequest::new(
                        Scope::entire_org(Corpus::Mail),
                        query,
                        1_700_000_000,
                    );
                    coll.count(&req).unwrap().total
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
