//! A folder of `.eml` files, walked recursively in sorted order. Other files are reported as
//! skipped (never silently).

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
    let walk = walkdir::WalkDir::new(&root).sort_by_file_name().follow_links(false);
    Ok(walk.into_iter().filter_map(move |entry| {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| root.clone());
                return Some(Item::Rejected(Rejection {
                    position: Position::file(&path),
                    reason: format!("cannot read: {e}"),
                }));
            }
        };
        if !entry.file_type().is_file() {
            return None;
        }
        let path = entry.path();
        let is_eml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
        if !is_eml {
            return Some(Item::Notice(Notice {
                position: Position::file(path),
                message: "skipped: not an .eml file".to_owned(),
            }));
        }
        let rel = path.strip_prefix(&root).unwrap_or(path);
        let key: Vec<String> =
            rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        Some(match std::fs::read(path) {
            Ok(bytes) => Item::Message(RawMessage {
                bytes,
                source: SourceRef {
                    kind: SourceKind::Eml,
                    path: root_s.clone(),
                    key: key.join("/"),
                    offset: None,
                },
                position: Position::file(path),
                labels: Vec::new(),
                is_draft: false,
                date_received: None,
                envelope_sender: None,
                truncated: false,
            }),
            Err(e) => Item::Rejected(Rejection {
                position: Position::file(path),
                reason: format!("cannot read: {e}"),
            }),
        })
    }))
}
