//! Reconciling an export killed between its last two steps: the archive folder was renamed into
//! place (the journal already removed) but the finish was never recorded, so the governance
//! state still says `IN_PROGRESS` and the run cannot be resumed (there is no partial folder).
//!
//! The next run looks at each `IN_PROGRESS` export's folder in its output folder. Absent: the
//! run never got that far (a `.<id>.partial/` journal is resumed as usual). Present and whole —
//! `report.json` and `checksums.md5` there, every file the checksum file lists (report.json
//! among them) hashing to its MD5, and a report of this export (same id and start) — the rename
//! happened, so the archive's own report says how it finished and the export is recorded as
//! finished from it. Present but not whole: someone else's doing, a clear error.

use super::report::{OrgReport, Totals};
use super::{CHECKSUMS, OrgExportError};
use crate::digest::Md5Writer;
use crate::format::md5sum;
use crate::governance::{OrgExportFinish, OrgExportRecord};
use std::io::{self, BufReader, Read};
use std::path::Path;

/// The largest `report.json` or `checksums.md5` read back (a report lists every account once).
const MAX_ROOT_FILE: u64 = 256 << 20;

/// The status an export's record takes from its totals.
pub(crate) fn record_status(t: &Totals) -> &'static str {
    if t.not_exported > 0 { "COMPLETED_WITH_ERRORS" } else { "COMPLETED" }
}

/// A name the checksum file may hold: one or two plain `/`-separated parts.
fn inside(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    parts.len() <= 2
        && parts.iter().all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\\'))
}

/// `path` opened as a regular file (never through a link), or why not.
fn open(path: &Path, name: &str) -> Result<(std::fs::File, std::fs::Metadata), String> {
    crate::fs_safe::open_regular(path).map_err(|e| match e {
        crate::fs_safe::NotRegular::Kind(k) => format!("{name}: it is {k}"),
        crate::fs_safe::NotRegular::Io(e) => format!("{name}: {e}"),
    })
}

fn read_root_file(dir: &Path, name: &str) -> Result<Vec<u8>, String> {
    let path = dir.join(name);
    let (f, meta) = open(&path, name)?;
    if meta.len() > MAX_ROOT_FILE {
        return Err(format!("{name}: {} bytes, more than a report holds", meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(MAX_ROOT_FILE).read_to_end(&mut bytes).map_err(|e| format!("{name}: {e}"))?;
    Ok(bytes)
}

/// Is `dir` the whole archive of `record`? `Ok(None)`: there is no such folder; `Err`: there is
/// one, and why it is not a finished archive of this export.
pub(crate) fn finished_archive(
    dir: &Path,
    record: &OrgExportRecord,
) -> Result<Option<OrgExportFinish>, String> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
        Ok(m) if !m.is_dir() => return Err("not a folder".to_owned()),
        Ok(_) => {}
    }
    let sums = md5sum::read(&read_root_file(dir, CHECKSUMS)?[..])
        .map_err(|e| format!("{CHECKSUMS}: {e}"))?;
    if !sums.iter().any(|(n, _)| n == "report.json") {
        return Err(format!("{CHECKSUMS} does not list report.json"));
    }
    for (name, want) in &sums {
        if !inside(name) {
            return Err(format!("{CHECKSUMS}: {name:?} is not a name inside the archive"));
        }
        let (f, _) = open(&dir.join(name), name)?;
        let mut w = Md5Writer::new(io::sink());
        io::copy(&mut BufReader::with_capacity(1 << 20, f), &mut w)
            .map_err(|e| format!("{name}: {e}"))?;
        let got = w.finish().1;
        if got != *want {
            return Err(format!("{name}: MD5 {got}, {CHECKSUMS} says {want}"));
        }
    }
    let bytes = read_root_file(dir, "report.json")?;
    crate::check_json_depth(&bytes, crate::Limits::default().json_depth)
        .map_err(|e| format!("report.json: {e}"))?;
    let report: OrgReport =
        serde_json::from_slice(&bytes).map_err(|e| format!("report.json: {e}"))?;
    if report.export_id != record.export_id || report.start_time != record.start_time {
        return Err(format!(
            "report.json is of export {} started at {}, not of {} started at {}",
            report.export_id, report.start_time, record.export_id, record.start_time
        ));
    }
    Ok(Some(OrgExportFinish {
        status: record_status(&report.totals).to_owned(),
        accounts: report.totals.accounts,
        dir: dir.display().to_string(),
        finish_time: report.finish_time,
        counts: serde_json::json!(report.totals),
    }))
}

/// The `IN_PROGRESS` exports of `records` whose archive is whole in `out`, with how each
/// finished; an error for one whose folder is there but not whole.
pub(crate) fn finished_in(
    out: &Path,
    records: &[OrgExportRecord],
) -> Result<Vec<(String, OrgExportFinish)>, OrgExportError> {
    let mut found = Vec::new();
    for r in records.iter().filter(|r| r.status == "IN_PROGRESS") {
        let dir = out.join(&r.export_id);
        match finished_archive(&dir, r) {
            Ok(None) => {}
            Ok(Some(fin)) => found.push((r.export_id.clone(), fin)),
            Err(reason) => {
                return Err(OrgExportError::Resume {
                    path: dir,
                    reason: format!(
                        "export {} is in progress and this folder has its name, but it is not its finished archive ({reason}); move it away to go on",
                        r.export_id
                    ),
                });
            }
        }
    }
    Ok(found)
}
