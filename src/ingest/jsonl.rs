//! The JSON Lines framing our chat, Drive and Voice formats share (`docs/formats/`): a header line
//! naming the format and its version, then one JSON object per line.
//!
//! Strict, so that an embedding product's bug shows up as a line-numbered rejection instead of
//! quietly wrong evidence: each line is decoded into a `deny_unknown_fields` type, a line cut off
//! at the end of the file is said to be truncated, a line longer than [`MAX_LINE`] is refused
//! without being held, and a header that is missing, of another format or of a version this
//! build does not know stops the whole source before anything is stored. Blank lines carry
//! nothing and are passed over.

use super::{IngestError, Position, Rejection};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The format version this build reads.
pub const VERSION: u32 = 1;

/// The longest line read: a record's metadata, not its content (content comes in files), so 16 MiB
/// is generous; a longer line is refused and skipped up to its end without being held.
pub const MAX_LINE: usize = 16 << 20;

/// The first line of every file: `{"format": "ediscovery.chat", "version": 1}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
}

/// One line of a file: its number and what it decoded to, or why it was refused.
pub type Decoded<T> = (u64, Result<T, String>);

/// The records of a JSON Lines file of `format` (`ediscovery.chat`…), decoded as `T`, with their
/// 1-based line numbers. The header is read before this returns: a bad header is an error.
pub fn open<T: DeserializeOwned>(
    path: &Path,
    format: &'static str,
    limits: &crate::Limits,
) -> Result<impl Iterator<Item = Decoded<T>> + Send + use<T>, IngestError> {
    let file = crate::fs_safe::open_regular(path).map_err(|e| IngestError::Io {
        path: path.to_path_buf(),
        source: match e {
            crate::fs_safe::NotRegular::Io(e) => e,
            crate::fs_safe::NotRegular::Kind(k) => {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("it is {k}"))
            }
        },
    })?;
    let mut lines = LineReader { reader: BufReader::with_capacity(1 << 20, file.0), line: 0 };
    let bad =
        |line: u64, reason: String| IngestError::BadLine { path: path.to_path_buf(), line, reason };
    let (line, header) = loop {
        match lines.next_line() {
            None => {
                return Err(bad(
                    1,
                    format!(
                        "empty file: the first line must be the header {}",
                        header_example(format)
                    ),
                ));
            }
            Some((n, Err(e))) => return Err(bad(n, e)),
            Some((_, Ok((bytes, _)))) if bytes.iter().all(u8::is_ascii_whitespace) => continue,
            Some((n, Ok((bytes, _)))) => break (n, bytes),
        }
    };
    let h: Header = serde_json::from_slice(&header).map_err(|e| {
        bad(line, format!("not a header ({e}); the first line must be {}", header_example(format)))
    })?;
    if h.format != format {
        return Err(bad(line, format!("format {:?}, expected {format:?}", h.format)));
    }
    if h.version != VERSION {
        return Err(bad(
            line,
            format!("version {} of {format}; this build reads version {VERSION}", h.version),
        ));
    }
    let depth = limits.json_depth;
    Ok(std::iter::from_fn(move || {
        loop {
            let (n, r) = lines.next_line()?;
            let (bytes, ended) = match r {
                Err(e) => return Some((n, Err(e))),
                Ok(x) => x,
            };
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some((n, decode::<T>(&bytes, ended, depth)));
        }
    }))
}

fn header_example(format: &str) -> String {
    format!("{{\"format\": \"{format}\", \"version\": {VERSION}}}")
}

fn decode<T: DeserializeOwned>(bytes: &[u8], ended: bool, depth: usize) -> Result<T, String> {
    crate::limits::check_json_depth(bytes, depth).map_err(|e| e.to_string())?;
    serde_json::from_slice::<T>(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof if !ended => {
                "truncated: the file ends in the middle of this line".to_owned()
            }
            serde_json::error::Category::Eof => "incomplete JSON".to_owned(),
            serde_json::error::Category::Syntax => "not JSON".to_owned(),
            serde_json::error::Category::Data => "wrong JSON".to_owned(),
            serde_json::error::Category::Io => "read error".to_owned(),
        };
        // serde's message ends with "at line 1 column N"; the line is ours, the column is
        // within it.
        let msg = e.to_string();
        let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m);
        format!("{what}: {msg} (column {})", e.column())
    })
}

/// A line's number and its bytes with whether a newline ended it, or why it was not read.
type Line = (u64, Result<(Vec<u8>, bool), String>);

/// Lines of at most [`MAX_LINE`] bytes, each with whether it ended with a newline.
struct LineReader<R> {
    reader: R,
    line: u64,
}

impl<R: BufRead> LineReader<R> {
    fn next_line(&mut self) -> Option<Line> {
        let mut out = Vec::new();
        let mut too_long = false;
        let mut any = false;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.line += 1;
                    return Some((
                        self.line,
                        Err(format!("read error; the rest of the file was not read: {e}")),
                    ));
                }
            };
            if buf.is_empty() {
                if !any {
                    return None;
                }
                self.line += 1;
                return Some((self.line, finish(out, too_long, false)));
            }
            any = true;
            let (take, ended) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let piece = buf.get(..take).unwrap_or_default();
            if !too_long {
                if out.len() + piece.len() > MAX_LINE + 1 {
                    too_long = true;
                    out = Vec::new();
                } else {
                    out.extend_from_slice(piece);
                }
            }
            self.reader.consume(take);
            if ended {
                self.line += 1;
                if out.last() == Some(&b'\n') {
                    out.pop();
                }
                if out.last() == Some(&b'\r') {
                    out.pop();
                }
                return Some((self.line, finish(out, too_long, true)));
            }
        }
    }
}

fn finish(out: Vec<u8>, too_long: bool, ended: bool) -> Result<(Vec<u8>, bool), String> {
    if too_long {
        Err(format!("line longer than {MAX_LINE} bytes: not read (content belongs in files)"))
    } else {
        Ok((out, ended))
    }
}

/// A rejection at line `line` of `path`.
pub fn rejection(path: &Path, line: u64, reason: String) -> Rejection {
    Rejection { position: at(path, line), reason }
}

/// What one decoded line becomes: a record, or why not.
pub type ToRecord<T> = fn(&Path, &Path, u64, T) -> Result<super::RawRecord, String>;

/// The items of a JSON Lines file of `format`: each line decoded as `T` and turned into a
/// record by `to_record` (content paths under `root`), or rejected with its line number. The
/// one loop the chat, Drive and Voice readers share.
pub fn items<T: DeserializeOwned + 'static>(
    path: &Path,
    root: &Path,
    format: &'static str,
    limits: &crate::Limits,
    to_record: ToRecord<T>,
) -> Result<impl Iterator<Item = super::Item> + Send + use<T>, IngestError> {
    let lines = open::<T>(path, format, limits)?;
    let (path, root) = (path.to_path_buf(), root.to_path_buf());
    Ok(lines.map(move |(n, line)| match line.and_then(|l| to_record(&path, &root, n, l)) {
        Ok(r) => super::Item::Record(Box::new(r)),
        Err(reason) => super::Item::Rejected(rejection(&path, n, reason)),
    }))
}

/// Position of line `line` of `path`.
pub fn at(path: &Path, line: u64) -> Position {
    Position { path: path.display().to_string(), offset: None, line: Some(line), ordinal: None }
}

/// The folder content paths of `path` are relative to, when none is given: the file's own.
pub fn default_root(path: &Path) -> PathBuf {
    path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Parse an RFC 3339 time of field `field` (`2024-03-01T09:30:00Z`, an offset, or fractional
/// seconds) as UTC seconds.
pub fn time(field: &str, s: &str) -> Result<i64, String> {
    crate::model::time::parse_iso8601(s).filter(|_| s.len() > 10).ok_or_else(|| {
        format!("{field}: {s:?} is not an RFC 3339 time (e.g. 2024-03-01T09:30:00Z)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn lines(bytes: Vec<u8>) -> Vec<Line> {
        let mut r = LineReader {
            reader: std::io::BufReader::with_capacity(4096, Cursor::new(bytes)),
            line: 0,
        };
        std::iter::from_fn(|| r.next_line()).collect()
    }

    #[test]
    fn lines_are_numbered_capped_and_cut_ends_are_seen() {
        let mut input = b"a\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        input.extend_from_slice(b"\nb\nlast");
        let got = lines(input);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], (1, Ok((b"a".to_vec(), true))));
        assert!(matches!(&got[1], (2, Err(e)) if e.contains("longer than")), "{:?}", got[1].0);
        assert_eq!(got[2], (3, Ok((b"b".to_vec(), true))));
        assert_eq!(got[3], (4, Ok((b"last".to_vec(), false))));
    }

    #[test]
    fn decoding_says_what_is_wrong() {
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let e = |s: &str, ended| decode::<T>(s.as_bytes(), ended, 64).unwrap_err();
        assert!(e("{\"a\": 1", false).starts_with("truncated"), "{}", e("{\"a\": 1", false));
        assert!(e("{\"a\": 1", true).starts_with("incomplete"));
        assert!(e("{\"a\": \"x\"}", true).contains("invalid type"));
        assert!(e("{\"a\": 1, \"b\": 2}", true).contains("unknown field `b`"));
        assert!(e("{}", true).contains("missing field `a`"));
        assert!(e("{a: 1}", true).starts_with("not JSON"), "{}", e("{a: 1}", true));
        assert!(decode::<T>(b"{\"a\": 1}", false, 64).is_ok());
    }
}
