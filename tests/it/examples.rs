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
    // 330 mail and group messages, 106 chat messages, 50 Drive files, 35 Voice items.
    assert!(stdout.contains("521 records"), "{stdout}");
    assert!(stdout.contains("(verified: true)"), "{stdout}");
    assert!(tmp.path().join("inv/collection/MANIFEST.json").is_file());
    // "project falcon" found per corpus, each equal to what the generator planted.
    for line in [
        "mail    43 in 5 accounts (planted 43)",
        "groups  6 in 1 accounts (planted 6)",
        "chat    25 in 5 accounts (planted 25)",
        "drive   11 in 5 accounts (planted 11)",
        "voice   8 in 5 accounts (planted 8)",
    ] {
        assert!(stdout.contains(line), "{line}\n{stdout}");
    }
    // One export per corpus, then the held export: each verified.
    assert_eq!(stdout.matches("verify: OK").count(), 6, "{stdout}");
    for (name, n) in [
        ("Falcon-mail", 22),
        ("Falcon-groups", 6),
        ("Falcon-chat", 25),
        ("Falcon-drive", 16),
        ("Falcon-voice", 8),
    ] {
        let head = format!("export {name} (");
        let line = stdout.lines().find(|l| l.starts_with(&head)).unwrap();
        assert!(line.contains(&format!(": {n} in scope, {n} exported, 0 failed")), "{line}");
        let dir = tmp.path().join("inv/exports").join(name);
        assert!(dir.join(format!("{name}-checksums.md5")).is_file(), "{name}");
        assert!(dir.join(format!("{name}-metadata.xml")).is_file(), "{name}");
        assert!(stdout.contains(&format!("  {}\n", dir.display())), "{name}: path not printed");
    }
    let exports = tmp.path().join("inv/exports");
    assert!(exports.join("Falcon-groups/Falcon-groups-group-membership.csv").is_file());
    assert!(exports.join("Falcon-drive/Falcon-drive-custodian-docid.csv").is_file());
    assert!(exports.join("Falcon-drive/Falcon-drive_0.zip").is_file());
    assert!(exports.join("Falcon-chat/Falcon-chat-1.zip").is_file());
    assert!(exports.join("Falcon-voice/Falcon-voice-1.zip").is_file());
    // Governance: the unheld deleted message is purged, the held one exported.
    assert!(stdout.contains("retention apply purged 80 records (521 → 441)"), "{stdout}");
    assert!(stdout.contains("Alice's deleted message included, verify: OK"), "{stdout}");
    assert!(stdout.contains("chain intact"), "{stdout}");
    assert!(exports.join("Falcon-held/Falcon-held-checksums.md5").is_file());
}

/// The sample's chat, Drive and Voice sources ingest with exactly the counts the generator
/// reports — every item, none rejected, "project falcon" found as often as planted per account
/// and corpus — and the same scale writes the same bytes.
#[test]
fn sample_chat_drive_and_voice_ingest_as_planted() {
    use ediscovery::model::Corpus;
    use ediscovery::query::Scope;
    use ediscovery::{CollectionWriter, IngestOptions, NoProgress};
    let tmp = tempfile::tempdir().unwrap();
    let org = ediscovery::sample::generate(&tmp.path().join("org"), 1).unwrap();
    assert_eq!(org.total_messages(), 330, "the mail sample is unchanged");
    let items = |c| org.items_of(c);
    assert_eq!((items(Corpus::Chat), items(Corpus::Drive), items(Corpus::Voice)), (106, 50, 35));
    let mut w = CollectionWriter::open(&tmp.path().join("c"), 2).unwrap();
    for s in &org.other_sources {
        let mut o = IngestOptions::new(s.account.clone());
        o.corpus = s.corpus;
        o.org_unit = s.org_unit.clone();
        let r = w.ingest(&s.source, &o, &mut NoProgress).unwrap();
        assert_eq!(r.ingested as usize, s.messages, "{} {:?}: {r:?}", s.account, s.corpus);
        assert!(r.rejected.is_empty() && r.defects.is_empty(), "{r:?}");
    }
    let c = w.finish().unwrap();
    assert_eq!(c.stats().records, 191);
    for corpus in [Corpus::Chat, Corpus::Drive, Corpus::Voice] {
        let r = ediscovery::search::search_text(
            &c,
            Scope::entire_org(corpus),
            "\"project falcon\"",
            1_700_000_000,
        )
        .unwrap();
        for s in org.other_sources.iter().filter(|s| s.corpus == corpus) {
            assert!(s.falcon > 0 && s.falcon < s.messages, "{s:?}");
            assert_eq!(r.counts.per_account.get(&s.account).copied(), Some(s.falcon as u64));
        }
    }
    // Deterministic: a second generation writes the same JSONL bytes.
    let again = ediscovery::sample::generate(&tmp.path().join("again"), 1).unwrap();
    for (a, b) in org.other_sources.iter().zip(&again.other_sources) {
        assert_eq!(
            std::fs::read(a.source.path()).unwrap(),
            std::fs::read(b.source.path()).unwrap()
        );
    }
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

/// The benchmark runs on a small sample (in process and through the CLI binary the test build
/// made), verifies its exports, and writes a table, JSON and an SVG chart that independent
/// readers (Python's `json` and `xml.etree`) accept, row for row.
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
                 "ingest + index", "ingest + index, CLI", "export store", "export deflate"], whats
assert len(j["runs"]) == 2
ing = j["medians"][4]
assert ing["messages"] > 0 and ing["seconds"] > 0, ing
# One `ediscovery ingest` per custodian mbox stores what the in-process ingest stores.
cli = j["medians"][5]
assert cli["messages"] == ing["messages"] and abs(cli["mb"] - ing["mb"]) < 1e-6, (cli, ing)
assert cli["peak_anon_mb"] > 0, cli
for r in j["medians"][6:]:
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
