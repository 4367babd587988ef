//! Ingest + index throughput (messages/s and MB/s), release build, all cores.
//!
//! Uses the SpamAssassin corpus when present (`EDISCOVERY_CORPUS`, default `../corpus`; build
//! it with `../shared/corpus/fetch-spamassassin.sh DIR`), else the built-in sample organisation
//! at scale 20, and says which.
//!
//! ```sh
//! cargo bench --bench ingest
//! ```
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ediscovery::ingest::Source;
use ediscovery::model::Account;
use ediscovery::{CollectionWriter, IngestOptions, NoProgress, sample};
use std::path::PathBuf;
use std::time::Duration;

fn sources() -> (String, Vec<(Account, Source)>, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = std::env::var_os("EDISCOVERY_CORPUS")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus"), PathBuf::from);
    let mbox_dir = corpus.join("mbox");
    if mbox_dir.is_dir() {
        let mut v: Vec<_> = std::fs::read_dir(&mbox_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "mbox"))
            .collect();
        v.sort();
        let list = v
            .into_iter()
            .map(|p| {
                (Account::new(&p.file_stem().unwrap().to_string_lossy()).unwrap(), Source::Mbox(p))
            })
            .collect();
        return (format!("spamassassin corpus at {}", corpus.display()), list, tmp);
    }
    eprintln!(
        "corpus not found at {}: benchmarking the sample organisation (scale 20)",
        corpus.display()
    );
    let org = sample::generate(&tmp.path().join("sample"), 20).unwrap();
    let list = org.sources.into_iter().map(|s| (s.account, s.source)).collect();
    ("sample organisation, scale 20".to_owned(), list, tmp)
}

fn bench(c: &mut Criterion) {
    let (what, list, tmp) = sources();
    // One untimed pass to learn the totals.
    let probe = tmp.path().join("probe");
    let mut w = CollectionWriter::open(&probe, 0).unwrap();
    let (mut msgs, mut bytes) = (0u64, 0u64);
    for (a, s) in &list {
        let r = w.ingest(s, &IngestOptions::new(a.clone()), &mut NoProgress).unwrap();
        msgs += r.ingested;
        bytes += r.bytes;
    }
    drop(w.finish().unwrap());
    eprintln!("{what}: {msgs} messages, {bytes} bytes per iteration");

    let mut g = c.benchmark_group("ingest");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::ElementsAndBytes { elements: msgs, bytes });
    let mut n = 0;
    g.bench_function("mbox+index, all cores", |b| {
        b.iter(|| {
            n += 1;
            let dir = tmp.path().join(format!("c{n}"));
            let mut w = CollectionWriter::open(&dir, 0).unwrap();
            for (a, s) in &list {
                w.ingest(s, &IngestOptions::new(a.clone()), &mut NoProgress).unwrap();
            }
            drop(w.finish().unwrap());
            std::fs::remove_dir_all(&dir).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
