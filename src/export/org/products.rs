//! The products inside an account's zips, one per corpus: the seam where Chat, Drive and Voice
//! plug in. Each [`Product`] names its folder and entry and frames one record's bytes for it;
//! a product without a writer yet ([`Product::frame`] is `None`) reports each of its records as a
//! failed file with [`Product::missing`], so the report never hides data it did not write.
//!
//! Mail and Groups are written as Takeout writes Gmail: one mbox per product
//! (`Takeout/Mail/All mail Including Spam and Trash.mbox`), each message preceded by an
//! `X-Gmail-Labels` header with Takeout's label names (`Inbox`, `Sent`, `Starred`, user labels;
//! a label holding a comma or quote is quoted), mboxrd-quoted. To add Chat (Takeout's
//! `Google Chat/Groups/<space>/messages.json`), Drive (files under their folders) or Voice, give
//! its row a folder, an entry name and a `frame` function (or, for products of many files, an
//! entry per record: `entry` receives the record) — the writer and the report need no change.

use crate::format::mbox::frame_mboxrd;
use crate::model::time;
use crate::model::{Corpus, Record};

/// Frames one record's bytes (checked against their MD5) into its product's entry.
pub type Framer = fn(&Record, &[u8], &mut Vec<u8>);

/// How one corpus is written into an account's zips.
#[derive(Clone, Copy, Debug)]
pub struct Product {
    /// The corpus.
    pub corpus: Corpus,
    /// The product's name in the report and its folder under `Takeout/`.
    pub name: &'static str,
    /// The entry records of this product go to, from the zip's root.
    pub entry: &'static str,
    /// Frame one record's bytes into the entry; `None`: not written by this version.
    pub frame: Option<Framer>,
    /// Why records of a product without a writer are not exported.
    pub missing: &'static str,
}

/// Every product, in the order an account's zips hold them.
pub const PRODUCTS: [Product; 5] = [
    Product {
        corpus: Corpus::Mail,
        name: "Mail",
        entry: "Takeout/Mail/All mail Including Spam and Trash.mbox",
        frame: Some(takeout_mbox),
        missing: "",
    },
    Product {
        corpus: Corpus::Groups,
        name: "Groups",
        entry: "Takeout/Groups/messages.mbox",
        frame: Some(takeout_mbox),
        missing: "",
    },
    Product {
        corpus: Corpus::Chat,
        name: "Chat",
        entry: "Takeout/Google Chat/messages.json",
        frame: None,
        missing: "Chat is not written into organisation exports by this version",
    },
    Product {
        corpus: Corpus::Drive,
        name: "Drive",
        entry: "Takeout/Drive/",
        frame: None,
        missing: "Drive is not written into organisation exports by this version",
    },
    Product {
        corpus: Corpus::Voice,
        name: "Voice",
        entry: "Takeout/Voice/",
        frame: None,
        missing: "Voice is not written into organisation exports by this version",
    },
];

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
    fn labels_are_takeouts_names_and_stay_on_their_line() {
        assert_eq!(takeout_label("^INBOX"), "Inbox");
        assert_eq!(takeout_label("^CATEGORY_UPDATES"), "Category Updates");
        assert_eq!(takeout_label("Work, old"), "\"Work, old\"");
        assert_eq!(takeout_label("a\r\nX-Evil: 1"), "a  X-Evil: 1");
    }
}
