//! Issue 9: records removed through the collection leave every reader (record table, search,
//! counts, stats, exports), compaction drops their bytes, and a process killed at any step of
//! either leaves a collection that opens with every record not removed: all of a removal batch
//! or none of it.

use super::common::*;
use ediscovery::digest::Md5;
use ediscovery::export::{self, NoExportProgress};
use ediscovery::model::{Account, Corpus, DocId, Record};
use ediscovery::query::Scope;
use ediscovery::search::search_text;
use ediscovery::store::{Stats, Store, StoreError};
use ediscovery::{
    Collection, CollectionWriter, CommitStep, CommitSteps, Error, IngestOptions, NoProgress, sample,
};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const NOW: i64 = 1_700_000_000;

/// Every step, in the order a removal reaches them (a compaction too).
const STEPS: [CommitStep; 5] = [
    CommitStep::Prepared,
    CommitStep::IndexCommitted,
    CommitStep::Committed,
    CommitStep::CleanedUp,
    CommitStep::IndexUpdated,
];

/// Remembers the steps it is told of.
#[derive(Default)]
struct Seen(Vec<CommitStep>);
impl CommitSteps for Seen {
    fn reached(&mut self, step: CommitStep) {
        self.0.push(step);
    }
}

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

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("MANIFEST.json")).unwrap()).unwrap()
}

/// The files in `dir/records`, sorted.
fn table_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("records"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The record table files the committed manifest names, sorted: nothing else may be left once
/// a writer has opened.
fn named_files(dir: &Path) -> Vec<String> {
    let t = &manifest(dir)["table"];
    let epoch = t["epoch"].as_u64().unwrap();
    let mut kinds = vec!["accounts", "data", "rows", "tombstones"];
    if t["keys"] == true {
        kinds.push("keys");
    }
    let mut v: Vec<String> = kinds.iter().map(|k| format!("{k}-{epoch:04}.bin")).collect();
    v.push(format!("summaries-{:08}.bin", t["generation"].as_u64().unwrap()));
    v.sort();
    v
}

fn data_file(dir: &Path, epoch: u64) -> PathBuf {
    dir.join("records").join(format!("data-{epoch:04}.bin"))
}

/// What each query finds: the seqs of its hits, and its counts.
fn search_seqs(c: &Collection, scope: Scope, q: &str) -> (BTreeSet<u64>, ediscovery::Counts) {
    let r = search_text(c, scope.clone(), q, NOW).unwrap_or_else(|e| panic!("{q}: {e}"));
    let req = ediscovery::SearchRequest::new(scope, ediscovery::query::parse(q).unwrap(), NOW);
    assert_eq!(c.count(&req).unwrap(), r.counts, "{q}: counts without hits");
    assert_eq!(r.counts.total as usize, r.hits.len(), "{q}");
    (r.hits.iter().map(|h| h.seq).collect(), r.counts)
}

/// The stats a collection holding exactly `live` must show, computed from the records.
fn expected_stats(live: &[Record]) -> Stats {
    let mut s = Stats { records: live.len() as u64, ..Stats::default() };
    let mut blobs = BTreeMap::new();
    for r in live {
        let bytes: u64 = r.parts.iter().map(|p| p.blob.size).sum();
        s.bytes += bytes;
        let e = s.per_account.entry((r.corpus, r.account.clone())).or_insert((0, 0));
        e.0 += 1;
        e.1 += bytes;
        for p in r.parts.iter() {
            blobs.insert(p.blob.md5, p.blob.size);
        }
    }
    s.blobs = blobs.len() as u64;
    s.blob_bytes = blobs.values().sum();
    s
}

/// Every reader of `c` sees exactly `live` (seq order) and none of `gone`.
fn assert_holds_exactly(c: &Collection, live: &[Record], gone: &[Record]) {
    let store = c.store();
    assert_eq!(store.records(), live);
    assert_eq!(store.len(), live.len() as u64);
    assert_eq!(c.stats(), expected_stats(live));
    for r in gone {
        assert_eq!(store.get(r.seq).unwrap(), None, "seq {}", r.seq);
        assert_eq!(store.account_of(r.seq).unwrap(), None, "seq {}", r.seq);
        assert_eq!(store.find(&r.doc_id).unwrap(), None, "{}", r.doc_id);
    }
    let mut by_account: BTreeMap<(Corpus, Account), Vec<u64>> = BTreeMap::new();
    for r in live {
        by_account.entry((r.corpus, r.account.clone())).or_default().push(r.seq);
    }
    let listed: Vec<(Corpus, Account, u64)> =
        store.accounts().iter().map(|((c, a), s)| (*c, a.clone(), s.records)).collect();
    let want: Vec<(Corpus, Account, u64)> =
        by_account.iter().map(|((c, a), v)| (*c, a.clone(), v.len() as u64)).collect();
    assert_eq!(listed, want, "account summaries");
    for r in gone.iter().chain(live) {
        let want = by_account.get(&(r.corpus, r.account.clone())).cloned().unwrap_or_default();
        assert_eq!(store.seqs_of(r.corpus, &r.account).unwrap(), want, "{}", r.account);
    }
    for corpus in [Corpus::Mail, Corpus::Groups] {
        let (seqs, counts) = search_seqs(c, Scope::entire_org(corpus), "");
        let want: BTreeSet<u64> =
            live.iter().filter(|r| r.corpus == corpus).map(|r| r.seq).collect();
        assert_eq!(seqs, want, "{corpus}: every record");
        let per: BTreeMap<Account, u64> = by_account
            .iter()
            .filter(|((c, _), _)| *c == corpus)
            .map(|((_, a), v)| (a.clone(), v.len() as u64))
            .collect();
        assert_eq!(counts, ediscovery::Counts::from_per_account(per), "{corpus}: counts");
    }
    // Each removed record by its own Message-ID (every sample message has a unique one).
    for r in gone {
        let id = r.mail().and_then(|m| m.message_id.clone()).unwrap();
        let (seqs, counts) =
            search_seqs(c, Scope::entire_org(r.corpus), &format!("rfc822msgid:{id}"));
        assert!(seqs.is_empty() && counts.total == 0, "{id} still found");
    }
}

/// Export the whole organisation's mail and check it with `verify` and the independent Python
/// reader: exactly the live mail records, each with its stored bytes.
fn assert_export_holds(c: &Collection, live: &[Record], out: &Path) {
    let req = export_request("R", "MAIL", &[], "");
    let plan = export::plan_search(c, &req, NOW, None).unwrap();
    let o = export::run(c, &req, &plan, c.store(), out, &NoExportProgress).unwrap();
    let mail: Vec<&Record> = live.iter().filter(|r| r.corpus == Corpus::Mail).collect();
    assert_eq!(o.summary.totals.exported, mail.len() as u64);
    assert!(!o.has_failures());
    let v = ediscovery::verify::verify(&o.dir).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/check_export.py");
    let py = Command::new("python3").arg(script).arg(&o.dir).arg("R").output().expect("python3");
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let py: serde_json::Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(py["problems"], serde_json::json!([]));
    assert_eq!(py["docs"], mail.len());
    assert_eq!(py["csv_rows"], mail.len());
    let want: BTreeMap<String, String> =
        mail.iter().map(|r| (r.doc_id.to_string(), r.blob().md5.to_string())).collect();
    let got: BTreeMap<String, String> = py["messages"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(got, want, "exported DocIDs and the MD5 of their exported bytes");
}

/// Records to remove from the sample organisation: every record of erin (so an account
/// disappears), alice's falcon messages, and every third group message.
fn victims(c: &Collection) -> Vec<Record> {
    let alice_falcon: BTreeSet<u64> =
        search_seqs(c, Scope::accounts(Corpus::Mail, vec![account("alice@example.org")]), "falcon")
            .0;
    assert!(!alice_falcon.is_empty());
    c.store()
        .records()
        .into_iter()
        .filter(|r| {
            r.account.as_str() == "erin@example.org"
                || alice_falcon.contains(&r.seq)
                || (r.corpus == Corpus::Groups && r.seq % 3 == 0)
        })
        .collect()
}

/// The MD5 of every record's stored bytes, by DocId.
fn stored_md5s(c: &Collection) -> BTreeMap<DocId, Md5> {
    c.store().records().iter().map(|r| (r.doc_id, Md5::of(c.store().bytes(r).unwrap()))).collect()
}

#[test]
fn removed_records_leave_every_reader_then_compaction_drops_their_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let c = sample_org_collection(tmp.path(), 1);
    let dir = tmp.path().join("c");
    let all = c.store().records();
    let rows = c.store().rows();
    let gone = victims(&c);
    let gone_ids: HashSet<DocId> = gone.iter().map(|r| r.doc_id).collect();
    let live: Vec<Record> = all.iter().filter(|r| !gone_ids.contains(&r.doc_id)).cloned().collect();
    assert!(gone.len() > 80 && live.len() > 200, "{} removed, {} kept", gone.len(), live.len());
    let md5s_before = stored_md5s(&c);
    let generation = c.store().generation();
    drop(c);

    // One batch: the victims, one DocId twice, and one the collection never held.
    let stranger = DocId::derive("mail", &account("x@example.org"), "nowhere", &Md5::of(b"x"));
    let mut ask: Vec<DocId> = gone.iter().map(|r| r.doc_id).collect();
    ask.insert(3, gone[0].doc_id);
    ask.push(stranger);
    let mut w = CollectionWriter::open(&dir, 2).unwrap();
    let mut seen = Seen::default();
    let report = w.remove(&ask, &mut seen).unwrap();
    assert_eq!(seen.0, STEPS);
    assert!(report.balances());
    assert_eq!(report.requested, ask.len() as u64);
    assert_eq!(report.generation, generation + 1);
    assert_eq!(report.not_found, [stranger]);
    assert_eq!(report.duplicates, [gone[0].doc_id]);
    let removed: Vec<(DocId, u64, Md5, u64)> =
        report.removed.iter().map(|r| (r.doc_id, r.seq, r.md5, r.size)).collect();
    let want: Vec<(DocId, u64, Md5, u64)> =
        gone.iter().map(|r| (r.doc_id, r.seq, r.blob().md5, r.stored_bytes())).collect();
    assert_eq!(removed, want);
    // Asking again finds nothing and commits nothing.
    let again = w.remove(&[gone[1].doc_id], &mut NoProgress).unwrap();
    assert_eq!((again.removed.len(), again.not_found.len()), (0, 1));
    assert_eq!(again.generation, generation + 1);
    let c = w.finish().unwrap();

    assert_eq!(c.store().rows(), rows, "seqs are never reused");
    assert_eq!(c.store().removed().len(), gone.len());
    assert_eq!(c.index().num_docs(), live.len() as u64, "the index deleted their documents");
    assert!(!c.store().accounts().contains_key(&(Corpus::Mail, account("erin@example.org"))));
    assert_holds_exactly(&c, &live, &gone);
    assert_export_holds(&c, &live, &tmp.path().join("out1"));
    // Until compaction the bytes are in the record table, and the removed words in the index's
    // term dictionary (deleted documents are only marked).
    let data0 = std::fs::metadata(data_file(&dir, 0)).unwrap().len();
    let msgid = |r: &Record| r.mail().and_then(|m| m.message_id.clone()).unwrap().to_lowercase();
    let in_terms = |c: &Collection, r: &Record| {
        let id = msgid(r);
        c.index().expand(c.index().fields().message_id, &id, 2).unwrap().contains(&id)
    };
    assert!(in_terms(&c, &gone[0]));
    drop(c);

    let mut w = CollectionWriter::open(&dir, 2).unwrap();
    let mut seen = Seen::default();
    let k = w.compact(&mut seen).unwrap();
    assert_eq!(seen.0, STEPS);
    assert_eq!(k.generation, generation + 2);
    assert_eq!((k.records_dropped, k.records_kept), (gone.len() as u64, live.len() as u64));
    assert_eq!(k.data_bytes_before, data0);
    assert!(k.data_bytes_after < data0, "{k:?}");
    // Compacting again has nothing to do and commits nothing.
    let k2 = w.compact(&mut NoProgress).unwrap();
    assert_eq!((k2.generation, k2.records_dropped), (k.generation, 0));
    let c = w.finish().unwrap();

    assert_eq!(table_files(&dir), named_files(&dir), "the old epoch's files are gone");
    assert_eq!(manifest(&dir)["table"]["epoch"], 1);
    assert_eq!(std::fs::metadata(data_file(&dir, 1)).unwrap().len(), k.data_bytes_after);
    assert!(c.store().removed().is_empty());
    assert_eq!(c.store().rows(), rows);
    assert_holds_exactly(&c, &live, &gone);
    assert_export_holds(&c, &live, &tmp.path().join("out2"));
    assert!(!in_terms(&c, &gone[0]), "merged away with the deleted documents");
    assert!(in_terms(&c, &live[0]));
    // The kept records' stored bytes are those ingested.
    let md5s = stored_md5s(&c);
    assert_eq!(md5s.len(), live.len());
    for (id, m) in &md5s {
        assert_eq!(Some(m), md5s_before.get(id), "{id}");
    }
    drop(c);

    // Ingesting erin's mailbox again stores her records again, under new seqs: a removal is not
    // a block list.
    let org = sample::generate(&tmp.path().join("org"), 1).unwrap();
    let erin = org.sources.iter().find(|s| s.account.as_str() == "erin@example.org").unwrap();
    let mut w = CollectionWriter::open(&dir, 2).unwrap();
    let mut o = IngestOptions::new(erin.account.clone());
    o.org_unit = erin.org_unit.clone();
    let r = w.ingest(&erin.source, &o, &mut NoProgress).unwrap();
    assert_eq!((r.ingested, r.already_present), (erin.messages as u64, 0));
    let c = w.finish().unwrap();
    let back = c.store().seqs_of(Corpus::Mail, &erin.account).unwrap();
    assert_eq!(back.len(), erin.messages);
    assert!(back.iter().all(|&s| s >= rows), "new seqs after every old row");
    let (seqs, _) = search_seqs(&c, Scope::entire_org(Corpus::Mail), "");
    assert_eq!(
        seqs.len(),
        live.iter().filter(|r| r.corpus == Corpus::Mail).count() + erin.messages
    );
}

#[test]
fn removal_and_compaction_need_pushed_records_committed_first() {
    let tmp = tempfile::tempdir().unwrap();
    let c = sample_org_collection(tmp.path(), 1);
    let dir = tmp.path().join("c");
    let first = c.store().records().remove(0);
    drop(c);
    let mut w = Store::open(&dir).unwrap().writer().unwrap();
    let bytes = b"Message-ID: <late@x>\nSubject: late\n\nbody\n";
    let (blob, _) = w.put_blob(Md5::of(bytes), bytes).unwrap();
    let mut rec = first.clone();
    rec.seq = w.next_seq();
    rec.doc_id = DocId::derive("mail", &rec.account, "late", &blob.md5);
    rec.parts = ediscovery::model::Parts::new(ediscovery::model::Part::new(
        ediscovery::model::PartKind::Message,
        blob,
    ));
    w.push(&rec).unwrap();
    assert!(matches!(w.remove(first.seq), Err(StoreError::Uncommitted(_))));
    let e = w.compact(&mut NoProgress, |_| Ok(())).err().unwrap();
    assert!(matches!(e, Error::Store(StoreError::Uncommitted(_))), "{e}");
    w.commit(|_| Ok(())).unwrap();
    assert_eq!(w.remove(first.seq).unwrap(), Some(first.clone()));
    assert_eq!(w.remove(first.seq).unwrap(), None, "removed once");
    assert_eq!(w.remove(u64::MAX).unwrap(), None);
    assert!(!w.contains(first.corpus, &first.account, &first.doc_id).unwrap());
    w.commit(|_| Ok(())).unwrap();
    assert_eq!(w.store().get(first.seq).unwrap(), None);
    assert_eq!(w.store().removed(), [first.seq]);
}

// Crash tests: the child is this test binary, run with the step to stop at; at that step it
// says so on stdout and waits to be killed (SIGKILL: no destructor, no flush, as a crash).

const CHILD_DIR: &str = "EDISCOVERY_REMOVAL_DIR";
const CHILD_OP: &str = "EDISCOVERY_REMOVAL_OP";
const CHILD_AT: &str = "EDISCOVERY_REMOVAL_AT";
const CHILD_IDS: &str = "EDISCOVERY_REMOVAL_IDS";

/// Stops the process at one step: says so, then waits to be killed.
struct StopAt(CommitStep);
impl CommitSteps for StopAt {
    fn reached(&mut self, step: CommitStep) {
        if step == self.0 {
            let mut out = std::io::stdout();
            writeln!(out, "REACHED {step:?}").unwrap();
            out.flush().unwrap();
            // Killed long before this; never left behind if the parent died.
            std::thread::sleep(std::time::Duration::from_secs(120));
            std::process::exit(9);
        }
    }
}

/// Run only as a child of the crash tests (it does nothing without their variables).
#[test]
#[ignore = "a child process of the crash tests"]
fn crash_child() {
    let (Some(dir), Ok(op), Ok(at)) =
        (std::env::var_os(CHILD_DIR), std::env::var(CHILD_OP), std::env::var(CHILD_AT))
    else {
        return;
    };
    let at = *STEPS.iter().find(|s| format!("{s:?}") == at).unwrap();
    let mut w = CollectionWriter::open(Path::new(&dir), 1).unwrap();
    let mut stop = StopAt(at);
    match op.as_str() {
        "remove" => {
            let ids: Vec<DocId> =
                std::env::var(CHILD_IDS).unwrap().split(',').map(|s| s.parse().unwrap()).collect();
            w.remove(&ids, &mut stop).unwrap();
        }
        "compact" => {
            w.compact(&mut stop).unwrap();
        }
        other => panic!("{other}"),
    }
    panic!("finished without reaching {at:?}");
}

/// Run `op` on `dir` in a child process and kill it at `at`.
fn kill_at(dir: &Path, op: &str, at: CommitStep, ids: &[DocId]) {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "it::removal::crash_child", "--ignored", "--nocapture"])
        .env(CHILD_DIR, dir)
        .env(CHILD_OP, op)
        .env(CHILD_AT, format!("{at:?}"))
        .env(CHILD_IDS, ids.join(","))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = Vec::new();
    let mut reached = false;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        reached = line == format!("REACHED {at:?}");
        said.push(line);
        if reached {
            break;
        }
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        reached,
        "{op} never reached {at:?}: {}\n{}",
        said.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a reader sees, to compare two collections by.
#[derive(Debug, PartialEq)]
struct View {
    records: Vec<Record>,
    stats: Stats,
    mail: BTreeSet<u64>,
    groups: BTreeSet<u64>,
    falcon: ediscovery::Counts,
}

fn view(c: &Collection) -> View {
    View {
        records: c.store().records(),
        stats: c.stats(),
        mail: search_seqs(c, Scope::entire_org(Corpus::Mail), "").0,
        groups: search_seqs(c, Scope::entire_org(Corpus::Groups), "").0,
        falcon: search_seqs(c, Scope::entire_org(Corpus::Mail), "falcon").1,
    }
}

/// The index's committed segments (from tantivy's `meta.json`): a writer that repairs the index
/// only deletes documents (a segment left with none is dropped), one that rebuilds it writes
/// new segments.
fn segments(dir: &Path) -> BTreeSet<String> {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index/meta.json")).unwrap()).unwrap();
    let ids = meta["segments"].as_array().unwrap().iter();
    ids.map(|s| s["segment_id"].as_str().unwrap().to_owned()).collect()
}

/// After a kill, a writer opens (cleaning up), the index is exact, and nothing the manifest
/// does not name is left in `records/`.
fn reopen_writer(dir: &Path) -> Collection {
    let c = CollectionWriter::open(dir, 1).unwrap().finish().unwrap();
    assert_eq!(table_files(dir), named_files(dir));
    assert_eq!(c.index().num_docs(), c.store().len(), "the index holds exactly the records");
    c
}

#[test]
fn a_removal_killed_at_each_step_keeps_all_or_none_of_its_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let template = tmp.path().join("c");
    let c = sample_org_collection(tmp.path(), 1);
    let gone = victims(&c);
    let ids: Vec<DocId> = gone.iter().map(|r| r.doc_id).collect();
    let before = view(&c);
    drop(c);
    let segs = segments(&template);
    // The same removal, uninterrupted: what every kill after the commit point must give.
    let done = tmp.path().join("done");
    copy_dir(&template, &done);
    let mut w = CollectionWriter::open(&done, 1).unwrap();
    assert_eq!(w.remove(&ids, &mut NoProgress).unwrap().removed.len(), gone.len());
    let after = view(&w.finish().unwrap());
    assert_eq!(after.records.len() + gone.len(), before.records.len());

    for at in STEPS {
        let dir = tmp.path().join(format!("{at:?}"));
        copy_dir(&template, &dir);
        let summaries =
            named_files(&dir).into_iter().find(|f| f.starts_with("summaries-")).unwrap();
        kill_at(&dir, "remove", at, &ids);
        let committed = !matches!(at, CommitStep::Prepared | CommitStep::IndexCommitted);
        // A reader opens as it is, repairing nothing.
        let c = Collection::open(&dir).unwrap_or_else(|e| panic!("{at:?}: {e}"));
        assert_eq!(&view(&c), if committed { &after } else { &before }, "{at:?}");
        let index_docs = c.index().num_docs();
        match at {
            // The removed records' documents are still in the index: the record table hides them.
            CommitStep::Committed | CommitStep::CleanedUp => {
                assert_eq!(index_docs, before.records.len() as u64, "{at:?}")
            }
            _ => assert_eq!(index_docs, c.store().len(), "{at:?}"),
        }
        drop(c);
        let leftover = dir.join("records").join(&summaries).exists();
        // The previous summaries file outlives the commit only when killed before its cleanup.
        assert_eq!(
            leftover,
            at != CommitStep::CleanedUp && at != CommitStep::IndexUpdated,
            "{at:?}"
        );
        let c = reopen_writer(&dir);
        assert_eq!(&view(&c), if committed { &after } else { &before }, "{at:?} after a writer");
        // Stale documents are deleted; nothing is re-indexed.
        assert!(segments(&dir).is_subset(&segs), "{at:?}: the index was repaired, not rebuilt");
    }
}

#[test]
fn a_compaction_killed_at_each_step_keeps_every_record() {
    let tmp = tempfile::tempdir().unwrap();
    let template = tmp.path().join("c");
    let c = sample_org_collection(tmp.path(), 1);
    let gone = victims(&c);
    let ids: Vec<DocId> = gone.iter().map(|r| r.doc_id).collect();
    drop(c);
    let mut w = CollectionWriter::open(&template, 1).unwrap();
    w.remove(&ids, &mut NoProgress).unwrap();
    let c = w.finish().unwrap();
    let want = view(&c);
    let md5s = stored_md5s(&c);
    drop(c);
    let data0 = std::fs::metadata(data_file(&template, 0)).unwrap().len();
    let segs = segments(&template);

    for at in STEPS {
        let dir = tmp.path().join(format!("{at:?}"));
        copy_dir(&template, &dir);
        kill_at(&dir, "compact", at, &[]);
        let committed = !matches!(at, CommitStep::Prepared | CommitStep::IndexCommitted);
        assert_eq!(manifest(&dir)["table"]["epoch"], u64::from(committed), "{at:?}");
        // Both epochs are on disk until the cleanup: the next one written before the commit, the
        // old one deleted after it.
        assert!(data_file(&dir, 1).exists(), "{at:?}");
        let old_left = data_file(&dir, 0).exists();
        assert_eq!(old_left, !matches!(at, CommitStep::CleanedUp | CommitStep::IndexUpdated));
        if at == CommitStep::Prepared {
            // As if killed while writing the next epoch: a torn file no manifest names.
            let f = std::fs::OpenOptions::new().write(true).open(data_file(&dir, 1)).unwrap();
            let len = f.metadata().unwrap().len();
            f.set_len(len / 2).unwrap();
        }
        let c = Collection::open(&dir).unwrap_or_else(|e| panic!("{at:?}: {e}"));
        assert_eq!(view(&c), want, "{at:?}");
        drop(c);

        let c = reopen_writer(&dir);
        assert_eq!(view(&c), want, "{at:?} after a writer");
        if at != CommitStep::IndexUpdated {
            assert!(segments(&dir).is_subset(&segs), "{at:?}: the index was repaired, not rebuilt");
        }
        assert_eq!(stored_md5s(&c), md5s);
        drop(c);
        // The compaction is done, or can be done again.
        let mut w = CollectionWriter::open(&dir, 1).unwrap();
        let k = w.compact(&mut NoProgress).unwrap();
        assert_eq!(k.records_dropped, if committed { 0 } else { gone.len() as u64 }, "{at:?}");
        let c = w.finish().unwrap();
        assert_eq!(view(&c), want, "{at:?} compacted");
        assert_eq!(table_files(&dir), named_files(&dir));
        assert!(std::fs::metadata(data_file(&dir, 1)).unwrap().len() < data0);
    }
}

/// Pack bytes of removed records that no live record shares are given back to the filesystem
/// (holes punched, checked by Python's `os.stat` block count), every live record's bytes stay
/// exactly as ingested (export verified by the independent reader), the removed ranges read as
/// zeros, and a second reclaim finds nothing more to give back.
#[test]
fn reclaim_gives_back_the_disk_space_of_removed_blobs_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    // Forty messages of about 24 KiB each, distinct bytes: removed ones span whole blocks.
    let mut mbox = Vec::new();
    for i in 0..40 {
        write!(mbox, "From a@x Mon Jan  1 00:00:00 2024\nMessage-ID: <m{i}@x>\nFrom: a@x\n")
            .unwrap();
        write!(mbox, "Subject: message {i}\nDate: Mon, 1 Jan 2024 00:00:{i:02} +0000\n\n").unwrap();
        for line in 0..400 {
            writeln!(mbox, "message {i} line {line} {}", "filler ".repeat(8)).unwrap();
        }
        writeln!(mbox).unwrap();
    }
    let path = write(tmp.path(), "big.mbox", &mbox);
    let dir = tmp.path().join("c");
    let (c, report) =
        ingest_into(&dir, ediscovery::ingest::Source::Mbox(path), "a@x", Corpus::Mail);
    assert_eq!(report.ingested, 40);
    let all = c.store().records();
    let (gone, live): (Vec<Record>, Vec<Record>) = all.into_iter().partition(|r| r.seq % 2 == 1);
    let gone_bytes: u64 = gone.iter().map(|r| r.blob().size).sum();
    drop(c);

    let pack = dir.join("packs/000000.pack");
    let blocks = |p: &Path| -> u64 {
        let py = Command::new("python3")
            .args(["-c", "import os,sys; print(os.stat(sys.argv[1]).st_blocks * 512)"])
            .arg(p)
            .output()
            .expect("python3");
        String::from_utf8_lossy(&py.stdout).trim().parse().unwrap()
    };
    let size_before = std::fs::metadata(&pack).unwrap().len();
    let mut w = CollectionWriter::open(&dir, 1).unwrap();
    let ids: Vec<DocId> = gone.iter().map(|r| r.doc_id).collect();
    assert_eq!(w.remove(&ids, &mut NoProgress).unwrap().removed.len(), gone.len());
    let before = blocks(&pack);
    let r = w.reclaim().unwrap();
    if !r.supported {
        eprintln!("SKIPPED: this filesystem cannot punch holes");
        return;
    }
    assert_eq!(r.allocated_before, before);
    assert_eq!(r.allocated_after, blocks(&pack), "what Python's os.stat sees");
    assert_eq!(r.range_bytes, gone_bytes, "exactly the removed records' bytes were unreferenced");
    assert_eq!(r.ranges, gone.len() as u64, "one range between each pair of live records");
    // Whole 4 KiB blocks inside each ~24 KiB range are freed; partial ones are zeroed.
    assert!(r.freed() >= gone_bytes - gone.len() as u64 * 8192, "{r:?} of {gone_bytes}");
    assert_eq!(std::fs::metadata(&pack).unwrap().len(), size_before, "offsets do not move");
    let again = w.reclaim().unwrap();
    assert_eq!((again.freed(), again.range_bytes), (0, gone_bytes), "{again:?}");
    let c = w.finish().unwrap();

    let packed = std::fs::read(&pack).unwrap();
    for g in &gone {
        let b = g.blob();
        let range = &packed[b.offset as usize..(b.offset + b.size) as usize];
        assert!(range.iter().all(|&x| x == 0), "removed record {} reads as zeros", g.seq);
    }
    for l in &live {
        assert_eq!(Md5::of(c.store().bytes(l).unwrap()), l.blob().md5, "live record {}", l.seq);
    }
    assert_holds_exactly(&c, &live, &gone);
    assert_export_holds(&c, &live, &tmp.path().join("out"));
    drop(c);

    // The CLI: the record table drops the removed records' bytes; the packs have nothing more.
    let (code, out, err) =
        run_cli(&["compact".as_ref(), "--collection".as_ref(), dir.as_os_str(), "--json".as_ref()]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["compaction"]["records_dropped"], gone.len() as u64, "{j}");
    assert_eq!((j["freed"].as_u64(), j["reclaimed"]["supported"].as_bool()), (Some(0), Some(true)));
    let c = Collection::open(&dir).unwrap();
    for l in &live {
        assert_eq!(Md5::of(c.store().bytes(l).unwrap()), l.blob().md5, "live record {}", l.seq);
    }
    let (code, _, err) = run_cli(&[
        "compact".as_ref(),
        "--collection".as_ref(),
        tmp.path().join("nope").as_os_str(),
    ]);
    assert_eq!(code, 1, "not a collection: {err}");
    assert!(!tmp.path().join("nope").exists(), "a mistyped path does not become a collection");
}
