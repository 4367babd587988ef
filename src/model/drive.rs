//! Drive file metadata, shaped after Vault's Drive export tags
//! (`../shared/spec/vault-export-facts.md` §6.3–6.4: `#Author`, `Collaborators`, `Viewers`,
//! `Others`, `#DateCreated`, `#DateModified`, `#Title`, `DocumentType`, `DocParentID`,
//! `SharedDriveID`, `SourceHash`).

use serde::{Deserialize, Serialize};

/// Vault's `DocumentType` of a Google-native file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentType {
    /// Docs.
    Document,
    /// Sheets.
    Spreadsheet,
    /// Slides.
    Presentation,
    /// Forms.
    Form,
    /// Drawings.
    Drawing,
    /// A page of a (new) Site.
    SitesPage,
}

impl DocumentType {
    /// The value of Vault's `DocumentType` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentType::Document => "DOCUMENT",
            DocumentType::Spreadsheet => "SPREADSHEET",
            DocumentType::Presentation => "PRESENTATION",
            DocumentType::Form => "FORM",
            DocumentType::Drawing => "DRAWING",
            DocumentType::SitesPage => "SITES_PAGE",
        }
    }
}

/// How someone reaches a file without being named on it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum AccessVia {
    /// Through membership of a group.
    Group {
        /// The group's address.
        address: String,
    },
    /// Shared with everyone in a domain.
    Domain {
        /// The domain.
        domain: String,
    },
    /// Shared publicly (anyone with the link).
    Public,
}

/// What an access lets someone do; Vault sorts people into `Collaborators` (edit, comment),
/// `Viewers` (view) and `Others` (unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessRole {
    /// May edit.
    Editor,
    /// May comment.
    Commenter,
    /// May view.
    Viewer,
    /// Could not be determined (Vault's `Others`).
    Unknown,
}

/// One indirect access to a file.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IndirectAccess {
    /// Through what.
    #[serde(flatten)]
    pub via: AccessVia,
    /// With which role.
    pub role: AccessRole,
}

/// Metadata of one Drive file (or Sites page).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveMeta {
    /// The Drive file id (for a Sites page, the page id).
    pub drive_id: String,
    /// The full, untruncated title (`#Title`).
    pub title: String,
    /// The owner's address; for a shared-drive file, the shared drive's name (`#Author`).
    pub owner: String,
    /// Who created it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// Its MIME type.
    pub mime_type: String,
    /// Vault's `DocumentType`, for Google-native files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<DocumentType>,
    /// Created in Drive (uploaded, for other files), seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// Last modified, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<i64>,
    /// The shared drive holding it (`SharedDriveID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_drive_id: Option<String>,
    /// The parent (for a Sites page, the site: `DocParentID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Accounts and groups with direct edit or comment access.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collaborators: Vec<String>,
    /// Accounts and groups with direct view access.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub viewers: Vec<String>,
    /// Access through groups, domains or a public link.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indirect: Vec<IndirectAccess>,
    /// Google's per-version hash of a Docs, Sheets or Slides file (`SourceHash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_hash: Option<String>,
    /// In the owner's trash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trashed: bool,
}
