//! Open + count (and optionally full search) timings and memory of one collection, for the
//! 10-million-record figures in `BENCHMARKS.md`.
//!
//! ```sh
//! cargo build --release --example scale_probe
//! target/release/examples/scale_probe COLLECTION [--runs 9] [--cold] [--search]
//!     [--account ADDR] [--] QUERY...
//! target/release/examples/scale_probe COLLECTION --writer      # writer open: time and memory
//! ```
//!
//! Prints one JSON line per measure:
//! - `open`: the first `Collection::open` of this process and its memory right after
//!   (`/proc/self/status`: VmRSS = RssAnon + RssFile + RssShmem; RssFile counts the pages of the
//!   memory-mapped record table and index files this process touched, which the kernel can drop
//!   at any time; RssAnon is what the process owns).
//! - `count`: per query (entire organisation, and within `--account` when given), `--runs` times
//!   open + `count_result` (what `search --count` runs), in this process: median, min, max.
//! - `search` (with `--search`): open + the ordered hits, as `search` without `--count`.
//! - `writer` (with `--writer`, instead of the above): `Store::open` + `Store::writer` (the lookups a
//!   writer builds), then dropped without committing.
//!
//! `--cold` evicts every file of the collection from the page cache before each run
//! (`dd iflag=nocache count=0` per file; no root needed, unlike `drop_caches`), so the run reads
//! from disk; without it runs after the first are warm.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use ediscovery::model::{Account, Corpus};
use ediscovery::query::Scope;
use ediscovery::store::Store;
use ediscovery::{Collection, SearchRequest};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scale_probe: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error>;

/// Fields of `/proc/self/status`, in kB.
fn memory() -> serde_json::Value {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mut m = serde_json::Map::new();
    for key in ["VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"] {
        let v = s
            .lines()
            .find(|l| l.starts_with(&format!("{key}:")))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok());
        m.insert(format!("{key}_kb"), v.into());
    }
    m.into()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Drop every file under `dir` from the page cache.
fn evict(dir: &Path) -> Result<(), BoxError> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let t = e.file_type()?;
        if t.is_dir() {
            evict(&e.path())?;
        } else if t.is_file() {
            let st = Command::new("dd")
                .arg(format!("if={}", e.path().display()))
                .args(["iflag=nocache", "count=0", "status=none"])
                .status()?;
            if !st.success() {
                return Err(format!("dd could not evict {}", e.path().display()).into());
            }
        }
    }
    Ok(())
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn stats(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    let median = v.get(v.len() / 2).copied().unwrap_or(0.0);
    serde_json::json!({
        "median_ms": median,
        "min_ms": v.first().copied().unwrap_or(0.0),
        "max_ms": v.last().copied().unwrap_or(0.0),
        "runs": v.len(),
    })
}

struct Args {
    dir: PathBuf,
    runs: usize,
    cold: bool,
    search: bool,
    writer: bool,
    account: Option<Account>,
    queries: Vec<String>,
}

fn args() -> Result<Args, BoxError> {
    let mut it = std::env::args().skip(1);
    let usage = "usage: scale_probe COLLECTION [--runs N] [--cold] [--search] [--writer] \
                 [--account ADDR] [--] QUERY...";
    let mut a = Args {
        dir: PathBuf::from(it.next().ok_or(usage)?),
        runs: 9,
        cold: false,
        search: false,
        writer: false,
        account: None,
        queries: Vec::new(),
    };
    let mut flags = true;
    while let Some(x) = it.next() {
        match x.as_str() {
            "--runs" if flags => a.runs = it.next().ok_or(usage)?.parse()?,
            "--cold" if flags => a.cold = true,
            "--search" if flags => a.search = true,
            "--writer" if flags => a.writer = true,
            "--account" if flags => a.account = Some(Account::new(&it.next().ok_or(usage)?)?),
            "--" if flags => flags = false,
            _ => a.queries.push(x),
        }
    }
    Ok(a)
}

fn run() -> Result<(), BoxError> {
    let a = args()?;
    let load = loadavg();
    if a.writer {
        if a.cold {
            evict(&a.dir)?;
        }
        let t = Instant::now();
        let w = Store::open(&a.dir)?.writer()?;
        let open_ms = ms(t);
        let line = serde_json::json!({
            "what": "writer", "ms": open_ms, "records": w.store().len(), "cold": a.cold,
            "memory": memory(), "load": load,
        });
        println!("{line}");
        return Ok(());
    }
    if a.cold {
        evict(&a.dir)?;
    }
    let t = Instant::now();
    let c = Collection::open(&a.dir)?;
    let open_ms = ms(t);
    let line = serde_json::json!({
        "what": "open", "ms": open_ms, "records": c.store().len(), "cold": a.cold,
        "memory": memory(), "load": load,
    });
    println!("{line}");
    drop(c);
    // Where open's time goes: the store (manifest, account summaries, maps) against the whole.
    let (mut store_ms, mut open_ms) = (Vec::new(), Vec::new());
    for _ in 0..a.runs {
        if a.cold {
            evict(&a.dir)?;
        }
        let t = Instant::now();
        drop(Store::open(&a.dir)?);
        store_ms.push(ms(t));
        if a.cold {
            evict(&a.dir)?;
        }
        let t = Instant::now();
        drop(Collection::open(&a.dir)?);
        open_ms.push(ms(t));
    }
    let line = serde_json::json!({
        "what": "open_parts", "store_open": stats(store_ms), "collection_open": stats(open_ms),
        "cold": a.cold, "load": loadavg(),
    });
    println!("{line}");

    let mut scopes = vec![("entire_org".to_owned(), Scope::entire_org(Corpus::Mail))];
    if let Some(acct) = &a.account {
        scopes.push((acct.to_string(), Scope::accounts(Corpus::Mail, vec![acct.clone()])));
    }
    for (scope_name, scope) in &scopes {
        for q in &a.queries {
            let query = ediscovery::query::parse(q).map_err(|e| e.to_string())?;
            let req = SearchRequest::new(scope.clone(), query, 1_800_000_000);
            let mut times = Vec::new();
            let mut total = 0;
            for _ in 0..a.runs {
                if a.cold {
                    evict(&a.dir)?;
                }
                let t = Instant::now();
                let c = Collection::open(&a.dir)?;
                total = c.count_result(&req)?.counts.total;
                times.push(ms(t));
            }
            let line = serde_json::json!({
                "what": "count", "scope": scope_name, "query": q, "hits": total,
                "cold": a.cold, "time": stats(times), "memory": memory(), "load": loadavg(),
            });
            println!("{line}");
            if a.search {
                let mut times = Vec::new();
                let mut hits = 0;
                for _ in 0..a.runs {
                    if a.cold {
                        evict(&a.dir)?;
                    }
                    let t = Instant::now();
                    let c = Collection::open(&a.dir)?;
                    hits = c.search(&req)?.hits.len();
                    times.push(ms(t));
                }
                let line = serde_json::json!({
                    "what": "search", "scope": scope_name, "query": q, "hits": hits,
                    "cold": a.cold, "time": stats(times), "memory": memory(), "load": loadavg(),
                });
                println!("{line}");
            }
        }
    }
    Ok(())
}
