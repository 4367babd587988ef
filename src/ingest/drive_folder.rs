//! A plain folder tree read as one custodian's Drive: what people have when there is no Drive
//! export (a synced `My Drive` folder, a copied share).
//!
//! Every regular file is one Drive record: the owner is the custodian being ingested, the title
//! the file's name, the dates the file system's (creation time where the platform keeps it,
//! modification time), the MIME type from the extension, the parent the folder holding it. A
//! file or folder has no Drive id, so one is made from its path below the root (`local-` and 24
//! hex digits of its MD5): stable across runs, the same for the same tree on another machine.
//! Links are never followed and every entry that is not ingested is reported (`entry.rs`).

use super::entry::{self, Kind, NOT_REGULAR, SYMLINK};
use super::record::{Content, RawPart, RawRecord};
use super::walk;
use super::{IngestError, Item, Notice, Position, Rejection};
use crate::digest::Md5;
use crate::model::{DriveMeta, Metadata, PartKind, SourceKind, SourceRef};
use std::path::Path;

/// The files under `root`, each as a Drive record owned by `owner`.
pub fn items(
    root: &Path,
    owner: &str,
) -> Result<impl Iterator<Item = Item> + Send + use<>, IngestError> {
    if !root.is_dir() {
        return Err(IngestError::NotADirectory(root.to_path_buf()));
    }
    let root = root.to_path_buf();
    let owner = owner.to_owned();
    Ok(walk::walk(&root).flat_map(move |e| match e {
        Err((path, reason)) => vec![rejected(&path, reason)],
        Ok(e) => match e.kind {
            Kind::Dir => Vec::new(),
            Kind::Symlink => vec![rejected(&e.path, SYMLINK.to_owned())],
            Kind::Other => vec![rejected(&e.path, NOT_REGULAR.to_owned())],
            Kind::File => file(&root, &e.path, &owner),
        },
    }))
}

fn rejected(path: &Path, reason: String) -> Item {
    Item::Rejected(Rejection { position: Position::file(path), reason })
}

/// The made-up Drive id of the file or folder at `rel` below the root.
pub fn local_id(rel: &str) -> String {
    let hex = Md5::of(rel.as_bytes()).to_hex();
    format!("local-{}", hex.get(..24).unwrap_or(&hex))
}

fn file(root: &Path, path: &Path, owner: &str) -> Vec<Item> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut lossy = false;
    let names: Vec<String> = rel
        .components()
        .map(|c| {
            let (t, escaped) = entry::name_text(c.as_os_str());
            lossy |= escaped;
            t
        })
        .collect();
    let key = names.join("/");
    let mut items = Vec::new();
    if lossy {
        let message = entry::non_utf8_notice(&key);
        items.push(Item::Notice(Notice { position: Position::file(path), message }));
    }
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => m,
        Ok(_) => {
            items.push(rejected(path, NOT_REGULAR.to_owned()));
            return items;
        }
        Err(e) => {
            items.push(rejected(path, format!("cannot read: {e}")));
            return items;
        }
    };
    let secs = |t: std::io::Result<std::time::SystemTime>| {
        t.ok().and_then(|t| match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).ok(),
            Err(e) => i64::try_from(e.duration().as_secs()).ok().map(|s| -s),
        })
    };
    let title = names.last().cloned().unwrap_or_default();
    let parent = (names.len() > 1).then(|| local_id(&names[..names.len() - 1].join("/")));
    let mime = mime_of(&title).to_owned();
    let drive = DriveMeta {
        drive_id: local_id(&key),
        title: title.clone(),
        owner: owner.to_owned(),
        creator: None,
        mime_type: mime.clone(),
        document_type: None,
        created: secs(meta.created()),
        modified: secs(meta.modified()),
        shared_drive_id: None,
        parent_id: parent,
        collaborators: Vec::new(),
        viewers: Vec::new(),
        indirect: Vec::new(),
        source_hash: None,
        trashed: false,
    };
    items.push(Item::Record(Box::new(RawRecord {
        source: SourceRef {
            kind: SourceKind::DriveFolder,
            path: root.display().to_string(),
            key,
            offset: None,
        },
        position: Position::file(path),
        meta: Metadata::Drive(Box::new(drive)),
        parts: vec![RawPart {
            kind: PartKind::File,
            name: Some(title),
            content_type: Some(mime),
            content: Content::File(path.to_path_buf()),
        }],
        account_claim: None,
        defects: Vec::new(),
    })));
    items
}

/// The MIME type a file's extension usually means (`application/octet-stream` when unknown);
/// extraction reads the content itself, so a wrong extension costs only the `type:` a search
/// sees.
pub fn mime_of(name: &str) -> &'static str {
    let ext = Path::new(name).extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt" | "text" | "log" | "md") => "text/plain",
        Some("csv") => "text/csv",
        Some("htm" | "html") => "text/html",
        Some("pdf") => "application/pdf",
        Some("doc") => "application/msword",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("xls") => "application/vnd.ms-excel",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("ppt") => "application/vnd.ms-powerpoint",
        Some("pptx") => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Some("odt") => "application/vnd.oasis.opendocument.text",
        Some("ods") => "application/vnd.oasis.opendocument.spreadsheet",
        Some("odp") => "application/vnd.oasis.opendocument.presentation",
        Some("rtf") => "application/rtf",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("zip") => "application/zip",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("webp") => "image/webp",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        Some("mp4") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("webm") => "video/webm",
        Some("vcf") => "text/vcard",
        _ => "application/octet-stream",
    }
}
