//! Issue 12, first part: matters, holds and the audit log, end to end — HELD_DATA against an
//! independent predicate on the sample organisation, exports in a matter read back by `verify`,
//! the CLI's refusals, and the audit chain recomputed by Python.

use super::common::sample_org_collection;
use ediscovery::export::{self, ExportRequest, NoExportProgress};
use ediscovery::governance::{Governance, MatterId, NewHold, audit};
use ediscovery::model::time::CivilDay;
use ediscovery::model::{Account, Corpus, DocId, OrgUnit};
use ediscovery::query::{DataScope, Scope, ScopeSpec};
use ediscovery::sample::{SAMPLE_ADMIN, SAMPLE_COUNSEL};
use ediscovery::{Collection, SearchRequest};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn acct(s: &str) -> Account {
    Account::new(s).unwrap()
}

/// The org units of the organisation file, read with a plain split (not the library's reader).
fn org_units(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_owned(), cells[1].to_owned())
        })
        .collect()
}

/// The UTC day of a sample message, from its own `Date:` header (`Sat, 1 Jul 2023 00:58:37
/// +0000`, as the sample writes it), parsed here without the library.
fn header_day(bytes: &[u8]) -> (i32, u32, u32) {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().find(|l| l.starts_with("Date: ")).expect("a Date header");
    let w: Vec<&str> = line["Date: ".len()..].split_whitespace().collect();
    assert_eq!(w[5], "+0000", "{line}");
    let months =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let m = months.iter().position(|m| *m == w[2]).unwrap() as u32 + 1;
    (w[3].parse().unwrap(), m, w[1].parse().unwrap())
}

/// A UTC day: year, month, day.
type Day = (i32, u32, u32);

/// One hold as the independent predicate reads it: whom, corpus, first and last day, whether
/// the message must mention "falcon".
type ExpectedHold = (Whom, Corpus, Option<(Day, Day)>, bool);

/// The holds the tests put on the sample organisation, as the independent predicate reads them.
struct Expect {
    rules: Vec<ExpectedHold>,
}

enum Whom {
    Account(&'static str),
    OrgUnit(&'static str),
}

impl Expect {
    fn held(
        &self,
        units: &BTreeMap<String, String>,
        account: &str,
        corpus: Corpus,
        bytes: &[u8],
    ) -> bool {
        self.rules.iter().any(|(whom, c, days, falcon)| {
            let who = match whom {
                Whom::Account(a) => *a == account,
                Whom::OrgUnit(ou) => {
                    units.get(account).is_some_and(|u| u == ou || u.starts_with(&format!("{ou}/")))
                }
            };
            let day = days.is_none_or(|(a, b)| (a..=b).contains(&header_day(bytes)));
            let text = String::from_utf8_lossy(bytes).to_lowercase();
            who && *c == corpus && day && (!falcon || text.contains("falcon"))
        })
    }
}

/// The sample organisation with the organisation imported, a matter, and four holds: Alice's
/// mail; /Sales mail from 3 to 6 July; Dan's mail about Falcon; the group's Falcon threads.
fn held_sample(dir: &Path) -> (Collection, Governance, MatterId, Expect) {
    let coll = sample_org_collection(dir, 1);
    let org_file = dir.join("org/org.csv");
    let gov = Governance::open(coll.store().dir()).unwrap();
    let admin = acct(SAMPLE_ADMIN);
    gov.run(|tx| tx.import_org(&admin, &org_file, &std::fs::read(&org_file).unwrap())).unwrap();
    let id =
        gov.run(|tx| tx.create_matter(&admin, "Falcon", "acquisition leak")).unwrap().matter_id;
    let mut sales = NewHold::org_unit("sales", Corpus::Mail, OrgUnit::new("/Sales"));
    sales.start = CivilDay::new(2023, 7, 3);
    sales.end = CivilDay::new(2023, 7, 6);
    let mut dan = NewHold::accounts("dan", Corpus::Mail, vec![acct("dan@example.org")]);
    dan.terms = Some("falcon".into());
    let mut group = NewHold::accounts("deals", Corpus::Groups, vec![acct("deals@example.org")]);
    group.terms = Some("falcon".into());
    for h in [
        NewHold::accounts("alice", Corpus::Mail, vec![acct("alice@example.org")]),
        sales,
        dan,
        group,
    ] {
        gov.run(|tx| tx.create_hold(&admin, &id, &h)).unwrap();
    }
    let expect = Expect {
        rules: vec![
            (Whom::Account("alice@example.org"), Corpus::Mail, None, false),
            (Whom::OrgUnit("/Sales"), Corpus::Mail, Some(((2023, 7, 3), (2023, 7, 6))), false),
            (Whom::Account("dan@example.org"), Corpus::Mail, None, true),
            (Whom::Account("deals@example.org"), Corpus::Groups, None, true),
        ],
    };
    (coll, gov, id, expect)
}

fn held_request(corpus: Corpus, q: &str) -> SearchRequest {
    SearchRequest::new(
        Scope { data_scope: DataScope::Held, ..Scope::entire_org(corpus) },
        ediscovery::query::parse(q).unwrap(),
        1_700_000_000,
    )
}

#[test]
fn held_data_search_is_exactly_what_an_independent_predicate_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let (coll, gov, id, expect) = held_sample(tmp.path());
    let units = org_units(&tmp.path().join("org/org.csv"));
    let admin = acct(SAMPLE_ADMIN);
    let mut all = 0;
    for corpus in [Corpus::Mail, Corpus::Groups] {
        let want: BTreeSet<DocId> = coll
            .store()
            .iter()
            .map(|r| r.unwrap())
            .filter(|r| r.corpus == corpus)
            .filter(|r| {
                expect.held(&units, r.account.as_str(), corpus, coll.store().bytes(r).unwrap())
            })
            .map(|r| r.doc_id)
            .collect();
        let r = gov.run(|tx| tx.search(&admin, &id, &coll, &held_request(corpus, ""))).unwrap();
        let got: BTreeSet<DocId> = r.hits.iter().map(|h| h.doc_id).collect();
        assert_eq!(got.len(), r.hits.len(), "no hit twice");
        assert_eq!(got, want, "{corpus}: HELD_DATA hits ≠ the predicate's held records");
        assert_eq!(r.counts.total, want.len() as u64);
        let in_corpus = coll
            .stats()
            .per_account
            .iter()
            .filter(|((c, _), _)| *c == corpus)
            .map(|(_, (n, _))| n)
            .sum::<u64>();
        assert!(
            !want.is_empty() && (want.len() as u64) < in_corpus,
            "{corpus}: {} of {in_corpus} held: the holds must hold some and not all",
            want.len()
        );
        all += want.len();
        // Every account's part: Sales people held only inside the range, Erin not at all.
        if corpus == Corpus::Mail {
            assert_eq!(r.counts.per_account.get(&acct("erin@example.org")), Some(&0));
            assert!(
                r.counts.per_account[&acct("carol@example.org")] > 0,
                "/Sales/EMEA is below /Sales"
            );
        }
    }
    // The predicate the library offers agrees, record by record.
    let held = gov.run(|tx| tx.held_set(&coll)).unwrap();
    assert_eq!(held.len(), all);
    for r in coll.store().iter().map(|r| r.unwrap()) {
        let want =
            expect.held(&units, r.account.as_str(), r.corpus, coll.store().bytes(&r).unwrap());
        assert_eq!(held.contains(r.seq, &r.doc_id), want, "{}", r.doc_id);
    }
    // An org-unit hold on a unit nobody is in holds nothing, until an account joins it: it is
    // held from the next import on, all of its mail.
    let support = NewHold::org_unit("support", Corpus::Mail, OrgUnit::new("/Support"));
    gov.run(|tx| tx.create_hold(&admin, &id, &support)).unwrap();
    let before = gov.run(|tx| tx.held_set(&coll)).unwrap();
    assert_eq!(before.len(), all, "an empty org unit holds nothing");
    let moved = std::fs::read_to_string(tmp.path().join("org/org.csv"))
        .unwrap()
        .replace("erin@example.org,/Engineering", "erin@example.org,/Support/Tier1");
    let org2 = tmp.path().join("org2.csv");
    std::fs::write(&org2, &moved).unwrap();
    gov.run(|tx| tx.import_org(&admin, &org2, moved.as_bytes())).unwrap();
    let mut expect = expect;
    expect.rules.push((Whom::OrgUnit("/Support"), Corpus::Mail, None, false));
    let units = org_units(&org2);
    let r = gov.run(|tx| tx.search(&admin, &id, &coll, &held_request(Corpus::Mail, ""))).unwrap();
    let want: BTreeSet<DocId> = coll
        .store()
        .iter()
        .map(|r| r.unwrap())
        .filter(|r| r.corpus == Corpus::Mail)
        .filter(|r| {
            expect.held(&units, r.account.as_str(), Corpus::Mail, coll.store().bytes(r).unwrap())
        })
        .map(|r| r.doc_id)
        .collect();
    let got: BTreeSet<DocId> = r.hits.iter().map(|h| h.doc_id).collect();
    assert_eq!(got, want);
    let erin = coll.stats().per_account[&(Corpus::Mail, acct("erin@example.org"))].0;
    assert_eq!(r.counts.per_account[&acct("erin@example.org")], erin, "all of Erin's mail");
}

#[test]
fn held_data_export_in_a_matter_verifies_and_its_counts_are_the_searchs() {
    let tmp = tempfile::tempdir().unwrap();
    let (coll, gov, id, _) = held_sample(tmp.path());
    let admin = acct(SAMPLE_ADMIN);
    let spec = ScopeSpec { data_scope: "held".into(), ..ScopeSpec::default() };
    let mut req = ExportRequest::from_spec("held", &spec, "").unwrap();
    req.ediscovery.threads = 2;
    let search =
        gov.run(|tx| tx.search(&admin, &id, &coll, &held_request(Corpus::Mail, ""))).unwrap();
    // Without the matter, the request is refused rather than exported as all data.
    assert!(export::plan_search(&coll, &req, 1_700_000_000, None).is_err());
    let (export_id, held) = gov.run(|tx| tx.start_export(&admin, &id, &coll, &req)).unwrap();
    let mut sr = export::search_request(&req, 1_700_000_000).unwrap();
    sr.held = held;
    let result = coll.search(&sr).unwrap();
    let plan = export::plan(&coll, &req, &result, None).unwrap();
    let out = tmp.path().join("out");
    let outcome = export::run(&coll, &req, &plan, coll.store(), &out, &NoExportProgress).unwrap();
    let rec = gov.run(|tx| tx.finish_export(&admin, &id, &export_id, Ok(&outcome))).unwrap();
    let v = ediscovery::verify::verify(&outcome.dir).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    let t = &outcome.summary.totals;
    assert_eq!((t.in_scope, t.exported, t.failed()), (search.counts.total, search.counts.total, 0));
    assert_eq!(v.messages, search.counts.total);
    for b in &outcome.summary.accounts {
        assert_eq!(
            Some(&b.in_scope),
            search.counts.per_account.get(&acct(&b.account)),
            "{}",
            b.account
        );
    }
    assert_eq!(outcome.summary.request.query.data_scope.as_deref(), Some("HELD_DATA"));
    // Recorded in the matter as Vault's Export resource.
    let shown = gov.run(|tx| tx.show_matter(&admin, &id)).unwrap();
    assert_eq!(shown.exports, std::slice::from_ref(&rec));
    assert_eq!(serde_json::to_value(rec.status).unwrap(), "COMPLETED");
    assert_eq!(rec.stats.exported_artifact_count, search.counts.total);
    assert_eq!(rec.files.len(), outcome.summary.files.len());
    let log = audit::read(coll.store().dir()).unwrap();
    let finish = log.iter().rfind(|e| e.action == "export.finish").unwrap();
    assert_eq!(finish.outcome["stats"]["exportedArtifactCount"], search.counts.total);
    assert!(audit::verify(coll.store().dir()).unwrap().ok());
}

/// The chain as Python recomputes it.
fn python_chain(log: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/audit_chain.py");
    let out = Command::new("python3").arg(script).arg(log).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn cli_matters_holds_held_searches_and_exports_with_refusals_on_record() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = sample_org_collection(tmp.path(), 1);
    let dir = coll.store().dir().to_path_buf();
    drop(coll);
    let org = tmp.path().join("org/org.csv");
    let gov = |args: &[&str]| {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.extend(["--collection".into(), dir.clone().into_os_string()]);
        let refs: Vec<&std::ffi::OsStr> = all.iter().map(|s| s.as_os_str()).collect();
        super::common::run_cli(&refs)
    };
    let ok = |args: &[&str]| {
        let (code, out, err) = gov(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    let refused = |args: &[&str], rule: &str| {
        let (code, out, err) = gov(args);
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(err.contains(&format!("refused (rule {rule})")), "{args:?}: {err}");
    };
    let admin = SAMPLE_ADMIN;
    // Before the organisation, nothing; a non-admin cannot import it.
    refused(&["matter", "create", "--as", admin, "--name", "x"], "org-imported-first");
    refused(
        &["org", "import", "--as", "bob@example.org", org.to_str().unwrap()],
        "importer-stays-admin",
    );
    let v = json_of(&ok(&["org", "import", "--as", admin, "--json", org.to_str().unwrap()]));
    assert_eq!((v["accounts"].as_u64(), v["admins"].as_u64()), (Some(8), Some(1)));
    refused(&["matter", "create", "--as", "bob@example.org", "--name", "x"], "admin-only");

    let m = json_of(&ok(&[
        "matter",
        "create",
        "--as",
        admin,
        "--name",
        "Falcon",
        "--description",
        "leak",
        "--json",
    ]));
    let id = m["matterId"].as_str().unwrap().to_owned();
    assert_eq!(m["state"], "OPEN");
    assert_eq!(m["matterPermissions"][0]["role"], "OWNER");
    let plain = ok(&["matter", "create", "--as", admin, "--name", "Other"]);
    let other = plain.trim().to_owned();
    assert_eq!(other.len(), 36, "{plain}");
    ok(&["matter", "add-permission", "--as", admin, "--matter", &id, "--account", SAMPLE_COUNSEL]);
    let h = json_of(&ok(&[
        "hold",
        "create",
        "--as",
        SAMPLE_COUNSEL,
        "--matter",
        &id,
        "--name",
        "sales",
        "--corpus",
        "mail",
        "--org-unit",
        "/Sales",
        "--start",
        "2023-07-03",
        "--end",
        "2023-07-06",
        "--json",
    ]));
    assert_eq!(h["orgUnit"]["orgUnitId"], "/Sales");
    assert_eq!(h["query"]["mailQuery"]["startTime"], "2023-07-03");
    let alice = ok(&[
        "hold",
        "create",
        "--as",
        admin,
        "--matter",
        &id,
        "--name",
        "alice",
        "--corpus",
        "mail",
        "--accounts",
        "alice@example.org",
    ]);
    let alice = alice.trim().to_owned();
    let s = json_of(&ok(&[
        "hold",
        "add-accounts",
        "--as",
        admin,
        "--matter",
        &id,
        "--hold",
        &alice,
        "--accounts",
        "dan@example.org,nobody@example.org,deals@example.org",
        "--json",
    ]));
    let statuses: Vec<&str> =
        s["responses"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["ADDED", "UNKNOWN_ACCOUNT", "WRONG_TYPE"]);
    ok(&[
        "hold",
        "remove-accounts",
        "--as",
        admin,
        "--matter",
        &id,
        "--hold",
        &alice,
        "--accounts",
        "dan@example.org",
    ]);
    let holds = json_of(&ok(&["hold", "list", "--as", admin, "--matter", &id, "--json"]));
    assert_eq!(holds["holds"].as_array().unwrap().len(), 2);
    refused(&["matter", "close", "--as", admin, "--matter", &id], "holds-block-close");

    // Searches in the matter: held data is the holds' union, logged with counts.
    let held = json_of(&ok(&[
        "search",
        "--as",
        SAMPLE_COUNSEL,
        "--matter",
        &id,
        "--data-scope",
        "held",
        "--count",
        "--json",
    ]));
    let all = json_of(&ok(&["search", "--count", "--json"]));
    let total = held["counts"]["total"].as_u64().unwrap();
    assert!(total > 0 && total < all["counts"]["total"].as_u64().unwrap());
    assert_eq!(held["counts"]["per_account"]["erin@example.org"], 0);
    let (code, _, err) = gov(&["search", "--data-scope", "held"]);
    assert_eq!(code, 2, "held data needs a matter: {err}");
    // A collaborator of this matter cannot look into the other one, nor delete this one.
    refused(&["search", "--as", SAMPLE_COUNSEL, "--matter", &other], "matter-members-only");
    refused(&["matter", "show", "--as", SAMPLE_COUNSEL, "--matter", &other], "matter-members-only");
    refused(&["hold", "list", "--as", SAMPLE_COUNSEL, "--matter", &other], "matter-members-only");
    refused(
        &["matter", "update", "--as", SAMPLE_COUNSEL, "--matter", &other, "--name", "x"],
        "matter-members-only",
    );
    let out = tmp.path().join("out");
    refused(
        &[
            "export",
            "--as",
            SAMPLE_COUNSEL,
            "--matter",
            &other,
            "--name",
            "x",
            "--out",
            out.to_str().unwrap(),
        ],
        "matter-members-only",
    );
    refused(&["matter", "delete", "--as", SAMPLE_COUNSEL, "--matter", &id], "owner-only");
    let mine = json_of(&ok(&["matter", "list", "--as", SAMPLE_COUNSEL, "--json"]));
    assert_eq!(mine["matters"].as_array().unwrap().len(), 1);

    ok(&[
        "query",
        "save",
        "--as",
        SAMPLE_COUNSEL,
        "--matter",
        &id,
        "--name",
        "falcon",
        "--data-scope",
        "held",
        "falcon",
    ]);
    let q = json_of(&ok(&["query", "list", "--as", admin, "--matter", &id, "--json"]));
    assert_eq!(q["savedQueries"][0]["query"]["dataScope"], "HELD_DATA");
    assert_eq!(q["savedQueries"][0]["query"]["terms"], "falcon");

    // The export in the matter: recorded, verified, its counts the search's.
    let e = json_of(&ok(&[
        "export",
        "--as",
        SAMPLE_COUNSEL,
        "--matter",
        &id,
        "--data-scope",
        "held",
        "--name",
        "held",
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "2",
        "--json",
    ]));
    assert_eq!(e["summary"]["totals"]["exported"].as_u64(), Some(total));
    let (code, vout, verr) =
        super::common::run_cli(&[std::ffi::OsStr::new("verify"), out.join("held").as_os_str()]);
    assert_eq!(code, 0, "{vout}{verr}");
    let shown = json_of(&ok(&["matter", "show", "--as", admin, "--matter", &id, "--json"]));
    let rec = &shown["exports"][0];
    assert_eq!(rec["id"], e["exportId"]);
    assert_eq!(rec["status"], "COMPLETED");
    assert_eq!(rec["requester"]["email"], SAMPLE_COUNSEL);
    assert_eq!(rec["stats"]["exportedArtifactCount"].as_u64(), Some(total));

    // The owner removes the counsel: the very next action is refused.
    ok(&[
        "matter",
        "remove-permission",
        "--as",
        admin,
        "--matter",
        &id,
        "--account",
        SAMPLE_COUNSEL,
    ]);
    refused(&["search", "--as", SAMPLE_COUNSEL, "--matter", &id, "--count"], "matter-members-only");

    // Every refusal is on record, under its actor and rule.
    let log = json_of(&ok(&["audit", "list", "--as", admin, "--json"]));
    let entries = log["entries"].as_array().unwrap();
    let refusals: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e["outcome"]["status"] == "refused")
        .map(|e| (e["action"].as_str().unwrap(), e["outcome"]["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        refusals,
        [
            ("matter.create", "org-imported-first"),
            ("org.import", "importer-stays-admin"),
            ("matter.create", "admin-only"),
            ("matter.close", "holds-block-close"),
            ("search", "matter-members-only"),
            ("matter.show", "matter-members-only"),
            ("hold.list", "matter-members-only"),
            ("matter.update", "matter-members-only"),
            ("export.start", "matter-members-only"),
            ("matter.delete", "owner-only"),
            ("search", "matter-members-only"),
        ]
    );
    let searches: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "search" && e["outcome"]["status"] == "ok")
        .collect();
    assert_eq!(searches[0]["outcome"]["total"].as_u64(), Some(total));
    assert_eq!(searches[0]["parameters"]["query"]["dataScope"], "HELD_DATA");
    // A matter's entries for its members only; the whole log for administrators only.
    refused(&["audit", "list", "--as", "bob@example.org"], "admin-only");
    let (code, _, _) = gov(&["audit", "list", "--as", admin, "--matter", &other, "--json"]);
    assert_eq!(code, 0);

    let v = json_of(&gov(&["audit", "verify", "--json"]).1);
    assert_eq!(v["problems"], Value::Array(vec![]));
    let py = python_chain(&dir.join("governance/audit.jsonl"));
    assert_eq!(py["ok"], true, "{py}");
    assert_eq!((&py["entries"], &py["head"]), (&v["entries"], &v["head"]));
    assert_eq!(
        v["entries"].as_u64(),
        Some(entries.len() as u64 + 1),
        "audit list's own refusal came after it"
    );
}

#[test]
fn audit_verify_fails_on_each_tampering_and_passes_an_untouched_log_of_10000_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    ediscovery::CollectionWriter::open(&dir, 1).unwrap().finish().unwrap();
    let org = "Account,OrgUnit,Type,Created,Admin\nadmin@x.org,/,USER,2020-01-01,true\nann@x.org,/,USER,2020-01-01,false\n";
    let gov = Governance::open(&dir).unwrap();
    let admin = acct("admin@x.org");
    let ann = acct("ann@x.org");
    gov.run(|tx| tx.import_org(&admin, Path::new("org.csv"), org.as_bytes())).unwrap();
    let id = gov.run(|tx| tx.create_matter(&admin, "m", "")).unwrap().matter_id;
    // 10,000 entries (two so far), in ten transactions: refusals (ann looks into the matter)
    // with an update now and then.
    for batch in 0..10 {
        gov.run(|tx| {
            for i in 0..(if batch == 0 { 998 } else { 1000 }) {
                if i % 100 == 0 {
                    tx.update_matter(&admin, &id, None, Some(&format!("batch {batch} step {i}")))?;
                } else {
                    assert!(tx.show_matter(&ann, &id).is_err());
                }
            }
            Ok(())
        })
        .unwrap();
    }
    let log = dir.join("governance/audit.jsonl");
    let verify = |d: &Path| {
        let (code, out, err) = super::common::run_cli(&[
            std::ffi::OsStr::new("audit"),
            std::ffi::OsStr::new("verify"),
            std::ffi::OsStr::new("--json"),
            std::ffi::OsStr::new("--collection"),
            d.as_os_str(),
        ]);
        assert!(code == 0 || code == 4, "{err}");
        (code, json_of(&out))
    };
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["entries"].as_u64(), Some(10_000));
    let py = python_chain(&log);
    assert_eq!(py["ok"], true, "{py}");
    assert_eq!((&py["entries"], &py["head"]), (&v["entries"], &v["head"]));
    let (code, text, _) = super::common::run_cli(&[
        std::ffi::OsStr::new("audit"),
        std::ffi::OsStr::new("verify"),
        std::ffi::OsStr::new("--collection"),
        dir.as_os_str(),
    ]);
    assert_eq!(code, 0);
    assert!(text.contains(&format!("head     {}", v["head"].as_str().unwrap())), "{text}");
    assert!(text.contains("entries  10000"), "{text}");

    // Each damage on a copy of the governance folder.
    let bytes = std::fs::read(&log).unwrap();
    let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    let state = std::fs::read(dir.join("governance/state.json")).unwrap();
    let edit = |i: usize| {
        let mut owned: Vec<Vec<u8>> = lines.iter().map(|x| x.to_vec()).collect();
        let s = String::from_utf8(owned[i].clone()).unwrap().replace("ann@x.org", "bob@x.org");
        assert_ne!(s.as_bytes(), lines[i], "line {i} names ann");
        owned[i] = s.into_bytes();
        owned.concat()
    };
    let without = |i: usize| {
        let mut l = lines.clone();
        l.remove(i);
        l.concat()
    };
    let swapped = {
        let mut l = lines.clone();
        l.swap(5003, 5004);
        l.concat()
    };
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        // (what, log, does Python's chain check see it too)
        ("an edited entry", edit(5003), true),
        ("a removed entry", without(5003), true),
        ("two entries swapped", swapped, true),
        ("a truncated last line", bytes[..bytes.len() - 9].to_vec(), true),
        // The chain alone cannot see these; the state's record of the last commit does.
        ("the last entry edited", edit(lines.len() - 1), false),
        ("the last entry removed", without(lines.len() - 1), false),
    ];
    for (i, (what, damaged, python_sees)) in cases.into_iter().enumerate() {
        let copy = tmp.path().join(format!("damaged-{i}"));
        std::fs::create_dir_all(copy.join("governance")).unwrap();
        std::fs::write(copy.join("governance/state.json"), &state).unwrap();
        let damaged_log = copy.join("governance/audit.jsonl");
        std::fs::write(&damaged_log, &damaged).unwrap();
        let (code, v) = verify(&copy);
        assert_eq!(code, 4, "{what}: {v}");
        assert!(!v["problems"].as_array().unwrap().is_empty(), "{what}");
        assert_eq!(python_chain(&damaged_log)["ok"], !python_sees, "{what}: Python's view");
    }
}

/// The UTC instant of a sample message, from its own `Date:` header (`Sat, 1 Jul 2023 00:58:37
/// +0000`), computed here without the library (days from the civil date, then the clock).
fn header_secs(bytes: &[u8]) -> i64 {
    let (y, m, d) = header_day(bytes);
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().find(|l| l.starts_with("Date: ")).unwrap();
    let clock: Vec<i64> =
        line.split_whitespace().nth(5).unwrap().split(':').map(|p| p.parse().unwrap()).collect();
    days_from_civil(y as i64, m as i64, d as i64) * 86_400
        + clock[0] * 3600
        + clock[1] * 60
        + clock[2]
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[test]
fn retention_apply_purges_exactly_the_unheld_records_past_their_rule_and_accounts_for_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (coll, _gov, _id, expect) = held_sample(tmp.path());
    let units = org_units(&tmp.path().join("org/org.csv"));
    let dir = coll.store().dir().to_path_buf();
    let gov = |args: &[&str]| {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.extend(["--collection".into(), dir.clone().into_os_string()]);
        let refs: Vec<&std::ffi::OsStr> = all.iter().map(|s| s.as_os_str()).collect();
        super::common::run_cli(&refs)
    };
    let ok = |args: &[&str]| {
        let (code, out, err) = gov(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        json_of(&out)
    };
    let admin = SAMPLE_ADMIN;
    // Rules are the administrators': a user is refused, by name, and it is on record.
    let (code, _, err) = gov(&[
        "retention",
        "rule",
        "add",
        "--as",
        "bob@example.org",
        "--corpus",
        "mail",
        "--days",
        "1",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("refused (rule admin-only)"), "{err}");
    // A 365-day default for mail; Carol's mail kept indefinitely (a custom rule governs instead
    // of the default); a second default for mail is refused.
    let default = ok(&[
        "retention",
        "rule",
        "add",
        "--as",
        admin,
        "--json",
        "--corpus",
        "mail",
        "--days",
        "365",
    ]);
    let default_id = default["ruleId"].as_str().unwrap().to_owned();
    ok(&[
        "retention",
        "rule",
        "add",
        "--as",
        admin,
        "--json",
        "--corpus",
        "mail",
        "--indefinite",
        "--accounts",
        "carol@example.org",
    ]);
    let (code, _, err) =
        gov(&["retention", "rule", "add", "--as", admin, "--corpus", "mail", "--days", "9"]);
    assert_eq!(code, 1);
    assert!(err.contains("refused (rule one-default-per-corpus)"), "{err}");
    assert_eq!(
        ok(&["retention", "rule", "list", "--as", admin, "--json"])["rules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The independent computation, from the raw bytes.
    let now = days_from_civil(2024, 7, 7) * 86_400;
    let records: Vec<_> = coll.store().iter().map(|r| r.unwrap()).collect();
    let mut want_purged = BTreeSet::new();
    let mut held = BTreeSet::new();
    let mut per_account: BTreeMap<String, u64> = BTreeMap::new();
    for r in &records {
        let bytes = coll.store().bytes(r).unwrap();
        if expect.held(&units, r.account.as_str(), r.corpus, bytes) {
            held.insert(r.doc_id);
        } else if r.corpus == Corpus::Mail
            && r.account.as_str() != "carol@example.org"
            && header_secs(bytes) + 365 * 86_400 <= now
        {
            want_purged.insert(r.doc_id);
            *per_account.entry(r.account.to_string()).or_default() += 1;
        }
    }
    let kept_unheld_mail = records
        .iter()
        .filter(|r| r.corpus == Corpus::Mail && !held.contains(&r.doc_id))
        .filter(|r| !want_purged.contains(&r.doc_id))
        .count();
    assert!(
        !want_purged.is_empty() && !held.is_empty() && kept_unheld_mail > 0,
        "a test that can fail"
    );
    let stats_before = coll.stats();
    drop(coll);

    // The dry run lists exactly that, and changes nothing.
    let dry =
        ok(&["retention", "apply", "--as", admin, "--json", "--dry-run", "--now", "2024-07-07"]);
    let listed: BTreeSet<String> = dry["plan"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["docId"].as_str().unwrap().to_owned())
        .collect();
    let want_ids: BTreeSet<String> = want_purged.iter().map(ToString::to_string).collect();
    assert_eq!(listed, want_ids);
    assert_eq!(dry["purged"], 0);
    assert_eq!(dry["plan"]["keptByHold"], held.len() as u64);
    assert_eq!(dry["plan"]["perRule"][&default_id], serde_json::to_value(&per_account).unwrap());
    assert_eq!(Collection::open(&dir).unwrap().stats().records, stats_before.records);

    // The apply purges it, and says so.
    let done = ok(&["retention", "apply", "--as", admin, "--json", "--now", "2024-07-07"]);
    assert_eq!(done["purged"], want_purged.len() as u64);
    let removed: BTreeSet<String> = done["remove"]["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["doc_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(removed, want_ids, "every requested id accounted for as removed");
    assert_eq!(done["remove"]["requested"], want_purged.len() as u64);

    let after = Collection::open(&dir).unwrap();
    let stats = after.stats();
    assert_eq!(stats_before.records - stats.records, want_purged.len() as u64);
    for ((c, a), (n, _)) in &stats_before.per_account {
        let gone =
            if *c == Corpus::Mail { per_account.get(a.as_str()).copied().unwrap_or(0) } else { 0 };
        assert_eq!(stats.per_account.get(&(*c, a.clone())).map_or(0, |s| s.0), n - gone, "{c} {a}");
    }
    for r in &records {
        assert_eq!(
            after.store().find(&r.doc_id).unwrap().is_some(),
            !want_purged.contains(&r.doc_id)
        );
    }
    let hits: BTreeSet<DocId> = after
        .search(&SearchRequest::new(
            Scope::entire_org(Corpus::Mail),
            ediscovery::query::parse("").unwrap(),
            now,
        ))
        .unwrap()
        .hits
        .iter()
        .map(|h| h.doc_id)
        .collect();
    let want_hits: BTreeSet<DocId> = records
        .iter()
        .filter(|r| r.corpus == Corpus::Mail && !want_purged.contains(&r.doc_id))
        .map(|r| r.doc_id)
        .collect();
    assert_eq!(hits, want_hits, "search finds exactly what is left");
    assert!(
        held.iter().all(|d| hits.contains(d)
            || records.iter().any(|r| r.doc_id == *d && r.corpus != Corpus::Mail))
    );
    drop(after);

    // A second apply finds nothing due; the log verifies, here and in Python, and holds the
    // plan and the purge with their numbers.
    assert_eq!(
        ok(&["retention", "apply", "--as", admin, "--json", "--now", "2024-07-07"])["purged"],
        0
    );
    let report = audit::verify(&dir).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let py = python_chain(&dir.join("governance/audit.jsonl"));
    assert_eq!(py["entries"].as_u64(), Some(report.entries));
    let entries = audit::read(&dir).unwrap();
    let applied: Vec<_> = entries.iter().filter(|e| e.action == "retention.apply").collect();
    assert_eq!(applied.len(), 2);
    assert_eq!(applied[0].outcome["purged"], want_purged.len() as u64);
    assert_eq!(
        applied[0].outcome["perRule"][&default_id],
        serde_json::to_value(&per_account).unwrap()
    );
    assert_eq!(applied[0].outcome["balances"], true);
    let plans: Vec<_> = entries.iter().filter(|e| e.action == "retention.plan").collect();
    assert_eq!(plans[0].outcome["toPurge"], want_purged.len() as u64);
    assert!(
        entries
            .iter()
            .any(|e| e.action == "retention.rule.add" && e.outcome["rule"] == "admin-only")
    );
}

/// The sample organisation, ingested once with its organisation imported, for the property test
/// to copy per case.
fn retention_base() -> &'static (tempfile::TempDir, std::path::PathBuf) {
    static BASE: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf)> =
        std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let coll = sample_org_collection(tmp.path(), 1);
        let dir = coll.store().dir().to_path_buf();
        drop(coll);
        let org_file = tmp.path().join("org/org.csv");
        let admin = acct(SAMPLE_ADMIN);
        Governance::open(&dir)
            .unwrap()
            .run(|tx| tx.import_org(&admin, &org_file, &std::fs::read(&org_file).unwrap()))
            .unwrap();
        (tmp, dir)
    })
}

const PEOPLE: [&str; 5] = [
    "alice@example.org",
    "bob@example.org",
    "carol@example.org",
    "dan@example.org",
    "erin@example.org",
];

/// A mail hold on one person, optionally for a range of July 2023 days.
type PropHold = (usize, Option<(u32, u32)>);
/// A custom mail rule on some people: days, or indefinite (`None`).
type PropRule = (Vec<usize>, Option<u32>);

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
    /// Random holds, rules, user deletions and times: no held record is ever purged; exactly
    /// the unheld records past their governing rule's period (custom instead of default,
    /// longest wins) and the unheld deleted records no rule covers are, and the purge report
    /// and the audit log add up.
    #[test]
    fn retention_never_purges_a_held_record_and_purges_every_unheld_one_past_its_period(
        holds in proptest::collection::vec((0usize..5, proptest::option::of((1u32..14, 0u32..6))), 0..3),
        default in proptest::option::of(proptest::option::of(proptest::sample::select(vec![1u32, 5, 30, 365, 400]))),
        groups_default in proptest::option::of(proptest::sample::select(vec![1u32, 365])),
        rules in proptest::collection::vec((proptest::sample::subsequence(vec![0usize, 1, 2, 3, 4], 1..3), proptest::option::of(proptest::sample::select(vec![3u32, 10, 200, 390]))), 0..3),
        now_days in 0i64..800,
        delete_every in proptest::option::of(2u64..9),
    ) {
        let holds: Vec<PropHold> = holds.into_iter().map(|(p, r)| (p, r.map(|(a, n)| (a, a + n)))).collect();
        let rules: Vec<PropRule> = rules;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        let st = Command::new("cp").arg("-r").arg(&retention_base().1).arg(&dir).status().unwrap();
        proptest::prop_assert!(st.success());
        let gov = Governance::open(&dir).unwrap();
        let admin = acct(SAMPLE_ADMIN);
        let id = gov.run(|tx| tx.create_matter(&admin, "m", "")).unwrap().matter_id;
        for (i, (p, range)) in holds.iter().enumerate() {
            let mut h = NewHold::accounts(&format!("h{i}"), Corpus::Mail, vec![acct(PEOPLE[*p])]);
            if let Some((a, b)) = range {
                h.start = CivilDay::new(2023, 7, *a as i8);
                h.end = CivilDay::new(2023, 7, *b as i8);
            }
            gov.run(|tx| tx.create_hold(&admin, &id, &h)).unwrap();
        }
        let add = |corpus: Corpus, accounts: Vec<Account>, days: Option<u32>| {
            let new = ediscovery::governance::NewRule { corpus: Some(corpus), accounts, days, ..Default::default() };
            gov.run(|tx| tx.add_retention_rule(&admin, &new)).unwrap();
        };
        if let Some(d) = default { add(Corpus::Mail, vec![], d); }
        if let Some(d) = groups_default { add(Corpus::Groups, vec![], Some(d)); }
        for (people, days) in &rules {
            add(Corpus::Mail, people.iter().map(|p| acct(PEOPLE[*p])).collect(), *days);
        }
        let now = days_from_civil(2023, 7, 1) * 86_400 + now_days * 86_400;

        // The independent expectation.
        let coll = Collection::open(&dir).unwrap();
        let len = |d: Option<u32>| d.map_or(u64::MAX, u64::from);
        let mut want = BTreeSet::new();
        let mut held = BTreeSet::new();
        let all: Vec<_> = coll.store().iter().map(|r| r.unwrap()).collect();
        // Users delete some items (every n-th record).
        let deleted: BTreeSet<DocId> = all
            .iter()
            .filter(|r| delete_every.is_some_and(|n| r.seq % n == 0))
            .map(|r| r.doc_id)
            .collect();
        if !deleted.is_empty() {
            let ids: Vec<DocId> = deleted.iter().copied().collect();
            gov.run(|tx| tx.delete_items(&admin, &dir, &ids)).unwrap();
        }
        for r in &all {
            let bytes = coll.store().bytes(r).unwrap();
            let secs = header_secs(bytes);
            let (_, _, day) = header_day(bytes);
            let a = r.account.as_str();
            let is_held = r.corpus == Corpus::Mail && holds.iter().any(|(p, range)| {
                PEOPLE[*p] == a && range.is_none_or(|(s, e)| (s..=e).contains(&day) && header_day(bytes).1 == 7)
            });
            if is_held { held.insert(r.doc_id); continue; }
            let customs: Vec<Option<u32>> = if r.corpus == Corpus::Mail {
                rules.iter().filter(|(ps, _)| ps.iter().any(|p| PEOPLE[*p] == a)).map(|(_, d)| *d).collect()
            } else { vec![] };
            let governing: Option<Option<u32>> = if customs.is_empty() {
                if r.corpus == Corpus::Mail { default } else { groups_default.map(Some) }
            } else {
                customs.into_iter().max_by_key(|d| len(*d))
            };
            let due = match governing {
                None => deleted.contains(&r.doc_id),
                Some(None) => false,
                Some(Some(days)) => secs + i64::from(days) * 86_400 <= now,
            };
            if due {
                want.insert(r.doc_id);
            }
        }
        drop(coll);

        let report = gov.run(|tx| tx.apply_retention(&admin, &dir, now, false)).unwrap();
        let after = Collection::open(&dir).unwrap();
        let gone: BTreeSet<DocId> = all.iter().filter(|r| after.store().find(&r.doc_id).unwrap().is_none()).map(|r| r.doc_id).collect();
        proptest::prop_assert!(gone.is_disjoint(&held), "a held record was purged");
        proptest::prop_assert_eq!(&gone, &want);
        proptest::prop_assert_eq!(report.purged, want.len() as u64);
        proptest::prop_assert_eq!(all.len() as u64 - after.stats().records, want.len() as u64);
        let per_rule: u64 = report.plan.per_rule.values().flat_map(|m| m.values()).sum();
        proptest::prop_assert_eq!(per_rule, want.len() as u64);
        if let Some(rm) = &report.remove { proptest::prop_assert!(rm.balances()); }
        // The purge gave back its blobs' disk space and no byte a kept record needs.
        proptest::prop_assert_eq!(report.reclaimed.is_some(), report.purged > 0);
        for r in after.store().iter() {
            let r = r.unwrap();
            for p in &r.parts {
                let bytes = after.store().part_bytes(&r, p).unwrap();
                proptest::prop_assert_eq!(ediscovery::digest::Md5::of(bytes), p.blob.md5);
            }
        }
        proptest::prop_assert!(audit::verify(&dir).unwrap().ok());
    }
}

#[test]
fn a_deleted_item_stays_while_held_or_retained_and_is_purged_by_the_next_apply_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let (coll, gov, matter, _) = held_sample(tmp.path());
    let dir = coll.store().dir().to_path_buf();
    let held = gov.run(|tx| tx.held_set(&coll)).unwrap();
    let records: Vec<_> = coll.store().iter().map(|r| r.unwrap()).collect();
    let pick = |account: &str, corpus: Corpus, want_held: bool| {
        records
            .iter()
            .find(|r| {
                r.account.as_str() == account
                    && r.corpus == corpus
                    && held.contains(r.seq, &r.doc_id) == want_held
            })
            .unwrap()
            .doc_id
    };
    let alices = pick("alice@example.org", Corpus::Mail, true);
    let erins = pick("erin@example.org", Corpus::Mail, false);
    let groups = pick("deals@example.org", Corpus::Groups, false);
    let before = coll.stats().records;
    drop(coll);
    let cli = |args: &[&str]| {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.extend(["--collection".into(), dir.clone().into_os_string()]);
        let refs: Vec<&std::ffi::OsStr> = all.iter().map(|s| s.as_os_str()).collect();
        super::common::run_cli(&refs)
    };
    let ok = |args: &[&str]| {
        let (code, out, err) = cli(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        json_of(&out)
    };
    // Erin deletes only her own items.
    let (code, _, err) =
        cli(&["delete", "--as", "erin@example.org", "--doc-id", &alices.to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("refused (rule own-items-only)"), "{err}");
    let r = ok(&["delete", "--as", "erin@example.org", "--json", "--doc-id", &erins.to_string()]);
    assert_eq!(r["deleted"].as_array().unwrap().len(), 1);
    ok(&["delete", "--as", "alice@example.org", "--json", "--doc-id", &alices.to_string()]);
    ok(&["delete", "--as", SAMPLE_ADMIN, "--json", "--doc-id", &groups.to_string()]);
    // A 365-day mail rule keeps Erin's deleted message; the hold keeps Alice's; nothing keeps
    // the group's: only it is purged.
    ok(&[
        "retention",
        "rule",
        "add",
        "--as",
        SAMPLE_ADMIN,
        "--json",
        "--corpus",
        "mail",
        "--days",
        "365",
    ]);
    let r = ok(&["retention", "apply", "--as", SAMPLE_ADMIN, "--json", "--now", "2023-08-01"]);
    assert_eq!(r["purged"], 1);
    assert_eq!(r["plan"]["items"][0]["docId"], groups.to_string());
    assert_eq!(r["plan"]["items"][0]["ruleId"], "user-deletion");
    let c = Collection::open(&dir).unwrap();
    assert!(c.store().find(&groups).unwrap().is_none());
    assert!(c.store().find(&erins).unwrap().is_some());
    assert!(c.store().find(&alices).unwrap().is_some());
    assert_eq!(c.stats().records, before - 1);
    drop(c);

    // Kept, but deleted: ordinary searches and exports leave both out; asking for retained data
    // finds both; a HELD_DATA search in the matter finds the held one.
    let found = |args: &[&str]| -> BTreeSet<String> {
        let mut all = vec!["search", "--json", "--entire-org"];
        all.extend_from_slice(args);
        ok(&all)["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["doc_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (alice_s, erin_s) = (alices.to_string(), erins.to_string());
    let plain = found(&[]);
    assert!(!plain.contains(&alice_s) && !plain.contains(&erin_s), "deleted items are hidden");
    let retained = found(&["--include-deleted"]);
    assert_eq!(retained.len(), plain.len() + 2);
    assert!(retained.contains(&alice_s) && retained.contains(&erin_s));
    let counted = ok(&["search", "--json", "--count", "--entire-org"]);
    assert_eq!(counted["counts"]["total"], plain.len() as u64, "counts leave them out too");
    let in_matter =
        found(&["--matter", matter.0.as_str(), "--as", SAMPLE_ADMIN, "--data-scope", "held"]);
    assert!(in_matter.contains(&alice_s) && !in_matter.contains(&erin_s));
    let exported = |name: &str, extra: &[&str]| -> serde_json::Value {
        let out = tmp.path().join("exports");
        let o = out.to_str().unwrap();
        let mut all = vec!["export", "--json", "--entire-org", "--name", name, "--out", o];
        all.extend_from_slice(extra);
        let r = ok(&all);
        let (code, _, err) =
            super::common::run_cli(&[std::ffi::OsStr::new("verify"), out.join(name).as_os_str()]);
        assert_eq!(code, 0, "{name}: {err}");
        r
    };
    let plain_export = exported("plain", &[]);
    let retained_export = exported("retained", &["--include-deleted"]);
    assert_eq!(plain_export["summary"]["totals"]["exported"], plain.len() as u64, "{plain_export}");
    assert_eq!(retained_export["summary"]["totals"]["exported"], retained.len() as u64);

    // Without the rule, Erin's deleted message is purged at the next apply; Alice's stays held.
    let rule =
        ok(&["retention", "rule", "list", "--as", SAMPLE_ADMIN, "--json"])["rules"][0]["ruleId"]
            .as_str()
            .unwrap()
            .to_owned();
    ok(&["retention", "rule", "remove", "--as", SAMPLE_ADMIN, "--json", "--rule", &rule]);
    let r = ok(&["retention", "apply", "--as", SAMPLE_ADMIN, "--json", "--now", "2023-08-01"]);
    assert_eq!(r["purged"], 1);
    assert_eq!(r["plan"]["items"][0]["docId"], erins.to_string());
    let c = Collection::open(&dir).unwrap();
    assert!(c.store().find(&erins).unwrap().is_none());
    assert!(c.store().find(&alices).unwrap().is_some());
    assert_eq!(c.stats().records, before - 2);
    assert!(audit::verify(&dir).unwrap().ok());
    let entries = audit::read(&dir).unwrap();
    assert!(entries.iter().any(|e| e.action == "delete" && e.outcome["rule"] == "own-items-only"));
}

const RET_CHILD_DIR: &str = "EDISCOVERY_RETENTION_DIR";
const RET_CHILD_AT: &str = "EDISCOVERY_RETENTION_AT";
const RET_NOW: i64 = 1_720_310_400; // 2024-07-07T00:00:00Z

/// Every step of the removal's commit, in order.
const RET_STEPS: [ediscovery::CommitStep; 5] = [
    ediscovery::CommitStep::Prepared,
    ediscovery::CommitStep::IndexCommitted,
    ediscovery::CommitStep::Committed,
    ediscovery::CommitStep::CleanedUp,
    ediscovery::CommitStep::IndexUpdated,
];

/// Stops the process at one step: says so, then waits to be killed.
struct RetStopAt(ediscovery::CommitStep);
impl ediscovery::CommitSteps for RetStopAt {
    fn reached(&mut self, step: ediscovery::CommitStep) {
        if step == self.0 {
            use std::io::Write;
            let mut out = std::io::stdout();
            writeln!(out, "REACHED {step:?}").unwrap();
            out.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_secs(120));
            std::process::exit(9);
        }
    }
}

/// Run only as a child of the retention crash test (it does nothing without its variables).
#[test]
#[ignore = "a child process of the retention crash test"]
fn retention_crash_child() {
    let (Some(dir), Ok(at)) = (std::env::var_os(RET_CHILD_DIR), std::env::var(RET_CHILD_AT)) else {
        return;
    };
    let at = *RET_STEPS.iter().find(|s| format!("{s:?}") == at).unwrap();
    let gov = Governance::open(Path::new(&dir)).unwrap();
    let admin = acct(SAMPLE_ADMIN);
    gov.run(|tx| {
        tx.apply_retention_steps(&admin, Path::new(&dir), RET_NOW, false, &mut RetStopAt(at))
    })
    .unwrap();
    panic!("finished without reaching {at:?}");
}

#[test]
fn retention_apply_killed_at_each_step_purges_all_or_none_and_the_log_verifies() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let (coll, gov, _id, _) = held_sample(tmp.path());
    let base = coll.store().dir().to_path_buf();
    let admin = acct(SAMPLE_ADMIN);
    let new = ediscovery::governance::NewRule {
        corpus: Some(Corpus::Mail),
        days: Some(365),
        ..Default::default()
    };
    gov.run(|tx| tx.add_retention_rule(&admin, &new)).unwrap();
    let due: BTreeSet<DocId> =
        gov.run(|tx| tx.retention_plan(&coll, RET_NOW)).unwrap().doc_ids().into_iter().collect();
    let all: BTreeSet<DocId> = coll.store().iter().map(|r| r.unwrap().doc_id).collect();
    assert!(!due.is_empty() && due.len() < all.len());
    drop(coll);
    for (i, at) in RET_STEPS.iter().enumerate() {
        let dir = tmp.path().join(format!("k{i}"));
        let st = Command::new("cp").arg("-r").arg(&base).arg(&dir).status().unwrap();
        assert!(st.success());
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "it::governance::retention_crash_child", "--ignored", "--nocapture"])
            .env(RET_CHILD_DIR, &dir)
            .env(RET_CHILD_AT, format!("{at:?}"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut reached = false;
        for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
            if line.unwrap() == format!("REACHED {at:?}") {
                reached = true;
                break;
            }
        }
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(reached, "{at:?} never reached: {}", String::from_utf8_lossy(&out.stderr));
        // The collection: every record intact or purged, the whole batch or none of it.
        let c = ediscovery::CollectionWriter::open(&dir, 1).unwrap().finish().unwrap();
        let left: BTreeSet<DocId> = c.store().iter().map(|r| r.unwrap().doc_id).collect();
        let gone: BTreeSet<DocId> = all.difference(&left).copied().collect();
        let committed = i >= 2;
        assert_eq!(gone, if committed { due.clone() } else { BTreeSet::new() }, "{at:?}");
        assert_eq!(c.index().num_docs(), c.store().len(), "{at:?}: the index is exact");
        drop(c);
        // The log verifies, the plan is on record, the governance state is usable, and the
        // next apply finishes the job.
        let g = Governance::open(&dir).unwrap();
        assert_eq!(g.run(|tx| tx.retention_rules(&admin)).unwrap().len(), 1);
        assert!(audit::verify(&dir).unwrap().ok(), "{at:?}");
        let entries = audit::read(&dir).unwrap();
        assert!(entries.iter().any(|e| e.action == "retention.plan"), "{at:?}");
        assert!(!entries.iter().any(|e| e.action == "retention.apply"), "{at:?}");
        let r = g.run(|tx| tx.apply_retention(&admin, &dir, RET_NOW, false)).unwrap();
        assert_eq!(r.purged, if committed { 0 } else { due.len() as u64 }, "{at:?}");
        let c = Collection::open(&dir).unwrap();
        let left: BTreeSet<DocId> = c.store().iter().map(|r| r.unwrap().doc_id).collect();
        assert_eq!(all.difference(&left).copied().collect::<BTreeSet<_>>(), due, "{at:?}");
        assert!(audit::verify(&dir).unwrap().ok(), "{at:?}");
    }
}

/// Sources carry deletions too (issue 12.4): a Maildir message flagged `T` and a Takeout message
/// in Trash are deleted items. Ordinary searches leave them out, `--include-deleted` finds them,
/// and the next retention apply purges them (nothing keeps them) under `source-deletion`.
#[test]
fn messages_their_sources_mark_deleted_are_deleted_items() {
    let tmp = tempfile::tempdir().unwrap();
    let msg = |id: &str| {
        format!(
            "Message-ID: <{id}@x>\nFrom: a@example.org\nTo: b@example.org\nSubject: {id}\n\
             Date: Mon, 1 Jan 2024 10:00:00 +0000\n\nbody of {id}\n"
        )
    };
    let md = tmp.path().join("md");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    std::fs::write(md.join("cur/1.A.host:2,S"), msg("kept")).unwrap();
    std::fs::write(md.join("cur/2.A.host:2,ST"), msg("trashed")).unwrap();
    let takeout = tmp.path().join("t.mbox");
    std::fs::write(
        &takeout,
        format!(
            "From 1@xxx Mon Jan  1 10:00:00 +0000 2024\nX-Gmail-Labels: Trash,Opened\n{}\n\
             From 2@xxx Mon Jan  1 10:00:00 +0000 2024\nX-Gmail-Labels: Inbox\n{}\n",
            msg("binned"),
            msg("inboxed")
        ),
    )
    .unwrap();
    let dir = tmp.path().join("c");
    let a = acct("a@example.org");
    let (c, _) = super::common::ingest_into(
        &dir,
        ediscovery::ingest::Source::Maildir(md),
        a.as_str(),
        Corpus::Mail,
    );
    drop(c);
    let (c, _) = super::common::ingest_into(
        &dir,
        ediscovery::ingest::Source::Takeout(takeout),
        a.as_str(),
        Corpus::Mail,
    );
    let id_of = |subject: &str| {
        c.store()
            .iter()
            .map(|r| r.unwrap())
            .find(|r| r.mail().unwrap().subject.as_deref() == Some(subject))
            .unwrap()
            .doc_id
            .to_string()
    };
    let (trashed, binned) = (id_of("trashed"), id_of("binned"));
    let deleted = Governance::open(&dir).unwrap().deleted_set(&c).unwrap();
    let mut got: Vec<String> = deleted.doc_ids().map(|d| d.to_string()).collect();
    got.sort();
    let mut want = vec![trashed.clone(), binned.clone()];
    want.sort();
    assert_eq!(got, want, "exactly the two messages their sources deleted");
    drop(c);
    assert!(!dir.join("governance").exists(), "reading deletions writes nothing");

    let cli = |args: &[&str]| -> Value {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.extend(["--collection".into(), dir.clone().into_os_string()]);
        let refs: Vec<&std::ffi::OsStr> = all.iter().map(|s| s.as_os_str()).collect();
        let (code, out, err) = super::common::run_cli(&refs);
        assert_eq!(code, 0, "{args:?}: {err}");
        serde_json::from_str(&out).unwrap()
    };
    let ids = |v: &Value| -> BTreeSet<String> {
        v["hits"].as_array().unwrap().iter().map(|h| h["doc_id"].as_str().unwrap().into()).collect()
    };
    let plain = ids(&cli(&["search", "--json", "--entire-org"]));
    assert_eq!(plain.len(), 2);
    assert!(!plain.contains(&trashed) && !plain.contains(&binned));
    assert_eq!(ids(&cli(&["search", "--json", "--entire-org", "--include-deleted"])).len(), 4);

    // Nothing keeps them: the next apply purges them, and only them.
    let org = tmp.path().join("org.csv");
    std::fs::write(
        &org,
        "Account,OrgUnit,Type,Created,Admin\nadmin@example.org,/,USER,2020-01-01T00:00:00Z,true\n\
         a@example.org,/,USER,2020-01-01T00:00:00Z,false\n",
    )
    .unwrap();
    cli(&["org", "import", "--as", "admin@example.org", "--json", org.to_str().unwrap()]);
    let r =
        cli(&["retention", "apply", "--as", "admin@example.org", "--json", "--now", "2024-02-01"]);
    assert_eq!(r["purged"], 2, "{r}");
    let items: BTreeSet<(String, String)> = r["plan"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["docId"].as_str().unwrap().into(), i["ruleId"].as_str().unwrap().into()))
        .collect();
    let want: BTreeSet<(String, String)> =
        [(trashed, "source-deletion".into()), (binned, "source-deletion".into())].into();
    assert_eq!(items, want);
    assert_eq!(ids(&cli(&["search", "--json", "--entire-org", "--include-deleted"])), plain);
}

/// Issue 12's real-corpus acceptance, through the CLI on the SpamAssassin corpus: a hold on two
/// of the five custodians with a date range, a 365-day default mail rule applied at a fixed
/// `--now`, then the matter's `HELD_DATA` export — its count equals the `HELD_DATA` search's,
/// it verifies, nothing held was purged, and the purge report adds up to the collection's change.
#[test]
fn real_corpus_hold_retention_and_held_export_add_up() {
    let Some(corpus) = super::common::corpus_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let d = dir.to_str().unwrap().to_owned();
    let run = |args: &[&str]| -> Value {
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        let (code, out, err) = super::common::run_cli(&refs);
        assert_eq!(code, 0, "{args:?}: {err}");
        serde_json::from_str(&out).unwrap_or(Value::Null)
    };
    let people = ["alice", "bob", "carol", "dave", "erin"];
    let mut org = String::from("Account,OrgUnit,Type,Created,Admin\n");
    org.push_str("admin@example.com,/,USER,2001-01-01T00:00:00Z,true\n");
    for p in people {
        let mbox = corpus.join(format!("mbox/{p}@example.com.mbox"));
        let acct = format!("{p}@example.com");
        run(&[
            "ingest",
            "--collection",
            &d,
            "--account",
            &acct,
            "--mbox",
            mbox.to_str().unwrap(),
            "--json",
        ]);
        org.push_str(&format!("{acct},/,USER,2001-01-01T00:00:00Z,false\n"));
    }
    let org_file = tmp.path().join("org.csv");
    std::fs::write(&org_file, org).unwrap();
    let admin = ["--collection", &d, "--as", "admin@example.com", "--json"];
    let with = |head: &[&str], tail: &[&str]| -> Value {
        let mut all: Vec<&str> = head.to_vec();
        all.extend_from_slice(&admin);
        all.extend_from_slice(tail);
        run(&all)
    };
    with(&["org", "import"], &[org_file.to_str().unwrap()]);
    let m = with(&["matter", "create"], &["--name", "Acceptance"])["matterId"]
        .as_str()
        .unwrap()
        .to_owned();
    with(
        &["hold", "create"],
        &[
            "--matter",
            &m,
            "--name",
            "two",
            "--corpus",
            "mail",
            "--accounts",
            "alice@example.com,bob@example.com",
            "--start",
            "2002-08-01",
            "--end",
            "2002-09-30",
        ],
    );
    let held_count = || -> u64 {
        with(&["search"], &["--matter", &m, "--data-scope", "held", "--entire-org", "--count"])
            ["counts"]["total"]
            .as_u64()
            .unwrap()
    };
    let held_before = held_count();
    assert!(held_before > 0);
    let records = |v: Value| v["records"].as_u64().unwrap();
    let before = records(run(&["stats", "--collection", &d, "--json"]));
    with(&["retention", "rule", "add"], &["--corpus", "mail", "--days", "365"]);
    let r = with(&["retention", "apply"], &["--now", "2004-01-01"]);
    let purged = r["purged"].as_u64().unwrap();
    let after = records(run(&["stats", "--collection", &d, "--json"]));
    assert!(purged > 0 && purged < before, "{purged} of {before}");
    assert_eq!(before - after, purged, "the collection changed by what was purged");
    let per_rule: u64 = r["plan"]["perRule"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|m| m.as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(per_rule, purged);
    assert_eq!(r["remove"]["removed"].as_array().unwrap().len() as u64, purged);
    assert_eq!(r["plan"]["keptByHold"].as_u64().unwrap(), held_before, "{}", r["plan"]);
    assert_eq!(held_count(), held_before, "nothing held was purged");
    eprintln!("real corpus: {before} records, {held_before} held, {purged} purged, {after} left");

    let out = tmp.path().join("out");
    let e = with(
        &["export"],
        &[
            "--matter",
            &m,
            "--data-scope",
            "held",
            "--entire-org",
            "--name",
            "held",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(e["summary"]["totals"]["exported"].as_u64().unwrap(), held_before, "{e}");
    let (code, _, err) =
        super::common::run_cli(&[std::ffi::OsStr::new("verify"), out.join("held").as_os_str()]);
    assert_eq!(code, 0, "{err}");
    let md5 = Command::new("md5sum")
        .arg("-c")
        .arg("--quiet")
        .arg("held-checksums.md5")
        .current_dir(out.join("held"))
        .output()
        .unwrap();
    assert!(md5.status.success(), "{}", String::from_utf8_lossy(&md5.stdout));
    assert!(audit::verify(&dir).unwrap().ok());
}

/// A hold's corpus options decide what it keeps (issue 12.3): a Drive hold keeps files in
/// shared drives only with `includeSharedDrives`.
#[test]
fn a_drive_hold_keeps_shared_drive_files_only_when_it_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("drive");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("a.txt"), b"my own file").unwrap();
    std::fs::write(root.join("b.txt"), b"a shared drive file").unwrap();
    let line = |id: &str, content: &str, extra: &str| {
        format!(
            r#"{{"drive_id": "{id}", "title": "{id}", "owner": "alice@example.org", "mime_type": "text/plain", "content": "{content}"{extra}}}"#
        )
    };
    let jsonl = [
        r#"{"format": "ediscovery.drive", "version": 1}"#.to_owned(),
        line("own", "a.txt", ""),
        line("team", "b.txt", r#", "shared_drive_id": "0AAA""#),
    ]
    .join("\n");
    std::fs::write(root.join("drive.jsonl"), jsonl).unwrap();
    let dir = tmp.path().join("c");
    let mut w = ediscovery::CollectionWriter::open(&dir, 1).unwrap();
    let mut opts = ediscovery::IngestOptions::new(acct("alice@example.org"));
    opts.corpus = Corpus::Drive;
    let src = ediscovery::ingest::Source::DriveJsonl { file: root.join("drive.jsonl"), root };
    assert_eq!(w.ingest(&src, &opts, &mut ediscovery::NoProgress).unwrap().ingested, 2);
    let coll = w.finish().unwrap();
    let org = tmp.path().join("org.csv");
    std::fs::write(
        &org,
        "Account,OrgUnit,Type,Created,Admin\nadmin@example.org,/,USER,2020-01-01T00:00:00Z,true\n\
         alice@example.org,/,USER,2020-01-01T00:00:00Z,false\n",
    )
    .unwrap();
    let gov = Governance::open(&dir).unwrap();
    let admin = acct("admin@example.org");
    gov.run(|tx| tx.import_org(&admin, &org, &std::fs::read(&org).unwrap())).unwrap();
    let id = gov.run(|tx| tx.create_matter(&admin, "Drive", "")).unwrap().matter_id;
    let titles = |gov: &Governance| -> BTreeSet<String> {
        let held = gov.run(|tx| tx.held_set(&coll)).unwrap();
        coll.store()
            .iter()
            .map(|r| r.unwrap())
            .filter(|r| held.contains(r.seq, &r.doc_id))
            .map(|r| r.source.key.clone())
            .collect()
    };
    let own = NewHold::accounts("own", Corpus::Drive, vec![acct("alice@example.org")]);
    let hold = gov.run(|tx| tx.create_hold(&admin, &id, &own)).unwrap();
    assert_eq!(titles(&gov), BTreeSet::from(["own".to_owned()]), "no shared drives by default");
    gov.run(|tx| tx.delete_hold(&admin, &id, &hold.hold_id)).unwrap();
    let all = NewHold { include_shared_drives: true, ..own };
    gov.run(|tx| tx.create_hold(&admin, &id, &all)).unwrap();
    assert_eq!(titles(&gov), BTreeSet::from(["own".to_owned(), "team".to_owned()]));
}
