//! Content zips: the only user of `zip`. Written as a stream (data descriptors, ZIP64 when
//! needed) so the writer underneath can hash every byte as it passes; entries carry a fixed
//! timestamp and permissions so the same input always gives the same bytes.
//!
//! Two writers: [`ZipOut`] (the `zip` crate's, one core per entry) and [`ZipWriter`], our own
//! container writer (`writer.rs`) with a pigz-style parallel deflater (`deflate.rs`) that
//! compresses one entry on every core and gives the same bytes for 1 and N threads. The `zip`
//! crate cannot take a deflate stream made elsewhere, hence our own container; it stays the
//! reader (`for_each_entry`) that `verify` and the tests use.
//!
//! Plugging [`ZipWriter`] into an export: one [`DeflatePool`] for the whole run (shared by every
//! zip worker; its threads only compress), each zip file wrapped in an `Md5Writer` so its
//! checksum is known when it is written, then
//! `ZipWriter::with_pool(md5_writer, ZipOptions::default(), &pool)`,
//! `start_entry(name, EntryOptions { compression, mtime, large })`, `write_all` the framed
//! messages in any pieces, `EntryWriter::finish()` (→ [`EntryInfo`]: CRC, sizes, offset), and
//! `ZipWriter::finish()` (→ the `Md5Writer` back). `large` must be set when the entry may reach
//! 4 GiB; errors convert into `io::Error`.

use std::io::{self, Read, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive};

mod deflate;
mod writer;

pub use deflate::{DeflateOptions, DeflatePool};
pub use writer::{
    EntryInfo, EntryOptions, EntryWriter, Zip64Limits, ZipOptions, ZipWriteError, ZipWriter,
};

/// How entries are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Deflate, level 6.
    Deflate,
    /// Stored as is.
    Store,
}

fn zip_err(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

/// A zip being written to a stream.
pub struct ZipOut<W: Write> {
    zw: zip::ZipWriter<zip::write::StreamWriter<W>>,
}

impl<W: Write> ZipOut<W> {
    /// Start a zip.
    pub fn new(w: W) -> Self {
        ZipOut { zw: zip::ZipWriter::new_stream(w).set_auto_large_file() }
    }

    /// Start an entry; write its bytes with `Write`. `mtime` is UTC seconds (clamped to the DOS
    /// range 1980–2107); `large` must be true if it may pass 4 GiB.
    pub fn start(
        &mut self,
        name: &str,
        compression: Compression,
        mtime: Option<i64>,
        large: bool,
    ) -> io::Result<()> {
        let dt = mtime
            .and_then(crate::model::time::civil_utc)
            .and_then(|(y, mo, d, h, mi, s)| {
                zip::DateTime::from_date_and_time(y.clamp(1980, 2107) as u16, mo, d, h, mi, s).ok()
            })
            .unwrap_or_default();
        let opts = SimpleFileOptions::default()
            .compression_method(match compression {
                Compression::Deflate => CompressionMethod::Deflated,
                Compression::Store => CompressionMethod::Stored,
            })
            .compression_level(match compression {
                Compression::Deflate => Some(6),
                Compression::Store => None,
            })
            .last_modified_time(dt)
            .unix_permissions(0o644)
            .large_file(large);
        self.zw.start_file(name, opts).map_err(zip_err)
    }

    /// Finish the archive and hand back the stream.
    pub fn finish(self) -> io::Result<W> {
        self.zw.finish().map_err(zip_err).map(|s| s.into_inner())
    }
}

impl<W: Write> Write for ZipOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.zw.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.zw.flush()
    }
}

/// The DOS (time, date) of an entry modified at `mtime` (UTC seconds): the year clamped to the
/// DOS range 1980–2107, odd seconds rounded down; the DOS epoch (1980-01-01 00:00:00) when there
/// is no time or the clamped date does not exist (29 February moved to 2107). The same choices
/// as [`ZipOut::start`], so both writers stamp entries alike.
fn dos_datetime(mtime: Option<i64>) -> (u16, u16) {
    const EPOCH: (u16, u16) = (0, (1 << 5) | 1);
    let Some((y, mo, d, h, mi, s)) = mtime.and_then(crate::model::time::civil_utc) else {
        return EPOCH;
    };
    let year = y.clamp(1980, 2107);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let max_day = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if d == 0 || d > max_day || h > 23 || mi > 59 || s > 60 {
        return EPOCH;
    }
    let date = u16::from(d) | (u16::from(mo) << 5) | ((year - 1980) as u16) << 9;
    let time = (u16::from(s.min(58)) >> 1) | (u16::from(mi) << 5) | (u16::from(h) << 11);
    (time, date)
}

/// Visit every entry of a zip in order: its name and a reader of its uncompressed bytes (the CRC
/// is checked when the reader reaches the end).
pub fn for_each_entry<R: Read + io::Seek>(
    r: R,
    mut f: impl FnMut(&str, &mut dyn Read) -> io::Result<()>,
) -> io::Result<usize> {
    for_each_entry_sized(r, |name, _, entry| f(name, entry))
}

/// [`for_each_entry`], also handing over each entry's declared uncompressed size. The reader
/// fails once the entry inflates past that size, so a caller that refuses large declared sizes
/// up front bounds what it reads. An entry name that is not UTF-8 (or CP437) is an error.
pub fn for_each_entry_sized<R: Read + io::Seek>(
    r: R,
    mut f: impl FnMut(&str, u64, &mut dyn Read) -> io::Result<()>,
) -> io::Result<usize> {
    let mut archive = ZipArchive::new(r).map_err(zip_err)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        let name = entry.name().map_err(zip_err)?.into_owned();
        let size = entry.size();
        f(&name, size, &mut entry)?;
    }
    Ok(archive.len())
}

/// A zip archive nobody vouched for (a custodian's office file), read by entry name. Only the
/// central directory is read on opening; each entry is inflated only as far as the caller
/// reads it, so the caller's bound on what it reads bounds the work, whatever sizes the
/// archive declares.
pub struct ZipIn<R> {
    archive: ZipArchive<R>,
}

impl<R: Read + io::Seek> ZipIn<R> {
    /// Read the central directory of `r`. A file cut short (no end-of-central-directory record)
    /// or not a zip at all is an error.
    pub fn new(r: R) -> io::Result<Self> {
        Ok(ZipIn { archive: ZipArchive::new(r).map_err(zip_err)? })
    }

    /// Entry names in central-directory order (names that are not UTF-8 or CP437 left out).
    pub fn names(&self) -> Vec<String> {
        self.archive.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect()
    }

    /// Is there an entry called exactly `name`?
    pub fn contains(&self, name: &str) -> bool {
        self.archive.index_for_name(name).is_some()
    }

    /// Hand `f` a reader of entry `name`'s inflated bytes; `None` when there is no such entry.
    /// An entry that cannot be read (encrypted, an unsupported compression method) is an
    /// error; a CRC mismatch is an error from the reader once it reaches the end.
    pub fn read<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn Read) -> T,
    ) -> io::Result<Option<T>> {
        let Some(index) = self.archive.index_for_name(name) else {
            return Ok(None);
        };
        let mut entry = self.archive.by_index(index).map_err(zip_err)?;
        Ok(Some(f(&mut entry)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn entry(compression: Compression, large: bool) -> EntryOptions {
        EntryOptions { compression, mtime: Some(1_700_000_000), large }
    }

    /// Every entry as the `zip` crate reads it: (name, bytes).
    fn read_back(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut v = Vec::new();
        for_each_entry(Cursor::new(zip), |name, r| {
            let mut b = Vec::new();
            r.read_to_end(&mut b)?;
            v.push((name.to_owned(), b));
            Ok(())
        })
        .unwrap();
        v
    }

    #[test]
    fn dos_time_is_the_zip_crates() {
        let zip_crate = |t: Option<i64>| {
            let dt = t
                .and_then(crate::model::time::civil_utc)
                .and_then(|(y, mo, d, h, mi, s)| {
                    zip::DateTime::from_date_and_time(y.clamp(1980, 2107) as u16, mo, d, h, mi, s)
                        .ok()
                })
                .unwrap_or_default();
            (dt.timepart(), dt.datepart())
        };
        let mut times = vec![None, Some(0), Some(-1), Some(i64::MIN), Some(i64::MAX)];
        // Every day from 1975 to 2110 at an odd second, and the leap days that clamp to 2107.
        times.extend((0..50_000).map(|d| Some(157_766_400 + d * 86_400 + d % 86_399)));
        times.push(Some(4_107_542_400)); // 2100-02-28 … a non-leap century
        times.push(Some(4_391_280_000)); // 2109-02-28
        times.push(Some(4_265_049_599)); // 2105-02-28 23:59:59
        times.push(Some(4_423_248_000)); // 2110-03-01
        times.push(Some(4_292_092_800)); // 2106-01-04
        times.push(Some(4_265_136_000)); // 2105-03-01
        times.push(Some(4_233_600_000)); // 2104-02-29: leap, clamped to 2107 → no such day
        for t in times {
            assert_eq!(dos_datetime(t), zip_crate(t), "{t:?}");
        }
    }

    #[test]
    fn entries_read_back_through_the_zip_crate() {
        let big = deflate::tests::text(300_000, 5);
        let mut z = ZipWriter::new(
            Vec::new(),
            ZipOptions {
                deflate: DeflateOptions { level: 6, chunk_size: 65_536 },
                ..ZipOptions::default()
            },
        )
        .unwrap();
        let cases: Vec<(&str, Compression, &[u8])> = vec![
            ("a.mbox", Compression::Deflate, &big),
            ("empty.mbox", Compression::Deflate, b""),
            ("one.mbox", Compression::Deflate, b"x"),
            ("stored.mbox", Compression::Store, &big[..1000]),
            ("dir/été.mbox", Compression::Deflate, b"accents"),
        ];
        let mut infos = Vec::new();
        for (name, c, bytes) in &cases {
            let mut e = z.start_entry(name, entry(*c, false)).unwrap();
            e.write_all(bytes).unwrap();
            let info = e.finish().unwrap();
            assert_eq!(info.uncompressed, bytes.len() as u64);
            infos.push(info);
        }
        assert!(z.entries().eq(infos.iter()));
        let zip = z.finish().unwrap();
        // The zip crate checks each entry's data against the CRC in its header as it reads.
        let got = read_back(&zip);
        let want: Vec<(String, Vec<u8>)> =
            cases.iter().map(|(n, _, b)| (n.to_string(), b.to_vec())).collect();
        assert!(got == want);
        let mut archive = ZipArchive::new(Cursor::new(&zip)).unwrap();
        for (i, info) in infos.iter().enumerate() {
            let e = archive.by_index(i).unwrap();
            assert_eq!(
                (e.crc32(), e.compressed_size(), e.size(), e.header_start()),
                (info.crc32, info.compressed, info.uncompressed, info.offset),
                "{}",
                info.name
            );
        }
    }

    #[test]
    fn hostile_and_duplicate_names_are_refused_and_the_zip_goes_on() {
        let mut z = ZipWriter::new(Vec::new(), ZipOptions::default()).unwrap();
        for bad in [
            "",
            "../x",
            "a/../../x",
            "..",
            "/etc/passwd",
            "a\\b",
            "a\0b",
            "C:/x",
            "c:x",
            "a//b",
            "dir/",
            "./a",
            "a/./b",
            "line\nbreak",
            "esc\u{1b}[2J",
        ] {
            match z.start_entry(bad, entry(Compression::Store, false)) {
                Err(ZipWriteError::Name { name, .. }) => assert_eq!(name, bad),
                Err(e) => panic!("{bad:?}: {e}"),
                Ok(_) => panic!("{bad:?} accepted"),
            }
        }
        for good in ["a..b.mbox", "x/y.mbox", "...", "NAME-ann@example.com.mbox"] {
            let mut e = z.start_entry(good, entry(Compression::Store, false)).unwrap();
            e.write_all(good.as_bytes()).unwrap();
            e.finish().unwrap();
        }
        assert!(matches!(
            z.start_entry("x/y.mbox", entry(Compression::Deflate, false)),
            Err(ZipWriteError::Duplicate(_))
        ));
        let zip = z.finish().unwrap();
        let names: Vec<String> = read_back(&zip).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a..b.mbox", "x/y.mbox", "...", "NAME-ann@example.com.mbox"]);
    }

    #[test]
    fn an_abandoned_entry_makes_finish_fail() {
        let mut z = ZipWriter::new(Vec::new(), ZipOptions::default()).unwrap();
        // The entry writer goes out of scope without `finish`.
        z.start_entry("a", entry(Compression::Deflate, false)).unwrap().write_all(b"half").unwrap();
        assert!(matches!(
            z.start_entry("b", entry(Compression::Deflate, false)),
            Err(ZipWriteError::Abandoned(n)) if n == "a"
        ));
        assert!(matches!(z.finish(), Err(ZipWriteError::Abandoned(_))));
    }

    #[test]
    fn an_entry_past_the_limit_without_large_is_an_error() {
        let zip64 = Zip64Limits { size: 1000, count: 0xFFFF };
        for c in [Compression::Store, Compression::Deflate] {
            let opts = ZipOptions {
                deflate: DeflateOptions { level: 0, chunk_size: 300 },
                zip64,
                ..ZipOptions::default()
            };
            let mut z = ZipWriter::new(Vec::new(), opts).unwrap();
            let mut e = z.start_entry("a", entry(c, false)).unwrap();
            // Stored: the size reaches the limit. Deflated at level 0: only the compressed size
            // does (stored blocks add a few bytes each).
            let n = if c == Compression::Store { 1000 } else { 999 };
            let r =
                e.write_all(&vec![7u8; n]).map_err(ZipWriteError::from).and_then(|()| e.finish());
            let err = r.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(
                err.contains("start entries that may reach 4 GiB with `large`"),
                "{c:?}: {err}"
            );
            assert!(matches!(z.finish(), Err(ZipWriteError::Failed)), "{c:?}");
        }
    }

    /// A writer that fails once `left` bytes are used up.
    struct Failing {
        left: usize,
    }
    impl Write for Failing {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = b.len().min(self.left);
            self.left -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_stream_stops_the_zip_with_its_error() {
        let data = deflate::tests::text(200_000, 9);
        for left in [0, 10, 31, 5_000, 40_000] {
            let pool = DeflatePool::new(2).unwrap();
            let opts = ZipOptions {
                deflate: DeflateOptions { level: 6, chunk_size: 20_000 },
                ..ZipOptions::default()
            };
            let mut z = ZipWriter::with_pool(Failing { left }, opts, &pool).unwrap();
            let r = z
                .start_entry("a", entry(Compression::Deflate, false))
                .and_then(|mut e| {
                    e.write_all(&data)?;
                    e.finish()
                })
                .map(|_| ());
            let e = r.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("disk full"), "{left}: {e}");
            assert!(matches!(z.finish(), Err(ZipWriteError::Failed)));
        }
    }

    #[test]
    fn options_out_of_range_are_refused() {
        let bad = [
            ZipOptions { in_flight: Some(0), ..ZipOptions::default() },
            ZipOptions { zip64: Zip64Limits { size: 1 << 32, count: 1 }, ..ZipOptions::default() },
            ZipOptions { zip64: Zip64Limits { size: 1, count: 1 << 16 }, ..ZipOptions::default() },
            ZipOptions {
                deflate: DeflateOptions { level: 10, chunk_size: 1 },
                ..ZipOptions::default()
            },
        ];
        for o in bad {
            assert!(
                matches!(ZipWriter::new(Vec::new(), o), Err(ZipWriteError::Options(_))),
                "{o:?}"
            );
        }
    }
}
