//! The `ediscovery` binary: reports, exit codes, stats.

use super::common::*;
use std::process::Command;

fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ediscovery")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ingest_reports_rejections_and_exits_1_then_stats() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = write(tmp.path(), "p.mbox", &fixture("preamble.mbox"));
    let coll = tmp.path().join("c");
    let (code, out, _) = run(&[
        "ingest".as_ref(),
        "--collection".as_ref(),
        coll.as_os_str(),
        "--account".as_ref(),
        "Alice@Example.com".as_ref(),
        "--mbox".as_ref(),
        mbox.as_os_str(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("seen            2"), "{out}");
    assert!(out.contains("ingested        1"), "{out}");
    assert!(out.contains("rejected: ") && out.contains("p.mbox:1 (byte 0)"), "{out}");

    let clean = write(tmp.path(), "q.mbox", &fixture("quoted-from.mbox"));
    let (code, out, _) = run(&[
        "ingest".as_ref(),
        "--collection".as_ref(),
        coll.as_os_str(),
        "--account".as_ref(),
        "bob@example.com".as_ref(),
        "--mbox".as_ref(),
        clean.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ingested"], 2);
    assert_eq!(v["rejected"].as_array().map(Vec::len), Some(0));

    let (code, out, _) = run(&["stats".as_ref(), "--collection".as_ref(), coll.as_os_str()]);
    assert_eq!(code, 0);
    assert!(out.contains("mail\talice@example.com\t1\t"), "{out}");
    assert!(out.contains("mail\tbob@example.com\t2\t"), "{out}");
    assert!(out.contains("total\t\t3\t"), "{out}");
}

#[test]
fn bad_arguments_are_pointed_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = tmp.path().join("c");
    let (code, _, err) = run(&[
        "ingest".as_ref(),
        "--collection".as_ref(),
        coll.as_os_str(),
        "--account".as_ref(),
        "not an address".as_ref(),
        "--mbox".as_ref(),
        "x".as_ref(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("not an account address"), "{err}");
    let (code, _, err) = run(&[
        "ingest".as_ref(),
        "--collection".as_ref(),
        coll.as_os_str(),
        "--account".as_ref(),
        "a@b.c".as_ref(),
        "--maildir".as_ref(),
        tmp.path().as_os_str(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("is not a Maildir"), "{err}");
    let (code, _, err) =
        run(&["stats".as_ref(), "--collection".as_ref(), tmp.path().join("nope").as_os_str()]);
    assert_eq!(code, 1);
    assert!(err.contains("is not a collection"), "{err}");
}
