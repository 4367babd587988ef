//! Re-read an export folder and check it against itself: every name inside the folder, every
//! checksum, every mbox message against its metadata `Hash`/`FileSize`, metadata XML ↔ CSV ↔ mbox
//! one to one, each message in its own account's mbox, mbox names unique across the export,
//! results counts and per-account balance against the summary.
//!
//! An export folder may have been damaged or built to hurt whoever reads it, so `verify` trusts
//! nothing in it: everything wrong is a problem in the report, never a panic, a hang or an
//! out-of-memory, and only a folder that cannot be listed is an `Err`.
//!
//! - Only regular files directly in the folder are opened; a symbolic link, FIFO, device or
//!   folder where a file should be is named as a problem, never followed or read
//!   (see `open.rs`).
//! - The folder holds one export, `NAME`, named by its single `NAME-checksums.md5`. A file
//!   belongs to it only in one of the forms the writer makes (`NAME-<n>.zip`,
//!   `NAME-metadata.xml`, …), so `X-1-metadata.xml` is never part of export `X`; every other
//!   file is a stray problem.
//! - `summary.json` and the checksum file are read whole up to
//!   [`Limits::verify_record_bytes`]; CSV and XML files are streamed a row or a document at a
//!   time, each at most that.
//! - Zip entries are streamed: messages are hashed as they pass (see `mbox.rs`), no line is held
//!   whole, and an entry that inflates past [`Limits::verify_entry_bytes`] is not read.

mod mbox;
mod names;
mod open;
mod org;

pub use org::{is_org_archive, verify_org};

use crate::Limits;
use crate::export::Summary;
use crate::format::{self, md5sum, xml};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufReader, Read};
use std::path::Path;

/// What `verify` found.
#[derive(Debug, Default, Serialize)]
pub struct VerifyReport {
    /// The export name (names, comma-separated, when the folder holds several).
    pub name: String,
    /// Every export found in the folder (one per checksum file).
    pub exports: Vec<String>,
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

/// Verify the export in `dir` under the default [`Limits`]. `Err` only when the folder cannot be
/// read at all.
pub fn verify(dir: &Path) -> io::Result<VerifyReport> {
    verify_with(dir, &Limits::default())
}

/// Verify the export in `dir` under `limits` (`verify_entry_bytes`, `verify_line_bytes`,
/// `json_depth`). `Err` only when the folder cannot be listed; everything else is a problem in
/// the report.
pub fn verify_with(dir: &Path, limits: &Limits) -> io::Result<VerifyReport> {
    let mut files: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut rep = VerifyReport::default();
    let exports: Vec<(String, String)> = files
        .iter()
        .filter_map(|n| names::checksum_export(n).map(|e| (n.clone(), e.to_owned())))
        .collect();
    if exports.is_empty() {
        rep.problems.push(
            "no NAME-checksums.md5 in the folder: not an export folder, or its checksum file was \
             never written"
                .to_owned(),
        );
        return Ok(rep);
    }
    // A folder may hold several exports (the org-wide export writes one per corpus): each is
    // verified on its own files (names are exact, so `X-1-…` never counts as a file of `X`),
    // and a file that belongs to none of them is a stray.
    for n in &files {
        let ours =
            exports.iter().any(|(_, e)| names::is_export_file(n, e) || names::is_partial(n, e));
        if !ours {
            let list: Vec<&str> = exports.iter().map(|(_, e)| e.as_str()).collect();
            rep.problems.push(format!(
                "{n}: not in any checksum file and not a file of export {}",
                list.join(" or ")
            ));
        }
    }
    let several = exports.len() > 1;
    for (sums_name, name) in exports {
        let own: Vec<String> = files
            .iter()
            .filter(|n| names::is_export_file(n, &name) || names::is_partial(n, &name))
            .cloned()
            .collect();
        let mut v = Verifier { dir, name: name.clone(), limits, rep: VerifyReport::default() };
        v.run(&own, &sums_name);
        let mut r = v.rep;
        // A file that cannot be read is met by more than one check; say it once.
        let mut said = std::collections::HashSet::new();
        r.problems.retain(|p| said.insert(p.clone()));
        rep.exports.push(name.clone());
        rep.files += r.files;
        rep.messages += r.messages;
        rep.problems.extend(
            r.problems.into_iter().map(|p| if several { format!("{name}: {p}") } else { p }),
        );
    }
    rep.name = rep.exports.join(", ");
    Ok(rep)
}

/// What the metadata XML says about one document (the map holding it is keyed by its
/// `FileName`, the link to its mbox message).
#[derive(Debug)]
struct Doc {
    doc_id: String,
    account: String,
    size: u64,
    hash: String,
}

/// What the summary says that changes how messages are checked.
#[derive(Default)]
struct Mode {
    /// `lineEndings: crlf`: `Hash`/`FileSize` describe the exported (converted) bytes, final
    /// CRLF included, so nothing is trimmed before comparing.
    crlf: bool,
    /// mbox entry → the account whose messages it holds (the summary's `zips`).
    entry_account: BTreeMap<String, String>,
}

/// One mbox entry as read.
struct Entry {
    /// `zip/entry`, for problems.
    label: String,
    name: String,
    accounts: BTreeSet<String>,
}

/// What the zips hold, gathered while they stream past.
#[derive(Default)]
struct Seen {
    mode: Mode,
    /// DocID → where it was.
    docs: BTreeMap<String, String>,
    per_account: BTreeMap<String, u64>,
    given_newline: u64,
    messages: u64,
    entries: Vec<Entry>,
    /// Entry name → the zip it was first seen in.
    entry_zip: BTreeMap<String, String>,
    problems: Vec<String>,
}

struct Verifier<'a> {
    dir: &'a Path,
    name: String,
    limits: &'a Limits,
    rep: VerifyReport,
}

impl Verifier<'_> {
    fn p(&mut self, s: String) {
        self.rep.problems.push(s);
    }

    fn file(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.name)
    }

    fn run(&mut self, files: &[String], sums_name: &str) {
        let Some(listed) = self.checksums(files, sums_name) else { return };
        let Some(summary) = self.summary() else { return };
        for b in summary.accounts.iter().chain([&summary.totals]) {
            if !b.balances() {
                self.p(format!(
                    "{}: in scope {} ≠ exported {} + failed {} + excluded {}",
                    b.account,
                    b.in_scope,
                    b.exported,
                    b.failed(),
                    b.excluded
                ));
            }
        }
        let meta = self.metadata_xml();
        let crlf =
            summary.request.ediscovery.line_endings == crate::export::request::LineEndings::Crlf;
        let mut entry_account = BTreeMap::new();
        for z in &summary.zips {
            if entry_account.insert(z.entry.clone(), z.account.clone()).is_some() {
                self.p(format!("summary: mbox entry {} is listed twice", z.entry));
            }
        }
        let mut zips: Vec<(u64, &String)> = listed
            .iter()
            .filter(|n| names::is_zip(n, &self.name))
            .map(|n| (zip_number(n, &self.name), n))
            .collect();
        zips.sort();
        let mut seen = Seen { mode: Mode { crlf, entry_account }, ..Seen::default() };
        for (_, z) in zips {
            self.mboxes(z, &meta, &mut seen);
        }
        self.rep.messages = seen.messages;
        let problems = std::mem::take(&mut seen.problems);
        self.rep.problems.extend(problems);
        for (f, d) in meta.iter().filter(|(f, _)| !seen.docs.contains_key(*f)) {
            self.p(format!("metadata.xml: DocID {} ({f}) is in no mbox", d.doc_id));
        }
        for z in &summary.zips {
            if !seen.entry_zip.contains_key(&z.entry) {
                self.p(format!("summary: mbox entry {} ({}) is in no zip", z.entry, z.file));
            }
        }
        // With CRLF line endings the added CRLF is part of the exported bytes and their Hash, so
        // the count cannot be read back from the mbox.
        if !crlf && seen.given_newline != summary.messages_given_final_newline {
            self.p(format!(
                "{} messages were given a final newline, summary says {}",
                seen.given_newline, summary.messages_given_final_newline
            ));
        }
        for b in &summary.accounts {
            let n = seen.per_account.get(&b.account).copied().unwrap_or(0);
            if n != b.exported {
                self.p(format!(
                    "{}: {n} messages in the zips, summary says {} exported",
                    b.account, b.exported
                ));
            }
        }
        self.placement(&seen);
        self.metadata_csv(&meta, &summary.corpus, summary.request.ediscovery.csv_formula_guard);
        self.results_count(&summary);
        self.error_csv(summary.totals.failed());
    }

    /// Names in the folder against the checksum file, and every listed file's MD5. The listed
    /// names, or `None` when the checksum file cannot be read.
    fn checksums(&mut self, files: &[String], sums_name: &str) -> Option<Vec<String>> {
        let listed = match open::read_capped(self.dir, sums_name, self.limits.verify_record_bytes)
            .and_then(|b| md5sum::read(&b[..]).map_err(|e| e.to_string()))
        {
            Ok(l) => l,
            Err(e) => {
                self.p(format!("{sums_name}: {e}"));
                return None;
            }
        };
        let mut listed_names = BTreeSet::new();
        for (n, _) in &listed {
            if !listed_names.insert(n.as_str()) {
                self.p(format!("{n}: listed twice in the checksum file"));
            }
        }
        for n in files.iter().filter(|n| *n != sums_name) {
            if names::is_partial(n, &self.name) {
                self.p(format!("{n}: an unfinished file"));
            } else if listed_names.contains(n.as_str()) {
            } else if names::is_export_file(n, &self.name) {
                self.p(format!("{n}: not in the checksum file"));
            } else {
                self.p(format!(
                    "{n}: not in the checksum file and not a file of export {}",
                    self.name
                ));
            }
        }
        for (n, want) in &listed {
            let plain = !n.is_empty()
                && !n.contains(['/', '\\'])
                && n != "."
                && n != ".."
                && !n.starts_with('.');
            if !plain {
                self.p(format!("{n:?}: not a plain file name inside the export folder"));
                continue;
            }
            if !names::is_export_file(n, &self.name) {
                self.p(format!(
                    "{n}: listed in the checksum file but not a file of export {}",
                    self.name
                ));
            }
            match open::md5_of(self.dir, n) {
                Ok(got) if got == *want => {}
                Ok(got) => self.p(format!("{n}: MD5 {got}, checksum file says {want}")),
                Err(e) => self.p(format!("{n}: {e}")),
            }
        }
        self.rep.files = listed.len();
        let plain: Vec<String> = listed_names
            .into_iter()
            .filter(|n| !n.contains(['/', '\\']) && !n.starts_with('.'))
            .map(str::to_owned)
            .collect();
        Some(plain)
    }

    fn summary(&mut self) -> Option<Summary> {
        let file = self.file("summary.json");
        let parsed =
            open::read_capped(self.dir, &file, self.limits.verify_record_bytes).and_then(|b| {
                crate::check_json_depth(&b, self.limits.json_depth).map_err(|e| e.to_string())?;
                serde_json::from_slice::<Summary>(&b).map_err(|e| e.to_string())
            });
        match parsed {
            Ok(s) => Some(s),
            Err(e) => {
                self.p(format!("{file}: {e}"));
                None
            }
        }
    }

    /// `FileName` → what the metadata XML says about the document. Each `FileName` must have the
    /// form review tools match (`<digits>-<uuid>.mbox`) with the DocID as the UUID.
    fn metadata_xml(&mut self) -> BTreeMap<String, Doc> {
        let file = self.file("metadata.xml");
        let mut meta = BTreeMap::new();
        let mut ids = BTreeSet::new();
        let mut problems = Vec::new();
        let read = open::open_regular(self.dir, &file).and_then(|(f, _)| {
            xml::for_each_document(f, self.limits.verify_record_bytes, |d| {
                let tag = |k: &str| d.tags.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let account = tag("Account").unwrap_or_default();
                for t in d.tags.iter().filter(|(n, _)| n.starts_with("#Date")) {
                    if !names::is_vault_datetime(&t.1) {
                        problems.push(format!(
                            "metadata.xml: DocID {}: {} {:?} is not yyyy-MM-ddTHH:mm:ss.SSSZ",
                            d.doc_id, t.0, t.1
                        ));
                    }
                }
                match &d.file {
                    Some((name, size, hash)) if names::file_name_doc_id(name).as_deref() == Some(d.doc_id.as_str()) => {
                        let doc = Doc {
                            doc_id: d.doc_id.clone(),
                            account,
                            size: *size,
                            hash: hash.clone(),
                        };
                        if !ids.insert(d.doc_id.clone()) || meta.insert(name.clone(), doc).is_some() {
                            problems.push(format!("metadata.xml: DocID {} twice", d.doc_id));
                        }
                    }
                    _ => problems.push(format!(
                        "metadata.xml: DocID {} has no ExternalFile named <digits>-<its DocID as a UUID>.mbox",
                        d.doc_id
                    )),
                }
                Ok(())
            })
            .map(drop)
            .map_err(|e| e.to_string())
        });
        self.rep.problems.extend(problems);
        if let Err(e) = read {
            self.p(format!("{file}: {e}"));
        }
        meta
    }

    /// Stream every mbox entry of zip `z`.
    fn mboxes(&mut self, z: &str, meta: &BTreeMap<String, Doc>, seen: &mut Seen) {
        // A zip that cannot be opened was reported by the checksum pass already.
        let Ok((f, _)) = open::open_regular(self.dir, z) else { return };
        let prefix = format!("{}-", self.name);
        let (cap, line_cap) = (self.limits.verify_entry_bytes, self.limits.verify_line_bytes);
        let res = format::zip::for_each_entry_sized(f, |entry, size, r| {
            let label = format!("{z}/{entry}");
            if entry.contains(['/', '\\'])
                || entry.starts_with('.')
                || !entry.ends_with(".mbox")
                || !entry.starts_with(&prefix)
            {
                seen.problems.push(format!("{z}: entry {entry:?} is not a plain mbox name"));
            }
            match seen.entry_zip.get(entry) {
                Some(other) => {
                    seen.problems.push(format!("{label}: the entry name is also in {other}"))
                }
                None => {
                    seen.entry_zip.insert(entry.to_owned(), z.to_owned());
                }
            }
            if size > cap {
                seen.problems.push(format!(
                    "{label}: inflates to {size} bytes, past Limits::verify_entry_bytes ({cap}); \
                     not read"
                ));
                return Ok(());
            }
            let mut capped = Capped { inner: r, left: cap, over: false };
            let mut accounts = BTreeSet::new();
            let mut br = BufReader::with_capacity(64 << 10, &mut capped);
            let res = mbox::split(&mut br, line_cap, |item| {
                message(seen, meta, &label, entry, &mut accounts, item);
            });
            drop(br);
            if capped.over {
                seen.problems.push(format!(
                    "{label}: inflates past Limits::verify_entry_bytes ({cap} bytes); not read \
                     further"
                ));
            } else if let Err(e) = res {
                seen.problems.push(format!("{label}: {e}"));
            }
            seen.entries.push(Entry { label, name: entry.to_owned(), accounts });
            Ok(())
        });
        if let Err(e) = res {
            seen.problems.push(format!("{z}: {e}"));
        }
    }

    /// Each mbox holds one account's messages, and each account's mboxes are one name and its
    /// numbered parts (`NAME-<acct>.mbox`, `NAME-<acct>-2.mbox`, …). Names are compared with each
    /// other, never re-derived from the account, so the writer may disambiguate them as it likes.
    fn placement(&mut self, seen: &Seen) {
        let mut by_account: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for e in &seen.entries {
            match e.accounts.len() {
                0 => {}
                1 => {
                    if let Some(a) = e.accounts.first() {
                        by_account.entry(a.as_str()).or_default().push(e.name.as_str());
                    }
                }
                n => {
                    let some: Vec<&str> = e.accounts.iter().take(3).map(String::as_str).collect();
                    let more = if n > 3 { ", …" } else { "" };
                    self.p(format!(
                        "{}: holds messages of {n} accounts ({}{more}); an mbox holds one \
                         account's",
                        e.label,
                        some.join(", ")
                    ));
                }
            }
        }
        let prefix = format!("{}-", self.name);
        for (account, entries) in by_account {
            let stem = |n: &'_ str| -> String {
                let n = n.strip_prefix(&prefix).unwrap_or(n);
                n.strip_suffix(".mbox").unwrap_or(n).to_owned()
            };
            let Some(base) = entries.iter().map(|e| stem(e)).min_by_key(|s| (s.len(), s.clone()))
            else {
                continue;
            };
            for e in &entries {
                let s = stem(e);
                let part = s
                    .strip_prefix(base.as_str())
                    .map(|r| r.is_empty() || r.strip_prefix('-').is_some_and(is_number));
                if part != Some(true) {
                    self.p(format!(
                        "{account}: messages are in mboxes of different names ({prefix}{base}.mbox, {e})"
                    ));
                }
            }
        }
    }

    /// metadata.csv (mail) ↔ XML. `guarded`: cells carry the formula guard (the summary's
    /// `csvFormulaGuard`), undone before comparing.
    fn metadata_csv(&mut self, meta: &BTreeMap<String, Doc>, corpus: &str, guarded: bool) {
        let file = self.file("metadata.csv");
        if std::fs::symlink_metadata(self.dir.join(&file)).is_err() {
            if corpus == "mail" {
                self.p(format!("{file} is missing"));
            }
            return;
        }
        let mut csv_ids = BTreeSet::new();
        let mut rows = 0usize;
        let res = self.each_row(&file, |header, n, r, problems| {
            let col = |c: &str| header.iter().position(|h| h == c);
            let (Some(d), Some(fname), Some(s), Some(h)) =
                (col("DocID"), col("FileName"), col("FileSize"), col("Hash"))
            else {
                problems.push(format!("{file}: missing DocID/FileName/FileSize/Hash columns"));
                return false;
            };
            rows += 1;
            let (Some(id), Some(fname), Some(size), Some(hash)) =
                (r.get(d), r.get(fname), r.get(s), r.get(h))
            else {
                return true;
            };
            let unguard =
                |c: &str| if guarded { format::csv::unguard(c).to_owned() } else { c.to_owned() };
            let (id, fname) = (unguard(id), unguard(fname));
            match meta.get(&fname) {
                Some(m) if m.doc_id == id && *size == m.size.to_string() && *hash == m.hash => {}
                _ => problems.push(format!("{file}: row {n} ({id}) does not match metadata.xml")),
            }
            csv_ids.insert(fname);
            true
        });
        if res && (csv_ids.len() != meta.len() || rows != meta.len()) {
            self.p(format!("{file} has {rows} rows, metadata.xml {} documents", meta.len()));
        }
    }

    /// results-count ↔ summary.
    fn results_count(&mut self, summary: &Summary) {
        let guarded = summary.request.ediscovery.csv_formula_guard;
        let file = self.file("results-count.csv");
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let read = self.each_row(&file, |header, n, r, problems| {
            let col = |c: &str| header.iter().position(|h| h == c);
            let (Some(a), Some(c)) = (col("Account"), col("Count")) else {
                problems.push(format!("{file}: missing Account/Count columns"));
                return false;
            };
            let (Some(account), Some(count)) = (r.get(a), r.get(c)) else { return true };
            let account = if guarded { format::csv::unguard(account) } else { account }.to_owned();
            match count.parse::<u64>() {
                Ok(k) => {
                    if counts.insert(account.clone(), k).is_some() {
                        problems.push(format!("{file}: row {n}: {account} listed twice"));
                    }
                }
                Err(_) => {
                    problems.push(format!("{file}: row {n}: count {count:?} is not a number"))
                }
            }
            true
        });
        if !read {
            return;
        }
        for b in &summary.accounts {
            let want = if b.in_scope > 0 { Some(b.in_scope) } else { None };
            if counts.get(&b.account).copied() != want {
                self.p(format!(
                    "{file}: {} is {:?}, summary says {}",
                    b.account,
                    counts.get(&b.account),
                    b.in_scope
                ));
            }
        }
    }

    /// error.csv ↔ failures.
    fn error_csv(&mut self, failed: u64) {
        let file = self.file("error.csv");
        if std::fs::symlink_metadata(self.dir.join(&file)).is_err() {
            if failed > 0 {
                self.p(format!("{file} is missing, summary says {failed} failed"));
            }
            return;
        }
        let mut rows = 0u64;
        let read = self.each_row(&file, |_, _, _, _| {
            rows += 1;
            true
        });
        if read && rows != failed {
            self.p(format!("{file} has {rows} rows, summary says {failed} failed"));
        }
    }

    /// Stream the rows of CSV `file` to `f(header, row number, row, problems)` (the header is row
    /// 1), reporting every row whose cell count differs from the header's. `f` returns false to
    /// stop. True when the whole file was read and `f` never stopped.
    fn each_row(
        &mut self,
        file: &str,
        mut f: impl FnMut(&[String], u64, &[String], &mut Vec<String>) -> bool,
    ) -> bool {
        let mut problems = Vec::new();
        let res = open::open_regular(self.dir, file).and_then(|(fh, _)| {
            let mut rows = format::csv::RowReader::new(fh, self.limits.verify_record_bytes)
                .map_err(|e| e.to_string())?;
            let header = rows.header().to_vec();
            if header.iter().all(String::is_empty) {
                return Err("no header row".to_owned());
            }
            let mut n = 1u64;
            while let Some(r) = rows.next_row().map_err(|e| format!("after row {n}: {e}"))? {
                n += 1;
                if r.len() != header.len() {
                    let s = if r.len() == 1 { "" } else { "s" };
                    problems.push(format!(
                        "{file}: row {n} has {} cell{s}, the header {}",
                        r.len(),
                        header.len()
                    ));
                }
                if !f(&header, n, &r, &mut problems) {
                    return Ok(false);
                }
            }
            Ok(true)
        });
        self.rep.problems.extend(problems);
        match res {
            Ok(done) => done,
            Err(e) => {
                self.p(format!("{file}: {e}"));
                false
            }
        }
    }
}

/// Check one item of an mbox against the metadata.
fn message(
    seen: &mut Seen,
    meta: &BTreeMap<String, Doc>,
    label: &str,
    entry: &str,
    accounts: &mut BTreeSet<String>,
    item: mbox::Item,
) {
    let m = match item {
        mbox::Item::Preamble => {
            seen.problems.push(format!("{label}: bytes before the first From_ line"));
            return;
        }
        mbox::Item::Message(m) => m,
    };
    seen.messages += 1;
    let env = String::from_utf8_lossy(&m.envelope);
    // `From <FileName>@xxx <date>`: the FileName links the message to its metadata.
    let file_name = env.split('@').next().unwrap_or("").to_owned();
    if m.truncated {
        seen.problems
            .push(format!("{label}: message {file_name} ends without its blank separator line"));
    }
    let Some(doc) = meta.get(&file_name) else {
        seen.problems.push(format!("{label}: message {file_name} has no metadata"));
        return;
    };
    let doc_id = &doc.doc_id;
    let (mut md5, mut size) = (m.md5, m.size);
    let trim = !seen.mode.crlf;
    if let Some(without) = m.md5_without_final_lf.filter(|_| trim && md5.to_hex() != doc.hash) {
        // The framer adds a line feed to a message that had none.
        (md5, size) = (without, size.saturating_sub(1));
        seen.given_newline += 1;
    }
    if md5.to_hex() != doc.hash || size != doc.size {
        seen.problems.push(format!("{label}: message {doc_id} does not match its Hash/FileSize"));
    }
    match seen.mode.entry_account.get(entry) {
        Some(holder) if *holder != doc.account => seen.problems.push(format!(
            "{label}: message {doc_id} of account {} sits in the mbox of {holder}",
            doc.account
        )),
        Some(_) => {}
        None => seen.problems.push(format!("{label}: the summary does not list this mbox entry")),
    }
    if seen.docs.insert(file_name.clone(), label.to_owned()).is_some() {
        seen.problems.push(format!("{label}: message {doc_id} appears twice"));
    }
    accounts.insert(doc.account.clone());
    *seen.per_account.entry(doc.account.clone()).or_default() += 1;
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `n` of `NAME-n.zip`, for ordering (0 when it is not one).
fn zip_number(file: &str, name: &str) -> u64 {
    file.strip_prefix(name)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_suffix(".zip"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// An entry reader that stops with an error once more than `left` bytes have come out of it.
struct Capped<'a> {
    inner: &'a mut dyn Read,
    left: u64,
    over: bool,
}

impl Read for Capped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more tells a file of exactly the limit from a longer one.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.over = true;
                    Err(io::Error::other("past Limits::verify_entry_bytes"))
                }
            };
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        self.left -= n as u64;
        Ok(n)
    }
}
