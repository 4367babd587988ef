//! EDRM XML (`NAME-metadata.xml`): the only user of `quick-xml`.
//!
//! Layout, as Vault writes it and review tools read it:
//! `Root › Batch › Tags (export-wide) + Documents › Document DocID › Tags › Tag` and
//! `Files › File FileType='Native' › ExternalFile FileName FileSize Hash`. Attributes are
//! single-quoted in the order `TagName, TagDataType, TagValue`, like real Vault exports.
//!
//! XML 1.0 forbids most C0 control characters even as character references, and quick-xml passes
//! them through, so every value goes through [`clean`], which replaces them (and U+FFFE/U+FFFF)
//! with U+FFFD; the writer counts replacements for the export summary. Line breaks and tabs in
//! attribute values are written as character references so a parser gets them back instead of
//! spaces.

use quick_xml::events::Event;
use std::borrow::Cow;
use std::io::{self, BufRead, Write};

/// A character XML 1.0 allows.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// `s` with every character XML 1.0 forbids replaced by U+FFFD, and how many were replaced.
pub fn clean(s: &str) -> (Cow<'_, str>, u64) {
    if s.chars().all(allowed) {
        return (Cow::Borrowed(s), 0);
    }
    let mut n = 0;
    let out = s
        .chars()
        .map(|c| {
            if allowed(c) {
                c
            } else {
                n += 1;
                '\u{FFFD}'
            }
        })
        .collect();
    (Cow::Owned(out), n)
}

/// Append `s` as a single-quoted attribute value: markup escaped, line breaks and tabs as
/// character references, forbidden characters replaced (counted). One pass over the bytes,
/// copying the runs between the characters that need work, no allocation.
fn push_attr(out: &mut String, s: &str, replaced: &mut u64) {
    let b = s.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        // In UTF-8 every byte of a multi-byte character is >= 0x80, so the ASCII bytes matched
        // here are whole characters; the only forbidden characters above ASCII are U+FFFE and
        // U+FFFF (EF BF BE, EF BF BF), as a `str` holds no surrogates.
        let (with, len): (&str, usize) = match b[i] {
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'&' => ("&amp;", 1),
            b'\'' => ("&apos;", 1),
            b'"' => ("&quot;", 1),
            b'\n' => ("&#10;", 1),
            b'\r' => ("&#13;", 1),
            b'\t' => ("&#9;", 1),
            0x00..=0x1f => ("\u{FFFD}", 1),
            0xef if matches!(b.get(i + 1..i + 3), Some([0xbf, 0xbe | 0xbf])) => ("\u{FFFD}", 3),
            _ => {
                i += 1;
                continue;
            }
        };
        if with == "\u{FFFD}" {
            *replaced += 1;
        }
        out.push_str(s.get(run..i).unwrap_or_default());
        out.push_str(with);
        i += len;
        run = i;
    }
    out.push_str(s.get(run..).unwrap_or_default());
}

fn push_tag(out: &mut String, indent: &str, t: &Tag<'_>, replaced: &mut u64) {
    out.push_str(indent);
    out.push_str("<Tag TagName='");
    push_attr(out, t.name, replaced);
    out.push_str("' TagDataType='");
    push_attr(out, t.data_type, replaced);
    out.push_str("' TagValue='");
    push_attr(out, t.value, replaced);
    out.push_str("'/>\n");
}

/// One `Tag`.
pub struct Tag<'a> {
    /// `TagName`, e.g. `#From` or `Labels`.
    pub name: &'a str,
    /// `TagDataType`: `Text`, `LongText`, `DateTime`, `Integer`.
    pub data_type: &'a str,
    /// `TagValue`.
    pub value: &'a str,
}

/// The native file of a document.
pub struct ExternalFile<'a> {
    /// `FileName` (the DocID, which the mbox `From ` line also carries).
    pub name: &'a str,
    /// `FileSize` in bytes.
    pub size: u64,
    /// `Hash` (MD5, lowercase hex).
    pub hash: &'a str,
}

/// Writes an EDRM XML document, one `Document` at a time.
pub struct EdrmWriter<W: Write> {
    w: W,
    replaced: u64,
    buf: String,
}

impl<W: Write> EdrmWriter<W> {
    /// Start the document with the export-wide tags.
    pub fn new(mut w: W, batch_tags: &[Tag<'_>]) -> io::Result<Self> {
        let mut replaced = 0;
        let mut buf = String::from(
            "<?xml version='1.0' encoding='UTF-8'?>\n<Root MajorVersion='1' MinorVersion='2'>\n <Batch>\n  <Tags>\n",
        );
        for t in batch_tags {
            push_tag(&mut buf, "   ", t, &mut replaced);
        }
        buf.push_str("  </Tags>\n  <Documents>\n");
        w.write_all(buf.as_bytes())?;
        buf.clear();
        Ok(EdrmWriter { w, replaced, buf })
    }

    /// A writer of `Document` elements only (no prolog, no closing tags): a chunk of a listing
    /// rendered apart and appended to the real writer with [`append`](Self::append), so many
    /// chunks can be rendered at once and still make the file one writer would.
    pub fn fragment(w: W) -> Self {
        EdrmWriter { w, replaced: 0, buf: String::new() }
    }

    /// The bytes written by a [`fragment`](Self::fragment) writer, and the characters it replaced.
    pub fn into_fragment(self) -> (W, u64) {
        (self.w, self.replaced)
    }

    /// Append a chunk of `Document` elements rendered by a [`fragment`](Self::fragment) writer,
    /// with the characters it replaced.
    pub fn append(&mut self, documents: &[u8], replaced: u64) -> io::Result<()> {
        self.replaced += replaced;
        self.w.write_all(documents)
    }

    /// One `Document`.
    pub fn document(
        &mut self,
        doc_id: &str,
        tags: &[Tag<'_>],
        file: &ExternalFile<'_>,
    ) -> io::Result<()> {
        let (b, r) = (&mut self.buf, &mut self.replaced);
        b.clear();
        b.push_str("   <Document DocID='");
        push_attr(b, doc_id, r);
        b.push_str("'>\n    <Tags>\n");
        for t in tags {
            push_tag(b, "     ", t, r);
        }
        b.push_str("    </Tags>\n    <Files>\n     <File FileType='Native'>\n      <ExternalFile FileName='");
        push_attr(b, file.name, r);
        b.push_str("' FileSize='");
        b.push_str(&file.size.to_string());
        b.push_str("' Hash='");
        push_attr(b, file.hash, r);
        b.push_str("'/>\n     </File>\n    </Files>\n   </Document>\n");
        self.w.write_all(b.as_bytes())
    }

    /// Close the document; the writer and how many characters were replaced.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.w.write_all(b"  </Documents>\n </Batch>\n</Root>\n")?;
        Ok((self.w, self.replaced))
    }
}

/// A `Document` read back.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReadDocument {
    /// `DocID`.
    pub doc_id: String,
    /// `(TagName, TagValue)` in order.
    pub tags: TagPairs,
    /// `ExternalFile` `FileName`, `FileSize`, `Hash`.
    pub file: Option<(String, u64, String)>,
}

/// `(TagName, TagValue)` pairs.
pub type TagPairs = Vec<(String, String)>;

/// The export-wide tags and every document of an EDRM XML file.
pub fn read(r: impl BufRead) -> io::Result<(TagPairs, Vec<ReadDocument>)> {
    let mut docs = Vec::new();
    let batch = for_each_document(r, u64::MAX, |d| {
        docs.push(d);
        Ok(())
    })?;
    Ok((batch, docs))
}

/// Stream the documents of an EDRM XML file to `f`, one at a time, and return the export-wide
/// tags. A document (or an element outside one) longer than `max_document_bytes` is an error,
/// so a hostile file costs at most about that much memory, not its own size.
pub fn for_each_document(
    r: impl io::Read,
    max_document_bytes: u64,
    mut f: impl FnMut(ReadDocument) -> io::Result<()>,
) -> io::Result<TagPairs> {
    let bad = |e: &dyn std::fmt::Display| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
    let mut reader = quick_xml::Reader::from_reader(io::BufReader::with_capacity(
        8 << 10,
        super::bounded::Bounded::new(r, max_document_bytes),
    ));
    let mut buf = Vec::new();
    let mut batch = Vec::new();
    let mut current: Option<ReadDocument> = None;
    loop {
        if current.is_none() {
            // Outside a document every element counts on its own; inside, the whole document.
            reader.get_mut().get_mut().reset();
        }
        let ev = reader.read_event_into(&mut buf).map_err(|e| bad(&e))?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let get = |key: &str| -> io::Result<Option<String>> {
                    match e.try_get_attribute(key).map_err(|e| bad(&e))? {
                        Some(a) => Ok(Some(
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map_err(|e| bad(&e))?
                                .into_owned(),
                        )),
                        None => Ok(None),
                    }
                };
                match e.name().as_ref() {
                    "Document" => {
                        if let Some(d) = current.take() {
                            f(d)?;
                        }
                        reader.get_mut().get_mut().reset();
                        current = Some(ReadDocument {
                            doc_id: get("DocID")?.unwrap_or_default(),
                            ..Default::default()
                        });
                    }
                    "Tag" => {
                        let pair = (
                            get("TagName")?.unwrap_or_default(),
                            get("TagValue")?.unwrap_or_default(),
                        );
                        match current.as_mut() {
                            Some(d) => d.tags.push(pair),
                            None => batch.push(pair),
                        }
                    }
                    "ExternalFile" => {
                        let size =
                            get("FileSize")?.and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
                        let file = (
                            get("FileName")?.unwrap_or_default(),
                            size,
                            get("Hash")?.unwrap_or_default(),
                        );
                        if let Some(d) = current.as_mut() {
                            d.file = Some(file);
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) if e.name().as_ref() == "Document" => {
                if let Some(d) = current.take() {
                    f(d)?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if let Some(d) = current.take() {
        f(d)?;
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_round_trip_through_our_reader() {
        let subject = "bell\u{7} <b>&'\"\ttab\nline\u{FFFE}";
        let mut w = EdrmWriter::new(
            Vec::new(),
            &[Tag { name: "UserQuery", data_type: "Text", value: "from:a'b" }],
        )
        .unwrap();
        w.document(
            "d1",
            &[Tag { name: "#Subject", data_type: "Text", value: subject }],
            &ExternalFile { name: "d1", size: 5, hash: "abc" },
        )
        .unwrap();
        let (bytes, replaced) = w.finish().unwrap();
        assert_eq!(replaced, 2);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("TagName='#Subject' TagDataType='Text' TagValue='"));
        let (batch, docs) = read(&bytes[..]).unwrap();
        assert_eq!(batch, [("UserQuery".to_owned(), "from:a'b".to_owned())]);
        assert_eq!(docs[0].tags[0].1, "bell\u{FFFD} <b>&'\"\ttab\nline\u{FFFD}");
        assert_eq!(docs[0].file, Some(("d1".into(), 5, "abc".into())));
    }

    /// The escaping as the XML 1.0 definition states it, character by character.
    fn by_definition(s: &str) -> (String, u64) {
        let (mut out, mut n) = (String::new(), 0);
        for c in s.chars() {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '\'' => out.push_str("&apos;"),
                '"' => out.push_str("&quot;"),
                '\n' => out.push_str("&#10;"),
                '\r' => out.push_str("&#13;"),
                '\t' => out.push_str("&#9;"),
                c if allowed(c) => out.push(c),
                _ => {
                    n += 1;
                    out.push('\u{FFFD}');
                }
            }
        }
        (out, n)
    }

    #[test]
    fn attribute_escaping_matches_the_definition_on_every_mix_of_hard_characters() {
        let alphabet = [
            "a", "<", ">", "&", "'", "\"", "\n", "\r", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é",
            "\u{FFFD}", "\u{FFFE}", "\u{FFFF}", "\u{EFBF}", "😀", "\u{D7FF}", "\u{E000}",
        ];
        // Every string of up to three symbols of the alphabet, and some long ones.
        let mut cases = vec![String::new()];
        for x in alphabet {
            cases.push(x.to_owned());
            for y in alphabet {
                cases.push(format!("{x}{y}"));
                for z in alphabet {
                    cases.push(format!("{x}{y}{z}"));
                }
            }
        }
        cases.push(alphabet.concat().repeat(50));
        for s in cases {
            let (mut out, mut n) = (String::from("x"), 0);
            push_attr(&mut out, &s, &mut n);
            let (want, want_n) = by_definition(&s);
            assert_eq!((&out[1..], n), (want.as_str(), want_n), "{s:?}");
        }
    }
}
