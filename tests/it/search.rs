//! Scoped search: each operator against an independent predicate over the stored metadata, the
//! scope as an unbreakable filter, exact day boundaries across DST, wildcard limits.

use super::common::*;
use ediscovery::index::compile::CompileError;
use ediscovery::ingest::Source;
use ediscovery::model::time::CivilDay;
use ediscovery::model::{Corpus, MailMeta, OrgUnit, Record};
use ediscovery::query::{Method, Scope, parse};
use ediscovery::search::search_text;
use ediscovery::{
    Collection, CollectionWriter, Error, IngestOptions, NoProgress, SearchRequest, sample,
};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// The sample organisation, ingested once for all tests here.
fn org() -> &'static Collection {
    static C: OnceLock<(tempfile::TempDir, Collection)> = OnceLock::new();
    &C.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let c = sample_org_collection(tmp.path(), 1);
        (tmp, c)
    })
    .1
}

const NOW: i64 = 1_700_000_000; // 2023-11-14T22:13:20Z

fn ids(c: &Collection, scope: Scope, q: &str) -> BTreeSet<u64> {
    let r = search_text(c, scope.clone(), q, NOW).unwrap_or_else(|e| panic!("{q}: {e}"));
    assert_eq!(r.counts.total as usize, r.hits.len());
    assert_eq!(r.counts.per_account.values().sum::<u64>(), r.counts.total);
    // Counting (per account inside the index, no hit list) gives the search's counts.
    let req = SearchRequest::new(scope, parse(q).unwrap(), NOW);
    assert_eq!(c.count(&req).unwrap(), r.counts, "{q}");
    r.hits.iter().map(|h| h.seq).collect()
}

fn mail() -> Scope {
    Scope::entire_org(Corpus::Mail)
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn has_words(hay: &str, needle: &str) -> bool {
    let h = words(hay);
    let n = words(needle);
    h.windows(n.len()).any(|w| w == n.as_slice())
}

fn addr_match(list: &[ediscovery::model::Mailbox], v: &str) -> bool {
    list.iter().any(|m| {
        m.address.eq_ignore_ascii_case(v)
            || has_words(&format!("{} {}", m.address, m.name.clone().unwrap_or_default()), v)
    })
}

/// A predicate over a stored record and its metadata.
type Pred = Box<dyn Fn(&Record, &MailMeta) -> bool>;

#[test]
fn every_mail_operator_matches_an_independent_predicate() {
    let c = org();
    let cases: Vec<(&str, Pred)> = vec![
        (
            "falcon",
            Box::new(|_, m| {
                m.subject.as_deref().is_some_and(|s| has_words(s, "falcon"))
                    || m.attachments
                        .iter()
                        .any(|a| a.name.as_deref().is_some_and(|n| has_words(n, "falcon")))
            }),
        ),
        ("from:alice", Box::new(|_, m| addr_match(&m.from, "alice"))),
        ("from:\"Carol Chen\"", Box::new(|_, m| addr_match(&m.from, "Carol Chen"))),
        ("from:dan@example.org", Box::new(|_, m| addr_match(&m.from, "dan@example.org"))),
        (
            "to:*@vendor.example.net",
            Box::new(|_, m| {
                [&m.to, &m.cc, &m.bcc]
                    .iter()
                    .any(|l| l.iter().any(|a| a.address.ends_with("@vendor.example.net")))
            }),
        ),
        (
            "to:pat@partner.example.com",
            Box::new(|_, m| {
                [&m.to, &m.cc, &m.bcc].iter().any(|l| addr_match(l, "pat@partner.example.com"))
            }),
        ),
        ("cc:sam@law.example", Box::new(|_, m| addr_match(&m.cc, "sam@law.example"))),
        ("bcc:anyone", Box::new(|_, m| addr_match(&m.bcc, "anyone"))),
        (
            "subject:forecast",
            Box::new(|_, m| m.subject.as_deref().is_some_and(|s| has_words(s, "forecast"))),
        ),
        (
            "subject:\"term sheet\"",
            Box::new(|_, m| m.subject.as_deref().is_some_and(|s| has_words(s, "term sheet"))),
        ),
        ("label:^starred", Box::new(|_, m| m.labels.iter().any(|l| l == "^STARRED"))),
        ("label:^unread", Box::new(|_, m| m.labels.iter().any(|l| l == "^UNREAD"))),
        ("label:\"Clients, key\"", Box::new(|_, m| m.labels.iter().any(|l| l == "Clients, key"))),
        (
            "label:work-projects OR label:projects",
            Box::new(|_, m| m.labels.iter().any(|l| l == "Projects")),
        ),
        ("has:attachment", Box::new(|_, m| !m.attachments.is_empty())),
        (
            "filename:pdf",
            Box::new(|_, m| {
                m.attachments.iter().any(|a| a.name.as_deref().is_some_and(|n| n.ends_with(".pdf")))
            }),
        ),
        (
            "rfc822msgid:<sample-7@example.org>",
            Box::new(|_, m| m.message_id.as_deref() == Some("sample-7@example.org")),
        ),
        (
            "rfc822msgid:SAMPLE-7@example.org",
            Box::new(|_, m| m.message_id.as_deref() == Some("sample-7@example.org")),
        ),
        ("in:drafts", Box::new(|_, m| m.is_draft)),
        ("is:starred", Box::new(|_, m| m.labels.iter().any(|l| l == "^STARRED"))),
        ("is:read", Box::new(|_, m| !m.labels.iter().any(|l| l == "^UNREAD"))),
        ("larger:1000", Box::new(|r, _| r.blob().size > 1000)),
        ("smaller:900", Box::new(|r, _| r.blob().size < 900)),
        ("larger:1K", Box::new(|r, _| r.blob().size > 1024)),
        ("-has:attachment", Box::new(|_, m| m.attachments.is_empty())),
        (
            "has:attachment -filename:pdf",
            Box::new(|_, m| {
                !m.attachments.is_empty()
                    && !m
                        .attachments
                        .iter()
                        .any(|a| a.name.as_deref().is_some_and(|n| n.ends_with(".pdf")))
            }),
        ),
        (
            "from:(alice OR bob)",
            Box::new(|_, m| addr_match(&m.from, "alice") || addr_match(&m.from, "bob")),
        ),
        (
            "budget OR forecast",
            Box::new(|_, m| {
                m.subject
                    .as_deref()
                    .is_some_and(|s| has_words(s, "budget") || has_words(s, "forecast"))
            }),
        ),
        ("forec*", Box::new(|_, m| m.subject.as_deref().is_some_and(|s| has_words(s, "forecast")))),
        ("in:anywhere", Box::new(|_, _| true)),
        ("", Box::new(|_, _| true)),
    ];
    let mut sizes = Vec::new();
    for (q, pred) in cases {
        let got = ids(c, mail(), q);
        let want: BTreeSet<u64> = c
            .store()
            .records()
            .iter()
            .filter(|r| r.corpus == Corpus::Mail)
            .filter(|r| pred(r, r.mail().unwrap()))
            .map(|r| r.seq)
            .collect();
        // Free words also search bodies, which the metadata predicate cannot see: for those
        // queries the predicate is a lower bound and the body is checked by hand below.
        if q == "falcon" || q == "budget OR forecast" || q == "forec*" {
            assert!(
                got.is_superset(&want),
                "{q}: missing {:?}",
                want.difference(&got).collect::<Vec<_>>()
            );
            for seq in got.difference(&want) {
                let r = c.store().by_seq(*seq).unwrap();
                let body = String::from_utf8_lossy(c.store().bytes(&r).unwrap()).to_lowercase();
                let needle = q.split([' ', '*']).next().unwrap();
                assert!(body.contains(needle), "{q}: {seq} has no {needle}");
            }
        } else {
            assert_eq!(got, want, "{q}");
        }
        assert!(!q.is_empty() || got.len() == 300, "the empty query is everything in scope");
        sizes.push((q, got.len()));
    }
    eprintln!("hits per query: {sizes:?}");
    // Only these may be empty or everything; anything else would make its case prove nothing.
    for (q, n) in &sizes {
        let trivial = *n == 0 || *n == 300;
        assert_eq!(trivial, ["bcc:anyone", "in:anywhere", ""].contains(q), "{q}: {n} hits");
    }
}

#[test]
fn the_scope_cannot_be_widened_by_any_query() {
    let c = org();
    let alice = Scope::accounts(Corpus::Mail, vec![account("alice@example.org")]);
    let all_alice = ids(c, alice.clone(), "");
    assert_eq!(all_alice.len(), 40);
    for hostile in [
        "from:bob",
        "OR_not_an_operator bob",
        "from:bob OR -from:bob",
        "in:anywhere",
        "label:^inbox OR -label:^inbox",
        "-alice",
        "account:bob@example.org",
        "corpus:groups",
        "(a OR -a) OR (b OR -b)",
        "-(-(-x))",
        "before:2100/01/01 OR after:1970/01/01",
        "rfc822msgid:sample-300@example.org",
    ] {
        let got = ids(c, alice.clone(), hostile);
        assert!(got.is_subset(&all_alice), "{hostile} escaped the scope");
        let r = search_text(c, alice.clone(), hostile, NOW).unwrap();
        assert_eq!(r.counts.queried_accounts, 1, "{hostile}");
        assert!(
            r.hits
                .iter()
                .all(|h| h.account.as_str() == "alice@example.org" && h.corpus == Corpus::Mail)
        );
    }
    // The group's mail is another corpus: invisible from mail even to `in:anywhere`.
    let org_mail = ids(c, mail(), "in:anywhere");
    assert_eq!(org_mail.len(), 300);
    assert_eq!(ids(c, Scope::entire_org(Corpus::Groups), "in:anywhere").len(), 30);
    // Drafts stay out when excluded, whatever the query asks for.
    let no_drafts = Scope { exclude_drafts: true, ..mail() };
    assert!(ids(c, no_drafts.clone(), "in:drafts").is_empty());
    assert_eq!(ids(c, no_drafts, "").len() + ids(c, mail(), "in:drafts").len(), 300);
}

#[test]
fn org_unit_scope_covers_the_unit_and_below() {
    let c = org();
    let sales = Scope { method: Method::OrgUnit(OrgUnit::new("/Sales")), ..mail() };
    let r = search_text(c, sales, "", NOW).unwrap();
    let accounts: Vec<&str> = r.counts.per_account.keys().map(|a| a.as_str()).collect();
    assert_eq!(accounts, ["bob@example.org", "carol@example.org"]);
    assert_eq!(r.counts.total, 50 + 60);
    assert_eq!((r.counts.queried_accounts, r.counts.matching_accounts), (2, 2));
}

#[test]
fn counts_have_vaults_shape_with_zero_rows() {
    let c = org();
    let scope = Scope::accounts(
        Corpus::Mail,
        vec![account("alice@example.org"), account("nobody@example.org")],
    );
    let r = search_text(c, scope, "falcon", NOW).unwrap();
    assert_eq!(r.counts.queried_accounts, 2);
    assert_eq!(r.counts.matching_accounts, 1);
    assert_eq!(r.counts.per_account[&account("nobody@example.org")], 0);
    assert_eq!(r.counts.per_account[&account("alice@example.org")], r.counts.total);
    // Deterministic order: by account, then date.
    let dates: Vec<i64> = r.hits.iter().map(|h| h.date.unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn operators_of_other_corpora_and_broad_wildcards_are_refused() {
    let c = org();
    for q in ["title:plan", "owner:alice", "type:pdf", "sharedwith:bob", "phone:123"] {
        match search_text(c, mail(), q, NOW) {
            Err(Error::Search(CompileError::NotValidForCorpus { corpus: Corpus::Mail, op })) => {
                assert!(q.starts_with(&op), "{q} → {op}");
            }
            other => panic!("{q}: {:?}", other.map(|r| r.counts)),
        }
    }
    let e = search_text(c, mail(), "title", NOW);
    assert!(e.is_ok(), "a bare word named like an operator is a word");
}

/// A collection of hand-placed messages: (message-id, RFC 2822 date, body).
fn timeline(msgs: &[(&str, &str, &str)]) -> (tempfile::TempDir, Collection) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("eml");
    for (i, (id, date, body)) in msgs.iter().enumerate() {
        write(
            &src,
            &format!("{i:03}.eml"),
            format!(
                "Message-ID: <{id}>\nFrom: t@example.com\nSubject: {id}\nDate: {date}\n\n{body}\n"
            )
            .as_bytes(),
        );
    }
    let (c, _) =
        ingest_into(&tmp.path().join("c"), Source::Eml(src), "t@example.com", Corpus::Mail);
    (tmp, c)
}

fn names(c: &Collection, scope: Scope, q: &str) -> Vec<String> {
    let r = search_text(c, scope, q, NOW).unwrap_or_else(|e| panic!("{q}: {e}"));
    let mut v: Vec<String> = c
        .hit_records(&r.hits)
        .unwrap()
        .iter()
        .map(|h| h.mail().unwrap().message_id.clone().unwrap())
        .collect();
    v.sort();
    v
}

fn day(y: i16, m: i8, d: i8) -> Option<CivilDay> {
    CivilDay::new(y, m, d)
}

#[test]
fn day_boundaries_are_exact_in_the_scope_time_zone_across_dst() {
    let (_t, c) = timeline(&[
        // New York, spring forward on 2023-03-12 (EST -05:00 → EDT -04:00).
        ("ny-before@x", "Sun, 12 Mar 2023 04:59:59 +0000", "x"), // 23:59:59 EST on the 11th
        ("ny-first@x", "Sun, 12 Mar 2023 05:00:00 +0000", "x"),  // 00:00:00 EST on the 12th
        ("ny-last@x", "Mon, 13 Mar 2023 03:59:59 +0000", "x"),   // 23:59:59 EDT on the 12th
        ("ny-after@x", "Mon, 13 Mar 2023 04:00:00 +0000", "x"),  // 00:00:00 EDT on the 13th
        ("ny-rounded@x", "Sun, 12 Mar 2023 04:45:00 +0000", "x"), // 23:45 EST on the 11th
        // Amsterdam, fall back on 2023-10-29 (CEST +02:00 → CET +01:00): a 25-hour day.
        ("ams-before@x", "Sat, 28 Oct 2023 21:59:59 +0000", "x"),
        ("ams-first@x", "Sat, 28 Oct 2023 22:00:00 +0000", "x"),
        ("ams-last@x", "Sun, 29 Oct 2023 22:59:59 +0000", "x"),
        ("ams-after@x", "Sun, 29 Oct 2023 23:00:00 +0000", "x"),
    ]);
    let ny = Scope {
        start: day(2023, 3, 12),
        end: day(2023, 3, 12),
        time_zone: "America/New_York".into(),
        ..mail()
    };
    assert_eq!(names(&c, ny.clone(), ""), ["ny-first@x", "ny-last@x"]);
    assert_eq!(names(&c, ny.clone(), "").len(), 2);
    // Vault's rounding widens each side by 30 minutes for mail.
    let rounded = Scope { vault_rounding: true, ..ny.clone() };
    assert_eq!(
        names(&c, rounded, ""),
        ["ny-after@x", "ny-before@x", "ny-first@x", "ny-last@x", "ny-rounded@x"]
    );
    // after: inclusive at 00:00, before: exclusive at 00:00, in the scope's zone.
    let ny_all = Scope { time_zone: "America/New_York".into(), ..mail() };
    assert_eq!(
        names(&c, ny_all.clone(), "after:2023/03/12 before:2023-03-13 ny"),
        ["ny-first@x", "ny-last@x"]
    );
    let ams = Scope {
        start: day(2023, 10, 29),
        end: day(2023, 10, 29),
        time_zone: "Europe/Amsterdam".into(),
        ..mail()
    };
    assert_eq!(names(&c, ams, ""), ["ams-first@x", "ams-last@x"]);
    let ams_all = Scope { time_zone: "Europe/Amsterdam".into(), ..mail() };
    assert_eq!(
        names(&c, ams_all, "after:2023/10/29 before:2023/10/30"),
        ["ams-first@x", "ams-last@x"]
    );
    // Epoch seconds are absolute.
    assert_eq!(names(&c, mail(), "after:1678597200 before:1678597201"), ["ny-first@x"]);
    // Relative dates against the injected clock (NOW = 2023-11-14T22:13:20Z).
    assert_eq!(
        names(&c, mail(), "newer_than:30d"),
        ["ams-after@x", "ams-before@x", "ams-first@x", "ams-last@x"]
    );
    assert_eq!(names(&c, mail(), "older_than:6m").len(), 5);
    // Scope errors are pointed.
    let bad = Scope { time_zone: "Mars/Olympus".into(), ..mail() };
    assert!(search_text(&c, bad, "", NOW).unwrap_err().to_string().contains("unknown time zone"));
    let empty = Scope { start: day(2023, 3, 13), end: day(2023, 3, 12), ..mail() };
    assert!(search_text(&c, empty, "", NOW).unwrap_err().to_string().contains("empty"));
}

#[test]
fn wildcards_expand_up_to_one_hundred_words() {
    let body: String = (0..150).map(|i| format!("zq{i:03} ")).collect();
    let (_t, c) = timeline(&[
        ("w@x", "Mon, 6 Mar 2023 10:00:00 +0000", &body),
        ("v@x", "Mon, 6 Mar 2023 10:00:00 +0000", "zq000 only"),
    ]);
    assert_eq!(names(&c, mail(), "zq00*"), ["v@x", "w@x"]);
    assert_eq!(names(&c, mail(), "zq14*"), ["w@x"]);
    match search_text(&c, mail(), "zq*", NOW) {
        Err(Error::Search(CompileError::WildcardTooBroad { limit: 100, pattern })) => {
            assert_eq!(pattern, "zq*")
        }
        other => panic!("{:?}", other.map(|r| r.counts)),
    }
}

#[test]
fn message_ids_with_domain_literals_and_angle_brackets() {
    let (_t, c) = timeline(&[
        ("odd.id@[192.168.0.1]", "Mon, 6 Mar 2023 10:00:00 +0000", "x"),
        ("plain@x", "Mon, 6 Mar 2023 10:00:00 +0000", "x"),
    ]);
    assert_eq!(names(&c, mail(), "rfc822msgid:<odd.id@[192.168.0.1]>"), ["odd.id@[192.168.0.1]"]);
    assert_eq!(names(&c, mail(), "rfc822msgid:odd.id@[192.168.0.1]"), ["odd.id@[192.168.0.1]"]);
    assert_eq!(names(&c, mail(), "rfc822msgid:\"<plain@x>\""), ["plain@x"]);
}

#[test]
fn a_request_value_runs_like_text() {
    let c = org();
    let req = SearchRequest::new(mail(), parse("has:attachment").unwrap(), NOW);
    assert_eq!(c.search(&req).unwrap().counts.total, ids(c, mail(), "has:attachment").len() as u64);
}

/// The sample organisation split over three collections (each source to collection `i % 3`, so
/// accounts with several sources span collections) searches as one: the same hits in the same
/// order (by DocID, account and date), the same counts, each hit naming its collection.
#[test]
fn several_collections_search_as_one() {
    let tmp = tempfile::tempdir().unwrap();
    let sample_org = sample::generate(&tmp.path().join("src"), 1).unwrap();
    let mut writers: Vec<CollectionWriter> = (0..3)
        .map(|i| CollectionWriter::open(&tmp.path().join(format!("c{i}")), 1).unwrap())
        .collect();
    for (i, s) in sample_org.sources.iter().enumerate() {
        let mut o = IngestOptions::new(s.account.clone());
        o.corpus = s.corpus;
        o.org_unit = s.org_unit.clone();
        writers[i % 3].ingest(&s.source, &o, &mut NoProgress).unwrap();
    }
    let parts: Vec<Collection> = writers.into_iter().map(|w| w.finish().unwrap()).collect();
    let refs: Vec<&Collection> = parts.iter().collect();
    let one = org();
    for (scope, q) in [
        (mail(), ""),
        (mail(), "falcon OR \"term sheet\""),
        (Scope { method: Method::OrgUnit(OrgUnit::new("/Sales")), ..mail() }, "-has:attachment"),
        (Scope::entire_org(Corpus::Groups), ""),
    ] {
        let req = SearchRequest::new(scope.clone(), parse(q).unwrap(), NOW);
        let whole = one.search(&req).unwrap();
        let merged = ediscovery::search::search_many(&refs, &req).unwrap();
        assert_eq!(merged.counts, whole.counts, "{q}");
        let key = |h: &ediscovery::search::Hit| (h.doc_id, h.account.clone(), h.date);
        assert_eq!(
            merged.hits.iter().map(key).collect::<Vec<_>>(),
            whole.hits.iter().map(key).collect::<Vec<_>>(),
            "{q}"
        );
        for h in &merged.hits {
            let r = parts[h.collection as usize].record(h).unwrap().unwrap();
            assert_eq!(r.doc_id, h.doc_id);
        }
        assert!(merged.hits.iter().any(|h| h.collection == 2) || merged.hits.len() < 3);
    }
}

/// Issue 10: an export finds an account's records again by `account_records`, sorted by a
/// narrow key of its own; they must come in exactly the order of the search's hits (undated
/// last, then by date, then by seq), before 1970 and at equal dates included.
#[test]
fn account_records_come_in_the_order_of_the_hits() {
    let (_t, c) = timeline(&[
        ("late@x", "Mon, 6 Mar 2023 10:00:00 +0000", "a"),
        ("undated1@x", "not a date at all", "b"),
        ("y1901@x", "Tue, 1 Jan 1901 00:00:00 +0000", "c"),
        ("eve1969@x", "Wed, 31 Dec 1969 23:59:59 +0000", "d"),
        ("epoch@x", "Thu, 1 Jan 1970 00:00:00 +0000", "e"),
        ("late_twin@x", "Mon, 6 Mar 2023 10:00:00 +0000", "f"),
        ("undated2@x", "", "g"),
        ("y1901_twin@x", "Tue, 1 Jan 1901 00:00:00 +0000", "h"),
    ]);
    let req = SearchRequest::new(mail(), parse("").unwrap(), NOW);
    let result = c.search(&req).unwrap();
    let account = ediscovery::model::Account::new("t@example.com").unwrap();
    let from_hits: Vec<u64> =
        result.hits.iter().filter(|h| h.account == account).map(|h| h.seq).collect();
    assert_eq!(from_hits.len(), 8);
    let dates: Vec<Option<i64>> = result.hits.iter().map(|h| h.date).collect();
    assert!(dates.iter().filter(|d| d.is_none()).count() >= 1, "some undated: {dates:?}");
    assert!(dates.iter().any(|d| d.is_some_and(|d| d < 0)), "some before 1970: {dates:?}");
    assert_eq!(c.account_records(&req, &account).unwrap(), from_hits);
}
