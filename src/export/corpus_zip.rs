//! The content zips of Chat, Drive and Voice exports, and reading a record's parts for them.
//!
//! Mail's runner frames stored bytes as they are; these corpora render what they export (a
//! conversation document, a Voice message with its audio attached) or write one entry per file
//! (Drive), so they have their own, sequential, zip writer. Zips are still written in parallel
//! by `run::write_zips`' workers and compressed on the run's `DeflatePool`; records are decoded
//! one unit (document, item, file) at a time, so memory follows the largest unit, never the
//! export.

use super::plan::{ExportPlan, FileKind, ZipPlan};
use super::run::{
    self, BlobSource, ExportProgress, Failure, FailureClass, RecordOutcome, ZipOutcome,
};
use super::tables::Tables;
use super::{ExportError, chat, drive, voice};
use crate::digest::Md5;
use crate::format::mbox;
use crate::format::zip::{DeflatePool, EntryOptions, ZipOptions, ZipWriter};
use crate::model::{Corpus, Part, Record, time};
use crate::store::StoreError;
use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

/// A unit that could be rendered, or why not; a record the table cannot give back stops the
/// export (`Err`), as in mail's runner.
pub type Rendered<T> = Result<Result<T, Failure>, StoreError>;

/// The bytes of one part of `rec`, checked against its recorded size and MD5 (a damaged or
/// missing blob is a non-transient failure naming the record and part). Every part is read
/// through `source` (the store, a split's packs, or in tests a source with faults injected).
pub fn part_bytes<'a>(
    source: &'a dyn BlobSource,
    rec: &Record,
    part: &Part,
    main: bool,
) -> Result<Cow<'a, [u8]>, Failure> {
    let bytes = if main {
        source.read(super::run::Wanted::of(rec))?
    } else {
        let want = super::run::Wanted {
            seq: rec.seq,
            doc_id: rec.doc_id,
            account: &rec.account,
            blob: &part.blob,
        };
        source.read(want).map_err(|f| Failure {
            class: f.class,
            reason: format!("{} part of record {}: {}", part.kind, rec.doc_id, f.reason),
        })?
    };
    let b = &part.blob;
    let intact = bytes.len() as u64 == b.size
        && match b.crc32 {
            Some(crc) => crate::digest::crc32(&bytes) == crc,
            None => Md5::of(&bytes) == b.md5,
        };
    if !intact {
        return Err(Failure {
            class: FailureClass::NonTransient,
            reason: format!(
                "stored bytes of the {} part of record {} are damaged: {} bytes, expected {} with MD5 {}",
                part.kind,
                rec.doc_id,
                bytes.len(),
                b.size,
                b.md5
            ),
        });
    }
    Ok(bytes)
}

/// Frame one rendered message for its mbox: `From <file_name>@xxx <asctime UTC of date>`.
pub fn frame(file_name: &str, date: i64, message: &[u8]) -> Vec<u8> {
    let envelope = format!(
        "{file_name}@xxx {}",
        time::asctime_utc(date).unwrap_or_else(|| "Thu Jan  1 00:00:00 1970".to_owned())
    );
    let mut buf = Vec::with_capacity(message.len() + 128);
    mbox::frame_mboxrd(&envelope, message, &mut buf);
    buf
}

/// Write content zip `z` of a Chat, Drive or Voice export.
pub fn write(
    plan: &ExportPlan,
    z: &ZipPlan,
    store: &Tables<'_>,
    source: &dyn BlobSource,
    out: &Path,
    progress: &dyn ExportProgress,
    deflate: &DeflatePool,
) -> Result<ZipOutcome, ExportError> {
    let mut outcomes = run::Outcomes::default();
    let mut stopped: Option<StoreError> = None;
    let written = run::write_file(out, &z.file, FileKind::Content, |w| {
        let mut zip =
            ZipWriter::with_pool(w, ZipOptions::default(), deflate).map_err(io::Error::from)?;
        let res = if plan.corpus == Corpus::Drive {
            drive::write_entries(plan, z, store, source, &mut zip, &mut outcomes, progress)
        } else {
            let opts = EntryOptions {
                compression: plan.compression,
                mtime: z.latest,
                large: z.bytes > 3_000_000_000,
            };
            let mut entry = zip.start_entry(&z.entry, opts).map_err(io::Error::from)?;
            let mut put = |buf: &[u8]| -> io::Result<()> {
                progress.advanced(1, buf.len() as u64);
                entry.write_all(buf)
            };
            let res = match plan.corpus {
                Corpus::Chat => {
                    chat::write_documents(plan, z, store, source, &mut put, &mut outcomes)
                }
                _ => voice::write_items(z, store, source, &mut put, &mut outcomes),
            };
            if res.is_ok() {
                entry.finish().map_err(io::Error::from)?;
            }
            res
        };
        match res {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => {
                stopped = Some(e);
                return Err(io::Error::other("a planned record could not be read"));
            }
        }
        zip.finish().map_err(io::Error::from)?;
        Ok(())
    });
    if let Some(e) = stopped {
        return Err(e.into());
    }
    let written = written.map_err(|source| ExportError::Io { path: out.join(&z.file), source })?;
    Ok((written, outcomes))
}

/// What writing a zip's units gives: `Err` stops the export (a planned record is gone), the
/// inner `Err` is a write error.
pub type Units = Result<io::Result<()>, StoreError>;

/// An exported outcome for a record written as (part of) a rendered unit.
pub fn exported(converted: Option<(u64, Md5)>, size: u64) -> RecordOutcome {
    RecordOutcome::Exported { newline_added: false, converted, size }
}
