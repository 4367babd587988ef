//! Deflating one mbox entry (issue 10.1): our zip writer on 1 and 2 threads against the `zip`
//! crate's writer (one stream, level 6) and `pigz -6` on 1 and 2 threads, all on the same bytes
//! held in memory (pigz reads them from a file in the page cache and writes to /dev/null).
//! Writers write to a sink; the export's MD5 of the output (~1/4 of the input here) is left out
//! on all sides. `Throughput::BytesDecimal`: MB/s of input.
//!
//! Input: the first `ZIP_BENCH_MB` (default 200) MB of the mbox files in
//! `$EDISCOVERY_CORPUS/scaled-k31/mbox`, else `$EDISCOVERY_CORPUS/mbox` (default corpus:
//! `../corpus`), else the sample organisation.
//!
//! ```sh
//! cargo bench --bench zip
//! ```
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ediscovery::format::zip::{
    Compression, DeflateOptions, DeflatePool, EntryOptions, ZipOptions, ZipOut, ZipWriter,
};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Writes of this size, about a batch of framed messages at a time.
const WRITE: usize = 256 * 1024;

fn input(limit: usize) -> (Vec<u8>, String) {
    let corpus = std::env::var_os("EDISCOVERY_CORPUS")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus"), PathBuf::from);
    for dir in [corpus.join("scaled-k31/mbox"), corpus.join("mbox")] {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        let mut files: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
        files.sort();
        let mut v = Vec::with_capacity(limit);
        for f in files {
            let mut r = std::fs::File::open(&f).unwrap().take((limit - v.len()) as u64);
            r.read_to_end(&mut v).unwrap();
            if v.len() >= limit {
                break;
            }
        }
        if !v.is_empty() {
            return (v, dir.display().to_string());
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let org = ediscovery::sample::generate(tmp.path(), 200).unwrap();
    let mut v = Vec::new();
    for s in &org.sources {
        if let ediscovery::ingest::Source::Mbox(p) | ediscovery::ingest::Source::Takeout(p) =
            &s.source
        {
            v.extend_from_slice(&std::fs::read(p).unwrap());
        }
    }
    v.truncate(limit);
    (v, "the sample organisation".to_owned())
}

fn ours(data: &[u8], pool: Option<&DeflatePool>) -> u64 {
    let opts = ZipOptions { deflate: DeflateOptions::default(), ..ZipOptions::default() };
    let counted = Counter(0);
    let mut z = match pool {
        None => ZipWriter::new(counted, opts).unwrap(),
        Some(p) => ZipWriter::with_pool(counted, opts, p).unwrap(),
    };
    let o = EntryOptions { compression: Compression::Deflate, mtime: None, large: true };
    let mut e = z.start_entry("a.mbox", o).unwrap();
    for w in data.chunks(WRITE) {
        e.write_all(w).unwrap();
    }
    e.finish().unwrap();
    z.finish().unwrap().0
}

fn zip_crate(data: &[u8]) -> u64 {
    let mut z = ZipOut::new(Counter(0));
    z.start("a.mbox", Compression::Deflate, None, true).unwrap();
    for w in data.chunks(WRITE) {
        z.write_all(w).unwrap();
    }
    z.finish().unwrap().0
}

fn pigz(file: &Path, threads: u32) -> u64 {
    let out = Command::new("pigz")
        .args(["-c", "-6", "-p", &threads.to_string()])
        .arg(file)
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout.len() as u64
}

/// A sink that counts.
struct Counter(u64);
impl Write for Counter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let mb: usize = std::env::var("ZIP_BENCH_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let (data, from) = input(mb * 1_000_000);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("input.mbox");
    std::fs::write(&file, &data).unwrap();
    let pool2 = DeflatePool::new(2).unwrap();
    let has_pigz = Command::new("pigz").arg("--version").output().is_ok();
    // Sizes once, so the figures come with their ratios.
    let n = data.len() as f64;
    eprintln!("input: {} bytes from {from}", data.len());
    eprintln!("ratio ours (1 MiB chunks, primed): {:.4}", ours(&data, None) as f64 / n);
    eprintln!("ratio zip crate (one stream): {:.4}", zip_crate(&data) as f64 / n);
    if has_pigz {
        eprintln!("ratio pigz -6 (gzip framing): {:.4}", pigz(&file, 2) as f64 / n);
    }

    let mut g = c.benchmark_group("zip_deflate_entry");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::BytesDecimal(data.len() as u64));
    g.bench_function("ours_1_thread", |b| b.iter(|| ours(&data, None)));
    g.bench_function("ours_2_threads", |b| b.iter(|| ours(&data, Some(&pool2))));
    g.bench_function("zip_crate_level6", |b| b.iter(|| zip_crate(&data)));
    if has_pigz {
        g.bench_function("pigz_p1_6", |b| b.iter(|| pigz(&file, 1)));
        g.bench_function("pigz_p2_6", |b| b.iter(|| pigz(&file, 2)));
    } else {
        eprintln!("pigz not installed: its rows are skipped");
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
