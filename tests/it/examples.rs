//! The examples the README points at run and check their own numbers.

use std::path::PathBuf;
use std::process::Command;

fn example(name: &str) -> PathBuf {
    // Cargo builds examples next to the test binaries' `deps` folder.
    let mut p = std::env::current_exe().unwrap();
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    p.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn investigation_runs_end_to_end() {
    let exe = example("investigation");
    assert!(exe.exists(), "{} not built", exe.display());
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(&exe).arg(tmp.path().join("inv")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("330 records"), "{stdout}");
    assert!(stdout.contains("(verified: true)"), "{stdout}");
    assert!(tmp.path().join("inv/collection/MANIFEST.json").is_file());
    assert_eq!(stdout.matches("verify: OK").count(), 3, "{stdout}");
    // Governance: the unheld deleted message is purged, the held one exported.
    assert!(stdout.contains("retention apply purged 80 records (330 → 250)"), "{stdout}");
    assert!(stdout.contains("Alice's deleted message included, verify: OK"), "{stdout}");
    assert!(stdout.contains("chain intact"), "{stdout}");
    assert!(tmp.path().join("inv/exports/Falcon-held/Falcon-held-checksums.md5").is_file());
    assert!(tmp.path().join("inv/exports/Falcon-mail/Falcon-mail-checksums.md5").is_file());
    assert!(
        tmp.path().join("inv/exports/Falcon-groups/Falcon-groups-group-membership.csv").is_file()
    );
}

/// The 10-million-record benchmark tools, at a size a debug build runs in seconds: the generator
/// ingests what it says, and the probe opens, counts and opens a writer on the result.
#[test]
fn synthetic_collection_and_probe_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("synth");
    let out = Command::new(example("synth_collection"))
        .arg(&dir)
        .args(["3000", "--accounts", "40", "--commit-every", "1000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line = String::from_utf8_lossy(&out.stdout);
    let figures: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(
        (figures["records"].as_u64(), figures["ingested"].as_u64()),
        (Some(3000), Some(3000))
    );
    assert_eq!(figures["accounts"], 40);
    let id = figures["probe"]["message_id"].as_str().unwrap();
    // Resuming a finished run skips every account.
    let again = Command::new(example("synth_collection"))
        .arg(&dir)
        .args(["3000", "--accounts", "40", "--resume"])
        .output()
        .unwrap();
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        (again["skipped_records"].as_u64(), again["ingested"].as_u64()),
        (Some(3000), Some(0))
    );

    let out = Command::new(example("scale_probe"))
        .arg(&dir)
        .args(["--runs", "1", "--search", "--"])
        .arg(format!("rfc822msgid:{id}"))
        .arg("")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hits = |what: &str, q: &str| {
        lines.iter().find(|l| l["what"] == what && l["query"] == q).unwrap()["hits"].as_u64()
    };
    assert_eq!(hits("count", &format!("rfc822msgid:{id}")), Some(1));
    assert_eq!((hits("count", ""), hits("search", "")), (Some(3000), Some(3000)));
    let out = Command::new(example("scale_probe")).arg(&dir).arg("--writer").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"records\":3000"));
}

/// The benchmark runs on a small sample, verifies its exports, and writes a table, JSON and an
/// SVG chart that independent readers (Python's `json` and `xml.etree`) accept, row for row.
#[test]
fn throughput_writes_its_table_json_and_chart() {
    let exe = example("throughput");
    assert!(exe.exists(), "{} not built", exe.display());
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(&exe)
        .args(["--scale", "4", "--no-tools", "--sample-mb", "4", "--runs", "2", "--work"])
        .arg(tmp.path().join("work"))
        .arg("--out")
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("medians of 2 run(s)"), "{stdout}");
    let check = r#"
import json, sys, xml.etree.ElementTree as ET
out = sys.argv[1]
j = json.load(open(out + "/throughput.json"))
whats = [r["what"] for r in j["medians"]]
assert whats == ["MD5, 1 core", "MD5, 2 cores", "deflate -6, 1 core", "deflate -6, 2 cores",
                 "ingest + index", "export store", "export deflate"], whats
assert len(j["runs"]) == 2
ing = j["medians"][4]
assert ing["messages"] > 0 and ing["seconds"] > 0, ing
for r in j["medians"][5:]:
    assert r["messages"] == ing["messages"] and r["limit_mb_s"] > 0, r
md = open(out + "/throughput.md").read().splitlines()
assert len(md) == 2 + len(whats) and all(l.count("|") == 11 for l in md), md
svg = ET.parse(out + "/throughput.svg").getroot()
texts = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
for w in whats:
    assert w in texts, (w, texts)
print("ok")
"#;
    let py = Command::new("python3").args(["-c", check]).arg(tmp.path().join("out")).output();
    let py = py.unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
}
