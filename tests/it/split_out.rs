//! Issue 14 item 2: `export --out URL`, an export written to object storage. Over a folder given
//! as a `file://` URL and over SeaweedFS (S3) when it can run: the stored files are byte for byte
//! a local `--out DIR` export of the same request (summary timings aside), Python's hashlib
//! checks every stored file against the stored checksum file and finds no file it does not
//! list; a second run under the same name, or a checksum file already there with other bytes,
//! is refused and leaves the stored files as they were; a file whose bytes differ from its
//! checksum line is refused before the checksum file is written; `export part` refuses a URL;
//! two different exports uploaded under one name at once: exactly one wins, whole.

use super::split::{org_and_parts, seaweed, weed_env};
use super::split_export::{Input, export, python_compare, verify_passes};
use ediscovery::digest::Md5;
use ediscovery::split::{self, SplitError, StoreConfig};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Python: every file the checksum file lists has that MD5 (hashlib), and every file of the
/// folder but the checksum file is listed. Prints how many were checked.
const CHECK: &str = r#"
import hashlib, os, sys
d, name = sys.argv[1], sys.argv[2]
sums = name + "-checksums.md5"
listed = {}
for line in open(os.path.join(d, sums), "rb").read().decode().splitlines():
    md5, f = line.split("  ", 1)
    assert len(md5) == 32 and f not in listed, line
    listed[f] = md5
for f, md5 in listed.items():
    h = hashlib.md5(open(os.path.join(d, f), "rb").read()).hexdigest()
    assert h == md5, ("MD5 differs", f, h, md5)
extra = set(os.listdir(d)) - set(listed) - {sums}
assert not extra, ("files the checksum file does not list", extra)
print(len(listed))
"#;

fn python_check(dir: &Path, name: &str) -> usize {
    let out = Command::new("python3").arg("-c").arg(CHECK).arg(dir).arg(name).output().unwrap();
    assert!(out.status.success(), "{}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Every file of a folder, by name, with the MD5 of its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap();
            (e.file_name().into_string().unwrap(), Md5::of(&bytes).to_string())
        })
        .collect()
}

const MAIL: [&str; 6] = ["--corpus", "mail", "--compression", "deflate", "--threads", "2"];

/// `extra` with `--staging DIR --json` added.
fn staged<'a>(extra: &[&'a str], staging: &'a str) -> Vec<&'a str> {
    let mut v = extra.to_vec();
    v.extend(["--staging", staging, "--json"]);
    v
}

#[test]
fn export_to_a_folder_url_is_the_local_export() {
    let dir = tempfile::tempdir().unwrap();
    let (all, parts) = org_and_parts(dir.path());
    let store = dir.path().join("store");
    let url = format!("file://{}", store.display());
    let local = dir.path().join("local");
    let stage = dir.path().join("stage");
    let stage_s = stage.to_str().unwrap();
    let coll = Input::Collection(&all);

    // The same request to a local folder and to the URL.
    let (code, o, e, _) = export(&[], &coll, "up", &local, &MAIL, &[]);
    assert_eq!(code, 0, "{o}{e}");
    let (code, o, e, _) = export(&[], &coll, "up", Path::new(&url), &staged(&MAIL, stage_s), &[]);
    assert_eq!(code, 0, "{o}{e}");
    let v: serde_json::Value = serde_json::from_str(&o).unwrap();
    assert_eq!(v["url"], format!("{url}/up"), "{o}");
    assert_eq!(v["uploaded"], true, "{o}");
    assert!(!stage.exists(), "the staging folder is removed after the upload");
    let files = python_compare(&local.join("up"), &store.join("up"), "up");
    assert_eq!(python_check(&store.join("up"), "up") + 1, files);
    verify_passes(&store.join("up"));

    // A second run under the same name: refused, the stored files unchanged, the staged export
    // kept and named.
    let before = snapshot(&store.join("up"));
    let (code, o, e, _) = export(&[], &coll, "up", Path::new(&url), &staged(&MAIL, stage_s), &[]);
    assert_eq!(code, 1, "{o}{e}");
    assert!(e.contains("exists: choose another name"), "{e}");
    assert!(e.contains(stage.join("up").to_str().unwrap()), "the kept export is named: {e}");
    assert!(stage.join("up/up-checksums.md5").is_file());
    assert_eq!(snapshot(&store.join("up")), before, "a refused upload changed the store");

    // A checksum file already there with other bytes: refused before anything is uploaded.
    std::fs::create_dir_all(store.join("taken")).unwrap();
    std::fs::write(store.join("taken/taken-checksums.md5"), b"other bytes\n").unwrap();
    // (Its staging folder is kept by design: under `dir`, not the temporary folder.)
    let stage2 = dir.path().join("stage2");
    let flags = staged(&MAIL, stage2.to_str().unwrap());
    let (code, o, e, _) = export(&[], &coll, "taken", Path::new(&url), &flags, &[]);
    assert_eq!(code, 1, "{o}{e}");
    assert!(e.contains("taken-checksums.md5 exists: choose another name"), "{e}");
    let taken = snapshot(&store.join("taken"));
    assert_eq!(taken.keys().collect::<Vec<_>>(), ["taken-checksums.md5"]);
    assert_eq!(std::fs::read(store.join("taken/taken-checksums.md5")).unwrap(), b"other bytes\n");

    // A retried upload of the same export folder succeeds without writing.
    let again = split::upload_export(&local.join("up"), "up", &url, &StoreConfig::default());
    assert!(matches!(again, Err(SplitError::ExportExists { .. })), "{again:?}");
    let other = dir.path().join("other");
    let first =
        split::upload_export(&local.join("up"), "up", other.to_str().unwrap(), &Default::default())
            .unwrap();
    assert!(first.uploaded);
    let second =
        split::upload_export(&local.join("up"), "up", other.to_str().unwrap(), &Default::default())
            .unwrap();
    assert!(!second.uploaded, "a retry of identical bytes writes nothing");
    python_compare(&local.join("up"), &other.join("up"), "up");

    // A local file whose bytes are not its checksum line's: refused, naming it, and the
    // checksum file (the commit) is not written.
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(bad.join("up")).unwrap();
    for f in snapshot(&local.join("up")).into_keys() {
        std::fs::copy(local.join("up").join(&f), bad.join("up").join(&f)).unwrap();
    }
    let zip = snapshot(&bad.join("up")).into_keys().find(|f| f.ends_with(".zip")).unwrap();
    let mut bytes = std::fs::read(bad.join("up").join(&zip)).unwrap();
    bytes[10] ^= 1;
    std::fs::write(bad.join("up").join(&zip), bytes).unwrap();
    let bad_store = dir.path().join("bad-store");
    let err = split::upload_export(
        &bad.join("up"),
        "up",
        bad_store.to_str().unwrap(),
        &Default::default(),
    )
    .unwrap_err();
    assert!(matches!(&err, SplitError::Md5Mismatch { file, .. } if *file == zip), "{err}");
    assert!(!bad_store.join("up/up-checksums.md5").exists());

    // Over splits: the same files as the collection's export.
    let root = dir.path().join("splits");
    let root_s = root.to_str().unwrap();
    for p in &parts {
        split::publish(p, root_s, &StoreConfig::default()).unwrap();
    }
    let cache = dir.path().join("cache");
    let (code, o, e, _) = export(&[], &coll, "viasplits", &local, &MAIL, &[]);
    assert_eq!(code, 0, "{o}{e}");
    let splits = Input::Splits(root_s, &cache);
    let (code, o, e, _) = export(&[], &splits, "viasplits", Path::new(&url), &MAIL, &[]);
    assert_eq!(code, 0, "{o}{e}");
    python_compare(&local.join("viasplits"), &store.join("viasplits"), "viasplits");
    python_check(&store.join("viasplits"), "viasplits");

    // Parts are written to a folder: a URL is refused, clearly.
    let step = ["part", "--part", "1/2"];
    let (code, o, e, _) = export(&step, &coll, "parted", Path::new(&url), &MAIL, &[]);
    assert_eq!(code, 1, "{o}{e}");
    assert!(e.contains("written to a local folder"), "{e}");
    assert!(!store.join("parted").exists() && !store.join("parted.parts").exists());
}

#[test]
fn export_to_seaweedfs_is_the_local_export() {
    let dir = tempfile::tempdir().unwrap();
    let Some((server, cfg)) = seaweed(&dir.path().join("weed")) else { return };
    let env = weed_env(server.s3);
    let (all, _) = org_and_parts(dir.path());
    let coll = Input::Collection(&all);
    let url = "s3://splits/exports";
    let local = dir.path().join("local");
    let stage = dir.path().join("stage");
    let stage_s = stage.to_str().unwrap();
    let (code, o, e, _) = export(&[], &coll, "s3up", &local, &MAIL, &env);
    assert_eq!(code, 0, "{o}{e}");
    let (code, o, e, _) = export(&[], &coll, "s3up", Path::new(url), &staged(&MAIL, stage_s), &env);
    assert_eq!(code, 0, "{o}{e}");
    let v: serde_json::Value = serde_json::from_str(&o).unwrap();
    assert_eq!(v["url"], format!("{url}/s3up"), "{o}");
    assert!(!stage.exists(), "the staging folder is removed after the upload");

    // Read back through the store: the checksum file, then every file it lists.
    let back = dir.path().join("back");
    let got = split::fetch_export(url, "s3up", &back, &cfg).unwrap();
    let files = python_compare(&local.join("s3up"), &got, "s3up");
    assert_eq!(python_check(&got, "s3up") + 1, files);

    // A second run under the same name is refused; the stored export is unchanged.
    let (code, o, e, _) = export(&[], &coll, "s3up", Path::new(url), &staged(&MAIL, stage_s), &env);
    assert_eq!(code, 1, "{o}{e}");
    assert!(e.contains("exists: choose another name"), "{e}");
    let again = dir.path().join("again");
    let got2 = split::fetch_export(url, "s3up", &again, &cfg).unwrap();
    assert_eq!(snapshot(&got2), snapshot(&got), "a refused upload changed the store");
    drop(server);
}

/// Two uploads of *different* exports (the same request in `store` and `deflate`: the same file
/// names, other bytes) under one name at the same moment: exactly one wins, the store then holds
/// that export's bytes and nothing of the other (read back by `fetch_export` and by Python's
/// hashlib against the stored checksum file, which finds no file it does not list), no claim is
/// left, and the loser is refused saying why. Several rounds, through the library (the two
/// uploads released together) and through the CLI (two `export --out URL` processes).
#[test]
fn concurrent_uploads_of_different_exports_under_one_name_one_wins_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (all, _) = org_and_parts(dir.path());
    let coll = Input::Collection(&all);
    let compressions = ["store", "deflate"];
    let flags = |c: &'static str| ["--corpus", "mail", "--compression", c, "--threads", "1"];
    // The two exports, made locally under the one name.
    let locals: Vec<std::path::PathBuf> =
        compressions.iter().map(|c| dir.path().join(format!("local-{c}"))).collect();
    for (c, l) in compressions.iter().zip(&locals) {
        let (code, o, e, _) = export(&[], &coll, "race", l, &flags(c), &[]);
        assert_eq!(code, 0, "{o}{e}");
    }
    assert_ne!(
        std::fs::read(locals[0].join("race/race-checksums.md5")).unwrap(),
        std::fs::read(locals[1].join("race/race-checksums.md5")).unwrap(),
        "the two exports must differ for the race to mean anything"
    );
    // The store after a race: one export whole, which one the winner says. `exact`: the very
    // folder uploaded (the library rounds); else an export of the same request (the CLI runs
    // export again: the same bytes but for the summary's timings, so its MD5 line too).
    let check = |store: &Path, winner: usize, round: &str, exact: bool| {
        let url = format!("file://{}", store.display());
        let back = dir.path().join(format!("back-{round}"));
        let got = split::fetch_export(&url, "race", &back, &StoreConfig::default()).unwrap();
        if exact {
            assert_eq!(snapshot(&got), snapshot(&locals[winner].join("race")), "{round}: fetched");
        }
        python_compare(&locals[winner].join("race"), &got, "race");
        python_compare(&locals[winner].join("race"), &store.join("race"), "race");
        python_check(&store.join("race"), "race");
        assert!(!store.join("race.claim").exists(), "{round}: the claim was left behind");
    };

    for round in 0..4 {
        let store = dir.path().join(format!("store-{round}"));
        let url = format!("file://{}", store.display());
        let gate = std::sync::Barrier::new(2);
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = locals
                .iter()
                .map(|l| {
                    let (gate, url) = (&gate, &url);
                    s.spawn(move || {
                        gate.wait();
                        split::upload_export(&l.join("race"), "race", url, &Default::default())
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won: Vec<usize> = (0..2).filter(|&i| results[i].is_ok()).collect();
        assert_eq!(won.len(), 1, "round {round}: exactly one upload wins: {results:?}");
        let (w, l) = (won[0], 1 - won[0]);
        assert!(results[w].as_ref().is_ok_and(|u| u.uploaded), "{results:?}");
        assert!(
            matches!(
                results[l],
                Err(SplitError::ExportClaimed { .. } | SplitError::ExportExists { .. })
            ),
            "round {round}: {:?}",
            results[l]
        );
        check(&store, w, &format!("library-{round}"), true);
    }

    for round in 0..2 {
        let store = dir.path().join(format!("cli-store-{round}"));
        let url = format!("file://{}", store.display());
        let runs: Vec<(i32, String, String)> = std::thread::scope(|s| {
            let hs: Vec<_> = compressions
                .iter()
                .map(|c| {
                    let (url, coll) = (&url, &coll);
                    let stage = dir.path().join(format!("stage-{round}-{c}"));
                    s.spawn(move || {
                        let mut f = flags(c).to_vec();
                        let stage = stage.to_str().unwrap().to_owned();
                        f.extend(["--staging", stage.as_str()]);
                        let (code, o, e, _) = export(&[], coll, "race", Path::new(url), &f, &[]);
                        (code, o, e)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won: Vec<usize> = (0..2).filter(|&i| runs[i].0 == 0).collect();
        assert_eq!(won.len(), 1, "cli round {round}: exactly one exit 0: {runs:?}");
        let (code, o, e) = &runs[1 - won[0]];
        assert_eq!(*code, 1, "{o}{e}");
        assert!(
            e.contains("another export is being uploaded under this name")
                || e.contains("exists: choose another name"),
            "the loser says what happened: {e}"
        );
        check(&store, won[0], &format!("cli-{round}"), false);
    }
}
