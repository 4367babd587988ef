//! The mbox splitter on arbitrary bytes: never panics, accounts for every byte, and re-framing
//! what it split gives back a file it splits the same way.
#![no_main]

use ediscovery::format::mbox::{MboxItem, MboxSplitter, frame_mboxrd};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut messages = Vec::new();
    for item in MboxSplitter::new(data) {
        match item.expect("reading from memory cannot fail") {
            MboxItem::Message(m) => {
                assert!(m.offset as usize <= data.len());
                assert!(data[m.offset as usize..].starts_with(b"From "));
                messages.push(m.bytes);
            }
            MboxItem::Preamble { offset, len, .. } => {
                assert_eq!(offset, 0);
                assert!(len as usize <= data.len());
            }
        }
    }
    // Messages that end in LF survive a frame → split round trip unchanged.
    let kept: Vec<Vec<u8>> = messages.into_iter().filter(|m| m.ends_with(b"\n")).collect();
    let mut mbox = Vec::new();
    for m in &kept {
        frame_mboxrd("fuzz@x Thu Jan  1 00:00:00 1970", m, &mut mbox);
    }
    let again: Vec<Vec<u8>> = MboxSplitter::new(&mbox[..])
        .filter_map(|i| match i.expect("memory") {
            MboxItem::Message(m) => Some(m.bytes),
            MboxItem::Preamble { .. } => None,
        })
        .collect();
    assert_eq!(again, kept);
});
