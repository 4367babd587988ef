//! Issue 11 item 4: Chat, Drive and Voice exports on hand-made records, through the real export
//! path (plan, run, verify), read back by `tests/independent/read_export.py` (Python's
//! `zipfile`, `mailbox`, `email`, `csv`, `xml.etree`, `html.parser`) and `md5sum -c`.
//!
//! Records are put into a collection through the public store and index API (the ingest of these
//! corpora, and the indexing of their text, are another branch's). Each record is given a few
//! words; the matches of a term are handed to the planner as the search result restricted to
//! the records holding it (`--retry-from`'s path), so the tests do not depend on how these
//! corpora are indexed, and the export adds the rest as context where the corpus has context.

use super::common::*;
use ediscovery::digest::Md5;
use ediscovery::export::run::{BlobSource, Failure, FailureClass, Wanted};
use ediscovery::export::{self, ExportRequest, NoExportProgress, Outcome};
use ediscovery::index::{Index, IndexText};
use ediscovery::model::{
    AccessRole, AccessVia, Account, ChatEdit, ChatMeta, ConversationType, Corpus, DocId,
    DocumentType, DriveMeta, IndirectAccess, Metadata, OrgUnit, Part, PartKind, Parts, Record,
    SourceKind, SourceRef, VoiceKind, VoiceMeta, VoiceText,
};
use ediscovery::store::{Store, StoreWriter};
use ediscovery::{Collection, CollectionWriter};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const H: i64 = 3600;
/// The word that makes a record a match.
const TERM: &str = "zebra";
const T0: i64 = 1_700_000_000;

/// A part: kind, name, content type, bytes.
type RawPart<'a> = (PartKind, Option<&'a str>, Option<&'a str>, Vec<u8>);

/// Builds a collection record by record through `StoreWriter` and an index writer committing
/// the same generation.
struct Builder {
    dir: PathBuf,
    w: StoreWriter,
    iw: ediscovery::index::Writer,
    _index: Index,
    n: usize,
    /// Every record's words.
    words: Vec<(DocId, String)>,
}

impl Builder {
    fn new(dir: &Path) -> Builder {
        CollectionWriter::open(dir, 1).unwrap().finish().unwrap();
        let w = Store::open(dir).unwrap().writer().unwrap();
        let index = Index::open_or_create(&dir.join("index")).unwrap();
        let iw = index.writer(1).unwrap();
        Builder { dir: dir.to_path_buf(), w, iw, _index: index, n: 0, words: Vec::new() }
    }

    fn add(
        &mut self,
        account: &str,
        meta: Metadata,
        parts: Vec<RawPart<'_>>,
        words: &str,
    ) -> Record {
        let corpus = match &meta {
            Metadata::Chat(_) => Corpus::Chat,
            Metadata::Drive(_) => Corpus::Drive,
            _ => Corpus::Voice,
        };
        let mut ps: Option<Parts> = None;
        for (kind, name, ctype, bytes) in parts {
            let (blob, _) = self.w.put_blob(Md5::of(&bytes), &bytes).unwrap();
            let p = Part {
                kind,
                name: name.map(str::to_owned),
                content_type: ctype.map(str::to_owned),
                blob,
            };
            match &mut ps {
                Some(ps) => ps.push(p),
                None => ps = Some(Parts::new(p)),
            }
        }
        let parts = ps.unwrap();
        self.n += 1;
        let account = Account::new(account).unwrap();
        let key = format!("k{}", self.n);
        let r = Record {
            doc_id: DocId::derive(corpus.as_str(), &account, &key, &parts.main().blob.md5),
            seq: self.w.next_seq(),
            corpus,
            account,
            org_unit: OrgUnit::root(),
            source: SourceRef {
                kind: SourceKind::Mbox,
                path: "hand-made".into(),
                key,
                offset: None,
            },
            parts,
            meta,
            defects: Vec::new(),
        };
        self.w.push(&r).unwrap();
        self.iw.add(&r, &IndexText { body: words }).unwrap();
        self.words.push((r.doc_id, words.to_owned()));
        r
    }

    fn finish(mut self) -> (Collection, Vec<(DocId, String)>) {
        let iw = &mut self.iw;
        self.w
            .commit(|g| {
                iw.commit(g)?;
                Ok(())
            })
            .unwrap();
        drop(self.w);
        drop(self.iw);
        (Collection::open(&self.dir).unwrap(), self.words)
    }
}

fn chat(space: &str, id: &str, sender: &str, at: i64, thread: Option<&str>) -> ChatMeta {
    ChatMeta {
        space_id: format!("spaces/{space}"),
        space_name: Some(format!("Room {space}")),
        conversation: Some(ConversationType::Space),
        thread_id: thread.map(str::to_owned),
        message_id: id.to_owned(),
        sender: sender.to_owned(),
        created: at,
        participants: vec!["alice@example.com".into(), "bob@example.com".into()],
        ..ChatMeta::default()
    }
}

fn text(s: &str) -> Vec<RawPart<'static>> {
    vec![(PartKind::Message, None, Some("text/plain; charset=utf-8"), s.as_bytes().to_vec())]
}

fn request(name: &str, corpus: &str, accounts: &[&str], terms: &str) -> ExportRequest {
    export_request(name, corpus, accounts, terms)
}

/// Plan `req` with the records whose words hold `term` as the matches, run it through `source`,
/// then check the folder with verify, `md5sum -c` and the Python reader; the reader's JSON.
fn export_and_read(
    (c, words): &(Collection, Vec<(DocId, String)>),
    req: &ExportRequest,
    term: &str,
    source: &dyn BlobSource,
    out: &Path,
    corpus: &str,
) -> (Outcome, Value) {
    let result = c.search(&export::search_request(req, 0).unwrap()).unwrap();
    let found: BTreeSet<DocId> = result.hits.iter().map(|h| h.doc_id).collect();
    let doc_ids = words
        .iter()
        .filter(|(d, w)| found.contains(d) && w.split_whitespace().any(|x| x == term))
        .map(|(d, _)| *d);
    let only = export::Retry { path: PathBuf::from("matches"), doc_ids: doc_ids.collect() };
    let plan = export::plan(c, req, &result, Some(&only)).unwrap();
    let o = export::run(c, req, &plan, source, out, &NoExportProgress).unwrap();
    let rep = ediscovery::verify::verify(&o.dir).unwrap();
    assert!(rep.ok(), "{:#?}", rep.problems);
    for b in o.summary.accounts.iter().chain([&o.summary.totals]) {
        assert!(b.balances(), "{b:?}");
    }
    let sums = format!("{}-checksums.md5", req.name);
    let md5 = Command::new("md5sum").arg("-c").arg(&sums).current_dir(&o.dir).output().unwrap();
    assert!(md5.status.success(), "{}", String::from_utf8_lossy(&md5.stdout));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/read_export.py");
    let py = Command::new("python3").arg(script).arg(&o.dir).arg(&req.name).arg(corpus).output();
    let py = py.unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let v: Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(v["problems"], Value::Array(vec![]), "{}", v["problems"]);
    (o, v)
}

fn ids(doc: &Value) -> Vec<String> {
    doc["data_ids"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

/// The help page's worked example through the real export: A; B ten hours later; B2, a reply to
/// B two days after B; C ten hours after B2. A match on B2 exports A, B, B2 — not C — as one
/// document in the real layout.
#[test]
fn chat_worked_example_exports_a_b_b2_not_c() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Builder::new(&tmp.path().join("c"));
    let a = "alice@example.com";
    b.add(a, Metadata::Chat(Box::new(chat("AAAA", "A", a, T0, None))), text("first"), "first");
    b.add(
        a,
        Metadata::Chat(Box::new(chat("AAAA", "B", "bob@example.com", T0 + 10 * H, Some("B")))),
        text("second"),
        "second",
    );
    b.add(
        a,
        Metadata::Chat(Box::new(chat("AAAA", "B2", a, T0 + 58 * H, Some("B")))),
        text("a reply about zebras\nwith a second line & <tags>"),
        "zebra",
    );
    b.add(
        a,
        Metadata::Chat(Box::new(chat("AAAA", "C", a, T0 + 68 * H, None))),
        text("later"),
        "later",
    );
    let c = b.finish();
    let req = request("Chat", "HANGOUTS_CHAT", &[a], "");
    let (o, v) = export_and_read(&c, &req, TERM, c.0.store(), &tmp.path().join("out"), "chat");
    let docs = v["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 1, "{docs:#?}");
    let d = &docs[0];
    assert_eq!(ids(d), ["A", "B", "B2"]);
    assert!(d["crlf"].as_bool().unwrap(), "every line ends in CRLF");
    // The separator and headers of §19.2.
    let token = d["file_name"].as_str().unwrap();
    let (space, ts) = token.split_once("-MBI-FLAT:").unwrap();
    assert_eq!(space, "AAAA");
    // First message minus 12 hours, in US Pacific time (T0 = 2023-11-14T22:13:20Z = 14:13:20 PST).
    assert_eq!(ts, "2023-11-14T02:13:20.000000");
    assert_eq!(d["message_id"], format!("<{token}>"));
    assert_eq!(d["subject"], token);
    assert_eq!(d["from"], a);
    assert_eq!(d["date"], "Tue, 14 Nov 2023 14:13:20 -0800 (PST)");
    assert!(d["received"].as_str().unwrap().starts_with("by 0.0.0.0 with HTTP; Tue Nov 14"));
    let html = d["html"].as_str().unwrap();
    assert!(html.starts_with("<html><head><meta content='text/html; charset=UTF-8'/></head>"));
    assert!(html.contains(
        "<span style=\"font-weight:700\">alice@example.com\u{a0}</span>November 14, 2023 at 10:13:20\u{202f}PM UTC"
    ));
    assert!(html.contains("<div>1 Reply</div>") && html.contains("padding-left:40px"));
    assert!(html.contains("a reply about zebras\r\nwith a second line &amp; &lt;tags&gt;"));
    // metadata.xml of the document.
    let t = &d["tags"];
    assert_eq!(t["RoomID"], "spaces/AAAA");
    assert_eq!(t["RoomName"], "Room AAAA");
    assert_eq!(t["ConversationType"], "Room");
    assert_eq!(t["Participants"], "alice@example.com,bob@example.com");
    assert_eq!(t["#DateFirstMessageSent"], "2023-11-14T22:13:20.000Z");
    assert_eq!(t["#DateLastMessageSent"], "2023-11-17T08:13:20.000Z");
    assert_eq!(
        (t["MessageCount"].as_str(), t["MatchedMessageCount"].as_str()),
        (Some("3"), Some("1"))
    );
    // One match in scope, exported; the context messages are not counted as found.
    assert_eq!((o.summary.totals.in_scope, o.summary.totals.exported), (1, 1));
    assert_eq!(v["csv"]["results-count.csv"], serde_json::json!([["Account", "Count"], [a, "1"]]));
}

/// Overlapping windows merge, a 24-hour break starts a new document, conversations come newest
/// match first (documents oldest first), every message once; edits, deletions and attachments
/// survive in the layout; two custodians' copies of one conversation get distinct tokens.
#[test]
fn chat_breaks_overlaps_order_edits_and_attachments() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Builder::new(&tmp.path().join("c"));
    let (a, bob) = ("alice@example.com", "bob@example.com");
    let mut add = |who: &str, space: &str, id: &str, hours: i64, words: &str| {
        let m = chat(space, id, who, T0 + hours * H, None);
        b.add(who, Metadata::Chat(Box::new(m)), text(&format!("{id} {words}")), words)
    };
    // Room S1 (older matches at 9 h and 15 h): windows overlap into one document.
    for (id, h, w) in [
        ("s1", 0, "x"),
        ("s2", 9, "zebra"),
        ("s3", 12, "x"),
        ("s4", 15, "zebra"),
        ("s5", 26, "x"),
        ("s6", 28, "x"),
    ] {
        add(a, "S1", id, h, w);
    }
    // Bob holds his own copy of one S1 message that matches: a document of his own.
    add(bob, "S1", "s4", 15, "zebra");
    // Room S2 (newest match): two documents, 24 h apart and more.
    add(a, "S2", "t1", 100, "zebra");
    add(a, "S2", "t2", 130, "zebra");
    // A message in S2 with an attachment, an edit and a deletion, in context of t2.
    let mut m = chat("S2", "t3", bob, T0 + 131 * H, None);
    m.edits = vec![ChatEdit { at: T0 + 131 * H + 60, previous_text: "first draft".into() }];
    m.deleted = Some(T0 + 132 * H);
    let pdf = b"%PDF-1.4 pretend".to_vec();
    let mut parts = text("see attached");
    parts.push((
        PartKind::Attachment,
        Some("plan \"v2\".pdf"),
        Some("application/pdf"),
        pdf.clone(),
    ));
    b.add(a, Metadata::Chat(Box::new(m)), parts, "attached");
    let c = b.finish();
    let req = request("Chats", "HANGOUTS_CHAT", &[a, bob], "");
    let (o, v) = export_and_read(&c, &req, TERM, c.0.store(), &tmp.path().join("out"), "chat");
    let docs = v["documents"].as_array().unwrap();
    let alice: Vec<Vec<String>> =
        docs.iter().filter(|d| d["tags"]["Account"] == a).map(ids).collect();
    assert_eq!(alice, [vec!["t1"], vec!["t2", "t3"], vec!["s1", "s2", "s3", "s4", "s5"]]);
    let all: Vec<String> =
        docs.iter().filter(|d| d["tags"]["Account"] == a).flat_map(ids).collect();
    assert_eq!(all.len(), all.iter().collect::<BTreeSet<_>>().len(), "no message twice");
    let tokens: BTreeSet<&str> = docs.iter().map(|d| d["file_name"].as_str().unwrap()).collect();
    assert_eq!(tokens.len(), docs.len(), "tokens are unique across custodians: {tokens:?}");
    let with_att = docs.iter().find(|d| ids(d).contains(&"t3".to_owned())).unwrap();
    let att = &with_att["attachments"][0];
    assert_eq!(att["name"], "plan \"v2\".pdf");
    assert_eq!(att["md5"], Md5::of(&pdf).to_hex());
    let html = with_att["html"].as_str().unwrap();
    assert!(html.contains("<div>plan &quot;v2&quot;.pdf</div>"), "{html}");
    assert!(html.contains("Edited ") && html.contains("first draft"), "{html}");
    assert!(html.contains("Deleted by the sender "), "{html}");
    // The document's tags are its conversation's (its first message's): a space.
    assert_eq!(with_att["tags"]["ConversationType"], "Room");
    // Matches: alice 4 (s2, s4, t1, t2), bob 1; each custodian's own mbox.
    let per: Vec<(String, u64, u64)> =
        o.summary.accounts.iter().map(|b| (b.account.clone(), b.in_scope, b.exported)).collect();
    assert_eq!(per, [(a.to_owned(), 4, 4), (bob.to_owned(), 1, 1)]);
}

/// A failed message fails its whole document: its matches get Chat-shaped error rows.
#[test]
fn chat_failure_is_reported_per_matched_message() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Builder::new(&tmp.path().join("c"));
    let a = "alice@example.com";
    let bad =
        b.add(a, Metadata::Chat(Box::new(chat("F", "f1", a, T0, None))), text("zebra"), "zebra");
    b.add(a, Metadata::Chat(Box::new(chat("G", "g1", a, T0, None))), text("zebra"), "zebra");
    let c = b.finish();
    let src = FailSome { store: c.0.store(), fail: BTreeSet::from([bad.doc_id]) };
    let req = request("ChatF", "HANGOUTS_CHAT", &[a], "");
    let (o, v) = export_and_read(&c, &req, TERM, &src, &tmp.path().join("out"), "chat");
    assert_eq!((o.summary.totals.exported, o.summary.totals.failed()), (1, 1));
    let rows = v["csv"]["error.csv"].as_array().unwrap();
    assert_eq!(
        rows[0],
        serde_json::json!([
            "Document ID",
            "Filename",
            "Conversation Type",
            "Room name",
            "Error description",
            "Failure class",
            "Retry query"
        ])
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], bad.doc_id.to_string());
    assert!(rows[1][1].as_str().unwrap().starts_with("F-MBI-FLAT:"));
}

struct FailSome<'a> {
    store: &'a Store,
    fail: BTreeSet<DocId>,
}

impl BlobSource for FailSome<'_> {
    fn read<'a>(&'a self, want: Wanted<'_>) -> Result<Cow<'a, [u8]>, Failure> {
        if self.fail.contains(&want.doc_id) {
            return Err(Failure { class: FailureClass::Transient, reason: "injected".into() });
        }
        self.store.read(want)
    }
}

fn drive(title: &str, id: &str, owner: &str) -> DriveMeta {
    DriveMeta {
        drive_id: id.into(),
        title: title.into(),
        owner: owner.into(),
        mime_type: "application/octet-stream".into(),
        created: Some(T0),
        modified: Some(T0 + H),
        ..DriveMeta::default()
    }
}

fn file(bytes: &[u8]) -> Vec<RawPart<'static>> {
    vec![(PartKind::File, None, None, bytes.to_vec())]
}

/// Every naming edge, split zips from `_0`, access placement with `includeAccessInfo` off and on,
/// custodian-docid, and the Drive-shaped error report with `title:"…"` retry queries.
#[test]
fn drive_names_access_and_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Builder::new(&tmp.path().join("c"));
    let (a, bob) = ("alice@example.com", "bob@example.com");
    let long = format!("{}.pdf", "L".repeat(129));
    let titles = [
        long.as_str(),
        "a/b/../c.txt",
        "..",
        "...",
        "nul\u{0}byte.txt",
        "party 🎉.docx",
        "Same title.txt",
        "Same title.txt",
    ];
    let mut recs = Vec::new();
    for (i, t) in titles.iter().enumerate() {
        let bytes = format!("file {i} {t}").into_bytes();
        recs.push(b.add(
            a,
            Metadata::Drive(Box::new(drive(t, &format!("ID{i}"), a))),
            file(&bytes),
            "zebra",
        ));
    }
    // Indirect access, and a file bob can see directly (custodian-docid lists him too).
    let mut shared = drive("Shared plan", "SH1", a);
    shared.document_type = Some(DocumentType::Document);
    shared.viewers = vec![bob.into()];
    shared.collaborators = vec!["carol@example.com".into()];
    shared.indirect = vec![
        IndirectAccess {
            via: AccessVia::Group { address: "eng@example.com".into() },
            role: AccessRole::Editor,
        },
        IndirectAccess {
            via: AccessVia::Domain { domain: "example.com".into() },
            role: AccessRole::Viewer,
        },
        IndirectAccess { via: AccessVia::Public, role: AccessRole::Unknown },
    ];
    let shared_rec =
        b.add(a, Metadata::Drive(Box::new(shared.clone())), file(b"PK shared"), "zebra");
    // Bob's own copy of the same Drive file: the same name would collide, so it gets `_2`.
    b.add(bob, Metadata::Drive(Box::new(shared)), file(b"PK shared"), "zebra");
    let c = b.finish();

    let mut req = request("Drv", "DRIVE", &[a, bob], "");
    req.ediscovery.split_size = 60; // several zips
    let (o, v) = export_and_read(&c, &req, TERM, c.0.store(), &tmp.path().join("off"), "drive");
    let zips: Vec<&str> =
        v["zips"].as_array().unwrap().iter().map(|z| z.as_str().unwrap()).collect();
    assert!(zips.len() > 2 && zips[0] == "Drv_0.zip" && zips[1] == "Drv_1.zip", "{zips:?}");
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), titles.len() + 2);
    let names: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    let lower: BTreeSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
    assert_eq!(lower.len(), names.len(), "no collisions: {names:?}");
    for n in &names {
        assert!(n.chars().count() <= 128, "{n}");
        assert!(
            !n.contains('/') && !n.contains('\0') && !n.contains("..") && !n.starts_with('.'),
            "{n}"
        );
    }
    let name_of = |id: &str| {
        files
            .iter()
            .find(|f| f["tags"]["DriveID"] == id)
            .map(|f| f["name"].as_str().unwrap())
            .unwrap()
    };
    assert_eq!(name_of("ID0").chars().count(), 128);
    assert!(name_of("ID0").ends_with("_ID0.pdf"));
    assert_eq!(name_of("ID1"), "a_b_._c_ID1.txt");
    assert_eq!((name_of("ID2"), name_of("ID3")), ("__ID2", "__ID3"));
    assert_eq!(name_of("ID4"), "nul_byte_ID4.txt");
    assert_eq!(name_of("ID5"), "party __ID5.docx");
    assert_eq!((name_of("ID6"), name_of("ID7")), ("Same title_ID6.txt", "Same title_ID7.txt"));
    let sh: Vec<&str> = files
        .iter()
        .filter(|f| f["tags"]["DriveID"] == "SH1")
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(sh, ["Shared plan_SH1.docx", "Shared plan_SH1_2.docx"]);
    // Full titles in #Title; access with includeAccessInfo off: every indirect user in Others.
    let tags = |files: &[Value], id: &str, acct: &str| {
        files.iter().find(|f| f["tags"]["DriveID"] == id && f["tags"]["Account"] == acct).unwrap()["tags"].clone()
    };
    assert_eq!(tags(files, "ID0", a)["#Title"], long);
    let t = tags(files, "SH1", a);
    assert_eq!(t["Collaborators"], "carol@example.com");
    assert_eq!(t["Viewers"], "bob@example.com");
    assert_eq!(t["Others"], "eng@example.com,example.com,anyone with the link");
    assert_eq!(t["DocumentType"], "DOCUMENT");
    assert_eq!(t["#Author"], a);
    assert_eq!(t["#DateCreated"], "2023-11-14T22:13:20.000Z");
    let cd = v["csv"]["custodian-docid.csv"].as_array().unwrap();
    assert_eq!(cd[0], serde_json::json!(["Custodian", "DocID"]));
    assert!(cd.contains(&serde_json::json!([bob, shared_rec.doc_id.to_string()])), "{cd:?}");
    assert_eq!(o.summary.totals.exported, titles.len() as u64 + 2);
    assert!(v["csv"].get("results-count.csv").is_none(), "Drive has no count file");

    // includeAccessInfo on: indirect users by role; undeterminable ones stay in Others.
    req.name = "DrvOn".into();
    req.export_options.drive_options =
        Some(ediscovery::export::request::DriveExportOptions { include_access_info: true });
    let (_, v) = export_and_read(&c, &req, TERM, c.0.store(), &tmp.path().join("on"), "drive");
    let t = tags(v["files"].as_array().unwrap(), "SH1", a);
    assert_eq!(t["Collaborators"], "carol@example.com,eng@example.com");
    assert_eq!(t["Viewers"], "bob@example.com,example.com");
    assert_eq!(t["Others"], "anyone with the link");

    // A file that cannot be read: a Drive error row with its title query, and the account in
    // incomplete-accounts.
    req.name = "DrvF".into();
    let src = FailSome { store: c.0.store(), fail: BTreeSet::from([recs[6].doc_id]) };
    let (o, v) = export_and_read(&c, &req, TERM, &src, &tmp.path().join("fail"), "drive");
    assert_eq!(o.summary.totals.failed(), 1);
    let rows = v["csv"]["error.csv"].as_array().unwrap();
    assert_eq!(rows[0][0], "Document ID");
    assert_eq!(rows[0][12], "Drive Document ID");
    assert_eq!(rows[1][0], recs[6].doc_id.to_string());
    assert_eq!(rows[1][3], "Same title.txt");
    assert_eq!(rows[1][12], "ID6");
    assert_eq!(rows[1][14], "title:\"Same title.txt\"");
    let inc = v["csv"]["incomplete-accounts.csv"].as_array().unwrap();
    assert_eq!(
        inc[..],
        [serde_json::json!(["Account", "Exported", "Failed"]), serde_json::json!([a, "8", "1"])]
    );
}

fn voice(item: &str, kind: VoiceKind, at: i64) -> VoiceMeta {
    VoiceMeta {
        item_id: item.into(),
        kind,
        started: at,
        owner_numbers: vec!["+15550100".into()],
        participant_numbers: vec!["+15550199".into()],
        texts: Vec::new(),
        duration_secs: None,
        labels: Vec::new(),
    }
}

/// One zip per account; texts, call logs and voicemails as messages whose Subject is the
/// FileName; audio and transcript attached; no count file; Voice-shaped error report.
#[test]
fn voice_items_one_zip_per_account() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Builder::new(&tmp.path().join("c"));
    let (a, bob) = ("alice@example.com", "bob@example.com");
    let mut t = voice("txt-1", VoiceKind::TextMessage, T0);
    t.texts = vec![
        VoiceText { at: T0, from: "+15550199".into(), outgoing: false, text: "lunch?".into() },
        VoiceText {
            at: T0 + 60,
            from: "+15550100".into(),
            outgoing: true,
            text: "From noon, yes".into(),
        },
    ];
    t.labels = vec!["DELETED".into()];
    b.add(a, Metadata::Voice(Box::new(t)), text("texts"), "zebra");
    let audio = vec![0xFFu8; 5000];
    let transcript = b"Hi, it's Bob, call me back.".to_vec();
    let mut vm = voice("vm-1", VoiceKind::Voicemail, T0 + H);
    vm.duration_secs = Some(31);
    b.add(
        a,
        Metadata::Voice(Box::new(vm)),
        vec![
            (PartKind::Audio, Some("vm-1.mp3"), Some("audio/mpeg"), audio.clone()),
            (PartKind::Transcript, None, Some("text/plain"), transcript.clone()),
        ],
        "zebra",
    );
    let missed = b.add(
        bob,
        Metadata::Voice(Box::new(voice("mc-1", VoiceKind::MissedCall, T0))),
        text("missed"),
        "zebra",
    );
    b.add(
        bob,
        Metadata::Voice(Box::new(voice("oc-1", VoiceKind::OutgoingCall, T0 + 5))),
        text("out"),
        "zebra",
    );
    let c = b.finish();
    let req = request("Vox", "VOICE", &[a, bob], "");
    let (o, v) = export_and_read(&c, &req, TERM, c.0.store(), &tmp.path().join("out"), "voice");
    assert_eq!(v["zips"], serde_json::json!(["Vox-1.zip", "Vox-2.zip"]));
    assert!(v["csv"].as_object().unwrap().is_empty(), "no count file: {:?}", v["csv"]);
    let docs = v["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 4, "{docs:#?}");
    for d in docs {
        assert!(d["crlf"].as_bool().unwrap());
        assert_eq!(d["subject"], d["file_name"]);
    }
    let of = |kind: &str| docs.iter().find(|d| d["tags"]["ConversationType"] == kind).unwrap();
    let vm = of("VOICEMAIL");
    let atts: Vec<(&str, &str)> = vm["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["name"].as_str().unwrap(), x["md5"].as_str().unwrap()))
        .collect();
    let (am, tm) = (Md5::of(&audio).to_hex(), Md5::of(&transcript).to_hex());
    assert_eq!(atts, [("vm-1.mp3", am.as_str()), ("transcript.txt", tm.as_str())]);
    assert_eq!(vm["tags"]["#DateFirstMessageSent"], vm["tags"]["#DateLastMessageReceived"]);
    assert_eq!(vm["tags"]["OwnerPhoneNumbers"], "+15550100");
    assert_eq!(vm["tags"]["ParticipantPhoneNumbers"], "+15550199");
    let tx = of("TEXT_MESSAGE");
    assert_eq!(tx["tags"]["Labels"], "DELETED");
    assert!(tx["body"].as_str().unwrap().contains("From noon, yes"));
    assert_eq!(tx["tags"]["#DateFirstMessageSent"], "2023-11-14T22:14:20.000Z");
    assert_eq!(tx["tags"]["#DateFirstMessageReceived"], "2023-11-14T22:13:20.000Z");
    assert_eq!(o.summary.totals.exported, 4);

    // A failed item: the Voice error report names the account and how many failed.
    let mut req = req;
    req.name = "VoxF".into();
    let src = FailSome { store: c.0.store(), fail: BTreeSet::from([missed.doc_id]) };
    let (o, v) = export_and_read(&c, &req, TERM, &src, &tmp.path().join("fail"), "voice");
    assert_eq!(o.summary.totals.failed(), 1);
    assert_eq!(
        v["csv"]["error.csv"],
        serde_json::json!([["Account", "Failed Conversation Count"], [bob, "1"]])
    );
}

/// Rewrite `file` of the export in `dir` with `edit`, and its checksum line to match, so only
/// the check under test can notice.
fn tamper(dir: &Path, name: &str, file: &str, edit: impl Fn(String) -> String) {
    let p = dir.join(file);
    let before = std::fs::read_to_string(&p).unwrap();
    let after = edit(before.clone());
    assert_ne!(before, after, "the edit changed nothing");
    std::fs::write(&p, &after).unwrap();
    let sums = dir.join(format!("{name}-checksums.md5"));
    let old = Md5::of(before.as_bytes()).to_hex();
    let new = Md5::of(after.as_bytes()).to_hex();
    let s = std::fs::read_to_string(&sums).unwrap().replace(&old, &new);
    std::fs::write(&sums, s).unwrap();
}

/// verify reads each corpus's shape: a Chat document whose HTML renders fewer messages than its
/// `MessageCount`, a Drive file whose `Hash` is wrong, and a Drive file missing from
/// custodian-docid are problems.
#[test]
fn verify_catches_tampered_chat_and_drive_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Builder::new(&tmp.path().join("c"));
    let a = "alice@example.com";
    b.add(a, Metadata::Chat(Box::new(chat("V", "v1", a, T0, None))), text("x"), TERM);
    b.add(a, Metadata::Chat(Box::new(chat("V", "v2", a, T0 + H, None))), text("y"), "y");
    b.add(a, Metadata::Drive(Box::new(drive("Doc.txt", "D1", a))), file(b"doc"), TERM);
    let c = b.finish();
    let problems = |dir: &Path| ediscovery::verify::verify(dir).unwrap().problems;

    let (o, _) = export_and_read(
        &c,
        &request("VC", "HANGOUTS_CHAT", &[a], ""),
        TERM,
        c.0.store(),
        &tmp.path().join("chat"),
        "chat",
    );
    tamper(&o.dir, "VC", "VC-metadata.xml", |s| {
        s.replace(
            "TagName='MessageCount' TagDataType='Integer' TagValue='2'",
            "TagName='MessageCount' TagDataType='Integer' TagValue='3'",
        )
    });
    let p = problems(&o.dir);
    assert!(
        p.iter().any(|p| p.contains("renders 2 data-id elements, its MessageCount is 3")),
        "{p:?}"
    );

    let (o, _) = export_and_read(
        &c,
        &request("VD", "DRIVE", &[a], ""),
        TERM,
        c.0.store(),
        &tmp.path().join("drive"),
        "drive",
    );
    let md5 = Md5::of(b"doc").to_hex();
    tamper(&o.dir, "VD", "VD-metadata.xml", |s| s.replace(&md5, &"0".repeat(32)));
    tamper(&o.dir, "VD", "VD-custodian-docid.csv", |s| {
        s.lines().take(1).map(|l| format!("{l}\r\n")).collect()
    });
    let p = problems(&o.dir);
    assert!(
        p.iter().any(|p| p.contains("Doc_D1.txt: file") && p.contains("Hash/FileSize")),
        "{p:?}"
    );
    assert!(
        p.iter().any(|p| p.contains("custodian-docid.csv: DocID") && p.contains("not listed")),
        "{p:?}"
    );
}

/// One thread and four write the same files (every zip, metadata and CSV; only the summary
/// records the thread count), for each of the three corpora.
#[test]
fn one_and_four_threads_write_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Builder::new(&tmp.path().join("c"));
    for (i, a) in ["a@example.com", "b@example.com", "c@example.com"].into_iter().enumerate() {
        for k in 0..6i64 {
            let m = chat("T", &format!("m{i}{k}"), a, T0 + k * 5 * H, None);
            b.add(a, Metadata::Chat(Box::new(m)), text(&format!("chat {k}")), TERM);
            let d = drive(&format!("File {k}.txt"), &format!("F{i}{k}"), a);
            b.add(a, Metadata::Drive(Box::new(d)), file(format!("{a} {k}").as_bytes()), TERM);
            let v = voice(&format!("v{i}{k}"), VoiceKind::IncomingCall, T0 + k);
            b.add(a, Metadata::Voice(Box::new(v)), text(&format!("call {k}")), TERM);
        }
    }
    let c = b.finish();
    for (corpus, reader) in [("HANGOUTS_CHAT", "chat"), ("DRIVE", "drive"), ("VOICE", "voice")] {
        let sums = |threads: usize| {
            let mut req = request("T", corpus, &[], "");
            req.ediscovery.threads = threads;
            req.ediscovery.split_size = 300;
            let out = tmp.path().join(format!("{reader}-{threads}"));
            let (o, _) = export_and_read(&c, &req, TERM, c.0.store(), &out, reader);
            let mut files: Vec<(String, String)> = o
                .summary
                .files
                .into_iter()
                .filter(|f| !f.name.ends_with("summary.json"))
                .map(|f| (f.name, f.md5))
                .collect();
            files.sort();
            files
        };
        let one = sums(1);
        assert!(one.iter().filter(|(n, _)| n.ends_with(".zip")).count() >= 3, "{one:?}");
        assert_eq!(one, sums(4), "{corpus}");
    }
}

/// A message the search left out as deleted (a user deleted it; a hold keeps it) is not brought
/// back as another match's context.
#[test]
fn chat_context_leaves_out_messages_the_search_hid_as_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Builder::new(&tmp.path().join("c"));
    let a = "alice@example.com";
    b.add(a, Metadata::Chat(Box::new(chat("AAAA", "A", a, T0, None))), text("first"), "first");
    let hidden_b = b.add(
        a,
        Metadata::Chat(Box::new(chat("AAAA", "B", "bob@example.com", T0 + H, None))),
        text("second"),
        "second",
    );
    let matched = b.add(
        a,
        Metadata::Chat(Box::new(chat("AAAA", "M", a, T0 + 2 * H, None))),
        text("zebra"),
        "zebra",
    );
    let (c, _) = b.finish();
    let req = request("Chat", "HANGOUTS_CHAT", &[a], "");
    let only =
        export::Retry { path: PathBuf::from("matches"), doc_ids: BTreeSet::from([matched.doc_id]) };
    let exported = |hide: bool, out: &str| -> Vec<String> {
        let mut sr = export::search_request(&req, 0).unwrap();
        if hide {
            let mut set = ediscovery::search::HeldSet::new(&c);
            set.insert_record(hidden_b.seq, hidden_b.doc_id);
            sr.deleted = Some(std::sync::Arc::new(set));
        }
        let result = c.search(&sr).unwrap();
        let plan = export::plan(&c, &req, &result, Some(&only)).unwrap();
        let o = export::run(&c, &req, &plan, c.store(), &tmp.path().join(out), &NoExportProgress)
            .unwrap();
        assert!(ediscovery::verify::verify(&o.dir).unwrap().ok());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/read_export.py");
        let py = Command::new("python3").arg(script).arg(&o.dir).arg("Chat").arg("chat").output();
        let v: Value = serde_json::from_slice(&py.unwrap().stdout).unwrap();
        v["documents"].as_array().unwrap().iter().flat_map(ids).collect()
    };
    assert_eq!(exported(false, "all"), ["A", "B", "M"]);
    assert_eq!(exported(true, "hidden"), ["A", "M"]);
}
