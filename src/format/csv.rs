//! CSV (RFC 4180, UTF-8 without BOM, CRLF): the only user of `csv`.
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a
//! formula (`=cmd|' /C calc'!A0`). Every cell we write goes through [`guard`], which puts a `'` in
//! front of such a cell — the convention spreadsheets show as text — so opening an export never
//! runs anything. A cell that already starts with `'` gets one too, so [`unguard`] (strip one
//! leading `'`) gives back every value exactly.

use std::borrow::Cow;
use std::io::{self, Read, Write};

/// The cell as written: prefixed with `'` when a spreadsheet would read it as a formula.
pub fn guard(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\'') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// A CSV file being written.
pub struct CsvWriter<W: Write> {
    /// `None` only while [`append`](CsvWriter::append) writes past it.
    inner: Option<::csv::Writer<W>>,
    guard: bool,
}

/// Every CSV we write: RFC 4180 quoting, CRLF line ends.
fn writer<W: Write>(w: W) -> ::csv::Writer<W> {
    ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(w)
}

fn gone() -> io::Error {
    io::Error::other("CSV writer lost after a failed append")
}

fn io(e: ::csv::Error) -> io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> CsvWriter<W> {
    /// Start a file with this header row; every cell will be guarded.
    pub fn new(w: W, header: &[&str]) -> io::Result<Self> {
        Self::with_guard(w, header, true)
    }

    /// Start a file with this header row; cells guarded only when `guard` is set (off for
    /// machine pipelines, which would read the `'` as part of the value).
    pub fn with_guard(w: W, header: &[&str], guard: bool) -> io::Result<Self> {
        let mut inner = writer(w);
        inner.write_record(header).map_err(io)?;
        Ok(CsvWriter { inner: Some(inner), guard })
    }

    /// A writer of rows only (no header): a chunk rendered apart and appended to the real
    /// writer with [`append`](Self::append), so chunks can be rendered at once.
    pub fn fragment(w: W, guard: bool) -> Self {
        CsvWriter { inner: Some(writer(w)), guard }
    }

    /// Append rows rendered by a [`fragment`](Self::fragment) writer.
    pub fn append(&mut self, rows: &[u8]) -> io::Result<()> {
        // The csv writer buffers and lends no access to what it wraps: flush it, write past it,
        // and wrap again (a writer holds no state between rows but its buffer).
        let inner = self.inner.take().ok_or_else(gone)?;
        let mut w = inner.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
        w.write_all(rows)?;
        self.inner = Some(writer(w));
        Ok(())
    }

    /// Whether cells are guarded (a fragment must guard as its file does).
    pub fn guarded(&self) -> bool {
        self.guard
    }

    /// One row.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> io::Result<()> {
        let inner = self.inner.as_mut().ok_or_else(gone)?;
        if self.guard {
            inner.write_record(cells.iter().map(|c| guard(c.as_ref()).into_owned()))
        } else {
            inner.write_record(cells.iter().map(AsRef::as_ref))
        }
        .map_err(io)
    }

    /// Flush and hand back the writer (errors are returned, not lost in `Drop`).
    pub fn finish(self) -> io::Result<W> {
        let inner = self.inner.ok_or_else(gone)?;
        inner.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }
}

/// A whole CSV: its header and rows, cells as written (guards not undone).
pub fn read(r: impl Read) -> io::Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut reader = ::csv::ReaderBuilder::new().flexible(false).from_reader(r);
    let header = reader.headers().map_err(io)?.iter().map(str::to_owned).collect();
    let mut rows = Vec::new();
    for rec in reader.records() {
        rows.push(rec.map_err(io)?.iter().map(str::to_owned).collect());
    }
    Ok((header, rows))
}

/// A CSV read one row at a time, each row at most a set number of bytes, rows of any length
/// (a short row is for the caller to report, not an error): what `verify` reads files it did not
/// write with.
pub struct RowReader<R: Read> {
    inner: ::csv::Reader<super::bounded::Bounded<R>>,
    header: Vec<String>,
    record: ::csv::StringRecord,
}

impl<R: Read> RowReader<R> {
    /// Read the header row of `r`; every row after it may be at most `max_row_bytes` long.
    pub fn new(r: R, max_row_bytes: u64) -> io::Result<Self> {
        let mut inner = ::csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(super::bounded::Bounded::new(r, max_row_bytes));
        let header = inner.headers().map_err(io)?.iter().map(str::to_owned).collect();
        Ok(RowReader { inner, header, record: ::csv::StringRecord::new() })
    }

    /// The header row (empty for an empty file).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The next row and the line it starts on (the header is line 1; a quoted cell with line
    /// breaks makes a row span several lines), cells as written; `None` at the end. For inputs
    /// people edit, whose errors must say where.
    pub fn next_row_at(&mut self) -> io::Result<Option<(u64, Vec<String>)>> {
        Ok(self.next_row()?.map(|cells| (self.record.position().map_or(0, |p| p.line()), cells)))
    }

    /// The next row, cells as written (guards not undone); `None` at the end.
    pub fn next_row(&mut self) -> io::Result<Option<Vec<String>>> {
        self.inner.get_mut().reset();
        if self.inner.read_record(&mut self.record).map_err(io)? {
            Ok(Some(self.record.iter().map(str::to_owned).collect()))
        } else {
            Ok(None)
        }
    }
}

/// Undo [`guard`] for a cell read back: strip one leading `'`.
pub fn unguard(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_round_trip() {
        let cells = [
            "=cmd|' /C calc'!A0",
            "@SUM(1+1)",
            "+1",
            "-1",
            "\tx",
            "plain",
            "'quoted",
            "a,\"b\"\r\nc",
        ];
        let mut w = CsvWriter::new(Vec::new(), &["A", "B", "C", "D", "E", "F", "G", "H"]).unwrap();
        w.row(&cells).unwrap();
        let bytes = w.finish().unwrap();
        let (h, rows) = read(&bytes[..]).unwrap();
        assert_eq!(h.len(), 8);
        assert_eq!(rows[0][0], "'=cmd|' /C calc'!A0");
        assert_eq!(rows[0][5], "plain");
        let back: Vec<&str> = rows[0].iter().map(|c| unguard(c)).collect();
        assert_eq!(back, cells);
    }
}
