//! Maildir and Maildir++ trees: `cur/` and `new/` of the top folder and of every `.Folder`.
//!
//! Files are read in sorted order so a re-ingest is deterministic. Files in `tmp/` are deliveries
//! that never finished; they are reported, not ingested.

use super::labels::{maildir_flag_labels, maildir_folder_label};
use super::{IngestError, Item, Position, RawMessage, Rejection};
use crate::model::{SourceKind, SourceRef};
use std::fs;
use std::path::{Path, PathBuf};

/// Every message file of the tree at `root`, as ingest items.
pub fn items(root: &Path) -> Result<impl Iterator<Item = Item> + Send + use<>, IngestError> {
    let io = |e| IngestError::Io { path: root.to_path_buf(), source: e };
    let meta = fs::metadata(root).map_err(io)?;
    if !meta.is_dir() || !root.join("cur").is_dir() && !root.join("new").is_dir() {
        return Err(IngestError::NotAMaildir(root.to_path_buf()));
    }
    let mut folders = vec![String::new()];
    let mut subs: Vec<String> = fs::read_dir(root)
        .map_err(io)?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with('.') && n.len() > 1 && n != "..")
        .filter(|n| root.join(n).join("cur").is_dir() || root.join(n).join("new").is_dir())
        .collect();
    subs.sort();
    folders.extend(subs);

    let mut files: Vec<(String, &'static str, PathBuf)> = Vec::new();
    let mut rejected = Vec::new();
    for folder in &folders {
        let dir = root.join(folder);
        for sub in ["cur", "new", "tmp"] {
            let Ok(entries) = fs::read_dir(dir.join(sub)) else { continue };
            let mut names: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .collect();
            names.sort();
            for p in names {
                if sub == "tmp" {
                    rejected.push(Item::Rejected(Rejection {
                        position: Position::file(&p),
                        reason: "in tmp/: a delivery that never finished".to_owned(),
                    }));
                } else {
                    files.push((folder.clone(), sub, p));
                }
            }
        }
    }
    let root_s = root.display().to_string();
    Ok(rejected.into_iter().chain(
        files.into_iter().map(move |(folder, sub, path)| read_one(&root_s, &folder, sub, &path)),
    ))
}

fn read_one(root: &str, folder: &str, sub: &str, path: &Path) -> Item {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // `unique:2,FLAGS` (or `!2,` on file systems without `:`).
    let (unique, flags) = match name.find(":2,").or_else(|| name.find("!2,")) {
        Some(i) => (&name[..i], &name[i + 3..]),
        None => (name.as_str(), ""),
    };
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return Item::Rejected(Rejection {
                position: Position::file(path),
                reason: format!("cannot read: {e}"),
            });
        }
    };
    // `new/` messages were never seen by a client: no flags.
    let (mut labels, is_draft) = maildir_flag_labels(if sub == "new" { "" } else { flags });
    labels.insert(0, maildir_folder_label(folder));
    // Delivery time: the leading epoch of the unique name, else the file's mtime.
    let delivered = unique.split('.').next().and_then(|s| s.parse::<i64>().ok()).or_else(|| {
        fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_secs()).ok())
    });
    Item::Message(RawMessage {
        bytes,
        source: SourceRef {
            kind: SourceKind::Maildir,
            path: root.to_owned(),
            key: format!("{folder}/{unique}"),
            offset: None,
        },
        position: Position::file(path),
        labels,
        is_draft,
        date_received: delivered,
        envelope_sender: None,
        truncated: false,
    })
}
