//! The mbox splitter `verify` runs over zip entries it did not write: the rules of
//! [`crate::format::mbox::MboxSplitter`] (mboxrd unquoting, a `From ` line starts a message only at
//! the start of the file or after an empty line, the blank separator line is not part of the
//! message), but streaming: message bytes are hashed as they pass and never held, so an entry of
//! any size with lines of any length costs a few KiB.
//!
//! Of a body line only its first five bytes are held (enough to tell `From ` and an empty line);
//! a run of `>` at the start of a line is counted, not held (dropping the first `>` of a run is
//! the same as dropping any one of them). The last four bytes of a message are held back from
//! the hash until its end is known, because the separator, and a line feed the framer may have
//! added, are decided there. Of a `From_` line only the first `line_cap` bytes are kept, and
//! never fewer than [`MIN_ENVELOPE`], so that even a tiny cap still reads the DocID.

use crate::digest::{Md5, Md5Hasher};
use std::io::{self, BufRead};

/// One message, as hashes.
#[derive(Debug)]
pub(super) struct Message {
    /// The `From_` line after `From `, without its line end; at most
    /// `max(line_cap, MIN_ENVELOPE)` bytes of it.
    pub envelope: Vec<u8>,
    /// Its size, separator removed.
    pub size: u64,
    /// Its MD5.
    pub md5: Md5,
    /// When it ends in a line feed: the MD5 without that last byte (the framer adds one to a
    /// message that had none).
    pub md5_without_final_lf: Option<Md5>,
    /// It ended without its blank separator line.
    pub truncated: bool,
    /// `data-id` attributes in it (Chat: one per rendered chat message), when counted.
    pub data_ids: Option<u64>,
}

/// What the splitter found.
#[derive(Debug)]
pub(super) enum Item {
    /// Bytes before the first `From ` line.
    Preamble,
    /// A message.
    Message(Message),
}

const TAIL: usize = 4;

/// Bytes of a `From_` line always kept, whatever the line cap: ours are about 70.
pub(super) const MIN_ENVELOPE: usize = 256;

/// Counts `data-id="` attributes in a message as it streams past, in plain HTML or in
/// quoted-printable (`data-id=3D"`, soft line breaks `=` CRLF/LF removed first, wherever they
/// fall), holding a few bytes. Inside HTML text a `"` is escaped, and base64 has neither `=3D`
/// nor `"`, so only attributes are counted.
#[derive(Default)]
struct DataIds {
    /// A pending `=` or `=\r` that may start a soft line break.
    held: Vec<u8>,
    /// The last bytes after soft breaks are removed.
    window: Vec<u8>,
    count: u64,
}

impl DataIds {
    const QP: &'static [u8] = b"data-id=3D\"";
    const PLAIN: &'static [u8] = b"data-id=\"";

    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match (self.held.as_slice(), b) {
                ([], b'=') | ([b'='], b'\r') => self.held.push(b),
                ([b'='], b'\n') | ([b'=', b'\r'], b'\n') => self.held.clear(),
                ([], _) => self.emit(b),
                _ => {
                    let held = std::mem::take(&mut self.held);
                    held.into_iter().for_each(|h| self.emit(h));
                    if b == b'=' { self.held.push(b) } else { self.emit(b) }
                }
            }
        }
    }

    fn emit(&mut self, b: u8) {
        if self.window.len() == Self::QP.len() {
            self.window.remove(0);
        }
        self.window.push(b);
        if self.window.ends_with(Self::QP) || self.window.ends_with(Self::PLAIN) {
            self.count += 1;
        }
    }
}

/// A message body being hashed.
#[derive(Default)]
struct Body {
    hasher: Md5Hasher,
    /// The last `min(total, TAIL)` bytes, not hashed yet.
    tail: Vec<u8>,
    total: u64,
    /// Counting `data-id` attributes (Chat exports).
    ids: Option<DataIds>,
}

impl Body {
    fn new(count_data_ids: bool) -> Body {
        Body { ids: count_data_ids.then(DataIds::default), ..Body::default() }
    }

    fn feed(&mut self, b: &[u8]) {
        if let Some(ids) = &mut self.ids {
            ids.feed(b);
        }
        self.total += b.len() as u64;
        match b.len().checked_sub(TAIL) {
            Some(cut) => {
                let (head, tail) = b.split_at(cut);
                self.hasher.update(&self.tail);
                self.hasher.update(head);
                self.tail.clear();
                self.tail.extend_from_slice(tail);
            }
            None => {
                self.tail.extend_from_slice(b);
                let over = self.tail.len().saturating_sub(TAIL);
                self.hasher.update(self.tail.get(..over).unwrap_or_default());
                self.tail.drain(..over);
            }
        }
    }

    fn feed_gt(&mut self, mut n: u64) {
        const GT: [u8; 64] = [b'>'; 64];
        while n > 0 {
            let k = n.min(GT.len() as u64);
            self.feed(GT.get(..k as usize).unwrap_or_default());
            n -= k;
        }
    }

    fn finish(self, envelope: Vec<u8>) -> Message {
        let t = self.tail.as_slice();
        let whole = self.total == t.len() as u64;
        let strip = if whole && (t == b"\n" || t == b"\r\n") {
            Some(t.len())
        } else if t.ends_with(b"\n\n") {
            Some(1)
        } else if t.ends_with(b"\r\n\r\n") {
            Some(2)
        } else {
            None
        };
        let kept = t.get(..t.len() - strip.unwrap_or(0)).unwrap_or_default();
        let digest = |bytes: &[u8]| {
            let mut h = self.hasher.clone();
            h.update(bytes);
            h.finish()
        };
        let md5_without_final_lf = kept.strip_suffix(b"\n").map(digest);
        Message {
            envelope,
            size: self.total - strip.unwrap_or(0) as u64,
            md5: digest(kept),
            md5_without_final_lf,
            truncated: strip.is_none(),
            data_ids: self.ids.map(|i| i.count),
        }
    }
}

/// Consume a run of `>` at the reader's position; how many.
fn count_gt(r: &mut impl BufRead) -> io::Result<u64> {
    let mut n = 0u64;
    loop {
        let buf = r.fill_buf()?;
        let k = buf.iter().take_while(|&&b| b == b'>').count();
        let more = k == buf.len() && k > 0;
        r.consume(k);
        n += k as u64;
        if !more {
            return Ok(n);
        }
    }
}

/// Read up to five bytes of the current line (fewer at its end or the end of the input).
fn head(r: &mut impl BufRead, out: &mut Vec<u8>) -> io::Result<()> {
    out.clear();
    while out.len() < 5 {
        let Some(&b) = r.fill_buf()?.first() else { break };
        r.consume(1);
        out.push(b);
        if b == b'\n' {
            break;
        }
    }
    Ok(())
}

/// Hand the rest of the current line, line feed included, to `sink` in pieces.
fn rest_of_line(r: &mut impl BufRead, mut sink: impl FnMut(&[u8])) -> io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        sink(buf.get(..take).unwrap_or_default());
        r.consume(take);
        if done {
            return Ok(());
        }
    }
}

/// The rest of a `From_` line: at most `cap` bytes of it, line end removed.
fn envelope(r: &mut impl BufRead, cap: usize) -> io::Result<Vec<u8>> {
    let mut env = Vec::new();
    rest_of_line(r, |piece| {
        let room = cap.saturating_sub(env.len()).min(piece.len());
        env.extend_from_slice(piece.get(..room).unwrap_or_default());
    })?;
    while env.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
        env.pop();
    }
    Ok(env)
}

/// Split `r`, handing each item to `f` as it completes; with `count_data_ids`, each message's
/// `data-id` attributes are counted too.
pub(super) fn split(
    r: &mut impl BufRead,
    line_cap: usize,
    count_data_ids: bool,
    mut f: impl FnMut(Item),
) -> io::Result<()> {
    let mut current: Option<(Vec<u8>, Body)> = None;
    let mut preamble = false;
    let mut prev_empty = false;
    let mut h = Vec::with_capacity(8);
    let line_cap = line_cap.max(MIN_ENVELOPE);
    loop {
        let gt = count_gt(r)?;
        head(r, &mut h)?;
        if gt == 0 && h.is_empty() {
            break;
        }
        let ended = h.last() == Some(&b'\n');
        let from = gt == 0 && h == b"From ";
        match current.as_mut() {
            None if from => {
                if preamble {
                    f(Item::Preamble);
                }
                current = Some((envelope(r, line_cap)?, Body::new(count_data_ids)));
                prev_empty = false;
            }
            None => {
                preamble = true;
                if !ended {
                    rest_of_line(r, |_| {})?;
                }
            }
            Some(_) if from && prev_empty => {
                if let Some((env, body)) = current.take() {
                    f(Item::Message(body.finish(env)));
                }
                current = Some((envelope(r, line_cap)?, Body::new(count_data_ids)));
                prev_empty = false;
            }
            Some((_, body)) => {
                prev_empty = gt == 0 && (h == b"\n" || h == b"\r\n");
                let quoted = gt > 0 && h == b"From ";
                body.feed_gt(if quoted { gt - 1 } else { gt });
                body.feed(&h);
                if !ended {
                    rest_of_line(r, |piece| body.feed(piece))?;
                }
            }
        }
    }
    match current {
        Some((env, body)) => f(Item::Message(body.finish(env))),
        None if preamble => f(Item::Preamble),
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::mbox::{MboxItem, MboxSplitter, frame_mboxrd};

    /// (envelope, size, md5, md5 without final LF, truncated) from both splitters.
    type Seen = (Vec<u8>, u64, Md5, Option<Md5>, bool);

    fn ours(input: &[u8], cap: usize) -> (bool, Vec<Seen>) {
        let (mut pre, mut out) = (false, Vec::new());
        // A tiny buffer so every piece boundary is exercised.
        let mut r = io::BufReader::with_capacity(3, input);
        split(&mut r, cap, false, |i| match i {
            Item::Preamble => pre = true,
            Item::Message(m) => {
                out.push((m.envelope, m.size, m.md5, m.md5_without_final_lf, m.truncated))
            }
        })
        .unwrap();
        (pre, out)
    }

    fn theirs(input: &[u8]) -> (bool, Vec<Seen>) {
        let (mut pre, mut out) = (false, Vec::new());
        for i in MboxSplitter::new(input) {
            match i.unwrap() {
                MboxItem::Preamble { .. } => pre = true,
                MboxItem::Message(m) => {
                    let without = m.bytes.strip_suffix(b"\n").map(Md5::of);
                    out.push((
                        m.envelope,
                        m.bytes.len() as u64,
                        Md5::of(&m.bytes),
                        without,
                        m.truncated,
                    ))
                }
            }
        }
        (pre, out)
    }

    #[test]
    fn agrees_with_the_format_splitter() {
        let mut framed = Vec::new();
        for m in [
            &b"Subject: a\n\nFrom here\n>From there\n>>From far\n>>>>>>>>>>>>>>From x\n>>>Fro\n"[..],
            b"Subject: b\r\n\r\nno final newline",
            b"Subject: c\n\nends with blank line\n\n",
            b"",
            b"\n",
            b"x",
            b"Subject: d\r\n\r\nbody\r\n",
        ] {
            frame_mboxrd("id@xxx Thu Jan  1 00:00:00 1970", m, &mut framed);
        }
        let cases: [&[u8]; 9] = [
            &framed,
            b"junk\nFrom a@b x\nS: 1\n\nline\nFrom not a separator\n\nFrom c@d y\nS: 2\n\ncut",
            b"",
            b"Subject: hi\n\nbody\n",
            b"From a\n",
            b"From a\n\n",
            b"From a\r\n\r\n",
            b">From a\n\nFrom b\n>\n>>\n\n",
            b"From a\nx\n\n\n\nFrom b\n\r\n\r\n\r\n",
        ];
        for c in cases {
            assert_eq!(ours(c, 1 << 20), theirs(c), "{:?}", String::from_utf8_lossy(c));
        }
    }

    #[test]
    fn data_ids_are_counted_through_soft_line_breaks() {
        let count = |body: &[u8]| {
            let mut input = b"From t@xxx Thu Jan  1 00:00:00 1970\n".to_vec();
            input.extend_from_slice(body);
            input.extend_from_slice(b"\n\n");
            let mut got = None;
            let mut r = io::BufReader::with_capacity(3, &input[..]);
            split(&mut r, 1 << 10, true, |i| {
                if let Item::Message(m) = i {
                    got = m.data_ids;
                }
            })
            .unwrap();
            got
        };
        assert_eq!(count(b"<div data-id=3D\"a\"><div data-id=3D\"b\">"), Some(2));
        assert_eq!(count(b"<div data-=\r\nid=3D=\n\"a\">x =3D\"y data-id=3D&quot;"), Some(1));
        assert_eq!(count(b"<div data-id=\"a\">=\r"), Some(1));
        assert_eq!(count(b"data-id==3D\"x"), Some(0), "decodes to data-id==\"");
    }

    #[test]
    fn long_lines_cost_nothing_and_envelopes_are_capped() {
        let mut input = b"From id@xxx Thu Jan  1 00:00:00 1970\n".to_vec();
        input.extend(std::iter::repeat_n(b'>', 100_000));
        input.extend_from_slice(b"From x\n");
        input.extend(std::iter::repeat_n(b'A', 1 << 20));
        input.extend_from_slice(b"\n\n");
        let mut input2 = b"From ".to_vec();
        input2.extend(std::iter::repeat_n(b'e', 1000));
        input2.extend_from_slice(b"\n\n");
        assert_eq!(ours(&input2, 6).1[0].0.len(), MIN_ENVELOPE);
        let (_, got) = ours(&input, 6);
        let (_, want) = theirs(&input);
        assert_eq!(got[0].0, want[0].0);
        let fields = |s: &Seen| (s.1, s.2, s.3, s.4);
        assert_eq!(fields(&got[0]), fields(&want[0]));
    }
}
