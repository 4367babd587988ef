//! Helpers shared by the tests.

use ediscovery::export::ExportRequest;
use ediscovery::export::request::{AccountInfo, ExportOptions, Options, VaultQuery};
use ediscovery::ingest::{IngestReport, Source};
use ediscovery::model::{Account, Corpus, DocId, Record};
use ediscovery::store::Store;
use ediscovery::{Collection, CollectionWriter, IngestOptions, NoProgress};
use std::path::{Path, PathBuf};

/// A fixture's bytes as committed (LF line ends).
pub fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Line-end variants every fixture is tested in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eol {
    Lf,
    Crlf,
}

pub const BOTH: [Eol; 2] = [Eol::Lf, Eol::Crlf];

impl Eol {
    /// `bytes` with every bare LF turned into CRLF for the CRLF variant.
    pub fn apply(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Eol::Lf => bytes.to_vec(),
            Eol::Crlf => {
                let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 20);
                let mut prev = 0u8;
                for &b in bytes {
                    if b == b'\n' && prev != b'\r' {
                        out.push(b'\r');
                    }
                    out.push(b);
                    prev = b;
                }
                out
            }
        }
    }
}

pub fn account(s: &str) -> Account {
    Account::new(s).unwrap()
}

/// Ingest one source into a fresh collection under `dir`.
pub fn ingest_into(
    dir: &Path,
    source: Source,
    acct: &str,
    corpus: Corpus,
) -> (Collection, IngestReport) {
    let mut w = CollectionWriter::open(dir, 2).unwrap();
    let mut opts = IngestOptions::new(account(acct));
    opts.corpus = corpus;
    let report = w.ingest(&source, &opts, &mut NoProgress).unwrap();
    assert!(report.balances(), "report does not balance: {report:?}");
    (w.finish().unwrap(), report)
}

/// Write `bytes` to `dir/name` and return the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Test conveniences over the record table: each call decodes the records it returns.
pub trait StoreExt {
    /// Every record, in seq order.
    fn records(&self) -> Vec<Record>;
    /// The record with this DocId.
    fn by_doc(&self, doc_id: &DocId) -> Option<Record>;
    /// The record with this seq.
    fn by_seq(&self, seq: u64) -> Option<Record>;
}

impl StoreExt for Store {
    fn records(&self) -> Vec<Record> {
        self.iter().map(|r| r.unwrap()).collect()
    }
    fn by_doc(&self, doc_id: &DocId) -> Option<Record> {
        self.find(doc_id).unwrap()
    }
    fn by_seq(&self, seq: u64) -> Option<Record> {
        self.get(seq).unwrap()
    }
}

/// The record whose source key ends with `key`.
pub fn by_key(c: &Collection, key: &str) -> Record {
    c.store()
        .records()
        .into_iter()
        .find(|r| r.source.key.ends_with(key))
        .unwrap_or_else(|| panic!("no record with key {key}"))
}

/// The stored bytes of a record.
pub fn stored<'a>(c: &'a Collection, r: &Record) -> &'a [u8] {
    c.store().bytes(r).unwrap()
}

/// Where the SpamAssassin corpus is, if built.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EDISCOVERY_CORPUS")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus"), PathBuf::from);
    if dir.join("manifest.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: no corpus at {} (build it with ../shared/corpus/fetch-spamassassin.sh DIR and set EDISCOVERY_CORPUS=DIR)",
            dir.display()
        );
        None
    }
}

/// Run the `ediscovery` binary with these arguments (strings and paths alike): exit code, stdout,
/// stderr.
macro_rules! cli {
    ($($arg:expr),* $(,)?) => {
        $crate::it::common::run_cli(&[$(std::ffi::OsStr::new($arg)),*])
    };
}

pub fn run_cli(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_ediscovery")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A Vault-shaped export request: `corpus` (`MAIL`, `GROUPS`), by account when `accounts` is not
/// empty, else the entire organisation; two threads.
pub fn export_request(name: &str, corpus: &str, accounts: &[&str], terms: &str) -> ExportRequest {
    ExportRequest {
        name: name.to_owned(),
        query: VaultQuery {
            corpus: corpus.to_owned(),
            search_method: if accounts.is_empty() { "ENTIRE_ORG".into() } else { "ACCOUNT".into() },
            account_info: (!accounts.is_empty())
                .then(|| AccountInfo { emails: accounts.iter().map(|s| s.to_string()).collect() }),
            terms: terms.to_owned(),
            ..VaultQuery::default()
        },
        export_options: ExportOptions::default(),
        ediscovery: Options { threads: 2, ..Options::default() },
    }
}

/// The sample organisation at `scale`, generated under `dir/org` and ingested into `dir/c`
/// (every source with its corpus and org unit), ready to search.
/// The sample organisation with all five corpora ingested (mail, groups, and the Chat, Drive
/// and Voice of `other_sources`), and the organisation generated.
pub fn sample_org_all_corpora(
    dir: &Path,
    scale: usize,
) -> (Collection, ediscovery::sample::SampleOrg) {
    let org = ediscovery::sample::generate(&dir.join("org"), scale).unwrap();
    let mut w = CollectionWriter::open(&dir.join("c"), 2).unwrap();
    for s in org.all_sources() {
        let mut o = IngestOptions::new(s.account.clone());
        o.corpus = s.corpus;
        o.org_unit = s.org_unit.clone();
        let r = w.ingest(&s.source, &o, &mut NoProgress).unwrap();
        assert!(r.rejected.is_empty(), "{:?}: {:?}", s.source, r.rejected);
    }
    (w.finish().unwrap(), org)
}

pub fn sample_org_collection(dir: &Path, scale: usize) -> Collection {
    let org = ediscovery::sample::generate(&dir.join("org"), scale).unwrap();
    let mut w = CollectionWriter::open(&dir.join("c"), 2).unwrap();
    for s in &org.sources {
        let mut o = IngestOptions::new(s.account.clone());
        o.corpus = s.corpus;
        o.org_unit = s.org_unit.clone();
        w.ingest(&s.source, &o, &mut NoProgress).unwrap();
    }
    w.finish().unwrap()
}

/// `scripts/compare-exports.py` (Python stdlib only, written from the export's definition) on two
/// export folders of export `name`: same files byte for byte (summary timings and the checksum
/// file's summary line aside), `md5sum -c` in `other`, every zip of `other` read with zipfile and
/// its mbox entries with mailbox. `count` is "messages" or "files": what it returns.
pub fn compare_exports(one: &Path, other: &Path, name: &str, count: &str) -> usize {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/compare-exports.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(["--count", count])
        .arg(one)
        .arg(other)
        .arg(name)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{} vs {}: {}",
        one.display(),
        other.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The names of the entries of `dir`, sorted.
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
