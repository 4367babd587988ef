//! A format 1 collection (records in JSON Lines segments, `tests/fixtures/collection-v1/`: two
//! accounts, four records, with its index) is read as it is by readers and converted once to the
//! record table by the first writer, with the same answers before and after. So is a format 2
//! collection written before the record table's keys file (`tests/fixtures/collection-v2-nokeys/`:
//! the same collection converted by that version's `reindex`): readers decode records for keys,
//! the first writer builds the file once.

use super::common::*;
use ediscovery::export::{self, NoExportProgress};
use ediscovery::ingest::Source;
use ediscovery::model::{Account, Corpus};
use ediscovery::query::Scope;
use ediscovery::search::search_text;
use ediscovery::store::Store;
use ediscovery::{Collection, CollectionWriter};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn fixture_copy(tmp: &Path) -> PathBuf {
    fixture_named(tmp, "collection-v1")
}

fn fixture_named(tmp: &Path, name: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let dir = tmp.join(name);
    copy_dir(&from, &dir);
    dir
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("MANIFEST.json")).unwrap()).unwrap()
}

/// Everything a user can ask of the collection: stats, records, searches, an export's files.
#[derive(Debug, PartialEq)]
struct Answers {
    stats: ediscovery::store::Stats,
    records: Vec<ediscovery::model::Record>,
    searches: Vec<(String, Vec<String>, u64)>,
    export: BTreeMap<String, Vec<u8>>,
}

fn answers(c: &Collection, out: &Path) -> Answers {
    let searches = ["", "quoting", "from:a@example.com", "-quoting"]
        .iter()
        .map(|q| {
            let r = search_text(c, Scope::entire_org(Corpus::Mail), q, 0).unwrap();
            let ids = r.hits.iter().map(|h| h.doc_id.to_string()).collect();
            (q.to_string(), ids, r.counts.total)
        })
        .collect();
    let req = export_request("V1", "MAIL", &[], "");
    let plan = export::plan_search(c, &req, 1_700_000_000, None).unwrap();
    let o = export::run(c, &req, &plan, c.store(), out, &NoExportProgress).unwrap();
    assert_eq!(o.summary.totals.exported, 4);
    let export = std::fs::read_dir(&o.dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            // Timings and the checksum file that covers them differ run to run.
            !n.ends_with("-summary.json") && !n.ends_with("-checksums.md5")
        })
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    Answers { stats: c.stats(), records: c.store().records(), searches, export }
}

#[test]
fn a_format_1_collection_is_read_as_is_then_converted_once_by_a_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_copy(tmp.path());
    assert_eq!(manifest(&dir)["format"], 1);

    // A reader reads format 1 as it is and changes nothing.
    let c = Collection::open(&dir).unwrap();
    let before = answers(&c, &tmp.path().join("out-before"));
    drop(c);
    let key = |a: &str| (Corpus::Mail, Account::new(a).unwrap());
    let per: Vec<_> = before.stats.per_account.iter().map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(
        per,
        [(key("alice@example.com"), (2, 342)), (key("bob@example.com"), (2, 440))],
        "the fixture's stats"
    );
    assert_eq!(before.records.len(), 4);
    assert!(before.searches[1].2 > 0 && before.searches[1].2 < 4, "{:?}", before.searches);
    assert_eq!(manifest(&dir)["format"], 1);
    assert_eq!(dir_names(&dir.join("records")), ["000001.jsonl", "000002.jsonl"]);

    // The first writer converts: format 2, same generation and records, segments gone, the
    // index kept (in step, not rebuilt).
    let index_meta = std::fs::read(dir.join("index/meta.json")).unwrap();
    let w = CollectionWriter::open(&dir, 1).unwrap();
    let m = manifest(&dir);
    assert_eq!((m["format"].as_u64(), m["generation"].as_u64()), (Some(2), Some(2)));
    assert_eq!((m["records"].as_u64(), m["table"]["live"].as_u64()), (Some(4), Some(4)));
    assert!(m.get("segments").is_none(), "{m}");
    assert!(dir_names(&dir.join("records")).iter().all(|n| n.ends_with(".bin")));
    assert_eq!(std::fs::read(dir.join("index/meta.json")).unwrap(), index_meta);
    let c = w.finish().unwrap();
    assert_eq!(answers(&c, &tmp.path().join("out-writer")), before);
    drop(c);

    // Readers and later writers open format 2 as committed; no second conversion.
    let c = Collection::open(&dir).unwrap();
    assert_eq!(answers(&c, &tmp.path().join("out-after")), before);
    drop(c);
    let w = CollectionWriter::open(&dir, 1).unwrap();
    assert_eq!(manifest(&dir), m);
    drop(w);
    assert_eq!(Store::open(&dir).unwrap().stats(), before.stats);
}

#[test]
fn a_conversion_stopped_before_or_after_its_commit_is_finished_by_the_next_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_copy(tmp.path());
    let c = Collection::open(&dir).unwrap();
    let before = answers(&c, &tmp.path().join("out-before"));
    drop(c);

    // Before the rename: table files an interrupted conversion wrote, the manifest still format 1.
    for f in ["data-0000.bin", "rows-0000.bin", "summaries-00000001.bin"] {
        write(&dir, &format!("records/{f}"), b"partial conversion");
    }
    let c = Collection::open(&dir).unwrap();
    assert_eq!(answers(&c, &tmp.path().join("out-1")), before);
    drop(c);
    let c = CollectionWriter::open(&dir, 1).unwrap().finish().unwrap();
    assert_eq!(answers(&c, &tmp.path().join("out-2")), before);
    drop(c);

    // After the rename: a segment left behind is deleted by the next writer.
    write(&dir, "records/000001.jsonl", b"{\"left\": \"behind\"}\n");
    let c = CollectionWriter::open(&dir, 1).unwrap().finish().unwrap();
    assert!(!dir.join("records/000001.jsonl").exists());
    assert_eq!(answers(&c, &tmp.path().join("out-3")), before);
}

#[test]
fn a_format_2_collection_without_keys_is_read_as_is_then_given_keys_once_by_a_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_named(tmp.path(), "collection-v2-nokeys");
    let m0 = manifest(&dir);
    assert_eq!(m0["format"], 2);
    assert!(m0["table"].get("keys").is_none(), "{m0}");
    assert!(!dir.join("records/keys-0000.bin").exists());

    // Readers decode records for what the keys file would give, and change nothing.
    let c = Collection::open(&dir).unwrap();
    let before = answers(&c, &tmp.path().join("out-before"));
    drop(c);
    assert_eq!(before.records.len(), 4);
    let v1 = Collection::open(&fixture_copy(tmp.path())).unwrap();
    assert_eq!(before, answers(&v1, &tmp.path().join("out-v1")), "the same collection as v1");
    drop(v1);
    assert_eq!(manifest(&dir), m0);

    // The first writer builds the keys file and commits it: same generation, records and index.
    let index_meta = std::fs::read(dir.join("index/meta.json")).unwrap();
    let mut w = Store::open(&dir).unwrap().writer().unwrap();
    let m = manifest(&dir);
    assert_eq!(m["table"]["keys"], true, "{m}");
    assert_eq!(m["generation"], m0["generation"]);
    assert_eq!(m["records"], m0["records"]);
    assert_eq!(std::fs::read(dir.join("index/meta.json")).unwrap(), index_meta);
    assert_eq!(std::fs::metadata(dir.join("records/keys-0000.bin")).unwrap().len(), 4 * 72);
    // Its lookups find every record by DocId and every blob by MD5, from the keys file.
    for r in &before.records {
        assert!(w.contains(r.corpus, &r.account, &r.doc_id).unwrap(), "{}", r.doc_id);
        let bytes = w.store().bytes(r).unwrap().to_vec();
        assert_eq!(w.put_blob(r.blob().md5, &bytes).unwrap(), (*r.blob(), false));
    }
    let other = Account::new("carol@example.com").unwrap();
    assert!(!w.contains(Corpus::Mail, &other, &before.records[0].doc_id).unwrap());
    drop(w);

    // Readers and later writers open it as committed; no second conversion.
    let c = Collection::open(&dir).unwrap();
    assert_eq!(answers(&c, &tmp.path().join("out-after")), before);
    drop(c);
    let w = CollectionWriter::open(&dir, 1).unwrap();
    assert_eq!(manifest(&dir), m);
    let c = w.finish().unwrap();
    assert_eq!(answers(&c, &tmp.path().join("out-writer")), before);
}

/// Every entry of a zip: name, last-modified time and bytes (read with the `zip` crate).
fn zip_entries(bytes: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).unwrap();
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut v).unwrap();
            (e.name().unwrap().into_owned(), format!("{:?}", e.last_modified()), v)
        })
        .collect()
}

/// Read a record-table row's data header: the format byte of the record at `seq`.
fn record_format_byte(dir: &Path, seq: u64) -> u8 {
    let rows = std::fs::read(dir.join("records/rows-0000.bin")).unwrap();
    let at = (seq * 16) as usize;
    let offset = u64::from_le_bytes(rows[at..at + 8].try_into().unwrap()) as usize;
    std::fs::read(dir.join("records/data-0000.bin")).unwrap()[offset + 4]
}

/// A format 2 collection written before records had parts (`tests/fixtures/collection-v2/`,
/// made by commit 9086d91's CLI from `quoted-from.mbox` for alice and `takeout.mbox` for bob;
/// that CLI's exports of it, original and CRLF line endings, are in
/// `tests/fixtures/collection-v2-exports/` without their timing summaries): read as it is,
/// exported as that version exported it (every file byte for byte but the zips, whose container
/// is now our own writer's: their entries are the same, name, time and bytes), and extended by a writer whose new rows
/// (format byte 2, with parts) sit beside the old ones (format byte 1).
#[test]
fn a_collection_from_before_parts_reads_as_is_and_exports_as_that_version_did() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = tmp.path().join("v2");
    copy_dir(&fixtures.join("collection-v2"), &dir);
    assert_eq!(manifest(&dir)["format"], 2);
    assert_eq!((record_format_byte(&dir, 0), record_format_byte(&dir, 3)), (1, 1));

    let c = Collection::open(&dir).unwrap();
    let records = c.store().records();
    assert_eq!(records.len(), 4);
    for r in &records {
        assert_eq!(r.parts.len(), 1, "{}", r.doc_id);
        assert_eq!(r.parts.main().kind, ediscovery::model::PartKind::Message);
        assert_eq!(ediscovery::digest::Md5::of(c.store().bytes(r).unwrap()), r.blob().md5);
    }
    for (name, crlf) in [("v2", false), ("v2crlf", true)] {
        let mut req = export_request(name, "MAIL", &[], "");
        if crlf {
            req.ediscovery.line_endings = ediscovery::export::request::LineEndings::Crlf;
        }
        let plan = export::plan_search(&c, &req, 1_700_000_000, None).unwrap();
        let o = export::run(&c, &req, &plan, c.store(), &tmp.path().join("out"), &NoExportProgress)
            .unwrap();
        let old = fixtures.join("collection-v2-exports").join(name);
        let summary = format!("{name}-summary.json");
        let mut now = dir_names(&o.dir);
        now.retain(|n| *n != summary);
        assert_eq!(now, dir_names(&old), "{name}: the same files");
        for n in &now {
            let (a, b) =
                (std::fs::read(o.dir.join(n)).unwrap(), std::fs::read(old.join(n)).unwrap());
            if n.ends_with(".zip") {
                // Zips are written by our own container writer since issue 10 (parallel
                // deflate): their bytes differ from the `zip` crate's, their entries do not.
                assert_eq!(zip_entries(&a), zip_entries(&b), "{name}: {n}");
            } else if n.ends_with("-checksums.md5") {
                // The summary's line differs (its timings), and the zips' (their container);
                // every other line is the same.
                let lines = |b: &[u8]| -> Vec<String> {
                    String::from_utf8(b.to_vec())
                        .unwrap()
                        .lines()
                        .filter(|l| !l.ends_with(&summary) && !l.ends_with(".zip"))
                        .map(str::to_owned)
                        .collect()
                };
                assert_eq!(lines(&a), lines(&b), "{name}: {n}");
                let zips = now.iter().filter(|n| n.ends_with(".zip")).count();
                assert_eq!(lines(&a).len(), now.len() - 1 - zips, "{name}: {n} lists the others");
            } else {
                assert!(a == b, "{name}: {n} differs from the previous version's");
            }
        }
    }
    drop(c);

    // A writer keeps the old rows as they are and writes new ones with parts.
    let mbox = fixtures.join("preamble.mbox");
    let (c, report) = ingest_into(&dir, Source::Mbox(mbox), "carol@example.com", Corpus::Mail);
    assert!(report.ingested >= 1, "{report:?}");
    let after = c.store().records();
    assert_eq!(after[..4], records[..], "old records read the same after a writer");
    let last = after.len() as u64 - 1;
    assert_eq!((record_format_byte(&dir, 0), record_format_byte(&dir, last)), (1, 2));
    assert_eq!(manifest(&dir)["format"], 2);
}
