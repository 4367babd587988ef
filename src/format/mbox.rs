//! mbox: a byte-exact splitter (ingest and verify) and the mboxrd framer (exports).
//!
//! mail-parser's reader drops bytes before the first `From ` line and un-quotes `>From ` lines
//! without saying so, so mbox is split here. A message is the bytes between two `From_` lines,
//! minus the blank separator line that ends it, with one level of mboxrd quoting removed (a line
//! `>From ` becomes `From `, `>>From ` becomes `>From `). That is exactly the inverse of what an
//! mboxrd writer does, so the stored bytes equal the bytes that were written.
//!
//! A `From ` line starts a new message only at the start of the file or after an empty line, as
//! mboxrd writers always leave one; an unquoted `From ` inside a body (mboxo writers) therefore
//! stays in its message unless it follows an empty line, which no splitter can tell apart.
//!
//! Streaming: one message is held in memory at a time.

use std::io::{self, BufRead, Write};

/// What the splitter found, in file order.
#[derive(Debug, PartialEq, Eq)]
pub enum MboxItem {
    /// A message.
    Message(MboxMessage),
    /// Bytes before the first `From ` line.
    Preamble {
        /// Always 0.
        offset: u64,
        /// How many bytes.
        len: u64,
        /// True when they are only whitespace.
        blank: bool,
    },
}

/// One message of an mbox.
#[derive(Debug, PartialEq, Eq)]
pub struct MboxMessage {
    /// 0-based position of the message in the file.
    pub ordinal: u64,
    /// Byte offset of its `From ` line.
    pub offset: u64,
    /// 1-based line number of its `From ` line.
    pub line: u64,
    /// The `From ` line without `From ` and without its line end.
    pub envelope: Vec<u8>,
    /// The message bytes, mboxrd quoting undone, separator removed.
    pub bytes: Vec<u8>,
    /// The message ended without its blank separator line (a cut-short file).
    pub truncated: bool,
}

/// Preamble lines are skimmed keeping at most this many bytes (enough for any `From_` line).
const HEAD: usize = 1024;

/// Splits an mbox stream into [`MboxItem`]s.
pub struct MboxSplitter<R> {
    reader: R,
    line: Vec<u8>,
    /// Byte offset of the next line to read.
    pos: u64,
    line_no: u64,
    /// The `From ` line just read that starts the next message, with its offset and line number.
    pending: Option<(Vec<u8>, u64, u64)>,
    ordinal: u64,
    started: bool,
    done: bool,
}

impl<R: BufRead> MboxSplitter<R> {
    /// Split `reader`.
    pub fn new(reader: R) -> Self {
        MboxSplitter {
            reader,
            line: Vec::with_capacity(256),
            pos: 0,
            line_no: 0,
            pending: None,
            ordinal: 0,
            started: false,
            done: false,
        }
    }

    /// Read one line into `self.line`; false at end of file.
    fn read_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        let n = self.reader.read_until(b'\n', &mut self.line)?;
        self.pos += n as u64;
        self.line_no += 1;
        Ok(n > 0)
    }

    /// Consume one line, keeping at most its first [`HEAD`] bytes in `self.line`. Returns its
    /// length and whether it was all white space; `None` at end of file.
    fn skim_line(&mut self) -> io::Result<Option<(u64, bool)>> {
        self.line.clear();
        let (mut n, mut blank) = (0u64, true);
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let chunk = &buf[..take];
            blank &= chunk.iter().all(u8::is_ascii_whitespace);
            let room = HEAD.saturating_sub(self.line.len()).min(take);
            self.line.extend_from_slice(&chunk[..room]);
            self.reader.consume(take);
            n += take as u64;
            if done {
                break;
            }
        }
        if n == 0 {
            return Ok(None);
        }
        self.pos += n;
        self.line_no += 1;
        Ok(Some((n, blank)))
    }

    fn next_item(&mut self) -> io::Result<Option<MboxItem>> {
        if self.done {
            return Ok(None);
        }
        if !self.started {
            self.started = true;
            // Everything up to the first From_ line is preamble. Its lines are skimmed, never held
            // whole, so a huge file with no line feed costs no memory before it is rejected.
            let mut len = 0u64;
            let mut blank = true;
            loop {
                let at = self.pos;
                let Some((n, line_blank)) = self.skim_line()? else {
                    self.done = true;
                    return Ok((len > 0).then_some(MboxItem::Preamble { offset: 0, len, blank }));
                };
                if self.line.starts_with(b"From ") {
                    self.pending = Some((envelope_of(&self.line), at, self.line_no));
                    if len > 0 {
                        return Ok(Some(MboxItem::Preamble { offset: 0, len, blank }));
                    }
                    break;
                }
                len += n;
                blank &= line_blank;
            }
        }
        let Some((envelope, offset, line)) = self.pending.take() else {
            self.done = true;
            return Ok(None);
        };
        let mut bytes = Vec::new();
        let mut prev_empty = false;
        loop {
            let at = self.pos;
            if !self.read_line()? {
                self.done = true;
                break;
            }
            if prev_empty && self.line.starts_with(b"From ") {
                self.pending = Some((envelope_of(&self.line), at, self.line_no));
                break;
            }
            prev_empty = self.line == b"\n" || self.line == b"\r\n";
            bytes.extend_from_slice(unquote(&self.line));
        }
        let truncated = !strip_separator(&mut bytes);
        let ordinal = self.ordinal;
        self.ordinal += 1;
        Ok(Some(MboxItem::Message(MboxMessage {
            ordinal,
            offset,
            line,
            envelope,
            bytes,
            truncated,
        })))
    }
}

impl<R: BufRead> Iterator for MboxSplitter<R> {
    type Item = io::Result<MboxItem>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_item() {
            Ok(item) => item.map(Ok),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// `From sender date\n` → `sender date`.
fn envelope_of(line: &[u8]) -> Vec<u8> {
    let rest = &line[5..];
    let end = rest.iter().rposition(|&b| b != b'\n' && b != b'\r').map_or(0, |i| i + 1);
    rest[..end].to_vec()
}

/// Removes one level of mboxrd quoting from a line.
fn unquote(line: &[u8]) -> &[u8] {
    let gt = line.iter().take_while(|&&b| b == b'>').count();
    if gt > 0 && line[gt..].starts_with(b"From ") { &line[1..] } else { line }
}

/// Removes the blank separator line an mbox writer adds after each message. False when there was
/// none (the file was cut short, or this is the last message of a writer that adds none).
///
/// The separator is one empty line, `\n` or `\r\n`, whatever the message's own line ends are: a
/// writer that converts line ends may leave an LF message followed by a CRLF blank line. It is
/// only a separator when it starts a line, so the message keeps its own last line end.
fn strip_separator(bytes: &mut Vec<u8>) -> bool {
    if bytes == b"\n" || bytes == b"\r\n" {
        bytes.clear();
        true
    } else if bytes.ends_with(b"\n\n") {
        bytes.pop();
        true
    } else if bytes.ends_with(b"\n\r\n") {
        // Covers both a CRLF message (`\r\n` + `\r\n`) and an LF one (`\n` + `\r\n`).
        bytes.truncate(bytes.len() - 2);
        true
    } else {
        false
    }
}

/// Splits `From sender date` into the sender and the parsed date (UTC seconds).
pub fn parse_envelope(envelope: &[u8]) -> (Option<String>, Option<i64>) {
    let text = String::from_utf8_lossy(envelope);
    let mut parts = text.trim().splitn(2, char::is_whitespace);
    let sender = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
    let date = parts.next().and_then(crate::model::time::parse_asctime);
    (sender, date)
}

/// Frames `bytes` as one mboxrd message (`From ` line, quoted lines, trailing LF if missing, blank
/// line): the inverse of the splitter. Returns true when an LF had to be added (the message did
/// not end in one; mbox cannot tell that apart later, so exports count it).
pub fn frame_mboxrd(envelope: &str, bytes: &[u8], out: &mut Vec<u8>) -> bool {
    let framing = Framing::new(envelope, bytes);
    out.reserve(framing.len(bytes) as usize);
    // Writing to a Vec cannot fail.
    let _ = framing.write_to(bytes, out);
    Framing::newline_added(bytes)
}

/// How one message is framed as mboxrd, computed once so the message need not be copied: the
/// `From ` line, and where in the message a `>` goes (before every line that is `From ` after any
/// run of `>`). [`write_to`](Self::write_to) writes byte for byte what [`frame_mboxrd`] makes,
/// so an export can write the message straight from the pack map.
#[derive(Clone, Debug)]
pub struct Framing {
    from_line: String,
    quotes: Vec<usize>,
}

impl Framing {
    /// The framing of `bytes` under the `From ` line `From {envelope}`.
    pub fn new(envelope: &str, bytes: &[u8]) -> Framing {
        let mut from_line = String::with_capacity(envelope.len() + 6);
        from_line.push_str("From ");
        from_line.push_str(envelope);
        from_line.push('\n');
        let mut quotes = Vec::new();
        for pos in memchr::memmem::find_iter(bytes, b"From ") {
            let mut line_start = pos;
            while line_start > 0 && bytes[line_start - 1] == b'>' {
                line_start -= 1;
            }
            if line_start == 0 || bytes[line_start - 1] == b'\n' {
                quotes.push(line_start);
            }
        }
        Framing { from_line, quotes }
    }

    /// The message does not end in a line feed, so framing adds one.
    pub fn newline_added(bytes: &[u8]) -> bool {
        !bytes.ends_with(b"\n")
    }

    /// Bytes [`write_to`](Self::write_to) writes for `bytes`.
    pub fn len(&self, bytes: &[u8]) -> u64 {
        (self.from_line.len() + bytes.len() + self.quotes.len() + 1) as u64
            + u64::from(Self::newline_added(bytes))
    }

    /// Write `bytes` (the message this framing was computed from) framed: `From ` line, the
    /// message with its quotes, the final line feed if it had none, and the blank separator line.
    pub fn write_to(&self, bytes: &[u8], w: &mut impl Write) -> io::Result<()> {
        w.write_all(self.from_line.as_bytes())?;
        let mut copied = 0;
        for &q in &self.quotes {
            w.write_all(bytes.get(copied..q).unwrap_or_default())?;
            w.write_all(b">")?;
            copied = q;
        }
        w.write_all(bytes.get(copied..).unwrap_or_default())?;
        let end: &[u8] = if Self::newline_added(bytes) { b"\n\n" } else { b"\n" };
        w.write_all(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> Vec<MboxItem> {
        MboxSplitter::new(input).collect::<io::Result<Vec<_>>>().unwrap()
    }

    fn messages(input: &[u8]) -> Vec<MboxMessage> {
        split(input)
            .into_iter()
            .filter_map(|i| match i {
                MboxItem::Message(m) => Some(m),
                MboxItem::Preamble { .. } => None,
            })
            .collect()
    }

    #[test]
    fn round_trips_quoting_and_separators() {
        let msgs: [&[u8]; 4] = [
            b"Subject: a\n\nFrom here\n>From there\n>>From far\n",
            b"Subject: b\r\n\r\nno final newline",
            b"Subject: c\n\nends with blank line\n\n",
            b"Subject: d\r\n\r\nbody\r\n",
        ];
        let mut mbox = Vec::new();
        for m in msgs {
            frame_mboxrd("x@y Thu Jan  1 00:00:00 1970", m, &mut mbox);
        }
        let got = messages(&mbox);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].bytes, msgs[0]);
        // A message without a final newline gains one: mbox cannot tell them apart.
        assert_eq!(got[1].bytes, b"Subject: b\r\n\r\nno final newline\n");
        assert_eq!(got[2].bytes, msgs[2]);
        assert_eq!(got[3].bytes, msgs[3]);
        assert!(got.iter().all(|m| !m.truncated));
        assert_eq!(&mbox[got[1].offset as usize..][..5], b"From ");
    }

    #[test]
    fn reports_preamble_truncation_and_unsplit_from_lines() {
        let items = split(b"junk\nFrom a@b Thu Jan  1 00:00:00 1970\nS: 1\n\nline\nFrom not a separator\n\nFrom c@d Thu Jan  1 00:00:00 1970\nS: 2\n\ncut");
        assert_eq!(items[0], MboxItem::Preamble { offset: 0, len: 5, blank: false });
        let MboxItem::Message(m1) = &items[1] else { panic!() };
        assert_eq!(m1.bytes, b"S: 1\n\nline\nFrom not a separator\n");
        assert!(!m1.truncated);
        assert_eq!((m1.line, m1.offset), (2, 5));
        let MboxItem::Message(m2) = &items[2] else { panic!() };
        assert_eq!(m2.bytes, b"S: 2\n\ncut");
        assert!(m2.truncated);
        assert_eq!(parse_envelope(&m2.envelope), (Some("c@d".into()), Some(0)));
    }

    #[test]
    fn a_long_preamble_line_is_skimmed_not_held() {
        let mut input = vec![b'x'; 5 << 20];
        input.extend_from_slice(b"\nFrom a@b Thu Jan  1 00:00:00 1970\nS: 1\n\nbody\n\n");
        let mut s = MboxSplitter::new(std::io::BufReader::with_capacity(4096, &input[..]));
        let first = s.next().unwrap().unwrap();
        assert_eq!(first, MboxItem::Preamble { offset: 0, len: (5 << 20) + 1, blank: false });
        assert!(s.line.capacity() < 64 << 10, "the preamble line was held whole");
        let MboxItem::Message(m) = s.next().unwrap().unwrap() else { panic!() };
        assert_eq!(
            (m.offset, m.line, m.bytes.as_slice()),
            ((5 << 20) + 1, 2, &b"S: 1\n\nbody\n"[..])
        );
        assert!(s.next().is_none());
    }

    #[test]
    fn a_crlf_separator_after_an_lf_message_is_not_kept() {
        let got = messages(
            b"From a@b Thu Jan  1 00:00:00 1970\nS: 1\n\nbody\n\r\nFrom c@d x\nS: 2\r\n\r\nb\r\n\n",
        );
        assert_eq!(got[0].bytes, b"S: 1\n\nbody\n");
        assert_eq!(got[1].bytes, b"S: 2\r\n\r\nb\r\n");
        assert!(got.iter().all(|m| !m.truncated));
        // A lone CR line end is not a separator line.
        let got = messages(b"From a@b x\nS: 1\n\nbody\r\n");
        assert!(got[0].truncated);
        assert_eq!(got[0].bytes, b"S: 1\n\nbody\r\n");
    }

    #[test]
    fn not_an_mbox_is_all_preamble() {
        let items = split(b"Subject: hi\n\nbody\n");
        assert_eq!(items, vec![MboxItem::Preamble { offset: 0, len: 18, blank: false }]);
        assert!(split(b"").is_empty());
    }
}
