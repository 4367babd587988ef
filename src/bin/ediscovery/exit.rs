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
/// The command could not do its job *now*: the object store failed or did not answer (after
/// its own retries), or an export part's records could not be read now (the part is left
/// uncommitted). Running it again may succeed; a task engine retries these and nothing else
/// (`python/driver.py`).
pub const TRANSIENT: u8 = 5;

/// The table for the top-level `--help`.
pub const TABLE: &str = "\
Exit codes (the same table for every command):
  0  done, nothing left out
  1  error: the command could not do its job (bad query or scope, unreadable input, I/O)
  2  usage: wrong flags or arguments
  3  partial: done, but some items were left out and listed (export failures, ingest rejections)
  4  verify found the export unsound, or audit verify the audit log
  5  transient: the object store failed or did not answer, or an export part's records could
     not be read now (nothing committed); running the same command again may succeed";

/// The exit code for an error: [`TRANSIENT`] when running the command again may cure it,
/// else [`ERROR`]. The error's causes are searched, since a transient store error may be
/// wrapped by the step that met it.
pub fn of_error(e: &(dyn std::error::Error + 'static)) -> u8 {
    use ediscovery::export::{ExportError, parts::PartError};
    let mut cur = Some(e);
    while let Some(e) = cur {
        let transient = matches!(
                e.downcast_ref::<ExportError>(),
                Some(ExportError::Part(PartError::Transient { .. }))
            ) || matches!(e.downcast_ref::<PartError>(), Some(PartError::Transient { .. }))
                || e.downcast_ref::<ediscovery::split::SplitError>()
                    .is_some_and(ediscovery::split::SplitError::is_transient)
                // A split's index or record data read by ranges when the store stopped
                // answering mid-search (the index library drops the source; we look inside).
                || e.downcast_ref::<ediscovery::index::IndexError>()
                    .is_some_and(ediscovery::index::IndexError::is_transient_read)
                || e.downcast_ref::<std::io::Error>()
                    .and_then(ediscovery::store::RangedReadError::of)
                    .is_some_and(|f| f.transient);
        if transient {
            return TRANSIENT;
        }
        cur = e.source();
    }
    ERROR
}

/// `code` as the process's exit status.
pub fn code(code: u8) -> ExitCode {
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::{ERROR, TRANSIENT, of_error};
    use ediscovery::store::RangedReadError;
    use ediscovery::store::table::TableError;

    fn ranged(transient: bool) -> std::io::Error {
        std::io::Error::other(RangedReadError { message: "GET failed".into(), transient })
    }

    /// A split's record data read by ranges: a store that did not answer mid-export is exit 5
    /// (a task engine retries it), damaged bytes and plain I/O errors are exit 1.
    #[test]
    fn a_ranged_read_that_may_pass_again_is_transient() {
        let table = |source| TableError::Io { path: "s3://b/splits/x records/data".into(), source };
        assert_eq!(of_error(&table(ranged(true))), TRANSIENT);
        assert_eq!(of_error(&table(ranged(false))), ERROR);
        assert_eq!(of_error(&table(std::io::Error::other("disk"))), ERROR);
    }
}
