//! Integration tests by area.

mod adversarial_ingest; // symlinks, FIFOs, odd names, deep MIME, mbox separators, dates (issue 7)
mod boundary; // each outside crate is used only in its owning module
mod cli; // the ediscovery binary: exit codes, reports, stats
mod common;
mod corpus; // the SpamAssassin corpus (skipped with a message when absent)
mod crash; // a process killed mid-ingest leaves the last commit
mod examples; // examples run and check themselves
mod export; // exports read back by Python readers and verify; threads; faults; retry; groups
mod fixtures; // every bad-input case, LF and CRLF
mod props; // property tests: mbox framing round trip, query display round trip
mod query_table; // the query language, case by case
mod search; // operators vs independent predicates, scope as a filter, DST, wildcards
mod store; // dedup, determinism, reopen, torn writes, locking, index repair
