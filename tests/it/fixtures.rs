//! Every bad-input case, in LF and CRLF: what was stored and what was reported.

use super::common::*;
use ediscovery::ingest::Source;
use ediscovery::model::{Corpus, Defect};
use ediscovery::query::Scope;
use ediscovery::search::search_text;

const EMLS: [&str; 7] = [
    "8bit-headers.eml",
    "control-chars.eml",
    "dup-id-a.eml",
    "dup-id-b.eml",
    "encoded-words.eml",
    "malformed-mime.eml",
    "no-message-id.eml",
];

fn megabyte_header_message() -> Vec<u8> {
    let mut refs = String::from("References:");
    let mut i = 0;
    while refs.len() < 1 << 20 {
        refs.push_str(&format!(" <ref-{i}@fixture.example>\n"));
        i += 1;
    }
    format!(
        "Message-ID: <mega-1@fixture>\n{refs}Subject: a megabyte of References\nDate: Sat, 11 Mar 2023 15:00:00 +0000\n\nsmall body\n"
    )
    .into_bytes()
}

#[test]
fn eml_folder_bad_mime_headers_and_ids() {
    for eol in BOTH {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("eml");
        for name in EMLS {
            write(&src, name, &eol.apply(&fixture(name)));
        }
        write(&src, "mega.eml", &eol.apply(&megabyte_header_message()));
        write(&src, "notes.txt", b"not mail");
        let (c, r) = ingest_into(
            &tmp.path().join("c"),
            Source::Eml(src.clone()),
            "alice@example.com",
            Corpus::Mail,
        );

        assert_eq!((r.seen, r.ingested, r.rejected.len()), (8, 8, 0), "{eol:?}");
        assert_eq!(r.notices.len(), 1, "{eol:?}: the non-eml file is reported");
        assert!(r.notices[0].position.path.ends_with("notes.txt"));
        // Every message is stored byte for byte.
        for name in EMLS.iter().copied().chain(["mega.eml"]) {
            let want = std::fs::read(src.join(name)).unwrap();
            assert_eq!(stored(&c, &by_key(&c, name)), &want[..], "{eol:?} {name}");
        }

        let m = by_key(&c, "malformed-mime.eml");
        assert_eq!(m.mail().unwrap().message_id.as_deref(), Some("malformed-1@fixture"));
        let hits = search_text(&c, Scope::entire_org(Corpus::Mail), "\"visible words inside\"", 0)
            .unwrap()
            .hits;
        assert_eq!(
            hits.iter().map(|h| h.doc_id).collect::<Vec<_>>(),
            [m.doc_id],
            "{eol:?}: text of a never-closed part is indexed"
        );

        let e = by_key(&c, "8bit-headers.eml");
        assert!(e.defects.contains(&Defect::InvalidUtf8Header), "{eol:?} {:?}", e.defects);
        let em = e.mail().unwrap();
        assert_eq!(em.message_id.as_deref(), Some("eightbit-1@fixture"));
        assert!(em.subject.as_deref().unwrap().starts_with("Caf"), "{:?}", em.subject);
        assert_eq!(em.date_sent, Some(1678183200));

        let w = by_key(&c, "encoded-words.eml").mail().unwrap().clone();
        assert_eq!(w.subject.as_deref(), Some("日本語テスト€"));
        assert_eq!(w.from[0].name.as_deref(), Some("François “Frank”"));
        assert_eq!(w.to[0].name.as_deref(), Some("Привет"));

        let n = by_key(&c, "no-message-id.eml");
        assert_eq!(n.mail().unwrap().message_id, None);
        assert!(n.defects.contains(&Defect::MissingMessageId));

        let a = by_key(&c, "dup-id-a.eml");
        let b = by_key(&c, "dup-id-b.eml");
        assert!(a.defects.is_empty(), "{:?}", a.defects);
        assert_eq!(b.defects, vec![Defect::DuplicateMessageId { first: a.doc_id }]);
        assert_ne!(a.doc_id, b.doc_id);

        let k = by_key(&c, "control-chars.eml");
        let subj = k.mail().unwrap().subject.clone().unwrap();
        assert!(
            subj.contains('\u{7}') && subj.contains('\u{1b}'),
            "control characters are kept in metadata: {subj:?}"
        );
        assert!(k.defects.contains(&Defect::BadDate));
        assert_eq!(k.mail().unwrap().date_sent, None);

        let mega = by_key(&c, "mega.eml").mail().unwrap().clone();
        assert_eq!(mega.subject.as_deref(), Some("a megabyte of References"));
        assert!(mega.references.len() > 20_000, "{}", mega.references.len());

        // Every defect in the report points at a stored record.
        for d in &r.defects {
            assert!(c.store().by_doc(&d.doc_id).unwrap().defects.contains(&d.defect));
        }
    }
}

#[test]
fn mbox_preamble_is_rejected_and_the_message_kept() {
    for eol in BOTH {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "p.mbox", &eol.apply(&fixture("preamble.mbox")));
        let (c, r) =
            ingest_into(&tmp.path().join("c"), Source::Mbox(p), "a@example.com", Corpus::Mail);
        assert_eq!((r.seen, r.ingested, r.rejected.len()), (2, 1, 1), "{eol:?}");
        let rej = &r.rejected[0];
        assert_eq!((rej.position.offset, rej.position.line), (Some(0), Some(1)));
        assert!(rej.reason.contains("before the first From_ line"), "{}", rej.reason);
        let rec = &c.store().records()[0];
        let want =
            eol.apply(b"Message-ID: <pre-1@fixture>\nSubject: after a preamble\n\nbody one\n");
        assert_eq!(stored(&c, rec), &want[..], "{eol:?}");
        assert_eq!(rec.mail().unwrap().envelope_sender.as_deref(), Some("alice@example.com"));
        assert_eq!(rec.mail().unwrap().date_received, Some(1678096800));
    }
}

#[test]
fn mbox_quoting_is_undone_once() {
    for eol in BOTH {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "q.mbox", &eol.apply(&fixture("quoted-from.mbox")));
        let (c, r) =
            ingest_into(&tmp.path().join("c"), Source::Mbox(p), "a@example.com", Corpus::Mail);
        assert_eq!((r.seen, r.ingested), (2, 2));
        let want = eol.apply(
            b"Message-ID: <quoted-1@fixture>\nSubject: quoting\nDate: Mon, 6 Mar 2023 10:00:00 +0000\n\nFrom the start of a line\n>From once quoted\n>>From twice quoted\nFromage is not a From_ line\nFrom an mboxo writer that forgot to quote (no blank line before it)\n",
        );
        assert_eq!(stored(&c, &by_key(&c, "#0")), &want[..], "{eol:?}");
        let want2 = eol.apply(b"Message-ID: <quoted-2@fixture>\nSubject: second\nDate: Mon, 6 Mar 2023 11:00:00 +0000\n\nsecond body\n");
        assert_eq!(stored(&c, &by_key(&c, "#1")), &want2[..], "{eol:?}");
        assert_eq!(
            by_key(&c, "#1").source.offset,
            Some(
                eol.apply(&fixture("quoted-from.mbox"))
                    .windows(7)
                    .position(|w| w == b"From b@")
                    .unwrap() as u64
            )
        );
    }
}

#[test]
fn mbox_truncated_tail_is_stored_and_flagged() {
    for eol in BOTH {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "t.mbox", &eol.apply(&fixture("truncated.mbox")));
        let (c, r) =
            ingest_into(&tmp.path().join("c"), Source::Mbox(p), "a@example.com", Corpus::Mail);
        assert_eq!((r.seen, r.ingested, r.rejected.len()), (2, 2, 0));
        let last = by_key(&c, "#1");
        assert_eq!(last.defects, vec![Defect::Truncated, Defect::BadDate]);
        let want = eol.apply(
            b"Message-ID: <trunc-2@fixture>\nSubject: cut short\n\nthis message was cut in the mid",
        );
        assert_eq!(stored(&c, &last), &want[..]);
        assert_eq!(by_key(&c, "#0").defects, vec![Defect::BadDate]);
        assert!(r.defects.iter().any(|d| d.doc_id == last.doc_id && d.defect == Defect::Truncated));
    }
}

#[test]
fn mbox_empty_message_is_rejected_with_its_line() {
    for eol in BOTH {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "e.mbox", &eol.apply(&fixture("empty-message.mbox")));
        let (c, r) =
            ingest_into(&tmp.path().join("c"), Source::Mbox(p), "a@example.com", Corpus::Mail);
        assert_eq!((r.seen, r.ingested, r.rejected.len()), (3, 2, 1), "{eol:?}");
        assert_eq!(r.rejected[0].position.line, Some(7));
        assert_eq!(r.rejected[0].position.ordinal, Some(1));
        assert!(r.rejected[0].reason.contains("empty message"));
        let ids: Vec<_> = c
            .store()
            .records()
            .iter()
            .map(|r| r.mail().unwrap().message_id.clone().unwrap())
            .collect();
        assert_eq!(ids, ["empty-1@fixture", "empty-3@fixture"]);
    }
}

#[test]
fn takeout_labels_threads_and_drafts() {
    for eol in BOTH {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "All mail.mbox", &eol.apply(&fixture("takeout.mbox")));
        let (c, r) = ingest_into(
            &tmp.path().join("c"),
            Source::Takeout(p.clone()),
            "dan@example.com",
            Corpus::Mail,
        );
        assert_eq!(r.ingested, 2);
        let first = by_key(&c, "#0").mail().unwrap().clone();
        assert_eq!(
            first.labels,
            ["^INBOX", "^IMPORTANT", "Clients, key", "^CATEGORY_UPDATES", "^STARRED", "^UNREAD"]
        );
        assert_eq!(first.thread_id.as_deref(), Some("1700000000000000001"));
        assert!(!first.is_draft);
        let second = by_key(&c, "#1").mail().unwrap().clone();
        assert!(second.is_draft);
        assert_eq!(second.labels, ["^DRAFT"]);
        assert_eq!(
            search_text(&c, Scope::entire_org(Corpus::Mail), "label:\"Clients, key\"", 0)
                .unwrap()
                .hits
                .len(),
            1
        );
        assert_eq!(
            search_text(&c, Scope::entire_org(Corpus::Mail), "is:unread", 0).unwrap().hits.len(),
            1
        );

        // The same file as a plain mbox: no labels, no thread id (headers a sender could forge).
        let (c2, _) =
            ingest_into(&tmp.path().join("c2"), Source::Mbox(p), "dan@example.com", Corpus::Mail);
        let plain = c2.store().records()[0].mail().unwrap().clone();
        assert!(plain.labels.is_empty() && plain.thread_id.is_none());
    }
}

#[test]
fn maildir_flags_folders_new_and_tmp() {
    for eol in BOTH {
        let tmp = tempfile::tempdir().unwrap();
        let md = tmp.path().join("Maildir");
        let msg = |id: &str| {
            eol.apply(format!("Message-ID: <{id}@fixture>\nSubject: {id}\n\nbody\n").as_bytes())
        };
        write(&md, "cur/1678096800.A.host:2,S", &msg("seen"));
        write(&md, "cur/1678096801.B.host:2,FT", &msg("flagged-trashed"));
        write(&md, "new/1678096802.C.host", &msg("new"));
        write(&md, ".Work.Projects/cur/1678096803.D.host:2,DS", &msg("draft"));
        std::fs::create_dir_all(md.join(".Work.Projects/new")).unwrap();
        write(&md, "tmp/1678096804.E.host", &msg("partial"));
        let (c, r) = ingest_into(
            &tmp.path().join("c"),
            Source::Maildir(md),
            "carol@example.com",
            Corpus::Mail,
        );
        assert_eq!((r.seen, r.ingested, r.rejected.len()), (5, 4, 1), "{eol:?}");
        assert!(r.rejected[0].position.path.contains("tmp/1678096804.E.host"));
        let labels = |key: &str| by_key(&c, key).mail().unwrap().labels.clone();
        assert_eq!(labels("/1678096800.A.host"), ["^INBOX"]);
        assert_eq!(labels("/1678096801.B.host"), ["^INBOX", "^UNREAD", "^STARRED", "^DELETED"]);
        assert_eq!(labels("/1678096802.C.host"), ["^INBOX", "^UNREAD"]);
        assert_eq!(labels(".Work.Projects/1678096803.D.host"), ["Work/Projects", "^DRAFT"]);
        assert!(by_key(&c, ".Work.Projects/1678096803.D.host").mail().unwrap().is_draft);
        assert_eq!(
            by_key(&c, "/1678096802.C.host").mail().unwrap().date_received,
            Some(1678096802)
        );
        assert_eq!(stored(&c, &by_key(&c, "/1678096800.A.host")), &msg("seen")[..]);
    }
}
