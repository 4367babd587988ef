//! Issue 7: the holes an adversarial pass found in search, export and the CLI, one test per case,
//! each named after it. (Ingest and verify cases are in `adversarial_ingest` and
//! `adversarial_verify`.)

use super::common::*;
use ediscovery::export::{
    self, BlobSource, ExportError, ExportRequest, Failure, FailureClass, NoExportProgress, Wanted,
};
use ediscovery::index::compile::CompileError;
use ediscovery::ingest::Source;
use ediscovery::model::Corpus;
use ediscovery::query::{ParseErrorKind, Scope};
use ediscovery::{Collection, CollectionWriter, Error, IngestOptions, NoProgress};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn msg(id: Option<&str>, subject: &str, body: &str) -> String {
    let id = id.map(|i| format!("Message-ID: {i}\n")).unwrap_or_default();
    format!(
        "{id}From: a@example.com\nTo: b@example.com\nSubject: {subject}\nDate: Mon, 6 Mar 2023 10:00:00 +0000\n\n{body}\n"
    )
}

/// An mbox of `messages` for one account, ingested into `coll`.
fn ingest(coll: &Path, acct: &str, messages: &[String]) -> ediscovery::ingest::IngestReport {
    let src = coll.parent().unwrap().join(format!("{}.mbox", acct.replace(['/', '\\'], "_")));
    let mut mbox = String::new();
    for m in messages {
        mbox.push_str("From x@y Mon Mar  6 10:00:00 2023\n");
        mbox.push_str(m);
        mbox.push('\n');
    }
    std::fs::write(&src, mbox).unwrap();
    let mut w = CollectionWriter::open(coll, 2).unwrap();
    let r =
        w.ingest(&Source::Mbox(src), &IngestOptions::new(account(acct)), &mut NoProgress).unwrap();
    w.finish().unwrap();
    r
}

fn scope() -> Scope {
    Scope::entire_org(Corpus::Mail)
}

fn search(c: &Collection, q: &str) -> ediscovery::Result<Vec<String>> {
    let r = ediscovery::search::search_text(c, scope(), q, 0)?;
    Ok(c.hit_records(&r.hits)
        .unwrap()
        .iter()
        .map(|h| h.mail().unwrap().subject.clone().unwrap())
        .collect())
}

fn request(name: &str, accounts: &[&str], terms: &str) -> ExportRequest {
    export_request(name, "MAIL", accounts, terms)
}

/// Three messages, one of which holds a 120-letter word and a 40-character Japanese run.
fn small(dir: &Path) -> Collection {
    let coll = dir.join("c");
    let long = "x".repeat(120);
    let jp = "日本語の文章".repeat(7);
    ingest(
        &coll,
        "alice@example.com",
        &[
            msg(Some("<1@x>"), "alpha", "plain words"),
            msg(Some("<2@x>"), "beta", &format!("{long} {jp}")),
            msg(Some("<3@x>"), "gamma", "more plain words"),
        ],
    );
    Collection::open(&coll).unwrap()
}

// 1. A long word widened the query to everything.
#[test]
fn case_01_long_word_is_refused_never_widens_the_query() {
    let tmp = tempfile::tempdir().unwrap();
    let c = small(tmp.path());
    let long = "x".repeat(100);
    let jp = "日本語の文章".repeat(6); // 36 characters, 108 bytes, one "word" to the tokenizer
    for q in [
        format!("subject:{long}"),
        long.clone(),
        format!("-{long}"),
        format!("alpha OR {long}"),
        format!("\"plain {long}\""),
        format!("{}*", "y".repeat(100)),
        jp.clone(),
    ] {
        match search(&c, &q) {
            Err(Error::Search(CompileError::WordTooLong { len, max, .. })) => {
                assert!(len >= 100 && max == 99, "{q}: {len} {max}");
            }
            other => panic!("{q}: expected WordTooLong, got {other:?}"),
        }
    }
    // 99 bytes is the longest word the index holds: allowed, and it finds nothing here.
    assert_eq!(search(&c, &"x".repeat(99)).unwrap(), Vec::<String>::new());
    // Words with nothing to search for are refused too (they used to mean "everything").
    for q in ["\"!!!\"", "alpha OR \"...\"", "-\"--\"", "from:*@!!", "subject:(alpha OR \"...\")"] {
        assert!(
            matches!(search(&c, q), Err(Error::Search(CompileError::NothingToSearch { .. }))),
            "{q}: {:?}",
            search(&c, q)
        );
    }
    // The export of such a query fails before writing anything (it exported everything before).
    let out = tmp.path().join("out");
    let (code, stdout, err) = cli!(
        "export",
        "--collection",
        &tmp.path().join("c"),
        "--name",
        "Long",
        "--out",
        &out,
        &format!("subject:{long}")
    );
    assert_eq!(code, 1, "{stdout}{err}");
    assert!(err.contains("the index holds words of at most 99 bytes"), "{err}");
    assert!(!out.join("Long").exists());
}

// 2. A missing or stale index gave a silent empty or partial result.
#[test]
fn case_02_missing_or_stale_index_is_refused_and_reindex_repairs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = tmp.path().join("c");
    ingest(&coll, "a@example.com", &[msg(Some("<1@x>"), "one", "x")]);
    let old_index = tmp.path().join("old-index");
    copy_dir(&coll.join("index"), &old_index);
    ingest(
        &coll,
        "b@example.com",
        &[msg(Some("<2@x>"), "two", "x"), msg(Some("<3@x>"), "three", "x")],
    );
    assert_eq!(search(&Collection::open(&coll).unwrap(), "").unwrap().len(), 3);

    // An older index restored: refused, with what to do.
    std::fs::remove_dir_all(coll.join("index")).unwrap();
    copy_dir(&old_index, &coll.join("index"));
    match Collection::open(&coll) {
        Err(e @ Error::IndexOutOfStep { .. }) => {
            assert!(e.to_string().contains("ediscovery reindex --collection"), "{e}");
        }
        other => panic!("expected IndexOutOfStep, got {:?}", other.err()),
    }
    let (code, out, err) =
        cli!("export", "--collection", &coll, "--name", "S", "--out", &tmp.path().join("o"), "");
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("out of step"), "{err}");
    // stats still shows the records, and says the index is out of step.
    let (code, out, _) = cli!("stats", "--collection", &coll);
    assert_eq!(code, 0);
    assert!(out.contains("total\t\t3\t") && out.contains("out of step"), "{out}");

    // A missing index: the same.
    std::fs::remove_dir_all(coll.join("index")).unwrap();
    assert!(matches!(Collection::open(&coll), Err(Error::IndexOutOfStep { .. })));
    let (code, _, err) = cli!("search", "--collection", &coll, "--count", "");
    assert_eq!(code, 1);
    assert!(err.contains("out of step"), "{err}");

    let (code, out, err) = cli!("reindex", "--collection", &coll);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("reindexed 3 records"), "{out}");
    let (code, out, _) = cli!("search", "--collection", &coll, "--count", "");
    assert_eq!(code, 0);
    assert!(out.ends_with("total\t3\n"), "{out}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

// 4. Deep queries and requests aborted the process with a stack overflow.
#[test]
fn case_04_deep_queries_and_requests_are_errors_not_stack_overflows() {
    let tmp = tempfile::tempdir().unwrap();
    let c = small(tmp.path());
    let cases = [
        "NOT ".repeat(5000) + "alpha",
        "(".repeat(10_000) + "alpha" + &")".repeat(10_000),
        "-".repeat(5000) + "alpha",
        "subject:".to_owned() + &"(".repeat(10_000) + "a" + &")".repeat(10_000),
    ];
    for q in &cases {
        match ediscovery::query::parse(q) {
            Err(e) => assert!(matches!(e.kind, ParseErrorKind::TooDeep { limit: 64 }), "{e}"),
            Ok(_) => panic!("a query nested thousands deep parsed"),
        }
    }
    // 64 levels are fine and mean what they say.
    let ok = "(".repeat(64) + "alpha" + &")".repeat(64);
    assert_eq!(search(&c, &ok).unwrap(), ["alpha"]);
    assert_eq!(search(&c, &("NOT ".repeat(64) + "alpha")).unwrap(), ["alpha"]);
    // A query longer than the limit.
    let huge = "alpha ".repeat(20_000);
    assert!(matches!(
        ediscovery::query::parse(&huge).map_err(|e| e.kind),
        Err(ParseErrorKind::TooLong { .. })
    ));
    // Through the CLI: a clean error, exit 1.
    let (code, _, err) = cli!("search", "--collection", &tmp.path().join("c"), &cases[1]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nest deeper than 64 levels"), "{err}");
    // A request JSON nested 200,000 deep.
    let req = tmp.path().join("deep.json");
    let mut json = r#"{"name":"D","query":{"corpus":"MAIL","x":"#.to_owned();
    json += &"[".repeat(200_000);
    json += &"]".repeat(200_000);
    json += "}}";
    std::fs::write(&req, json).unwrap();
    let (code, _, err) = cli!(
        "export",
        "--collection",
        &tmp.path().join("c"),
        "--request",
        &req,
        "--out",
        &tmp.path().join("o")
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("JSON nested deeper than 64 levels"), "{err}");
}

// 7. Two accounts, one mbox name: unzipping every zip into one folder lost messages.
#[test]
fn case_07_colliding_account_names_get_unique_mbox_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = tmp.path().join("c");
    let accounts = ["ålice@example.com", "аlice@example.com", "a@x.com", "a@x.com-2"];
    for a in accounts {
        let msgs: Vec<String> = (0..3)
            .map(|i| {
                msg(Some(&format!("<{i}.{}@x>", a.len())), &format!("{a} {i}"), &"body ".repeat(40))
            })
            .collect();
        ingest(&coll, a, &msgs);
    }
    let c = Collection::open(&coll).unwrap();
    let mut req = request("U", &[], "");
    req.ediscovery.split_size = 500; // every account's mbox in parts: a@x.com-2 meets a@x.com part 2
    let plan = export::plan_search(&c, &req, 0, None).unwrap();
    let entries: Vec<&str> = plan.zips.iter().map(|z| z.entry.as_str()).collect();
    let unique: BTreeSet<&str> = entries.iter().copied().collect();
    assert_eq!(unique.len(), entries.len(), "{entries:?}");
    let o = export::run(&c, &req, &plan, c.store(), &tmp.path().join("out"), &NoExportProgress)
        .unwrap();
    assert_eq!(o.summary.zips.len(), plan.zips.len());
    for z in &o.summary.zips {
        let p = plan.zips.iter().find(|p| p.file == z.file).unwrap();
        assert_eq!((z.entry.as_str(), z.account.as_str()), (p.entry.as_str(), p.account.as_str()));
    }
    // An independent reader: extract every zip into ONE folder, then count the messages.
    let py = r#"
import sys, zipfile, mailbox, os, glob, tempfile
d = sys.argv[1]; out = tempfile.mkdtemp()
for z in sorted(glob.glob(os.path.join(d, '*.zip'))):
    zipfile.ZipFile(z).extractall(out)
n = sum(len(mailbox.mbox(os.path.join(out, f))) for f in os.listdir(out))
print(n, len(os.listdir(out)))
"#;
    let r = Command::new("python3").arg("-c").arg(py).arg(&o.dir).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let got = String::from_utf8_lossy(&r.stdout);
    assert_eq!(got.trim(), format!("12 {}", plan.zips.len()), "messages, files");
    assert!(ediscovery::verify::verify(&o.dir).unwrap().ok());
}

// 8. Exit codes: usage errors were 2, the code export used for "some records failed"; a query
// starting with `-` needed `--`.
#[test]
fn case_08_exit_codes_are_one_table_and_hyphen_queries_work() {
    let tmp = tempfile::tempdir().unwrap();
    small(tmp.path());
    let c = tmp.path().join("c");
    let (code, _, err) = cli!("search", "--collection", &c, "--no-such-flag");
    assert_eq!(code, 2, "usage errors are 2: {err}");
    assert!(err.contains("looks like a flag"), "{err}");
    let (code, _, err) = cli!("search", "alpha");
    assert_eq!(code, 2, "a missing --collection is a usage error: {err}");
    let (code, out, err) = cli!("search", "--collection", &c, "--count", "-subject:alpha");
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("total\t2\n"), "{out}");
    let (code, out, _) = cli!("search", "--collection", &c, "--count", "--", "-subject:beta");
    assert_eq!(code, 0);
    assert!(out.ends_with("total\t2\n"), "{out}");
    let (code, ..) = cli!("--help");
    assert_eq!(code, 0);
    // Too many threads: refused with the limit, exit 1.
    let (code, _, err) = cli!(
        "export",
        "--collection",
        &c,
        "--name",
        "T",
        "--out",
        &tmp.path().join("o"),
        "--threads",
        "20000",
        ""
    );
    assert_eq!(code, 1);
    assert!(err.contains("20000 threads is more than this machine can use"), "{err}");
    assert!(!tmp.path().join("o/T").exists());
    // `search … | head` does not panic on the closed pipe.
    let sh = format!(
        "{} search --collection {} '' | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_ediscovery"),
        c.display()
    );
    let many: Vec<String> = (0..3000).map(|i| msg(Some(&format!("<m{i}@x>")), "m", "x")).collect();
    ingest(&c, "many@example.com", &many);
    let r = Command::new("bash").arg("-c").arg(&sh).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&r.stdout).trim(),
        "0",
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!String::from_utf8_lossy(&r.stderr).contains("panicked"));
}

/// Fails every record: each becomes an error row with its retry query.
struct AllFail;
impl BlobSource for AllFail {
    fn read<'a>(&'a self, _: Wanted<'_>) -> Result<Cow<'a, [u8]>, Failure> {
        Err(Failure { class: FailureClass::Transient, reason: "backend timed out".into() })
    }
}

// 9. Retry queries found another message (or nothing).
#[test]
fn case_09_retry_queries_find_exactly_their_record() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = tmp.path().join("c");
    let ids = [
        "<a\"b@x>",
        "<ab@x>",
        "<q\"uote\"d@x>",
        "<quoted@x>",
        "<back\\slash@x>",
        "<backslash@x>",
        "<(paren)@x>",
        "<paren@x>",
        "<x OR y@x>",
        "<x@x>",
        "<y@x>",
        "<star*@x>",
        "<star1@x>",
        "<sp ace@x>",
    ];
    let mut msgs: Vec<String> =
        ids.iter().enumerate().map(|(i, id)| msg(Some(id), &format!("m{i}"), "x")).collect();
    msgs.push(msg(None, "no id", "x"));
    let report = ingest(&coll, "a@example.com", &msgs);
    assert_eq!(report.ingested, ids.len() as u64 + 1);
    let c = Collection::open(&coll).unwrap();
    let req = request("R", &[], "");
    let plan = export::plan_search(&c, &req, 0, None).unwrap();
    let o =
        export::run(&c, &req, &plan, &AllFail, &tmp.path().join("out"), &NoExportProgress).unwrap();
    let f = std::fs::File::open(o.dir.join("R-error.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(f);
    let h = rd.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let mut rows = 0;
    for row in rd.records() {
        let row = row.unwrap();
        rows += 1;
        let doc: ediscovery::model::DocId = row[col("Document ID")].parse().unwrap();
        let q = &row[col("Retry query")];
        if q.is_empty() {
            assert_eq!(c.store().by_doc(&doc).unwrap().mail().unwrap().message_id, None);
            assert!(row[col("Error description")].contains("no query finds exactly this record"));
            continue;
        }
        let hits = ediscovery::search::search_text(&c, scope(), q, 0).unwrap();
        let found: Vec<_> = hits.hits.iter().map(|h| h.doc_id).collect();
        assert_eq!(found, [doc], "{q} found {} records", found.len());
    }
    assert_eq!(rows, ids.len() + 1);
}

/// Panics on the `n`-th read: a process dying in the middle of an export.
struct DiesAt(std::sync::atomic::AtomicUsize, usize);
impl BlobSource for DiesAt {
    fn read<'a>(&'a self, _: Wanted<'_>) -> Result<Cow<'a, [u8]>, Failure> {
        if self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == self.1 {
            panic!("killed mid-export");
        }
        Err(Failure { class: FailureClass::Transient, reason: "x".into() })
    }
}

// 10. A killed export left finished-looking files and blocked the re-run.
#[test]
fn case_10_a_killed_export_leaves_nothing_finished_looking_and_reruns() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = tmp.path().join("c");
    let msgs: Vec<String> = (0..40).map(|i| msg(Some(&format!("<k{i}@x>")), "k", "x")).collect();
    ingest(&coll, "a@example.com", &msgs[..20]);
    ingest(&coll, "b@example.com", &msgs[20..]);
    let c = Collection::open(&coll).unwrap();
    let out = tmp.path().join("out");
    let req = request("K", &[], "");
    let plan = export::plan_search(&c, &req, 0, None).unwrap();
    let dies = DiesAt(Default::default(), 25);
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        export::run(&c, &req, &plan, &dies, &out, &NoExportProgress)
    }));
    assert!(crashed.is_err(), "the export should have died");
    // Only the unfinished folder is there; nothing under a final name.
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [".K.partial"]);
    // The re-run removes it and finishes.
    let o = export::run(&c, &req, &plan, c.store(), &out, &NoExportProgress).unwrap();
    assert_eq!(o.summary.totals.exported, 40);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["K"]);
    assert!(ediscovery::verify::verify(&o.dir).unwrap().ok());
    // Somebody else's folder where ours would be built is never removed.
    std::fs::create_dir_all(out.join(".L.partial")).unwrap();
    std::fs::write(out.join(".L.partial/evidence.txt"), "keep me").unwrap();
    let req = request("L", &[], "");
    let plan = export::plan_search(&c, &req, 0, None).unwrap();
    assert!(matches!(
        export::run(&c, &req, &plan, c.store(), &out, &NoExportProgress),
        Err(ExportError::NotOurs(_))
    ));
    assert_eq!(std::fs::read_to_string(out.join(".L.partial/evidence.txt")).unwrap(), "keep me");
}

// 11. Smaller ones: output inside the collection, retry-from that silently ignored DocIDs,
// exports X and X-1 side by side.
#[test]
fn case_11_output_inside_collection_retry_mismatch_and_prefix_names() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = tmp.path().join("c");
    ingest(
        &coll,
        "a@example.com",
        &[msg(Some("<1@x>"), "one", "x"), msg(Some("<2@x>"), "two", "x")],
    );
    ingest(&coll, "b@example.com", &[msg(Some("<3@x>"), "three", "x")]);
    let c = Collection::open(&coll).unwrap();
    let req = request("In", &[], "");
    let plan = export::plan_search(&c, &req, 0, None).unwrap();
    for inside in [coll.join("records"), coll.clone(), coll.join("a/b/../c")] {
        assert!(matches!(
            export::run(&c, &req, &plan, c.store(), &inside, &NoExportProgress),
            Err(ExportError::InsideCollection { .. })
        ));
    }
    assert!(!coll.join("records/In").exists() && !coll.join("records/.In.partial").exists());

    // retry-from: a DocID the collection does not have, and one outside the request's scope.
    let out = tmp.path().join("out");
    let o = export::run(&c, &req, &plan, &AllFail, &out, &NoExportProgress).unwrap();
    let errors = o.dir.join("In-error.csv");
    let mut text = std::fs::read_to_string(&errors).unwrap();
    let unknown = "0123456789abcdef0123456789abcdef";
    let first_row = text.lines().nth(1).unwrap().to_owned();
    text.push_str(&first_row.replacen(&first_row[..32], unknown, 1));
    text.push_str("\r\n");
    std::fs::write(&errors, &text).unwrap();
    let retry = export::failed_doc_ids(&errors).unwrap();
    let only_a = request("Retry", &["a@example.com"], "");
    match export::plan_search(&c, &only_a, 0, Some(&retry)) {
        Err(e @ ExportError::RetryMismatch { .. }) => {
            let ExportError::RetryMismatch { unknown: u, out_of_scope, .. } = &e else {
                unreachable!()
            };
            assert_eq!(u.len(), 1);
            assert_eq!(out_of_scope.len(), 1, "b's record is outside a's scope");
            assert!(e.to_string().contains(unknown), "{e}");
        }
        other => panic!("expected RetryMismatch, got {other:?}"),
    }

    // Exports X and X-1 in one output folder: each its own folder, each verifies.
    for name in ["X", "X-1"] {
        let req = request(name, &[], "");
        let plan = export::plan_search(&c, &req, 0, None).unwrap();
        let o = export::run(&c, &req, &plan, c.store(), &out, &NoExportProgress).unwrap();
        let v = ediscovery::verify::verify(&o.dir).unwrap();
        assert!(v.ok(), "{name}: {:?}", v.problems);
    }
    assert!(ediscovery::verify::verify(&out.join("X")).unwrap().ok());
}

/// Words that used to be dropped from a query (too long for the index, or nothing to search for).
const OFFENDING: [&str; 5] = ["!!!", "\"...\"", "*@", "\"--- ...\"", "-!!"];

fn word() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        4 => proptest::sample::select(vec![
            "alpha", "beta", "gamma", "plain", "words", "more", "OR", "NOT", "-", "(", ")",
            "subject:alpha", "subject:(beta", "from:a@example.com", "\"plain words\"", "-plain",
            "to:b", "alph*", "has:attachment",
        ])
        .prop_map(str::to_owned),
        1 => proptest::sample::select(OFFENDING.to_vec()).prop_map(str::to_owned),
        1 => (100usize..130).prop_map(|n| "x".repeat(n)),
        1 => (34usize..40).prop_map(|n| "語".repeat(n)),
        1 => (100usize..120).prop_map(|n| format!("subject:{}", "q".repeat(n))),
    ]
}

fn offending(w: &str) -> bool {
    OFFENDING.contains(&w) || w.len() >= 100
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// No input widens a query: whatever the text, every hit is inside the scope, and a query
    /// holding a word the index cannot match is refused rather than run without it.
    #[test]
    fn no_query_text_widens_a_search(words in proptest::collection::vec(word(), 1..7)) {
        static C: std::sync::OnceLock<(tempfile::TempDir, Collection)> = std::sync::OnceLock::new();
        let (_, c) = C.get_or_init(|| {
            let tmp = tempfile::tempdir().unwrap();
            let c = small(tmp.path());
            ingest(&tmp.path().join("c"), "bob@example.com", &[msg(Some("<9@x>"), "alpha", "plain words")]);
            let c2 = Collection::open(&tmp.path().join("c")).unwrap();
            drop(c);
            (tmp, c2)
        });
        let q = words.join(" ");
        let scope = Scope::accounts(Corpus::Mail, vec![account("alice@example.com")]);
        if let Ok(r) = ediscovery::search::search_text(c, scope, &q, 0) {
            for h in &r.hits {
                proptest::prop_assert_eq!(h.account.as_str(), "alice@example.com");
            }
            proptest::prop_assert!(
                !words.iter().any(|w| offending(w)),
                "{q:?} ran with a word it cannot search for: {} hits", r.hits.len()
            );
        }
    }
}

// Found by the `query_depth` fuzz target: a negated phrase panicked inside tantivy (a debug
// assertion of its phrase scorer, tripped by its own exclusion code) in every debug build.
#[test]
fn negated_phrases_complement_the_phrase_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let c = small(tmp.path());
    let all = search(&c, "").unwrap().len();
    for phrase in ["\"plain words\"", "\"more plain\"", "subject:\"alpha\"", "\"no such phrase\""] {
        let with = search(&c, phrase).unwrap();
        let without = search(&c, &format!("-{phrase}")).unwrap();
        assert_eq!(with.len() + without.len(), all, "{phrase}");
        assert!(with.iter().all(|s| !without.contains(s)), "{phrase}");
        assert_eq!(search(&c, &format!("NOT {phrase} {phrase}")).unwrap().len(), 0);
    }
}

/// An embedder's `Limits` reach ingest: a tighter MIME depth flags what the default passes.
#[test]
fn ingest_options_carry_the_embedders_limits() {
    let nested = "Message-ID: <n@x>\nDate: Mon, 6 Mar 2023 10:00:00 +0000\nContent-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: text/plain\n\ndeep\n--c--\n--b--\n--a--\n";
    for (depth, flagged) in [(64usize, false), (2, true)] {
        let tmp = tempfile::tempdir().unwrap();
        let src = write(
            tmp.path(),
            "m.mbox",
            format!("From x@y Mon Mar  6 10:00:00 2023\n{nested}\n").as_bytes(),
        );
        let mut w = CollectionWriter::open(&tmp.path().join("c"), 1).unwrap();
        let mut opts = IngestOptions::new(account("a@example.com"));
        opts.limits.mime_depth = depth;
        let r = w.ingest(&Source::Mbox(src), &opts, &mut NoProgress).unwrap();
        let c = w.finish().unwrap();
        let d = &c.store().records()[0].defects;
        assert_eq!(
            d.iter().any(
                |d| matches!(d, ediscovery::model::Defect::MimeTooDeep { limit } if *limit == depth)
            ),
            flagged,
            "depth {depth}: {d:?} {r:?}"
        );
    }
}
