//! Our Drive JSON Lines format (`docs/formats/drive-jsonl.md`): one file per line, its metadata
//! as Vault's Drive export describes it (owner, creator, type, dates, shared drive, parent,
//! collaborators, viewers, indirect access, source hash, trash) and its bytes as a content file
//! under the root.
//!
//! The record's one part is the file, stored as a stream; its text is extracted (capped by
//! `Limits`) for the index. The source key is the Drive id.

use super::content;
use super::jsonl;
use super::record::{Content, RawPart, RawRecord};
use super::{IngestError, Item};
use crate::model::{
    AccessRole, AccessVia, DocumentType, DriveMeta, IndirectAccess, Metadata, PartKind, SourceKind,
    SourceRef,
};
use serde::Deserialize;
use std::path::Path;

/// The header's `format`.
pub const FORMAT: &str = "ediscovery.drive";

/// One line: one file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    drive_id: String,
    title: String,
    owner: String,
    #[serde(default)]
    creator: Option<String>,
    mime_type: String,
    #[serde(default)]
    document_type: Option<DocumentType>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    shared_drive_id: Option<String>,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    collaborators: Vec<String>,
    #[serde(default)]
    viewers: Vec<String>,
    #[serde(default)]
    indirect: Vec<Indirect>,
    #[serde(default)]
    source_hash: Option<String>,
    #[serde(default)]
    trashed: bool,
    content: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Indirect {
    via: Via,
    /// The group's address (`via: group`) or the domain (`via: domain`); none for `public`.
    #[serde(default)]
    target: Option<String>,
    role: AccessRole,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Via {
    Group,
    Domain,
    Public,
}

/// The files of the Drive JSON Lines file `path`, content paths under `root`.
pub fn items(
    path: &Path,
    root: &Path,
    limits: &crate::Limits,
) -> Result<impl Iterator<Item = Item> + Send + use<>, IngestError> {
    jsonl::items::<Line>(path, root, FORMAT, limits, record)
}

fn record(path: &Path, root: &Path, n: u64, l: Line) -> Result<RawRecord, String> {
    for (field, v) in [("drive_id", &l.drive_id), ("owner", &l.owner), ("mime_type", &l.mime_type)]
    {
        if v.trim().is_empty() {
            return Err(format!("{field} is empty"));
        }
    }
    let time = |field, v: &Option<String>| v.as_deref().map(|s| jsonl::time(field, s)).transpose();
    let indirect = l
        .indirect
        .into_iter()
        .map(|i| {
            let via = match (i.via, i.target) {
                (Via::Group, Some(address)) => AccessVia::Group { address },
                (Via::Domain, Some(domain)) => AccessVia::Domain { domain },
                (Via::Public, None) => AccessVia::Public,
                (Via::Public, Some(_)) => {
                    return Err("indirect: a public access has no target".to_owned());
                }
                (_, None) => {
                    return Err("indirect: a group or domain access needs its target".to_owned());
                }
            };
            Ok(IndirectAccess { via, role: i.role })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let file = content::resolve(root, &l.content)?;
    let meta = DriveMeta {
        drive_id: l.drive_id.clone(),
        title: l.title.clone(),
        owner: l.owner,
        creator: l.creator,
        mime_type: l.mime_type.clone(),
        document_type: l.document_type,
        created: time("created", &l.created)?,
        modified: time("modified", &l.modified)?,
        shared_drive_id: l.shared_drive_id,
        parent_id: l.parent_id,
        collaborators: l.collaborators,
        viewers: l.viewers,
        indirect,
        source_hash: l.source_hash,
        trashed: l.trashed,
    };
    Ok(RawRecord {
        source: SourceRef {
            kind: SourceKind::DriveJsonl,
            path: path.display().to_string(),
            key: l.drive_id,
            offset: None,
        },
        position: jsonl::at(path, n),
        meta: Metadata::Drive(Box::new(meta)),
        parts: vec![RawPart {
            kind: PartKind::File,
            name: Some(l.title),
            content_type: Some(l.mime_type),
            content: Content::File(file.path),
        }],
        account_claim: None,
        defects: Vec::new(),
    })
}
