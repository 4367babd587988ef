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
    assert_eq!(stdout.matches("verify: OK").count(), 2, "{stdout}");
    assert!(tmp.path().join("inv/exports/Falcon-mail/Falcon-mail-checksums.md5").is_file());
    assert!(
        tmp.path().join("inv/exports/Falcon-groups/Falcon-groups-group-membership.csv").is_file()
    );
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
