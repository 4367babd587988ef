//! The integration tests: one binary, one module per area (see `it/mod.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr, missing_docs)]

mod it;
