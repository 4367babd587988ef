//! Property tests: mboxrd framing and our splitter are inverses for every message that ends in a
//! newline, whatever `From ` and `>From ` lines it holds.

use ediscovery::ingest::mbox::{MboxItem, MboxSplitter, frame_mboxrd};
use proptest::prelude::*;

fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"From me\n".to_vec()),
        Just(b">From me\n".to_vec()),
        Just(b">>>From x\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"From \n".to_vec()),
        proptest::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..20)
            .prop_map(|mut v| {
                v.push(b'\n');
                v
            }),
    ]
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(line(), 1..12).prop_map(|ls| ls.concat())
}

proptest! {
    #[test]
    fn frame_then_split_is_identity(msgs in proptest::collection::vec(message(), 1..6)) {
        let mut mbox = Vec::new();
        for m in &msgs {
            frame_mboxrd("a@b Thu Jan  1 00:00:00 1970", m, &mut mbox);
        }
        let got: Vec<Vec<u8>> = MboxSplitter::new(&mbox[..])
            .map(|i| match i.unwrap() {
                MboxItem::Message(m) => { prop_assert!(!m.truncated); Ok(m.bytes) }
                other => panic!("unexpected {other:?}"),
            })
            .collect::<Result<_, _>>()?;
        prop_assert_eq!(got, msgs);
    }
}
