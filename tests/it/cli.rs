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

/// An mbox of `n` messages, one a day from `day` (UTC, 10:00), subjects `s0`, `s1`, ….
fn mbox_of(n: usize, day: u32) -> String {
    let mut s = String::new();
    for i in 0..n {
        let d = day as usize + i % 20;
        s.push_str(&format!(
            "From x@y Mon Mar {d:2} 10:00:00 2023\nMessage-ID: <m{i}-{day}@cli>\nFrom: a@example.com\n\
             Subject: s{i}\nDate: {d} Mar 2023 10:00:00 +0000\n\nbody {i}\n\n"
        ));
    }
    s
}

/// A collection with alice (/Legal, 3 messages from 1 March) and bob (/Sales, 4 from 5 March).
fn two_units(dir: &std::path::Path) -> std::path::PathBuf {
    let coll = dir.join("c");
    for (acct, ou, n, day) in
        [("alice@example.com", "/Legal", 3, 1), ("bob@example.com", "/Sales/EMEA", 4, 5)]
    {
        let mbox = write(dir, &format!("{acct}.mbox"), mbox_of(n, day).as_bytes());
        let (code, out, err) = cli!(
            "ingest",
            "--collection",
            &coll,
            "--account",
            acct,
            "--org-unit",
            ou,
            "--mbox",
            &mbox
        );
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains(&format!("ingested        {n}")), "{out}");
    }
    coll
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn keys(v: &serde_json::Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn search_and_export_read_the_scope_flags_the_same_way() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = two_units(tmp.path());
    let c = coll.as_os_str();
    let out = tmp.path().join("out");
    type Counts<'a> = &'a [(&'a str, u64)];
    let cases: &[(&[&str], Counts)] = &[
        (&[], &[("alice@example.com", 3), ("bob@example.com", 4)]),
        (&["--entire-org"], &[("alice@example.com", 3), ("bob@example.com", 4)]),
        (
            &["--accounts", "Bob@Example.com,carol@example.com"],
            &[("bob@example.com", 4), ("carol@example.com", 0)],
        ),
        (&["--org-unit", "Sales"], &[("bob@example.com", 4)]),
        (&["--org-unit", "/Legal/"], &[("alice@example.com", 3)]),
        // 2–5 March in New York: alice's 2nd and 3rd, bob's 1st (5 March 10:00 UTC).
        (
            &["--start", "2023/03/02", "--end", "2023-03-05", "--time-zone", "America/New_York"],
            &[("alice@example.com", 2), ("bob@example.com", 1)],
        ),
    ];
    for (flags, want) in cases {
        let mut args: Vec<&std::ffi::OsStr> = vec!["search".as_ref(), "--collection".as_ref()];
        args.push(c);
        args.extend(flags.iter().map(std::ffi::OsStr::new));
        args.extend(["--count", "--json", ""].map(std::ffi::OsStr::new));
        let (code, stdout, err) = run_cli(&args);
        assert_eq!(code, 0, "{flags:?}: {err}");
        let counts = &json(&stdout)["counts"]["per_account"];
        let got: Vec<(&str, u64)> = counts
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, n)| n.as_u64() != Some(0) || flags.contains(&"--accounts"))
            .map(|(a, n)| (a.as_str(), n.as_u64().unwrap()))
            .collect();
        assert_eq!(&got, want, "search {flags:?}");

        let mut args: Vec<&std::ffi::OsStr> = vec!["export".as_ref(), "--collection".as_ref()];
        args.push(c);
        args.extend(["--name", "D", "--out"].map(std::ffi::OsStr::new));
        args.push(out.as_os_str());
        args.extend(flags.iter().map(std::ffi::OsStr::new));
        args.extend(["--dry-run", ""].map(std::ffi::OsStr::new));
        let (code, stdout, err) = run_cli(&args);
        assert_eq!(code, 0, "{flags:?}: {err}");
        assert_eq!(&json(&stdout)["in_scope"], counts, "export {flags:?} finds what search finds");
    }
    // Scope errors name the flag, the same for both commands, on stderr, exit 1.
    for (flags, msg) in [
        (["--start", "2023-02-30"], "ediscovery: --start 2023-02-30: not a day"),
        (["--time-zone", "Mars/Base"], "ediscovery: --time-zone Mars/Base: not an IANA time zone"),
        (["--corpus", "mial"], "ediscovery: --corpus mial: use mail, groups"),
        (["--accounts", "not-an-address"], "ediscovery: --accounts not-an-address: not an account"),
    ] {
        for cmd in ["search", "export"] {
            let (code, stdout, err) = cli!(
                cmd,
                "--collection",
                &c,
                "--name",
                "E",
                "--out",
                &out,
                flags[0],
                flags[1],
                "--json",
                ""
            );
            let (code, stdout, err) = if cmd == "search" {
                // search has no --name/--out: a usage error; ask again without them.
                assert_eq!(code, 2, "{err}");
                cli!(cmd, "--collection", &c, flags[0], flags[1], "--json", "")
            } else {
                (code, stdout, err)
            };
            assert_eq!((code, stdout.as_str()), (1, ""), "{cmd} {flags:?}: {err}");
            assert!(err.starts_with(msg), "{cmd} {flags:?}: {err}");
        }
    }
    // Chat exports (issue 11): a collection without chat records exports nothing, cleanly.
    let (code, _, err) =
        cli!("export", "--collection", &c, "--name", "X", "--out", &out, "--corpus", "chat", "");
    assert_eq!(code, 0, "{err}");
    assert!(!out.join("D").exists() && !out.join("E").exists());
}

#[test]
fn every_command_has_json_with_a_stable_shape_and_errors_stay_text() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = tmp.path().join("c");
    let c = coll.as_os_str();
    let mbox = write(tmp.path(), "a.mbox", mbox_of(3, 1).as_bytes());
    let (code, out, _) =
        cli!("ingest", "--collection", &c, "--account", "a@example.com", "--mbox", &mbox, "--json");
    assert_eq!(code, 0);
    assert_eq!(
        keys(&json(&out)),
        [
            "already_present",
            "bytes",
            "defects",
            "ingested",
            "new_blobs",
            "notices",
            "rejected",
            "seen",
            "source"
        ]
    );
    let members = write(
        tmp.path(),
        "m.csv",
        b"Member,Group,JoinTime,Role,Type\nb@example.com,g@example.com,,MEMBER,USER\n",
    );
    let (code, out, err) = cli!(
        "ingest",
        "--collection",
        &c,
        "--account",
        "g@example.com",
        "--corpus",
        "groups",
        "--members",
        &members,
        "--json"
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(&out),
        serde_json::json!({"members": {"group": "g@example.com", "recorded": 1}})
    );

    let (code, out, _) = cli!("search", "--collection", &c, "--json", "s1");
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(keys(&v), ["counts", "hits", "warnings"]);
    assert_eq!(
        keys(&v["hits"][0]),
        ["account", "corpus", "date_sent", "doc_id", "rfc822_message_id", "subject"]
    );
    assert_eq!(v["hits"][0]["subject"], "s1");
    // --explain goes into the JSON, not in front of it.
    let (code, out, _) = cli!(
        "search",
        "--collection",
        &c,
        "--json",
        "--count",
        "--explain",
        "--start",
        "2023-03-02",
        "s1"
    );
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    assert_eq!(keys(&v), ["counts", "explain", "warnings"]);
    assert_eq!(keys(&v["explain"]), ["from", "query", "tree", "until"]);
    assert_eq!(v["explain"]["from"], "2023-03-02T00:00:00Z = 2023-03-02 00:00:00 UTC (+00:00)");
    assert_eq!(v["explain"]["until"], "unbounded");

    let out_dir = tmp.path().join("out");
    let (code, out, err) =
        cli!("export", "--collection", &c, "--name", "J", "--out", &out_dir, "--json", "");
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(keys(&v), ["dir", "summary"]);
    assert_eq!(v["dir"], out_dir.join("J").to_str().unwrap());
    assert_eq!(v["summary"]["totals"]["exported"], 3);
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("J/J-summary.json")).unwrap()).unwrap();
    assert_eq!(v["summary"], written, "the summary as written");

    let (code, out, _) = cli!("verify", &out_dir.join("J"), "--json");
    assert_eq!(code, 0);
    assert_eq!(json(&out)["name"], "J");
    let (code, out, _) = cli!("stats", "--collection", &c, "--json");
    assert_eq!(code, 0);
    assert_eq!(keys(&json(&out)), ["accounts", "blob_bytes", "blobs", "bytes", "index", "records"]);
    let (code, out, _) = cli!("reindex", "--collection", &c, "--json");
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(keys(&v), ["records", "seconds"]);
    assert_eq!(v["records"], 3);
    let (code, out, _) = cli!("reindex", "--collection", &c);
    assert_eq!(code, 0);
    assert!(out.starts_with("reindexed 3 records in "), "{out}");

    // Errors stay `ediscovery: …` text on stderr, stdout empty, the same exit codes.
    let (code, out, err) = cli!("search", "--collection", &c, "--json", "from:(a");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.starts_with("ediscovery: bad query\nfrom:(a\n"), "{err}");
    for args in [
        &["stats", "--json", "--collection"][..],
        &["reindex", "--json", "--collection"],
        &["verify", "--json"],
    ] {
        let mut a: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        let nope = tmp.path().join("nope");
        a.push(nope.as_os_str());
        let (code, out, err) = run_cli(&a);
        assert_eq!((code, out.as_str()), (1, ""), "{args:?}");
        assert!(err.starts_with("ediscovery: "), "{args:?}: {err}");
    }
    let (code, out, err) = cli!("search", "--json", "--collection", &c, "--", "--oops");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("looks like a flag"), "{err}");
}

#[test]
fn help_says_each_commands_exit_codes() {
    let (code, out, _) = cli!("--help");
    assert_eq!(code, 0);
    for line in ["0  done", "1  error", "2  usage", "3  partial", "4  verify", "5  transient"] {
        assert!(out.contains(line), "{line}: {out}");
    }
    for (cmd, codes) in [
        ("ingest", &["0", "1", "2", "3"][..]),
        ("search", &["0", "1", "2", "5"]),
        ("export", &["0", "1", "2", "3", "5"]),
        ("verify", &["0", "1", "2", "4"]),
        ("stats", &["0", "1", "2"]),
        ("reindex", &["0", "1", "2"]),
    ] {
        let (code, out, _) = cli!(cmd, "--help");
        assert_eq!(code, 0);
        let table = out.split("Exit codes:\n").nth(1).unwrap_or_else(|| panic!("{cmd}: {out}"));
        let listed: Vec<&str> = table
            .lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .map(|l| l.trim_start().split(' ').next().unwrap())
            .collect();
        assert_eq!(listed, codes, "{cmd}: {out}");
        assert!(out.contains("--json"), "{cmd} has --json");
    }
}

#[test]
fn a_closed_pipe_ends_search_json_and_stats_quietly_with_0() {
    let tmp = tempfile::tempdir().unwrap();
    let coll = tmp.path().join("c");
    // Enough hits that the JSON is far larger than a pipe's buffer.
    let mbox = write(tmp.path(), "many.mbox", mbox_of(3000, 1).as_bytes());
    let (code, ..) =
        cli!("ingest", "--collection", &coll, "--account", "m@example.com", "--mbox", &mbox);
    assert_eq!(code, 0);
    for cmd in ["search --json", "search", "stats --json", "stats"] {
        let sh = format!(
            "'{}' {cmd} --collection '{}' | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}",
            env!("CARGO_BIN_EXE_ediscovery"),
            coll.display()
        );
        let r = std::process::Command::new("bash").arg("-c").arg(&sh).output().unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(String::from_utf8_lossy(&r.stdout).trim(), "0", "{cmd}: {err}");
        assert!(!err.contains("panicked"), "{cmd}: {err}");
        assert_eq!(err, "", "{cmd}: quietly");
    }
}

/// `--request FILE` says everything; a flag beside it that it would silently ignore is a usage
/// error.
#[test]
fn export_request_file_refuses_flags_it_would_ignore() {
    let tmp = tempfile::tempdir().unwrap();
    let req = tmp.path().join("r.json");
    std::fs::write(&req, serde_json::to_vec(&export_request("R", "MAIL", &[], "")).unwrap())
        .unwrap();
    for flag in [
        &["--threads", "1"][..],
        &["--compression", "store"],
        &["--accounts", "a@b.c"],
        &["--no-csv-guard"],
    ] {
        let mut args: Vec<&std::ffi::OsStr> =
            ["export", "--collection", "c", "--out", "o", "--request"]
                .iter()
                .map(std::ffi::OsStr::new)
                .collect();
        args.push(req.as_os_str());
        args.extend(flag.iter().map(std::ffi::OsStr::new));
        let (code, _, err) = run_cli(&args);
        assert_eq!(code, 2, "{flag:?}: {err}");
        assert!(err.contains("cannot be used with"), "{err}");
    }
}
