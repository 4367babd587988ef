//! One policy for every bound the crate puts on hostile or runaway input.
//!
//! Each limit exists because input beyond it once crashed, hung or silently changed a result: a
//! query nested 10,000 parentheses deep overflowed the stack, a message wrapped in 40,000 levels of
//! `message/rfc822` aborted an ingest, a zip entry that inflates to a gigabyte without a line feed
//! took two gigabytes of memory in `verify`. Input past a limit is never dropped silently: it is an
//! error that names the limit, a defect on the record, or a problem in the report, as each field
//! says. Embedders change a limit by building their own value:
//!
//! ```
//! let mut limits = ediscovery::Limits::default();
//! limits.query_depth = 32;
//! assert_eq!(limits.word_bytes(), 99);
//! assert!(ediscovery::query::parse_with(&"(".repeat(40), &limits).is_err());
//! ```

use serde::Serialize;

/// The bounds in force. [`Limits::default`] is what the CLI uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Limits {
    /// Deepest nesting of parentheses, `op:(…)` groups and negations in a query. Deeper is a
    /// parse error at the offending position.
    pub query_depth: usize,
    /// Longest query text, in bytes. Longer is a parse error.
    pub query_bytes: usize,
    /// Deepest nesting of arrays and objects in a JSON request. Deeper is an error.
    pub json_depth: usize,
    /// Deepest nesting of MIME parts (multipart and `message/rfc822`) that ingest parses. A
    /// deeper message is stored byte for byte all the same; its metadata and index text come from
    /// the parts above the limit and the record carries a `mime_too_deep` defect.
    pub mime_depth: usize,
    /// Most worker threads per core: a larger `--threads` is refused.
    pub threads_per_core: usize,
    /// Largest inflated size `verify` reads from one zip entry. A larger entry is a problem in
    /// the report, not an out-of-memory.
    pub verify_entry_bytes: u64,
    /// Longest line `verify` holds in memory while it splits an mbox; a longer line is hashed
    /// in pieces as it streams past, never held whole.
    pub verify_line_bytes: usize,
    /// Largest file `verify` reads whole (`summary.json`, the checksum file) and largest single
    /// CSV row or XML `Document` it holds; past it, a problem in the report.
    pub verify_record_bytes: u64,
    /// Most text `extract` gives for one file, in bytes; the rest is not searchable and the
    /// record says so (`text_truncated`). Vault searches the first 100 pages of a file and about
    /// the first megabyte of a message; 100 pages of dense prose are 300–500 KB of text.
    pub extract_text_bytes: usize,
    /// Most pages `extract` reads from a paginated file (PDF pages, slides, DOCX pages as Word
    /// last laid them out): Vault's "first 100 pages".
    pub extract_pages: u32,
    /// Largest part `extract` inflates: one zip entry of an office file, one PDF stream, the
    /// HTML of a web page. Past it the part is a zip bomb or too large to index: what was read
    /// before it is kept and the record says which part. It also bounds memory: the largest
    /// single XML event (one text run, one tag) held while reading, so one extraction holds at
    /// most about twice this (the buffer's growth), whatever the file's size.
    pub extract_part_bytes: u64,
    /// Most bytes `extract` inflates from all the parts of one office file together, so a file
    /// of many parts each under [`Limits::extract_part_bytes`] is bounded too.
    pub extract_inflated_bytes: u64,
    /// Largest PDF or office file (zip) `extract` opens. Their readers index the whole file in
    /// memory (lopdf every object, zip the central directory), so their memory grows with it;
    /// text files and HTML are read only up to the text cap and have no such limit.
    pub extract_file_bytes: u64,
    /// Deepest XML nesting `extract` follows in an office file's parts; deeper is an error
    /// naming the part and byte (the text before it is kept).
    pub extract_xml_depth: usize,
    /// Largest Takeout JSON file (`messages.json`, `group_info.json`) or Voice page ingest
    /// reads: each is parsed whole, so a larger one is refused by its size before a byte is
    /// read (a space's messages are a few MB in real exports).
    pub takeout_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            query_depth: 64,
            query_bytes: 64 << 10,
            json_depth: 64,
            mime_depth: 64,
            threads_per_core: 4,
            // Exports are split at 10 GB per zip by default; a single mbox entry cannot exceed
            // its zip, so 16 GiB leaves room for any split size a request may set below it.
            verify_entry_bytes: 16 << 30,
            verify_line_bytes: 1 << 20,
            verify_record_bytes: 64 << 20,
            // 1 MiB: 100 pages at up to 10 KB of text each (small print, tables). Past Vault's
            // own indexing, and small enough that an ingest of many files holds little.
            extract_text_bytes: 1 << 20,
            extract_pages: 100,
            // The largest part in the real office files tested is a few MiB; 64 MiB of XML
            // holds far more than the text cap, so a larger part is hostile or useless.
            extract_part_bytes: 64 << 20,
            extract_inflated_bytes: 256 << 20,
            // Scanned PDFs and decks with video pass 100 MiB; 256 MiB keeps their text while
            // bounding what lopdf holds.
            extract_file_bytes: 256 << 20,
            // Real office XML nests under 30 levels (tables in tables included); quick-xml
            // does not recurse, so this bounds hostile input, not the stack.
            extract_xml_depth: 256,
            takeout_file_bytes: 256 << 20,
        }
    }
}

impl Limits {
    /// Longest word, in bytes, that the index holds and so that a query may search for. Fixed by
    /// the index format (changing it means re-indexing), so it is not a field: a query word
    /// longer than this is refused with an error that names it, never dropped (dropping it
    /// would widen the query).
    pub const fn word_bytes(&self) -> usize {
        crate::index::schema::MAX_TOKEN - 1
    }

    /// The most threads a caller may ask for on this machine.
    pub fn max_threads(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.saturating_mul(self.threads_per_core).max(1)
    }

    /// `requested` threads (0 = one per core), or why not.
    pub fn threads(&self, requested: usize) -> Result<usize, LimitError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        match requested {
            0 => Ok(cores),
            n if n > self.max_threads() => {
                Err(LimitError::Threads { requested: n, max: self.max_threads() })
            }
            n => Ok(n),
        }
    }
}

/// Input past a limit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// Too many threads asked for.
    #[error(
        "{requested} threads is more than this machine can use ({max} = cores × threads_per_core); \
         ask for fewer, or 0 for one per core"
    )]
    Threads {
        /// What was asked.
        requested: usize,
        /// The most allowed here.
        max: usize,
    },
    /// A JSON document nested too deep.
    #[error("JSON nested deeper than {limit} levels at byte {at}")]
    JsonDepth {
        /// The limit.
        limit: usize,
        /// Where the limit was passed.
        at: usize,
    },
}

/// Check that `text` (JSON) nests no deeper than `limit` before handing it to a parser, so that a
/// hostile request cannot exhaust the stack of any parser behind it. Brackets inside strings do
/// not count.
pub fn check_json_depth(text: &[u8], limit: usize) -> Result<(), LimitError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (at, &b) in text.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(LimitError::JsonDepth { limit, at });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_depth_counts_brackets_outside_strings_only() {
        assert!(check_json_depth(br#"{"a":[1,{"b":"[[[[[[[[["}]}"#, 3).is_ok());
        assert_eq!(
            check_json_depth(br#"{"a":[[[1]]]}"#, 3),
            Err(LimitError::JsonDepth { limit: 3, at: 7 })
        );
        assert!(check_json_depth(br#"{"a":"\"[[[["}"#, 1).is_ok());
    }

    #[test]
    fn threads_are_capped() {
        let l = Limits::default();
        assert!(l.threads(0).is_ok_and(|n| n >= 1));
        assert!(l.threads(l.max_threads()).is_ok());
        assert!(matches!(l.threads(20_000), Err(LimitError::Threads { requested: 20_000, .. })));
    }
}
