//! Exports, read back by independent readers (Python's zipfile, mailbox, csv, xml.etree and
//! coreutils md5sum via `tests/independent/check_export.py`) and by `verify`.

use super::common::*;
use ediscovery::export::request::MailExportOptions;
use ediscovery::export::{
    self, BlobSource, ExportRequest, Failure, FailureClass, NoExportProgress, RequestError, Wanted,
};
use ediscovery::format::zip::Compression;
use ediscovery::ingest::Source;
use ediscovery::model::{Corpus, DocId, Record};
use ediscovery::verify::verify;
use ediscovery::{Collection, CollectionWriter, IngestOptions, NoProgress, sample};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn request(name: &str, corpus: &str, accounts: &[&str], terms: &str) -> ExportRequest {
    export_request(name, corpus, accounts, terms)
}

fn run_export(c: &Collection, req: &ExportRequest, out: &Path) -> export::Outcome {
    let plan = export::plan_search(c, req, 1_700_000_000, None).unwrap();
    export::run(c, req, &plan, c.store(), out, &NoExportProgress).unwrap()
}

/// Run the Python checker; it must find no problem.
fn python_check(dir: &Path, name: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/check_export.py");
    let out = Command::new("python3").arg(script).arg(dir).arg(name).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["problems"], Value::Array(vec![]), "python found problems in {}", dir.display());
    v
}

/// The hostile collection: control characters, formulas, a thousand recipients, 8-bit headers,
/// accounts whose names look like paths, a message without a final newline.
fn hostile(dir: &Path) -> (Collection, Vec<&'static str>) {
    let src = dir.join("src");
    let many: Vec<String> = (0..1000).map(|i| format!("r{i}@example.com")).collect();
    let msgs: Vec<(&str, Vec<u8>)> = vec![
        ("ctl.eml", b"Message-ID: <ctl@x>\nFrom: \"=cmd|' /C calc'!A0\" <evil@x.com>\nTo: a@x.com\nSubject: bell\x07 esc\x1b =cmd|' /C calc'!A0 @SUM(1+1)\nDate: Mon, 6 Mar 2023 10:00:00 +0000\n\nbody\n".to_vec()),
        ("formula.eml", b"Message-ID: <f@x>\nFrom: \"@SUM(A1)\" <sum@x.com>\nSubject: =HYPERLINK(\"http://x\")\nDate: Mon, 6 Mar 2023 10:01:00 +0000\n\n>From quoted\nFrom unquoted\n".to_vec()),
        ("many.eml", format!("Message-ID: <many@x>\nFrom: m@x.com\nTo: {}\nSubject: a thousand recipients\nDate: Mon, 6 Mar 2023 10:02:00 +0000\n\nhi\n", many.join(", ")).into_bytes()),
        ("latin1.eml", fixture("8bit-headers.eml")),
        ("nofinal.eml", b"Message-ID: <nofinal@x>\nSubject: no final newline\nDate: Mon, 6 Mar 2023 10:03:00 +0000\n\nends without LF".to_vec()),
    ];
    for (n, b) in &msgs {
        write(&src, n, b);
    }
    let mut w = CollectionWriter::open(&dir.join("c"), 2).unwrap();
    let accounts = vec!["../../evil@x.com", "c:colon@x.com", "alice@example.com"];
    for a in &accounts {
        w.ingest(&Source::Eml(src.clone()), &IngestOptions::new(account(a)), &mut NoProgress)
            .unwrap();
    }
    (w.finish().unwrap(), accounts)
}

#[test]
fn hostile_content_round_trips_through_independent_readers_and_stays_inside() {
    let tmp = tempfile::tempdir().unwrap();
    let (c, accounts) = hostile(tmp.path());
    let req = request("Hostile", "MAIL", &accounts, "");
    let outcome = run_export(&c, &req, &tmp.path().join("out"));
    let out = outcome.dir.clone();
    assert_eq!(out, tmp.path().join("out/Hostile"));
    assert_eq!((outcome.summary.totals.in_scope, outcome.summary.totals.exported), (15, 15));
    assert_eq!(outcome.summary.messages_given_final_newline, 3);
    // Two control characters in one subject, once per account. (The 8-bit header was decoded
    // lossily at ingest: its U+FFFD is legal XML and needs no replacing.)
    assert_eq!(outcome.summary.xml_replaced_characters, 3 * 2);
    let v = python_check(&out, "Hostile");
    // Every message is byte-identical to what was ingested.
    let msgs = v["messages"].as_object().unwrap();
    assert_eq!(msgs.len(), 15);
    for r in c.store().records().iter() {
        assert_eq!(msgs[&r.doc_id.to_string()], r.blob().md5.to_string());
    }
    // Nothing was written outside the output folder, and every name in it is a plain name.
    let mut top: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["c", "out", "src"]);
    for z in v["zips"].as_array().unwrap() {
        for e in z["entries"].as_array().unwrap() {
            let e = e.as_str().unwrap();
            assert!(e.starts_with("Hostile-") && !e.contains('/') && !e.contains(':'), "{e}");
        }
    }
    // CSV cells that would run as formulas are prefixed; XML values carry U+FFFD for controls.
    let csv = std::fs::read_to_string(out.join("Hostile-metadata.csv")).unwrap();
    assert!(csv.contains("'=HYPERLINK") && csv.contains("'@SUM(A1) <sum@x.com>"), "{csv}");
    let tags = &v["doc_tags"];
    let subjects: BTreeSet<&str> =
        tags.as_object().unwrap().values().map(|t| t["#Subject"].as_str().unwrap()).collect();
    assert!(
        subjects.contains("bell\u{FFFD} esc\u{FFFD} =cmd|' /C calc'!A0 @SUM(1+1)"),
        "{subjects:?}"
    );
    let many = tags
        .as_object()
        .unwrap()
        .values()
        .find(|t| t["#Subject"] == "a thousand recipients")
        .unwrap();
    assert_eq!(many["#To"].as_str().unwrap().split(", ").count(), 1000);
    assert_eq!(
        v["batch_tags"]["Custodians"],
        accounts.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(",")
    );
    assert!(verify(&out).unwrap().ok());
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

fn sample_collection(dir: &Path) -> Collection {
    let org = sample::generate(&dir.join("org"), 2).unwrap();
    let mut w = CollectionWriter::open(&dir.join("c"), 2).unwrap();
    for s in &org.sources {
        let mut o = IngestOptions::new(s.account.clone());
        o.corpus = s.corpus;
        o.org_unit = s.org_unit.clone();
        w.ingest(&s.source, &o, &mut NoProgress).unwrap();
    }
    w.set_members(
        org.sources[5].account.as_str(),
        vec![ediscovery::model::GroupMember {
            member: "alice@example.org".into(),
            group: "deals@example.org".into(),
            join_time: "2023-06-01T09:00:00Z".into(),
            role: "OWNER".into(),
            kind: "USER".into(),
        }],
    )
    .unwrap();
    w.finish().unwrap()
}

#[test]
fn one_thread_and_many_give_identical_files_and_compressions_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let c = sample_collection(tmp.path());
    let mut req = request("Same", "MAIL", &[], "");
    req.ediscovery.split_size = 20_000; // several parts per account
    let mut outs = Vec::new();
    for (threads, compression) in
        [(1, Compression::Deflate), (4, Compression::Deflate), (3, Compression::Store)]
    {
        req.ediscovery.threads = threads;
        req.ediscovery.compression = compression;
        let o = run_export(&c, &req, &tmp.path().join(format!("t{threads}")));
        let out = o.dir.clone();
        assert_eq!(o.summary.totals.exported, 600);
        assert!(verify(&out).unwrap().ok());
        outs.push(files(&out));
    }
    let skip = |n: &str| n.ends_with("-summary.json") || n.ends_with("-checksums.md5");
    for (name, bytes) in &outs[0] {
        if !skip(name) {
            assert_eq!(Some(bytes), outs[1].get(name), "{name} differs between 1 and 4 threads");
        }
    }
    // Checksum lines agree except the summary's (it records threads and timings).
    let lines = |m: &BTreeMap<String, Vec<u8>>| {
        String::from_utf8(m["Same-checksums.md5"].clone())
            .unwrap()
            .lines()
            .filter(|l| !l.ends_with("summary.json"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&outs[0]), lines(&outs[1]));
    // Store and deflate: same metadata, same mbox bytes inside different zips.
    for name in ["Same-metadata.xml", "Same-metadata.csv", "Same-results-count.csv"] {
        assert_eq!(outs[0][name], outs[2][name], "{name}");
    }
    let entries = |dir: &str| {
        let mut all = Vec::new();
        for (n, _) in outs[0].iter().filter(|(n, _)| n.ends_with(".zip")) {
            let f = std::fs::File::open(tmp.path().join(dir).join("Same").join(n)).unwrap();
            ediscovery::format::zip::for_each_entry(f, |e, r| {
                let mut b = Vec::new();
                r.read_to_end(&mut b)?;
                all.push((e.to_owned(), b));
                Ok(())
            })
            .unwrap();
        }
        all
    };
    assert_eq!(entries("t1"), entries("t3"));
    // Splits: zips never mix accounts; later parts are numbered.
    let plan = export::plan_search(&c, &req, 0, None).unwrap();
    assert!(plan.zips.len() > 5);
    assert!(plan.zips.iter().any(|z| z.part == 2 && z.entry.ends_with("-2.mbox")));
    let records = export::PlanRecords::new(&c, &plan, 2);
    let mut n = 0;
    for z in &plan.zips {
        let recs = records.of(z).unwrap();
        assert_eq!(recs.len(), z.len());
        for s in recs.seqs() {
            assert_eq!(c.store().by_seq(s).unwrap().account, z.account);
            n += 1;
        }
    }
    assert_eq!(n, 600);
}

/// A store with faults: some records cannot be read now, some come back damaged.
struct Faulty<'a> {
    store: &'a ediscovery::store::Store,
    transient: BTreeSet<DocId>,
    damaged: BTreeSet<DocId>,
}

impl BlobSource for Faulty<'_> {
    fn read<'a>(&'a self, want: Wanted<'_>) -> Result<Cow<'a, [u8]>, Failure> {
        if self.transient.contains(&want.doc_id) {
            return Err(Failure {
                class: FailureClass::Transient,
                reason: "backend timed out".into(),
            });
        }
        let b = self.store.read(want)?;
        if self.damaged.contains(&want.doc_id) {
            let mut v = b.into_owned();
            v[0] ^= 1;
            return Ok(Cow::Owned(v));
        }
        Ok(b)
    }
}

/// Issue 10: a streaming plan (mail and groups: one account's hits held at a time) holds no
/// record, and its export is byte for byte the export of the whole search's plan: with parts
/// split by size, CRLF conversion, failed records (whose listings are written again), deleted
/// records left out, for both corpora and both compressions.
#[test]
fn a_streaming_plan_holds_no_records_and_writes_what_a_whole_plan_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let c = sample_collection(tmp.path());
    // Two of alice's mails deleted: the search leaves them out in both plans.
    let deleted: Vec<u64> = c
        .store()
        .iter()
        .map(Result::unwrap)
        .filter(|r| r.account.as_str() == "alice@example.org" && r.corpus == Corpus::Mail)
        .take(2)
        .map(|r| r.seq)
        .collect();
    let mut held_set = ediscovery::search::HeldSet::new(&c);
    for &s in &deleted {
        held_set.insert_record(s, c.store().by_seq(s).unwrap().doc_id);
    }
    let held_set = std::sync::Arc::new(held_set);
    let mut n = 0;
    for (corpus, eol, compression, split, faults) in [
        ("MAIL", "original", Compression::Deflate, 20_000, false),
        ("MAIL", "crlf", Compression::Store, 1_000_000, false),
        ("MAIL", "original", Compression::Store, 30_000, true),
        ("MAIL", "crlf", Compression::Deflate, 25_000, true),
        ("GROUPS", "original", Compression::Deflate, 10_000, false),
    ] {
        n += 1;
        let mut req = request(&format!("S{n}"), corpus, &[], "");
        req.ediscovery.split_size = split;
        req.ediscovery.compression = compression;
        req.ediscovery.line_endings = serde_json::from_value(Value::from(eol)).unwrap();
        let mut sr = export::search_request(&req, 0).unwrap();
        sr.deleted = Some(held_set.clone());
        let streamed = export::plan_streaming(&c, &req, sr.clone(), None).unwrap();
        let whole = export::plan(&c, &req, &c.search(&sr).unwrap(), None).unwrap();
        // The same zips, entries, sizes and counts; only the whole plan lists records.
        assert_eq!(streamed.zips.len(), whole.zips.len());
        assert!(whole.zips.len() > 3, "{corpus}: the split size makes several zips");
        assert_eq!(streamed.in_scope, whole.in_scope);
        assert_eq!(streamed.files, whole.files);
        for (s, w) in streamed.zips.iter().zip(&whole.zips) {
            assert!(s.records.is_empty() && s.sizes.is_empty() && s.deferred.is_some());
            assert_eq!(s.len(), w.records.len());
            assert_eq!(
                (&s.file, &s.entry, &s.account, s.part),
                (&w.file, &w.entry, &w.account, w.part)
            );
            assert_eq!((s.bytes, s.latest), (w.bytes, w.latest));
        }
        let all: Vec<Record> = whole
            .zips
            .iter()
            .flat_map(|z| &z.records)
            .map(|s| c.store().by_seq(*s).unwrap())
            .collect();
        if corpus == "MAIL" {
            assert!(all.iter().all(|r| !deleted.contains(&r.seq)), "deleted mails left out");
        }
        let faulty = Faulty {
            store: c.store(),
            transient: all.iter().filter(|_| faults).step_by(13).map(|r| r.doc_id).collect(),
            damaged: all.iter().filter(|_| faults).skip(3).step_by(29).map(|r| r.doc_id).collect(),
        };
        let mut outs = Vec::new();
        for (which, plan) in [("streamed", &streamed), ("whole", &whole)] {
            let dir = tmp.path().join(format!("{which}-{n}"));
            let o = export::run(&c, &req, plan, &faulty, &dir, &NoExportProgress).unwrap();
            assert_eq!(o.has_failures(), faults);
            assert_eq!(o.summary.totals.in_scope, all.len() as u64);
            assert!(verify(&o.dir).unwrap().ok(), "{:?}", verify(&o.dir).unwrap().problems);
            outs.push(files(&o.dir));
        }
        let names: Vec<_> = outs[0].keys().collect();
        assert_eq!(names, outs[1].keys().collect::<Vec<_>>());
        for (name, bytes) in &outs[0] {
            if !name.ends_with("-summary.json") && !name.ends_with("-checksums.md5") {
                assert!(bytes == &outs[1][name], "S{n}: {name} differs");
            }
        }
    }
}

#[test]
fn failures_become_error_rows_that_a_retry_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let c = sample_collection(tmp.path());
    let req = request("Faults", "MAIL", &["alice@example.org", "bob@example.org"], "");
    let plan = export::plan_search(&c, &req, 0, None).unwrap();
    let recs: Vec<Record> = export::PlanRecords::new(&c, &plan, 1)
        .planned(&plan)
        .map(|s| c.store().by_seq(s.unwrap()).unwrap())
        .collect();
    let transient: BTreeSet<DocId> = recs.iter().step_by(17).map(|r| r.doc_id).collect();
    let damaged = recs
        .iter()
        .skip(5)
        .step_by(23)
        .map(|r| r.doc_id)
        .filter(|d| !transient.contains(d))
        .collect();
    let faulty = Faulty { store: c.store(), transient, damaged };
    let o =
        export::run(&c, &req, &plan, &faulty, &tmp.path().join("out"), &NoExportProgress).unwrap();
    let out = o.dir.clone();
    let s = &o.summary;
    assert!(o.has_failures());
    assert_eq!(s.totals.failed_transient, faulty.transient.len() as u64);
    assert_eq!(s.totals.failed_non_transient, faulty.damaged.len() as u64);
    assert_eq!(s.totals.in_scope, 180);
    assert!(s.accounts.iter().all(|b| b.balances()));
    assert!(verify(&out).unwrap().ok(), "{:?}", verify(&out).unwrap().problems);
    let v = python_check(&out, "Faults");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len() as u64, s.totals.failed());
    for e in errors {
        let id: DocId = e["Document ID"].as_str().unwrap().parse().unwrap();
        let class = if faulty.transient.contains(&id) { "transient" } else { "non-transient" };
        assert_eq!(e["Failure class"], class);
        let mid = c.store().by_doc(&id).unwrap().mail().unwrap().message_id.clone().unwrap();
        assert_eq!(e["Retry query"], format!("rfc822msgid:\"{mid}\""));
        assert_eq!(e["RFC 822 Message-ID"], mid);
        // The retry query finds exactly that message.
        let hits = ediscovery::search::search_text(
            &c,
            req.scope().unwrap(),
            e["Retry query"].as_str().unwrap(),
            0,
        )
        .unwrap();
        assert_eq!(hits.hits.iter().map(|h| h.doc_id).collect::<Vec<_>>(), [id]);
    }
    assert!(out.join("Faults-account-exceptions.csv").is_file());
    // Retry: only what failed, now from a healthy store.
    let only = export::failed_doc_ids(&out.join("Faults-error.csv")).unwrap();
    let mut retry_req = req.clone();
    retry_req.name = "Faults-retry".into();
    let plan2 = export::plan_search(&c, &retry_req, 0, Some(&only)).unwrap();
    let o2 = export::run(
        &c,
        &retry_req,
        &plan2,
        c.store(),
        &tmp.path().join("retry"),
        &NoExportProgress,
    )
    .unwrap();
    let out2 = o2.dir.clone();
    assert_eq!(
        (o2.summary.totals.exported, o2.summary.totals.failed()),
        (only.doc_ids.len() as u64, 0)
    );
    python_check(&out2, "Faults-retry");
}

#[test]
fn groups_export_membership_and_missing_lookups() {
    let tmp = tempfile::tempdir().unwrap();
    let c = sample_collection(tmp.path());
    let o = run_export(
        &c,
        &request("Deals", "GROUPS", &["deals@example.org", "ghost@example.org"], "falcon"),
        &tmp.path().join("g"),
    );
    let out = o.dir.clone();
    assert_eq!(o.summary.totals.exported, 12);
    let names: BTreeSet<String> = files(&out).into_keys().collect();
    for n in [
        "Deals-1.zip",
        "Deals-metadata.xml",
        "Deals-results-count.csv",
        "Deals-group-membership.csv",
        "Deals-failed-group-membership-lookups.csv",
        "Deals-summary.json",
        "Deals-checksums.md5",
    ] {
        assert!(names.contains(n), "{n} missing from {names:?}");
    }
    assert!(!names.contains("Deals-metadata.csv"), "groups have no metadata.csv");
    let members = std::fs::read_to_string(out.join("Deals-group-membership.csv")).unwrap();
    assert_eq!(
        members,
        "Member,Group,JoinTime,Role,Type\r\nalice@example.org,deals@example.org,2023-06-01T09:00:00Z,OWNER,USER\r\n"
    );
    let missing =
        std::fs::read_to_string(out.join("Deals-failed-group-membership-lookups.csv")).unwrap();
    assert!(missing.contains("ghost@example.org"));
    python_check(&out, "Deals");
    assert!(verify(&out).unwrap().ok());
}

#[test]
fn requests_that_cannot_be_served_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    let c = sample_collection(tmp.path());
    let mut pst = request("P", "MAIL", &[], "");
    pst.export_options.mail_options = Some(MailExportOptions { export_format: Some("PST".into()) });
    assert!(
        matches!(export::plan_search(&c, &pst, 0, None), Err(export::ExportError::Request(RequestError::NotSupported(s))) if s.contains("PST"))
    );
    // Drive is exportable since issue 11: a mail collection has no Drive files to plan.
    let drive = export::plan_search(&c, &request("D", "DRIVE", &[], ""), 0, None).unwrap();
    assert!(drive.zips.is_empty() && drive.files.iter().any(|f| f.name == "D-custodian-docid.csv"));
    assert!(export::plan_search(&c, &request("../up", "MAIL", &[], ""), 0, None).is_err());
    assert!(export::plan_search(&c, &request("ok", "MAIL", &[], "from:("), 0, None).is_err());
    // An existing export is never overwritten.
    let out = tmp.path().join("o");
    run_export(&c, &request("Twice", "MAIL", &["alice@example.org"], ""), &out);
    let req = request("Twice", "MAIL", &["alice@example.org"], "");
    let plan = export::plan_search(&c, &req, 0, None).unwrap();
    assert!(matches!(
        export::run(&c, &req, &plan, c.store(), &out, &NoExportProgress),
        Err(export::ExportError::Exists(_))
    ));
    // The request JSON is Vault-shaped.
    let json = serde_json::to_value(&req).unwrap();
    assert_eq!(json["query"]["accountInfo"]["emails"][0], "alice@example.org");
    assert_eq!(json["query"]["searchMethod"], "ACCOUNT");
}

#[test]
fn spamassassin_export_of_everything_passes_every_reader() {
    let Some(dir) = corpus_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut w = CollectionWriter::open(&tmp.path().join("c"), 0).unwrap();
    let mut accounts: Vec<String> = std::fs::read_dir(dir.join("mbox"))
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    accounts.sort();
    for a in &accounts {
        w.ingest(
            &Source::Mbox(dir.join("mbox").join(format!("{a}.mbox"))),
            &IngestOptions::new(account(a)),
            &mut NoProgress,
        )
        .unwrap();
    }
    let c = w.finish().unwrap();
    let o = run_export(&c, &request("SA", "MAIL", &[], ""), &tmp.path().join("out"));
    let out = o.dir.clone();
    assert_eq!(o.summary.totals.exported, 6046);
    // The one corpus message without a final newline got it at mbox ingest (mbox cannot carry
    // the difference), so nothing more is added here.
    assert_eq!(o.summary.messages_given_final_newline, 0);
    assert!(verify(&out).unwrap().ok());
    let v = python_check(&out, "SA");
    let counts = ediscovery::search::search_text(
        &c,
        ediscovery::query::Scope::entire_org(Corpus::Mail),
        "",
        0,
    )
    .unwrap()
    .counts;
    for (a, n) in &counts.per_account {
        assert_eq!(v["results_count"][a.as_str()], *n, "{a}");
    }
    assert_eq!(v["messages"].as_object().unwrap().len(), 6046);
}

/// `verify` is only worth something if it fails: tamper with a sound export in every way it checks.
#[test]
fn verify_catches_every_kind_of_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let c = sample_collection(tmp.path());
    let req = request("T", "MAIL", &["alice@example.org"], "");
    let fresh = |n: &str| {
        let out = run_export(&c, &req, &tmp.path().join(format!("exports-{n}"))).dir;
        assert!(verify(&out).unwrap().ok());
        out
    };
    let sums = |out: &Path| std::fs::read_to_string(out.join("T-checksums.md5")).unwrap();
    let set_sum = |out: &Path, file: &str| {
        // Rewrite the checksum line so only the deeper checks can notice.
        let md5 = ediscovery::digest::Md5::of(&std::fs::read(out.join(file)).unwrap());
        let text: String = sums(out)
            .lines()
            .map(|l| {
                if l.ends_with(&format!("  {file}")) {
                    format!("{md5}  {file}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(out.join("T-checksums.md5"), text).unwrap();
    };
    let problems = |out: &Path| verify(out).unwrap().problems.join("\n");

    // 1. A flipped byte in a zip: its checksum no longer matches.
    let out = fresh("a");
    let mut z = std::fs::read(out.join("T-1.zip")).unwrap();
    z[100] ^= 1;
    std::fs::write(out.join("T-1.zip"), &z).unwrap();
    assert!(problems(&out).contains("T-1.zip: MD5"), "{}", problems(&out));

    // 2. A message changed inside a rebuilt zip, checksum updated: its Hash no longer matches.
    let out = fresh("b");
    let mut entries = Vec::new();
    ediscovery::format::zip::for_each_entry(
        std::fs::File::open(out.join("T-1.zip")).unwrap(),
        |n, r| {
            let mut b = Vec::new();
            r.read_to_end(&mut b)?;
            entries.push((n.to_owned(), b));
            Ok(())
        },
    )
    .unwrap();
    let (name, mut mbox) = entries.remove(0);
    let at = mbox.windows(8).position(|w| w == b"Subject:").unwrap();
    mbox[at + 9] ^= 0x20;
    let mut zw = ediscovery::format::zip::ZipOut::new(Vec::new());
    zw.start(&name, Compression::Deflate, None, false).unwrap();
    std::io::Write::write_all(&mut zw, &mbox).unwrap();
    std::fs::write(out.join("T-1.zip"), zw.finish().unwrap()).unwrap();
    set_sum(&out, "T-1.zip");
    assert!(problems(&out).contains("does not match its Hash/FileSize"), "{}", problems(&out));

    // 3. A metadata row dropped (checksum updated): CSV and XML disagree.
    let out = fresh("c");
    let csv = std::fs::read_to_string(out.join("T-metadata.csv")).unwrap();
    let shorter: String = csv.split_inclusive("\r\n").take(5).collect();
    std::fs::write(out.join("T-metadata.csv"), shorter).unwrap();
    set_sum(&out, "T-metadata.csv");
    assert!(problems(&out).contains("metadata.csv has 4 rows"), "{}", problems(&out));

    // 4. A summary that does not balance (checksum updated).
    let out = fresh("d");
    let s = std::fs::read_to_string(out.join("T-summary.json")).unwrap().replacen(
        "\"excluded\": 0",
        "\"excluded\": 3",
        1,
    );
    std::fs::write(out.join("T-summary.json"), s).unwrap();
    set_sum(&out, "T-summary.json");
    assert!(problems(&out).contains("≠ exported"), "{}", problems(&out));

    // 5. A stray file, a half-written file, a path in the checksum file.
    let out = fresh("e");
    std::fs::write(out.join("T-extra.csv"), "x").unwrap();
    std::fs::write(out.join(".T-2.zip.partial"), "x").unwrap();
    std::fs::write(
        out.join("T-checksums.md5"),
        sums(&out) + "d41d8cd98f00b204e9800998ecf8427e  ../outside\n",
    )
    .unwrap();
    let p = problems(&out);
    assert!(p.contains("T-extra.csv: not in any checksum file"), "{p}");
    assert!(p.contains("an unfinished file"), "{p}");
    assert!(p.contains("not a plain file name"), "{p}");
}

/// The plan lists every file the export writes, with its kind; the summary records the kinds;
/// the runner writes exactly the planned files (conditional ones only when their condition holds).
#[test]
fn the_plan_lists_every_file_and_the_export_writes_exactly_those() {
    use ediscovery::export::{FileKind, When};
    let tmp = tempfile::tempdir().unwrap();
    let c = sample_collection(tmp.path());
    for (req, failing) in [
        (request("M", "MAIL", &["alice@example.org", "bob@example.org"], ""), false),
        (request("G", "GROUPS", &["deals@example.org", "ghost@example.org"], ""), false),
        (request("F", "MAIL", &["alice@example.org"], ""), true),
    ] {
        let plan = export::plan_search(&c, &req, 0, None).unwrap();
        let kinds: Vec<FileKind> = plan.files.iter().map(|f| f.kind).collect();
        assert_eq!(kinds.first(), Some(&FileKind::Content));
        assert_eq!(kinds.last(), Some(&FileKind::Checksums));
        assert_eq!(plan.has(FileKind::MetadataCsv), req.query.corpus == "MAIL");
        assert_eq!(plan.has(FileKind::GroupMembership), req.query.corpus == "GROUPS");
        let all = Faulty {
            store: c.store(),
            transient: BTreeSet::new(),
            damaged: if failing {
                c.store().records().iter().map(|r| r.doc_id).collect()
            } else {
                BTreeSet::new()
            },
        };
        let o =
            export::run(&c, &req, &plan, &all, &tmp.path().join("out"), &NoExportProgress).unwrap();
        let written: BTreeSet<String> = files(&o.dir).into_keys().collect();
        for f in &plan.files {
            let expect = match f.when {
                When::Always => true,
                When::IfFailures => failing,
                When::IfMissingMemberLists => req.query.corpus == "GROUPS",
            };
            assert_eq!(written.contains(&f.name), expect, "{}: {f:?}", req.name);
        }
        let planned: BTreeSet<&String> = plan.files.iter().map(|f| &f.name).collect();
        assert!(written.iter().all(|w| planned.contains(w)), "{written:?} ⊄ {planned:?}");
        for wf in &o.summary.files {
            let p = plan.files.iter().find(|f| f.name == wf.name).unwrap();
            assert_eq!(wf.kind, Some(p.kind));
        }
    }
}

/// Damaged stored bytes are found by the CRC-32 recorded at ingest (the default) and by a full
/// MD5 re-check (`recheck_md5`) alike, and only those records fail.
#[test]
fn damaged_bytes_are_found_by_the_recorded_crc_and_by_md5() {
    let tmp = tempfile::tempdir().unwrap();
    let c = sample_collection(tmp.path());
    for recheck in [false, true] {
        let mut req = request(&format!("Damage-{recheck}"), "MAIL", &["alice@example.org"], "");
        req.ediscovery.recheck_md5 = recheck;
        let plan = export::plan_search(&c, &req, 0, None).unwrap();
        let recs: Vec<Record> = export::PlanRecords::new(&c, &plan, 1)
            .planned(&plan)
            .map(|s| c.store().by_seq(s.unwrap()).unwrap())
            .collect();
        assert!(recs.iter().all(|r| r.blob().crc32.is_some()), "new blobs carry a CRC");
        let damaged: BTreeSet<DocId> = recs.iter().step_by(7).map(|r| r.doc_id).collect();
        let faulty = Faulty { store: c.store(), transient: BTreeSet::new(), damaged };
        let o = export::run(&c, &req, &plan, &faulty, &tmp.path().join("out"), &NoExportProgress)
            .unwrap();
        assert_eq!(o.summary.totals.failed_non_transient, faulty.damaged.len() as u64);
        assert_eq!(o.summary.totals.exported, (recs.len() - faulty.damaged.len()) as u64);
        assert!(verify(&o.dir).unwrap().ok(), "{:?}", verify(&o.dir).unwrap().problems);
    }
}
