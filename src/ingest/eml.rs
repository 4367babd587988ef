//! A folder of `.eml` files, walked recursively in sorted order. Other regular files are reported
//! as skipped notices; what could be evidence and is not read (a symbolic link, a FIFO, socket or
//! device, an unreadable entry) is a rejection. No link is followed (see `entry.rs`); the folder
//! given by the user may itself be a link. A name that is not UTF-8 is ingested with its bad
//! bytes written `\xNN` in the source key, and a notice.

use super::entry::{self, Kind, NOT_REGULAR, SYMLINK};
use super::{IngestError, Item, Notice, Position, RawMessage, Rejection};
use crate::model::{SourceKind, SourceRef};
use std::path::Path;

/// Every `.eml` file under `root`, as ingest items.
pub fn items(root: &Path) -> Result<impl Iterator<Item = Item> + Send + use<>, IngestError> {
    if !root.is_dir() {
        return Err(IngestError::NotADirectory(root.to_path_buf()));
    }
    let root_s = root.display().to_string();
    let root = root.to_path_buf();
    // `follow_root_links` stays on (the user's own argument); `follow_links(false)` below it.
    let walk = walkdir::WalkDir::new(&root).sort_by_file_name().follow_links(false);
    Ok(walk.into_iter().flat_map(move |entry| {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| root.clone());
                return vec![rejected(&path, format!("cannot read: {e}"))];
            }
        };
        let path = entry.path();
        match Kind::of(entry.file_type()) {
            _ if entry.depth() == 0 => Vec::new(),
            Kind::Dir => Vec::new(),
            Kind::Symlink => vec![rejected(path, SYMLINK.to_owned())],
            Kind::Other => vec![rejected(path, NOT_REGULAR.to_owned())],
            Kind::File => file(&root, &root_s, path),
        }
    }))
}

fn rejected(path: &Path, reason: String) -> Item {
    Item::Rejected(Rejection { position: Position::file(path), reason })
}

/// The items of one regular file: a message (with a notice when its name is not UTF-8), a
/// rejection, or a notice that it is not an `.eml` file.
fn file(root: &Path, root_s: &str, path: &Path) -> Vec<Item> {
    let is_eml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
    if !is_eml {
        let message = "skipped: not an .eml file".to_owned();
        return vec![Item::Notice(Notice { position: Position::file(path), message })];
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut lossy = false;
    let key: Vec<String> = rel
        .components()
        .map(|c| {
            let (text, escaped) = entry::name_text(c.as_os_str());
            lossy |= escaped;
            text
        })
        .collect();
    let key = key.join("/");
    let mut items = Vec::new();
    if lossy {
        let message = entry::non_utf8_notice(&key);
        items.push(Item::Notice(Notice { position: Position::file(path), message }));
    }
    items.push(match entry::read_regular(path) {
        Ok((bytes, _)) => Item::Message(RawMessage {
            bytes,
            source: SourceRef { kind: SourceKind::Eml, path: root_s.to_owned(), key, offset: None },
            position: Position::file(path),
            labels: Vec::new(),
            is_draft: false,
            date_received: None,
            envelope_sender: None,
            truncated: false,
        }),
        Err(reason) => rejected(path, reason),
    });
    items
}
