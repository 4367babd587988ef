//! The runner: the only code that writes an export, and the only user of rayon in `export`.
//!
//! Content zips are independent files and are written in parallel (`threads` workers, each taking
//! the next zip); inside a zip, messages are read, checked against their MD5 and framed in
//! parallel in batches of about 16 MiB, then appended in plan order by the zip's single writer,
//! which hashes the file as it goes, while the next batch is framed. Memory stays bounded by
//! `threads × 2 × 16 MiB` whatever the export size.
//! Every file is written under a `.partial` name and renamed when complete.

use super::files::FileOut;
use super::plan::{ExportPlan, FileKind, ZipPlan};
use super::request::LineEndings;
use super::summary::WrittenFile;
use super::tables::Tables;
use crate::digest::Md5;
use crate::format::mbox;
use crate::format::zip::{DeflatePool, EntryOptions, ZipOptions, ZipWriter};
use crate::model::time;
use crate::model::{Account, BlobRef, Corpus, DocId, Record};
use crate::store::{Store, StoreError};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Batches of about this many bytes are framed in parallel.
const BATCH: u64 = 16 << 20;

/// Run two closures in parallel (rayon stays inside this file).
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    rayon::join(a, b)
}

/// `f` of every item, in parallel on the pool; results in the items' order.
pub fn map_each<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    items.par_iter().map(f).collect()
}

/// Vault's two error classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureClass {
    /// The bytes could not be read now (I/O); a later retry should export them.
    Transient,
    /// The bytes are missing or damaged; retrying will not help.
    NonTransient,
}

impl FailureClass {
    /// As written in `error.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Transient => "transient",
            FailureClass::NonTransient => "non-transient",
        }
    }
}

/// Why one record was not exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Transient or not.
    pub class: FailureClass,
    /// In words.
    pub reason: String,
}

/// What a [`BlobSource`] is asked for: the main bytes of one record, named by what its key row
/// holds, so the mail runner reads and frames a message without decoding its record.
#[derive(Clone, Copy, Debug)]
pub struct Wanted<'r> {
    /// The record's position in the table (its global seq when the export reads several
    /// collections: [`Tables`] says which one holds it).
    pub seq: u64,
    /// Its DocID.
    pub doc_id: DocId,
    /// Its account.
    pub account: &'r Account,
    /// Where the bytes wanted are: its main part's, or (Chat, Voice) another part's.
    pub blob: &'r BlobRef,
}

impl<'r> Wanted<'r> {
    /// The main bytes of `rec`.
    pub fn of(rec: &'r Record) -> Wanted<'r> {
        Wanted { seq: rec.seq, doc_id: rec.doc_id, account: &rec.account, blob: rec.blob() }
    }
}

/// Where an export reads record bytes from: the store, published splits (`split::SplitBlobs`),
/// or in tests a store with faults injected.
pub trait BlobSource: Sync {
    /// The original bytes of the record `want` names.
    fn read<'a>(&'a self, want: Wanted<'_>) -> Result<Cow<'a, [u8]>, Failure>;
}

impl BlobSource for Store {
    fn read<'a>(&'a self, want: Wanted<'_>) -> Result<Cow<'a, [u8]>, Failure> {
        match self.blob_bytes(want.doc_id, want.blob) {
            Ok(b) => Ok(Cow::Borrowed(b)),
            Err(e @ StoreError::BlobOutOfRange { .. }) => Err(Failure {
                class: FailureClass::NonTransient,
                reason: format!("stored bytes are missing: {e}"),
            }),
            Err(e) => Err(Failure { class: FailureClass::Transient, reason: e.to_string() }),
        }
    }
}

/// Told about export progress (from several threads at once).
pub trait ExportProgress: Sync {
    /// More messages were written.
    fn advanced(&self, _messages: u64, _bytes: u64) {}
}

/// Ignores progress.
pub struct NoExportProgress;
impl ExportProgress for NoExportProgress {}

/// What happened to one record.
#[derive(Clone, Debug)]
pub enum RecordOutcome {
    /// Written.
    Exported {
        /// A final line feed was added for the mbox (the message had none).
        newline_added: bool,
        /// Size and MD5 of the message as exported, when they differ from the stored bytes
        /// (`lineEndings: crlf`).
        converted: Option<(u64, Md5)>,
        /// Bytes of the message as exported (the stored size, or the converted one).
        size: u64,
    },
    /// Not written.
    Failed(Failure),
}

/// Write a file under a temporary name, hashing it, then rename it into place.
pub fn write_file(
    dir: &Path,
    name: &str,
    kind: FileKind,
    body: impl FnOnce(&mut FileOut) -> io::Result<()>,
) -> io::Result<WrittenFile> {
    let mut f = FileOut::create(dir, name, kind)?;
    body(&mut f)?;
    f.finish()
}

/// What happened to the records of one zip, folded as they are written: counts for the
/// exported ones (their seqs are the plan's less the failed ones), the sizes and MD5s of those
/// whose bytes were converted, and each failure. An export of millions of records holds no
/// outcome per exported record, so its memory does not grow with its size.
#[derive(Debug, Default)]
pub struct Outcomes {
    /// Records written.
    pub exported: u64,
    /// Bytes of those records as exported.
    pub bytes: u64,
    /// Records given a final line feed.
    pub newline_added: u64,
    /// Size and MD5 as exported of the records whose bytes differ from the stored ones.
    pub converted: Vec<(u64, (u64, Md5))>,
    /// Records not written, with why, in plan order.
    pub failed: Vec<(u64, Failure)>,
}

impl Outcomes {
    /// Fold in what happened to record `seq`.
    pub fn push(&mut self, seq: u64, o: RecordOutcome) {
        match o {
            RecordOutcome::Exported { newline_added, converted, size } => {
                self.exported += 1;
                self.bytes += size;
                self.newline_added += u64::from(newline_added);
                if let Some(c) = converted {
                    self.converted.push((seq, c));
                }
            }
            RecordOutcome::Failed(f) => self.failed.push((seq, f)),
        }
    }
}

/// One written zip and what happened to its records.
pub type ZipOutcome = (WrittenFile, Outcomes);

/// A message framed for its mbox, or why it could not be.
type Framed<'a> = Result<FramedMessage<'a>, Failure>;

/// A message framed for its mbox: its bytes (borrowed from the pack map unless converted) and
/// how they are framed, so the zip's writer copies them once, into its own buffer.
struct FramedMessage<'a> {
    /// The message as exported.
    bytes: Cow<'a, [u8]>,
    /// Its `From ` line and mboxrd quotes.
    framing: mbox::Framing,
    /// A final line feed was added.
    newline_added: bool,
    /// Size and MD5 of the message as exported, when they differ from the stored bytes.
    converted: Option<(u64, Md5)>,
}

/// Write every content zip of `plan`, decoding each planned record from `store` in the batch
/// that frames it. Returns the zips written and each record's outcome, in plan order (identical
/// for any thread count).
///
/// `threads` workers each take the next unwritten zip; inside a zip, batch k+1 is decoded and
/// framed on the rayon pool while batch k is written, so the single writer per file is never
/// waiting for work and at most `threads` zips (two batches each) are in memory at once.
pub fn write_zips(
    plan: &ExportPlan,
    records: &super::PlanRecords<'_>,
    store: &Tables<'_>,
    source: &dyn BlobSource,
    out: &Path,
    threads: usize,
    progress: &dyn ExportProgress,
) -> Result<Vec<ZipOutcome>, super::ExportError> {
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| {
        super::ExportError::Io { path: out.to_path_buf(), source: io::Error::other(e) }
    })?;
    // One deflate pool for the run: every zip worker's entries are compressed on it, chunk by
    // chunk, so one large account keeps every core busy (its bytes do not depend on the count).
    let deflate = DeflatePool::new(threads).map_err(|e| super::ExportError::Io {
        path: out.to_path_buf(),
        source: io::Error::other(e),
    })?;
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<ZipOutcome, super::ExportError>>>> =
        plan.zips.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(plan.zips.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(z) = plan.zips.get(i) else { break };
                    let r = match plan.corpus {
                        Corpus::Chat | Corpus::Drive | Corpus::Voice => super::corpus_zip::write(
                            plan, z, store, source, out, progress, &deflate,
                        ),
                        Corpus::Mail | Corpus::Groups => write_zip(
                            plan,
                            z,
                            records,
                            store,
                            source,
                            out,
                            progress,
                            (&pool, &deflate),
                        ),
                    };
                    let failed = r.is_err();
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                    if failed {
                        // Stop taking new zips; the error is reported below.
                        next.store(plan.zips.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let mut done = Vec::with_capacity(plan.zips.len());
    for (slot, z) in slots.into_iter().zip(&plan.zips) {
        let path = out.join(&z.file);
        match slot.into_inner() {
            Ok(Some(r)) => done.push(r?),
            Ok(None) => {
                return Err(super::ExportError::Io {
                    path,
                    source: io::Error::other("not written (an earlier zip failed)"),
                });
            }
            Err(_) => {
                return Err(super::ExportError::Io {
                    path,
                    source: io::Error::other("its writer panicked"),
                });
            }
        }
    }
    Ok(done)
}

#[allow(clippy::too_many_arguments)]
fn write_zip(
    plan: &ExportPlan,
    z: &ZipPlan,
    records: &super::PlanRecords<'_>,
    store: &Tables<'_>,
    source: &dyn BlobSource,
    out: &Path,
    progress: &dyn ExportProgress,
    (pool, deflate): (&rayon::ThreadPool, &DeflatePool),
) -> Result<ZipOutcome, super::ExportError> {
    // Batches of about BATCH bytes each (at least one record), by the sizes the plan carries:
    // batching changes when bytes are written, never which bytes, and a batch of a few huge
    // messages stays a few messages.
    let recs = records.of(z)?;
    let mut batches: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = 0;
    while start < recs.len() {
        let (mut end, mut bytes) = (start, 0u64);
        while end < recs.len() && (end == start || bytes < BATCH) {
            // Sizes the plan does not hold are in the key rows (a streaming plan); a record
            // without one counts as BATCH / 1024 bytes, so a batch is never unbounded.
            let size = recs.get(end).and_then(|(seq, size)| {
                size.or_else(|| super::planned_key(store, seq).ok().map(|(_, _, k)| k.blob.size))
            });
            bytes = bytes.saturating_add(size.unwrap_or(BATCH / 1024));
            end += 1;
        }
        batches.push(start..end);
        start = end;
    }
    // Read and frame one batch from the records' key rows (nothing decoded: the metadata
    // writer decodes each record once); a record the table cannot give back stops the export.
    let frame_batch =
        |batch: &std::ops::Range<usize>| -> Result<Vec<(u64, Framed<'_>)>, StoreError> {
            batch
                .clone()
                .into_par_iter()
                .filter_map(|i| recs.get(i).map(|(seq, _)| seq))
                .map(|seq| {
                    let (_, account, key) = super::planned_key(store, seq)?;
                    let want = Wanted { seq, doc_id: key.doc_id, account, blob: &key.blob };
                    Ok((seq, frame(want, key.date, source, plan.line_endings, plan.recheck_md5)))
                })
                .collect()
        };
    let mut outcomes = Outcomes::default();
    let mut stopped: Option<StoreError> = None;
    let written = write_file(out, &z.file, FileKind::Content, |w| {
        let mut zip =
            ZipWriter::with_pool(w, ZipOptions::default(), deflate).map_err(io::Error::from)?;
        // ZIP64 sizes up front when the entry may pass 4 GiB (quoting adds a little).
        let opts = EntryOptions {
            compression: plan.compression,
            mtime: z.latest,
            large: z.bytes > 3_900_000_000,
        };
        let mut entry = zip.start_entry(&z.entry, opts).map_err(io::Error::from)?;
        pool.install(|| -> io::Result<()> {
            let mut framed = batches.first().map(&frame_batch).transpose();
            for k in 0..batches.len() {
                let batch = match std::mem::replace(&mut framed, Ok(None)) {
                    Ok(b) => b.unwrap_or_default(),
                    Err(e) => {
                        stopped = Some(e);
                        return Err(io::Error::other("a planned record could not be read"));
                    }
                };
                let (wrote, next) = rayon::join(
                    || -> io::Result<()> {
                        let (mut n, mut bytes) = (0, 0);
                        for (seq, r) in batch {
                            match r {
                                Ok(FramedMessage {
                                    bytes: b,
                                    framing,
                                    newline_added,
                                    converted,
                                }) => {
                                    framing.write_to(&b, &mut entry)?;
                                    n += 1;
                                    bytes += framing.len(&b);
                                    let size = b.len() as u64;
                                    outcomes.push(
                                        seq,
                                        RecordOutcome::Exported { newline_added, converted, size },
                                    );
                                }
                                Err(f) => outcomes.push(seq, RecordOutcome::Failed(f)),
                            }
                        }
                        progress.advanced(n, bytes);
                        Ok(())
                    },
                    || batches.get(k + 1).map(&frame_batch).transpose(),
                );
                wrote?;
                framed = next;
            }
            Ok(())
        })?;
        entry.finish().map_err(io::Error::from)?;
        zip.finish().map_err(io::Error::from)?;
        Ok(())
    });
    if let Some(e) = stopped {
        return Err(e.into());
    }
    let written =
        written.map_err(|source| super::ExportError::Io { path: out.join(&z.file), source })?;
    Ok((written, outcomes))
}

/// Read, check and frame one message, under its `FileName` (see `naming::message_file_name`).
fn frame<'a>(
    want: Wanted<'_>,
    date: Option<i64>,
    source: &'a dyn BlobSource,
    eol: LineEndings,
    recheck_md5: bool,
) -> Framed<'a> {
    let bytes = source.read(want)?;
    // The recorded CRC-32 proves the bytes are the stored ones at a fraction of an MD5 pass;
    // MD5 when asked or when no CRC was recorded.
    let b = want.blob;
    let intact = bytes.len() as u64 == b.size
        && match (recheck_md5, b.crc32) {
            (false, Some(crc)) => crate::digest::crc32(&bytes) == crc,
            _ => Md5::of(&bytes) == b.md5,
        };
    if !intact {
        return Err(Failure {
            class: FailureClass::NonTransient,
            reason: format!(
                "stored bytes are damaged: {} bytes with MD5 {}, expected {} bytes with MD5 {}",
                bytes.len(),
                Md5::of(&bytes),
                b.size,
                b.md5
            ),
        });
    }
    let envelope = format!(
        "{}@xxx {}",
        super::naming::file_name_of(want.doc_id, date),
        time::asctime_utc(date.unwrap_or(0))
            .unwrap_or_else(|| "Thu Jan  1 00:00:00 1970".to_owned())
    );
    let (bytes, newline_added, converted) = match eol {
        LineEndings::Original => {
            let added = mbox::Framing::newline_added(&bytes);
            (bytes, added, None)
        }
        LineEndings::Crlf => {
            let (crlf, added) = to_crlf(&bytes);
            let converted = Some((crlf.len() as u64, Md5::of(&crlf)));
            (Cow::Owned(crlf), added, converted)
        }
    };
    let framing = mbox::Framing::new(&envelope, &bytes);
    Ok(FramedMessage { bytes, framing, newline_added, converted })
}

/// `bytes` with every bare LF turned into CRLF, ending in CRLF (added when the message did not
/// end in a line feed: then `true`). A CR not followed by LF is left as it is.
pub fn to_crlf(bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16 + 2);
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    let added = !out.ends_with(b"\n");
    if added {
        out.extend_from_slice(b"\r\n");
    }
    (out, added)
}
