//! Ingest and export throughput beside this machine's limits, measured in the same run on the
//! same bytes: one table per run (and the medians of all runs), a JSON file and an SVG chart
//! drawn from that table.
//!
//! ```sh
//! ../shared/corpus/fetch-spamassassin.sh ../corpus 31        # about 1 GB in ../corpus/scaled-k31
//! cargo run --release --example throughput -- ../corpus/scaled-k31/mbox --runs 3 --out bench
//! ```
//! Without a folder it uses the sample organisation at scale 200 (about 60 MB), so it always runs.
//!
//! Each run: the limits (MD5 and zlib-rs deflate level 6 on one core and on two, over a sample
//! of the corpus bytes held in memory), `pigz -p2 -6` and `zip -0` + `md5sum` over the mbox files
//! (when installed), ingest + index into a fresh collection, in process and through the CLI (one
//! `ediscovery ingest` call per custodian mbox, when the binary is built beside the example:
//! `cargo build --release`), and a `store` and a `deflate` export
//! of everything (opening the collection included), each export verified afterwards. Ingest and
//! the exports run in child processes of this program, and their peak anonymous and total RSS
//! are sampled from `/proc/PID/status` every 10 ms (memory-mapped pack files count toward RSS,
//! not anonymous); the limits' memory is this process's own.
//! Options: `--work DIR` (scratch, default `target/throughput`), `--threads N`, `--runs N`
//! (default 1), `--out DIR` (writes `throughput.json`, `throughput.md`, `throughput.svg`),
//! `--sample-mb N` (bytes held for the limit measurements, default 128), `--no-tools`,
//! `--limits-only` (the four limit lines alone),
//! `--scale N` (the sample organisation's scale when no folder is given, default 200).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use ediscovery::digest::Md5;
use ediscovery::export::request::{ExportOptions, Options, VaultQuery};
use ediscovery::export::{self, ExportRequest, NoExportProgress};
use ediscovery::format::zip::Compression;
use ediscovery::ingest::Source;
use ediscovery::model::Account;
use ediscovery::{CollectionWriter, IngestOptions, NoProgress, sample};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("throughput: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Args {
    corpus: Option<PathBuf>,
    work: PathBuf,
    threads: usize,
    runs: usize,
    out: Option<PathBuf>,
    sample_mb: usize,
    tools: bool,
    scale: usize,
    /// Measure the machine's limits only (no tools, ingest or exports): a quick look at the
    /// noise between runs.
    limits_only: bool,
    /// Run one phase in this process and print its figures (the parent measures its memory).
    child: Option<String>,
}

fn args() -> Res<Args> {
    let mut a = Args {
        corpus: None,
        work: PathBuf::from("target/throughput"),
        threads: 0,
        runs: 1,
        out: None,
        sample_mb: 128,
        tools: true,
        scale: 200,
        limits_only: false,
        child: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut val = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match x.as_str() {
            "--work" => a.work = PathBuf::from(val("--work")?),
            "--threads" => a.threads = val("--threads")?.parse()?,
            "--runs" => a.runs = val("--runs")?.parse::<usize>()?.max(1),
            "--out" => a.out = Some(PathBuf::from(val("--out")?)),
            "--sample-mb" => a.sample_mb = val("--sample-mb")?.parse::<usize>()?.max(1),
            "--no-tools" => a.tools = false,
            "--limits-only" => a.limits_only = true,
            "--scale" => a.scale = val("--scale")?.parse::<usize>()?.max(1),
            "--child" => a.child = Some(val("--child")?),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}").into()),
            dir => a.corpus = Some(PathBuf::from(dir)),
        }
    }
    Ok(a)
}

/// Peak anonymous and total resident memory of this process, sampled every 10 ms.
struct Sampler {
    anon: Arc<AtomicU64>,
    rss: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

impl Sampler {
    fn start() -> Sampler {
        let s = Sampler {
            anon: Arc::new(AtomicU64::new(0)),
            rss: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (anon, rss, stop) = (s.anon.clone(), s.rss.clone(), s.stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                anon.fetch_max(status_kb("RssAnon:"), Ordering::Relaxed);
                rss.fetch_max(status_kb("VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        s
    }

    /// Peaks since the last call (MB), then start over.
    fn phase(&self) -> (f64, f64) {
        let now = (status_kb("RssAnon:"), status_kb("VmRSS:"));
        let a = self.anon.swap(now.0, Ordering::Relaxed).max(now.0);
        let r = self.rss.swap(now.1, Ordering::Relaxed).max(now.1);
        (a as f64 / 1024.0, r as f64 / 1024.0)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One measured line of the table.
#[derive(Clone, Debug, serde::Serialize)]
struct Row {
    what: String,
    mb: f64,
    messages: u64,
    seconds: f64,
    peak_anon_mb: f64,
    peak_rss_mb: f64,
    /// The limit this line is compared with (MB/s), when there is one.
    limit_mb_s: Option<f64>,
}

impl Row {
    /// The line of a phase measured in a child process (its own figures and memory).
    fn measured(what: String, f: Figures, limit_mb_s: Option<f64>) -> Row {
        Row {
            what,
            mb: f.mb,
            messages: f.messages,
            seconds: f.seconds,
            peak_anon_mb: f.anon_mb,
            peak_rss_mb: f.rss_mb,
            limit_mb_s,
        }
    }

    fn mb_s(&self) -> f64 {
        self.mb / self.seconds.max(1e-9)
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn run() -> Res<()> {
    let a = args()?;
    if let Some(phase) = &a.child {
        return child_phase(&a, phase);
    }
    let _ = std::fs::remove_dir_all(&a.work);
    std::fs::create_dir_all(&a.work)?;
    let sources = sources(&a)?;
    let files: Vec<PathBuf> = sources
        .iter()
        .filter_map(|(_, s)| match s {
            Source::Mbox(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    let input_mb =
        files.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum::<u64>() as f64
            / 1e6;
    let sample = read_sample(&files, a.sample_mb << 20)?;
    let threads = ediscovery::Limits::default().threads(a.threads)?;
    println!(
        "input {input_mb:.1} MB in {} mbox files; limits measured on {:.0} MB of it; {threads} export threads; {} cores",
        files.len(),
        sample.len() as f64 / 1e6,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let sampler = Sampler::start();
    let mut runs: Vec<Vec<Row>> = Vec::new();
    for k in 0..a.runs {
        let rows = one_run(&a, &files, &sample, input_mb, &sampler)?;
        println!("\nrun {} of {} (load average {})", k + 1, a.runs, loadavg());
        print!("{}", table(&rows, None));
        runs.push(rows);
    }
    let medians: Vec<Row> = (0..runs[0].len())
        .map(|i| {
            let col = |f: &dyn Fn(&Row) -> f64| median(runs.iter().map(|r| f(&r[i])).collect());
            Row {
                what: runs[0][i].what.clone(),
                mb: runs[0][i].mb,
                messages: runs[0][i].messages,
                seconds: col(&|r| r.seconds),
                peak_anon_mb: col(&|r| r.peak_anon_mb),
                peak_rss_mb: col(&|r| r.peak_rss_mb),
                limit_mb_s: runs[0][i].limit_mb_s.map(|_| col(&|r| r.limit_mb_s.unwrap_or(0.0))),
            }
        })
        .collect();
    let spread: Vec<(f64, f64)> = (0..medians.len())
        .map(|i| {
            let v: Vec<f64> = runs.iter().map(|r| r[i].mb_s()).collect();
            (v.iter().copied().fold(f64::MAX, f64::min), v.iter().copied().fold(0.0, f64::max))
        })
        .collect();
    let md = table(&medians, Some(&spread));
    println!("\nmedians of {} run(s):", a.runs);
    print!("{md}");
    if let Some(out) = &a.out {
        std::fs::create_dir_all(out)?;
        let json = serde_json::json!({ "input_mb": input_mb, "runs": runs, "medians": medians });
        std::fs::write(out.join("throughput.json"), serde_json::to_vec_pretty(&json)?)?;
        std::fs::write(out.join("throughput.md"), &md)?;
        chart(&medians, &out.join("throughput.svg"))?;
        println!("wrote {}/throughput.{{json,md,svg}}", out.display());
    }
    Ok(())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn sources(a: &Args) -> Res<Vec<(Account, Source)>> {
    Ok(match &a.corpus {
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
                .collect::<Res<_>>()?
        }
        None => {
            let org = sample::generate(&a.work.join("sample"), a.scale)?;
            org.sources
                .into_iter()
                .filter(|s| s.corpus == ediscovery::model::Corpus::Mail)
                .filter(|s| matches!(s.source, Source::Mbox(_)))
                .map(|s| (s.account, s.source))
                .collect()
        }
    })
}

/// Up to `cap` bytes of the corpus, taken evenly from every file.
fn read_sample(files: &[PathBuf], cap: usize) -> Res<Vec<u8>> {
    let per = cap / files.len().max(1);
    let mut out = Vec::with_capacity(cap);
    for f in files {
        std::fs::File::open(f)?.take(per as u64).read_to_end(&mut out)?;
    }
    Ok(out)
}

/// Wall time of `f` run on each of `parts` pieces of `data` at once, one thread per piece.
/// Seconds for `threads` threads each to run `f` over all of `data` at once: the machine's
/// rate on that many cores is `threads × data` over it. Each thread gets the same bytes, so
/// the figure is the cores' rate, not the slower of two different halves (deflate's speed
/// depends on the content).
fn timed_parallel(data: &[u8], threads: usize, f: fn(&[u8])) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(move || f(data));
        }
    });
    t.elapsed().as_secs_f64()
}

fn md5_of(b: &[u8]) {
    std::hint::black_box(Md5::of(b));
}

fn deflate6(b: &[u8]) {
    let mut e = flate2::write::DeflateEncoder::new(std::io::sink(), flate2::Compression::new(6));
    let _ = e.write_all(b);
    let _ = std::hint::black_box(e.finish());
}

/// An external tool's wall time, or `None` when it is not installed or fails.
fn tool(cmd: &mut Command) -> Option<f64> {
    let t = Instant::now();
    let ok = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().ok()?.success();
    ok.then(|| t.elapsed().as_secs_f64())
}

fn one_run(
    a: &Args,
    files: &[PathBuf],
    sample: &[u8],
    input_mb: f64,
    mem: &Sampler,
) -> Res<Vec<Row>> {
    let smb = sample.len() as f64 / 1e6;
    let row = |what: &str, mb: f64, messages: u64, seconds: f64, limit: Option<f64>| -> Row {
        let (peak_anon_mb, peak_rss_mb) = mem.phase();
        Row {
            what: what.into(),
            mb,
            messages,
            seconds,
            peak_anon_mb,
            peak_rss_mb,
            limit_mb_s: limit,
        }
    };
    // The machine's limits, on the bytes in memory (a third of the sample for deflate: it is
    // ten times slower).
    let d = &sample[..sample.len() / 3];
    let dmb = d.len() as f64 / 1e6;
    mem.phase();
    let mut rows = vec![
        row("MD5, 1 core", smb, 0, timed_parallel(sample, 1, md5_of), None),
        row("MD5, 2 cores", 2.0 * smb, 0, timed_parallel(sample, 2, md5_of), None),
        row("deflate -6, 1 core", dmb, 0, timed_parallel(d, 1, deflate6), None),
        row("deflate -6, 2 cores", 2.0 * dmb, 0, timed_parallel(d, 2, deflate6), None),
    ];
    let rate = |i: usize| rows[i].mb_s();
    let (md5_2, defl_2) = (rate(1), rate(3));
    // Exporting with `store` hashes every output byte once (the output MD5; stored bytes are
    // checked by their CRC-32): at best the 2-core MD5 rate. `deflate` also compresses each
    // byte: the two cores together spend 1/deflate + 1/MD5 seconds per MB, at the rates both
    // cores reach at once (not twice one core's: two busy cores need not keep one's clock).
    let store_limit = md5_2;
    let deflate_limit = 1.0 / (1.0 / defl_2 + 1.0 / md5_2);
    if a.limits_only {
        return Ok(rows);
    }

    if a.tools {
        let zip_out = a.work.join("tools.zip");
        let pigz = tool(Command::new("pigz").args(["-p2", "-6", "-c"]).args(files));
        if let Some(s) = pigz {
            rows.push(row("pigz -p2 -6", input_mb, 0, s, None));
        }
        let _ = std::fs::remove_file(&zip_out);
        let zip0 =
            tool(Command::new("zip").arg("-0").arg("-q").arg("-j").arg(&zip_out).args(files))
                .and_then(|z| tool(Command::new("md5sum").arg(&zip_out)).map(|m| z + m));
        if let Some(s) = zip0 {
            rows.push(row("zip -0 + md5sum", input_mb, 0, s, None));
        }
        let _ = std::fs::remove_file(&zip_out);
    }

    // Ingest and each export run in a child process of this program, so each phase's peak
    // memory is its own (not what an earlier phase left in this process's allocator).
    let f = phase(a, "ingest")?;
    rows.push(Row::measured("ingest + index".into(), f, None));
    if let Some(f) = cli_ingest(a)? {
        rows.push(Row::measured("ingest + index, CLI".into(), f, None));
    }
    for (compression, limit) in [("store", store_limit), ("deflate", deflate_limit)] {
        let f = phase(a, compression)?;
        rows.push(Row::measured(format!("export {compression}"), f, Some(limit)));
        let dir = a.work.join("exports").join(format!("tp-{compression}"));
        check(&dir)?;
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = mem.phase();
    Ok(rows)
}

/// What a child phase reports, and the memory its parent saw it use.
#[derive(Default, serde::Deserialize)]
struct Figures {
    mb: f64,
    messages: u64,
    seconds: f64,
    #[serde(default)]
    anon_mb: f64,
    #[serde(default)]
    rss_mb: f64,
}

/// The `ediscovery` binary of the same build as this example (`target/release/ediscovery` beside
/// `target/release/examples/`), when it was built.
fn cli_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("ediscovery");
    bin.is_file().then_some(bin)
}

/// Ingest through the command line as an investigator runs it: one `ediscovery ingest` call per
/// custodian mbox into a fresh collection, each its own process (opening the collection,
/// ingesting, committing). Wall time over all calls; peak memory of the largest call. `None`
/// (with a note) when the binary was not built beside this example.
fn cli_ingest(a: &Args) -> Res<Option<Figures>> {
    let Some(bin) = cli_binary() else {
        eprintln!(
            "note: no ediscovery binary beside this example (cargo build --release): CLI ingest not measured"
        );
        return Ok(None);
    };
    let dir = a.work.join("cli-collection");
    let _ = std::fs::remove_dir_all(&dir);
    let mut f = Figures::default();
    let t = Instant::now();
    for (acct, s) in sources(a)? {
        let Source::Mbox(path) = s else { continue };
        let mut cmd = Command::new(&bin);
        cmd.arg("ingest").arg("--collection").arg(&dir);
        cmd.args(["--account", acct.as_str(), "--json", "--mbox"]).arg(&path);
        if a.threads > 0 {
            cmd.args(["--threads", &a.threads.to_string()]);
        }
        let (out, anon, rss) = sampled(&mut cmd)?;
        let report: serde_json::Value = serde_json::from_str(out.trim())?;
        f.messages += report["ingested"].as_u64().ok_or("ingest --json gave no count")?;
        f.mb += report["bytes"].as_u64().unwrap_or(0) as f64 / 1e6;
        f.anon_mb = f.anon_mb.max(anon);
        f.rss_mb = f.rss_mb.max(rss);
    }
    f.seconds = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Some(f))
}

/// Run `name` in a child process, sampling its `/proc/PID/status` every 10 ms.
fn phase(a: &Args, name: &str) -> Res<Figures> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args([
        "--child",
        name,
        "--threads",
        &a.threads.to_string(),
        "--scale",
        &a.scale.to_string(),
    ]);
    cmd.arg("--work").arg(&a.work);
    if let Some(c) = &a.corpus {
        cmd.arg(c);
    }
    let (out, anon_mb, rss_mb) = sampled(&mut cmd)?;
    let mut f: Figures = serde_json::from_str(out.trim())?;
    f.anon_mb = anon_mb;
    f.rss_mb = rss_mb;
    Ok(f)
}

/// Run `cmd` to its end, sampling its `/proc/PID/status` every 10 ms: its standard output and
/// peak anonymous and total resident memory (MB). A failed command is an error.
fn sampled(cmd: &mut Command) -> Res<(String, f64, f64)> {
    let mut child = cmd.stdout(Stdio::piped()).spawn()?;
    // Read its output while it runs: a child that writes more than a pipe holds would
    // otherwise wait for us forever.
    let reader = child.stdout.take().map(|mut o| {
        std::thread::spawn(move || {
            let mut out = String::new();
            o.read_to_string(&mut out).map(|_| out)
        })
    });
    let status_path = format!("/proc/{}/status", child.id());
    let (mut anon, mut rss) = (0u64, 0u64);
    let status = loop {
        let s = std::fs::read_to_string(&status_path).unwrap_or_default();
        let kb = |field: &str| -> u64 {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        anon = anon.max(kb("RssAnon:"));
        rss = rss.max(kb("VmRSS:"));
        if let Some(st) = child.try_wait()? {
            break st;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = match reader.map(|r| r.join()) {
        Some(Ok(read)) => read?,
        Some(Err(_)) => return Err("the thread reading the child's output panicked".into()),
        None => String::new(),
    };
    if !status.success() {
        return Err(format!("{cmd:?} failed ({status})").into());
    }
    Ok((out, anon as f64 / 1024.0, rss as f64 / 1024.0))
}

/// One phase, in this (child) process: ingest into a fresh collection, or export everything.
fn child_phase(a: &Args, name: &str) -> Res<()> {
    // As the CLI does (`EDISCOVERY_MALLOC=default` leaves glibc's rising threshold).
    ediscovery::malloc::pin_mmap_threshold();
    let dir = a.work.join("collection");
    let f = match name {
        "ingest" => {
            let sources = sources(a)?;
            let _ = std::fs::remove_dir_all(&dir);
            let t = Instant::now();
            let mut w = CollectionWriter::open(&dir, a.threads)?;
            for (acct, s) in &sources {
                w.ingest(s, &IngestOptions::new(acct.clone()), &mut NoProgress)?;
            }
            let coll = w.finish()?;
            let seconds = t.elapsed().as_secs_f64();
            let stats = coll.stats();
            Figures {
                mb: stats.bytes as f64 / 1e6,
                messages: stats.records,
                seconds,
                ..Figures::default()
            }
        }
        "store" | "deflate" => {
            let compression =
                if name == "store" { Compression::Store } else { Compression::Deflate };
            let threads = ediscovery::Limits::default().threads(a.threads)?;
            let req = ExportRequest {
                name: format!("tp-{name}"),
                query: VaultQuery {
                    corpus: "MAIL".into(),
                    search_method: "ENTIRE_ORG".into(),
                    ..VaultQuery::default()
                },
                export_options: ExportOptions::default(),
                ediscovery: Options { compression, threads, ..Options::default() },
            };
            let out = a.work.join("exports");
            let _ = std::fs::remove_dir_all(out.join(&req.name));
            let t = Instant::now();
            let coll = ediscovery::Collection::open(&dir)?;
            let plan = export::plan_search(&coll, &req, 0, None)?;
            let o = export::run(&coll, &req, &plan, coll.store(), &out, &NoExportProgress)?;
            let seconds = t.elapsed().as_secs_f64();
            let s = &o.summary;
            Figures {
                mb: s.exported_bytes as f64 / 1e6,
                messages: s.totals.exported,
                seconds,
                ..Figures::default()
            }
        }
        other => return Err(format!("unknown phase {other}").into()),
    };
    println!("{}", serde_json::json!({ "mb": f.mb, "messages": f.messages, "seconds": f.seconds }));
    Ok(())
}

/// The export passes `verify`, or the benchmark stops: a fast wrong export is worth nothing.
fn check(dir: &Path) -> Res<()> {
    let v = ediscovery::verify::verify(dir)?;
    if !v.ok() {
        return Err(
            format!("verify found problems: {:?}", &v.problems[..v.problems.len().min(5)]).into()
        );
    }
    Ok(())
}

/// The rows as a Markdown table; with `spread`, each rate's min–max over the runs.
fn table(rows: &[Row], spread: Option<&[(f64, f64)]>) -> String {
    let mut s = String::from(
        "| what | MB | messages | wall s | MB/s | messages/s | peak anon MB | peak RSS MB | limit MB/s | of limit |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for (i, r) in rows.iter().enumerate() {
        let rate = match spread.and_then(|sp| sp.get(i)) {
            Some((lo, hi)) if hi > lo => format!("{:.1} ({lo:.1}–{hi:.1})", r.mb_s()),
            _ => format!("{:.1}", r.mb_s()),
        };
        let (msgs, msgs_s) = if r.messages > 0 {
            (r.messages.to_string(), format!("{:.0}", r.messages as f64 / r.seconds.max(1e-9)))
        } else {
            ("–".to_owned(), "–".to_owned())
        };
        let (limit, of) = r.limit_mb_s.map_or(("–".to_owned(), "–".to_owned()), |l| {
            (format!("{l:.1}"), format!("{:.2}", r.mb_s() / l.max(1e-9)))
        });
        s.push_str(&format!(
            "| {} | {:.1} | {msgs} | {:.2} | {rate} | {msgs_s} | {:.0} | {:.0} | {limit} | {of} |\n",
            r.what, r.mb, r.seconds, r.peak_anon_mb, r.peak_rss_mb
        ));
    }
    s
}

/// A horizontal bar chart of every row's MB/s (ours blue, the tools orange, the machine's
/// limits grey), each labelled above its bar; a line's limit is drawn as an outlined bar.
fn chart(rows: &[Row], path: &Path) -> Res<()> {
    use plotters::prelude::*;
    let max = rows.iter().map(|r| r.mb_s().max(r.limit_mb_s.unwrap_or(0.0))).fold(1.0, f64::max);
    let n = rows.len();
    let root = SVGBackend::new(path, (960, 60 + 40 * n as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut c = ChartBuilder::on(&root)
        .caption("ediscovery throughput (MB/s, median of runs)", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(0)
        .build_cartesian_2d(0.0..max * 1.05, 0.0..n as f64)?;
    c.configure_mesh().disable_y_mesh().disable_y_axis().x_desc("MB/s").draw()?;
    for (i, r) in rows.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        let colour = if r.what.starts_with("export") || r.what.starts_with("ingest") {
            RGBColor(31, 119, 180)
        } else if r.what.starts_with("MD5") || r.what.starts_with("deflate") {
            RGBColor(160, 160, 160)
        } else {
            RGBColor(255, 127, 14)
        };
        if let Some(l) = r.limit_mb_s {
            c.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y + 0.05), (l, y + 0.55)],
                BLACK.stroke_width(1),
            )))?;
        }
        c.draw_series(std::iter::once(Rectangle::new(
            [(0.0, y + 0.1), (r.mb_s(), y + 0.5)],
            colour.filled(),
        )))?;
        let label = match r.limit_mb_s {
            Some(l) => {
                format!("{}: {:.0} MB/s ({:.2} of limit {:.0})", r.what, r.mb_s(), r.mb_s() / l, l)
            }
            None => format!("{}: {:.0} MB/s", r.what, r.mb_s()),
        };
        c.draw_series(std::iter::once(Text::new(
            label,
            (max * 0.005, y + 0.97),
            ("sans-serif", 14),
        )))?;
    }
    root.present()?;
    Ok(())
}
