//! Verify an organisation-wide export archive (`export::org`) as a whole, trusting nothing in
//! it: `checksums.md5` names every file (and only files) of the archive, each one hashed again;
//! names are at most `<folder>/<file>`, never `..`, never a link, FIFO or device; `report.json`
//! agrees with the checksums (every archive it links is listed with the same MD5) and with
//! itself (totals and status recomputed from its accounts); every zip of an account holds only
//! its products' entries (plain names under each product's folder, at the depth its layout
//! writes), and the records in them — mbox messages counted by streaming (an mbox continued
//! across zips as numbered copies, `…-2.mbox`), the entries of each space's `messages.json`
//! and its numbered copies `messages-2.json` … (parsed, size-capped), one per Drive file, one
//! per Voice page — are
//! exactly what the report says each account exported per product. Problems, never panics.

use super::VerifyReport;
use super::open::{md5_of, open_regular, read_capped};
use crate::Limits;
use crate::export::org::CHECKSUMS;
use crate::export::org::products::{Layout, is_copy_of, product_of_entry};
use crate::export::org::report::OrgReport;
use crate::format::{mbox, md5sum};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufReader, Read};
use std::path::Path;

/// Is `dir` an organisation archive (it has `report.json` and `checksums.md5`)?
pub fn is_org_archive(dir: &Path) -> bool {
    dir.join("report.json").is_file() && dir.join(CHECKSUMS).is_file()
}

/// A name the checksum file may hold: one or two `/`-separated parts, none empty, `.` or `..`.
fn name_ok(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    parts.len() <= 2
        && parts.iter().all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\\'))
}

/// Every name in the archive folder: root files, and the files of each folder one level down.
/// Anything that is not a regular file or (at the root) a folder is a problem.
fn listing(dir: &Path, problems: &mut Vec<String>) -> io::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let t = e.file_type()?;
        if t.is_file() {
            out.insert(name);
        } else if t.is_dir() {
            for f in std::fs::read_dir(e.path())? {
                let f = f?;
                let inner = format!("{name}/{}", f.file_name().to_string_lossy());
                if f.file_type()?.is_file() {
                    out.insert(inner);
                } else {
                    problems.push(format!(
                        "{inner}: not a regular file; an account folder holds only its zips"
                    ));
                }
            }
        } else {
            problems.push(format!("{name}: not a regular file or an account folder"));
        }
    }
    Ok(out)
}

/// Records per product in one zip; problems for anything else. `seen` holds the entry names
/// of the account's zips read so far: a name in two zips is a problem, as unpacking them into
/// one folder would keep one copy.
fn count_zip(
    dir: &Path,
    name: &str,
    limits: &Limits,
    seen: &mut BTreeSet<String>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let file = match open_regular(dir, name) {
        Ok((f, _)) => f,
        Err(e) => {
            problems.push(format!("{name}: {e}"));
            return counts;
        }
    };
    let r = crate::format::zip::for_each_entry_sized(BufReader::new(file), |entry, size, rd| {
        let Some((p, rest)) = product_of_entry(entry) else {
            problems.push(format!("{name}: entry {entry:?} is not a product's"));
            return Ok(());
        };
        if !seen.insert(entry.to_lowercase()) {
            problems.push(format!(
                "{name}: entry {entry:?} is in the account's zips twice (unpacked into one folder, one copy would be lost)"
            ));
        }
        if size > limits.verify_entry_bytes {
            problems.push(format!("{name}: {entry}: {size} bytes, more than verify reads"));
            return Ok(());
        }
        // Below the product's folder: plain names only (no `..`, `.`, empty or `\`), as deep
        // as the layout allows.
        let parts: Vec<&str> = rest.split('/').collect();
        let depth_ok = match p.layout {
            Layout::Mbox(_) => true,
            Layout::Chat => parts.len() == 2,
            Layout::Drive => !parts.is_empty(),
            Layout::Voice => parts.len() == 1,
        };
        if !matches!(p.layout, Layout::Mbox(_))
            && (!depth_ok
                || parts
                    .iter()
                    .any(|c| c.is_empty() || *c == "." || *c == ".." || c.contains('\\')))
        {
            problems.push(format!("{name}: entry {entry:?} is not a name {} writes", p.name));
            return Ok(());
        }
        let n = match p.layout {
            Layout::Mbox(_) => {
                let mut n = 0u64;
                for item in
                    mbox::MboxSplitter::new(BufReader::new(rd.take(limits.verify_entry_bytes)))
                {
                    match item? {
                        mbox::MboxItem::Message(m) => {
                            n += 1;
                            if m.truncated {
                                problems.push(format!(
                                    "{name}: {entry}: message {} is cut short",
                                    m.ordinal + 1
                                ));
                            }
                            if !crate::export::org::products::has_labels_header(&m.bytes) {
                                problems.push(format!(
                                    "{name}: {entry}: message {} has no X-Gmail-Labels header",
                                    m.ordinal + 1
                                ));
                            }
                        }
                        mbox::MboxItem::Preamble { .. } => {
                            problems
                                .push(format!("{name}: {entry}: bytes before the first message"));
                        }
                    }
                }
                n
            }
            Layout::Chat if parts.get(1).is_some_and(|f| f.ends_with(".json")) => {
                let mut b = Vec::new();
                rd.take(limits.verify_entry_bytes).read_to_end(&mut b)?;
                let v: Option<serde_json::Value> = crate::check_json_depth(&b, limits.json_depth)
                    .ok()
                    .and_then(|()| serde_json::from_slice(&b).ok());
                match (parts.get(1).copied(), v) {
                    (Some(f), Some(v))
                        if is_copy_of(f, "messages.json") && v["messages"].is_array() =>
                    {
                        v["messages"].as_array().map_or(0, |a| a.len() as u64)
                    }
                    (Some("group_info.json"), Some(v)) if v.is_object() => 0,
                    (Some(f), _) => {
                        problems.push(format!("{name}: {entry}: not Takeout Chat's {f}"));
                        0
                    }
                    (None, _) => 0,
                }
            }
            // Attachments beside messages.json, audio beside a page: part of a record.
            Layout::Chat => 0,
            Layout::Voice => u64::from(rest.ends_with(".html")),
            Layout::Drive => 1,
        };
        *counts.entry(p.name.to_owned()).or_default() += n;
        Ok(())
    });
    if let Err(e) = r {
        problems.push(format!("{name}: not a readable zip: {e}"));
    }
    counts
}

/// Verify the organisation archive in `dir`.
pub fn verify_org(dir: &Path, limits: &Limits) -> io::Result<VerifyReport> {
    let mut rep = VerifyReport::default();
    let present = listing(dir, &mut rep.problems)?;
    let sums = match read_capped(dir, CHECKSUMS, limits.verify_record_bytes)
        .and_then(|b| md5sum::read(&b[..]).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            rep.problems.push(format!("{CHECKSUMS}: {e}"));
            return Ok(rep);
        }
    };
    let mut listed = BTreeMap::new();
    for (name, md5) in sums {
        if !name_ok(&name) {
            rep.problems.push(format!("{CHECKSUMS}: {name:?} is not a name inside the archive"));
            continue;
        }
        if listed.insert(name.clone(), md5).is_some() {
            rep.problems.push(format!("{CHECKSUMS}: {name} listed twice"));
        }
    }
    for (name, want) in &listed {
        match md5_of(dir, name) {
            Ok(got) if got == *want => rep.files += 1,
            Ok(got) => {
                rep.problems.push(format!("{name}: MD5 {got}, the checksum file says {want}"))
            }
            Err(e) => rep.problems.push(format!("{name}: {e}")),
        }
    }
    for name in &present {
        if name != CHECKSUMS && !listed.contains_key(name) {
            rep.problems.push(format!("{name}: not in {CHECKSUMS}"));
        }
    }
    for required in ["report.json", "report.html"] {
        if !listed.contains_key(required) {
            rep.problems.push(format!("{required}: missing from {CHECKSUMS}"));
        }
    }
    let report: OrgReport = match read_capped(dir, "report.json", limits.verify_record_bytes)
        .and_then(|b| {
            crate::check_json_depth(&b, limits.json_depth).map_err(|e| e.to_string())?;
            serde_json::from_slice(&b).map_err(|e| e.to_string())
        }) {
        Ok(r) => r,
        Err(e) => {
            rep.problems.push(format!("report.json: {e}"));
            return Ok(rep);
        }
    };
    rep.name = report.export_id.clone();
    rep.exports.push(report.export_id.clone());
    if dir.file_name().is_some_and(|n| n.to_string_lossy() != report.export_id) {
        rep.problems
            .push(format!("report.json is of export {}, the folder is not", report.export_id));
    }
    let mut again = report.clone();
    again.finish();
    if again.totals != report.totals || again.status != report.status {
        rep.problems
            .push("report.json: its totals or status do not add up from its accounts".to_owned());
    }
    let mut zips_of_reports = BTreeSet::new();
    for a in &report.accounts {
        let mut counted: BTreeMap<String, u64> = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for z in &a.archives {
            zips_of_reports.insert(z.path.clone());
            if !z.path.starts_with(&format!("{}/", a.folder)) || !name_ok(&z.path) {
                rep.problems.push(format!("{}: archive {:?} is not in its folder", a.id, z.path));
                continue;
            }
            match listed.get(&z.path) {
                Some(m) if m.to_hex() == z.md5 => {}
                Some(m) => rep.problems.push(format!(
                    "{}: report.json says MD5 {}, {CHECKSUMS} says {m}",
                    z.path, z.md5
                )),
                None => rep
                    .problems
                    .push(format!("{}: linked from the report but not in {CHECKSUMS}", z.path)),
            }
            for (p, n) in count_zip(dir, &z.path, limits, &mut seen, &mut rep.problems) {
                *counted.entry(p).or_default() += n;
            }
        }
        for (p, c) in &a.products {
            let got = counted.remove(p).unwrap_or(0);
            rep.messages += got;
            if got != c.exported {
                rep.problems.push(format!(
                    "{}: {p}: the report says {} exported, the zips hold {got}",
                    a.id, c.exported
                ));
            }
        }
        for (p, n) in counted {
            rep.problems.push(format!("{}: {p}: {n} messages the report does not count", a.id));
        }
        let sum: u64 = a.products.values().map(|c| c.exported).sum();
        let failed: u64 = a.products.values().map(|c| c.not_exported).sum();
        if sum != a.exported || failed != a.not_exported || a.failures.len() as u64 != failed {
            rep.problems.push(format!("{}: counts in the report do not add up", a.id));
        }
    }
    for name in listed.keys() {
        if name.ends_with(".zip") && !zips_of_reports.contains(name) {
            rep.problems.push(format!("{name}: a zip no account of the report links"));
        }
    }
    Ok(rep)
}
