//! Drive exports (`../shared/spec/vault-export-facts.md` §6 and §19.3): `NAME_0.zip`,
//! `NAME_1.zip`… holding each file's original bytes as `<title>_<driveid><ext>`, a `Document`
//! per file with every documented tag (multi-valued ones as one comma list, `Hash` always),
//! `NAME-custodian-docid.csv`, and on failures a Drive-shaped `error.csv` with `title:"…"` retry
//! queries and `NAME-incomplete-accounts.csv`.
//!
//! Names are decided in the plan ([`plan_names`]), unique across the whole export, so zips can
//! be written in parallel and unzipping every zip into one folder loses nothing.

use super::ExportError;
use super::corpus_zip::{self, Units, part_bytes};
use super::metadata::Converted;
use super::plan::ExportPlan;
use super::plan::ZipPlan;
use super::run::{BlobSource, ExportProgress, Failure, Outcomes, RecordOutcome};
use super::tables::Tables;
use crate::format::csv::CsvWriter;
use crate::format::xml::{EdrmWriter, ExternalFile, Tag};
use crate::format::zip::{EntryOptions, ZipWriter};
use crate::model::{AccessRole, AccessVia, DocumentType, DriveMeta, Metadata, Record, time};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{self, Write};

/// The longest entry name, in characters (Vault shortens names to 128 so every unzip tool can
/// write them; whether Vault's 128 counts the id and extension is not documented — ours does).
pub const MAX_CHARS: usize = 128;

/// The longest entry name in bytes: file systems allow 255 bytes per name, and 128 characters
/// of a non-Latin script can take 512.
pub const MAX_BYTES: usize = 240;

/// Drive `error.csv` columns (Vault's, then class and retry query).
pub const ERROR_COLUMNS: [&str; 15] = [
    "Document ID",
    "Document type",
    "File type",
    "Title",
    "Size",
    "Creator",
    "Collaborators",
    "Viewers",
    "Others",
    "Creation time",
    "Last modified time",
    "Error description",
    "Drive Document ID",
    "Failure class",
    "Retry query",
];

/// The extension a Google-native file is exported with (Docs → DOCX, …).
fn native_ext(t: DocumentType) -> &'static str {
    match t {
        DocumentType::Document => ".docx",
        DocumentType::Spreadsheet => ".xlsx",
        DocumentType::Presentation => ".pptx",
        DocumentType::Form => ".zip",
        DocumentType::Drawing | DocumentType::SitesPage => ".pdf",
    }
}

/// A title's characters made safe for a file name inside a zip: letters and digits of any
/// script, space and `-_.,()+@&'=#~` are kept; every other character (`/`, `\`, `:`, NUL and
/// other controls, emoji and other symbols) becomes `_`; a run of dots becomes one dot (so `..`
/// never appears); a leading dot or space becomes `_`.
fn safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c.is_alphanumeric() || " -_.,()+@&'=#~".contains(c) { c } else { '_' };
        if !(c == '.' && out.ends_with('.')) {
            out.push(c);
        }
    }
    if out.starts_with(['.', ' ']) {
        out.replace_range(0..1, "_");
    }
    out
}

/// `<title>_<driveid><ext>` for a file: the extension is the title's own (`report.pdf`) or, for
/// a Google-native file, its export format's; the title part is shortened on a character
/// boundary so the whole name fits [`MAX_CHARS`] and [`MAX_BYTES`] (the `#Title` tag keeps the
/// full title); `suffix` (`_2`, …) is inserted before the extension when needed for uniqueness.
pub fn entry_name(d: &DriveMeta, suffix: &str) -> String {
    let title = d.title.as_str();
    let (stem, own_ext) = match title.rfind('.') {
        Some(i)
            if i > 0
                && title.len() - i <= 8
                && title[i + 1..].chars().all(|c| c.is_ascii_alphanumeric())
                && i + 1 < title.len() =>
        {
            (&title[..i], &title[i..])
        }
        _ => (title, ""),
    };
    let ext = match d.document_type {
        Some(t) => native_ext(t).to_owned(),
        None => own_ext.to_ascii_lowercase(),
    };
    let id: String = d
        .drive_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(64)
        .collect();
    let tail = format!("_{id}{suffix}{ext}");
    let mut stem = safe(stem).trim_end_matches(['.', ' ']).to_owned();
    let room_chars = MAX_CHARS.saturating_sub(tail.chars().count());
    let room_bytes = MAX_BYTES.saturating_sub(tail.len());
    let mut cut = 0;
    for (n, (i, c)) in stem.char_indices().enumerate() {
        if n >= room_chars || i + c.len_utf8() > room_bytes {
            break;
        }
        cut = i + c.len_utf8();
    }
    stem.truncate(cut);
    let stem = stem.trim_end_matches(['.', ' ']);
    let stem = if stem.is_empty() { "_" } else { stem };
    format!("{stem}{tail}")
}

/// Name every planned file, unique across the export (compared case-insensitively, as on the
/// file systems of most reviewers): a name already taken — the same file held by two custodians,
/// or two titles that became the same once made safe — gets `_2`, `_3`… before its extension.
pub fn plan_names(plan: &mut ExportPlan, store: &Tables<'_>) -> Result<(), ExportError> {
    let mut used: HashSet<String> = HashSet::new();
    for z in &mut plan.zips {
        z.names = Vec::with_capacity(z.records.len());
        for &seq in &z.records {
            let r = super::planned_record(store, seq)?;
            let name = match &r.meta {
                Metadata::Drive(d) => {
                    let mut n = 1u64;
                    loop {
                        let suffix = if n == 1 { String::new() } else { format!("_{n}") };
                        let name = entry_name(d, &suffix);
                        if used.insert(name.to_lowercase()) {
                            break name;
                        }
                        n += 1;
                    }
                }
                // Not a Drive file (a broken invariant): named by its DocID, still unique.
                _ => r.doc_id.to_string(),
            };
            z.names.push(name);
        }
    }
    Ok(())
}

/// Write every file of zip `z` as its own entry; a file whose bytes cannot be read is a failed
/// record and no entry.
pub fn write_entries<W: Write>(
    plan: &ExportPlan,
    z: &ZipPlan,
    store: &Tables<'_>,
    source: &dyn BlobSource,
    zip: &mut ZipWriter<W>,
    outcomes: &mut Outcomes,
    progress: &dyn ExportProgress,
) -> Units {
    for (i, &seq) in z.records.iter().enumerate() {
        let r = super::planned_record(store, seq)?;
        let bytes = match part_bytes(source, &r, r.parts.main(), true) {
            Ok(b) => b,
            Err(f) => {
                outcomes.push(seq, RecordOutcome::Failed(f));
                continue;
            }
        };
        let name = z.names.get(i).cloned().unwrap_or_else(|| r.doc_id.to_string());
        let opts = EntryOptions {
            compression: plan.compression,
            mtime: r.date(),
            large: bytes.len() as u64 > 3_900_000_000,
        };
        let res = zip.start_entry(&name, opts).map_err(io::Error::from).and_then(|mut e| {
            e.write_all(&bytes)?;
            e.finish().map_err(io::Error::from).map(drop)
        });
        if let Err(e) = res {
            return Ok(Err(e));
        }
        progress.advanced(1, bytes.len() as u64);
        outcomes.push(seq, corpus_zip::exported(None, bytes.len() as u64));
    }
    Ok(Ok(()))
}

/// The Drive metadata of a record (fails only on a broken invariant: the store admits only
/// Drive metadata on Drive records).
fn drive_of(r: &Record) -> io::Result<&DriveMeta> {
    match &r.meta {
        Metadata::Drive(d) => Ok(d),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("record {} ({}) has no Drive metadata to write", r.doc_id, r.corpus),
        )),
    }
}

/// Who can reach a file, as Vault's three tags list them: direct editors and commenters, direct
/// viewers, and the indirect accesses (a group's address, a domain, `anyone with the link`)
/// sorted by role when `include_access_info` is on, all in `Others` when it is off (Vault's
/// default); an access whose role is unknown is in `Others` either way.
pub fn access(d: &DriveMeta, include_access_info: bool) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut collaborators, mut viewers, mut others) =
        (d.collaborators.clone(), d.viewers.clone(), Vec::new());
    for a in &d.indirect {
        let who = match &a.via {
            AccessVia::Group { address } => address.clone(),
            AccessVia::Domain { domain } => domain.clone(),
            AccessVia::Public => "anyone with the link".to_owned(),
        };
        let list = match (include_access_info, a.role) {
            (true, AccessRole::Editor | AccessRole::Commenter) => &mut collaborators,
            (true, AccessRole::Viewer) => &mut viewers,
            _ => &mut others,
        };
        if !list.contains(&who) {
            list.push(who);
        }
    }
    (collaborators, viewers, others)
}

/// One Drive file's `Document`.
pub fn xml_document<W: Write>(
    x: &mut EdrmWriter<W>,
    plan: &ExportPlan,
    names: &HashMap<u64, &str>,
    r: &Record,
    _converted: Converted<'_>,
) -> io::Result<()> {
    let d = drive_of(r)?;
    let (c, v, o) = access(d, plan.include_access_info);
    let (c, v, o) = (c.join(","), v.join(","), o.join(","));
    let iso = |t: Option<i64>| t.and_then(time::iso_utc_millis).unwrap_or_default();
    let (created, modified) = (iso(d.created), iso(d.modified));
    let tags = [
        Tag { name: "Account", data_type: "Text", value: r.account.as_str() },
        Tag { name: "#Author", data_type: "Text", value: &d.owner },
        Tag { name: "Creator", data_type: "Text", value: d.creator.as_deref().unwrap_or("") },
        Tag { name: "Collaborators", data_type: "LongText", value: &c },
        Tag { name: "Viewers", data_type: "LongText", value: &v },
        Tag { name: "Others", data_type: "LongText", value: &o },
        Tag { name: "#DateCreated", data_type: "DateTime", value: &created },
        Tag { name: "#DateModified", data_type: "DateTime", value: &modified },
        Tag { name: "#Title", data_type: "Text", value: &d.title },
        Tag {
            name: "DocumentType",
            data_type: "Text",
            value: d.document_type.map(DocumentType::as_str).unwrap_or(""),
        },
        Tag { name: "DocParentID", data_type: "Text", value: d.parent_id.as_deref().unwrap_or("") },
        Tag {
            name: "SharedDriveID",
            data_type: "Text",
            value: d.shared_drive_id.as_deref().unwrap_or(""),
        },
        Tag {
            name: "SourceHash",
            data_type: "Text",
            value: d.source_hash.as_deref().unwrap_or(""),
        },
        Tag { name: "DriveID", data_type: "Text", value: &d.drive_id },
        Tag { name: "MimeType", data_type: "Text", value: &d.mime_type },
        Tag {
            name: "Trashed",
            data_type: "Boolean",
            value: if d.trashed { "true" } else { "false" },
        },
    ];
    let tags: Vec<Tag<'_>> =
        tags.into_iter().filter(|t| !(t.data_type == "DateTime" && t.value.is_empty())).collect();
    let doc_id = r.doc_id.to_string();
    let file_name = names.get(&r.seq).copied().unwrap_or("");
    let hash = r.blob().md5.to_hex();
    x.document(&doc_id, &tags, &ExternalFile { name: file_name, size: r.blob().size, hash: &hash })
}

/// `custodian-docid.csv` rows of one exported file: its custodian, and every other searched
/// account named on it (directly, as collaborator or viewer), each once.
pub fn custodian_rows(plan: &ExportPlan, r: &Record) -> Vec<[String; 2]> {
    let mut who: BTreeSet<&str> = BTreeSet::from([r.account.as_str()]);
    if let Metadata::Drive(d) = &r.meta {
        for a in d.collaborators.iter().chain(&d.viewers).chain([&d.owner]) {
            if plan.in_scope.keys().any(|k| k.as_str().eq_ignore_ascii_case(a)) {
                who.insert(a.as_str());
            }
        }
    }
    who.into_iter().map(|a| [a.to_owned(), r.doc_id.to_string()]).collect()
}

/// The search that finds a file again: `title:"<title>"`, quoted and escaped.
pub fn retry_query(d: &DriveMeta) -> String {
    format!("title:\"{}\"", crate::query::escape_phrase(&d.title))
}

/// Drive `error.csv`: a row per failed file.
pub fn write_errors(
    plan: &ExportPlan,
    failed: &[(&Record, &Failure)],
    guard: bool,
    w: impl Write,
) -> io::Result<()> {
    let mut c = CsvWriter::with_guard(w, &ERROR_COLUMNS, guard)?;
    let empty = DriveMeta::default();
    for (r, f) in failed {
        let d = drive_of(r).unwrap_or(&empty);
        let (co, v, o) = access(d, plan.include_access_info);
        let csv = |t: Option<i64>| t.and_then(time::csv_utc).unwrap_or_default();
        let file_type = d.title.rsplit_once('.').map(|(_, e)| e.to_ascii_uppercase());
        c.row(&[
            r.doc_id.to_string(),
            d.document_type.map(DocumentType::as_str).unwrap_or("").to_owned(),
            file_type.unwrap_or_else(|| d.mime_type.clone()),
            d.title.clone(),
            r.blob().size.to_string(),
            d.owner.clone(),
            co.join(","),
            v.join(","),
            o.join(","),
            csv(d.created),
            csv(d.modified),
            f.reason.clone(),
            d.drive_id.clone(),
            f.class.as_str().to_owned(),
            retry_query(d),
        ])?;
    }
    c.finish().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(title: &str, id: &str) -> DriveMeta {
        DriveMeta { title: title.into(), drive_id: id.into(), ..DriveMeta::default() }
    }

    #[test]
    fn hostile_titles_become_safe_bounded_names() {
        let cases = [
            ("report.pdf", "report_ID.pdf"),
            ("a/b/../c.txt", "a_b_._c_ID.txt"),
            ("..", "__ID"),
            ("...", "__ID"),
            ("nul\u{0}here", "nul_here_ID"),
            ("party 🎉.docx", "party __ID.docx"),
            ("Übersicht", "Übersicht_ID"),
        ];
        for (title, want) in cases {
            assert_eq!(entry_name(&meta(title, "ID"), ""), want, "{title:?}");
        }
        let long = "x".repeat(129);
        let n = entry_name(&meta(&format!("{long}.pdf"), "1AbC"), "");
        assert_eq!(n.chars().count(), 128);
        assert!(n.ends_with("_1AbC.pdf"), "{n}");
        let cjk = "文".repeat(129);
        let n = entry_name(&meta(&cjk, "ID"), "");
        assert!(n.len() <= MAX_BYTES && n.ends_with("_ID"), "{n}");
        let native =
            DriveMeta { document_type: Some(DocumentType::Document), ..meta("Plan", "D1") };
        assert_eq!(entry_name(&native, ""), "Plan_D1.docx");
        assert_eq!(entry_name(&meta("x.pdf", "ID"), "_2"), "x_ID_2.pdf");
    }
}
