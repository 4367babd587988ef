//! The `ediscovery` binary: reports, exit codes, stats.

use super::common::*;

#[test]
fn ingest_reports_rejections_and_exits_3_then_stats() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = write(tmp.path(), "p.mbox", &fixture("preamble.mbox"));
    let coll = tmp.path().join("c");
    let (code, out, _) =
        cli!("ingest", "--collection", &coll, "--account", "Alice@Example.com", "--mbox", &mbox);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("seen            2"), "{out}");
    assert!(out.contains("ingested        1"), "{out}");
    assert!(out.contains("rejected: ") && out.contains("p.mbox:1 (byte 0)"), "{out}");

    let clean = write(tmp.path(), "q.mbox", &fixture("quoted-from.mbox"));
    let (code, out, _) = cli!(
        "ingest",
        "--collection",
        &coll,
        "--account",
        "bob@example.com",
        "--mbox",
        &clean,
        "--json"
    );
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ingested"], 2);
    assert_eq!(v["rejected"].as_array().map(Vec::len), Some(0));

    let (code, out, _) = cli!("stats", "--collection", &coll);
    assert_eq!(code, 0);
    assert!(out.contains("mail\talice@example.com\t1\t"), "{out}");
    assert!(out.contains("mail\tbob@example.com\t2\t"), "{out}");
    assert!(out.contains("total\t\t3\t"), "{out}");
}

#[test]
fn bad_arguments_are_pointed_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = tmp.path().join("c");
    let (code, _, err) =
        cli!("ingest", "--collection", &coll, "--account", "not an address", "--mbox", "x");
    assert_eq!(code, 1);
    assert!(err.contains("not an account address"), "{err}");
    let (code, _, err) =
        cli!("ingest", "--collection", &coll, "--account", "a@b.c", "--maildir", &tmp.path());
    assert_eq!(code, 1);
    assert!(err.contains("is not a Maildir"), "{err}");
    let (code, _, err) = cli!("stats", "--collection", &tmp.path().join("nope"));
    assert_eq!(code, 1);
    assert!(err.contains("is not a collection"), "{err}");
}

#[test]
fn search_prints_hits_counts_explain_and_points_at_bad_queries() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = write(tmp.path(), "q.mbox", &fixture("quoted-from.mbox"));
    let coll = tmp.path().join("c");
    let c = coll.as_os_str();
    let (code, ..) =
        cli!("ingest", "--collection", &c, "--account", "a@example.com", "--mbox", &mbox);
    assert_eq!(code, 0);

    let (code, out, _) = cli!("search", "--collection", &c, "subject:second");
    assert_eq!(code, 0);
    let cols: Vec<&str> = out.trim_end().split('\t').collect();
    assert_eq!(cols.len(), 5, "{out}");
    assert_eq!(&cols[1..], ["a@example.com", "quoted-2@fixture", "2023-03-06T11:00:00Z", "second"]);

    let (code, out, _) = cli!(
        "search",
        "--collection",
        &c,
        "--accounts",
        "a@example.com,b@example.com",
        "--count",
        ""
    );
    assert_eq!(code, 0);
    assert_eq!(out, "a@example.com\t2\nb@example.com\t0\ntotal\t2\n");

    let (code, out, _) = cli!(
        "search",
        "--collection",
        &c,
        "--start",
        "2023-03-06",
        "--end",
        "2023-03-06",
        "--time-zone",
        "America/New_York",
        "--explain",
        "--count",
        "quoting OR second"
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("from\t2023-03-06T05:00:00Z = 2023-03-06 00:00:00 EST (-05:00)"), "{out}");
    assert!(out.contains("until\t2023-03-07T05:00:00Z"), "{out}");
    assert!(out.ends_with("total\t2\n"), "{out}");

    let (code, out, err) = cli!("search", "--collection", &c, "from:(a OR b");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("from:(a OR b\n     ^ this '(' is never closed"), "{err}");
    let (code, _, err) = cli!("search", "--collection", &c, "title:x");
    assert_eq!(code, 1);
    assert!(err.contains("title: is not valid for corpus mail"), "{err}");
}

#[test]
fn export_exits_3_on_damaged_bytes_verify_passes_and_retry_reexports() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = write(tmp.path(), "q.mbox", &fixture("quoted-from.mbox"));
    let coll = tmp.path().join("c");
    let c = coll.as_os_str();
    let (code, ..) =
        cli!("ingest", "--collection", &c, "--account", "a@example.com", "--mbox", &mbox);
    assert_eq!(code, 0);
    let out = tmp.path().join("out");
    let (code, stdout, err) = cli!(
        "export",
        "--collection",
        &c,
        "--name",
        "Clean",
        "--out",
        &out,
        "--compression",
        "store",
        ""
    );
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("exported        2"), "{stdout}");
    let (code, stdout, _) = cli!("verify", &out.join("Clean"));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.trim_end().ends_with("OK"));
    // A dry run prints the plan and writes nothing.
    let (code, stdout, _) =
        cli!("export", "--collection", &c, "--name", "Dry", "--out", &out, "--dry-run", "");
    assert_eq!(code, 0);
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["zips"][0]["file"], "Dry-1.zip");
    assert!(!out.join("Dry").exists() && !out.join("Dry-1.zip").exists());

    // Damage the first message's bytes in the pack: a non-transient failure, exit 3.
    let pack = coll.join("packs/000000.pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(&pack, &bytes).unwrap();
    let (code, stdout, _) =
        cli!("export", "--collection", &c, "--name", "Damaged", "--out", &out, "");
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.contains("failed          0 transient, 1 non-transient"), "{stdout}");
    let errors = std::fs::read_to_string(out.join("Damaged/Damaged-error.csv")).unwrap();
    assert!(errors.contains("non-transient,\"rfc822msgid:\"\"quoted-1@fixture\"\"\""), "{errors}");
    let (code, _, _) = cli!("verify", &out.join("Damaged"));
    assert_eq!(code, 0, "an export with failures is sound when its error report says so");
    // Repair the byte, retry only what failed.
    bytes[0] ^= 0x20;
    std::fs::write(&pack, &bytes).unwrap();
    let out2 = tmp.path().join("out2");
    let (code, stdout, _) = cli!(
        "export",
        "--collection",
        &c,
        "--name",
        "Retry",
        "--out",
        &out2,
        "--retry-from",
        &out.join("Damaged/Damaged-error.csv"),
        ""
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("exported        1"), "{stdout}");
    let (code, ..) = cli!("verify", &out2.join("Retry"));
    assert_eq!(code, 0);
}
