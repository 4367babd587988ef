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

#[test]
fn search_prints_hits_counts_explain_and_points_at_bad_queries() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = write(tmp.path(), "q.mbox", &fixture("quoted-from.mbox"));
    let coll = tmp.path().join("c");
    let c = coll.as_os_str();
    let (code, ..) = run(&[
        "ingest".as_ref(),
        "--collection".as_ref(),
        c,
        "--account".as_ref(),
        "a@example.com".as_ref(),
        "--mbox".as_ref(),
        mbox.as_os_str(),
    ]);
    assert_eq!(code, 0);

    let (code, out, _) =
        run(&["search".as_ref(), "--collection".as_ref(), c, "subject:second".as_ref()]);
    assert_eq!(code, 0);
    let cols: Vec<&str> = out.trim_end().split('\t').collect();
    assert_eq!(cols.len(), 5, "{out}");
    assert_eq!(&cols[1..], ["a@example.com", "quoted-2@fixture", "2023-03-06T11:00:00Z", "second"]);

    let (code, out, _) = run(&[
        "search".as_ref(),
        "--collection".as_ref(),
        c,
        "--accounts".as_ref(),
        "a@example.com,b@example.com".as_ref(),
        "--count".as_ref(),
        "".as_ref(),
    ]);
    assert_eq!(code, 0);
    assert_eq!(out, "a@example.com\t2\nb@example.com\t0\ntotal\t2\n");

    let (code, out, _) = run(&[
        "search".as_ref(),
        "--collection".as_ref(),
        c,
        "--start".as_ref(),
        "2023-03-06".as_ref(),
        "--end".as_ref(),
        "2023-03-06".as_ref(),
        "--time-zone".as_ref(),
        "America/New_York".as_ref(),
        "--explain".as_ref(),
        "--count".as_ref(),
        "quoting OR second".as_ref(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("from\t2023-03-06T05:00:00Z = 2023-03-06 00:00:00 EST (-05:00)"), "{out}");
    assert!(out.contains("until\t2023-03-07T05:00:00Z"), "{out}");
    assert!(out.ends_with("total\t2\n"), "{out}");

    let (code, out, err) =
        run(&["search".as_ref(), "--collection".as_ref(), c, "from:(a OR b".as_ref()]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("from:(a OR b\n     ^ this '(' is never closed"), "{err}");
    let (code, _, err) = run(&["search".as_ref(), "--collection".as_ref(), c, "title:x".as_ref()]);
    assert_eq!(code, 1);
    assert!(err.contains("title: is not valid for corpus mail"), "{err}");
}

#[test]
fn export_exits_2_on_damaged_bytes_verify_passes_and_retry_reexports() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = write(tmp.path(), "q.mbox", &fixture("quoted-from.mbox"));
    let coll = tmp.path().join("c");
    let c = coll.as_os_str();
    let (code, ..) = run(&[
        "ingest".as_ref(),
        "--collection".as_ref(),
        c,
        "--account".as_ref(),
        "a@example.com".as_ref(),
        "--mbox".as_ref(),
        mbox.as_os_str(),
    ]);
    assert_eq!(code, 0);
    let out = tmp.path().join("out");
    let (code, stdout, err) = run(&[
        "export".as_ref(),
        "--collection".as_ref(),
        c,
        "--name".as_ref(),
        "Clean".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--compression".as_ref(),
        "store".as_ref(),
        "".as_ref(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("exported        2"), "{stdout}");
    let (code, stdout, _) = run(&["verify".as_ref(), out.as_os_str()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.trim_end().ends_with("OK"));
    // A dry run prints the plan and writes nothing.
    let (code, stdout, _) = run(&[
        "export".as_ref(),
        "--collection".as_ref(),
        c,
        "--name".as_ref(),
        "Dry".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--dry-run".as_ref(),
        "".as_ref(),
    ]);
    assert_eq!(code, 0);
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["zips"][0]["file"], "Dry-1.zip");
    assert!(!out.join("Dry-1.zip").exists());

    // Damage the first message's bytes in the pack: a non-transient failure, exit 2.
    let pack = coll.join("packs/000000.pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(&pack, &bytes).unwrap();
    let (code, stdout, _) = run(&[
        "export".as_ref(),
        "--collection".as_ref(),
        c,
        "--name".as_ref(),
        "Damaged".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "".as_ref(),
    ]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("failed          0 transient, 1 non-transient"), "{stdout}");
    let errors = std::fs::read_to_string(out.join("Damaged-error.csv")).unwrap();
    assert!(errors.contains("non-transient,rfc822msgid:quoted-1@fixture"), "{errors}");
    let (code, _, _) = run(&["verify".as_ref(), out.as_os_str()]);
    assert_eq!(code, 1, "two exports in one folder: verify wants one checksum file");
    // Repair the byte, retry only what failed.
    bytes[0] ^= 0x20;
    std::fs::write(&pack, &bytes).unwrap();
    let out2 = tmp.path().join("out2");
    let (code, stdout, _) = run(&[
        "export".as_ref(),
        "--collection".as_ref(),
        c,
        "--name".as_ref(),
        "Retry".as_ref(),
        "--out".as_ref(),
        out2.as_os_str(),
        "--retry-from".as_ref(),
        out.join("Damaged-error.csv").as_os_str(),
        "".as_ref(),
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("exported        1"), "{stdout}");
    let (code, ..) = run(&["verify".as_ref(), out2.as_os_str()]);
    assert_eq!(code, 0);
}
