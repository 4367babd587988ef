//! The packing core: read, MD5-check, frame and zip every message, plus metadata and checksums,
//! for `store` and `deflate`, on the SpamAssassin corpus when present (else the sample
//! organisation at scale 20). `Throughput::ElementsAndBytes`: messages and message bytes.
//!
//! ```sh
//! cargo bench --bench export
//! ```
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ediscovery::export::request::{ExportOptions, Options, VaultQuery};
use ediscovery::export::{self, ExportRequest, NoExportProgress};
use ediscovery::format::zip::Compression;
use ediscovery::ingest::Source;
use ediscovery::model::Account;
use ediscovery::{CollectionWriter, IngestOptions, NoProgress, sample};
use std::path::PathBuf;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = std::env::var_os("EDISCOVERY_CORPUS")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus"), PathBuf::from);
    let mut w = CollectionWriter::open(&tmp.path().join("c"), 0).unwrap();
    if corpus.join("mbox").is_dir() {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(corpus.join("mbox")).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for p in files {
            let a = Account::new(&p.file_stem().unwrap().to_string_lossy()).unwrap();
            w.ingest(&Source::Mbox(p), &IngestOptions::new(a), &mut NoProgress).unwrap();
        }
    } else {
        eprintln!(
            "corpus not found at {}: using the sample organisation (scale 20)",
            corpus.display()
        );
        let org = sample::generate(&tmp.path().join("org"), 20).unwrap();
        for s in org.sources.iter().filter(|s| s.corpus == ediscovery::model::Corpus::Mail) {
            w.ingest(&s.source, &IngestOptions::new(s.account.clone()), &mut NoProgress).unwrap();
        }
    }
    let coll = w.finish().unwrap();
    let stats = coll.stats();
    let mut g = c.benchmark_group("export");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.throughput(Throughput::ElementsAndBytes { elements: stats.records, bytes: stats.bytes });
    let mut n = 0;
    for compression in [Compression::Store, Compression::Deflate] {
        let req = ExportRequest {
            name: "bench".into(),
            query: VaultQuery {
                corpus: "MAIL".into(),
                search_method: "ENTIRE_ORG".into(),
                ..VaultQuery::default()
            },
            export_options: ExportOptions::default(),
            ediscovery: Options { compression, ..Options::default() },
        };
        let plan = export::plan_search(&coll, &req, 0, None).unwrap();
        g.bench_function(format!("{compression:?}").to_lowercase(), |b| {
            b.iter(|| {
                n += 1;
                let out = tmp.path().join(format!("out{n}"));
                export::run(&coll, &req, &plan, coll.store(), &out, &NoExportProgress).unwrap();
                std::fs::remove_dir_all(&out).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
