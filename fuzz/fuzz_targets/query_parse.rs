//! The query parser on arbitrary text: never panics; a parsed tree displays to text that parses
//! back to the same tree; errors point inside the text.
#![no_main]

use ediscovery::query::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse(text) {
        Ok(q) => {
            let shown = q.to_string();
            assert_eq!(parse(&shown), Ok(q), "{text:?} displayed as {shown:?}");
        }
        Err(e) => assert!(e.at <= text.len() && text.is_char_boundary(e.at)),
    }
});
