//! Property tests: mboxrd framing and our splitter are inverses for every message that ends in a
//! newline, whatever `From ` and `>From ` lines it holds.

use ediscovery::format::mbox::{MboxItem, MboxSplitter, frame_mboxrd};
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

/// Query text built from the language's own pieces, so most samples parse.
fn query_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("a"),
        Just("Bob"),
        Just("-"),
        Just("NOT "),
        Just(" AND "),
        Just(" OR "),
        Just("("),
        Just(")"),
        Just(" "),
        Just("\"x y\""),
        Just("from:"),
        Just("to:"),
        Just("subject:"),
        Just("label:^deleted"),
        Just("has:attachment"),
        Just("after:2023/07/01"),
        Just("before:2023-02-28"),
        Just("older_than:3d"),
        Just("larger:2M"),
        Just("in:sent"),
        Just("is:starred"),
        Just("invit*"),
        Just("*@x.com"),
        Just("rfc822msgid:<a@[1.2.3.4]>"),
        Just("é"),
        Just(":"),
        Just("\""),
        Just("*"),
        Just("or"),
    ];
    proptest::collection::vec(piece, 0..14).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn query_display_round_trips(text in query_text()) {
        // Any text either parses or errors at a valid offset; a parsed tree survives display.
        match ediscovery::query::parse(&text) {
            Ok(q) => {
                let shown = q.to_string();
                prop_assert_eq!(ediscovery::query::parse(&shown), Ok(q), "display {:?}", shown);
            }
            Err(e) => prop_assert!(e.at <= text.len() && text.is_char_boundary(e.at)),
        }
    }
}
