//! Writes a synthetic collection of N small, deterministic mail records through the library's
//! normal ingest path (mbox split, MIME parse, MD5, packs, record table, index), for the
//! 10-million-record benchmarks in `BENCHMARKS.md`.
//!
//! ```sh
//! cargo run --release --example synth_collection -- OUT_DIR RECORDS [--accounts 5000]
//!     [--seed 1] [--mbox-dir DIR] [--commit-every 20000] [--threads 0] [--resume]
//! ```
//!
//! `--resume` continues a run that stopped (killed, disk full): accounts whose records are all
//! committed are skipped without generating them; the account that was being ingested is
//! ingested again (its committed records count as already present).
//!
//! Custodians get Zipf(1)-sized mailboxes (with 5,000 accounts the largest holds 11% of the
//! records), one mbox each, ingested in account order. `ingest_deferred` lets small mailboxes
//! share commits of `--commit-every` records, as one long ingest run would. Each mbox is written
//! to `--mbox-dir` (default `OUT_DIR.mbox/`), ingested, and deleted, so scratch space stays one
//! mailbox; writing it is timed apart from ingesting it (the file is read back from the page
//! cache). Messages are about 0.6 kB: a few headers, one or two correspondents among the
//! custodians and outside addresses, a subject and a body of 6–30 words drawn from a fixed
//! 4,000-word vocabulary with Zipf frequencies (so word queries range from most records to a
//! few), Message-IDs unique.
//!
//! Progress goes to stderr; the last stdout line is JSON with the figures and, for the probes, a
//! Message-ID, an account and words of three frequencies.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use ediscovery::format::mbox::frame_mboxrd;
use ediscovery::ingest::Source;
use ediscovery::model::time::{asctime_utc, rfc2822_utc};
use ediscovery::model::{Account, Corpus, OrgUnit};
use ediscovery::{CollectionWriter, IngestOptions, IngestProgress};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synth_collection: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error>;

struct Args {
    out: PathBuf,
    records: u64,
    accounts: usize,
    seed: u64,
    mbox_dir: PathBuf,
    commit_every: usize,
    threads: usize,
    resume: bool,
}

fn args() -> Result<Args, BoxError> {
    let mut it = std::env::args().skip(1);
    let usage = "usage: synth_collection OUT_DIR RECORDS [--accounts N] [--seed S] \
                 [--mbox-dir DIR] [--commit-every N] [--threads N] [--resume]";
    let out = PathBuf::from(it.next().ok_or(usage)?);
    let records: u64 = it.next().ok_or(usage)?.replace('_', "").parse()?;
    let mut a = Args {
        mbox_dir: out.with_extension("mbox"),
        out,
        records,
        accounts: 5_000,
        seed: 1,
        commit_every: 20_000,
        threads: 0,
        resume: false,
    };
    while let Some(flag) = it.next() {
        if flag == "--resume" {
            a.resume = true;
            continue;
        }
        let v = it.next().ok_or(usage)?;
        match flag.as_str() {
            "--accounts" => a.accounts = v.parse()?,
            "--seed" => a.seed = v.parse()?,
            "--mbox-dir" => a.mbox_dir = PathBuf::from(v),
            "--commit-every" => a.commit_every = v.parse()?,
            "--threads" => a.threads = v.parse()?,
            _ => return Err(usage.into()),
        }
    }
    if a.accounts == 0 {
        return Err("--accounts must be at least 1".into());
    }
    Ok(a)
}

/// splitmix64: the same numbers everywhere, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The most frequent words are English; the rest are pronounceable made-up words, so every word
/// of the vocabulary is one index term.
const COMMON: [&str; 40] = [
    "the",
    "and",
    "meeting",
    "please",
    "review",
    "budget",
    "project",
    "update",
    "team",
    "draft",
    "contract",
    "schedule",
    "report",
    "customer",
    "quarter",
    "attached",
    "thanks",
    "call",
    "approve",
    "legal",
    "invoice",
    "plan",
    "numbers",
    "timeline",
    "question",
    "agenda",
    "travel",
    "offsite",
    "pricing",
    "security",
    "hiring",
    "forecast",
    "renewal",
    "escalation",
    "board",
    "deck",
    "vendor",
    "release",
    "audit",
    "policy",
];
const VOCABULARY: usize = 4_000;
const FIRST: [&str; 16] = [
    "Alice", "Bob", "Carol", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal",
    "Lena", "Mateo", "Nadia", "Oskar", "Priya",
];
const LAST: [&str; 16] = [
    "Martin", "Chen", "Diaz", "Ivanov", "ONeil", "Muller", "Ho", "Sato", "Silva", "Berg", "Yilmaz",
    "Novak", "Rossi", "Haddad", "Lind", "Rao",
];
const OUTSIDE: [&str; 6] = [
    "partner.example.com",
    "vendor.example.net",
    "law.example",
    "bank.example.org",
    "press.example.com",
    "list.example.com",
];
/// 2015-01-01T00:00:00Z and ten years after.
const START: i64 = 1_420_070_400;
const SPAN: i64 = 10 * 365 * 86_400;

fn vocabulary() -> Vec<String> {
    const C: &[u8] = b"bdfgklmnprstvz";
    const V: &[u8] = b"aeiou";
    let mut words: Vec<String> = COMMON.iter().map(|w| (*w).to_owned()).collect();
    let mut i = 0u64;
    while words.len() < VOCABULARY {
        // Three consonant-vowel syllables from the digits of `i`, plus a closing consonant.
        let mut w = String::new();
        let mut n = i;
        for _ in 0..3 {
            w.push(C[(n % C.len() as u64) as usize] as char);
            n /= C.len() as u64;
            w.push(V[(n % V.len() as u64) as usize] as char);
            n /= V.len() as u64;
        }
        w.push(C[((i * 7) % C.len() as u64) as usize] as char);
        words.push(w);
        i += 1;
    }
    words
}

/// Cumulative Zipf(1) weights over `n` ranks, for sampling by binary search.
fn zipf_cumulative(n: usize) -> Vec<f64> {
    let mut t = 0.0;
    (1..=n)
        .map(|k| {
            t += 1.0 / k as f64;
            t
        })
        .collect()
}

fn sample(cum: &[f64], rng: &mut Rng) -> usize {
    let x = rng.unit() * cum.last().copied().unwrap_or(0.0);
    cum.partition_point(|&c| c < x).min(cum.len().saturating_sub(1))
}

fn account_address(id: usize) -> String {
    format!("custodian.{id:04}@dept{}.example-corp.com", id % 37)
}

fn person_name(id: usize) -> String {
    format!("{} {}", FIRST[id % FIRST.len()], LAST[(id / FIRST.len()) % LAST.len()])
}

/// Records per account: Zipf(1) over rank, ranks spread over account ids by a bijection
/// (2654435761 is prime, so coprime with any account count below it).
fn account_sizes(records: u64, accounts: usize) -> Vec<u64> {
    let h: f64 = (1..=accounts).map(|k| 1.0 / k as f64).sum();
    let mut by_rank: Vec<u64> =
        (1..=accounts).map(|k| (records as f64 / (k as f64 * h)).floor() as u64).collect();
    let mut left = records - by_rank.iter().sum::<u64>().min(records);
    let mut k = 0;
    while left > 0 {
        by_rank[k % accounts] += 1;
        left -= 1;
        k += 1;
    }
    let mut sizes = vec![0u64; accounts];
    for (rank, n) in by_rank.into_iter().enumerate() {
        sizes[(rank as u64 * 2_654_435_761 % accounts as u64) as usize] = n;
    }
    sizes
}

struct Generator {
    words: Vec<String>,
    cum: Vec<f64>,
    accounts: usize,
    seed: u64,
}

impl Generator {
    fn word(&self, rng: &mut Rng) -> &str {
        &self.words[sample(&self.cum, rng)]
    }

    fn message_id(&self, account: usize, ordinal: u64) -> String {
        format!("{ordinal:x}.{account}.{}@synth.example-corp.com", self.seed)
    }

    /// The mbox of `account` with `n` messages, appended to `out`.
    fn mailbox(&self, account: usize, n: u64, out: &mut Vec<u8>) -> Result<(), BoxError> {
        let mut rng = Rng::new(self.seed, account as u64);
        let me = account_address(account);
        let my_name = person_name(account);
        let mut msg = String::with_capacity(2048);
        for ordinal in 0..n {
            msg.clear();
            // Chronological within the mailbox, as an mbox export is.
            let slot = SPAN / n.max(1) as i64;
            let t = START + ordinal as i64 * slot + rng.below(slot.max(1) as u64) as i64;
            let other = |rng: &mut Rng| -> (String, String) {
                if rng.below(5) == 0 {
                    let d = OUTSIDE[rng.below(OUTSIDE.len() as u64) as usize];
                    let id = rng.below(500) as usize;
                    (format!("contact{id}@{d}"), person_name(id + 7))
                } else {
                    let id = rng.below(self.accounts as u64) as usize;
                    (account_address(id), person_name(id))
                }
            };
            let sent = rng.below(3) == 0;
            let (from, from_name) =
                if sent { (me.clone(), my_name.clone()) } else { other(&mut rng) };
            let mut to = Vec::new();
            if !sent {
                to.push((me.clone(), my_name.clone()));
            }
            let others = if rng.below(4) == 0 { 2 } else { 1 };
            for _ in 0..others {
                to.push(other(&mut rng));
            }
            let date = rfc2822_utc(t).ok_or("date out of range")?;
            let _ = writeln!(msg, "Message-ID: <{}>", self.message_id(account, ordinal));
            let _ = write!(msg, "Date: {date}\nFrom: \"{from_name}\" <{from}>\nTo: ");
            for (i, (a, name)) in to.iter().enumerate() {
                let sep = if i == 0 { "" } else { ",\n " };
                let _ = write!(msg, "{sep}\"{name}\" <{a}>");
            }
            msg.push('\n');
            if rng.below(8) == 0 {
                let (a, name) = other(&mut rng);
                let _ = writeln!(msg, "Cc: \"{name}\" <{a}>");
            }
            let re = if rng.below(2) == 0 { "Re: " } else { "" };
            let _ = write!(msg, "Subject: {re}{}", self.word(&mut rng));
            for _ in 0..1 + rng.below(3) {
                let _ = write!(msg, " {}", self.word(&mut rng));
            }
            msg.push_str("\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n");
            let mut col = 0;
            for _ in 0..6 + rng.below(25) {
                let w = self.word(&mut rng);
                if col + w.len() > 72 {
                    msg.push('\n');
                    col = 0;
                } else if col > 0 {
                    msg.push(' ');
                    col += 1;
                }
                msg.push_str(w);
                col += w.len();
            }
            // A rare planted word: about one message in 10,000.
            if rng.below(10_000) == 0 {
                msg.push_str(" falcon");
            }
            let _ = writeln!(msg, "\n\n{my_name}");
            let env = format!("{from} {}", asctime_utc(t).ok_or("date out of range")?);
            frame_mboxrd(&env, msg.as_bytes(), out);
        }
        Ok(())
    }
}

/// Commits and rates to stderr; the largest anonymous memory seen at a commit (VmHWM also
/// counts the file-backed pages of mapped files, which the kernel can drop).
struct Progress {
    start: Instant,
    base: u64,
    max_anon_kb: u64,
}

impl IngestProgress for Progress {
    fn committed(&mut self, generation: u64, records: u64) {
        self.max_anon_kb = self.max_anon_kb.max(status_kb("RssAnon:").unwrap_or(0));
        let s = self.start.elapsed().as_secs_f64();
        if generation.is_multiple_of(10) {
            eprintln!(
                "commit {generation}: {records} records, {s:.0} s, {:.0} records/s",
                (records - self.base) as f64 / s
            );
        }
    }
}

/// Bytes of every file under `dir`: (apparent, allocated).
fn disk_use(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut t = (0, 0);
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                let (a, b) = disk_use(&e.path());
                t.0 += a;
                t.1 += b;
            } else {
                t.0 += m.len();
                t.1 += m.blocks() * 512;
            }
        }
    }
    t
}

fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn run() -> Result<(), BoxError> {
    let a = args()?;
    let load_before = loadavg();
    let g = Generator {
        words: vocabulary(),
        cum: zipf_cumulative(VOCABULARY),
        accounts: a.accounts,
        seed: a.seed,
    };
    let sizes = account_sizes(a.records, a.accounts);
    std::fs::create_dir_all(&a.mbox_dir)?;
    let t_open = Instant::now();
    let mut w = CollectionWriter::open(&a.out, a.threads)?;
    let open_s = t_open.elapsed().as_secs_f64();
    let base = w.store().len();
    eprintln!("writer open: {open_s:.2} s, {base} records already");
    let (mut gen_s, mut ingest_s) = (0.0, 0.0);
    let (mut mbox_bytes, mut ingested, mut seen, mut already) = (0u64, 0u64, 0u64, 0u64);
    let mut progress = Progress { start: Instant::now(), base, max_anon_kb: 0 };
    let (mut skipped_accounts, mut skipped_records) = (0u64, 0u64);
    let mut buf = Vec::new();
    for (account, &n) in sizes.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let address = Account::new(&account_address(account))?;
        if a.resume {
            let held = w.store().accounts().get(&(Corpus::Mail, address.clone()));
            if held.is_some_and(|s| s.records == n) {
                skipped_accounts += 1;
                skipped_records += n;
                continue;
            }
        }
        let t = Instant::now();
        buf.clear();
        g.mailbox(account, n, &mut buf)?;
        let path = a.mbox_dir.join(format!("custodian.{account:04}.mbox"));
        std::fs::write(&path, &buf)?;
        mbox_bytes += buf.len() as u64;
        gen_s += t.elapsed().as_secs_f64();

        let t = Instant::now();
        let mut opts = IngestOptions::new(address);
        opts.org_unit = OrgUnit::new(&format!("/Example Corp/Division {}", account % 11));
        opts.commit_every = a.commit_every;
        let r = w.ingest_deferred(&Source::Mbox(path.clone()), &opts, &mut progress)?;
        ingest_s += t.elapsed().as_secs_f64();
        if !r.rejected.is_empty() {
            return Err(format!("{}: {} rejected", path.display(), r.rejected.len()).into());
        }
        ingested += r.ingested;
        already += r.already_present;
        seen += r.seen;
        std::fs::remove_file(&path)?;
    }
    let t = Instant::now();
    let coll = w.finish()?;
    let finish_s = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir(&a.mbox_dir);
    let records = coll.store().len();
    let (apparent, allocated) = disk_use(&a.out);
    let (largest_account, largest) =
        sizes.iter().enumerate().max_by_key(|(_, n)| **n).map_or((0, 0), |(i, n)| (i, *n));
    let mid = sizes.iter().position(|&n| n > 0).unwrap_or(0);
    let total_s = ingest_s + finish_s;
    let figures = serde_json::json!({
        "records": records,
        "seen": seen,
        "ingested": ingested,
        "already_present": already,
        "accounts": sizes.iter().filter(|&&n| n > 0).count(),
        "mbox_bytes": mbox_bytes,
        "writer_open_s": open_s,
        "generate_s": gen_s,
        "ingest_s": ingest_s,
        "finish_s": finish_s,
        "records_per_s": ingested as f64 / total_s,
        "records_per_s_before_finish": ingested as f64 / ingest_s,
        "mb_per_s": mbox_bytes as f64 / 1e6 / total_s,
        "collection_bytes": apparent,
        "collection_bytes_allocated": allocated,
        "peak_rss_kb": status_kb("VmHWM:"),
        "peak_anon_kb_at_commits": progress.max_anon_kb.max(status_kb("RssAnon:").unwrap_or(0)),
        "resumed_from_records": base,
        "skipped_accounts": skipped_accounts,
        "skipped_records": skipped_records,
        "load_before": load_before,
        "load_after": loadavg(),
        "probe": {
            "message_id": g.message_id(mid, 0),
            "largest_account": account_address(largest_account),
            "largest_account_records": largest,
            "word_rank_1": g.words[0],
            "word_rank_100": g.words[99],
            "word_rank_3000": g.words[2999],
            "rare_word": "falcon",
        },
    });
    println!("{figures}");
    Ok(())
}
