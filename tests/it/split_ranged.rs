//! Issue 14 item 1: a split is read by ranged reads, nothing downloaded whole unless asked.
//! Splits published with a block list (`blocks.json`) are searched and exported with their
//! index and record data read by checked blocks: the results are those of one collection (the
//! search output line for line, the export byte for byte through the independent comparer),
//! the bytes fetched for a selective search are well below what downloading whole fetched, the
//! cache holds none of those files whole, and the blocks kept on disk serve the next process.
//! A flipped byte in an index or data file is an error naming the file and the block (never a
//! panic, never a count); a split published without a block list (as before) still opens,
//! downloading those files whole; `EDISCOVERY_SPLIT_READ=whole` asks for that on any split.
//! On a folder, and on SeaweedFS when it can run.

use super::split::{org_and_parts, seaweed, weed_env};
use super::split_export::{Input, export, python_compare, verify_passes};
use ediscovery::split::{self, PublishOptions, StoreConfig};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Small blocks, so ranged reads show on the sample organisation's small files (a 1 MiB block
/// would hold each of them whole). Its index is dozens of tiny segments: the footers, fast
/// fields and term dictionaries every search reads are most of it, so a selective search
/// still fetches about half of what downloading whole did (the SpamAssassin and scaled corpus
/// figures in SCALING.md are the larger picture).
const SMALL: u64 = 512;

/// Check a published split's `blocks.json` with Python's json and hashlib from its definition:
/// it is a file of the manifest (size and MD5), it lists exactly the `index/` and
/// `records/data-` files with their manifest sizes, and each aligned block of each has the MD5
/// it gives. Returns the block size.
fn python_check_blocks(split_dir: &Path) -> u64 {
    let script = r#"
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
files = {f["name"]: f for f in m["files"]}
raw = open(os.path.join(d, "blocks.json"), "rb").read()
assert hashlib.md5(raw).hexdigest() == files["blocks.json"]["md5"]
assert len(raw) == files["blocks.json"]["size"]
b = json.loads(raw)
assert b["format"] == "ediscovery-split-blocks" and b["version"] == 1
bs = b["block_size"]
want = sorted(n for n in files if n.startswith("index/") or n.startswith("records/data-"))
assert [f["name"] for f in b["files"]] == want, ([f["name"] for f in b["files"]], want)
for f in b["files"]:
    data = open(os.path.join(d, f["name"]), "rb").read()
    assert len(data) == f["size"] == files[f["name"]]["size"], f["name"]
    got = [hashlib.md5(data[i:i + bs]).hexdigest() for i in range(0, len(data), bs)]
    assert got == f["blocks"], f["name"]
print(bs)
"#;
    let out = Command::new("python3").arg("-c").arg(script).arg(split_dir).output().unwrap();
    assert!(out.status.success(), "python: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Bytes of a published split's files besides the packs (what opening it downloaded whole
/// before block lists: index, record table, manifests), from its manifest.
fn unpacked_bytes(split_dir: &Path) -> u64 {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(split_dir.join("manifest.json")).unwrap()).unwrap();
    m["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["name"].as_str().unwrap().starts_with("packs/"))
        .map(|f| f["size"].as_u64().unwrap())
        .sum()
}

/// Files under `dir`, relative, `/`-separated.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `ediscovery search` with `args`, the environment `env` added.
fn search(args: &[&OsStr], env: &[(&str, String)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ediscovery"));
    cmd.arg("search").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `search --json QUERY` over the collection `all` and over `urls` (with `--split-stats`):
/// the same counts and hits. Returns the splits' (fetched_bytes, fetched_gets).
fn same_search(
    all: &Path,
    urls: &str,
    cache: &Path,
    query: &str,
    env: &[(&str, String)],
) -> (u64, u64) {
    let one: Vec<&OsStr> =
        vec!["--collection".as_ref(), all.as_ref(), "--json".as_ref(), query.as_ref()];
    let (c1, o1, e1) = search(&one, env);
    assert_eq!(c1, 0, "{e1}");
    let many: Vec<&OsStr> = vec![
        "--splits".as_ref(),
        urls.as_ref(),
        "--split-cache".as_ref(),
        cache.as_ref(),
        "--json".as_ref(),
        "--split-stats".as_ref(),
        query.as_ref(),
    ];
    let (c2, o2, e2) = search(&many, env);
    assert_eq!(c2, 0, "{e2}");
    let v1: serde_json::Value = serde_json::from_str(&o1).unwrap();
    let mut v2: serde_json::Value = serde_json::from_str(&o2).unwrap();
    let obj = v2.as_object_mut().unwrap();
    let fetched = obj.remove("fetched_bytes").and_then(|v| v.as_u64()).expect("fetched_bytes");
    let gets = obj.remove("fetched_gets").and_then(|v| v.as_u64()).expect("fetched_gets");
    assert_eq!(v2, v1, "search {query:?}: splits and collection differ");
    assert!(v1["counts"]["total"].as_u64().unwrap() > 0, "{query:?} finds nothing: no test");
    (fetched, gets)
}

/// Publish the three parts under `root` with `opts`: their URLs, comma-separated, and the
/// bytes of their files besides packs (from the manifests).
fn publish_parts(
    parts: &[PathBuf],
    root: &str,
    cfg: &StoreConfig,
    opts: PublishOptions,
) -> (String, u64) {
    let done: Vec<split::Published> =
        parts.iter().map(|p| split::publish_with(p, root, cfg, opts).unwrap()).collect();
    let bytes = done
        .iter()
        .flat_map(|d| &d.manifest.files)
        .filter(|f| !f.name.starts_with("packs/"))
        .map(|f| f.size)
        .sum();
    (done.iter().map(|d| d.url.as_str()).collect::<Vec<_>>().join(","), bytes)
}

/// Searches (selective and count-all) and a mail export over `urls`, against the collection
/// `all`; the selective search fetches well below `ranged_total` bytes (the splits' files
/// besides packs, all of which opening a split used to download) and the cache then holds no
/// index or data file.
fn ranged_matches_one_collection(
    dir: &Path,
    all: &Path,
    urls: &str,
    ranged_total: u64,
    env: &[(&str, String)],
) {
    let cache = dir.join("cache");
    let (selective, gets) = same_search(all, urls, &cache, "falcon", env);
    assert!(gets > 0 && selective > 0, "nothing fetched by ranges: {selective} bytes, {gets} GETs");
    assert!(
        selective * 3 < ranged_total * 2,
        "a selective search fetched {selective} of the splits' {ranged_total} non-pack bytes"
    );
    let cached = files_under(&cache);
    let whole: Vec<&String> =
        cached.iter().filter(|f| f.contains("/index/") || f.contains("/records/data-")).collect();
    assert!(whole.is_empty(), "downloaded whole: {whole:?}");
    assert!(cached.iter().any(|f| f.contains("/records/keys-")), "{cached:?}");

    // The blocks read are kept on disk, named by MD5: the same search in a new process
    // fetches nothing, and a damaged kept block is fetched again, not used.
    let kept: Vec<&String> = cached.iter().filter(|f| f.contains("/blocks/")).collect();
    assert!(!kept.is_empty(), "no block kept on disk: {cached:?}");
    assert_eq!(same_search(all, urls, &cache, "falcon", env), (0, 0), "fetched again");
    std::fs::write(cache.join(kept[0]), b"not the block").unwrap();
    let (again, gets) = same_search(all, urls, &cache, "falcon", env);
    assert!(again > 0 && gets == 1, "a damaged kept block: {again} bytes in {gets} GETs");
    assert_eq!(same_search(all, urls, &cache, "falcon", env), (0, 0), "not replaced");

    // Everything (records of every hit decoded): more blocks, same answers.
    let (all_bytes, _) = same_search(all, urls, &dir.join("cache-all"), "", env);
    assert!(all_bytes > selective, "count-all {all_bytes} <= selective {selective}");

    // A mail export over the splits: byte for byte the collection's (the comparer reads both).
    let out = dir.join("exports");
    let name = "ranged";
    let (code, o, e, _) = export(&[], &Input::Collection(all), name, &out.join("one"), &[], env);
    assert_eq!(code, 0, "{o}{e}");
    let splits = Input::Splits(urls, &cache);
    let (code, o, e, _) = export(&[], &splits, name, &out.join("many"), &[], env);
    assert_eq!(code, 0, "{o}{e}");
    assert!(python_compare(&out.join("one").join(name), &out.join("many").join(name), name) >= 4);
    verify_passes(&out.join("many").join(name));
    let whole = files_under(&cache)
        .into_iter()
        .filter(|f| f.contains("/index/") || f.contains("/records/data-"))
        .count();
    assert_eq!(whole, 0, "the export downloaded index or data files whole");
}

#[test]
fn splits_are_read_by_checked_blocks_on_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (all, parts) = org_and_parts(dir.path());
    let store = dir.path().join("store");
    let root = store.to_str().unwrap();
    let cfg = StoreConfig::default();
    let opts = PublishOptions { block_size: SMALL, ..PublishOptions::default() };
    let (urls, total) = publish_parts(&parts, root, &cfg, opts);
    let mut on_disk = 0;
    for u in urls.split(',') {
        let id = u.rsplit('/').next().unwrap();
        let split_dir = store.join("splits").join(id);
        assert_eq!(python_check_blocks(&split_dir), SMALL);
        on_disk += unpacked_bytes(&split_dir);
    }
    assert_eq!(on_disk, total);
    ranged_matches_one_collection(dir.path(), &all, &urls, total, &[]);

    // The default block (1 MiB) publishes too, and its list is right.
    let one = split::publish(&parts[0], dir.path().join("store-1m").to_str().unwrap(), &cfg);
    let one = one.unwrap();
    let split_dir = dir.path().join("store-1m").join("splits").join(&one.split_id);
    assert_eq!(python_check_blocks(&split_dir), 1 << 20);
    let s = split::open_split(&one.url, &dir.path().join("cache-1m"), &cfg).unwrap();
    assert!(s.is_ranged());
}

#[test]
fn a_flipped_byte_in_an_index_or_data_file_is_named_by_block() {
    let dir = tempfile::tempdir().unwrap();
    let (_, parts) = org_and_parts(dir.path());
    let store = dir.path().join("store");
    let cfg = StoreConfig::default();
    let opts = PublishOptions { block_size: SMALL, ..PublishOptions::default() };
    let done = split::publish_with(&parts[0], store.to_str().unwrap(), &cfg, opts).unwrap();
    let split_dir = store.join("splits").join(&done.split_id);
    let count = |cache: &str, query: &str, json: bool| {
        let c = dir.path().join(cache);
        let mut args: Vec<&OsStr> =
            vec!["--splits".as_ref(), done.url.as_ref(), "--split-cache".as_ref(), c.as_ref()];
        args.push(if json { "--json".as_ref() } else { "--count".as_ref() });
        args.push(query.as_ref());
        search(&args, &[])
    };
    let (code, good, e) = count("cache-good", "", false);
    assert_eq!(code, 0, "{e}");
    assert!(good.contains("total\t"), "{good}");

    // The largest index file's last byte: tantivy reads every segment file's footer when it
    // opens the index, so the block holding it is always read.
    let idx = done
        .manifest
        .files
        .iter()
        .filter(|f| f.name.starts_with("index/") && f.name != "index/meta.json")
        .max_by_key(|f| f.size)
        .unwrap();
    let flip = |name: &str, at: u64| {
        let p = split_dir.join(name);
        let mut b = std::fs::read(&p).unwrap();
        b[at as usize] ^= 0x55;
        std::fs::write(&p, &b).unwrap();
    };
    let last = idx.size - 1;
    flip(&idx.name, last);
    let block = format!("{} block {} ", idx.name, last / SMALL);
    for (cache, json) in [("cache-idx", false), ("cache-idx-json", true)] {
        let (code, out, err) = count(cache, "", json);
        assert_eq!(code, 1, "a damaged index searched: {out}{err}");
        assert!(out.is_empty(), "a count from a damaged index: {out}");
        assert!(err.contains(&block) && err.contains(&done.url), "{err}");
        assert!(err.contains("MD5") && !err.contains("panicked"), "{err}");
    }
    // Through the library too: the error is the split's, naming the block.
    let err = split::open_split(&done.url, &dir.path().join("cache-lib"), &cfg).unwrap_err();
    assert!(matches!(err, split::SplitError::Md5Mismatch { .. }), "{err}");
    assert!(err.to_string().contains(&block), "{err}");
    flip(&idx.name, last);

    // A byte in the middle of the data file: a search that decodes every hit's record reads
    // every block, and fails naming the block; an export fails too.
    let data = done.manifest.files.iter().find(|f| f.name.starts_with("records/data-")).unwrap();
    assert!(data.size > 4 * SMALL, "data file of {} bytes: too small to test", data.size);
    let mid = data.size / 2;
    flip(&data.name, mid);
    let block = format!("{} block {} ", data.name, mid / SMALL);
    let (code, out, err) = count("cache-data", "", true);
    assert_ne!(code, 0, "a damaged data file searched: {out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains(&block) && err.contains(&done.url) && !err.contains("panicked"), "{err}");
    let out = dir.path().join("export-bad");
    let splits = Input::Splits(&done.url, &dir.path().join("cache-export"));
    let (code, o, e, _) = export(&[], &splits, "bad", &out, &[], &[]);
    assert_ne!(code, 0, "an export over a damaged data file passed: {o}{e}");
    assert!(e.contains(&block) && !e.contains("panicked"), "{o}{e}");
    // Counting reads no record: still the right count.
    let (code, again, e) = count("cache-data-count", "", false);
    assert_eq!((code, again.as_str()), (0, good.as_str()), "{e}");
}

#[test]
fn a_split_without_a_block_list_is_downloaded_whole_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let (all, parts) = org_and_parts(dir.path());
    let store = dir.path().join("store");
    let root = store.to_str().unwrap();
    let cfg = StoreConfig::default();
    let old = PublishOptions { block_list: false, ..PublishOptions::default() };
    let (urls, total) = publish_parts(&parts, root, &cfg, old);
    for u in urls.split(',') {
        let id = u.rsplit('/').next().unwrap();
        let split_dir = store.join("splits").join(id);
        assert!(!split_dir.join("blocks.json").exists());
        let s = split::open_split(u, &dir.path().join("cache-lib"), &cfg).unwrap();
        assert!(!s.is_ranged());
    }
    let cache = dir.path().join("cache");
    let (fetched, gets) = same_search(&all, &urls, &cache, "falcon", &[]);
    assert_eq!(gets, 0);
    assert_eq!(fetched, total, "downloaded {fetched} bytes, the non-pack files are {total}");
    let cached = files_under(&cache);
    assert!(cached.iter().any(|f| f.ends_with("/index/meta.json")), "{cached:?}");
    assert!(cached.iter().any(|f| f.contains("/records/data-")), "{cached:?}");

    // A split with a block list, downloaded whole when asked: the same answers.
    let new_root = dir.path().join("store-new");
    let (new_urls, _) =
        publish_parts(&parts, new_root.to_str().unwrap(), &cfg, PublishOptions::default());
    let asked = [(split::READ_VAR, "whole".to_owned())];
    let whole_cache = dir.path().join("cache-whole");
    let (_, gets) = same_search(&all, &new_urls, &whole_cache, "falcon", &asked);
    assert_eq!(gets, 0, "asked to download whole, read by ranges");
    assert!(files_under(&whole_cache).iter().any(|f| f.ends_with("/index/meta.json")));
}

#[test]
fn splits_are_read_by_checked_blocks_on_seaweedfs() {
    let dir = tempfile::tempdir().unwrap();
    let Some((server, cfg)) = seaweed(&dir.path().join("weed")) else { return };
    let (all, parts) = org_and_parts(dir.path());
    let opts = PublishOptions { block_size: SMALL, ..PublishOptions::default() };
    let (urls, total) = publish_parts(&parts, "s3://splits/ranged", &cfg, opts);
    let env: Vec<(&str, String)> = weed_env(server.s3).into_iter().collect();
    ranged_matches_one_collection(dir.path(), &all, &urls, total, &env);
    drop(server);
}
