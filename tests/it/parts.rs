//! Records with several parts and per-corpus metadata, and blobs stored as streams: what the
//! store keeps for Chat, Drive and Voice before their sources exist (issue 9 item 1).

use super::common::*;
use ediscovery::digest::Md5;
use ediscovery::ingest::Source;
use ediscovery::model::{
    ChatMeta, ConversationType, Corpus, DocId, DriveMeta, Metadata, Part, PartKind, Parts, Record,
    VoiceKind, VoiceMeta,
};
use ediscovery::store::{Store, StoreError, StoreWriter};
use std::io::{self, Read};

/// `len` deterministic bytes made on the fly, never held whole (an xorshift stream).
struct Generated {
    left: u64,
    state: u64,
    /// Fail with this error after this many bytes, if set.
    fail_after: Option<u64>,
    given: u64,
}

impl Generated {
    fn new(len: u64, seed: u64) -> Generated {
        Generated { left: len, state: seed | 1, fail_after: None, given: 0 }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fail_after.is_some_and(|n| self.given >= n) {
            return Err(io::Error::other("the source went away"));
        }
        let n = buf.len().min(self.left as usize).min(7919); // odd sizes, never aligned
        for b in &mut buf[..n] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = self.state as u8;
        }
        self.left -= n as u64;
        self.given += n as u64;
        Ok(n)
    }
}

fn md5_of(mut r: impl Read) -> (Md5, u64) {
    let mut h = ediscovery::digest::Md5Hasher::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    (h.finish(), n)
}

fn pack_len(dir: &std::path::Path) -> u64 {
    std::fs::metadata(dir.join("packs/000000.pack")).unwrap().len()
}

/// A committed collection with one mail account, and a store writer on it.
fn writer(tmp: &std::path::Path) -> (std::path::PathBuf, StoreWriter, Record) {
    let mbox = write(tmp, "a.mbox", &fixture("quoted-from.mbox"));
    let dir = tmp.join("c");
    let (c, _) = ingest_into(&dir, Source::Mbox(mbox), "alice@example.com", Corpus::Mail);
    let template = c.store().records().remove(0);
    drop(c);
    (dir.clone(), Store::open(&dir).unwrap().writer().unwrap(), template)
}

#[test]
fn a_streamed_blob_is_hashed_while_copied_and_stored_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, mut w, _) = writer(tmp.path());
    let len = 24 * 1024 * 1024 + 13;
    let (want, n) = md5_of(Generated::new(len, 7));
    assert_eq!(n, len);
    let start = pack_len(&dir);

    let (blob, new) = w.put_stream("generated", Generated::new(len, 7)).unwrap();
    assert!(new);
    assert_eq!((blob.md5, blob.size, blob.offset), (want, len, start));

    // The same bytes again: found by their MD5 at the end, and the copy cut off again.
    let (again, new) = w.put_stream("generated again", Generated::new(len, 7)).unwrap();
    assert!(!new);
    assert_eq!(again, blob);
    // A blob put whole with the same MD5 is the same blob too.
    let small = b"small blob";
    let (s1, _) = w.put_stream("small", &small[..]).unwrap();
    let (s2, new) = w.put_blob(Md5::of(small), small).unwrap();
    assert!(!new);
    assert_eq!(s1, s2);

    // A source that fails half way: a clear error naming it, nothing of it left in the pack.
    let mut broken = Generated::new(len, 9);
    broken.fail_after = Some(5 * 1024 * 1024);
    match w.put_stream("broken.bin", broken) {
        Err(StoreError::Source { what, .. }) => assert_eq!(what, "broken.bin"),
        other => panic!("expected a source error, got {other:?}"),
    }
    let (s3, new) = w.put_blob(Md5::of(b"after"), b"after").unwrap();
    assert!(new);
    assert_eq!(s3.offset, s1.offset + s1.size, "the failed copy was cut off");

    // Nothing references them yet; a record does, and after the commit the bytes read back.
    drop(w);
    assert_eq!(pack_len(&dir), start + len + s1.size + s3.size, "uncommitted bytes on disk");
    let w = Store::open(&dir).unwrap().writer().unwrap();
    assert_eq!(pack_len(&dir), start, "a new writer cuts uncommitted bytes");
    drop(w);
}

fn drive_meta() -> DriveMeta {
    DriveMeta {
        drive_id: "1AbCdEf".into(),
        title: "Budget 2026.xlsx".into(),
        owner: "alice@example.com".into(),
        mime_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
        created: Some(1_700_000_000),
        modified: Some(1_700_086_400),
        ..DriveMeta::default()
    }
}

#[test]
fn records_of_every_corpus_keep_their_metadata_and_parts() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, mut w, template) = writer(tmp.path());
    let before = w.store().stats();

    let audio = vec![0x49u8; 300_000];
    let transcript = b"Hi, it's Bob, call me back about the budget.".to_vec();
    let (a, _) = w.put_stream("vm.mp3", &audio[..]).unwrap();
    let (t, _) = w.put_blob(Md5::of(&transcript), &transcript).unwrap();
    let mut parts = Parts::new(Part {
        kind: PartKind::Audio,
        name: Some("vm.mp3".into()),
        content_type: Some("audio/mpeg".into()),
        blob: a,
    });
    parts.push(Part {
        kind: PartKind::Transcript,
        name: None,
        content_type: Some("text/plain".into()),
        blob: t,
    });
    let voice = VoiceMeta {
        item_id: "vm-1".into(),
        kind: VoiceKind::Voicemail,
        started: 1_700_000_500,
        owner_numbers: vec!["+15550100".into()],
        participant_numbers: vec!["+15550199".into()],
        texts: Vec::new(),
        duration_secs: Some(31),
        labels: vec!["UNREAD".into()],
    };
    let chat = ChatMeta {
        space_id: "spaces/AAAA".into(),
        space_name: Some("Budget".into()),
        conversation: Some(ConversationType::Space),
        message_id: "m1".into(),
        sender: "bob@example.com".into(),
        created: 1_700_000_100,
        ..ChatMeta::default()
    };
    let file = b"PK\x03\x04 not really a spreadsheet".to_vec();
    let (f, _) = w.put_stream("budget.xlsx", &file[..]).unwrap();
    let (m, _) = w.put_blob(Md5::of(b"hello"), b"hello").unwrap();
    let cases: Vec<(Corpus, Metadata, Parts, Option<i64>)> = vec![
        (Corpus::Voice, Metadata::Voice(Box::new(voice)), parts, Some(1_700_000_500)),
        (
            Corpus::Chat,
            Metadata::Chat(Box::new(chat)),
            Parts::new(Part::new(PartKind::Message, m)),
            Some(1_700_000_100),
        ),
        (
            Corpus::Drive,
            Metadata::Drive(Box::new(drive_meta())),
            Parts::new(Part::new(PartKind::File, f)),
            Some(1_700_086_400),
        ),
    ];
    let mut want = Vec::new();
    for (i, (corpus, meta, parts, date)) in cases.into_iter().enumerate() {
        let mut r = template.clone();
        r.seq = w.next_seq();
        r.corpus = corpus;
        r.doc_id =
            DocId::derive(corpus.as_str(), &r.account, &format!("k{i}"), &parts.main().blob.md5);
        r.meta = meta;
        r.parts = parts;
        r.defects.clear();
        assert_eq!(r.date(), date, "{corpus}");
        w.push(&r).unwrap();
        want.push(r);
    }
    w.commit(|_| Ok(())).unwrap();
    drop(w);

    let s = Store::open(&dir).unwrap();
    for r in &want {
        assert_eq!(s.by_seq(r.seq).as_ref(), Some(r), "{} reads back whole", r.corpus);
    }
    let vm = &want[0];
    let got: Vec<&[u8]> = vm.parts.iter().map(|p| s.part_bytes(vm, p).unwrap()).collect();
    assert_eq!(got, [&audio[..], &transcript[..]]);
    assert_eq!(s.bytes(vm).unwrap(), &audio[..], "the main part is the audio");
    let stats = s.stats();
    let voice_bytes = stats.per_account[&(Corpus::Voice, vm.account.clone())].1;
    assert_eq!(voice_bytes, (audio.len() + transcript.len()) as u64, "every part counts");
    assert_eq!(stats.records, before.records + 3);
}

#[test]
fn a_record_whose_metadata_is_of_another_corpus_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (_dir, mut w, template) = writer(tmp.path());
    let mut r = template;
    r.seq = w.next_seq();
    r.doc_id = DocId::derive("mail", &r.account, "mismatch", &r.blob().md5);
    r.meta = Metadata::Drive(Box::new(drive_meta()));
    match w.push(&r) {
        Err(StoreError::MetadataMismatch { doc_id, corpus }) => {
            assert_eq!((doc_id, corpus), (r.doc_id, Corpus::Mail));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(w.pending(), 0);
}

/// A blob that is not a record's main part (an attachment) is found again by a later writer
/// (no second copy in the packs), and the distinct-blob count follows removals part by part: a
/// blob leaves it only when no live record references it.
#[test]
fn other_parts_are_shared_across_writers_and_counted_until_their_last_record_goes() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, mut w, template) = writer(tmp.path());
    let base = w.store().stats();
    let with = |w: &mut StoreWriter, main: &[u8], attachment: &[u8], key: &str| -> Record {
        let (m, _) = w.put_blob(Md5::of(main), main).unwrap();
        let (a, _) = w.put_blob(Md5::of(attachment), attachment).unwrap();
        let mut parts = Parts::new(Part::new(PartKind::Message, m));
        parts.push(Part::new(PartKind::Attachment, a));
        let mut r = template.clone();
        r.seq = w.next_seq();
        r.doc_id = DocId::derive("mail", &r.account, key, &m.md5);
        r.parts = parts;
        w.push(&r).unwrap();
        r
    };
    let first = with(&mut w, b"first message\n", b"the shared attachment\n", "first");
    w.commit(|_| Ok(())).unwrap();
    let s = w.store().stats();
    assert_eq!((s.blobs, s.blob_bytes), (base.blobs + 2, base.blob_bytes + 14 + 22));
    drop(w);

    // A new writer finds the attachment's bytes without writing them again.
    let mut w = Store::open(&dir).unwrap().writer().unwrap();
    let len = pack_len(&dir);
    let second = with(&mut w, b"second message\n", b"the shared attachment\n", "second");
    assert_eq!(second.parts.iter().nth(1).unwrap().blob, first.parts.iter().nth(1).unwrap().blob);
    w.commit(|_| Ok(())).unwrap();
    assert_eq!(pack_len(&dir), len + 15, "only the new main part was written");
    // A main blob is found from the key rows, with the CRC-32 recorded at ingest.
    let again = w.put_blob(Md5::of(b"first message\n"), b"first message\n").unwrap();
    assert_eq!(again, (*first.blob(), false));
    assert!(again.0.crc32.is_some());
    assert_eq!(w.store().stats().blobs, base.blobs + 3);

    // Removing the first record drops its main blob from the count, not the shared one.
    assert!(w.remove(first.seq).unwrap().is_some());
    w.commit(|_| Ok(())).unwrap();
    let s = w.store().stats();
    assert_eq!((s.blobs, s.blob_bytes), (base.blobs + 2, base.blob_bytes + 15 + 22));
    assert!(w.remove(second.seq).unwrap().is_some());
    w.commit(|_| Ok(())).unwrap();
    let s = w.store().stats();
    assert_eq!((s.blobs, s.blob_bytes), (base.blobs, base.blob_bytes));
    drop(w);
    // What the manifest committed is what a reader sees.
    assert_eq!(Store::open(&dir).unwrap().stats().blobs, base.blobs);
}
