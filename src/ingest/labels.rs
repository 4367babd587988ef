//! Labels from the places mail clients keep them: Maildir flags and folders, Gmail Takeout's
//! `X-Gmail-Labels` header.

/// Maildir flags (the letters after `:2,`) → Gmail-style system labels, and whether it is a draft.
///
/// `S` (seen) absent → `^UNREAD`, `F` → `^STARRED`, `T` (trashed) → `^DELETED`, `D` → `^DRAFT`.
/// `R` (replied) and `P` (passed) have no Gmail label and are not mapped.
pub fn maildir_flag_labels(flags: &str) -> (Vec<String>, bool) {
    let mut labels = Vec::new();
    if !flags.contains('S') {
        labels.push("^UNREAD".to_owned());
    }
    if flags.contains('F') {
        labels.push("^STARRED".to_owned());
    }
    if flags.contains('T') {
        labels.push("^DELETED".to_owned());
    }
    let draft = flags.contains('D');
    if draft {
        labels.push("^DRAFT".to_owned());
    }
    (labels, draft)
}

/// A Maildir++ folder name (`.Work.Projects`) → a user label (`Work/Projects`); the top folder is
/// `^INBOX`.
pub fn maildir_folder_label(folder: &str) -> String {
    let name = folder.trim_start_matches('.');
    if name.is_empty() || name.eq_ignore_ascii_case("inbox") {
        "^INBOX".to_owned()
    } else {
        name.replace('.', "/")
    }
}

/// Takeout's `X-Gmail-Labels: Inbox,Important,"Work, old",Category Updates` → labels, system
/// labels mapped to their `^` names; and whether it is a draft.
pub fn takeout_labels(value: &str) -> (Vec<String>, bool) {
    let mut labels = Vec::new();
    let mut draft = false;
    for raw in split_quoted(value) {
        let label = match raw.to_ascii_lowercase().as_str() {
            "inbox" => "^INBOX".to_owned(),
            "sent" => "^SENT".to_owned(),
            "important" => "^IMPORTANT".to_owned(),
            "starred" => "^STARRED".to_owned(),
            "spam" => "^SPAM".to_owned(),
            "trash" => "^TRASH".to_owned(),
            "unread" => "^UNREAD".to_owned(),
            "opened" => "^OPENED".to_owned(),
            "chat" | "chats" => "^CHAT".to_owned(),
            "archived" => "^ARCHIVED".to_owned(),
            "draft" | "drafts" => {
                draft = true;
                "^DRAFT".to_owned()
            }
            l if l.starts_with("category ") => {
                format!("^CATEGORY_{}", raw["category ".len()..].trim().to_ascii_uppercase())
            }
            _ => raw,
        };
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    (labels, draft)
}

/// Splits on commas outside double quotes, trims, drops empties and the quotes.
fn split_quoted(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_flags_folders_and_takeout() {
        assert_eq!(maildir_flag_labels("").0, ["^UNREAD"]);
        assert_eq!(
            maildir_flag_labels("DFST"),
            (vec!["^STARRED".into(), "^DELETED".into(), "^DRAFT".into()], true)
        );
        assert_eq!(maildir_folder_label(""), "^INBOX");
        assert_eq!(maildir_folder_label(".Work.Projects"), "Work/Projects");
        let (l, d) = takeout_labels("Inbox,Important,\"Work, old\",Category Updates,Draft, Trip ");
        assert_eq!(l, ["^INBOX", "^IMPORTANT", "Work, old", "^CATEGORY_UPDATES", "^DRAFT", "Trip"]);
        assert!(d);
    }
}
