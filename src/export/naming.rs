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
