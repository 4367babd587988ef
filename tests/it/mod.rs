//! Integration tests by area.

#[macro_use]
mod common; // shared helpers, the `cli!` macro
mod adversarial; // issue 7: search, export and CLI holes, one test per case
mod adversarial_ingest; // symlinks, FIFOs, odd names, deep MIME, mbox separators, dates (issue 7)
mod adversarial_verify; // verify against damaged and hostile export folders: problems, never panics or hangs
mod backup; // issue 13: governance backup and restore, read back by Python zipfile/csv; one restore at a time
mod boundary; // each outside crate is used only in its owning module
mod cli; // the ediscovery binary: exit codes, reports, stats
mod corpora; // issue 11: chat, Drive and Voice ingest (JSONL, Takeout, folder), rejections by line, operators
mod corpus; // the SpamAssassin corpus (skipped with a message when absent)
mod crash; // a process killed mid-ingest leaves the last commit
mod examples; // examples run and check themselves
mod export; // exports read back by Python readers and verify; threads; faults; retry; groups
mod export_corpora; // issue 11: Chat, Drive and Voice exports (context rules, naming edges, access) read back by Python and verify
mod export_parts; // issue 14 item 2: export part / export merge vs the single-machine export, byte for byte (Python hashlib, md5sum -c, zipfile, mailbox); retried, killed, tampered and missing parts
mod extract; // issue 11: Drive file text against Python's zipfile/xml.etree and pdftotext; hostile files
mod fixtures; // every bad-input case, LF and CRLF
mod governance; // issue 12: matters, holds, HELD_DATA vs an independent predicate, audit chain vs Python
mod migration; // format 1 and pre-parts format 2 collections: read as they are, exported as before, extended by writers
mod org_export; // issue 13: org-wide export: report.html via html.parser and headless Chromium, zips, md5sum -c, rules, kill and resume
mod parts; // records of every corpus with typed parts; blobs stored as streams
mod props; // property tests: mbox framing round trip, query display round trip
mod query_table; // the query language, case by case
mod real_corpora; // issue 11 item 5: the real public corpora converted by examples/real_corpora, counts and phrase hits vs an independent Python reader (skipped when absent)
mod recall; // issue 9: full text, sent dates and Message-IDs against an independent Python reader (corpus)
mod removal; // issue 9: removal and compaction through the collection; killed at each step
mod review_tools; // issue 8: Nuix, got-your-back and XSOAR rules applied to our exports
mod search; // operators vs independent predicates, scope as a filter, DST, wildcards
mod split; // issue 14: splits on a folder and on SeaweedFS (S3) searched as one collection; tamper; create-only probe
mod split_export; // issue 14: export --splits (whole, and part + merge) byte-identical to the one collection's export, on a folder and SeaweedFS; a damaged pack is an error.csv row naming the split
mod split_faults; // issue 14 item 5: publish and export parts against moto_server behind a fault-injecting proxy (500s, stalls past the timeout, create-only headers stripped)
mod split_out; // issue 14 item 2: export --out URL (a file:// folder and SeaweedFS): byte-identical to --out DIR, hashlib against the stored checksum file, same name refused, the checksum file written last
mod split_ranged; // issue 14 item 1: splits read by checked blocks (blocks.json): same searches and exports as one collection, bytes fetched well below the files, a flipped byte named by block, old splits downloaded whole
mod store; // dedup, determinism, reopen, torn writes, locking, index repair
mod zip_writer; // issue 10.1: our zip writer and parallel deflate, read back by Python zipfile/zlib and unzip -t
