//! The collection folder: dedup, deterministic ids, reopen, torn writes, locking, index repair.

use super::common::*;
use ediscovery::format::mbox::frame_mboxrd;
use ediscovery::ingest::Source;
use ediscovery::model::Corpus;
use ediscovery::query::Scope;
use ediscovery::search::search_text;
use ediscovery::store::{Store, StoreError};
use ediscovery::{Collection, CollectionWriter, Error, IngestOptions, NoProgress, sample};
use std::io::Write;

fn sample_mbox(dir: &std::path::Path) -> std::path::PathBuf {
    let org = sample::generate(&dir.join("org"), 1).unwrap();
    match &org.sources[0].source {
        Source::Mbox(p) => p.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn identical_bytes_are_stored_once_each_record_keeps_its_id() {
    let tmp = tempfile::tempdir().unwrap();
    let msg = b"Message-ID: <twin@x>\nSubject: twin\nDate: Mon, 6 Mar 2023 10:00:00 +0000\n\nsame bytes\n";
    let mut mbox = Vec::new();
    for _ in 0..3 {
        frame_mboxrd("a@x Thu Jan  1 00:00:00 1970", msg, &mut mbox);
    }
    let p = write(tmp.path(), "twins.mbox", &mbox);
    let (c, r) = ingest_into(&tmp.path().join("c"), Source::Mbox(p), "a@example.com", Corpus::Mail);
    assert_eq!((r.ingested, r.new_blobs), (3, 1));
    let s = c.stats();
    assert_eq!(
        (s.records, s.blobs, s.bytes, s.blob_bytes),
        (3, 1, 3 * msg.len() as u64, msg.len() as u64)
    );
    let recs = c.store().records();
    assert_eq!(recs[0].blob, recs[2].blob);
    assert_ne!(recs[0].doc_id, recs[1].doc_id);
    // Duplicate Message-IDs are flagged on the later copies.
    assert!(recs[0].defects.is_empty() && !recs[1].defects.is_empty());
}

#[test]
fn same_source_gives_same_ids_and_reingest_adds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let p = sample_mbox(tmp.path());
    let (c1, r1) = ingest_into(
        &tmp.path().join("c1"),
        Source::Mbox(p.clone()),
        "alice@example.org",
        Corpus::Mail,
    );
    let (c2, _) = ingest_into(
        &tmp.path().join("c2"),
        Source::Mbox(p.clone()),
        "alice@example.org",
        Corpus::Mail,
    );
    let ids = |c: &Collection| c.store().records().iter().map(|r| r.doc_id).collect::<Vec<_>>();
    assert_eq!(ids(&c1), ids(&c2));
    assert_eq!(r1.ingested, 40);

    let stats_before = c1.stats();
    drop(c1);
    let c1 = Collection::open(&tmp.path().join("c1")).unwrap();
    assert_eq!(c1.stats(), stats_before, "stats survive close and reopen");
    c1.records_equal_to_disk();
    drop(c1);

    let mut w = CollectionWriter::open(&tmp.path().join("c1"), 1).unwrap();
    let r = w
        .ingest(
            &Source::Mbox(p),
            &IngestOptions::new(account("alice@example.org")),
            &mut NoProgress,
        )
        .unwrap();
    assert_eq!((r.seen, r.ingested, r.already_present), (40, 0, 40));
    let c1 = w.finish().unwrap();
    assert_eq!(c1.stats(), stats_before);
    // A different account is a different custodian: new records, same blobs.
    let (c3, _) = ingest_into(
        &tmp.path().join("c1"),
        Source::Mbox(sample_mbox(&tmp.path().join("b"))),
        "bob@example.org",
        Corpus::Mail,
    );
    assert_eq!(c3.stats().records, 80);
    assert_eq!(c3.stats().blobs, 40);
}

trait Check {
    fn records_equal_to_disk(&self);
}

impl Check for Collection {
    /// Every record's bytes read back with the MD5 and size it was stored with.
    fn records_equal_to_disk(&self) {
        for r in self.store().records() {
            let b = self.store().bytes(r).unwrap();
            assert_eq!(b.len() as u64, r.blob.size);
            assert_eq!(ediscovery::digest::Md5::of(b), r.blob.md5, "{}", r.doc_id);
        }
    }
}

#[test]
fn torn_writes_past_the_last_commit_are_ignored_then_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let p = sample_mbox(tmp.path());
    let dir = tmp.path().join("c");
    let (c, _) = ingest_into(&dir, Source::Mbox(p.clone()), "alice@example.org", Corpus::Mail);
    let before = c.stats();
    drop(c);
    // What a writer killed mid-commit leaves: bytes past the committed pack length, a record
    // segment the manifest does not name, a manifest temp file.
    let pack = dir.join("packs/000000.pack");
    let committed_len = std::fs::metadata(&pack).unwrap().len();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&pack)
        .unwrap()
        .write_all(b"half a message")
        .unwrap();
    write(&dir, "records/000099.jsonl", b"{\"not\": \"a record\"");
    write(&dir, "MANIFEST.json.tmp", b"{");
    let c = Collection::open(&dir).unwrap();
    assert_eq!(c.stats(), before);
    c.records_equal_to_disk();
    drop(c);
    let w = CollectionWriter::open(&dir, 1).unwrap();
    assert_eq!(std::fs::metadata(&pack).unwrap().len(), committed_len);
    assert!(!dir.join("records/000099.jsonl").exists());
    drop(w);
}

#[test]
fn one_writer_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let _w = CollectionWriter::open(&dir, 1).unwrap();
    match CollectionWriter::open(&dir, 1) {
        Err(Error::Store(StoreError::Locked(_))) => {}
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a second writer opened"),
    }
    // Readers are never blocked.
    assert_eq!(Store::open(&dir).unwrap().records().len(), 0);
}

#[test]
fn a_missing_index_is_rebuilt_from_the_stored_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let p = sample_mbox(tmp.path());
    let dir = tmp.path().join("c");
    let (c, _) = ingest_into(&dir, Source::Mbox(p), "alice@example.org", Corpus::Mail);
    let count = |c: &Collection, q: &str| {
        search_text(c, Scope::entire_org(Corpus::Mail), q, 0).unwrap().hits.len()
    };
    let falcon = count(&c, "falcon");
    assert!(falcon > 0);
    drop(c);
    std::fs::remove_dir_all(dir.join("index")).unwrap();
    let c = CollectionWriter::open(&dir, 1).unwrap().finish().unwrap();
    assert_eq!(count(&c, "falcon"), falcon);
    assert_eq!(count(&c, ""), 40);
}

#[test]
fn not_a_collection_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let e = Collection::open(tmp.path()).err().unwrap();
    assert!(e.to_string().contains("is not a collection"), "{e}");
}
