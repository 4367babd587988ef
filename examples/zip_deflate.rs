//! Deflate one ~200 MB mbox entry every way we can (issue 10.1) and print wall-clock MB/s and
//! CPU time per variant, runs interleaved so that load from other work spreads over all of
//! them. CPU seconds (this process's, or pigz's as a child) move much less than wall time on a
//! shared machine, so they show per-core efficiency; wall time shows what parallelism buys.
//!
//! ```sh
//! cargo run --release --example zip_deflate -- [MBOX_DIR] [MB] [RUNS]
//! # default: ../corpus/scaled-k31/mbox, 200 MB, 3 runs
//! ```
//! Writers write to a counting sink (no MD5, no disk); pigz reads a file in the page cache and
//! writes to a pipe this process drains. Linux only (CPU time from `/proc/self/stat`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use ediscovery::format::zip::{
    Compression, DeflateOptions, DeflatePool, EntryOptions, ZipOptions, ZipOut, ZipWriter,
};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

const WRITE: usize = 256 * 1024;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zip_deflate: {e}");
            ExitCode::FAILURE
        }
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

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

/// (own, children's) CPU seconds so far: utime+stime and cutime+cstime of /proc/self/stat.
fn cpu() -> Res<(f64, f64)> {
    let s = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the parenthesised command name; utime is field 14 (index 11 here).
    let rest = s.rsplit_once(')').ok_or("odd /proc/self/stat")?.1;
    let f: Vec<f64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    let tick = 100.0; // USER_HZ on Linux
    Ok(((f[11] + f[12]) / tick, (f[13] + f[14]) / tick))
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn ours(data: &[u8], pool: Option<&DeflatePool>) -> Res<u64> {
    let opts = ZipOptions { deflate: DeflateOptions::default(), ..ZipOptions::default() };
    let mut z = match pool {
        None => ZipWriter::new(Counter(0), opts)?,
        Some(p) => ZipWriter::with_pool(Counter(0), opts, p)?,
    };
    let o = EntryOptions { compression: Compression::Deflate, mtime: None, large: true };
    let mut e = z.start_entry("a.mbox", o)?;
    for w in data.chunks(WRITE) {
        e.write_all(w)?;
    }
    e.finish()?;
    Ok(z.finish()?.0)
}

fn zip_crate(data: &[u8]) -> Res<u64> {
    let mut z = ZipOut::new(Counter(0));
    z.start("a.mbox", Compression::Deflate, None, true)?;
    for w in data.chunks(WRITE) {
        z.write_all(w)?;
    }
    Ok(z.finish()?.0)
}

fn pigz(file: &Path, threads: u32) -> Res<u64> {
    let mut child = Command::new("pigz")
        .args(["-c", "-6", "-p", &threads.to_string()])
        .arg(file)
        .stdout(Stdio::piped())
        .spawn()?;
    let mut n = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    let mut out = child.stdout.take().ok_or("no pipe")?;
    loop {
        let k = out.read(&mut buf)?;
        if k == 0 {
            break;
        }
        n += k as u64;
    }
    if !child.wait()?.success() {
        return Err("pigz failed".into());
    }
    Ok(n)
}

fn run() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir =
        args.first().map_or_else(|| PathBuf::from("../corpus/scaled-k31/mbox"), PathBuf::from);
    let mb: usize = args.get(1).map_or(Ok(200), |s| s.parse())?;
    let runs: usize = args.get(2).map_or(Ok(3), |s| s.parse())?;
    let limit = mb * 1_000_000;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "mbox"))
        .collect();
    files.sort();
    let mut data = Vec::with_capacity(limit);
    for f in files {
        std::fs::File::open(&f)?.take((limit - data.len()) as u64).read_to_end(&mut data)?;
        if data.len() >= limit {
            break;
        }
    }
    if data.is_empty() {
        return Err(format!("no .mbox files in {}", dir.display()).into());
    }
    let tmp = tempfile::tempdir()?;
    let file = tmp.path().join("input.mbox");
    std::fs::write(&file, &data)?;
    let pool2 = DeflatePool::new(2)?;
    let has_pigz = Command::new("pigz").arg("--version").output().is_ok();
    let mut names = vec!["ours, 1 thread", "ours, 2 threads", "zip crate, level 6"];
    if has_pigz {
        names.extend(["pigz -p1 -6", "pigz -p2 -6"]);
    }
    println!("input: {} bytes from {}; {runs} runs each, interleaved", data.len(), dir.display());
    println!("load average before: {}", load());
    // (wall seconds, CPU seconds, output bytes) per variant per run.
    let mut got: Vec<Vec<(f64, f64, u64)>> = vec![Vec::new(); names.len()];
    for _ in 0..runs {
        for (i, slot) in got.iter_mut().enumerate() {
            let (c0, k0) = cpu()?;
            let t = Instant::now();
            let out = match i {
                0 => ours(&data, None)?,
                1 => ours(&data, Some(&pool2))?,
                2 => zip_crate(&data)?,
                3 => pigz(&file, 1)?,
                _ => pigz(&file, 2)?,
            };
            let wall = t.elapsed().as_secs_f64();
            let (c1, k1) = cpu()?;
            let used = if i >= 3 { k1 - k0 } else { c1 - c0 };
            slot.push((wall, used, out));
        }
    }
    println!("load average after: {}", load());
    let n = data.len() as f64 / 1e6;
    println!(
        "| variant | wall MB/s median (min–max) | CPU s median | MB per CPU s | output/input |"
    );
    println!("|---|---|---|---|---|");
    for (name, v) in names.iter().zip(&got) {
        let mut walls: Vec<f64> = v.iter().map(|r| n / r.0).collect();
        walls.sort_by(f64::total_cmp);
        let mut cpus: Vec<f64> = v.iter().map(|r| r.1).collect();
        cpus.sort_by(f64::total_cmp);
        let med = |x: &[f64]| x[x.len() / 2];
        println!(
            "| {name} | {:.1} ({:.1}–{:.1}) | {:.2} | {:.1} | {:.4} |",
            med(&walls),
            walls[0],
            walls[walls.len() - 1],
            med(&cpus),
            n / med(&cpus),
            v[0].2 as f64 / data.len() as f64
        );
    }
    Ok(())
}
