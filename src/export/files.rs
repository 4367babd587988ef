//! The files of an export besides its content zips, each behind one small trait after ripgrep's
//! `Sink`: a [`FileSink`] [`finish`](FileSink::finish)es with the file's name, length and MD5;
//! the files with an entry per record are also [`Listing`]s, fed chunks of entries rendered in
//! parallel. Which files a corpus
//! has, and when, is the plan's table ([`super::plan::file_set`]); [`open`] makes the sink for a
//! planned file. So the runner writes whatever the plan lists, in its order, without asking which
//! corpus or kind it is writing.

use super::metadata::{self, Converted};
use super::plan::{ExportPlan, FileKind, PlannedFile, When};
use super::run::Failure;
use super::summary::{Balance, WrittenFile};
use crate::format::csv::CsvWriter;
use crate::format::xml::EdrmWriter;
use crate::model::{Corpus, GroupMember, Record};
use crate::partial_file::PartialFile;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;

/// A file of the export's file set being written under a temporary name and hashed as it is
/// written ([`PartialFile`]); renamed into place by [`finish`](Self::finish) once complete and
/// synced.
pub struct FileOut {
    name: String,
    kind: FileKind,
    w: PartialFile,
}

impl FileOut {
    /// Start `dir/name` (written as `dir/.name.partial` until finished).
    pub fn create(dir: &Path, name: &str, kind: FileKind) -> io::Result<FileOut> {
        Ok(FileOut { name: name.to_owned(), kind, w: PartialFile::create(dir, name)? })
    }

    /// Sync the file, rename it into place, and say what was written.
    pub fn finish(self) -> io::Result<WrittenFile> {
        let (md5, size) = self.w.finish()?;
        Ok(WrittenFile { name: self.name, kind: Some(self.kind), size, md5: md5.to_hex() })
    }
}

impl Write for FileOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.w.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// A finished file, and what writing it changed that the summary reports.
#[derive(Debug)]
pub struct Finished {
    /// Name, kind, length and MD5.
    pub file: WrittenFile,
    /// Characters an XML file replaced (XML-illegal ones); 0 for other files.
    pub xml_replaced: u64,
}

/// One file of an export's file set.
pub trait FileSink: Send {
    /// Write what is left and close the file.
    fn finish(self: Box<Self>) -> io::Result<Finished>;
}

/// A file with an entry per record (`metadata.xml`, `metadata.csv`, `custodian-docid.csv`),
/// written in chunks: [`render`](Listing::render) turns a chunk of records into the file's
/// bytes without touching the file, on any thread, so chunks are rendered in parallel;
/// [`append`](Listing::append) adds them to the file in plan order. The file is byte for byte
/// the one [`FileSink::record`] would write, record by record.
pub trait Listing: FileSink + Sync {
    /// The entries of `records`, in order, and the characters XML replaced in them.
    fn render(&self, records: &[(Record, Converted<'_>)]) -> io::Result<(Vec<u8>, u64)>;
    /// Append a chunk [`render`](Listing::render) made.
    fn append(&mut self, bytes: &[u8], replaced: u64) -> io::Result<()>;
}

impl FileKind {
    /// Does this file have a line or element per exported record (so it is fed records)?
    pub fn lists_records(self) -> bool {
        matches!(self, FileKind::MetadataXml | FileKind::MetadataCsv | FileKind::CustodianDocid)
    }
}

/// What the files written after the zips are made from.
pub struct RunEnd<'a> {
    /// The plan.
    pub plan: &'a ExportPlan,
    /// Records that failed, with why.
    pub failed: &'a [(Record, Failure)],
    /// Per account: found, exported, failed.
    pub balances: &'a BTreeMap<String, Balance>,
    /// Member lists recorded at ingest, by group address.
    pub members: &'a BTreeMap<String, Vec<GroupMember>>,
}

impl RunEnd<'_> {
    /// Groups in scope without an ingested member list.
    pub fn missing_member_lists(&self) -> Vec<&str> {
        self.plan
            .in_scope
            .keys()
            .map(|g| g.as_str())
            .filter(|g| !self.members.contains_key(*g))
            .collect()
    }
}

impl When {
    /// Is a file planned with this condition written, given how the run ended?
    pub fn applies(self, end: &RunEnd<'_>) -> bool {
        match self {
            When::Always => true,
            When::IfFailures => !end.failed.is_empty(),
            When::IfMissingMemberLists => !end.missing_member_lists().is_empty(),
        }
    }
}

/// The sink of a file that lists records, which needs only the plan (so it can be written
/// alongside the zips); `None` for other kinds.
pub fn open_listing<'a>(
    file: &PlannedFile,
    plan: &'a ExportPlan,
    out: &Path,
) -> io::Result<Option<Box<dyn Listing + 'a>>> {
    open_listing_as(file, plan, out, false)
}

/// The name of the fragment of the listing `file` that an export part writes
/// (`NAME-metadata.xml.fragment`): its entries only, without the header and closing tags.
pub fn fragment_name(file: &PlannedFile) -> String {
    format!("{}.fragment", file.name)
}

/// The sink of the fragment of a listing (see [`fragment_name`]): the same entries, rendered
/// by the same code, that the whole file would hold, without its header (and for XML its
/// closing tags), so fragments appended in plan order to the whole file's sink make the file
/// one machine writes. `None` for files that do not list records.
pub fn open_fragment<'a>(
    file: &PlannedFile,
    plan: &'a ExportPlan,
    out: &Path,
) -> io::Result<Option<Box<dyn Listing + 'a>>> {
    open_listing_as(file, plan, out, true)
}

/// [`open_listing`] or [`open_fragment`].
fn open_listing_as<'a>(
    file: &PlannedFile,
    plan: &'a ExportPlan,
    out: &Path,
    fragment: bool,
) -> io::Result<Option<Box<dyn Listing + 'a>>> {
    let name = if fragment { fragment_name(file) } else { file.name.clone() };
    let create = || FileOut::create(out, &name, file.kind);
    Ok(match file.kind {
        FileKind::MetadataXml => {
            let x = if fragment {
                EdrmWriter::fragment(create()?)
            } else {
                metadata::xml_start(plan, create()?)?
            };
            // Drive Documents name their file as the plan named its zip entry.
            let names = plan
                .zips
                .iter()
                .flat_map(|z| z.records.iter().copied().zip(z.names.iter().map(String::as_str)))
                .collect();
            Some(Box::new(Xml { plan, x, names, fragment }))
        }
        FileKind::CustodianDocid => {
            let c = if fragment {
                CsvWriter::fragment(create()?, plan.csv_formula_guard)
            } else {
                CsvWriter::with_guard(create()?, &["Custodian", "DocID"], plan.csv_formula_guard)?
            };
            Some(Box::new(CustodianDocid { plan, c }))
        }
        FileKind::MetadataCsv => {
            let c = if fragment {
                CsvWriter::fragment(create()?, plan.csv_formula_guard)
            } else {
                metadata::csv_start(plan, create()?)?
            };
            Some(Box::new(Csv { plan, c }))
        }
        _ => None,
    })
}

/// The sink of any planned file but the content zips, the summary and the checksum file (the
/// runner writes those itself: they describe the others).
pub fn open<'a>(
    file: &PlannedFile,
    end: &'a RunEnd<'a>,
    out: &Path,
) -> io::Result<Box<dyn FileSink + 'a>> {
    if let Some(s) = open_listing(file, end.plan, out)? {
        let s: Box<dyn FileSink + 'a> = s;
        return Ok(s);
    }
    let guard = end.plan.csv_formula_guard;
    let csv = |header: &'static [&'static str]| -> io::Result<CsvWriter<FileOut>> {
        CsvWriter::with_guard(FileOut::create(out, &file.name, file.kind)?, header, guard)
    };
    Ok(match file.kind {
        FileKind::ResultsCount => {
            Box::new(Rows(csv(&["Account", "Count"])?, move |c: &mut CsvWriter<FileOut>| {
                for (a, n) in end.plan.in_scope.iter().filter(|(_, n)| **n > 0) {
                    c.row(&[a.as_str(), &n.to_string()])?;
                }
                Ok(())
            }))
        }
        FileKind::GroupMembership => Box::new(Rows(
            csv(&["Member", "Group", "JoinTime", "Role", "Type"])?,
            move |c: &mut CsvWriter<FileOut>| {
                for g in end.plan.in_scope.keys() {
                    for m in end.members.get(g.as_str()).into_iter().flatten() {
                        c.row(&[&m.member, &m.group, &m.join_time, &m.role, &m.kind])?;
                    }
                }
                Ok(())
            },
        )),
        FileKind::Errors => {
            let f = FileOut::create(out, &file.name, file.kind)?;
            Box::new(Whole(f, move |w: &mut FileOut| {
                let rows: Vec<(&Record, &Failure)> =
                    end.failed.iter().map(|(r, f)| (r, f)).collect();
                match end.plan.corpus {
                    Corpus::Chat => super::chat::write_errors(end.plan, &rows, guard, w),
                    Corpus::Drive => super::drive::write_errors(end.plan, &rows, guard, w),
                    Corpus::Voice => super::voice::write_errors(end.balances, guard, w),
                    Corpus::Mail | Corpus::Groups => metadata::write_errors(&rows, guard, w),
                }
            }))
        }
        FileKind::AccountExceptions | FileKind::IncompleteAccounts => Box::new(Rows(
            csv(&["Account", "Exported", "Failed"])?,
            move |c: &mut CsvWriter<FileOut>| {
                for b in end.balances.values().filter(|b| b.failed() > 0) {
                    c.row(&[b.account.clone(), b.exported.to_string(), b.failed().to_string()])?;
                }
                Ok(())
            },
        )),
        FileKind::FailedGroupMembershipLookups => {
            Box::new(Rows(csv(&["Group", "Reason"])?, move |c: &mut CsvWriter<FileOut>| {
                for g in end.missing_member_lists() {
                    c.row(&[g, "no member list was ingested for this group"])?;
                }
                Ok(())
            }))
        }
        FileKind::MetadataXml
        | FileKind::MetadataCsv
        | FileKind::CustodianDocid
        | FileKind::Content
        | FileKind::Summary
        | FileKind::Checksums => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: the runner writes this file itself", file.name),
            ));
        }
    })
}

/// `metadata.xml`: a `Document` per record (Chat's, per conversation document, is written by
/// `chat::write_listing`).
struct Xml<'a> {
    plan: &'a ExportPlan,
    x: EdrmWriter<FileOut>,
    /// Drive: each record's entry name (empty for the other corpora).
    names: HashMap<u64, &'a str>,
    /// A fragment (no closing tags at the end).
    fragment: bool,
}

/// One record's `Document`, as its corpus writes it.
fn xml_document<W: Write>(
    plan: &ExportPlan,
    names: &HashMap<u64, &str>,
    x: &mut EdrmWriter<W>,
    r: &Record,
    converted: Converted<'_>,
) -> io::Result<()> {
    match plan.corpus {
        Corpus::Drive => super::drive::xml_document(x, plan, names, r, converted),
        Corpus::Voice => super::voice::xml_document(x, r, converted),
        _ => metadata::xml_document(x, plan, r, converted),
    }
}

impl Listing for Xml<'_> {
    fn render(&self, records: &[(Record, Converted<'_>)]) -> io::Result<(Vec<u8>, u64)> {
        let mut x = EdrmWriter::fragment(Vec::with_capacity(records.len() * 1536));
        for (r, c) in records {
            xml_document(self.plan, &self.names, &mut x, r, *c)?;
        }
        Ok(x.into_fragment())
    }
    fn append(&mut self, bytes: &[u8], replaced: u64) -> io::Result<()> {
        self.x.append(bytes, replaced)
    }
}

impl FileSink for Xml<'_> {
    fn finish(self: Box<Self>) -> io::Result<Finished> {
        let (f, xml_replaced) =
            if self.fragment { self.x.into_fragment() } else { self.x.finish()? };
        Ok(Finished { file: f.finish()?, xml_replaced })
    }
}

/// `metadata.csv`: a row per record.
struct Csv<'a> {
    plan: &'a ExportPlan,
    c: CsvWriter<FileOut>,
}

impl Listing for Csv<'_> {
    fn render(&self, records: &[(Record, Converted<'_>)]) -> io::Result<(Vec<u8>, u64)> {
        let mut c = CsvWriter::fragment(Vec::with_capacity(records.len() * 512), self.c.guarded());
        for (r, conv) in records {
            metadata::csv_row(&mut c, self.plan, r, *conv)?;
        }
        Ok((c.finish()?, 0))
    }
    fn append(&mut self, bytes: &[u8], _replaced: u64) -> io::Result<()> {
        self.c.append(bytes)
    }
}

impl FileSink for Csv<'_> {
    fn finish(self: Box<Self>) -> io::Result<Finished> {
        Ok(Finished { file: self.c.finish()?.finish()?, xml_replaced: 0 })
    }
}

/// `custodian-docid.csv` (Drive): rows per exported file.
struct CustodianDocid<'a> {
    plan: &'a ExportPlan,
    c: CsvWriter<FileOut>,
}

impl Listing for CustodianDocid<'_> {
    fn render(&self, records: &[(Record, Converted<'_>)]) -> io::Result<(Vec<u8>, u64)> {
        let mut c = CsvWriter::fragment(Vec::new(), self.c.guarded());
        for (r, _) in records {
            for row in super::drive::custodian_rows(self.plan, r) {
                c.row(&row)?;
            }
        }
        Ok((c.finish()?, 0))
    }
    fn append(&mut self, bytes: &[u8], _replaced: u64) -> io::Result<()> {
        self.c.append(bytes)
    }
}

impl FileSink for CustodianDocid<'_> {
    fn finish(self: Box<Self>) -> io::Result<Finished> {
        Ok(Finished { file: self.c.finish()?.finish()?, xml_replaced: 0 })
    }
}

/// A CSV file whose rows come from the run's end state, all written at `finish`.
struct Rows<F>(CsvWriter<FileOut>, F);

impl<F: FnOnce(&mut CsvWriter<FileOut>) -> io::Result<()> + Send> FileSink for Rows<F> {
    fn finish(self: Box<Self>) -> io::Result<Finished> {
        let Rows(mut c, rows) = *self;
        rows(&mut c)?;
        Ok(Finished { file: c.finish()?.finish()?, xml_replaced: 0 })
    }
}

/// A file written whole at `finish`.
struct Whole<F>(FileOut, F);

impl<F: FnOnce(&mut FileOut) -> io::Result<()> + Send> FileSink for Whole<F> {
    fn finish(self: Box<Self>) -> io::Result<Finished> {
        let Whole(mut f, body) = *self;
        body(&mut f)?;
        Ok(Finished { file: f.finish()?, xml_replaced: 0 })
    }
}
