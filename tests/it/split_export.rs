//! Issue 14: exports over published splits. `export --splits` (whole, and `export part` ×3 +
//! `export merge`) over three splits of the sample organisation writes the same files, byte for
//! byte, as `export --collection` of one collection holding everything (Python's hashlib,
//! `md5sum -c`, the summaries compared as JSON without their timings), and `verify` passes; a
//! pack damaged after publishing ends in an `error.csv` row naming the split and the pack,
//! never in a silently missing record. On a folder, and on SeaweedFS (S3) when it can run.

use super::common::{compare_exports, export_request};
use super::split::{org_and_parts, seaweed, weed_env};
use ediscovery::Collection;
use ediscovery::model::Corpus;
use ediscovery::split::{self, StoreConfig};
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The independent comparison of two export folders ([`compare_exports`]), counting files.
pub(super) fn python_compare(one: &Path, other: &Path, name: &str) -> usize {
    compare_exports(one, other, name, "files")
}

/// What an export reads: one collection, or splits (URLs or roots) with a cache folder.
pub(super) enum Input<'a> {
    Collection(&'a Path),
    Splits(&'a str, &'a Path),
}

/// Run `ediscovery export [step…]` on `input` with `--name name --out out` and `extra`, the
/// store's `AWS_*` variables set from `env`. Exit code, stdout, stderr, wall time.
pub(super) fn export(
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
pub(super) fn verify_passes(dir: &Path) {
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
    // A Chat message the collection's export of "falcon" brings in as context, deleted by the
    // admin in `all` and in its part before publishing: the split export must leave it out of
    // the context too (the part's manifest lists it).
    let (context, owner) = a_context_message(&all);
    let owner_part = parts
        .iter()
        .find(|p| {
            Collection::open(p)
                .unwrap()
                .store()
                .accounts()
                .contains_key(&(Corpus::Chat, owner.clone()))
        })
        .unwrap();
    for d in [&all, owner_part] {
        delete_as_admin(d, &dir.path().join("org/org.csv"), &[context]);
    }
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

    // Chat over the splits that hold it, with context, the deleted message left out.
    assert!(chat_split_count(&parts) > 1, "Chat in one split: not exported across splits");
    let extra = ["--corpus", "chat", "--entire-org", "falcon"];
    // (Without the manifests' deleted items hidden, chat-1.zip differs: checked by hand.)
    same_export(&all, &root_s, &cache, &out.join("chat"), "chat", &extra, &[], false);

    library_export_reads_stretches(dir.path(), &all, &root_s, &cache);

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

/// Through the library: a split search, [`split::SplitBlobs`], `export::plan` and `export::run`
/// write the collection's export, each record's blob read once, and small blobs a stretch of the
/// pack at a time (fewer GETs than blobs); with 4 KiB stretches (blobs crossing stretch ends,
/// stretches evicted) and with none (a GET per blob) the bytes are the same.
fn library_export_reads_stretches(dir: &Path, all_dir: &Path, root: &str, cache: &Path) {
    use ediscovery::export::{self, NoExportProgress};
    use ediscovery::governance::Governance;
    const NOW: i64 = 1_700_000_000;
    let all = Collection::open(all_dir).unwrap();
    let req = export_request("lib", "MAIL", &[], "");
    let mut sr = export::search_request(&req, NOW).unwrap();
    let deleted = Governance::open(all_dir).unwrap().deleted_set(&all).unwrap();
    sr.deleted = Some(std::sync::Arc::new(deleted));
    let result = all.search(&sr).unwrap();
    let plan = export::plan(&all, &req, &result, None).unwrap();
    let one = dir.join("lib-one");
    let o = export::run(&all, &req, &plan, all.store(), &one, &NoExportProgress).unwrap();
    let records = o.summary.totals.exported;

    let sr = export::search_request(&req, NOW).unwrap();
    let cfg = StoreConfig::default();
    let opts = split::SplitSearchOptions::default();
    let found = split::search(&[root.to_owned()], cache, &cfg, &sr, opts).unwrap();
    assert!(found.splits.len() > 1, "mail in {} split(s)", found.splits.len());
    // The hits of several splits planned over one of them: refused, not misread.
    let err = export::plan(found.splits[0].collection(), &req, &found.result, None).unwrap_err();
    assert!(err.to_string().contains("hits of several collections"), "{err}");
    for (window, label) in [(split::WINDOW, "1 MiB"), (4096, "4 KiB"), (0, "none")] {
        let blobs = split::SplitBlobs::with_window(&found, window);
        let plan = export::plan(blobs.tables(), &req, &found.result, None).unwrap();
        let out = dir.join(format!("lib-{window}"));
        let o = export::run(blobs.tables(), &req, &plan, &blobs, &out, &NoExportProgress).unwrap();
        assert_eq!(o.summary.totals.exported, records);
        python_compare(&one.join("lib"), &out.join("lib"), "lib");
        let (gets, read) = blobs.reads();
        assert_eq!(read, records, "each record's blob read once");
        match window {
            0 => assert_eq!(gets, read, "no stretches: a GET per blob"),
            _ => assert!(gets < read, "{label} stretches: {gets} GETs for {read} blobs"),
        }
        eprintln!("stretches of {label}: {gets} ranged GETs for {read} blobs");
    }
}

/// A Chat message that `all`'s export of Chat "falcon" brings in as context (in a document,
/// not matched): its DocId and account.
fn a_context_message(all: &Path) -> (ediscovery::model::DocId, ediscovery::model::Account) {
    use ediscovery::export;
    let c = Collection::open(all).unwrap();
    let req = export_request("c", "HANGOUTS_CHAT", &[], "falcon");
    let plan = export::plan_search(&c, &req, 1_700_000_000, None).unwrap();
    let seq = plan
        .zips
        .iter()
        .flat_map(|z| &z.documents)
        .flat_map(|d| d.messages.iter().filter(|m| !d.matched.contains(m)))
        .next()
        .copied()
        .expect("no context message in the Chat export of falcon");
    let r = c.store().get(seq).unwrap().unwrap();
    (r.doc_id, r.account)
}

/// Delete `ids` in the collection `dir` as the sample organisation's admin (the organisation
/// imported first when it is not yet).
fn delete_as_admin(dir: &Path, org_file: &Path, ids: &[ediscovery::model::DocId]) {
    use ediscovery::governance::Governance;
    let admin = ediscovery::model::Account::new(ediscovery::sample::SAMPLE_ADMIN).unwrap();
    let gov = Governance::open(dir).unwrap();
    let bytes = std::fs::read(org_file).unwrap();
    if gov.run(|tx| tx.delete_items(&admin, dir, ids)).is_err() {
        gov.run(|tx| tx.import_org(&admin, org_file, &bytes)).unwrap();
        gov.run(|tx| tx.delete_items(&admin, dir, ids)).unwrap();
    }
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
    let rows: usize = String::from_utf8_lossy(&out_py.stdout).trim().parse().unwrap();

    // --retry-from over the splits plans exactly the failed records; the blob is still damaged,
    // so they fail again, each with its row.
    let error_csv = out.join("dmg").join("dmg-error.csv");
    let mut retry = extra.to_vec();
    retry.extend(["--retry-from", error_csv.to_str().unwrap(), "--json"]);
    let splits = Input::Splits(root_s, &cache);
    let (code, o, e, _) = export(&[], &splits, "dmg2", &out, &retry, env);
    assert_eq!(code, 3, "{o}{e}");
    let v: serde_json::Value = serde_json::from_str(&o).unwrap();
    let t = &v["summary"]["totals"];
    assert_eq!(t["in_scope"], rows, "{t}");
    assert_eq!(t["failed_non_transient"], rows, "{t}");
}

#[test]
fn export_over_splits_on_seaweedfs_is_the_collections_export() {
    let dir = tempfile::tempdir().unwrap();
    let Some((server, cfg)) = seaweed(&dir.path().join("weed")) else { return };
    let (all, parts) = org_and_parts(dir.path());
    let root = "s3://splits/org";
    publish_all(&parts, root, &cfg);
    let env = weed_env(server.s3);
    let extra = ["--corpus", "mail", "--compression", "deflate", "--threads", "2"];
    let cache = dir.path().join("cache");
    let out = dir.path().join("out");
    let (t_one, t_many) = same_export(&all, root, &cache, &out, "s3mail", &extra, &env, true);
    // Again with the cache warm: only the packs' stretches are read from the store.
    let splits = Input::Splits(root, &cache);
    let (code, o, e, t_warm) = export(&[], &splits, "s3mail", &out.join("warm"), &extra, &env);
    assert_eq!(code, 0, "{o}{e}");
    python_compare(&out.join("one/s3mail"), &out.join("warm/s3mail"), "s3mail");
    eprintln!(
        "mail deflate: export --collection {:.2} s, export --splits (SeaweedFS) {:.2} s with a \
         fresh cache, {:.2} s warm",
        t_one.as_secs_f64(),
        t_many.as_secs_f64(),
        t_warm.as_secs_f64()
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
