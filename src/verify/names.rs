//! Which file names belong to export `NAME`: exactly the forms the writer makes, so a file of
//! export `X-1` (`X-1-metadata.xml`, `X-1-1.zip`) is never taken for one of export `X`, which a
//! plain `X-` prefix test would do.

/// `NAME-<this>` for every fixed file an export may write.
const FIXED: &[&str] = &[
    "metadata.xml",
    "metadata.csv",
    "results-count.csv",
    "group-membership.csv",
    "error.csv",
    "account-exceptions.csv",
    "failed-group-membership-lookups.csv",
    "summary.json",
    "checksums.md5",
];

/// The part after `NAME-`, if `file` starts with it.
fn rest<'a>(file: &'a str, export: &str) -> Option<&'a str> {
    file.strip_prefix(export)?.strip_prefix('-')
}

/// `NAME-<n>.zip` with `n` a positive decimal number without leading zeros.
pub(super) fn is_zip(file: &str, export: &str) -> bool {
    rest(file, export).and_then(|r| r.strip_suffix(".zip")).is_some_and(|n| {
        !n.is_empty() && !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())
    })
}

/// One of the names export `NAME` writes.
pub(super) fn is_export_file(file: &str, export: &str) -> bool {
    is_zip(file, export) || rest(file, export).is_some_and(|r| FIXED.contains(&r))
}

/// The temporary name (`.NAME-….partial`) the writer uses for one of its files.
pub(super) fn is_partial(file: &str, export: &str) -> bool {
    file.strip_prefix('.')
        .and_then(|f| f.strip_suffix(".partial"))
        .is_some_and(|f| is_export_file(f, export))
}

/// The name of the export whose checksum file this is.
pub(super) fn checksum_export(file: &str) -> Option<&str> {
    file.strip_suffix("-checksums.md5").filter(|n| !n.is_empty() && !file.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_exact() {
        assert!(is_zip("X-1.zip", "X") && is_zip("X-12.zip", "X"));
        assert!(!is_zip("X-1-1.zip", "X") && !is_zip("X-01.zip", "X") && !is_zip("X-.zip", "X"));
        assert!(is_zip("X-1-1.zip", "X-1"));
        assert!(is_export_file("X-metadata.xml", "X"));
        assert!(!is_export_file("X-1-metadata.xml", "X") && !is_export_file("X-extra.csv", "X"));
        assert!(is_partial(".X-2.zip.partial", "X") && !is_partial(".X-1-2.zip.partial", "X"));
        assert_eq!(checksum_export("X-1-checksums.md5"), Some("X-1"));
        assert_eq!(checksum_export("-checksums.md5"), None);
    }
}
