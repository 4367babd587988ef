//! Export naming and value writers on arbitrary text: a `SafeName` never leaves the export folder,
//! an XML value always parses back (forbidden characters as U+FFFD), a CSV cell always reads back
//! to itself once unguarded and never starts a formula.
#![no_main]

use ediscovery::export::SafeName;
use ediscovery::format::{csv, xml};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let name = SafeName::new(&text);
    let joined = Path::new("/out").join(name.as_str());
    assert_eq!(joined.parent(), Some(Path::new("/out")));
    assert!(!name.as_str().contains("..") && !name.as_str().starts_with('.'));

    let mut w = xml::EdrmWriter::new(Vec::new(), &[]).unwrap();
    let tags = [xml::Tag { name: "#Subject", data_type: "Text", value: &text }];
    w.document(&text, &tags, &xml::ExternalFile { name: "f", size: 1, hash: "h" }).unwrap();
    let (bytes, _) = w.finish().unwrap();
    let (_, docs) = xml::read(&bytes[..]).expect("our XML always parses");
    let (clean, _) = xml::clean(&text);
    assert_eq!(docs[0].tags[0].1, clean);

    let mut c = csv::CsvWriter::new(Vec::new(), &["A"]).unwrap();
    c.row(&[text.as_ref()]).unwrap();
    let out = c.finish().unwrap();
    let (_, rows) = csv::read(&out[..]).unwrap();
    assert!(!matches!(rows[0][0].as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')));
    assert_eq!(csv::unguard(&rows[0][0]), text.as_ref());
});
