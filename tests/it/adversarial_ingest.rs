//! Hostile sources found by the adversarial pass over ingest (issue 7): symlinks, FIFOs and other
//! entries that are not messages, names that are not UTF-8, MIME nested tens of thousands deep,
//! an LF message before a CRLF separator line, and dates the parser misread. Each case asserts on
//! the stored bytes and on what the report says.

use super::common::*;
use ediscovery::ingest::{IngestReport, Source, mime};
use ediscovery::model::{Corpus, Defect, Record};
use ediscovery::{Collection, Limits};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

const SYMLINK_REASON: &str = "symbolic link: not followed (ingest never follows links; copy the target in if it belongs to the evidence)";
const SECRET: &[u8] = b"root:x:0:0:root:/root:/bin/bash\n";

fn msg(id: &str) -> Vec<u8> {
    format!(
        "Message-ID: <{id}@adversarial>\nFrom: a@example.com\nTo: b@example.com\n\
Subject: {id}\nDate: Mon, 6 Mar 2023 10:00:00 +0000\n\nbody of {id}\n"
    )
    .into_bytes()
}

/// Runs `f` on a thread and fails the test when it takes longer than a minute (a FIFO opened for
/// reading blocks forever; the test must fail, not hang).
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("ingest hung (a FIFO was opened?)")
}

/// Ingest on a thread (see [`within`]).
fn ingest(dir: &Path, source: Source) -> (Collection, IngestReport) {
    let dir = dir.to_path_buf();
    within(move || ingest_into(&dir, source, "alice@example.com", Corpus::Mail))
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

/// The rejections whose path ends with `suffix`, with their reasons.
fn rejected_at(r: &IngestReport, suffix: &str) -> Vec<String> {
    r.rejected
        .iter()
        .filter(|x| x.position.path.ends_with(suffix))
        .map(|x| x.reason.clone())
        .collect()
}

fn assert_rejected(r: &IngestReport, suffix: &str, reason_starts: &str) {
    let reasons = rejected_at(r, suffix);
    assert!(
        reasons.len() == 1 && reasons[0].starts_with(reason_starts),
        "{suffix}: want one rejection starting {reason_starts:?}, got {reasons:?}\n{:#?}",
        r.rejected
    );
}

fn no_record_holds(c: &Collection, bytes: &[u8]) {
    for rec in c.store().records().iter() {
        assert_ne!(stored(c, rec), bytes, "{} holds outside bytes", rec.source.key);
    }
}

/// An outside folder the way `/etc` looks: a secret file, and a Maildir-shaped subfolder.
fn outside(tmp: &Path) -> PathBuf {
    let out = tmp.join("outside");
    write(&out, "passwd", SECRET);
    write(&out, "md/cur/1.x:2,S", SECRET);
    out
}

#[test]
fn maildir_symlinked_cur_new_and_folder_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = outside(tmp.path());
    // cur/ is a link to "/etc"; new/ is real.
    let md1 = tmp.path().join("md1");
    write(&md1, "new/100.a", &msg("one"));
    symlink(&out, md1.join("cur")).unwrap();
    // new/ is a link; a Maildir++ folder is a link to a Maildir outside.
    let md2 = tmp.path().join("md2");
    write(&md2, "cur/100.b:2,S", &msg("two"));
    symlink(&out, md2.join("new")).unwrap();
    symlink(out.join("md"), md2.join(".Evil")).unwrap();

    let (c, r) = ingest(&tmp.path().join("c1"), Source::Maildir(md1.clone()));
    assert_eq!((r.ingested, r.rejected.len(), r.seen), (1, 1, 2), "{r:#?}");
    assert_rejected(&r, "md1/cur", SYMLINK_REASON);
    assert_eq!(stored(&c, &by_key(&c, "/100.a")), &msg("one")[..]);
    no_record_holds(&c, SECRET);

    let (c, r) = ingest(&tmp.path().join("c2"), Source::Maildir(md2.clone()));
    assert_eq!((r.ingested, r.rejected.len(), r.seen), (1, 2, 3), "{r:#?}");
    assert_rejected(&r, "md2/new", SYMLINK_REASON);
    assert_rejected(&r, "md2/.Evil", SYMLINK_REASON);
    assert_eq!(stored(&c, &by_key(&c, "/100.b")), &msg("two")[..]);
    no_record_holds(&c, SECRET);
    assert!(!r.is_clean());
}

#[test]
fn maildir_file_symlinks_are_rejected_inside_and_outside_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let out = outside(tmp.path());
    let md = tmp.path().join("md");
    write(&md, "new/100.real", &msg("real"));
    std::fs::create_dir_all(md.join("cur")).unwrap();
    symlink(out.join("passwd"), md.join("cur/200.out:2,S")).unwrap();
    symlink("../new/100.real", md.join("cur/300.in:2,S")).unwrap();

    let (c, r) = ingest(&tmp.path().join("c"), Source::Maildir(md));
    assert_eq!((r.ingested, r.rejected.len(), r.seen), (1, 2, 3), "{r:#?}");
    assert_rejected(&r, "cur/200.out:2,S", SYMLINK_REASON);
    assert_rejected(&r, "cur/300.in:2,S", SYMLINK_REASON);
    assert_eq!(stored(&c, &by_key(&c, "/100.real")), &msg("real")[..]);
    no_record_holds(&c, SECRET);
}

#[test]
fn maildir_fifo_subfolder_and_stray_entries_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let md = tmp.path().join("md");
    write(&md, "cur/100.ok:2,S", &msg("ok"));
    mkfifo(&md.join("cur/200.fifo:2,S"));
    write(&md, "cur/sub/300.hidden:2,S", &msg("hidden"));
    write(&md, "new/400.new", &msg("new"));
    write(&md, "notes.eml", &msg("stray"));
    write(&md, "Archive/cur/500.x:2,S", &msg("archive"));
    write(&md, ".Work/cur/600.w:2,S", &msg("work"));
    // Structural files of mail servers: notices, not rejections.
    write(&md, "dovecot.index.cache", b"\0\0");
    write(&md, "dovecot-uidlist", b"3 V1 N1\n");
    write(&md, "subscriptions", b"Work\n");
    write(&md, ".Work/maildirfolder", b"");
    write(&md, ".Work/dovecot-uidlist", b"3 V1 N1\n");

    let (c, r) = ingest(&tmp.path().join("c"), Source::Maildir(md));
    assert_rejected(&r, "cur/200.fifo:2,S", "not a regular file");
    assert_rejected(&r, "cur/sub", "unexpected folder");
    assert_rejected(&r, "md/notes.eml", "not in cur/ or new/");
    assert_rejected(&r, "md/Archive", "unexpected folder");
    assert_eq!((r.ingested, r.rejected.len(), r.seen), (3, 4, 7), "{r:#?}");
    for (key, id) in [("/100.ok", "ok"), ("/400.new", "new"), ("/600.w", "work")] {
        assert_eq!(stored(&c, &by_key(&c, key)), &msg(id)[..]);
    }
    let noticed: Vec<&str> = r.notices.iter().map(|n| n.position.path.as_str()).collect();
    for name in ["md/dovecot.index.cache", "md/dovecot-uidlist", "md/subscriptions"] {
        assert!(noticed.iter().any(|p| p.ends_with(name)), "{name} not noticed: {noticed:?}");
    }
    for name in [".Work/maildirfolder", ".Work/dovecot-uidlist"] {
        assert!(noticed.iter().any(|p| p.ends_with(name)), "{name} not noticed: {noticed:?}");
    }
}

#[test]
fn maildir_unreadable_file_is_rejected() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let md = tmp.path().join("md");
    write(&md, "cur/100.ok:2,S", &msg("ok"));
    let locked = write(&md, "cur/200.locked:2,S", &msg("locked"));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        eprintln!("SKIPPED: running as a user who reads mode-000 files (root)");
        return;
    }
    let (_, r) = ingest(&tmp.path().join("c"), Source::Maildir(md));
    assert_eq!((r.ingested, r.rejected.len()), (1, 1), "{r:#?}");
    assert_rejected(&r, "cur/200.locked:2,S", "cannot read");
}

#[test]
fn maildir_non_utf8_folder_is_ingested_with_an_escaped_label() {
    let tmp = tempfile::tempdir().unwrap();
    let md = tmp.path().join("md");
    write(&md, "cur/100.top:2,S", &msg("top"));
    let odd = md.join(OsStr::from_bytes(b".Caf\xe9"));
    write(&odd, "cur/200.odd:2,S", &msg("odd"));

    let (c, r) = ingest(&tmp.path().join("c"), Source::Maildir(md));
    assert_eq!((r.ingested, r.rejected.len()), (2, 0), "{r:#?}");
    let rec = by_key(&c, ".Caf\\xe9/200.odd");
    assert_eq!(stored(&c, &rec), &msg("odd")[..]);
    assert!(rec.mail().unwrap().labels.contains(&"Caf\\xe9".to_owned()), "{:?}", rec.mail());
    assert!(
        r.notices.iter().any(|n| n.message.contains("not UTF-8")),
        "the lossy name is not reported: {:#?}",
        r.notices
    );
}

#[test]
fn eml_folder_symlinks_fifos_and_non_utf8_names_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let out = outside(tmp.path());
    write(&out, "elsewhere/x.eml", &msg("elsewhere"));
    let src = tmp.path().join("eml");
    write(&src, "a.eml", &msg("a"));
    symlink(out.join("passwd"), src.join("link.eml")).unwrap();
    symlink(out.join("elsewhere"), src.join("dirlink")).unwrap();
    mkfifo(&src.join("pipe.eml"));
    write(&src, "sub/b.eml", &msg("b"));
    std::fs::write(src.join(OsStr::from_bytes(b"caf\xe9.eml")), msg("cafe")).unwrap();

    let (c, r) = ingest(&tmp.path().join("c"), Source::Eml(src));
    assert_rejected(&r, "eml/link.eml", SYMLINK_REASON);
    assert_rejected(&r, "eml/dirlink", SYMLINK_REASON);
    assert_rejected(&r, "eml/pipe.eml", "not a regular file");
    assert_eq!((r.ingested, r.rejected.len(), r.seen), (3, 3, 6), "{r:#?}");
    assert_eq!(stored(&c, &by_key(&c, "sub/b.eml")), &msg("b")[..]);
    assert_eq!(stored(&c, &by_key(&c, "caf\\xe9.eml")), &msg("cafe")[..]);
    assert!(r.notices.iter().any(|n| n.message.contains("not UTF-8")), "{:#?}", r.notices);
    no_record_holds(&c, SECRET);
}

/// A message wrapped `levels` deep in `message/rfc822`, innermost text at the bottom.
fn nested_rfc822(levels: usize) -> Vec<u8> {
    // From the outside in: each level is a header block whose body is the next level.
    let mut out = b"Message-ID: <deep@adversarial>\nDate: Mon, 6 Mar 2023 10:00:00 +0000\n\
Subject: top\nContent-Type: message/rfc822\n\n"
        .to_vec();
    for i in 1..levels {
        let level = format!("Subject: level {i}\nContent-Type: message/rfc822\n\n");
        out.extend_from_slice(level.as_bytes());
    }
    out.extend_from_slice(b"Subject: bottom\n\nbottom words\n");
    out
}

/// A message of `levels` nested `multipart/mixed` parts, a text part at each end.
fn nested_multipart(levels: usize) -> Vec<u8> {
    let mut out = b"Message-ID: <deepmp@adversarial>\nDate: Mon, 6 Mar 2023 10:00:00 +0000\n\
Subject: top\n"
        .to_vec();
    for i in 0..levels {
        out.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n").as_bytes(),
        );
    }
    out.extend_from_slice(b"Content-Type: text/plain\n\nbottom words\n");
    for i in (0..levels).rev() {
        out.extend_from_slice(format!("--b{i}--\n").as_bytes());
    }
    out
}

/// Runs `f` on a thread with the 2 MiB stack `cargo test` gives its tests.
fn on_test_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().unwrap()
}

fn assert_too_deep(bytes: Vec<u8>, id: &str) {
    let limit = Limits::default().mime_depth;
    let b = bytes.clone();
    let parsed = on_test_stack(move || mime::parse(&b));
    assert!(parsed.defects.contains(&Defect::MimeTooDeep { limit }), "{:?}", parsed.defects);
    assert_eq!(parsed.meta.message_id.as_deref(), Some(id));

    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("eml");
    write(&src, "deep.eml", &bytes);
    write(&src, "plain.eml", &msg("plain"));
    let c = tmp.path().join("c");
    let (c, r) = on_test_stack(move || ingest(&c, Source::Eml(src)));
    assert_eq!((r.ingested, r.rejected.len()), (2, 0), "{r:#?}");
    let rec: &Record = &by_key(&c, "deep.eml");
    assert_eq!(stored(&c, rec), &bytes[..], "stored byte for byte");
    assert!(rec.defects.contains(&Defect::MimeTooDeep { limit }), "{:?}", rec.defects);
    assert!(
        !by_key(&c, "plain.eml").defects.iter().any(|d| matches!(d, Defect::MimeTooDeep { .. }))
    );
}

#[test]
fn mime_message_rfc822_nested_40000_deep_is_stored_and_flagged() {
    assert_too_deep(nested_rfc822(40_000), "deep@adversarial");
}

#[test]
fn mime_multipart_nested_40000_deep_is_stored_and_flagged() {
    assert_too_deep(nested_multipart(40_000), "deepmp@adversarial");
}

#[test]
fn mime_nesting_at_the_limit_is_not_flagged() {
    let limit = Limits::default().mime_depth;
    for bytes in [nested_rfc822(limit), nested_multipart(limit)] {
        let p = on_test_stack(move || mime::parse(&bytes));
        assert!(
            !p.defects.iter().any(|d| matches!(d, Defect::MimeTooDeep { .. })),
            "{:?}",
            p.defects
        );
    }
    for bytes in [nested_rfc822(limit + 1), nested_multipart(limit + 1)] {
        let p = on_test_stack(move || mime::parse(&bytes));
        assert!(p.defects.contains(&Defect::MimeTooDeep { limit }), "{:?}", p.defects);
    }
}

/// A message base64- or quoted-printable-encoded inside `message/rfc822` is decoded and parsed by
/// mail-parser, so its nesting counts too.
#[test]
fn mime_nesting_inside_encoded_messages_counts() {
    use base64::Engine;
    let limit = Limits::default().mime_depth;
    let inner = nested_rfc822(limit);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&inner);
    let mut m = b"Message-ID: <enc@adversarial>\nContent-Type: message/rfc822\n\
Content-Transfer-Encoding: base64\n\n"
        .to_vec();
    m.extend_from_slice(b64.as_bytes());
    let p = on_test_stack(move || mime::parse(&m));
    assert!(p.defects.contains(&Defect::MimeTooDeep { limit }), "{:?}", p.defects);
    let shallow = nested_rfc822(limit - 1);
    let mut m = b"Message-ID: <enc@adversarial>\nContent-Type: message/rfc822\n\
Content-Transfer-Encoding: quoted-printable\n\n"
        .to_vec();
    m.extend_from_slice(&shallow);
    let p = on_test_stack(move || mime::parse(&m));
    assert!(!p.defects.iter().any(|d| matches!(d, Defect::MimeTooDeep { .. })), "{:?}", p.defects);
}

#[test]
fn mbox_lf_message_followed_by_crlf_separator_line() {
    let tmp = tempfile::tempdir().unwrap();
    let one = b"Message-ID: <one@mbox>\nSubject: one\n\nbody one\n";
    let two = b"Message-ID: <two@mbox>\nSubject: two\n\nbody two\n";
    let mut mbox = b"From a@b Thu Jan  1 00:00:00 1970\n".to_vec();
    mbox.extend_from_slice(one);
    mbox.extend_from_slice(b"\r\nFrom c@d Thu Jan  1 00:00:00 1970\n");
    mbox.extend_from_slice(two);
    mbox.extend_from_slice(b"\r\n");
    let path = write(tmp.path(), "x.mbox", &mbox);

    let (c, r) = ingest(&tmp.path().join("c"), Source::Mbox(path));
    assert_eq!((r.ingested, r.rejected.len()), (2, 0), "{r:#?}");
    for (key, want) in [("x.mbox#0", &one[..]), ("x.mbox#1", &two[..])] {
        let rec = by_key(&c, key);
        assert_eq!(stored(&c, &rec), want, "{key}");
        assert!(!rec.defects.contains(&Defect::Truncated), "{key}: {:?}", rec.defects);
    }
}

fn date_sent(date: &str) -> (Option<i64>, bool) {
    let bytes = format!("Message-ID: <d@x>\nDate: {date}\nSubject: d\n\nbody\n").into_bytes();
    let p = mime::parse(&bytes);
    (p.meta.date_sent, p.defects.contains(&Defect::BadDate))
}

/// Year 1 written `0001` was read as 2001 (mail-parser windows every year below 100): it is year
/// 1, before anything the timeline holds, so no date (the record is placed by its delivery date).
#[test]
fn date_year_0001_is_not_read_as_2000() {
    assert_eq!(date_sent("Mon, 1 Jan 0001 00:00:00 +0000"), (None, true));
    assert_eq!(date_sent("Mon, 1 Jan 0001 00:00:00 -0100"), (None, true));
    assert_eq!(date_sent("Mon, 1 Jan 0049 00:00:00 +0000"), (None, true));
}

/// Years the timeline cannot hold (before 1678, after 2262) are no date, never another one:
/// 1600 and 9999 were already, 2300 was kept and then matched no date search at all.
#[test]
fn date_years_outside_the_timeline_are_bad_dates() {
    for date in [
        "Sat, 1 Jan 1600 00:00:00 +0000",
        "Fri, 1 Jan 9999 00:00:00 +0000",
        "Fri, 31 Dec 9999 23:00:00 +0000",
        "Tue, 27 Aug 0099 23:35:10 +0700",
        "Wed, 1 Jan 2300 00:00:00 +0000",
    ] {
        assert_eq!(date_sent(date), (None, true), "{date}");
    }
    // `0102` is a mailer's Y2K bug (C's `tm_year`, years since 1900, printed with four digits):
    // read as 2002, not dropped (recall issue 9: 62 real messages), and flagged as repaired.
    assert_eq!(date_sent("Tue, 27 Aug 0102 23:35:10 +0700"), (Some(1030466110), false));
    assert_eq!(date_sent("Sat, 1 Jan 1800 00:00:00 +0000"), (Some(-5364662400), false));
}

#[test]
fn date_short_years_follow_rfc5322_and_impossible_days_are_bad() {
    // Two digits: 00-49 → 2000s, 50-99 → 1900s; three digits: + 1900 (RFC 5322 §4.3).
    assert_eq!(date_sent("Fri, 1 Jan 99 00:00:00 +0000"), (Some(915148800), false));
    assert_eq!(date_sent("Fri, 1 Jan 49 00:00:00 +0000"), (Some(2493072000), false));
    assert_eq!(date_sent("Mon, 1 Jan 101 00:00:00 +0000"), (Some(978307200), false));
    assert_eq!(date_sent("Sat, 1 Jan 049 00:00:00 +0000"), (Some(-662688000), false));
    // 31 February is no day: not silently 3 March.
    assert_eq!(date_sent("Mon, 31 Feb 2020 00:00:00 +0000"), (None, true));
    // Ordinary dates are unchanged.
    assert_eq!(date_sent("Wed, 02 Oct 2002 08:00:00 +0000"), (Some(1033545600), false));
    assert_eq!(date_sent("Wed, 02 Oct 2002 03:00:00 EST"), (Some(1033545600), false));
}
