//! A process killed in the middle of an ingest leaves a collection that opens with exactly the
//! records of its last commit, and the next writer carries on from there.

use super::common::*;
use ediscovery::ingest::Source;
use ediscovery::model::Corpus;
use ediscovery::query::Scope;
use ediscovery::search::search_text;
use ediscovery::{Collection, CollectionWriter, IngestOptions, NoProgress, sample};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn killed_mid_ingest_keeps_the_last_commit() {
    let tmp = tempfile::tempdir().unwrap();
    // A few thousand messages: enough that the kill lands mid-ingest, even in a debug build.
    let org = sample::generate(&tmp.path().join("org"), 30).unwrap();
    let Source::Mbox(mbox) = org.sources[4].source.clone() else { panic!() };
    let total = org.sources[4].messages as u64;
    let dir = tmp.path().join("c");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ediscovery"))
        .args(["ingest", "--collection"])
        .arg(&dir)
        .args(["--account", "erin@example.org", "--commit-every", "100", "--mbox"])
        .arg(&mbox)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Plain progress (stderr is not a terminal): one line per commit.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut committed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(n) = line.split(": ").nth(1).and_then(|s| s.strip_suffix(" records")) {
            committed.push(n.parse::<u64>().unwrap());
        }
        if committed.len() == 3 {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(committed.len(), 3, "the child committed three times before the kill");
    assert!(committed[2] < total, "the kill must land before the end ({committed:?} of {total})");

    let c = Collection::open(&dir).unwrap();
    let n = c.store().records().len() as u64;
    // The child may have committed again between its last line and the kill; never a partial batch.
    assert!(
        n >= committed[2] && n.is_multiple_of(100) && n < total,
        "{n} records after {committed:?}"
    );
    for r in c.store().records().iter() {
        assert_eq!(ediscovery::digest::Md5::of(c.store().bytes(r).unwrap()), r.blob().md5);
    }
    // Searches see exactly the committed records, whatever the index holds past them.
    let all = |c: &Collection| {
        search_text(c, Scope::entire_org(Corpus::Mail), "", 0).unwrap().hits.len() as u64
    };
    assert_eq!(all(&c), n);
    drop(c);

    // The next writer repairs and continues: the whole mailbox, each message once.
    let mut w = CollectionWriter::open(&dir, 2).unwrap();
    let r = w
        .ingest(
            &Source::Mbox(mbox),
            &IngestOptions::new(account("erin@example.org")),
            &mut NoProgress,
        )
        .unwrap();
    assert_eq!((r.already_present, r.ingested), (n, total - n));
    let c = w.finish().unwrap();
    assert_eq!(c.store().records().len() as u64, total);
    assert_eq!(all(&c), total);
    assert_eq!(c.index().num_docs(), total);
}
