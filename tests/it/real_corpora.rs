//! Issue 11 item 5: the real public corpora (`../shared/corpus/fetch-real-corpora.sh`) converted
//! by `examples/real_corpora` (the binary itself, built for the tests), ingested, and checked
//! against `tests/independent/real_corpora_reader.py`, which reads the RAW sources and applies the
//! placement rules of `docs/formats/real-corpora.md` on its own: counts per corpus and custodian,
//! and the hit sets of phrase queries per corpus. Skipped with a message when the data is absent.
//!
//! Subset: the first 300 chitchat conversations in the file's order (`--conversations 300`, about
//! 9,500 messages) keep the debug run short; every speech, office file and recording is used.

use super::common::*;
use ediscovery::ingest::Source;
use ediscovery::model::{Corpus, Metadata};
use ediscovery::query::Scope;
use ediscovery::{Collection, CollectionWriter, IngestOptions, NoProgress, SearchRequest};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const NOW: i64 = 1_900_000_000;
const CONVERSATIONS: usize = 300;
const CUSTODIANS: usize = 5;

const CHAT: &[&str] = &["how are you", "i love", "favorite movie", "have a good night"];
const DRIVE: &[&str] =
    &["the state of the union", "public debt", "fellow citizens", "data", "lorem ipsum"];
const VOICE: &[&str] = &["password", "please enter", "the pound key", "goodbye"];

/// `raw/` of the real corpora (`EDISCOVERY_REAL_CORPORA`, else `../real-corpora`).
fn real_raw() -> Option<PathBuf> {
    let root = std::env::var_os("EDISCOVERY_REAL_CORPORA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../real-corpora"),
        PathBuf::from,
    );
    let raw = root.join("raw");
    let needed = ["chitchat/dataset.json", "sotu", "docs", "voice-sounds/transcripts.txt"];
    if needed.iter().all(|n| raw.join(n).exists()) {
        Some(raw)
    } else {
        eprintln!(
            "SKIPPED: no real corpora at {} (fetch them with ../shared/corpus/fetch-real-corpora.sh DIR and set EDISCOVERY_REAL_CORPORA=DIR)",
            root.display()
        );
        None
    }
}

fn example(name: &str) -> PathBuf {
    let mut p = std::env::current_exe().unwrap();
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    p.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn convert(raw: &Path, out: &Path) -> String {
    let exe = example("real_corpora");
    assert!(exe.exists(), "{} not built", exe.display());
    let o = Command::new(&exe)
        .arg(raw)
        .arg(out)
        .args(["--custodians", &CUSTODIANS.to_string()])
        .args(["--conversations", &CONVERSATIONS.to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    stdout
}

/// Every file under `dir` with its bytes, by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn reader(raw: &Path) -> Value {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/real_corpora_reader.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(raw).arg(CUSTODIANS.to_string()).arg(CONVERSATIONS.to_string());
    for (corpus, phrases) in [("chat", CHAT), ("drive", DRIVE), ("voice", VOICE)] {
        for p in phrases {
            cmd.arg(corpus).arg(p);
        }
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn ingest_all(out: &Path, dir: &Path) -> Collection {
    let sources: Value =
        serde_json::from_slice(&std::fs::read(out.join("sources.json")).unwrap()).unwrap();
    let mut w = CollectionWriter::open(dir, 2).unwrap();
    for s in sources["sources"].as_array().unwrap() {
        let file = out.join(s["file"].as_str().unwrap());
        let root = out.join(s["root"].as_str().unwrap());
        let (corpus, source) = match s["corpus"].as_str().unwrap() {
            "chat" => (Corpus::Chat, Source::ChatJsonl { file, root }),
            "drive" => (Corpus::Drive, Source::DriveJsonl { file, root }),
            "voice" => (Corpus::Voice, Source::VoiceJsonl { file, root }),
            other => panic!("corpus {other}"),
        };
        let mut opts = IngestOptions::new(account(s["account"].as_str().unwrap()));
        opts.corpus = corpus;
        // PDFs are not in the phrase checks: ten pages keep gnuplot's manual quick in debug (a
        // `text_truncated` defect, never a rejection, so counts are unaffected).
        opts.limits.extract_pages = 10;
        let r = w.ingest(&source, &opts, &mut NoProgress).unwrap();
        assert!(r.balances(), "{s}: {r:?}");
        assert!(r.rejected.is_empty(), "{s}: {:?}", r.rejected);
        assert_eq!(r.ingested, s["items"].as_u64().unwrap(), "{s}");
    }
    w.finish().unwrap()
}

fn search(c: &Collection, corpus: Corpus, q: &str) -> ediscovery::SearchResult {
    let req =
        SearchRequest::new(Scope::entire_org(corpus), ediscovery::query::parse(q).unwrap(), NOW);
    c.search(&req).unwrap_or_else(|e| panic!("{q}: {e}"))
}

/// Records per custodian in `corpus`, from an empty query's counts.
fn per_custodian(c: &Collection, corpus: Corpus) -> BTreeMap<String, u64> {
    search(c, corpus, "")
        .counts
        .per_account
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(a, n)| (a.to_string(), n))
        .collect()
}

fn expected_counts(v: &Value) -> BTreeMap<String, u64> {
    v["per_custodian"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

/// The hits of `q` as the reader's DocId-independent keys, sorted (a multiset: two messages
/// may share sender and second).
fn hit_keys(c: &Collection, corpus: Corpus, q: &str) -> Vec<String> {
    let r = search(c, corpus, q);
    let mut keys: Vec<String> = c
        .hit_records(&r.hits)
        .unwrap()
        .into_iter()
        .map(|rec| {
            let who = rec.account.to_string();
            match rec.meta {
                Metadata::Chat(m) => format!(
                    "{who}|{}|{}",
                    m.sender,
                    ediscovery::model::time::iso_utc(m.created).unwrap()
                ),
                Metadata::Drive(m) => format!("{who}|{}", m.title),
                Metadata::Voice(m) => {
                    format!("{who}|{}", m.item_id.strip_prefix("vm-").unwrap_or(&m.item_id))
                }
                other => panic!("{q}: {other:?}"),
            }
        })
        .collect();
    keys.sort();
    keys
}

fn expected_keys(v: &Value, phrase: &str) -> Vec<String> {
    v["phrases"][phrase]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn real_corpora_ingest_with_source_counts_and_phrase_hits_match_python() {
    let Some(raw) = real_raw() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let printed = convert(&raw, &out);
    // Deterministic: a second conversion writes the same files, byte for byte.
    convert(&raw, &tmp.path().join("again"));
    let (a, b) = (tree(&out), tree(&tmp.path().join("again")));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, bytes) in &a {
        assert!(*bytes == b[k], "{} differs between two conversions", k.display());
    }

    let want = reader(&raw);
    let (chat, drive, voice) = (&want["chat"], &want["drive"], &want["voice"]);
    assert_eq!(chat["conversations"], CONVERSATIONS, "{chat}");
    let messages = chat["messages"].as_u64().unwrap();
    let files = drive["speeches"].as_u64().unwrap() + drive["docs"].as_u64().unwrap();
    let items = voice["items"].as_u64().unwrap();
    assert!(printed.contains(&format!("{CONVERSATIONS} conversations, {messages} messages")));
    assert!(printed.contains(&format!("{} with a transcript", voice["transcribed"])));

    let c = ingest_all(&out, &tmp.path().join("c"));
    for (corpus, v, total) in [
        (Corpus::Chat, chat, messages),
        (Corpus::Drive, drive, files),
        (Corpus::Voice, voice, items),
    ] {
        let got = per_custodian(&c, corpus);
        assert_eq!(got, expected_counts(v), "{corpus:?} per custodian");
        assert_eq!(got.values().sum::<u64>(), total, "{corpus:?} in all");
        assert_eq!(got.len(), CUSTODIANS, "{corpus:?}: every custodian holds some");
    }

    for (corpus, v, phrases, extra) in [
        (Corpus::Chat, chat, CHAT, ""),
        // No stdlib reader reads PDF text: PDFs are left out of the Drive phrase checks.
        (Corpus::Drive, drive, DRIVE, " -type:pdf"),
        (Corpus::Voice, voice, VOICE, ""),
    ] {
        for p in phrases {
            let want = expected_keys(v, p);
            assert!(!want.is_empty(), "{corpus:?} {p:?}: pick a phrase the data holds");
            let q = format!("\"{p}\"{extra}");
            assert_eq!(hit_keys(&c, corpus, &q), want, "{corpus:?} {q}");
        }
    }
}
