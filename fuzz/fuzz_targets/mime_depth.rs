//! MIME nesting: messages built from fuzz input as chains of `message/rfc822`, `message/global`,
//! multipart (mixed, digest, with siblings) and base64 or quoted-printable encoded messages, up to
//! tens of thousands of levels deep. Reading one never overflows the stack, the bytes are kept
//! whole, and a chain of plain containers deeper than the limit is always flagged (and never one
//! within it).
#![no_main]

use base64::Engine;
use ediscovery::Limits;
use ediscovery::ingest::{RawMessage, mime, prepare};
use ediscovery::model::{Defect, SourceKind, SourceRef};
use libfuzzer_sys::fuzz_target;

/// Most levels one input may build, most bytes a message may grow to, most encoded levels.
const MAX_LEVELS: usize = 50_000;
const MAX_BYTES: usize = 8 << 20;
const MAX_ENCODED: usize = 6;

/// A message being built from the inside out. Plain containers only add text before and after
/// the inner message, so they are kept as lists and joined once (building 40,000 levels by
/// copying the inner message each time would be quadratic).
#[derive(Default)]
struct Build {
    inner: Vec<u8>,
    before: Vec<Vec<u8>>,
    after: Vec<Vec<u8>>,
    size: usize,
    levels: usize,
    /// Plain containers around the outermost encoded message (or in all, when none is).
    plain_depth: usize,
    encoded: usize,
    /// The leaf text holds `--`, so it may close or open parts of its own.
    leaf_has_dashes: bool,
}

impl Build {
    fn wrap(&mut self, before: String, after: &str) {
        self.size += before.len() + after.len();
        self.before.push(before.into_bytes());
        self.after.push(after.as_bytes().to_vec());
        self.levels += 1;
        self.plain_depth += 1;
    }

    fn join(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size + self.inner.len());
        for b in self.before.iter().rev() {
            out.extend_from_slice(b);
        }
        out.extend_from_slice(&self.inner);
        for a in &self.after {
            out.extend_from_slice(a);
        }
        self.before.clear();
        self.after.clear();
        self.size = 0;
        out
    }

    fn encode(&mut self, base64: bool) {
        let inner = self.join();
        let (cte, body) = if base64 {
            ("base64", base64::engine::general_purpose::STANDARD.encode(&inner).into_bytes())
        } else {
            ("quoted-printable", quoted_printable(&inner))
        };
        let level = self.levels;
        let mut m = format!(
            "Subject: encoded {level}\nContent-Type: message/rfc822\nContent-Transfer-Encoding: {cte}\n\n"
        )
        .into_bytes();
        m.extend_from_slice(&body);
        self.inner = m;
        self.levels += 1;
        self.encoded += 1;
        self.plain_depth = 0;
    }
}

fn quoted_printable(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 3 / 2);
    for &b in bytes {
        if b == b'\n' || (b' '..=b'~').contains(&b) && b != b'=' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("={b:02X}").as_bytes());
        }
    }
    out
}

fn build(data: &[u8]) -> Build {
    let (leaf_len, ops) = match data.split_first() {
        Some((&n, rest)) => (usize::from(n).min(rest.len()), rest),
        None => (0, data),
    };
    let (leaf, ops) = ops.split_at(leaf_len);
    let mut b = Build::default();
    b.inner = b"Subject: leaf\nContent-Type: text/plain\n\n".to_vec();
    b.inner.extend_from_slice(leaf);
    b.inner.push(b'\n');
    b.leaf_has_dashes = leaf.windows(2).any(|w| w == b"--");
    let mut last = 0u8;
    let mut ops = ops.iter();
    while let Some(&op) = ops.next() {
        if b.levels >= MAX_LEVELS || b.size + b.inner.len() > MAX_BYTES {
            break;
        }
        let (op, times) = match op % 8 {
            // Repeat the last container up to 255 × 200 times: deep chains from short inputs.
            5 => (last, ops.next().map_or(1, |&n| usize::from(n) * 200)),
            other => (other, 1),
        };
        last = op;
        for _ in 0..times.min(MAX_LEVELS - b.levels) {
            let i = b.levels;
            match op {
                0 => b.wrap(format!("Subject: {i}\nContent-Type: message/rfc822\n\n"), ""),
                7 => b.wrap(format!("Subject: {i}\nContent-Type: message/global\n\n"), ""),
                1 => b.wrap(
                    format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n"),
                    &format!("\n--b{i}--\n"),
                ),
                // A digest's untyped child is a message: two levels for one Content-Type.
                2 => {
                    b.wrap(
                        format!("Content-Type: multipart/digest; boundary=d{i}\n\n--d{i}\n\n"),
                        &format!("\n--d{i}--\n"),
                    );
                    b.plain_depth += 1;
                }
                6 => b.wrap(
                    format!("Content-Type: multipart/mixed; boundary=s{i}\n\n--s{i}\n\nsibling\n--s{i}\n"),
                    &format!("\n--s{i}\nContent-Type: text/plain\n\nafter\n--s{i}--\n"),
                ),
                3 | 4 if b.encoded < MAX_ENCODED => b.encode(op == 3),
                _ => {}
            }
        }
    }
    b
}

/// mail-parser checks its own state with `debug_assert!`, which fuzz builds turn on; a failed one
/// panics inside `mime::parse`, which catches it and marks the record `Unparseable` (in release
/// builds the check is off). libFuzzer's hook aborts on every panic, caught or not, so panics
/// raised in mail-parser's own code are left to that catch; every other panic still aborts.
fn leave_parser_panics_to_mime_parse() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.location().is_some_and(|l| l.file().contains("/mail-parser-")) {
                previous(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    leave_parser_panics_to_mime_parse();
    let mut b = build(data);
    let mut msg = b"Message-ID: <fuzz@depth>\nDate: Mon, 6 Mar 2023 10:00:00 +0000\n".to_vec();
    msg.extend_from_slice(&b.join());
    let limit = Limits::default().mime_depth;

    let parsed = mime::parse(&msg);
    let flagged = parsed.defects.contains(&Defect::MimeTooDeep { limit });
    if b.plain_depth > limit {
        assert!(flagged, "depth {} above the outermost encoding, limit {limit}", b.plain_depth);
    } else if b.encoded == 0 && !b.leaf_has_dashes {
        assert!(!flagged, "depth {} is within the limit {limit}", b.plain_depth);
    }
    assert!(parsed.body.len() <= mime::MAX_BODY_TEXT);

    let raw = RawMessage {
        bytes: msg.clone(),
        source: SourceRef {
            kind: SourceKind::Eml,
            path: "fuzz".into(),
            key: "depth.eml".into(),
            offset: None,
        },
        position: ediscovery::ingest::Position::file(std::path::Path::new("depth.eml")),
        labels: Vec::new(),
        is_draft: false,
        date_received: None,
        envelope_sender: None,
        truncated: false,
    };
    let prepared = prepare(raw);
    assert_eq!(prepared.raw.bytes, msg, "the bytes are kept whole");
});
