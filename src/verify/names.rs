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
    "custodian-docid.csv",
    "incomplete-accounts.csv",
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
    }) || drive_zip_number(file, export).is_some()
}

/// `n` of a Drive zip, `NAME_n.zip` (numbered from 0, as Vault's Drive exports are).
pub(super) fn drive_zip_number(file: &str, export: &str) -> Option<u64> {
    let n = file.strip_prefix(export)?.strip_prefix('_')?.strip_suffix(".zip")?;
    let canonical = !n.is_empty() && (n == "0" || !n.starts_with('0'));
    if canonical && n.bytes().all(|b| b.is_ascii_digit()) { n.parse().ok() } else { None }
}

/// Is `file_name` a Chat document token, `<SPACEID>-MBI-FLAT:<timestamp>` (the form readers of
/// real exports split documents by: `^From ([A-Za-z0-9_-]+)-MBI-[A-Z]+:(\S+)@`)?
pub(super) fn is_chat_token(file_name: &str) -> bool {
    let Some((space, rest)) = file_name.split_once("-MBI-FLAT:") else { return false };
    !space.is_empty()
        && space.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !rest.is_empty()
        && !rest.bytes().any(|b| b.is_ascii_whitespace() || b == b'@')
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

/// The DocID (32 lowercase hex digits) inside a message `FileName` of the form review tools
/// match, `^[0-9]+-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\.mbox$`, or
/// `None` when it is not of that form.
pub(super) fn file_name_doc_id(file_name: &str) -> Option<String> {
    let rest = file_name.strip_suffix(".mbox")?;
    let (digits, uuid) = rest.split_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let groups: Vec<&str> = uuid.split('-').collect();
    let sizes: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let hex = groups.iter().all(|g| g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    (sizes == [8, 4, 4, 4, 12] && hex).then(|| groups.concat())
}

/// A `DateTime` value as review tools parse it (Joda `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, in UTC).
pub(super) fn is_vault_datetime(v: &str) -> bool {
    let b = v.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    b.len() == 24
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22].into_iter().all(digit)
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':')
        && b.get(19) == Some(&b'.')
        && b.get(23) == Some(&b'Z')
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
        let id = "0123456789abcdef0123456789abcdef";
        let f = "1664162616246-01234567-89ab-cdef-0123-456789abcdef.mbox";
        assert_eq!(file_name_doc_id(f).as_deref(), Some(id));
        for bad in [id, "x-01234567-89ab-cdef-0123-456789abcdef.mbox", "1-0123-4567.mbox"] {
            assert_eq!(file_name_doc_id(bad), None, "{bad}");
        }
        assert!(is_zip("X_0.zip", "X") && is_zip("X_11.zip", "X"));
        assert!(!is_zip("X_01.zip", "X") && !is_zip("X_.zip", "X"));
        assert!(is_chat_token("AAAA-MBI-FLAT:2022-09-28T06:01:10.000000"));
        assert!(!is_chat_token("a/b-MBI-FLAT:x") && !is_chat_token("AAAA-MBI-FLAT:x@y"));
        assert!(is_vault_datetime("2022-09-20T18:31:18.656Z"));
        assert!(!is_vault_datetime("2022-09-20T18:31:18Z") && !is_vault_datetime(""));
    }
}
