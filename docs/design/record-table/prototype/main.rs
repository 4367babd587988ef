mod api;
mod codec;
mod synth;
mod model;
mod own;
mod redb_table;

use api::Table;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

fn status() -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines().filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM") || l.starts_with("RssAnon") || l.starts_with("RssFile")).map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join(", ")
}

fn open_table(kind: &str, dir: &Path, writer: bool) -> Box<dyn Table> {
    match kind {
        "own" => Box::new(if writer { own::OwnTable::open_writer(dir) } else { own::OwnTable::open(dir) }.unwrap()),
        "redb" => {
            std::fs::create_dir_all(dir).unwrap();
            let cache = std::env::var("REDB_CACHE_MB").ok().map(|v| v.parse::<usize>().unwrap() << 20).unwrap_or(1 << 30);
            Box::new(redb_table::RedbTable::open(&dir.join("records.redb"), cache).unwrap())
        }
        _ => panic!("kind: own|redb"),
    }
}

fn du(dir: &Path) -> u64 {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().metadata().unwrap()).map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.blocks() * 512
    }).sum()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p) as usize]
}

const BIG: &str = "custodian.0000@dept0.example-corp.com";

/// Stateless generator for the crash test: the record of `seq` is a function of seq alone.
fn crash_rec(seq: u64) -> model::Record {
    synth::make(seq, (synth::mix(seq / 700) % synth::ACCOUNTS as u64) as usize)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a[1].as_str() {
        "codec" => codec_bench(a.get(2).map(|s| s.parse().unwrap()).unwrap_or(200_000)),
        "append" => {
            let (kind, dir, n, batch) = (&a[2], Path::new(&a[3]), a[4].parse::<u64>().unwrap(), a[5].parse::<u64>().unwrap());
            let mut t = open_table(kind, dir, true);
            let mut g = synth::Gen::new(42);
            let t0 = Instant::now();
            let mut gen_time = 0.0;
            let mut commit_time = 0.0;
            let mut done = 0;
            let mut buf = Vec::with_capacity(batch as usize);
            while done < n {
                let k = batch.min(n - done);
                let tg = Instant::now();
                buf.clear();
                for _ in 0..k {
                    buf.push(g.next_record());
                }
                gen_time += tg.elapsed().as_secs_f64();
                t.append(&buf).unwrap();
                let tc = Instant::now();
                t.commit().unwrap();
                commit_time += tc.elapsed().as_secs_f64();
                done += k;
                if done % 1_000_000 == 0 {
                    eprintln!("{done} {:.1}s", t0.elapsed().as_secs_f64());
                }
            }
            let el = t0.elapsed().as_secs_f64();
            println!("{kind} append {n} batch {batch}: total {el:.1}s, generator {gen_time:.1}s, commit() {commit_time:.1}s; table-only {:.0} rec/s, end-to-end {:.0} rec/s; disk {:.2} GiB; count {}; {}", n as f64 / (el - gen_time), n as f64 / el, du(dir) as f64 / (1u64 << 30) as f64, t.count(), status());
        }
        "open" => {
            let (kind, dir) = (&a[2], Path::new(&a[3]));
            let t0 = Instant::now();
            let t = open_table(kind, dir, false);
            let c = t.count();
            let el = t0.elapsed();
            println!("{kind} open+count: {:.2} ms, count {c}; after open: {}", el.as_secs_f64() * 1e3, status());
            let t1 = Instant::now();
            let s = t.account_summary(BIG).unwrap();
            println!("  summary of {BIG}: {} records, {} bytes, {} OUs in {:.1} µs", s.records, s.bytes, s.org_units.len(), t1.elapsed().as_secs_f64() * 1e6);
            if a.get(4).map(|s| s.as_str()) == Some("only") {
                return;
            }
            let n = t.next_seq();
            let mut r = synth::Rng(7);
            let mut lat = Vec::with_capacity(100_000);
            let tr = Instant::now();
            for _ in 0..100_000 {
                let s = r.below(n);
                let ti = Instant::now();
                let rec = t.by_seq(s).unwrap();
                lat.push(ti.elapsed().as_secs_f64() * 1e6);
                std::hint::black_box(rec);
            }
            let tot = tr.elapsed().as_secs_f64();
            let mean = lat.iter().sum::<f64>() / lat.len() as f64;
            println!("  100k random by_seq: total {:.2}s, mean {mean:.1} µs, p50 {:.1} µs, p99 {:.1} µs, max {:.0} µs; {}", tot, pct(&mut lat, 0.5), pct(&mut lat, 0.99), pct(&mut lat, 1.0), status());
            let ti = Instant::now();
            let mut last = None;
            let mut sorted = true;
            let k = t.for_each_seq_of_account(BIG, &mut |s| {
                if let Some(l) = last { if s <= l { sorted = false } }
                last = Some(s);
            }).unwrap();
            println!("  seqs_of_account(big): {k} seqs in {:.1} ms (in order: {sorted})", ti.elapsed().as_secs_f64() * 1e3);
            let seqs = t.seqs_of_account(BIG).unwrap();
            let ti = Instant::now();
            let mut bytes = 0u64;
            for &s in &seqs {
                let rec = t.by_seq(s).unwrap().unwrap();
                assert_eq!(rec.account.0, BIG);
                bytes += rec.blob.size;
            }
            println!("  read every record of big account: {} recs in {:.2}s ({:.1} µs/rec), bytes {bytes} (summary {}); {}", seqs.len(), ti.elapsed().as_secs_f64(), ti.elapsed().as_secs_f64() * 1e6 / seqs.len() as f64, s.bytes, status());
        }
        "tomb" => {
            let (kind, dir) = (&a[2], Path::new(&a[3]));
            let mut t = open_table(kind, dir, true);
            let before = du(dir);
            let n = t.next_seq();
            let c0 = t.count();
            let s0 = t.account_summary(BIG).unwrap();
            let mut r = synth::Rng(99);
            let t0 = Instant::now();
            let mut removed = 0;
            let mut big_removed = 0;
            while removed < n / 100 {
                let s = r.below(n);
                if let Some(rec) = t.by_seq(s).unwrap() {
                    if t.remove(s).unwrap() {
                        removed += 1;
                        if rec.account.0 == BIG { big_removed += 1; }
                    }
                }
            }
            let tr = t0.elapsed().as_secs_f64();
            let tc = Instant::now();
            t.commit().unwrap();
            let tc = tc.elapsed().as_secs_f64();
            assert_eq!(t.count(), c0 - removed);
            assert_eq!(t.account_summary(BIG).unwrap().records, s0.records - big_removed);
            assert_eq!(t.seqs_of_account(BIG).unwrap().len() as u64, s0.records - big_removed);
            let mid = du(dir);
            let tk = Instant::now();
            t.compact().unwrap();
            let tk = tk.elapsed().as_secs_f64();
            assert_eq!(t.count(), c0 - removed);
            assert_eq!(t.seqs_of_account(BIG).unwrap().len() as u64, s0.records - big_removed);
            println!("{kind} tombstone {removed} (1%): remove() calls {tr:.2}s, commit {tc:.2}s; compact {tk:.1}s; disk {:.2} -> {:.2} -> {:.2} GiB; count {}; {}", before as f64 / 1073741824.0, mid as f64 / 1073741824.0, du(dir) as f64 / 1073741824.0, t.count(), status());
        }
        "crash-child" => {
            let (kind, dir, batch) = (&a[2], Path::new(&a[3]), a[4].parse::<u64>().unwrap());
            let mut t = open_table(kind, dir, true);
            let out = std::io::stdout();
            let mut i = 0u64;
            loop {
                let s0 = t.next_seq();
                let recs: Vec<_> = (s0..s0 + batch).map(crash_rec).collect();
                t.append(&recs).unwrap();
                if i % 5 == 4 {
                    // remove every 50th record of the previous batches' range
                    let mut s = s0.saturating_sub(batch);
                    while s < s0 { let _ = t.remove(s).unwrap(); s += 50; }
                }
                t.commit().unwrap();
                writeln!(out.lock(), "committed {} next {}", t.count(), t.next_seq()).unwrap();
                if i % 20 == 19 {
                    t.compact().unwrap();
                    writeln!(out.lock(), "compacted {} next {}", t.count(), t.next_seq()).unwrap();
                }
                i += 1;
            }
        }
        "crash-verify" => {
            let (kind, dir) = (&a[2], Path::new(&a[3]));
            let t0 = Instant::now();
            let t = open_table(kind, dir, false);
            let open_ms = t0.elapsed().as_secs_f64() * 1e3;
            let n = t.next_seq();
            let mut live = 0;
            let mut per: std::collections::HashMap<String, u64> = Default::default();
            for s in 0..n {
                if let Some(r) = t.by_seq(s).unwrap() {
                    let mut e = crash_rec(s);
                    e.seq = s;
                    assert!(r == e, "record {s} differs");
                    live += 1;
                    *per.entry(r.account.0).or_default() += 1;
                }
            }
            assert_eq!(live, t.count(), "count vs live rows");
            for (acc, k) in &per {
                assert_eq!(t.account_summary(acc).unwrap().records, *k, "summary {acc}");
                assert_eq!(t.seqs_of_account(acc).unwrap().len() as u64, *k, "seqs {acc}");
            }
            println!("verified {kind}: count {} next {} ({} accounts) open {open_ms:.1} ms", t.count(), n, per.len());
        }
        _ => panic!("codec|append|open|tomb|crash-child|crash-verify"),
    }
}

fn codec_bench(n: usize) {
    let mut g = synth::Gen::new(1);
    let recs: Vec<_> = (0..n).map(|_| g.next_record()).collect();
    let jsons: Vec<Vec<u8>> = recs.iter().map(|r| serde_json::to_vec(r).unwrap()).collect();
    let bins: Vec<Vec<u8>> = recs.iter().map(|r| { let mut b = vec![]; codec::encode(r, &mut b); b }).collect();
    let avg = |v: &Vec<Vec<u8>>| v.iter().map(|x| x.len()).sum::<usize>() as f64 / v.len() as f64;
    let (mn, mx) = (bins.iter().map(|b| b.len()).min().unwrap(), bins.iter().map(|b| b.len()).max().unwrap());
    println!("{n} records: JSON avg {:.0} B, binary avg {:.0} B (min {mn}, max {mx})", avg(&jsons), avg(&bins));
    for (r, b) in recs.iter().zip(&bins).take(10_000) {
        assert_eq!(&codec::decode(b, r.seq).unwrap(), r);
    }
    for (r, j) in recs.iter().zip(&jsons).take(10_000) {
        assert_eq!(&serde_json::from_slice::<model::Record>(j).unwrap(), r);
    }
    for round in 0..3 {
        let t = Instant::now();
        for j in &jsons {
            std::hint::black_box(serde_json::from_slice::<model::Record>(j).unwrap());
        }
        let tj = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let t = Instant::now();
        for (i, b) in bins.iter().enumerate() {
            std::hint::black_box(codec::decode(b, i as u64).unwrap());
        }
        let tb = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let t = Instant::now();
        let mut out = Vec::with_capacity(1024);
        for r in &recs {
            out.clear();
            codec::encode(r, &mut out);
            std::hint::black_box(&out);
        }
        let te = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let t = Instant::now();
        for r in &recs {
            out.clear();
            serde_json::to_writer(&mut out, r).unwrap();
            std::hint::black_box(&out);
        }
        let tje = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        println!("round {round}: decode JSON {tj:.2} µs/rec, binary {tb:.2} µs/rec ({:.1}x); encode JSON {tje:.2}, binary {te:.2} µs/rec; 187,426 recs: JSON {:.0} ms, binary {:.0} ms", tj / tb, tj * 0.187426e3, tb * 0.187426e3);
    }
    // the JSONL loader as the crate does it: read a file, split lines, parse every line
    let mut file = Vec::new();
    for j in jsons.iter().take(187_426) { file.extend_from_slice(j); file.push(b'\n'); }
    let t = Instant::now();
    let v: Vec<model::Record> = file.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    println!("JSONL parse of {} records ({:.0} MB) into Vec<Record>: {:.0} ms", v.len(), file.len() as f64 / 1e6, t.elapsed().as_secs_f64() * 1e3);
    // The pitfall: serde non-self-describing formats vs the model's serde attributes
    let r = &recs[0];
    match postcard::to_allocvec(r) {
        Err(e) => println!("postcard encode of Record: ERR {e}"),
        Ok(b) => match postcard::from_bytes::<model::Record>(&b) {
            Ok(x) => println!("postcard round trip: {} B, equal {}", b.len(), &x == r),
            Err(e) => println!("postcard: encodes ({} B) but decode fails: {e}", b.len()),
        },
    }
}
