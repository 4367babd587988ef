//! The SpamAssassin corpus (6,046 real messages): every message ingested from mbox and from
//! Maildir, every stored message's MD5 and size equal to the manifest's. Skipped, with a message,
//! when the corpus has not been built.

use super::common::*;
use ediscovery::ingest::Source;
use ediscovery::{CollectionWriter, IngestOptions, NoProgress};
use std::collections::HashMap;
use std::path::Path;

struct Row {
    account: String,
    md5: String,
    size: u64,
    mbox_index: u64,
    maildir_path: String,
}

fn manifest(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (a, m, s, i, p) =
        (col("account"), col("msg_md5"), col("msg_size"), col("mbox_index"), col("maildir_path"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Row {
                account: f[a].to_owned(),
                md5: f[m].to_owned(),
                size: f[s].parse().unwrap(),
                mbox_index: f[i].parse().unwrap(),
                maildir_path: f[p].to_owned(),
            }
        })
        .collect()
}

fn accounts(rows: &[Row]) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|r| r.account.clone()).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn spamassassin_mbox_and_maildir_are_ingested_exactly() {
    let Some(dir) = corpus_dir() else { return };
    let rows = manifest(&dir);
    assert_eq!(rows.len(), 6046);
    let tmp = tempfile::tempdir().unwrap();

    for maildir in [false, true] {
        let cdir = tmp.path().join(if maildir { "maildir" } else { "mbox" });
        let mut w = CollectionWriter::open(&cdir, 0).unwrap();
        let (mut seen, mut ingested) = (0, 0);
        for a in accounts(&rows) {
            let src = if maildir {
                Source::Maildir(dir.join("maildir").join(&a))
            } else {
                Source::Mbox(dir.join("mbox").join(format!("{a}.mbox")))
            };
            let r = w.ingest(&src, &IngestOptions::new(account(&a)), &mut NoProgress).unwrap();
            assert!(r.rejected.is_empty(), "{a}: {:?}", r.rejected);
            assert!(r.balances());
            seen += r.seen;
            ingested += r.ingested;
        }
        let c = w.finish().unwrap();
        assert_eq!((seen, ingested), (6046, 6046), "maildir={maildir}");

        let key_of = |r: &Row| {
            if maildir {
                let name =
                    Path::new(&r.maildir_path).file_name().unwrap().to_string_lossy().into_owned();
                format!("{}/{}", r.account, name.split(":2,").next().unwrap())
            } else {
                format!("{}#{}", r.account, r.mbox_index)
            }
        };
        let got: HashMap<String, &ediscovery::model::Record> = c
            .store()
            .records()
            .iter()
            .map(|r| {
                let k = if maildir {
                    format!("{}{}", r.account, r.source.key)
                } else {
                    format!("{}#{}", r.account, r.source.key.rsplit('#').next().unwrap())
                };
                (k, r)
            })
            .collect();
        let mut no_final_newline = 0;
        for row in &rows {
            let rec = got.get(&key_of(row)).unwrap_or_else(|| panic!("missing {}", key_of(row)));
            let bytes = c.store().bytes(rec).unwrap();
            assert_eq!(ediscovery::digest::Md5::of(bytes), rec.blob.md5);
            if rec.blob.md5.to_string() == row.md5 && rec.blob.size == row.size {
                continue;
            }
            // The one thing mbox cannot carry: a message without a final newline gets one.
            let original = std::fs::read(dir.join(&row.maildir_path)).unwrap();
            assert!(!maildir, "Maildir must be exact: {}", row.maildir_path);
            assert!(!original.ends_with(b"\n"), "{} differs for another reason", row.maildir_path);
            assert_eq!(bytes, [&original[..], b"\n"].concat());
            no_final_newline += 1;
        }
        eprintln!(
            "maildir={maildir}: 6046 exact except {no_final_newline} without a final newline (mbox)"
        );
        assert!(no_final_newline <= 1, "{no_final_newline}");
    }
}
