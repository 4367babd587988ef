//! Re-read an export folder and check it against itself: every name inside the folder, every
//! checksum, every mbox message against its metadata `Hash`/`FileSize`, metadata XML ↔ CSV ↔ mbox
//! one to one, results counts and per-account balance against the summary.

use crate::digest::{Md5, Md5Hasher};
use crate::export::Summary;
use crate::format::{self, mbox, md5sum, xml};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// What `verify` found.
#[derive(Debug, Default, Serialize)]
pub struct VerifyReport {
    /// The export name.
    pub name: String,
    /// Files checked against the checksum file.
    pub files: usize,
    /// mbox messages read.
    pub messages: u64,
    /// Everything that is wrong; empty when the export is sound.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// No problems.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn md5_of_file(path: &Path) -> io::Result<Md5> {
    let mut f = File::open(path)?;
    let mut h = Md5Hasher::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    }
}

/// Verify the export in `dir`. `Err` only when the folder cannot be read at all.
pub fn verify(dir: &Path) -> io::Result<VerifyReport> {
    let mut rep = VerifyReport::default();
    let mut p = |s: String| rep.problems.push(s);
    let names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let sums: Vec<&String> = names.iter().filter(|n| n.ends_with("-checksums.md5")).collect();
    let [sums_name] = sums.as_slice() else {
        p(format!("expected exactly one *-checksums.md5, found {}", sums.len()));
        return Ok(rep);
    };
    let name = sums_name.trim_end_matches("-checksums.md5").to_owned();
    for n in &names {
        if n.ends_with(".partial") {
            p(format!("{n}: an unfinished file"));
        }
    }
    let listed = md5sum::read(BufReader::new(File::open(dir.join(sums_name))?))?;
    let listed_names: BTreeSet<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    for n in names.iter().filter(|n| n.starts_with(&format!("{name}-")) && *n != *sums_name) {
        if !listed_names.contains(n.as_str()) {
            p(format!("{n}: not in the checksum file"));
        }
    }
    for (n, want) in &listed {
        let plain = !n.is_empty()
            && !n.contains(['/', '\\'])
            && n != "."
            && n != ".."
            && !n.starts_with('.');
        if !plain {
            p(format!("{n:?}: not a plain file name inside the export folder"));
            continue;
        }
        match md5_of_file(&dir.join(n)) {
            Ok(got) if got == *want => {}
            Ok(got) => p(format!("{n}: MD5 {got}, checksum file says {want}")),
            Err(e) => p(format!("{n}: {e}")),
        }
    }
    rep.files = listed.len();
    rep.name = name.clone();

    let summary: Summary = match File::open(dir.join(format!("{name}-summary.json"))) {
        Ok(f) => match serde_json::from_reader(BufReader::new(f)) {
            Ok(s) => s,
            Err(e) => {
                rep.problems.push(format!("summary: {e}"));
                return Ok(rep);
            }
        },
        Err(e) => {
            rep.problems.push(format!("summary: {e}"));
            return Ok(rep);
        }
    };
    let mut p = |s: String| rep.problems.push(s);
    for b in summary.accounts.iter().chain([&summary.totals]) {
        if !b.balances() {
            p(format!(
                "{}: in scope {} ≠ exported {} + failed {} + excluded {}",
                b.account,
                b.in_scope,
                b.exported,
                b.failed(),
                b.excluded
            ));
        }
    }

    // Metadata XML: DocID → (account, size, hash).
    let (_, docs) =
        xml::read(BufReader::new(File::open(dir.join(format!("{name}-metadata.xml")))?))?;
    let mut meta: BTreeMap<String, (String, u64, String)> = BTreeMap::new();
    for d in docs {
        let account =
            d.tags.iter().find(|(k, _)| k == "Account").map(|(_, v)| v.clone()).unwrap_or_default();
        match d.file {
            Some((file, size, hash)) if file == d.doc_id => {
                if meta.insert(d.doc_id.clone(), (account, size, hash)).is_some() {
                    p(format!("metadata.xml: DocID {} twice", d.doc_id));
                }
            }
            _ => p(format!("metadata.xml: DocID {} has no matching ExternalFile", d.doc_id)),
        }
    }

    // mbox messages in the zips.
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut exported_per_account: BTreeMap<String, u64> = BTreeMap::new();
    let mut given_newline = 0;
    let zips: Vec<String> =
        listed_names.iter().filter(|n| n.ends_with(".zip")).map(|n| (*n).to_owned()).collect();
    for z in &zips {
        let f = File::open(dir.join(z))?;
        let mut problems = Vec::new();
        let res = format::zip::for_each_entry(f, |entry, r| {
            if entry.contains(['/', '\\']) || entry.starts_with('.') || !entry.ends_with(".mbox") {
                problems.push(format!("{z}: entry {entry:?} is not a plain mbox name"));
            }
            for item in mbox::MboxSplitter::new(BufReader::new(r)) {
                match item? {
                    mbox::MboxItem::Preamble { .. } => {
                        problems.push(format!("{z}/{entry}: bytes before the first From_ line"))
                    }
                    mbox::MboxItem::Message(m) => {
                        rep.messages += 1;
                        let env = String::from_utf8_lossy(&m.envelope);
                        let doc_id = env.split('@').next().unwrap_or("").to_owned();
                        let Some((account, size, hash)) = meta.get(&doc_id) else {
                            problems.push(format!("{z}/{entry}: message {doc_id} has no metadata"));
                            continue;
                        };
                        let mut bytes = &m.bytes[..];
                        if Md5::of(bytes).to_hex() != *hash && bytes.ends_with(b"\n") {
                            // The framer adds a line feed to a message that had none.
                            bytes = &bytes[..bytes.len() - 1];
                            given_newline += 1;
                        }
                        if Md5::of(bytes).to_hex() != *hash || bytes.len() as u64 != *size {
                            problems.push(format!(
                                "{z}/{entry}: message {doc_id} does not match its Hash/FileSize"
                            ));
                        }
                        if seen.insert(doc_id.clone(), z.clone()).is_some() {
                            problems.push(format!("{z}/{entry}: message {doc_id} appears twice"));
                        }
                        *exported_per_account.entry(account.clone()).or_default() += 1;
                    }
                }
            }
            Ok(())
        });
        if let Err(e) = res {
            problems.push(format!("{z}: {e}"));
        }
        rep.problems.extend(problems);
    }
    let mut p = |s: String| rep.problems.push(s);
    for d in meta.keys().filter(|d| !seen.contains_key(*d)) {
        p(format!("metadata.xml: DocID {d} is in no mbox"));
    }
    if given_newline != summary.messages_given_final_newline {
        p(format!(
            "{given_newline} messages were given a final newline, summary says {}",
            summary.messages_given_final_newline
        ));
    }
    for b in &summary.accounts {
        let n = exported_per_account.get(&b.account).copied().unwrap_or(0);
        if n != b.exported {
            p(format!(
                "{}: {n} messages in the zips, summary says {} exported",
                b.account, b.exported
            ));
        }
    }

    // metadata.csv (mail) ↔ XML.
    if let Ok(f) = File::open(dir.join(format!("{name}-metadata.csv"))) {
        let (header, rows) = format::csv::read(f)?;
        let col = |n: &str| header.iter().position(|h| h == n);
        if let (Some(d), Some(s), Some(h)) = (col("DocID"), col("FileSize"), col("Hash")) {
            let mut csv_ids = BTreeSet::new();
            for r in &rows {
                let id = format::csv::unguard(&r[d]).to_owned();
                match meta.get(&id) {
                    Some((_, size, hash)) if r[s] == size.to_string() && r[h] == *hash => {}
                    _ => p(format!("metadata.csv: row {id} does not match metadata.xml")),
                }
                csv_ids.insert(id);
            }
            if csv_ids.len() != meta.len() || rows.len() != meta.len() {
                p(format!(
                    "metadata.csv has {} rows, metadata.xml {} documents",
                    rows.len(),
                    meta.len()
                ));
            }
        } else {
            p("metadata.csv: missing DocID/FileSize/Hash columns".to_owned());
        }
    } else if summary.corpus == "mail" {
        p("metadata.csv is missing".to_owned());
    }

    // results-count ↔ summary.
    let (_, rows) = format::csv::read(File::open(dir.join(format!("{name}-results-count.csv")))?)?;
    let counts: BTreeMap<String, u64> = rows
        .iter()
        .map(|r| (format::csv::unguard(&r[0]).to_owned(), r[1].parse().unwrap_or(u64::MAX)))
        .collect();
    for b in &summary.accounts {
        let want = if b.in_scope > 0 { Some(b.in_scope) } else { None };
        if counts.get(&b.account).copied() != want {
            p(format!(
                "results-count: {} is {:?}, summary says {}",
                b.account,
                counts.get(&b.account),
                b.in_scope
            ));
        }
    }
    // error.csv ↔ failures.
    let failed = summary.totals.failed();
    match File::open(dir.join(format!("{name}-error.csv"))) {
        Ok(f) => {
            let (_, rows) = format::csv::read(f)?;
            if rows.len() as u64 != failed {
                p(format!("error.csv has {} rows, summary says {failed} failed", rows.len()));
            }
        }
        Err(_) if failed == 0 => {}
        Err(e) => p(format!("error.csv: {e}")),
    }
    Ok(rep)
}
