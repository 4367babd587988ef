//! Deeply nested queries: each input byte picks a piece (a group, `NOT`, `-`, `op:(`, a word,
//! `OR`, a closing parenthesis) and how many times to repeat it, so inputs reach thousands of
//! levels quickly. Parsing never overflows the stack or panics; what parses displays to text that
//! parses back the same, and searching it on a small collection returns or errors, never crashes.
#![no_main]

use ediscovery::query::{Scope, parse};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn collection() -> &'static ediscovery::Collection {
    static C: OnceLock<ediscovery::Collection> = OnceLock::new();
    C.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ediscovery-fuzz-depth-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let org = ediscovery::sample::generate(&dir.join("org"), 1).expect("sample org");
        let mut w = ediscovery::CollectionWriter::open(&dir.join("c"), 1).expect("collection");
        for s in &org.sources {
            let mut o = ediscovery::IngestOptions::new(s.account.clone());
            o.corpus = s.corpus;
            w.ingest(&s.source, &o, &mut ediscovery::NoProgress).expect("ingest");
        }
        w.finish().expect("finish")
    })
}

const PIECES: [&str; 9] =
    ["(", ")", "NOT ", "-", "subject:(", "falcon ", "OR ", "\"term sheet\" ", "from:alice "];

fuzz_target!(|data: &[u8]| {
    let mut text = String::new();
    for pair in data.chunks(2) {
        let piece = PIECES[usize::from(pair[0]) % PIECES.len()];
        let times = 1 + usize::from(pair.get(1).copied().unwrap_or(0)) * 40;
        for _ in 0..times {
            text.push_str(piece);
        }
    }
    match parse(&text) {
        Ok(q) => {
            let shown = q.to_string();
            assert_eq!(parse(&shown).as_ref(), Ok(&q), "{text:?} displayed as {shown:?}");
            let scope = Scope::entire_org(ediscovery::model::Corpus::Mail);
            let _ = ediscovery::search::search_text(collection(), scope, &text, 0);
        }
        Err(e) => assert!(e.at <= text.len() && text.is_char_boundary(e.at)),
    }
});
