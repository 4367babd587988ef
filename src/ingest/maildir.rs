//! Maildir and Maildir++ trees: `cur/` and `new/` of the top folder and of every `.Folder`.
//!
//! Files are read in sorted order so a re-ingest is deterministic. Every entry of the tree is
//! accounted for: a message file of `cur/` or `new/` is ingested; what could be evidence and is
//! not ingested is a rejection with its reason (a file in `tmp/`, a symbolic link, a FIFO, socket
//! or device, a folder inside `cur/`, a stray file or unexpected folder beside `cur/`, an
//! unreadable entry); only a mail server's own state files (`dovecot*`, `courier*`,
//! `maildirfolder`, `maildirsize`, `subscriptions`) are mere notices. No link is followed (see
//! `entry.rs`); the Maildir path given by the user may itself be a link. A name that is not UTF-8
//! is ingested with its bad bytes written `\xNN` in the label and key, and a notice.

use super::entry::{self, Kind, NOT_REGULAR, SYMLINK};
use super::labels::{maildir_flag_labels, maildir_folder_label};
use super::{IngestError, Item, Notice, Position, RawMessage, Rejection};
use crate::model::{SourceKind, SourceRef};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

/// Every message file of the tree at `root`, as ingest items: first what was not ingested, then
/// the messages (read one at a time as the iterator is drawn).
pub fn items(root: &Path) -> Result<impl Iterator<Item = Item> + Send + use<>, IngestError> {
    let io = |e| IngestError::Io { path: root.to_path_buf(), source: e };
    // The user's own argument is followed when it is a link; nothing below it is.
    let meta = fs::metadata(root).map_err(io)?;
    let present = |n: &str| fs::symlink_metadata(root.join(n)).is_ok();
    if !meta.is_dir() || !present("cur") && !present("new") {
        return Err(IngestError::NotAMaildir(root.to_path_buf()));
    }
    let mut walk = Walk::default();
    let top = entries(root).map_err(io)?;
    let subfolders = walk.folder(root, "", top, true);
    for (path, label) in subfolders {
        match entries(&path) {
            Ok(list) => {
                walk.folder(&path, &label, list, false);
            }
            Err(e) => walk.reject(&path, format!("cannot read folder: {e}")),
        }
    }
    let root_s = root.display().to_string();
    let Walk { reports, files } = walk;
    Ok(reports.into_iter().chain(
        files.into_iter().map(move |f| read_one(&root_s, &f.folder, f.sub, &f.name, &f.path)),
    ))
}

/// A message file found in `cur/` or `new/`.
struct MessageFile {
    /// Maildir++ folder name as text (`""` for the top).
    folder: String,
    sub: &'static str,
    /// File name as text.
    name: String,
    path: PathBuf,
}

/// What the walk found so far.
#[derive(Default)]
struct Walk {
    reports: Vec<Item>,
    files: Vec<MessageFile>,
}

/// One folder entry: its name and kind (or why its kind could not be read).
type Entry = (OsString, Result<Kind, String>);

/// The entries of `dir`, sorted by name, links not followed.
fn entries(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        match e {
            Ok(e) => {
                let kind = e.file_type().map(Kind::of).map_err(|err| err.to_string());
                out.push((e.file_name(), kind));
            }
            // An entry whose name could not even be read: reported under the folder's name.
            Err(err) => out.push((OsString::new(), Err(err.to_string()))),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// A mail server's own bookkeeping beside `cur/` and `new/`, not mail.
fn is_server_state(name: &str) -> bool {
    name.starts_with("dovecot")
        || name.starts_with("courier")
        || matches!(name, "maildirfolder" | "maildirsize" | "subscriptions")
}

impl Walk {
    fn reject(&mut self, path: &Path, reason: impl Into<String>) {
        let position = Position::file(path);
        self.reports.push(Item::Rejected(Rejection { position, reason: reason.into() }));
    }

    fn notice(&mut self, path: &Path, message: impl Into<String>) {
        let position = Position::file(path);
        self.reports.push(Item::Notice(Notice { position, message: message.into() }));
    }

    /// Walks one Maildir folder (the top, or a `.Folder`): its own `cur/`, `new/` and `tmp/` in
    /// that order, then (at the top) returns its Maildir++ folders, sorted, with their names.
    fn folder(
        &mut self,
        dir: &Path,
        label: &str,
        list: Vec<Entry>,
        top: bool,
    ) -> Vec<(PathBuf, String)> {
        let mut subfolders = Vec::new();
        let mut own: Vec<(&'static str, PathBuf)> = Vec::new();
        for (name, kind) in list {
            let path = dir.join(&name);
            let (text, escaped) = entry::name_text(&name);
            let kind = match kind {
                Ok(k) => k,
                Err(e) => {
                    self.reject(&path, format!("cannot read folder entry: {e}"));
                    continue;
                }
            };
            let sub = ["cur", "new", "tmp"].into_iter().find(|s| *s == text);
            match (kind, sub) {
                (Kind::Symlink, _) => self.reject(&path, SYMLINK),
                (Kind::Dir, Some(sub)) => own.push((sub, path)),
                (_, Some(sub)) => self.reject(&path, format!("{sub} is not a folder: not read")),
                (Kind::Dir, None) if top && text.starts_with('.') => {
                    if escaped {
                        self.notice(&path, entry::non_utf8_notice(&text));
                    }
                    subfolders.push((path, text));
                }
                (_, None) if is_server_state(&text) => {
                    self.notice(&path, "skipped: mail server state, not mail");
                }
                (Kind::Dir, None) => self.reject(
                    &path,
                    "unexpected folder (not cur/, new/, tmp/ or a Maildir++ .Folder): its contents were not read",
                ),
                (Kind::File, None) => self.reject(
                    &path,
                    "not in cur/ or new/: not read as a message (Maildir messages live there)",
                ),
                (Kind::Other, None) => self.reject(&path, NOT_REGULAR),
            }
        }
        own.sort_by_key(|(sub, _)| ["cur", "new", "tmp"].iter().position(|s| s == sub));
        for (sub, path) in own {
            self.sub(label, sub, &path);
        }
        subfolders
    }

    /// Walks `cur/`, `new/` or `tmp/` of the folder named `folder`.
    fn sub(&mut self, folder: &str, sub: &'static str, dir: &Path) {
        let list = match entries(dir) {
            Ok(l) => l,
            Err(e) => return self.reject(dir, format!("cannot read folder: {e}")),
        };
        for (name, kind) in list {
            let path = dir.join(&name);
            match kind {
                Err(e) => self.reject(&path, format!("cannot read folder entry: {e}")),
                Ok(Kind::Symlink) => self.reject(&path, SYMLINK),
                Ok(Kind::Other) => self.reject(&path, NOT_REGULAR),
                Ok(Kind::Dir) => self.reject(
                    &path,
                    format!("unexpected folder inside {sub}/: its contents were not read"),
                ),
                Ok(Kind::File) if sub == "tmp" => {
                    self.reject(&path, "in tmp/: a delivery that never finished");
                }
                Ok(Kind::File) => {
                    let (text, escaped) = entry::name_text(&name);
                    if escaped {
                        self.notice(&path, entry::non_utf8_notice(&text));
                    }
                    let folder = folder.to_owned();
                    self.files.push(MessageFile { folder, sub, name: text, path });
                }
            }
        }
    }
}

fn read_one(root: &str, folder: &str, sub: &str, name: &str, path: &Path) -> Item {
    // `unique:2,FLAGS` (or `!2,` on file systems without `:`).
    let (unique, flags) = match name.find(":2,").or_else(|| name.find("!2,")) {
        Some(i) => (&name[..i], &name[i + 3..]),
        None => (name, ""),
    };
    let (bytes, meta) = match entry::read_regular(path) {
        Ok(read) => read,
        Err(reason) => return Item::Rejected(Rejection { position: Position::file(path), reason }),
    };
    // `new/` messages were never seen by a client: no flags.
    let (mut labels, is_draft) = maildir_flag_labels(if sub == "new" { "" } else { flags });
    labels.insert(0, maildir_folder_label(folder));
    // Delivery time: the leading epoch of the unique name, else the file's mtime.
    let delivered = unique.split('.').next().and_then(|s| s.parse::<i64>().ok()).or_else(|| {
        meta.modified()
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
