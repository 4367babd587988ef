//! The products inside an account's zips, one per corpus: the seam where each corpus's writer
//! plugs in. Each [`Product`] names its folder and its [`Layout`]; `write.rs` turns records into
//! zip entries by layout, and `verify::org` counts records back by the same rows, so a product's
//! folder is said once.
//!
//! Mail and Groups are written as Takeout writes Gmail: one mbox per product
//! (`Takeout/Mail/All mail Including Spam and Trash.mbox`), each message preceded by an
//! `X-Gmail-Labels` header with Takeout's label names (`Inbox`, `Sent`, `Starred`, user labels;
//! a label holding a comma or quote is quoted), mboxrd-quoted. Chat, Drive and Voice are folders
//! of files as Takeout writes them (`takeout.rs` renders them): `Google Chat/Groups/<space>/`
//! with `group_info.json`, `messages.json` and the attachments; `Drive/<folders>/<file>` with
//! the original bytes; `Voice/Calls/<who> - <kind> - <time>.html` with the voicemail's `.mp3`.

use crate::format::mbox::frame_mboxrd;
use crate::model::time;
use crate::model::{Corpus, Record};

/// How one product's records become zip entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Every record framed into one mbox entry (the full entry name), as Takeout's Gmail.
    Mbox(&'static str),
    /// A folder per space: `group_info.json`, `messages.json` (one JSON record per message,
    /// the count), attachments beside them.
    Chat,
    /// One entry per file (each is one record).
    Drive,
    /// One `.html` page per record (the count), voicemail audio as `.mp3` beside it.
    Voice,
}

/// How one corpus is written into an account's zips.
#[derive(Clone, Copy, Debug)]
pub struct Product {
    /// The corpus.
    pub corpus: Corpus,
    /// The product's name in the report.
    pub name: &'static str,
    /// The folder its entries are under, from the zip's root, ending in `/`.
    pub folder: &'static str,
    /// How its records are laid out.
    pub layout: Layout,
}

/// Every product, in the order an account's zips hold them.
pub const PRODUCTS: [Product; 5] = [
    Product {
        corpus: Corpus::Mail,
        name: "Mail",
        folder: "Takeout/Mail/",
        layout: Layout::Mbox("Takeout/Mail/All mail Including Spam and Trash.mbox"),
    },
    Product {
        corpus: Corpus::Groups,
        name: "Groups",
        folder: "Takeout/Groups/",
        layout: Layout::Mbox("Takeout/Groups/messages.mbox"),
    },
    Product {
        corpus: Corpus::Chat,
        name: "Chat",
        folder: "Takeout/Google Chat/Groups/",
        layout: Layout::Chat,
    },
    Product {
        corpus: Corpus::Drive,
        name: "Drive",
        folder: "Takeout/Drive/",
        layout: Layout::Drive,
    },
    Product {
        corpus: Corpus::Voice,
        name: "Voice",
        folder: "Takeout/Voice/Calls/",
        layout: Layout::Voice,
    },
];

/// The name of the `k`-th zip's copy of an entry continued across an account's zips (`k` from
/// 1): `messages.json`, `messages-2.json`, `messages-3.json`, … — the number before the last
/// component's extension, so the copies sit side by side when every zip is unpacked into one
/// folder. No other entry of those folders ends so: attachments are `File-…`, and an mbox
/// product's folder holds only its mbox.
pub fn continued_name(entry: &str, k: u32) -> String {
    if k <= 1 {
        return entry.to_owned();
    }
    let base = entry.rfind('/').map_or(0, |i| i + 1);
    match entry[base..].rfind('.') {
        Some(dot) if dot > 0 => {
            let (stem, ext) = entry.split_at(base + dot);
            format!("{stem}-{k}{ext}")
        }
        _ => format!("{entry}-{k}"),
    }
}

/// Is `entry` a copy of `name` in some zip ([`continued_name`] with any `k`)?
pub fn is_copy_of(entry: &str, name: &str) -> bool {
    if entry == name {
        return true;
    }
    let base = name.rfind('/').map_or(0, |i| i + 1);
    let (stem, ext) = match name[base..].rfind('.') {
        Some(dot) if dot > 0 => name.split_at(base + dot),
        _ => (name, ""),
    };
    entry
        .strip_prefix(stem)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_suffix(ext))
        .filter(|n| !n.is_empty() && !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|k| k >= 2 && continued_name(name, k) == entry)
}

/// The product an entry name belongs to, and the name below the product's folder (an mbox
/// product's entry must be its one name, or a numbered copy of it).
pub fn product_of_entry(entry: &str) -> Option<(&'static Product, &str)> {
    PRODUCTS.iter().find_map(|p| match p.layout {
        Layout::Mbox(name) => is_copy_of(entry, name).then_some((p, "")),
        _ => entry.strip_prefix(p.folder).map(|rest| (p, rest)),
    })
}

/// Takeout's name for one of our labels (`^INBOX` → `Inbox`; user labels as they are).
fn takeout_label(l: &str) -> String {
    let name = match l {
        "^INBOX" => "Inbox",
        "^SENT" => "Sent",
        "^IMPORTANT" => "Important",
        "^STARRED" => "Starred",
        "^SPAM" => "Spam",
        "^TRASH" => "Trash",
        "^UNREAD" => "Unread",
        "^OPENED" => "Opened",
        "^CHAT" => "Chat",
        "^ARCHIVED" => "Archived",
        "^DRAFT" => "Drafts",
        other => {
            if let Some(c) = other.strip_prefix("^CATEGORY_") {
                let mut s = String::from("Category ");
                let mut first = true;
                for ch in c.chars() {
                    s.extend(if first {
                        ch.to_uppercase().collect::<Vec<_>>()
                    } else {
                        ch.to_lowercase().collect()
                    });
                    first = false;
                }
                return s;
            }
            other
        }
    };
    // A header value must stay on its line: control characters become spaces.
    let clean: String = name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.contains([',', '"']) { format!("\"{}\"", clean.replace('"', "'")) } else { clean }
}

/// The `X-Gmail-Labels` value of `rec`.
pub fn gmail_labels(rec: &Record) -> String {
    rec.mail()
        .map(|m| m.labels.iter().map(|l| takeout_label(l)).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

/// Does the header block of `bytes` (up to the first empty line) have an `X-Gmail-Labels`
/// field? Messages ingested from a Takeout mbox carry their own.
pub fn has_labels_header(bytes: &[u8]) -> bool {
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return false;
        }
        if line.len() >= 15 && line[..15].eq_ignore_ascii_case(b"X-Gmail-Labels:") {
            return true;
        }
    }
    false
}

/// One message as Takeout's Gmail mbox holds it: `From <id>@xxx <asctime>`, then an
/// `X-Gmail-Labels` field (in the message's own line ending) unless the message has one already
/// (a message ingested from Takeout keeps its own, byte for byte), the message, mboxrd-quoted.
pub fn takeout_mbox(rec: &Record, bytes: &[u8], out: &mut Vec<u8>) {
    let crlf =
        bytes.iter().position(|&b| b == b'\n').is_some_and(|i| i > 0 && bytes[i - 1] == b'\r');
    let mut msg = Vec::with_capacity(bytes.len() + 64);
    if !has_labels_header(bytes) {
        msg.extend_from_slice(b"X-Gmail-Labels: ");
        msg.extend_from_slice(gmail_labels(rec).as_bytes());
        msg.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    }
    msg.extend_from_slice(bytes);
    let name = crate::export::naming::message_file_name(rec);
    let envelope = format!(
        "{}@xxx {}",
        name.trim_end_matches(".mbox"),
        time::asctime_utc(rec.date().unwrap_or(0))
            .unwrap_or_else(|| "Thu Jan  1 00:00:00 1970".to_owned())
    );
    frame_mboxrd(&envelope, &msg, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continued_copies_are_numbered_before_the_extension() {
        assert_eq!(continued_name("a/messages.json", 1), "a/messages.json");
        assert_eq!(continued_name("a/messages.json", 2), "a/messages-2.json");
        assert_eq!(continued_name("T/Mail/All mail.mbox", 12), "T/Mail/All mail-12.mbox");
        assert_eq!(continued_name("a.b/noext", 3), "a.b/noext-3");
        assert!(is_copy_of("a/messages-2.json", "a/messages.json"));
        assert!(is_copy_of("a/messages.json", "a/messages.json"));
        for no in
            ["a/messages-1.json", "a/messages-02.json", "a/messages-.json", "a/messages-x.json"]
        {
            assert!(!is_copy_of(no, "a/messages.json"), "{no}");
        }
    }

    #[test]
    fn labels_are_takeouts_names_and_stay_on_their_line() {
        assert_eq!(takeout_label("^INBOX"), "Inbox");
        assert_eq!(takeout_label("^CATEGORY_UPDATES"), "Category Updates");
        assert_eq!(takeout_label("Work, old"), "\"Work, old\"");
        assert_eq!(takeout_label("a\r\nX-Evil: 1"), "a  X-Evil: 1");
    }
}
