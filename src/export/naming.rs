//! Names of export files. A [`SafeName`] cannot hold a path: whatever an account or export name
//! contains (`../`, `:`, `/`, control characters, a leading dot), the file it names lands inside
//! the export folder.

use std::fmt;

/// A file-name component that is safe on every common file system: letters, digits and
/// `@ . - _ +` only, not starting with `.`, at most [`SafeName::MAX`] bytes, never empty.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct SafeName(String);

impl SafeName {
    /// Longest name, in bytes.
    pub const MAX: usize = 120;

    /// Sanitise: every other character becomes `_`, a run of dots becomes one dot (so `..` never
    /// appears, even inside a name), a leading `.` becomes `_`.
    pub fn new(s: &str) -> SafeName {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            let c = if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+') {
                c
            } else {
                '_'
            };
            if !(c == '.' && out.ends_with('.')) {
                out.push(c);
            }
        }
        if out.starts_with('.') {
            out.replace_range(0..1, "_");
        }
        if out.is_empty() {
            out.push('_');
        }
        out.truncate(Self::MAX);
        SafeName(out)
    }

    /// An export name as typed, refused (not rewritten) when it holds a character the Vault API
    /// forbids in export names (`~!$'(),;@:/?`), a path separator or a control character.
    pub fn export_name(s: &str) -> Result<SafeName, String> {
        let bad: Vec<char> =
            s.chars().filter(|c| "~!$'(),;@:/?\\*\"<>|".contains(*c) || c.is_control()).collect();
        if s.trim().is_empty() || s.starts_with('.') || s.len() > 80 || !bad.is_empty() {
            return Err(format!(
                "export name {s:?} is not allowed: use 1-80 characters without ~!$'(),;@:/?\\*\"<>| or control characters, not starting with '.'"
            ));
        }
        Ok(SafeName::new(s))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The `FileName` of an exported message, in the form real Vault exports use and review tools
/// match (`^From ([0-9]+-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\.mbox)`):
/// the record's date in epoch milliseconds (0 when it has none or it is before 1970), `-`, and the
/// DocID's 128 bits written as a UUID, then `.mbox`. Deterministic, and unique because the DocID
/// is. The same string is the mbox `From ` line's address part, `ExternalFile/@FileName` and the
/// CSV `FileName`.
pub fn message_file_name(rec: &crate::model::Record) -> String {
    file_name_of(rec.doc_id, rec.date())
}

/// [`message_file_name`] from what a record's key row holds (its DocID and date).
pub fn file_name_of(doc_id: crate::model::DocId, date: Option<i64>) -> String {
    let millis = date.unwrap_or(0).max(0).saturating_mul(1000);
    let h = doc_id.to_string();
    let part = |a: usize, b: usize| h.get(a..b).unwrap_or("");
    format!(
        "{millis}-{}-{}-{}-{}-{}.mbox",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

impl fmt::Display for SafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape() {
        for hostile in ["../x", "..", ".", "a/b", "a\\b", "c:x", "\u{0}", "", "é/../../etc", "x\ny"]
        {
            let n = SafeName::new(hostile);
            let p = std::path::Path::new("/out").join(n.as_str());
            assert_eq!(p.parent(), Some(std::path::Path::new("/out")), "{hostile:?} → {n}");
            assert!(
                !n.as_str().starts_with('.')
                    && !n.as_str().contains('/')
                    && !n.as_str().contains("..")
            );
        }
        assert_eq!(SafeName::new("alice@example.com").as_str(), "alice@example.com");
        assert!(SafeName::export_name("Matter 12 review").is_ok());
        assert!(SafeName::export_name("a/b").is_err());
        assert!(SafeName::export_name("x@y").is_err());
    }
}
