//! Exit codes, one table for every command (the README shows it; each command's `--help` says
//! which of them it uses).

use std::process::ExitCode;

/// Done, nothing left out.
pub const OK: u8 = 0;
/// The command could not do its job (bad query or scope, unreadable input, I/O).
pub const ERROR: u8 = 1;
/// Wrong flags or arguments (clap's usage errors).
pub const USAGE: u8 = 2;
/// Done, but some items were left out and listed: records that failed to export (in
/// `NAME-error.csv`), items an ingest rejected (in its report).
pub const PARTIAL: u8 = 3;
/// `verify` read the export, or `audit verify` the audit log, and found it unsound.
pub const UNSOUND: u8 = 4;

/// The table for the top-level `--help`.
pub const TABLE: &str = "\
Exit codes (the same table for every command):
  0  done, nothing left out
  1  error: the command could not do its job (bad query or scope, unreadable input, I/O)
  2  usage: wrong flags or arguments
  3  partial: done, but some items were left out and listed (export failures, ingest rejections)
  4  verify found the export unsound, or audit verify the audit log";

/// `code` as the process's exit status.
pub fn code(code: u8) -> ExitCode {
    ExitCode::from(code)
}
