//! Issue 13: the organisation-wide export, read back by independent readers (Python's
//! html.parser, zipfile and json; `md5sum -c`; headless Chromium when installed), with injected
//! failures and hostile account names; the 30-day rule; new accounts left out; user-deleted data
//! left out unless kept; prune; resumption after a kill.

use ediscovery::export::org::{self, OrgExportOptions, OrgExportProgress, report::AccountReport};
use ediscovery::export::{BlobSource, Failure, FailureClass};
use ediscovery::governance::{Governance, NewHold};
use ediscovery::ingest::Source;
use ediscovery::model::{Account, Corpus, Record};
use ediscovery::{CollectionWriter, IngestOptions, NoProgress};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ADMIN: &str = ediscovery::sample::SAMPLE_ADMIN;
const HOSTILE: &str = "<script>alert(1)</script>@x";
/// A Drive title that is hostile in HTML and as a path.
const TITLE: &str = "../../\"Q&A\" <b>plan</b>.docx";
/// The export's start: 2026-01-10T00:00:00Z.
const T: i64 = 1_767_225_600 + 9 * 86_400;
const T_ISO: &str = "2026-01-10T00:00:00Z";

fn acct(s: &str) -> Account {
    Account::new(s).unwrap()
}

/// The sample organisation plus: a hostile account with two messages, a user created an hour
/// before the start, a shared drive (customer-owned) and a service account; one of alice's
/// messages deleted and held, one deleted and not held. Returns the collection folder.
fn sample(dir: &Path) -> PathBuf {
    let c = crate::it::common::sample_org_collection(dir, 1);
    let cdir = c.store().dir().to_path_buf();
    drop(c);
    let mbox = dir.join("hostile.mbox");
    std::fs::write(
        &mbox,
        "From x@y Thu Jan  1 00:00:00 2025\nFrom: a@x\nSubject: one\nMessage-ID: <h1@x>\nDate: Wed, 1 Jan 2025 00:00:00 +0000\n\nbody one\n\n\
         From x@y Thu Jan  2 00:00:00 2025\nFrom: a@x\nSubject: two\nMessage-ID: <h2@x>\nDate: Thu, 2 Jan 2025 00:00:00 +0000\n\nbody two\n\n",
    )
    .unwrap();
    let mut w = CollectionWriter::open(&cdir, 1).unwrap();
    w.ingest(&Source::Mbox(mbox), &IngestOptions::new(acct(HOSTILE)), &mut NoProgress).unwrap();
    w.finish().unwrap();
    // A Drive file of alice's with a hostile title (Drive is not written into org exports yet:
    // it is a failed file, listed under its title). Written through the store, then the index
    // is brought in step by a collection writer.
    let mut sw = ediscovery::store::Store::open(&cdir).unwrap().writer().unwrap();
    let template = sw.store().iter().next().unwrap().unwrap();
    let body = b"PK\x03\x04 not really a document".to_vec();
    let (blob, _) = sw.put_blob(ediscovery::digest::Md5::of(&body), &body).unwrap();
    let mut r = template.clone();
    r.seq = sw.next_seq();
    r.corpus = Corpus::Drive;
    r.account = acct("alice@example.org");
    r.doc_id = ediscovery::model::DocId::derive("drive", &r.account, "drive-1", &blob.md5);
    r.meta = ediscovery::model::Metadata::Drive(Box::new(ediscovery::model::DriveMeta {
        drive_id: "1AbC".into(),
        title: TITLE.into(),
        owner: "alice@example.org".into(),
        mime_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document".into(),
        modified: Some(1_700_000_000),
        ..Default::default()
    }));
    r.parts = ediscovery::model::Parts::new(ediscovery::model::Part::new(
        ediscovery::model::PartKind::File,
        blob,
    ));
    r.defects.clear();
    sw.push(&r).unwrap();
    sw.commit(|_| Ok(())).unwrap();
    drop(sw);
    CollectionWriter::open(&cdir, 1).unwrap().finish().unwrap();
    let org_file = dir.join("org/org.csv");
    let mut org = std::fs::read_to_string(&org_file).unwrap();
    org.push_str(&format!("\"{HOSTILE}\",/,USER,2020-01-01T00:00:00Z,false\n"));
    org.push_str("newbie@example.org,/,USER,2026-01-09T23:00:00Z,false\n");
    org.push_str("drives@example.org,/,CUSTOMER,2020-01-01T00:00:00Z,false\n");
    org.push_str("robot@example.org,/,SERVICE_ACCOUNT,2020-01-01T00:00:00Z,false\n");
    let org_path = dir.join("org2.csv");
    std::fs::write(&org_path, &org).unwrap();
    let gov = Governance::open(&cdir).unwrap();
    let admin = acct(ADMIN);
    gov.run(|tx| tx.import_org(&admin, &org_path, org.as_bytes())).unwrap();
    // Two of alice's messages deleted by her; a hold keeps the first.
    let coll = ediscovery::Collection::open(&cdir).unwrap();
    let alice: Vec<Record> = coll
        .store()
        .iter()
        .map(Result::unwrap)
        .filter(|r| r.account.as_str() == "alice@example.org" && r.corpus == Corpus::Mail)
        .take(2)
        .collect();
    let held_id = alice[0].mail().unwrap().message_id.clone().unwrap();
    let m = gov.run(|tx| tx.create_matter(&admin, "Keep", "")).unwrap();
    let mut hold = NewHold::accounts("one", Corpus::Mail, vec![acct("alice@example.org")]);
    hold.terms = Some(format!("rfc822msgid:{held_id}"));
    gov.run(|tx| tx.create_hold(&admin, &m.matter_id, &hold)).unwrap();
    let ids = [alice[0].doc_id, alice[1].doc_id];
    gov.run(|tx| tx.delete_items(&acct("alice@example.org"), &cdir, &ids)).unwrap();
    cdir
}

/// The store, with the bytes of some records failing: every 9th record of bob, the second of
/// the hostile account, every record of the group (a failed file each).
struct Faulty<'a>(&'a ediscovery::store::Store);
impl BlobSource for Faulty<'_> {
    fn read<'a>(&'a self, rec: &Record) -> Result<Cow<'a, [u8]>, Failure> {
        let fail = match rec.account.as_str() {
            "bob@example.org" => rec.seq.is_multiple_of(9),
            HOSTILE => rec.mail().and_then(|m| m.subject.as_deref()) == Some("two"),
            "deals@example.org" => rec.seq.is_multiple_of(5),
            _ => false,
        };
        if fail {
            return Err(Failure {
                class: FailureClass::Transient,
                reason: "injected: <read> failed & \"retried\"".to_owned(),
            });
        }
        self.0.read(rec)
    }
}

fn check_python(archive: &Path) -> Value {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/check_org_archive.py");
    let out = Command::new("python3").arg(script).arg(archive).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["problems"],
        Value::Array(vec![]),
        "python found problems in {}",
        archive.display()
    );
    v
}

fn md5sum_c(archive: &Path) {
    let out = Command::new("md5sum")
        .args(["-c", "--strict", org::CHECKSUMS])
        .current_dir(archive)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser"] {
        if let Ok(o) = Command::new("which").arg(name).output()
            && o.status.success()
        {
            return Some(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        }
    }
    None
}

#[test]
fn org_export_of_the_sample_reads_back_in_python_md5sum_and_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let cdir = sample(tmp.path());
    let gov = Governance::open(&cdir).unwrap();
    let coll = ediscovery::Collection::open(&cdir).unwrap();
    let faulty = Faulty(coll.store());
    let out = tmp.path().join("out");
    let mut opts = OrgExportOptions::new(&out);
    opts.now = Some(T);
    opts.split_bytes = 40_000;
    let o = org::run(&gov, &acct(ADMIN), &opts, Some(&faulty), &org::NoOrgProgress).unwrap();
    assert!(o.has_failures());
    let r = &o.report;
    assert_eq!(o.dir, out.join("20260110T000000Z"));
    assert_eq!(r.start_time, T_ISO);
    assert_eq!(r.expiry_time, "2026-02-09T00:00:00Z", "start + 30 days");
    assert_eq!(r.started_by, ADMIN);
    // The new account is left out and listed; the others are in, with their types.
    assert_eq!(r.left_out.len(), 1);
    assert_eq!(r.left_out[0].id, "newbie@example.org");
    let kind = |id: &str| r.accounts.iter().find(|a| a.id == id).map(|a| a.account_type.label());
    assert_eq!(kind("deals@example.org"), Some("Group"));
    assert_eq!(kind("drives@example.org"), Some("Customer-owned data"));
    assert_eq!(kind("robot@example.org"), Some("Service account"));
    assert_eq!(kind(HOSTILE), Some("User"));
    assert_eq!(kind("newbie@example.org"), None);
    // Alice: the deleted, unheld message is left out; the held one is exported.
    let alice = r.accounts.iter().find(|a| a.id == "alice@example.org").unwrap();
    assert_eq!(alice.deleted_left_out, 1);
    let alice_mail =
        coll.store().seqs_of(Corpus::Mail, &acct("alice@example.org")).unwrap().len() as u64;
    assert_eq!(alice.exported, alice_mail - 1);
    // Errors: alice (her Drive file), bob, the group and the hostile account.
    let errors: Vec<&str> = r.with_errors().map(|a| a.id.as_str()).collect();
    assert_eq!(errors, [HOSTILE, "alice@example.org", "bob@example.org", "deals@example.org"]);
    assert_eq!(alice.failures.len(), 1);
    assert_eq!(alice.failures[0].file, TITLE);
    assert_eq!(alice.failures[0].product, "Drive");
    // Split zips: bob's mail does not fit one zip of 40 kB.
    let bob = r.accounts.iter().find(|a| a.id == "bob@example.org").unwrap();
    assert!(bob.archives.len() > 1, "{:?}", bob.archives);
    // Layout: one folder per account, nothing outside the archive folder.
    let mut top: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["20260110T000000Z"], "nothing but the archive in OUT");
    let hostile = r.accounts.iter().find(|a| a.id == HOSTILE).unwrap();
    assert!(!hostile.folder.contains('/') && !hostile.folder.contains('<'), "{}", hostile.folder);
    assert!(o.dir.join(&hostile.archives[0].path).is_file());

    let py = check_python(&o.dir);
    assert_eq!(py["error_rows"], serde_json::json!(errors));
    assert_eq!(py["raw_has_script_tag"], false, "the hostile name is escaped");
    assert_eq!(py["left_out_rows"], serde_json::json!(["newbie@example.org"]));
    let all: Vec<&str> = r.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(py["all_rows"], serde_json::json!(all));
    assert_eq!(py["failed_items"][HOSTILE].as_array().unwrap().len(), 1);
    assert_eq!(py["failed_items"]["alice@example.org"], serde_json::json!([TITLE]));
    let html = std::fs::read_to_string(o.dir.join("report.html")).unwrap();
    assert!(
        html.contains("../../&quot;Q&amp;A&quot; &lt;b&gt;plan&lt;/b&gt;.docx"),
        "escaped title"
    );
    // Nothing but the archive in OUT, and nothing in the archive but the root files and one
    // level of account folders holding zips (the title never became a path).
    let mut names = Vec::new();
    for e in std::fs::read_dir(&o.dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            for f in std::fs::read_dir(e.path()).unwrap() {
                let f = f.unwrap();
                assert!(f.file_type().unwrap().is_file());
                names.push(f.file_name().to_string_lossy().into_owned());
            }
        } else {
            names.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".zip") || n.starts_with("report.") || n == org::CHECKSUMS),
        "{names:?}"
    );
    assert!(!tmp.path().join("out/Q&A").exists() && !tmp.path().join("Q&A").exists());
    md5sum_c(&o.dir);
    let v = ediscovery::verify::verify_org(&o.dir, &ediscovery::Limits::default()).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.messages, r.totals.exported);
    let (code, stdout, stderr) = cli!("verify", &o.dir);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // Headless Chromium: the DOM it renders has the error rows in order, the failed files and
    // links to files that exist; the screenshot goes to docs/.
    let Some(chrome) = chromium() else {
        eprintln!(
            "SKIPPED: headless Chromium (no chromium or chromium-browser on PATH; Debian: apt-get install chromium)"
        );
        return;
    };
    let url = format!("file://{}", o.dir.join("report.html").display());
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
    ];
    let dom = Command::new(&chrome).args(common).arg("--dump-dom").arg(&url).output().unwrap();
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(!dom.contains("<script>alert"), "the browser built no script element");
    let pos: Vec<usize> = errors
        .iter()
        .map(|id| {
            let shown = id.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            dom.find(&format!("<th scope=\"row\">{shown}</th>"))
                .unwrap_or_else(|| panic!("{id} not in the DOM"))
        })
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "error rows out of order: {pos:?}");
    assert_eq!(
        dom.matches("<ul class=\"failed\">").count(),
        4 * 2,
        "failed-file lists in both tables"
    );
    assert!(
        dom.contains("../../\"Q&amp;A\" &lt;b&gt;plan&lt;/b&gt;.docx"),
        "the title is text in the DOM"
    );
    for a in r.with_errors() {
        for z in &a.archives {
            assert!(
                dom.contains(&format!("href=\"{}\"", z.path.replace('<', "%3C")))
                    || dom.contains(&z.path)
            );
            assert!(o.dir.join(&z.path).is_file());
        }
    }
    let png = tmp.path().join("report.png");
    let shot = Command::new(&chrome)
        .args(common)
        .arg("--window-size=1280,1800")
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(shot.status.success(), "{}", String::from_utf8_lossy(&shot.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
    // The picture in docs/ is refreshed only when asked (EDISCOVERY_UPDATE_DOCS=1), so a test
    // run leaves the source tree as it was.
    if std::env::var_os("EDISCOVERY_UPDATE_DOCS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/org-export-report.png");
        std::fs::write(docs, bytes).unwrap();
    }
}

#[test]
fn a_second_export_within_30_days_is_refused_unless_forced_and_prune_removes_expired_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let cdir = sample(tmp.path());
    let out = tmp.path().join("out");
    let (code, stdout, stderr) =
        cli!("org-export", "--collection", &cdir, "--as", ADMIN, "--out", &out, "--now", T_ISO);
    assert_eq!(code, 3, "partial: alice's Drive file is not written; {stdout}{stderr}");
    assert!(stdout.contains("expires  2026-02-09T00:00:00Z"), "{stdout}");
    let (code, _, stderr) = cli!(
        "org-export",
        "--collection",
        &cdir,
        "--as",
        ADMIN,
        "--out",
        &out,
        "--now",
        "2026-01-20"
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("org-export-interval") && stderr.contains("--force"), "{stderr}");
    let inside = cdir.join("archives/new");
    let (code, _, stderr) =
        cli!("org-export", "--collection", &cdir, "--as", ADMIN, "--out", &inside, "--force");
    assert_eq!(code, 1);
    assert!(stderr.contains("inside the collection"), "{stderr}");
    assert!(!cdir.join("archives").exists(), "nothing created inside the collection");
    let (code, _, stderr) = cli!(
        "org-export",
        "--collection",
        &cdir,
        "--as",
        "alice@example.org",
        "--out",
        &out,
        "--now",
        "2026-03-20"
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("admin-only"), "{stderr}");
    let (code, stdout, stderr) = cli!(
        "org-export",
        "--collection",
        &cdir,
        "--as",
        ADMIN,
        "--out",
        &out,
        "--now",
        "2026-01-20",
        "--force",
        "--json"
    );
    assert_eq!(code, 3, "{stdout}{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["report"]["forced"], true);
    let entries = ediscovery::governance::audit::read(&cdir).unwrap();
    let starts: Vec<_> = entries.iter().filter(|e| e.action == "org-export.start").collect();
    assert_eq!(starts.len(), 4);
    assert_eq!(starts[1].outcome["rule"], "org-export-interval");
    assert_eq!(starts[3].outcome["forced"], true);
    assert_eq!(starts[3].parameters["force"], true);
    // Prune as of 2026-02-15: the first (expired 2026-02-09) goes, the second (2026-02-19) stays.
    let (code, stdout, _) = cli!("org-export", "prune", "--out", &out, "--now", "2026-02-15");
    assert_eq!(code, 0);
    assert!(stdout.contains("removed\t20260110T000000Z"), "{stdout}");
    assert!(stdout.contains("kept\t20260120T000000Z"), "{stdout}");
    assert!(!out.join("20260110T000000Z").exists());
    assert!(out.join("20260120T000000Z/report.html").is_file());
}

// The kill test: the child is this test binary; after two accounts it says so and waits to be
// killed (SIGKILL: no destructor, no flush).

const CHILD_DIR: &str = "EDISCOVERY_ORGEXPORT_DIR";
const CHILD_OUT: &str = "EDISCOVERY_ORGEXPORT_OUT";

struct StopAfter(usize, std::cell::Cell<usize>);
impl OrgExportProgress for StopAfter {
    fn account_done(&self, _a: &AccountReport, _resumed: bool) {
        self.1.set(self.1.get() + 1);
        if self.1.get() == self.0 {
            let mut out = std::io::stdout();
            writeln!(out, "DONE {}", self.0).unwrap();
            out.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_secs(120));
            std::process::exit(9);
        }
    }
}

#[test]
#[ignore = "a child process of the org-export kill test"]
fn org_export_child() {
    let (Some(dir), Some(out)) = (std::env::var_os(CHILD_DIR), std::env::var_os(CHILD_OUT)) else {
        return;
    };
    let gov = Governance::open(Path::new(&dir)).unwrap();
    let mut opts = OrgExportOptions::new(Path::new(&out));
    opts.now = Some(T);
    opts.split_bytes = 40_000;
    org::run(&gov, &acct(ADMIN), &opts, None, &StopAfter(3, Default::default())).unwrap();
    panic!("finished without being killed");
}

#[test]
fn a_killed_org_export_resumes_keeping_finished_accounts_and_counts_each_once() {
    let tmp = tempfile::tempdir().unwrap();
    let cdir = sample(tmp.path());
    let out = tmp.path().join("out");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "it::org_export::org_export_child", "--ignored", "--nocapture"])
        .env(CHILD_DIR, &cdir)
        .env(CHILD_OUT, &out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let done = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .any(|l| l == "DONE 3");
    child.kill().unwrap();
    let killed = child.wait_with_output().unwrap();
    assert!(
        done,
        "the child never finished three accounts: {}",
        String::from_utf8_lossy(&killed.stderr)
    );
    let partial = out.join(".20260110T000000Z.partial");
    let (_, journalled) = org::journal::read(&partial.join(org::journal::NAME)).unwrap();
    assert_eq!(journalled.len(), 3);
    // Damage one finished account's zip: the resumed run must notice (MD5) and redo it; the
    // other two are kept as they are.
    let damaged = journalled.iter().find(|a| !a.archives.is_empty()).unwrap().clone();
    let zpath = partial.join(&damaged.archives[0].path);
    let mut bytes = std::fs::read(&zpath).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(&zpath, bytes).unwrap();
    let kept: Vec<&AccountReport> = journalled.iter().filter(|a| a.id != damaged.id).collect();
    let mtimes: Vec<_> = kept
        .iter()
        .flat_map(|a| a.archives.iter())
        .map(|z| std::fs::metadata(partial.join(&z.path)).unwrap().modified().unwrap())
        .collect();
    let (code, stdout, stderr) = cli!(
        "org-export",
        "--collection",
        &cdir,
        "--as",
        ADMIN,
        "--out",
        &out,
        "--split-bytes",
        "40000",
        "--json"
    );
    assert_eq!(code, 3, "{stdout}{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["resumedAccounts"], 2, "two kept, the damaged one redone");
    let dir = out.join("20260110T000000Z");
    assert!(!partial.exists() && dir.is_dir());
    let report: ediscovery::export::org::report::OrgReport =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let ids: Vec<&str> = report.accounts.iter().map(|a| a.id.as_str()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "each account once: {ids:?}");
    assert_eq!(report.totals.accounts as usize, ids.len());
    let after: Vec<_> = kept
        .iter()
        .flat_map(|a| a.archives.iter())
        .map(|z| std::fs::metadata(dir.join(&z.path)).unwrap().modified().unwrap())
        .collect();
    assert_eq!(mtimes, after, "finished zips were kept, not rewritten");
    // The same archive as an uninterrupted run's (apart from the finish time).
    let fresh = tmp.path().join("fresh");
    let gov = Governance::open(&cdir).unwrap();
    let mut opts = OrgExportOptions::new(&fresh);
    opts.now = Some(T + 1);
    opts.split_bytes = 40_000;
    opts.force = true;
    let o = org::run(&gov, &acct(ADMIN), &opts, None, &org::NoOrgProgress).unwrap();
    // Zip bytes differ by their entries' timestamps (the start); what they hold does not.
    let strip = |r: &ediscovery::export::org::report::OrgReport| {
        let accounts: Vec<_> = r
            .accounts
            .iter()
            .map(|a| {
                let paths: Vec<&str> = a.archives.iter().map(|z| z.path.as_str()).collect();
                (
                    a.id.clone(),
                    a.products.clone(),
                    a.failures.clone(),
                    a.deleted_left_out,
                    format!("{paths:?}"),
                )
            })
            .collect();
        (accounts, r.totals)
    };
    assert_eq!(strip(&o.report), strip(&report), "the resumed archive is the uninterrupted one's");
    let (code, stdout, _) = cli!("verify", &dir);
    assert_eq!(code, 0, "{stdout}");
    md5sum_c(&dir);
    // One start and one resumption in the audit log.
    let entries = ediscovery::governance::audit::read(&cdir).unwrap();
    assert_eq!(entries.iter().filter(|e| e.action == "org-export.resume").count(), 1);
}
