use super::*;
use crate::model::{
    Attachment, BlobRef, Defect, DocId, MailMeta, Mailbox, Metadata, Part, PartKind, Parts,
    SourceKind, SourceRef,
};
use std::cell::Cell;

fn account(s: &str) -> Account {
    Account::new(s).unwrap()
}

/// A record with some of everything optional filled depending on `seq`.
fn rec(seq: u64, corpus: Corpus, acct: &str, ou: &str) -> Record {
    let account = account(acct);
    let content = Md5::of(format!("body {seq}").as_bytes());
    let first = DocId::derive("mail", &account, "k", &content);
    let mut meta = MailMeta {
        message_id: Some(format!("{seq}@example.com")),
        from: vec![Mailbox { name: Some("Zoë \"Z\" Ünicode".into()), address: "z@x.org".into() }],
        to: vec![Mailbox { name: None, address: acct.into() }],
        subject: Some(format!("subject {seq} \u{1}\t\"quoted\"")),
        date_sent: Some(1_600_000_000 + seq as i64),
        labels: vec!["^INBOX".into()],
        ..MailMeta::default()
    };
    if seq.is_multiple_of(2) {
        meta.attachments = vec![Attachment {
            name: Some("a.pdf".into()),
            content_type: "application/pdf".into(),
            size: 7,
        }];
        meta.is_draft = true;
    }
    Record {
        doc_id: DocId::derive(corpus.as_str(), &account, &format!("x.mbox#{seq}"), &content),
        seq,
        corpus,
        account,
        org_unit: OrgUnit::new(ou),
        source: SourceRef {
            kind: SourceKind::Mbox,
            path: "x.mbox".into(),
            key: format!("x.mbox#{seq}"),
            offset: (!seq.is_multiple_of(3)).then_some(seq * 100),
        },
        parts: Parts::new(Part::new(
            PartKind::Message,
            BlobRef { md5: content, size: 100 + seq, pack: 0, offset: seq * 1000, crc32: None },
        )),
        meta: Metadata::Mail(Box::new(meta)),
        defects: match seq % 4 {
            0 => vec![],
            1 => vec![Defect::MissingMessageId],
            2 => vec![Defect::MimeTooDeep { limit: 3 }, Defect::BadDate],
            _ => vec![Defect::DuplicateMessageId { first }],
        },
    }
}

const ACCOUNTS: [(Corpus, &str, &str); 4] = [
    (Corpus::Mail, "bob@example.com", "/Legal"),
    (Corpus::Mail, "alice@example.com", "/Sales/EMEA"),
    (Corpus::Groups, "all@example.com", "/"),
    (Corpus::Mail, "carol@example.com", "/Legal"),
];

fn rec_n(seq: u64) -> Record {
    let (c, a, ou) = ACCOUNTS[(seq as usize * 7 / 3) % ACCOUNTS.len()];
    // Alternate two org units for bob, so summaries count several.
    let ou = if a.starts_with("bob") && seq % 2 == 1 { "/Legal/US" } else { ou };
    rec(seq, c, a, ou)
}

/// The expected state: every row, `None` when removed.
#[derive(Clone, Debug, Default)]
struct Model(Vec<Option<Record>>);

impl Model {
    fn totals(&self) -> Vec<(Corpus, Account, AccountTotals)> {
        let mut m: BTreeMap<(Corpus, Account), AccountTotals> = BTreeMap::new();
        for r in self.0.iter().flatten() {
            m.entry((r.corpus, r.account.clone())).or_default().add(r);
        }
        m.into_iter().map(|((c, a), t)| (c, a, t)).collect()
    }
}

/// Everything a reader shows, compared against the model.
fn check(t: &RecordTable, model: &Model) {
    assert_eq!(t.rows(), model.0.len() as u64);
    assert_eq!(t.live(), model.0.iter().flatten().count() as u64);
    for (seq, want) in model.0.iter().enumerate() {
        let seq = seq as u64;
        assert_eq!(t.get(seq).unwrap().as_ref(), want.as_ref(), "seq {seq}");
        assert_eq!(
            t.account_of(seq).unwrap().map(|(c, a)| (c, a.clone())),
            want.as_ref().map(|r| (r.corpus, r.account.clone()))
        );
        assert_eq!(
            t.key(seq).unwrap().map(|(c, a, k)| (c, a.clone(), k)),
            want.as_ref().map(|r| (r.corpus, r.account.clone(), Key::of(r))),
            "key of seq {seq}"
        );
    }
    assert_eq!(t.key(model.0.len() as u64).unwrap(), None);
    assert_eq!(t.get(model.0.len() as u64).unwrap(), None);
    assert_eq!(t.get(u64::MAX).unwrap(), None);
    let got: Vec<_> = t.accounts().map(|(c, a, s)| (c, a.clone(), s.clone())).collect();
    assert_eq!(got, model.totals());
    for (c, a, s) in model.totals() {
        assert_eq!(t.summary(c, &a), Some(&s));
        let want: Vec<u64> = model
            .0
            .iter()
            .flatten()
            .filter(|r| r.corpus == c && r.account == a)
            .map(|r| r.seq)
            .collect();
        assert_eq!(t.seqs_of(c, &a).unwrap().collect::<Vec<_>>(), want);
    }
    assert_eq!(t.summary(Corpus::Voice, &account("nobody@example.com")), None);
    assert_eq!(t.seqs_of(Corpus::Voice, &account("nobody@example.com")).unwrap().count(), 0);
}

/// Append records `from..to` to the writer and the model.
fn append(w: &mut RecordTableWriter, model: &mut Model, from: u64, to: u64) {
    for seq in from..to {
        let r = rec_n(seq);
        assert_eq!(w.append(&r).unwrap(), seq);
        model.0.push(Some(r));
    }
}

fn remove(w: &mut RecordTableWriter, model: &mut Model, seq: u64) {
    let was = model.0.get(seq as usize).and_then(|r| r.as_ref()).is_some();
    assert_eq!(w.remove(seq).unwrap(), was, "remove {seq}");
    if let Some(r) = model.0.get_mut(seq as usize) {
        *r = None;
    }
}

fn commit(w: &mut RecordTableWriter) -> TableManifest {
    let m = w.prepare().unwrap();
    w.committed(&m).unwrap();
    m
}

fn table_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn empty_table_opens_without_files() {
    let tmp = tempfile::tempdir().unwrap();
    let t = RecordTable::open(&tmp.path().join("none"), &TableManifest::default()).unwrap();
    check(&t, &Model::default());
    let mut w = RecordTableWriter::open(tmp.path(), None).unwrap();
    let m = commit(&mut w);
    assert_eq!((m.rows, m.live, m.generation), (0, 0, 1));
    check(&RecordTable::open(tmp.path(), &m).unwrap(), &Model::default());
}

#[test]
fn round_trip_over_several_commits_and_reopens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 10);
    let m1 = commit(&mut w);
    check(&RecordTable::open(dir, &m1).unwrap(), &model);
    // A reader opened at a commit keeps seeing exactly it while the writer commits on (files
    // only grow; the old summaries file goes, but the reader read it at open).
    let at_m1 = RecordTable::open(dir, &m1).unwrap();
    let old = model.clone();
    append(&mut w, &mut model, 10, 25);
    let m2 = commit(&mut w);
    drop(w);
    check(&at_m1, &old);
    check(&RecordTable::open(dir, &m2).unwrap(), &model);
    // Reopened writer continues the seqs and the account runs.
    let mut w = RecordTableWriter::open(dir, Some(&m2)).unwrap();
    assert_eq!(w.next_seq(), 25);
    let wrong = rec_n(3);
    assert!(matches!(w.append(&wrong), Err(TableError::SeqMismatch { expected: 25, got: 3 })));
    append(&mut w, &mut model, 25, 31);
    let m3 = commit(&mut w);
    check(&RecordTable::open(dir, &m3).unwrap(), &model);
    // Only the newest summaries file remains.
    assert_eq!(
        table_files(dir),
        [
            "accounts-0000.bin",
            "data-0000.bin",
            "keys-0000.bin",
            "rows-0000.bin",
            "summaries-00000003.bin",
            "tombstones-0000.bin"
        ]
    );
    // The manifest is plain data for MANIFEST.json.
    let json = serde_json::to_string(&m3).unwrap();
    assert_eq!(serde_json::from_str::<TableManifest>(&json).unwrap(), m3);
}

#[test]
fn open_and_count_read_no_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 12);
    let m = commit(&mut w);
    drop(w);
    // Make every record unreadable: same length, no JSON left.
    let data = epoch_path(dir, Kind::Data, 0);
    let len = fs::metadata(&data).unwrap().len();
    fs::write(&data, vec![0xffu8; len as usize]).unwrap();
    let t = RecordTable::open(dir, &m).unwrap();
    assert_eq!((t.rows(), t.live()), (12, 12));
    assert_eq!(t.accounts().count(), ACCOUNTS.len());
    assert_eq!(t.accounts().map(|(_, _, s)| s.records).sum::<u64>(), 12);
    for (c, a, _) in model.totals() {
        assert!(t.seqs_of(c, &a).unwrap().count() > 0);
        assert_eq!(t.account_of(t.seqs_of(c, &a).unwrap().next().unwrap()).unwrap(), Some((c, &a)));
    }
    // Decoding is where it fails, naming the file and the row.
    match t.get(5) {
        Err(TableError::Corrupt { path, at: At::Row(5), .. }) => assert_eq!(path, data),
        other => panic!("{other:?}"),
    }
}

#[test]
fn accounts_are_listed_by_corpus_then_account() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = RecordTableWriter::open(tmp.path(), None).unwrap();
    let order = [
        (Corpus::Groups, "b@x.org"),
        (Corpus::Mail, "z@x.org"),
        (Corpus::Mail, "a@x.org"),
        (Corpus::Groups, "a@x.org"),
        (Corpus::Mail, "m@x.org"),
    ];
    for (seq, (c, a)) in order.iter().enumerate() {
        w.append(&rec(seq as u64, *c, a, "/")).unwrap();
    }
    let m = commit(&mut w);
    let t = RecordTable::open(tmp.path(), &m).unwrap();
    let got: Vec<(Corpus, &str)> = t.accounts().map(|(c, a, _)| (c, a.as_str())).collect();
    assert_eq!(
        got,
        [
            (Corpus::Mail, "a@x.org"),
            (Corpus::Mail, "m@x.org"),
            (Corpus::Mail, "z@x.org"),
            (Corpus::Groups, "a@x.org"),
            (Corpus::Groups, "b@x.org"),
        ]
    );
    // The same address in two corpora is two accounts.
    assert_eq!(t.seqs_of(Corpus::Groups, &account("a@x.org")).unwrap().collect::<Vec<_>>(), [3]);
    assert_eq!(t.seqs_of(Corpus::Mail, &account("a@x.org")).unwrap().collect::<Vec<_>>(), [2]);
}

#[test]
fn summaries_stay_exact_through_removals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 20);
    commit(&mut w);
    // Committed, and pending (appended in this commit) records; repeats and misses are no-ops.
    append(&mut w, &mut model, 20, 30);
    for seq in [1, 3, 3, 22, 29, 29, 30, 1000, u64::MAX] {
        remove(&mut w, &mut model, seq);
    }
    assert_eq!(w.live(), 26);
    let m = commit(&mut w);
    assert_eq!((m.rows, m.live, m.tombstones_len), (30, 26, 32));
    check(&RecordTable::open(dir, &m).unwrap(), &model);
    drop(w);
    // After a reopen, committed tombstones still count: removing again is a no-op.
    let mut w = RecordTableWriter::open(dir, Some(&m)).unwrap();
    remove(&mut w, &mut model, 3);
    // Remove every record of one account: it disappears from the listing.
    let bob: Vec<u64> = model
        .0
        .iter()
        .flatten()
        .filter(|r| r.account.as_str() == "bob@example.com")
        .map(|r| r.seq)
        .collect();
    assert!(bob.len() > 2);
    for s in bob {
        remove(&mut w, &mut model, s);
    }
    let m = commit(&mut w);
    let t = RecordTable::open(dir, &m).unwrap();
    check(&t, &model);
    assert_eq!(t.summary(Corpus::Mail, &account("bob@example.com")), None);
    assert!(t.accounts().all(|(_, a, _)| a.as_str() != "bob@example.com"));
}

#[test]
fn compaction_keeps_live_records_byte_identical_and_seqs_stable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 15);
    commit(&mut w);
    append(&mut w, &mut model, 15, 30);
    for s in [0, 4, 5, 17, 29] {
        remove(&mut w, &mut model, s);
    }
    // Not committed yet: refused.
    assert!(matches!(w.compact(), Err(TableError::Uncommitted(_))));
    let m1 = commit(&mut w);
    let before = RecordTable::open(dir, &m1).unwrap();
    let raw: Vec<Option<Vec<u8>>> = (0..30)
        .map(|s| before.live_row(s).unwrap().map(|r| before.record_bytes(s, &r).unwrap().to_vec()))
        .collect();
    let m2 = w.compact().unwrap();
    assert_eq!((m2.epoch, m2.rows, m2.live, m2.tombstones_len), (1, 30, 25, 0));
    assert!(m2.data_len < m1.data_len);
    // Until committed, the old epoch stays whole and readable.
    check(&before, &model);
    drop(before);
    w.committed(&m2).unwrap();
    assert!(table_files(dir).iter().all(|f| !f.contains("-0000.bin")), "{:?}", table_files(dir));
    let after = RecordTable::open(dir, &m2).unwrap();
    check(&after, &model);
    for (s, want) in raw.iter().enumerate() {
        let got = after
            .live_row(s as u64)
            .unwrap()
            .map(|r| after.record_bytes(s as u64, &r).unwrap().to_vec());
        assert_eq!(&got, want, "seq {s}");
    }
    // Removed rows stay removed: also for the writer, across a reopen.
    drop(w);
    let mut w = RecordTableWriter::open(dir, Some(&m2)).unwrap();
    remove(&mut w, &mut model, 4);
    remove(&mut w, &mut model, 6);
    append(&mut w, &mut model, 30, 34);
    let m3 = commit(&mut w);
    check(&RecordTable::open(dir, &m3).unwrap(), &model);
    // A second compaction, straight after its commit.
    let m4 = w.compact().unwrap();
    w.committed(&m4).unwrap();
    assert_eq!(m4.epoch, 2);
    check(&RecordTable::open(dir, &m4).unwrap(), &model);
}

/// Every file's length and the summaries file names match `m` exactly.
fn assert_cut_to(dir: &Path, m: &TableManifest) {
    for k in Kind::ALL {
        let len = fs::metadata(epoch_path(dir, k, m.epoch)).unwrap().len();
        assert_eq!(Some(len), m.committed_len(k), "{k:?}");
    }
    let mut want: Vec<String> = m
        .names(dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    want.sort();
    assert_eq!(table_files(dir), want);
}

#[test]
fn a_crash_before_the_commit_leaves_exactly_the_committed_state() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 12);
    remove(&mut w, &mut model, 2);
    let m = commit(&mut w);
    // A file that is not the table's (a JSON Lines segment of an older collection) stays.
    fs::write(dir.join("000001.jsonl"), b"{}\n").unwrap();
    let committed = model.clone();

    // 1. Appended and removed, never prepared (some bytes reach the files when buffers fill).
    let mut scratch = model.clone();
    append(&mut w, &mut scratch, 12, 20);
    remove(&mut w, &mut scratch, 3);
    remove(&mut w, &mut scratch, 13);
    drop(w);
    let w = RecordTableWriter::open(dir, Some(&m)).unwrap();
    drop(w);
    fs::remove_file(dir.join("000001.jsonl")).unwrap();
    assert_cut_to(dir, &m);
    check(&RecordTable::open(dir, &m).unwrap(), &committed);

    // 2. Prepared (all synced, a new summaries file), the collection's manifest never renamed.
    let mut w = RecordTableWriter::open(dir, Some(&m)).unwrap();
    let mut scratch = model.clone();
    append(&mut w, &mut scratch, 12, 20);
    remove(&mut w, &mut scratch, 5);
    let lost = w.prepare().unwrap();
    assert!(lost.data_len > m.data_len);
    drop(w);
    // 3. … and the last record cut mid-way, the rows file mid-row.
    let data = epoch_path(dir, Kind::Data, 0);
    fs::OpenOptions::new().write(true).open(&data).unwrap().set_len(lost.data_len - 9).unwrap();
    let rows = epoch_path(dir, Kind::Rows, 0);
    fs::OpenOptions::new().write(true).open(&rows).unwrap().set_len(lost.rows * 16 - 3).unwrap();
    let mut w = RecordTableWriter::open(dir, Some(&m)).unwrap();
    assert_cut_to(dir, &m);
    check(&RecordTable::open(dir, &m).unwrap(), &committed);

    // The writer carries on from the committed state.
    append(&mut w, &mut model, 12, 16);
    remove(&mut w, &mut model, 5);
    let m2 = commit(&mut w);
    check(&RecordTable::open(dir, &m2).unwrap(), &model);

    // 4. A compaction whose manifest was never committed: its epoch's files go.
    let _ = w.compact().unwrap();
    drop(w);
    assert!(table_files(dir).iter().any(|f| f.contains("-0001.bin")));
    let w = RecordTableWriter::open(dir, Some(&m2)).unwrap();
    assert_cut_to(dir, &m2);
    check(&RecordTable::open(dir, &m2).unwrap(), &model);
    drop(w);

    // 5. Committed but `committed` never called (crash right after the rename): the next writer
    // cleans the old epoch up.
    let mut w = RecordTableWriter::open(dir, Some(&m2)).unwrap();
    let m3 = w.compact().unwrap();
    drop(w);
    let _w = RecordTableWriter::open(dir, Some(&m3)).unwrap();
    assert_cut_to(dir, &m3);
    check(&RecordTable::open(dir, &m3).unwrap(), &model);
}

#[test]
fn a_file_shorter_than_committed_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 5);
    let m = commit(&mut w);
    drop(w);
    let rows = epoch_path(dir, Kind::Rows, 0);
    fs::OpenOptions::new().write(true).open(&rows).unwrap().set_len(70).unwrap();
    for e in [RecordTable::open(dir, &m).err(), RecordTableWriter::open(dir, Some(&m)).err()] {
        match e {
            Some(TableError::Corrupt { path, at: At::File, .. }) => assert_eq!(path, rows),
            other => panic!("{other:?}"),
        }
    }
    // A manifest claiming more than was ever written.
    let lying = TableManifest { rows: 6, ..m };
    assert!(RecordTable::open(dir, &lying).is_err());
}

#[test]
fn a_corrupt_row_names_the_file_and_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 5);
    let m = commit(&mut w);
    drop(w);
    let rows = epoch_path(dir, Kind::Rows, 0);
    let mut b = fs::read(&rows).unwrap();
    b[3 * 16 + 5] = 0x7f; // row 3's offset, far past the data
    b[4 * 16 + 13] = 0x10; // row 4's account id, unknown
    fs::write(&rows, &b).unwrap();
    let t = RecordTable::open(dir, &m).unwrap();
    for seq in [3, 4] {
        match t.get(seq) {
            Err(e @ TableError::Corrupt { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains("rows-0000.bin") && text.contains(&format!("row {seq}")),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(t.account_of(4).is_err());
    assert_eq!(t.get(2).unwrap().as_ref(), model.0[2].as_ref());
}

/// About 50 places per file (every byte of the tombstones), to keep the test fast in debug builds.
fn stride(len: usize) -> usize {
    (len / 50).max(1)
}

/// Read everything a reader and a writer can, ignoring the results: only panics matter.
fn exercise(dir: &Path, m: &TableManifest, calls: &Cell<u64>) {
    if let Ok(t) = RecordTable::open(dir, m) {
        for seq in 0..t.rows() + 1 {
            let _ = t.get(seq);
            let _ = t.account_of(seq);
            let _ = t.key(seq);
        }
        let accounts: Vec<(Corpus, Account)> =
            t.accounts().map(|(c, a, _)| (c, a.clone())).collect();
        for (c, a) in accounts {
            let _ = t.summary(c, &a);
            if let Ok(it) = t.seqs_of(c, &a) {
                let _ = it.count();
            }
        }
        calls.set(calls.get() + 1);
    }
    // The writer reads rows and records to remove them; nothing is prepared, so nothing written.
    if let Ok(mut w) = RecordTableWriter::open(dir, Some(m)) {
        for seq in 0..m.rows {
            let _ = w.remove(seq);
        }
    }
}

#[test]
fn corrupt_files_give_errors_never_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 6);
    commit(&mut w);
    append(&mut w, &mut model, 6, 10);
    remove(&mut w, &mut model, 1);
    remove(&mut w, &mut model, 7);
    let m = commit(&mut w);
    drop(w);
    let opened = Cell::new(0);
    let mut detected = 0;
    let files: Vec<PathBuf> = m.names(dir);
    for path in &files {
        let orig = fs::read(path).unwrap();
        let stride = stride(orig.len());
        for pos in (0..orig.len()).step_by(stride) {
            // Low bits (small offsets, lengths and counts off by one) and whole bytes.
            let mut b = orig.clone();
            b[pos] ^= if pos % 2 == 0 { 0xff } else { 0x01 };
            fs::write(path, &b).unwrap();
            exercise(dir, &m, &opened);
            fs::write(path, &orig[..pos]).unwrap();
            exercise(dir, &m, &opened);
            if RecordTable::open(dir, &m).is_err() {
                detected += 1;
            }
        }
        // The writer checks the same way (and cuts nothing shorter than committed).
        fs::write(path, &orig[..orig.len() / 2]).unwrap();
        assert!(RecordTableWriter::open(dir, Some(&m)).is_err(), "{path:?}");
        fs::write(path, &orig).unwrap();
        if path.to_string_lossy().contains("summaries") {
            // Any damage to the summaries is caught by its checksum.
            let mut b = orig.clone();
            b[orig.len() / 3] ^= 4;
            fs::write(path, &b).unwrap();
            assert!(RecordTable::open(dir, &m).is_err());
            assert!(RecordTableWriter::open(dir, Some(&m)).is_err());
            fs::write(path, &orig).unwrap();
        }
    }
    // Every truncation of a non-empty file below its committed length is refused at open.
    let truncations: usize = files
        .iter()
        .map(|p| {
            let len = fs::metadata(p).unwrap().len() as usize;
            len.div_ceil(stride(len))
        })
        .sum();
    assert_eq!(detected, truncations);
    assert!(opened.get() > 0);
    check(&RecordTable::open(dir, &m).unwrap(), &model);
}

#[test]
fn writer_removal_reads_check_the_files_too() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 4);
    let m = commit(&mut w);
    drop(w);
    let data = epoch_path(dir, Kind::Data, 0);
    let mut b = fs::read(&data).unwrap();
    b[10] ^= 0xff;
    b[1] ^= 0x40; // record 0's length header
    fs::write(&data, &b).unwrap();
    let mut w = RecordTableWriter::open(dir, Some(&m)).unwrap();
    assert!(matches!(w.remove(0), Err(TableError::Corrupt { at: At::Row(0), .. })));
    assert!(w.remove(1).unwrap());
}

#[test]
fn many_small_accounts_with_nothing_left() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    for seq in 0..40u64 {
        w.append(&rec(seq, Corpus::Mail, &format!("{seq}@b"), "/")).unwrap();
    }
    commit(&mut w);
    for seq in 0..40 {
        assert!(w.remove(seq).unwrap());
    }
    // Entries with short names and no org units: the smallest the summaries file holds.
    let m = commit(&mut w);
    let t = RecordTable::open(dir, &m).unwrap();
    check(&t, &Model(vec![None; 40]));
    drop(w);
    let mut w = RecordTableWriter::open(dir, Some(&m)).unwrap();
    let m = w.compact().unwrap();
    w.committed(&m).unwrap();
    assert_eq!((m.data_len, m.accounts_len, m.live), (0, 0, 0));
    check(&RecordTable::open(dir, &m).unwrap(), &Model(vec![None; 40]));
}

#[test]
fn lying_manifests_give_errors_never_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 8);
    remove(&mut w, &mut model, 2);
    let m = commit(&mut w);
    drop(w);
    let opened = Cell::new(0);
    let fields: [fn(&mut TableManifest) -> &mut u64; 6] = [
        |m| &mut m.generation,
        |m| &mut m.rows,
        |m| &mut m.live,
        |m| &mut m.data_len,
        |m| &mut m.accounts_len,
        |m| &mut m.tombstones_len,
    ];
    for field in fields {
        let orig = *field(&mut m.clone());
        for v in
            [0, 1, 7, 8, 15, 16, orig - 1, orig + 1, u64::from(u32::MAX), u64::MAX / 16, u64::MAX]
        {
            let mut lie = m.clone();
            *field(&mut lie) = v;
            // Readers only: a writer would (rightly) cut the files to the lie.
            if let Ok(t) = RecordTable::open(dir, &lie) {
                for seq in 0..t.rows() + 1 {
                    let _ = t.get(seq);
                    let _ = t.account_of(seq);
                    let _ = t.key(seq);
                }
                for (c, a, _) in t.accounts() {
                    if let Ok(it) = t.seqs_of(c, a) {
                        let _ = it.count();
                    }
                }
                opened.set(opened.get() + 1);
            }
        }
    }
    for epoch in [1, u32::MAX] {
        assert!(RecordTable::open(dir, &TableManifest { epoch, ..m.clone() }).is_err());
    }
    // A manifest denying the keys file: keys are decoded from the records instead.
    check(&RecordTable::open(dir, &TableManifest { keys: false, ..m.clone() }).unwrap(), &model);
    assert!(opened.get() > 0);
    check(&RecordTable::open(dir, &m).unwrap(), &model);
}

/// A table committed before the keys file existed (its manifest has no `keys`): readers decode
/// records for keys; the first writer builds the file once, from the records, removed rows left
/// unwritten, and commits it like any change; a crash before that commit builds it again.
#[test]
fn a_table_without_keys_is_read_and_given_them_by_the_first_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 9);
    commit(&mut w);
    append(&mut w, &mut model, 9, 14);
    remove(&mut w, &mut model, 3);
    let m = commit(&mut w);
    drop(w);
    // What the version before the keys file wrote: no file, no field.
    fs::remove_file(epoch_path(dir, Kind::Keys, 0)).unwrap();
    let mut json: serde_json::Value = serde_json::to_value(&m).unwrap();
    json.as_object_mut().unwrap().remove("keys");
    let old: TableManifest = serde_json::from_value(json).unwrap();
    assert!(!old.keys);
    let t = RecordTable::open(dir, &old).unwrap();
    assert!(!t.has_keys());
    check(&t, &model);
    drop(t);

    // A writer builds the file; not committed, the next writer builds it again.
    let w = RecordTableWriter::open(dir, Some(&old)).unwrap();
    assert!(w.converted());
    drop(w);
    let mut w = RecordTableWriter::open(dir, Some(&old)).unwrap();
    assert!(w.converted());
    let m2 = commit(&mut w);
    assert!(!w.converted());
    assert!(m2.keys);
    assert_eq!((m2.rows, m2.live, m2.data_len), (m.rows, m.live, m.data_len));
    let t = RecordTable::open(dir, &m2).unwrap();
    assert!(t.has_keys());
    check(&t, &model);
    assert_eq!(fs::read(epoch_path(dir, Kind::Keys, 0)).unwrap()[3 * 72..4 * 72], [0u8; 72]);
    drop(t);
    // And keeps it up from then on.
    append(&mut w, &mut model, 14, 17);
    let m3 = commit(&mut w);
    drop(w);
    check(&RecordTable::open(dir, &m3).unwrap(), &model);
    let w = RecordTableWriter::open(dir, Some(&m3)).unwrap();
    assert!(!w.converted());
}

/// A live row whose key row was never written (zeroed) is damage, named by file and row.
#[test]
fn an_unwritten_key_row_is_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut model = Model::default();
    let mut w = RecordTableWriter::open(dir, None).unwrap();
    append(&mut w, &mut model, 0, 4);
    let m = commit(&mut w);
    drop(w);
    let keys = epoch_path(dir, Kind::Keys, 0);
    let mut b = fs::read(&keys).unwrap();
    b[2 * 72..3 * 72].fill(0);
    fs::write(&keys, &b).unwrap();
    let t = RecordTable::open(dir, &m).unwrap();
    match t.key(2) {
        Err(TableError::Corrupt { path, at: At::Row(2), .. }) => assert_eq!(path, keys),
        other => panic!("{other:?}"),
    }
    assert!(t.key(1).unwrap().is_some());
}
