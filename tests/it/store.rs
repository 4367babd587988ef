//! The collection folder: dedup, deterministic ids, reopen, torn writes, locking, index repair.

use super::common::*;
use ediscovery::format::mbox::frame_mboxrd;
use ediscovery::ingest::Source;
use ediscovery::model::{Corpus, Part, PartKind, Parts};
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
    assert_eq!(recs[0].blob(), recs[2].blob());
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
        for r in self.store().records().iter() {
            let b = self.store().bytes(r).unwrap();
            assert_eq!(b.len() as u64, r.blob().size);
            assert_eq!(ediscovery::digest::Md5::of(b), r.blob().md5, "{}", r.doc_id);
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

/// The committed record table state, read from `MANIFEST.json`.
fn table_manifest(dir: &std::path::Path) -> serde_json::Value {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(m["format"], 2);
    m["table"].clone()
}

#[test]
fn a_writer_stopped_between_table_prepare_and_the_manifest_rename_leaves_the_last_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let p = sample_mbox(tmp.path());
    let dir = tmp.path().join("c");
    let (c, _) = ingest_into(&dir, Source::Mbox(p), "alice@example.org", Corpus::Mail);
    let (before, records) = (c.stats(), c.store().records());
    let committed = table_manifest(&dir);
    drop(c);

    // A new record, appended and prepared (table files synced, the next summaries file written),
    // then the commit stops where a kill would: in `then`, before the manifest is renamed.
    let mut w = Store::open(&dir).unwrap().writer().unwrap();
    let bytes = b"Message-ID: <late@x>\nSubject: late\n\nnever committed\n";
    let md5 = ediscovery::digest::Md5::of(bytes);
    let (blob, new) = w.put_blob(md5, bytes).unwrap();
    assert!(new);
    let mut rec = records[0].clone();
    rec.seq = w.next_seq();
    rec.doc_id = ediscovery::model::DocId::derive("mail", &rec.account, "late", &md5);
    rec.parts = Parts::new(Part::new(PartKind::Message, blob));
    w.push(&rec).unwrap();
    assert!(w.contains(rec.corpus, &rec.account, &rec.doc_id).unwrap());
    let stop = || {
        Err(Error::Io { path: dir.clone(), source: std::io::Error::other("killed before rename") })
    };
    assert!(w.commit(|_| stop()).is_err());
    drop(w);
    let data = dir.join("records/data-0000.bin");
    let data_len = committed["data_len"].as_u64().unwrap();
    assert!(std::fs::metadata(&data).unwrap().len() > data_len, "the record was written");
    assert!(dir.join(format!("records/summaries-{:08}.bin", 2)).exists(), "and prepared");

    // Readers see the last commit; so does a writer, which cuts what the stopped one left.
    let c = Collection::open(&dir).unwrap();
    assert_eq!(c.stats(), before);
    assert_eq!(c.store().records(), records);
    assert!(c.store().by_doc(&rec.doc_id).is_none());
    drop(c);
    let mut w = Store::open(&dir).unwrap().writer().unwrap();
    assert_eq!(std::fs::metadata(&data).unwrap().len(), data_len);
    assert!(!dir.join(format!("records/summaries-{:08}.bin", 2)).exists());
    assert_eq!(table_manifest(&dir), committed);
    assert!(!w.contains(rec.corpus, &rec.account, &rec.doc_id).unwrap());
    // And carries on: the same record commits at the same seq.
    let (blob, new) = w.put_blob(md5, bytes).unwrap();
    assert!(new);
    rec.parts = Parts::new(Part::new(PartKind::Message, blob));
    w.push(&rec).unwrap();
    w.commit(|_| Ok(())).unwrap();
    assert_eq!(w.store().len(), records.len() as u64 + 1);
    assert_eq!(w.store().get(rec.seq).unwrap(), Some(rec.clone()));
    assert_eq!(w.store().stats().blobs, before.blobs + 1);
    drop(w);
    let s = Store::open(&dir).unwrap();
    assert_eq!(s.get(rec.seq).unwrap(), Some(rec.clone()));
    assert_eq!(s.bytes(&rec).unwrap(), bytes);
}

#[test]
fn torn_record_table_bytes_past_the_last_commit_are_ignored_then_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let p = sample_mbox(tmp.path());
    let dir = tmp.path().join("c");
    let (c, _) = ingest_into(&dir, Source::Mbox(p), "alice@example.org", Corpus::Mail);
    let (before, records) = (c.stats(), c.store().records());
    drop(c);
    let files = ["data-0000.bin", "rows-0000.bin", "accounts-0000.bin", "tombstones-0000.bin"];
    let lens: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(dir.join("records").join(f)).unwrap().len())
        .collect();
    for f in files {
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("records").join(f))
            .unwrap()
            .write_all(b"torn bytes of a commit that never happened")
            .unwrap();
    }
    write(&dir, "records/summaries-00000099.bin", b"not committed");
    let c = Collection::open(&dir).unwrap();
    assert_eq!((c.stats(), c.store().records()), (before.clone(), records.clone()));
    drop(c);
    let c = CollectionWriter::open(&dir, 1).unwrap().finish().unwrap();
    assert_eq!((c.stats(), c.store().records()), (before, records));
    for (f, len) in files.iter().zip(lens) {
        assert_eq!(std::fs::metadata(dir.join("records").join(f)).unwrap().len(), len, "{f}");
    }
    assert!(!dir.join("records/summaries-00000099.bin").exists());
}

/// `ingest_deferred` leaves records pending for a shared commit; identical bytes are stored once
/// across accounts and across pending and committed records (the blob lookup reads both); a
/// second ingest of an account with pending records commits them first, so its duplicate checks
/// see them; what was never committed is gone after a crash.
#[test]
fn deferred_ingests_share_commits_and_find_pending_and_committed_blobs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let (a, b) = (
        b"Message-ID: <a@x>\nSubject: a\nDate: Mon, 6 Mar 2023 10:00:00 +0000\n\nfirst\n"
            .as_slice(),
        b"Message-ID: <b@x>\nSubject: b\nDate: Tue, 7 Mar 2023 10:00:00 +0000\n\nsecond\n"
            .as_slice(),
    );
    let mut mbox = Vec::new();
    for m in [a, b, a] {
        frame_mboxrd("x@x Thu Jan  1 00:00:00 1970", m, &mut mbox);
    }
    let src = Source::Mbox(write(tmp.path(), "three.mbox", &mbox));
    let opts = |acct: &str| {
        let mut o = IngestOptions::new(account(acct));
        o.commit_every = 1000;
        o
    };
    let mut w = CollectionWriter::open(&dir, 1).unwrap();
    let r = w.ingest_deferred(&src, &opts("alice@example.com"), &mut NoProgress).unwrap();
    assert_eq!((r.ingested, r.new_blobs), (3, 2));
    assert_eq!((w.store().len(), w.store().generation()), (0, 0), "nothing committed yet");
    let r = w.ingest_deferred(&src, &opts("bob@example.com"), &mut NoProgress).unwrap();
    assert_eq!((r.ingested, r.new_blobs), (3, 0), "blobs of pending records are found");
    assert_eq!(w.store().generation(), 0);
    // Alice again: her pending records are committed first, so they are already present.
    let r = w.ingest_deferred(&src, &opts("alice@example.com"), &mut NoProgress).unwrap();
    assert_eq!((r.ingested, r.already_present), (0, 3));
    assert_eq!((w.store().len(), w.store().generation()), (6, 1));
    let c = w.finish().unwrap();
    let s = c.stats();
    assert_eq!((s.records, s.blobs, s.blob_bytes), (6, 2, (a.len() + b.len()) as u64));
    assert_eq!(c.store().generation(), 1);
    drop(c);

    // A later writer finds committed blobs and DocIds through the keys file.
    let mut w = CollectionWriter::open(&dir, 1).unwrap();
    let r = w.ingest_deferred(&src, &opts("carol@example.com"), &mut NoProgress).unwrap();
    assert_eq!((r.ingested, r.new_blobs), (3, 0));
    let r = w.ingest_deferred(&src, &opts("bob@example.com"), &mut NoProgress).unwrap();
    assert_eq!((r.ingested, r.already_present), (0, 3));
    // Carol's records were never committed: a crash (drop without finish) loses them.
    drop(w);
    let c = Collection::open(&dir).unwrap();
    assert_eq!(c.stats(), s);
    drop(c);
    // With a small commit_every, a deferred ingest commits as it goes and leaves the rest.
    let mut w = CollectionWriter::open(&dir, 1).unwrap();
    let mut o = opts("dan@example.com");
    o.commit_every = 2;
    w.ingest_deferred(&src, &o, &mut NoProgress).unwrap();
    assert_eq!((w.store().len(), w.store().generation()), (8, 2));
    let c = w.finish().unwrap();
    assert_eq!((c.store().len(), c.store().generation()), (9, 3));
    assert_eq!(c.stats().blobs, 2);
}

/// A writer that died after the index commit and before the manifest rename leaves index
/// documents past the committed records: counts (counted inside the index) and searches leave
/// them out alike.
#[test]
fn counts_and_searches_ignore_index_documents_past_the_last_commit() {
    use ediscovery::SearchRequest;
    use ediscovery::index::{Index, IndexText};
    let tmp = tempfile::tempdir().unwrap();
    let p = sample_mbox(tmp.path());
    let dir = tmp.path().join("c");
    let (c, _) = ingest_into(&dir, Source::Mbox(p), "alice@example.org", Corpus::Mail);
    let req = |q: &str| {
        SearchRequest::new(Scope::entire_org(Corpus::Mail), ediscovery::query::parse(q).unwrap(), 0)
    };
    let before = c.search(&req("")).unwrap().counts;
    let records = c.store().records();
    drop(c);

    let mut w = Store::open(&dir).unwrap().writer().unwrap();
    let index = Index::open_or_create(&dir.join("index")).unwrap();
    let mut iw = index.writer(1).unwrap();
    let bytes = b"Message-ID: <ahead@x>\nSubject: ahead\n\nzanzibar\n";
    let md5 = ediscovery::digest::Md5::of(bytes);
    let (blob, _) = w.put_blob(md5, bytes).unwrap();
    let mut rec = records[0].clone();
    rec.seq = w.next_seq();
    rec.doc_id = ediscovery::model::DocId::derive("mail", &rec.account, "ahead", &md5);
    rec.parts = ediscovery::model::Parts::new(ediscovery::model::Part::new(
        ediscovery::model::PartKind::Message,
        blob,
    ));
    w.push(&rec).unwrap();
    iw.add(&rec, &IndexText { body: "zanzibar" }).unwrap();
    let stop = |g: u64| {
        iw.commit(g)?;
        Err(Error::Io { path: dir.clone(), source: std::io::Error::other("killed before rename") })
    };
    assert!(w.commit(stop).is_err());
    drop(w);
    drop(iw);
    drop(index);

    let c = Collection::open(&dir).unwrap();
    assert_eq!(c.index().num_docs(), records.len() as u64 + 1, "the index is one commit ahead");
    for q in ["", "zanzibar", "subject:ahead"] {
        let counts = c.count(&req(q)).unwrap();
        assert_eq!(counts, c.search(&req(q)).unwrap().counts, "{q}");
        if q.is_empty() {
            assert_eq!(counts, before);
        } else {
            assert_eq!(counts.total, 0, "{q}");
        }
    }
}
