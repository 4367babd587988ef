//! The governance layer against its rules: Vault's transition table action by action, who may
//! act where, refusals on record, and the log kept in step with the state through crashes.

use super::audit::{self, Entry};
use super::*;
use crate::model::{Corpus, OrgUnit};
use crate::query::{DataScope, Scope};
use crate::{Collection, CollectionWriter, SearchRequest};
use std::path::Path;

const ORG: &str = "Account,OrgUnit,Type,Created,Admin\n\
    admin@x.org,/,USER,2020-01-01,true\n\
    owner@x.org,/Legal,USER,2020-01-01,false\n\
    colab@x.org,/Legal,USER,2020-01-01,false\n\
    other@x.org,/Legal,USER,2020-01-01,false\n\
    ann@x.org,/Sales,USER,2021-01-01,false\n\
    team@x.org,/,GROUP,2021-01-01,false\n\
    bot@x.org,/,SERVICE_ACCOUNT,2021-01-01,false\n";

fn acct(s: &str) -> Account {
    Account::new(s).unwrap()
}

struct Fx {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    gov: Governance,
}

fn fixed_now() -> i64 {
    1_700_000_000
}

fn fx() -> Fx {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    CollectionWriter::open(&dir, 1).unwrap().finish().unwrap();
    let gov = Governance::open(&dir).unwrap().with_clock(fixed_now);
    gov.run(|tx| tx.import_org(&acct("admin@x.org"), Path::new("org.csv"), ORG.as_bytes()))
        .unwrap();
    Fx { _tmp: tmp, dir, gov }
}

impl Fx {
    /// A matter created by the admin, owned by owner@ (admin removed), colab@ collaborating.
    fn matter(&self, name: &str) -> MatterId {
        let admin = acct("admin@x.org");
        let id = self.gov.run(|tx| tx.create_matter(&admin, name, "")).unwrap().matter_id;
        self.gov
            .run(|tx| {
                tx.add_permission(&admin, &id, &acct("owner@x.org"), Role::Owner)?;
                tx.add_permission(&admin, &id, &acct("colab@x.org"), Role::Collaborator)?;
                tx.remove_permission(&admin, &id, &admin)
            })
            .unwrap();
        id
    }

    fn state_of(&self, id: &MatterId) -> MatterState {
        self.gov.run(|tx| tx.show_matter(&acct("owner@x.org"), id)).unwrap().matter.state
    }

    fn entries(&self) -> Vec<Entry> {
        audit::read(&self.dir).unwrap()
    }

    fn last(&self) -> Entry {
        self.entries().pop().unwrap()
    }

    fn coll(&self) -> Collection {
        Collection::open(&self.dir).unwrap()
    }
}

fn hold(name: &str) -> NewHold {
    NewHold::accounts(name, Corpus::Mail, vec![acct("ann@x.org")])
}

/// The matter in `state`, reached by Vault's own transitions.
fn in_state(f: &Fx, state: MatterState) -> MatterId {
    let id = f.matter("m");
    let owner = acct("owner@x.org");
    let steps: &[MatterAction] = match state {
        MatterState::Open => &[],
        MatterState::Closed => &[MatterAction::Close],
        MatterState::Deleted => &[MatterAction::Close, MatterAction::Delete],
    };
    for &s in steps {
        f.gov.run(|tx| tx.transition(&owner, &id, s)).unwrap();
    }
    assert_eq!(f.state_of(&id), state);
    id
}

#[test]
fn every_transition_of_the_table_allowed_or_refused_and_each_refusal_logged() {
    use MatterAction::{Close, Delete, Reopen, Undelete};
    use MatterState::{Closed, Deleted, Open};
    // Vault's table, written out independently of `MatterState::after`.
    let table = [
        (Open, Close, Some(Closed)),
        (Open, Reopen, None),
        (Open, Delete, None),
        (Open, Undelete, None),
        (Closed, Close, None),
        (Closed, Reopen, Some(Open)),
        (Closed, Delete, Some(Deleted)),
        (Closed, Undelete, None),
        (Deleted, Close, None),
        (Deleted, Reopen, None),
        (Deleted, Delete, None),
        (Deleted, Undelete, Some(Closed)),
    ];
    let f = fx();
    let owner = acct("owner@x.org");
    for (from, action, to) in table {
        let id = in_state(&f, from);
        let r = f.gov.run(|tx| tx.transition(&owner, &id, action));
        let e = f.last();
        match to {
            Some(to) => {
                assert_eq!(r.unwrap().state, to, "{from:?} {action:?}");
                assert_eq!(f.state_of(&id), to);
                assert_eq!(e.outcome["status"], "ok");
                assert_eq!(e.outcome["from"], from.as_str());
                assert_eq!(e.outcome["to"], to.as_str());
            }
            None => {
                let err = r.unwrap_err();
                assert_eq!(err.rule(), Some(Rule::MatterState), "{from:?} {action:?}: {err}");
                assert_eq!(f.state_of(&id), from, "a refused transition changes nothing");
                assert_eq!(e.outcome["status"], "refused");
                assert_eq!(e.outcome["rule"], "matter-state");
            }
        }
        assert_eq!(e.action, format!("matter.{}", action.name()));
        assert_eq!(e.matter.as_deref(), Some(id.0.as_str()));
    }
    // Work inside a matter only while it is open; permissions also while closed.
    for state in MatterState::ALL {
        let id = in_state(&f, state);
        let open = state == Open;
        let upd = f.gov.run(|tx| tx.update_matter(&owner, &id, Some("renamed"), None));
        assert_eq!(upd.is_ok(), open, "update in {state:?}");
        let h = f.gov.run(|tx| tx.create_hold(&owner, &id, &hold("h")));
        assert_eq!(h.is_ok(), open, "hold in {state:?}");
        let q = f.gov.run(|tx| {
            tx.save_query(&owner, &id, "q", crate::export::request::VaultQuery::default())
        });
        assert_eq!(q.is_ok(), open, "save query in {state:?}");
        let req = SearchRequest::new(
            Scope::entire_org(Corpus::Mail),
            crate::query::parse("").unwrap(),
            0,
        );
        let s = f.gov.run(|tx| tx.search(&owner, &id, &f.coll(), &req));
        assert_eq!(s.is_ok(), open, "search in {state:?}");
        let p = f
            .gov
            .run(|tx| tx.add_permission(&owner, &id, &acct("other@x.org"), Role::Collaborator));
        assert_eq!(p.is_ok(), state != Deleted, "permission in {state:?}");
        for r in [upd.err(), h.err(), q.err(), s.err(), p.err()].into_iter().flatten() {
            assert_eq!(r.rule(), Some(Rule::MatterState), "{r}");
        }
    }
}

#[test]
fn a_matter_with_holds_cannot_be_closed_until_they_are_deleted() {
    let f = fx();
    let owner = acct("owner@x.org");
    let id = f.matter("held");
    let h = f.gov.run(|tx| tx.create_hold(&owner, &id, &hold("h"))).unwrap();
    let err = f.gov.run(|tx| tx.transition(&owner, &id, MatterAction::Close)).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::HoldsBlockClose), "{err}");
    assert_eq!(f.last().outcome["rule"], "holds-block-close");
    assert_eq!(f.state_of(&id), MatterState::Open);
    f.gov.run(|tx| tx.delete_hold(&owner, &id, &h.hold_id)).unwrap();
    f.gov.run(|tx| tx.transition(&owner, &id, MatterAction::Close)).unwrap();
    assert_eq!(f.state_of(&id), MatterState::Closed);
}

#[test]
fn a_collaborator_of_one_matter_cannot_see_search_export_or_change_another() {
    let f = fx();
    let a = f.matter("A");
    let admin = acct("admin@x.org");
    let b = f.gov.run(|tx| tx.create_matter(&admin, "B", "")).unwrap().matter_id;
    let colab = acct("colab@x.org");
    let coll = f.coll();
    let req =
        SearchRequest::new(Scope::entire_org(Corpus::Mail), crate::query::parse("").unwrap(), 0);
    let export =
        crate::export::ExportRequest::from_spec("x", &crate::query::ScopeSpec::default(), "")
            .unwrap();
    let before = f.entries().len();
    let attempts: Vec<(&str, Result<(), GovernanceError>)> = vec![
        ("matter.show", f.gov.run(|tx| tx.show_matter(&colab, &b).map(drop))),
        ("search", f.gov.run(|tx| tx.search(&colab, &b, &coll, &req).map(drop))),
        ("export.start", f.gov.run(|tx| tx.start_export(&colab, &b, &coll, &export).map(drop))),
        ("matter.update", f.gov.run(|tx| tx.update_matter(&colab, &b, Some("x"), None).map(drop))),
        ("matter.close", f.gov.run(|tx| tx.transition(&colab, &b, MatterAction::Close).map(drop))),
        ("hold.create", f.gov.run(|tx| tx.create_hold(&colab, &b, &hold("h")).map(drop))),
        ("hold.list", f.gov.run(|tx| tx.holds(&colab, &b).map(drop))),
        ("query.list", f.gov.run(|tx| tx.saved_queries(&colab, &b).map(drop))),
        ("audit.list", f.gov.run(|tx| tx.audit_entries(&colab, Some(&b), &f.dir).map(drop))),
        (
            "matter.add-permission",
            f.gov.run(|tx| tx.add_permission(&colab, &b, &colab, Role::Owner).map(drop)),
        ),
    ];
    let logged = f.entries();
    assert_eq!(logged.len(), before + attempts.len(), "one entry per refusal");
    for ((action, r), e) in attempts.into_iter().zip(&logged[before..]) {
        let err = r.unwrap_err();
        assert_eq!(err.rule(), Some(Rule::MatterMembersOnly), "{action}: {err}");
        assert!(err.to_string().contains("matter-members-only"), "{err}");
        assert_eq!(e.action, action);
        assert_eq!(e.actor, "colab@x.org");
        assert_eq!(e.outcome["status"], "refused");
        assert_eq!(e.outcome["rule"], "matter-members-only");
    }
    // B is not in colab's list; A is.
    let list = f.gov.run(|tx| tx.list_matters(&colab)).unwrap();
    let ids: Vec<&MatterId> = list.iter().map(|m| &m.matter_id).collect();
    assert_eq!(ids, [&a]);
    // Inside A the collaborator works, but permissions are the owner's.
    f.gov.run(|tx| tx.search(&colab, &a, &coll, &req)).unwrap();
    let err = f
        .gov
        .run(|tx| tx.add_permission(&colab, &a, &acct("other@x.org"), Role::Collaborator))
        .unwrap_err();
    assert_eq!(err.rule(), Some(Rule::OwnerOnly));
    // Removed, colab loses A at the next action.
    f.gov.run(|tx| tx.remove_permission(&acct("owner@x.org"), &a, &colab)).unwrap();
    let err = f.gov.run(|tx| tx.search(&colab, &a, &coll, &req)).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::MatterMembersOnly));
    assert!(f.gov.run(|tx| tx.list_matters(&colab)).unwrap().is_empty());
    assert_eq!(f.last().outcome["rule"], "matter-members-only");
}

#[test]
fn actors_admins_owners_and_org_imports_are_checked_and_refusals_logged() {
    let f = fx();
    let cases: Vec<(Account, Rule)> = vec![
        (acct("nobody@x.org"), Rule::ActorInOrg),
        (acct("team@x.org"), Rule::ActorInOrg),
        (acct("ann@x.org"), Rule::AdminOnly),
    ];
    for (who, rule) in cases {
        let err = f.gov.run(|tx| tx.create_matter(&who, "m", "")).unwrap_err();
        assert_eq!(err.rule(), Some(rule), "{who}: {err}");
        let e = f.last();
        assert_eq!(
            (e.actor.as_str(), e.outcome["rule"].as_str()),
            (who.as_str(), Some(rule.code()))
        );
    }
    // A service account acts (and is refused only as a non-admin).
    let err = f.gov.run(|tx| tx.create_matter(&acct("bot@x.org"), "m", "")).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::AdminOnly));
    // Only an admin imports, and the importer stays an admin.
    let err = f
        .gov
        .run(|tx| tx.import_org(&acct("ann@x.org"), Path::new("o.csv"), ORG.as_bytes()))
        .unwrap_err();
    assert_eq!(err.rule(), Some(Rule::AdminOnly));
    let demoted =
        ORG.replace("admin@x.org,/,USER,2020-01-01,true", "admin@x.org,/,USER,2020-01-01,false");
    let err = f
        .gov
        .run(|tx| tx.import_org(&acct("admin@x.org"), Path::new("o.csv"), demoted.as_bytes()))
        .unwrap_err();
    assert_eq!(err.rule(), Some(Rule::ImporterStaysAdmin));
    // A bad file is a failure naming its line, logged, and changes nothing.
    let bad = format!("{ORG}zed@x.org,/,USER,never,false\n");
    let err = f
        .gov
        .run(|tx| tx.import_org(&acct("admin@x.org"), Path::new("o.csv"), bad.as_bytes()))
        .unwrap_err();
    assert!(err.to_string().starts_with("o.csv:9: Created"), "{err}");
    assert_eq!(f.last().outcome["status"], "failed");
    assert!(f.gov.run(|tx| Ok(tx.org().unwrap().get(&acct("zed@x.org")).is_none())).unwrap());
    // Before any import nothing works, and that is logged too.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    CollectionWriter::open(&dir, 1).unwrap().finish().unwrap();
    let g = Governance::open(&dir).unwrap();
    let err = g.run(|tx| tx.create_matter(&acct("admin@x.org"), "m", "")).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::OrgImportedFirst));
    assert_eq!(audit::read(&dir).unwrap()[0].outcome["rule"], "org-imported-first");
    // The last owner stays; the matter's permissions are for users.
    let id = f.matter("m");
    let owner = acct("owner@x.org");
    let err = f.gov.run(|tx| tx.remove_permission(&owner, &id, &owner)).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::MatterKeepsAnOwner));
    let err =
        f.gov.run(|tx| tx.add_permission(&owner, &id, &owner, Role::Collaborator)).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::MatterKeepsAnOwner));
    let err = f
        .gov
        .run(|tx| tx.add_permission(&owner, &id, &acct("team@x.org"), Role::Owner))
        .unwrap_err();
    assert_eq!(err.rule(), Some(Rule::PermissionsForUsers));
    // Deleting and undeleting are the owner's.
    let colab = acct("colab@x.org");
    f.gov.run(|tx| tx.transition(&colab, &id, MatterAction::Close)).unwrap();
    let err = f.gov.run(|tx| tx.transition(&colab, &id, MatterAction::Delete)).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::OwnerOnly));
    assert!(audit::verify(&f.dir).unwrap().ok());
}

#[test]
fn holds_check_accounts_and_options_against_their_corpus_and_report_each_account() {
    let f = fx();
    let owner = acct("owner@x.org");
    let id = f.matter("m");
    let refused = |h: NewHold, rule: Rule| {
        let err = f.gov.run(|tx| tx.create_hold(&owner, &id, &h)).unwrap_err();
        assert_eq!(err.rule(), Some(rule), "{h:?}: {err}");
    };
    refused(
        NewHold::accounts("h", Corpus::Mail, vec![acct("team@x.org")]),
        Rule::HoldAccountsFitCorpus,
    );
    refused(
        NewHold::accounts("h", Corpus::Groups, vec![acct("ann@x.org")]),
        Rule::HoldAccountsFitCorpus,
    );
    refused(
        NewHold::accounts("h", Corpus::Mail, vec![acct("ghost@x.org")]),
        Rule::HoldAccountsFitCorpus,
    );
    refused(NewHold::accounts("h", Corpus::Mail, vec![]), Rule::HoldAccountsFitCorpus);
    refused(NewHold::org_unit("h", Corpus::Groups, OrgUnit::new("/")), Rule::HoldAccountsFitCorpus);
    let mut drive_terms = NewHold::accounts("h", Corpus::Drive, vec![acct("ann@x.org")]);
    drive_terms.terms = Some("x".into());
    refused(drive_terms, Rule::HoldOptionsFitCorpus);
    let mut mail_rooms = hold("h");
    mail_rooms.include_rooms = true;
    refused(mail_rooms, Rule::HoldOptionsFitCorpus);
    let mut bad_terms = hold("h");
    bad_terms.terms = Some("(unclosed".into());
    let err = f.gov.run(|tx| tx.create_hold(&owner, &id, &bad_terms)).unwrap_err();
    assert!(matches!(err, GovernanceError::Invalid(_)), "{err}");
    assert!(f.gov.run(|tx| tx.holds(&owner, &id)).unwrap().is_empty(), "nothing was created");

    let mut voice = NewHold::accounts("v", Corpus::Voice, vec![acct("ann@x.org")]);
    voice.covered_data = vec![CoveredData::Voicemails];
    let v = f.gov.run(|tx| tx.create_hold(&owner, &id, &voice)).unwrap();
    assert_eq!(v.query, CorpusQuery::VoiceQuery { covered_data: vec![CoveredData::Voicemails] });
    let mut chat = NewHold::org_unit("c", Corpus::Chat, OrgUnit::new("/Sales"));
    chat.include_rooms = true;
    let c = f.gov.run(|tx| tx.create_hold(&owner, &id, &chat)).unwrap();
    assert_eq!(c.query, CorpusQuery::HangoutsChatQuery { include_rooms: true });
    let err = f
        .gov
        .run(|tx| tx.add_held_accounts(&owner, &id, &c.hold_id, &[acct("ann@x.org")]))
        .unwrap_err();
    assert_eq!(err.rule(), Some(Rule::HoldAccountsFitCorpus));

    let h = f.gov.run(|tx| tx.create_hold(&owner, &id, &hold("mail"))).unwrap();
    let batch = [
        acct("owner@x.org"),
        acct("ann@x.org"),
        acct("ghost@x.org"),
        acct("team@x.org"),
        acct("owner@x.org"),
    ];
    let s = f.gov.run(|tx| tx.add_held_accounts(&owner, &id, &h.hold_id, &batch)).unwrap();
    let got: Vec<HeldStatus> = s.iter().map(|s| s.status).collect();
    use HeldStatus::*;
    assert_eq!(got, [Added, AlreadyHeld, UnknownAccount, WrongType, AlreadyHeld]);
    let now = f.gov.run(|tx| tx.hold(&owner, &id, &h.hold_id)).unwrap();
    let held: Vec<&str> = now.accounts.iter().map(|a| a.account_id.as_str()).collect();
    assert_eq!(held, ["ann@x.org", "owner@x.org"]);
    let e = f.entries().into_iter().rev().find(|e| e.action == "hold.add-accounts").unwrap();
    assert_eq!(e.outcome["added"], 1);
    assert_eq!(e.outcome["statuses"][2]["status"], "UNKNOWN_ACCOUNT");
    let s = f
        .gov
        .run(|tx| {
            tx.remove_held_accounts(
                &owner,
                &id,
                &h.hold_id,
                &[acct("ann@x.org"), acct("colab@x.org")],
            )
        })
        .unwrap();
    let got: Vec<HeldStatus> = s.iter().map(|s| s.status).collect();
    assert_eq!(got, [Removed, NotHeld]);
}

#[test]
fn held_data_needs_the_held_set_and_it_follows_holds_org_units_and_matter_states() {
    // A tiny collection: ann (/Sales) and owner (/Legal), two messages each.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let mut w = CollectionWriter::open(&dir, 1).unwrap();
    for who in ["ann@x.org", "owner@x.org"] {
        let mbox = tmp.path().join(format!("{who}.mbox"));
        std::fs::write(
            &mbox,
            format!(
                "From a@x Sat Jul  1 00:00:00 2023\nMessage-ID: <1{who}>\nDate: Sat, 1 Jul 2023 10:00:00 +0000\nSubject: falcon\n\nx\n\n\
                 From a@x Mon Jul 10 00:00:00 2023\nMessage-ID: <2{who}>\nDate: Mon, 10 Jul 2023 10:00:00 +0000\nSubject: other\n\ny\n"
            ),
        )
        .unwrap();
        w.ingest(
            &crate::ingest::Source::Mbox(mbox),
            &crate::IngestOptions::new(acct(who)),
            &mut crate::NoProgress,
        )
        .unwrap();
    }
    let coll = w.finish().unwrap();
    let gov = Governance::open(&dir).unwrap();
    gov.run(|tx| tx.import_org(&acct("admin@x.org"), Path::new("org.csv"), ORG.as_bytes()))
        .unwrap();
    let admin = acct("admin@x.org");
    let id = gov.run(|tx| tx.create_matter(&admin, "m", "")).unwrap().matter_id;
    let held_req = |q: &str| {
        SearchRequest::new(
            Scope { data_scope: DataScope::Held, ..Scope::entire_org(Corpus::Mail) },
            crate::query::parse(q).unwrap(),
            0,
        )
    };
    // Without the held set the library refuses rather than search all data.
    assert!(matches!(coll.search(&held_req("")), Err(crate::Error::HeldDataWithoutHolds)));
    let subjects = |r: &crate::SearchResult| -> Vec<String> {
        coll.hit_records(&r.hits)
            .unwrap()
            .iter()
            .map(|r| format!("{} {}", r.account, r.mail().unwrap().subject.clone().unwrap()))
            .collect()
    };
    let search = || gov.run(|tx| tx.search(&admin, &id, &coll, &held_req(""))).unwrap();
    assert!(search().hits.is_empty(), "no hold, nothing held");
    let mut falcon = NewHold::org_unit("sales", Corpus::Mail, OrgUnit::new("/Sales"));
    falcon.terms = Some("subject:falcon".into());
    let h1 = gov.run(|tx| tx.create_hold(&admin, &id, &falcon)).unwrap();
    assert_eq!(subjects(&search()), ["ann@x.org falcon"]);
    let mut july10 = NewHold::accounts("legal", Corpus::Mail, vec![acct("owner@x.org")]);
    july10.start = crate::model::time::CivilDay::new(2023, 7, 5);
    july10.end = crate::model::time::CivilDay::new(2023, 7, 10);
    gov.run(|tx| tx.create_hold(&admin, &id, &july10)).unwrap();
    let r = search();
    assert_eq!(subjects(&r), ["ann@x.org falcon", "owner@x.org other"]);
    assert_eq!(r.counts.total, 2);
    // The search's own query narrows the held records further.
    let r = gov.run(|tx| tx.search(&admin, &id, &coll, &held_req("subject:other"))).unwrap();
    assert_eq!(subjects(&r), ["owner@x.org other"]);
    // owner@ moves to /Sales: the org-unit hold now keeps their falcon message too.
    let moved = ORG.replace("owner@x.org,/Legal", "owner@x.org,/Sales/West");
    gov.run(|tx| tx.import_org(&admin, Path::new("org.csv"), moved.as_bytes())).unwrap();
    assert_eq!(
        subjects(&search()),
        ["ann@x.org falcon", "owner@x.org falcon", "owner@x.org other"]
    );
    let rec = coll
        .store()
        .iter()
        .map(|r| r.unwrap())
        .find(|r| r.account.as_str() == "ann@x.org")
        .unwrap();
    assert!(gov.run(|tx| tx.is_held(&coll, &rec)).unwrap());
    // Holds of a matter that is not open keep nothing: delete them, close, and nothing is held.
    let cov = gov.run(|tx| tx.coverage(&coll)).unwrap();
    assert_eq!(cov.iter().map(|c| c.held.len()).collect::<Vec<_>>(), [2, 1]);
    gov.run(|tx| tx.delete_hold(&admin, &id, &h1.hold_id)).unwrap();
    assert_eq!(subjects(&search()), ["owner@x.org other"]);
    // A held set of another collection state is refused, never misapplied.
    let held = gov.run(|tx| tx.held_set(&coll)).unwrap();
    let mut w = CollectionWriter::open(&dir, 1).unwrap();
    w.remove(&[rec.doc_id], &mut crate::NoProgress).unwrap();
    let newer = w.finish().unwrap();
    let mut req = held_req("");
    req.held = Some(std::sync::Arc::new(held));
    assert!(matches!(newer.search(&req), Err(crate::Error::HeldSetMismatch { .. })));
}

#[test]
fn a_crash_after_the_state_commit_is_completed_and_anything_else_is_refused() {
    let f = fx();
    let admin = acct("admin@x.org");
    f.gov.run(|tx| tx.create_matter(&admin, "one", "")).unwrap();
    let log = f.dir.join("governance/audit.jsonl");
    let good = std::fs::read(&log).unwrap();
    assert!(audit::verify(&f.dir).unwrap().ok());
    // A crash while appending: the last line torn (the state holds it whole).
    std::fs::write(&log, &good[..good.len() - 10]).unwrap();
    let r = audit::verify(&f.dir).unwrap();
    assert!(!r.ok());
    assert!(r.problems.iter().any(|p| p.reason.contains("torn")), "{:?}", r.problems);
    // The next action completes it, then adds its own entry.
    f.gov.run(|tx| tx.create_matter(&admin, "two", "")).unwrap();
    let after = std::fs::read(&log).unwrap();
    assert_eq!(&after[..good.len()], &good[..]);
    let r = audit::verify(&f.dir).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!(r.entries, 3);
    // A crash before appending anything: the whole last commit's lines are missing.
    let full = std::fs::read(&log).unwrap();
    let cut = full[..full.len() - 1].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    std::fs::write(&log, &full[..cut]).unwrap();
    assert!(!audit::verify(&f.dir).unwrap().ok());
    f.gov.run(|tx| tx.list_matters(&admin)).unwrap();
    assert_eq!(std::fs::read(&log).unwrap(), full, "restored by the next transaction");
    // The last committed entry edited: refused, and nothing written.
    let mut edited = full.clone();
    let n = edited.len() - 5;
    edited[n] ^= 1;
    std::fs::write(&log, &edited).unwrap();
    let err = f.gov.run(|tx| tx.create_matter(&admin, "three", "")).unwrap_err();
    assert!(matches!(err, GovernanceError::AuditOutOfStep { .. }), "{err}");
    assert!(err.to_string().contains("audit-append-only"), "{err}");
    assert_eq!(std::fs::read(&log).unwrap(), edited);
    // Bytes appended outside a commit, or the log cut below the state's record: refused.
    std::fs::write(&log, [&full[..], b"{}\n"].concat()).unwrap();
    assert!(matches!(
        f.gov.run(|tx| tx.list_matters(&admin)),
        Err(GovernanceError::AuditOutOfStep { .. })
    ));
    std::fs::write(&log, &full[..10]).unwrap();
    assert!(matches!(
        f.gov.run(|tx| tx.list_matters(&admin)),
        Err(GovernanceError::AuditOutOfStep { .. })
    ));
    // The state removed beside a log: refused, not a fresh start.
    std::fs::write(&log, &full).unwrap();
    std::fs::remove_file(f.dir.join("governance/state.json")).unwrap();
    let err = f.gov.run(|tx| tx.list_matters(&admin)).unwrap_err();
    assert!(matches!(err, GovernanceError::Corrupt { .. }), "{err}");
}

#[test]
fn ids_are_unique_and_the_log_chains_every_entry() {
    let f = fx();
    let admin = acct("admin@x.org");
    let ids: Vec<MatterId> = (0..5)
        .map(|i| {
            f.gov.run(|tx| tx.create_matter(&admin, "same name", &i.to_string())).unwrap().matter_id
        })
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5);
    assert!(ids.iter().all(|i| i.0.len() == 36 && i.0.matches('-').count() == 4));
    let entries = f.entries();
    let bytes = std::fs::read(f.dir.join("governance/audit.jsonl")).unwrap();
    let mut prev = crate::digest::Sha256::ZERO;
    for (i, (e, line)) in entries.iter().zip(bytes.split(|&b| b == b'\n')).enumerate() {
        assert_eq!(e.seq, i as u64);
        assert_eq!(e.prev, prev);
        assert_eq!(e.time, "2023-11-14T22:13:20Z");
        prev = crate::digest::Sha256::of(line);
    }
    assert_eq!(audit::verify(&f.dir).unwrap().head, prev);
}
