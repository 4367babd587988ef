//! The zip container, written as a pure stream: each entry is a local header, its data and a
//! data descriptor (flag bit 3), so nothing is ever sought back to and the `Write` underneath
//! (an `Md5Writer` around the file) sees every byte exactly once, in order. The central
//! directory and end records follow the last entry.
//!
//! Metadata is fixed so the same input gives the same bytes: the DOS timestamp comes from the
//! caller's `mtime` (clamped to 1980–2107 exactly as the `zip` crate's writer does), permissions
//! are `0644` made by Unix, no extra fields except ZIP64, no comments. Names are UTF-8; bit 11
//! is set when a name is not ASCII (as Info-ZIP and Python do).
//!
//! ZIP64: an entry started with [`EntryOptions::large`] declares ZIP64 in its local header
//! (sizes `0xFFFFFFFF` plus a ZIP64 extra field holding zeros) and gets a descriptor with 8-byte
//! sizes, as APPNOTE 4.3.9 asks and Python's `zipfile` writes. A streaming reader decides the
//! descriptor's width from the local header, which is written before the size is known, so an
//! entry not started `large` that reaches 4 GiB is an error ([`ZipWriteError::NeedsZip64`]),
//! never a silently ambiguous file. Central records carry a ZIP64 extra field for whichever of
//! size, compressed size and offset do not fit, and the ZIP64 end records are written when the
//! entry count, the directory's size or its offset do not fit.

use std::collections::HashSet;
use std::io::{self, Write};

use super::Compression;
use super::deflate::{Chunk, DeflateOptions, DeflatePool, Deflater};

const LOCAL_SIG: u32 = 0x0403_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD64_SIG: u32 = 0x0606_4b50;
const LOCATOR64_SIG: u32 = 0x0706_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_EXTRA: u16 = 0x0001;
/// Flag bit 3: sizes and CRC follow the data in a descriptor.
const FLAG_DESCRIPTOR: u16 = 1 << 3;
/// Flag bit 11: the name is UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
/// "Made by" host: Unix, so readers apply the permissions in the external attributes.
const HOST_UNIX: u16 = 3 << 8;
/// Regular file, `rw-r--r--`, in the high half of the external attributes.
const EXTERNAL_ATTRS: u32 = 0o100_644 << 16;

/// Where ZIP64 records begin. A value in a 32-bit field (size, compressed size, offset,
/// directory size) needs ZIP64 when it is ≥ `size`; an entry count in a 16-bit field when it is
/// ≥ `count`. [`Zip64Limits::FORMAT`] is the zip format's own; lower limits give the same
/// records a 4 GiB archive would have on a few bytes, which is how the tests show that readers
/// accept them ([`Zip64Limits::ALWAYS`] puts everything it can in ZIP64 fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zip64Limits {
    /// First value a 32-bit field cannot hold (at most `0xFFFF_FFFF`, which itself means "see
    /// ZIP64").
    pub size: u64,
    /// First entry count a 16-bit field cannot hold (at most `0xFFFF`).
    pub count: u64,
}

impl Zip64Limits {
    /// The format's limits.
    pub const FORMAT: Zip64Limits = Zip64Limits { size: 0xFFFF_FFFF, count: 0xFFFF };
    /// Every size, offset and count in ZIP64 fields.
    pub const ALWAYS: Zip64Limits = Zip64Limits { size: 0, count: 0 };
}

impl Default for Zip64Limits {
    fn default() -> Self {
        Zip64Limits::FORMAT
    }
}

/// How a [`ZipWriter`] compresses and lays out its entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZipOptions {
    /// Deflate level and chunk size: part of the output's identity (see [`DeflateOptions`]).
    pub deflate: DeflateOptions,
    /// Chunks compressed and not yet written, at most (with a pool; `None`: twice the pool's
    /// threads, so every thread has a next chunk while the writer writes). Memory for an entry
    /// is about `(in_flight + 3) × chunk_size × 2` whatever its size. It never changes the bytes.
    pub in_flight: Option<usize>,
    /// Where ZIP64 records begin: the format's limits unless a test lowers them.
    pub zip64: Zip64Limits,
}

/// One entry's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryOptions {
    /// Stored or deflated.
    pub compression: Compression,
    /// Modification time, UTC seconds; `None` is the DOS epoch, 1980-01-01 00:00:00.
    pub mtime: Option<i64>,
    /// The entry may reach 4 GiB (uncompressed or compressed): declare ZIP64 in its local header.
    /// Costs 20 bytes; required, because the header is written before the size is known.
    pub large: bool,
}

/// What a finished entry holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    /// Its name.
    pub name: String,
    /// Stored or deflated.
    pub compression: Compression,
    /// CRC-32 of the uncompressed bytes.
    pub crc32: u32,
    /// Bytes of entry data in the zip.
    pub compressed: u64,
    /// Bytes the entry inflates to.
    pub uncompressed: u64,
    /// Offset of its local header in the zip.
    pub offset: u64,
}

/// Why writing a zip failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZipWriteError {
    /// The writer underneath failed.
    #[error("writing the zip: {0}")]
    Io(#[from] io::Error),
    /// An entry name that could land outside the folder it is unzipped into, or that readers
    /// would take for something else. Nothing was written.
    #[error("zip entry name {name:?} refused: {reason}")]
    Name {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A second entry with the same name: unzipping would overwrite the first. Nothing was
    /// written.
    #[error("zip entry name {0:?} is already in this zip")]
    Duplicate(String),
    /// An entry not started with [`EntryOptions::large`] reached a size its local header cannot
    /// describe.
    #[error(
        "zip entry {name:?} reached {bytes} bytes, more than a header without ZIP64 can describe; start entries that may reach 4 GiB with `large`"
    )]
    NeedsZip64 {
        /// The entry.
        name: String,
        /// Its size (uncompressed or compressed) when it was stopped.
        bytes: u64,
    },
    /// An entry writer was dropped without `finish`: the zip cannot be completed.
    #[error("zip entry {0:?} was abandoned before it was finished")]
    Abandoned(String),
    /// An earlier call failed; the zip is incomplete.
    #[error("the zip writer failed earlier and cannot continue")]
    Failed,
    /// The compressor refused its input (a bug, not bad data: deflate takes any bytes).
    #[error("deflate: {0}")]
    Deflate(String),
    /// A compressing thread ended without handing back its chunk.
    #[error("a deflate thread stopped before handing back its chunk")]
    WorkerLost,
    /// The compressing threads could not be started.
    #[error("deflate thread pool: {0}")]
    Pool(String),
    /// Options out of range.
    #[error("zip writer options: {0}")]
    Options(String),
}

impl From<ZipWriteError> for io::Error {
    fn from(e: ZipWriteError) -> io::Error {
        match e {
            ZipWriteError::Io(e) => e,
            other => io::Error::other(other),
        }
    }
}

/// The entry being written.
struct Open {
    name: String,
    compression: Compression,
    large: bool,
    time: u16,
    date: u16,
    offset: u64,
    crc: crc32fast::Hasher,
    compressed: u64,
    uncompressed: u64,
}

/// A finished entry, as its central record needs it.
struct Central {
    info: EntryInfo,
    time: u16,
    date: u16,
    large: bool,
}

/// A zip written as a stream to `W`: start an entry, write its bytes, finish it; then finish
/// the zip. The bytes depend only on the options, the entries' names, settings and contents —
/// never on the thread count or on how writes are split.
///
/// ```
/// use ediscovery::format::zip::{Compression, EntryOptions, ZipOptions, ZipWriter};
/// use std::io::Write;
/// let mut zip = ZipWriter::new(Vec::new(), ZipOptions::default())?;
/// let opts = EntryOptions { compression: Compression::Deflate, mtime: None, large: false };
/// let mut entry = zip.start_entry("mail.mbox", opts)?;
/// let mbox = b"From a@b Thu Jan  1 00:00:00 1970\n\nhi\n";
/// entry.write_all(mbox)?;
/// let info = entry.finish()?;
/// assert_eq!(info.uncompressed, mbox.len() as u64);
/// let bytes: Vec<u8> = zip.finish()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ZipWriter<W: Write> {
    out: W,
    /// Bytes written to `out`.
    pos: u64,
    zip64: Zip64Limits,
    deflater: Deflater,
    entries: Vec<Central>,
    names: HashSet<String>,
    open: Option<Open>,
    failed: bool,
}

impl<W: Write> ZipWriter<W> {
    /// A zip whose entries are compressed on the calling thread.
    pub fn new(out: W, opts: ZipOptions) -> Result<Self, ZipWriteError> {
        Self::build(out, opts, None)
    }

    /// A zip whose entries are compressed on `pool` (at most [`ZipOptions::in_flight`] chunks at
    /// a time). The bytes are the same as [`ZipWriter::new`]'s.
    pub fn with_pool(out: W, opts: ZipOptions, pool: &DeflatePool) -> Result<Self, ZipWriteError> {
        Self::build(out, opts, Some(pool.clone()))
    }

    fn build(out: W, opts: ZipOptions, pool: Option<DeflatePool>) -> Result<Self, ZipWriteError> {
        opts.deflate.check()?;
        if opts.zip64.size > 0xFFFF_FFFF || opts.zip64.count > 0xFFFF {
            return Err(ZipWriteError::Options(format!(
                "ZIP64 limits {:?} are past the format's",
                opts.zip64
            )));
        }
        if opts.in_flight == Some(0) {
            return Err(ZipWriteError::Options("no chunk may be in flight".to_owned()));
        }
        let in_flight = opts
            .in_flight
            .unwrap_or_else(|| pool.as_ref().map_or(1, |p| p.threads().saturating_mul(2).max(1)));
        Ok(ZipWriter {
            out,
            pos: 0,
            zip64: opts.zip64,
            deflater: Deflater::new(opts.deflate, pool, in_flight),
            entries: Vec::new(),
            names: HashSet::new(),
            open: None,
            failed: false,
        })
    }

    /// Bytes written to the stream so far.
    pub fn bytes_written(&self) -> u64 {
        self.pos
    }

    /// The entries finished so far, in order.
    pub fn entries(&self) -> impl Iterator<Item = &EntryInfo> {
        self.entries.iter().map(|c| &c.info)
    }

    /// Start an entry: its local header is written now, its bytes through the returned writer.
    /// Names are checked first ([`ZipWriteError::Name`], [`ZipWriteError::Duplicate`]: the zip
    /// is unchanged and can go on).
    pub fn start_entry(
        &mut self,
        name: &str,
        opts: EntryOptions,
    ) -> Result<EntryWriter<'_, W>, ZipWriteError> {
        self.usable()?;
        check_name(name).map_err(|reason| ZipWriteError::Name { name: name.to_owned(), reason })?;
        if self.names.contains(name) {
            return Err(ZipWriteError::Duplicate(name.to_owned()));
        }
        let (time, date) = super::dos_datetime(opts.mtime);
        let mut h = Vec::with_capacity(30 + name.len() + 20);
        put32(&mut h, LOCAL_SIG);
        put16(&mut h, version_needed(opts.compression, opts.large));
        put16(&mut h, flags(name));
        put16(&mut h, method(opts.compression));
        put16(&mut h, time);
        put16(&mut h, date);
        put32(&mut h, 0); // CRC: in the descriptor
        let size = if opts.large { u32::MAX } else { 0 };
        put32(&mut h, size); // compressed
        put32(&mut h, size); // uncompressed
        put16(&mut h, u16::try_from(name.len()).unwrap_or(u16::MAX));
        put16(&mut h, if opts.large { 20 } else { 0 });
        h.extend_from_slice(name.as_bytes());
        if opts.large {
            put16(&mut h, ZIP64_EXTRA);
            put16(&mut h, 16);
            put64(&mut h, 0); // uncompressed: in the descriptor
            put64(&mut h, 0); // compressed
        }
        let offset = self.pos;
        self.emit(&h)?;
        self.names.insert(name.to_owned());
        self.deflater.reset();
        self.open = Some(Open {
            name: name.to_owned(),
            compression: opts.compression,
            large: opts.large,
            time,
            date,
            offset,
            crc: crc32fast::Hasher::new(),
            compressed: 0,
            uncompressed: 0,
        });
        Ok(EntryWriter { zip: self })
    }

    /// Write the central directory and end records, flush, and hand back the stream.
    pub fn finish(mut self) -> Result<W, ZipWriteError> {
        self.usable()?;
        let cd_start = self.pos;
        let mut cd = Vec::new();
        for c in &self.entries {
            central_record(&mut cd, c, self.zip64.size);
        }
        self.emit(&cd)?;
        let cd_size = self.pos - cd_start;
        let n = self.entries.len() as u64;
        let limits = self.zip64;
        let mut end = Vec::with_capacity(56 + 20 + 22);
        if n >= limits.count || cd_size >= limits.size || cd_start >= limits.size {
            let eocd64 = self.pos;
            put32(&mut end, EOCD64_SIG);
            put64(&mut end, 44); // size of the rest of this record
            put16(&mut end, HOST_UNIX | 45);
            put16(&mut end, 45);
            put32(&mut end, 0); // this disk
            put32(&mut end, 0); // disk where the directory starts
            put64(&mut end, n);
            put64(&mut end, n);
            put64(&mut end, cd_size);
            put64(&mut end, cd_start);
            put32(&mut end, LOCATOR64_SIG);
            put32(&mut end, 0); // disk holding the ZIP64 end record
            put64(&mut end, eocd64);
            put32(&mut end, 1); // disks in all
        }
        let count16 =
            if n >= limits.count { u16::MAX } else { u16::try_from(n).unwrap_or(u16::MAX) };
        put32(&mut end, EOCD_SIG);
        put16(&mut end, 0);
        put16(&mut end, 0);
        put16(&mut end, count16);
        put16(&mut end, count16);
        put32(&mut end, field32(cd_size, limits.size));
        put32(&mut end, field32(cd_start, limits.size));
        put16(&mut end, 0); // comment length
        self.emit(&end)?;
        self.out.flush().map_err(|e| self.fail(e.into()))?;
        Ok(self.out)
    }

    /// Refuse to go on after a failure or with an abandoned entry.
    fn usable(&self) -> Result<(), ZipWriteError> {
        if self.failed {
            return Err(ZipWriteError::Failed);
        }
        if let Some(open) = &self.open {
            return Err(ZipWriteError::Abandoned(open.name.clone()));
        }
        Ok(())
    }

    fn fail(&mut self, e: ZipWriteError) -> ZipWriteError {
        self.failed = true;
        e
    }

    /// Write container bytes.
    fn emit(&mut self, bytes: &[u8]) -> Result<(), ZipWriteError> {
        match self.out.write_all(bytes) {
            Ok(()) => {
                self.pos += bytes.len() as u64;
                Ok(())
            }
            Err(e) => Err(self.fail(e.into())),
        }
    }

    fn write_entry(&mut self, buf: &[u8]) -> Result<(), ZipWriteError> {
        if self.failed {
            return Err(ZipWriteError::Failed);
        }
        let r = self.write_entry_inner(buf);
        r.map_err(|e| self.fail(e))
    }

    fn write_entry_inner(&mut self, buf: &[u8]) -> Result<(), ZipWriteError> {
        let limit = self.zip64.size;
        let Some(open) = self.open.as_mut() else { return Err(ZipWriteError::Failed) };
        match open.compression {
            Compression::Store => {
                open.crc.update(buf);
                open.uncompressed += buf.len() as u64;
                open.compressed = open.uncompressed;
                check_size(open, limit)?;
                self.out.write_all(buf)?;
                self.pos += buf.len() as u64;
                Ok(())
            }
            Compression::Deflate => {
                let (out, pos) = (&mut self.out, &mut self.pos);
                self.deflater.write(buf, &mut |c: &Chunk| append(out, pos, open, c, limit))
            }
        }
    }

    fn finish_entry(&mut self) -> Result<EntryInfo, ZipWriteError> {
        if self.failed {
            return Err(ZipWriteError::Failed);
        }
        let r = self.finish_entry_inner();
        r.map_err(|e| self.fail(e))
    }

    fn finish_entry_inner(&mut self) -> Result<EntryInfo, ZipWriteError> {
        let limit = self.zip64.size;
        let Some(mut open) = self.open.take() else { return Err(ZipWriteError::Failed) };
        if open.compression == Compression::Deflate {
            let (out, pos, o) = (&mut self.out, &mut self.pos, &mut open);
            self.deflater.finish(&mut |c: &Chunk| append(out, pos, o, c, limit))?;
        }
        check_size(&open, limit)?;
        let crc32 = open.crc.clone().finalize();
        let mut d = Vec::with_capacity(24);
        put32(&mut d, DESCRIPTOR_SIG);
        put32(&mut d, crc32);
        if open.large {
            put64(&mut d, open.compressed);
            put64(&mut d, open.uncompressed);
        } else {
            // `check_size` proved both fit.
            put32(&mut d, u32::try_from(open.compressed).unwrap_or(u32::MAX));
            put32(&mut d, u32::try_from(open.uncompressed).unwrap_or(u32::MAX));
        }
        self.emit(&d)?;
        let info = EntryInfo {
            name: open.name,
            compression: open.compression,
            crc32,
            compressed: open.compressed,
            uncompressed: open.uncompressed,
            offset: open.offset,
        };
        self.entries.push(Central {
            info: info.clone(),
            time: open.time,
            date: open.date,
            large: open.large,
        });
        Ok(info)
    }
}

/// Write one compressed chunk of the open entry.
fn append<W: Write>(
    out: &mut W,
    pos: &mut u64,
    open: &mut Open,
    chunk: &Chunk,
    limit: u64,
) -> Result<(), ZipWriteError> {
    open.crc.combine(&chunk.crc);
    open.uncompressed += chunk.len;
    open.compressed += chunk.compressed.len() as u64;
    check_size(open, limit)?;
    out.write_all(&chunk.compressed)?;
    *pos += chunk.compressed.len() as u64;
    Ok(())
}

/// An entry without a ZIP64 local header must stay below the 32-bit limit.
fn check_size(open: &Open, limit: u64) -> Result<(), ZipWriteError> {
    let bytes = open.uncompressed.max(open.compressed);
    if !open.large && bytes >= limit {
        return Err(ZipWriteError::NeedsZip64 { name: open.name.clone(), bytes });
    }
    Ok(())
}

/// Writes the bytes of the entry just started; [`EntryWriter::finish`] ends it. Dropping it
/// without `finish` leaves the zip unfinishable ([`ZipWriteError::Abandoned`]).
///
/// Deflated bytes are buffered until a whole chunk is there, so `flush` does not push them out:
/// chunk boundaries depend on the byte stream alone.
pub struct EntryWriter<'a, W: Write> {
    zip: &'a mut ZipWriter<W>,
}

impl<W: Write> EntryWriter<'_, W> {
    /// Compress and write what is buffered, then the data descriptor.
    pub fn finish(self) -> Result<EntryInfo, ZipWriteError> {
        self.zip.finish_entry()
    }
}

impl<W: Write> Write for EntryWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.zip.write_entry(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.zip.out.flush()
    }
}

fn flags(name: &str) -> u16 {
    if name.is_ascii() { FLAG_DESCRIPTOR } else { FLAG_DESCRIPTOR | FLAG_UTF8 }
}

fn method(c: Compression) -> u16 {
    match c {
        Compression::Store => 0,
        Compression::Deflate => 8,
    }
}

/// APPNOTE 4.4.3.2: 1.0 stored, 2.0 deflate, 4.5 ZIP64.
fn version_needed(c: Compression, zip64: bool) -> u16 {
    match (zip64, c) {
        (true, _) => 45,
        (false, Compression::Deflate) => 20,
        (false, Compression::Store) => 10,
    }
}

/// `v` in a 32-bit field: itself, or `0xFFFFFFFF` ("in the ZIP64 record").
fn field32(v: u64, limit: u64) -> u32 {
    if v >= limit { u32::MAX } else { u32::try_from(v).unwrap_or(u32::MAX) }
}

fn central_record(cd: &mut Vec<u8>, c: &Central, limit: u64) {
    let i = &c.info;
    let mut extra = Vec::new();
    for v in [i.uncompressed, i.compressed, i.offset] {
        if v >= limit {
            put64(&mut extra, v);
        }
    }
    let zip64 = c.large || !extra.is_empty();
    let version = version_needed(i.compression, zip64);
    put32(cd, CENTRAL_SIG);
    put16(cd, HOST_UNIX | version);
    put16(cd, version);
    put16(cd, flags(&i.name));
    put16(cd, method(i.compression));
    put16(cd, c.time);
    put16(cd, c.date);
    put32(cd, i.crc32);
    put32(cd, field32(i.compressed, limit));
    put32(cd, field32(i.uncompressed, limit));
    put16(cd, u16::try_from(i.name.len()).unwrap_or(u16::MAX));
    put16(cd, if extra.is_empty() { 0 } else { 4 + extra.len() as u16 });
    put16(cd, 0); // comment length
    put16(cd, 0); // disk number start
    put16(cd, 0); // internal attributes
    put32(cd, EXTERNAL_ATTRS);
    put32(cd, field32(i.offset, limit));
    cd.extend_from_slice(i.name.as_bytes());
    if !extra.is_empty() {
        put16(cd, ZIP64_EXTRA);
        put16(cd, extra.len() as u16);
        cd.extend_from_slice(&extra);
    }
}

/// Why `name` may not be an entry name, if it may not: names are unzipped as paths, and an
/// export must never write outside its folder or be read as something else.
pub(super) fn check_name(name: &str) -> Result<(), &'static str> {
    let b = name.as_bytes();
    if name.is_empty() {
        return Err("empty");
    }
    if b.len() > usize::from(u16::MAX) {
        return Err("longer than 65,535 bytes");
    }
    if name.contains('\0') {
        return Err("holds a NUL byte");
    }
    if name.contains('\\') {
        return Err("holds a backslash (a path separator on Windows)");
    }
    if name.chars().any(char::is_control) {
        return Err("holds a control character");
    }
    if name.starts_with('/') {
        return Err("is an absolute path");
    }
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Err("starts with a drive letter");
    }
    for part in name.split('/') {
        match part {
            ".." => return Err("has a `..` component"),
            "." => return Err("has a `.` component"),
            "" => return Err("has an empty component (`//` or a trailing `/`)"),
            _ => {}
        }
    }
    Ok(())
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}
