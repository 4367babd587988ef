//! Sources → messages and records, streamed: mbox (split byte-exactly here), Gmail Takeout mbox,
//! Maildir, a folder of `.eml` files; and for the other corpora our JSON Lines formats
//! (`chat_jsonl.rs`, `drive_jsonl.rs`, `voice_jsonl.rs`, framed by `jsonl.rs`, content files
//! resolved by `content.rs`), Takeout's Chat and Voice exports (`takeout_chat.rs`,
//! `takeout_voice.rs`) and a plain folder as Drive (`drive_folder.rs`), whose items are
//! [`RawRecord`]s made ready by `record.rs`.
//!
//! A source yields [`Item`]s in a deterministic order: a message with its original bytes and what
//! the container said about it (labels, flags, envelope), a rejection (something that could not
//! become a record, with where and why), or a notice. [`prepare`] then reads the MIME structure.
//! Nothing is dropped without an item saying so; the collection turns the items into an
//! [`IngestReport`] where `seen = ingested + already_present + rejected`.

pub mod chat_jsonl;
mod content;
mod depth;
pub mod drive_folder;
pub mod drive_jsonl;
mod eml;
mod entry;
pub mod jsonl;
pub mod labels;
mod maildir;
pub mod members;
pub mod mime;
mod pipeline;
pub mod record;
pub mod takeout_chat;
pub mod takeout_voice;
pub mod voice_jsonl;
mod walk;

pub use pipeline::{Raw, Ready, Workers};
pub use record::{PreparedRecord, RawRecord};

use crate::format::mbox;
use crate::model::{Corpus, Defect, DocId, Metadata, SourceKind, SourceRef};
use serde::Serialize;
use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// Something ingest can read.
#[derive(Clone, Debug)]
pub enum Source {
    /// An mbox file (mboxrd or mboxo).
    Mbox(PathBuf),
    /// A Gmail Takeout mbox: labels from `X-Gmail-Labels`, thread from `X-GM-THRID`.
    Takeout(PathBuf),
    /// A Maildir or Maildir++ folder.
    Maildir(PathBuf),
    /// A folder of `.eml` files.
    Eml(PathBuf),
    /// Our chat JSON Lines format (`docs/formats/chat-jsonl.md`); attachment paths are relative
    /// to `root`.
    ChatJsonl {
        /// The `.jsonl` file.
        file: PathBuf,
        /// The folder content paths are relative to.
        root: PathBuf,
    },
    /// Our Drive JSON Lines format (`docs/formats/drive-jsonl.md`).
    DriveJsonl {
        /// The `.jsonl` file.
        file: PathBuf,
        /// The folder content paths are relative to.
        root: PathBuf,
    },
    /// Our Voice JSON Lines format (`docs/formats/voice-jsonl.md`).
    VoiceJsonl {
        /// The `.jsonl` file.
        file: PathBuf,
        /// The folder content paths are relative to.
        root: PathBuf,
    },
    /// Takeout's Chat export (a `Takeout`, `Google Chat` or `Groups` folder).
    TakeoutChat(PathBuf),
    /// Takeout's Voice export (a `Takeout`, `Voice` or `Calls` folder).
    TakeoutVoice(PathBuf),
    /// A plain folder tree as the custodian's Drive.
    DriveFolder(PathBuf),
}

impl Source {
    /// The path given.
    pub fn path(&self) -> &Path {
        match self {
            Source::Mbox(p)
            | Source::Takeout(p)
            | Source::Maildir(p)
            | Source::Eml(p)
            | Source::TakeoutChat(p)
            | Source::TakeoutVoice(p)
            | Source::DriveFolder(p) => p,
            Source::ChatJsonl { file, .. }
            | Source::DriveJsonl { file, .. }
            | Source::VoiceJsonl { file, .. } => file,
        }
    }

    /// The corpus this source's records belong to; `None` for mail sources, which fill mail or
    /// groups as asked.
    pub fn corpus(&self) -> Option<Corpus> {
        match self {
            Source::Mbox(_) | Source::Takeout(_) | Source::Maildir(_) | Source::Eml(_) => None,
            Source::ChatJsonl { .. } | Source::TakeoutChat(_) => Some(Corpus::Chat),
            Source::DriveJsonl { .. } | Source::DriveFolder(_) => Some(Corpus::Drive),
            Source::VoiceJsonl { .. } | Source::TakeoutVoice(_) => Some(Corpus::Voice),
        }
    }

    /// The source's kind, as records name it.
    pub fn kind(&self) -> SourceKind {
        match self {
            Source::Mbox(_) => SourceKind::Mbox,
            Source::Takeout(_) => SourceKind::Takeout,
            Source::Maildir(_) => SourceKind::Maildir,
            Source::Eml(_) => SourceKind::Eml,
            Source::ChatJsonl { .. } => SourceKind::ChatJsonl,
            Source::DriveJsonl { .. } => SourceKind::DriveJsonl,
            Source::VoiceJsonl { .. } => SourceKind::VoiceJsonl,
            Source::TakeoutChat(_) => SourceKind::TakeoutChat,
            Source::TakeoutVoice(_) => SourceKind::TakeoutVoice,
            Source::DriveFolder(_) => SourceKind::DriveFolder,
        }
    }

    /// The items of this source, in order, under the default limits (a Drive folder's files get
    /// no owner: ingest uses [`items_for`](Self::items_for) with the custodian).
    pub fn items(&self) -> Result<Box<dyn Iterator<Item = Item> + Send>, IngestError> {
        self.items_for("", &crate::Limits::default())
    }

    /// The items of this source, in order: `owner` owns a Drive folder's files (the custodian),
    /// `limits` bound JSON depth.
    pub fn items_for(
        &self,
        owner: &str,
        limits: &crate::Limits,
    ) -> Result<Box<dyn Iterator<Item = Item> + Send>, IngestError> {
        match self {
            Source::Mbox(p) => Ok(Box::new(mbox_items(p, SourceKind::Mbox)?)),
            Source::Takeout(p) => Ok(Box::new(mbox_items(p, SourceKind::Takeout)?)),
            Source::Maildir(p) => Ok(Box::new(maildir::items(p)?)),
            Source::Eml(p) => Ok(Box::new(eml::items(p)?)),
            Source::ChatJsonl { file, root } => {
                Ok(Box::new(chat_jsonl::items(file, root, limits)?))
            }
            Source::DriveJsonl { file, root } => {
                Ok(Box::new(drive_jsonl::items(file, root, limits)?))
            }
            Source::VoiceJsonl { file, root } => {
                Ok(Box::new(voice_jsonl::items(file, root, limits)?))
            }
            Source::TakeoutChat(p) => Ok(Box::new(takeout_chat::items(p)?)),
            Source::TakeoutVoice(p) => Ok(Box::new(takeout_voice::items(p)?)),
            Source::DriveFolder(p) => Ok(Box::new(drive_folder::items(p, owner)?)),
        }
    }
}

/// Where in a source something was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Position {
    /// The file.
    pub path: String,
    /// Byte offset in the file (mbox).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// 1-based line (mbox).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 0-based message number (mbox).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<u64>,
}

impl Position {
    /// A whole file.
    pub fn file(path: &Path) -> Position {
        Position { path: path.display().to_string(), offset: None, line: None, ordinal: None }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        match (self.offset, self.ordinal) {
            (Some(o), Some(n)) => write!(f, " (byte {o}, message #{})", n + 1),
            (Some(o), None) => write!(f, " (byte {o})"),
            _ => Ok(()),
        }
    }
}

/// A message as the container gave it.
#[derive(Clone, Debug)]
pub struct RawMessage {
    /// The original bytes.
    pub bytes: Vec<u8>,
    /// Source reference for the record.
    pub source: SourceRef,
    /// Where it was found, for reports.
    pub position: Position,
    /// Labels from the container (Maildir flags and folder).
    pub labels: Vec<String>,
    /// The container says it is a draft.
    pub is_draft: bool,
    /// Delivery time from the container.
    pub date_received: Option<i64>,
    /// mbox envelope sender.
    pub envelope_sender: Option<String>,
    /// The mbox ended in the middle of this message.
    pub truncated: bool,
}

/// Something that could not become a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Where.
    pub position: Position,
    /// Why, in words.
    pub reason: String,
}

/// Something worth saying that is neither a record nor a rejection (a skipped non-mail file, a
/// blank preamble).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Where.
    pub position: Position,
    /// What.
    pub message: String,
}

/// One thing a source yields.
#[derive(Clone, Debug)]
pub enum Item {
    /// A message.
    Message(RawMessage),
    /// A chat message, Drive file or Voice item, already described by its source.
    Record(Box<RawRecord>),
    /// Something that is not a record.
    Rejected(Rejection),
    /// Something to tell.
    Notice(Notice),
}

/// A message ready to store: its bytes, metadata and index text.
#[derive(Debug)]
pub struct Prepared {
    /// The raw message (bytes and source).
    pub raw: RawMessage,
    /// Metadata from headers and container (for a message, [`Metadata::Mail`]).
    pub meta: Metadata,
    /// Decoded body text for the index.
    pub body: String,
    /// Defects found.
    pub defects: Vec<Defect>,
    /// MD5 of the raw bytes (computed here, on the parallel stage).
    pub md5: crate::digest::Md5,
}

/// Read the MIME structure of `raw` and merge in what the container said.
pub fn prepare(raw: RawMessage) -> Prepared {
    prepare_within(raw, &crate::Limits::default())
}

/// [`prepare`] under `limits` (MIME depth).
pub fn prepare_within(mut raw: RawMessage, limits: &crate::Limits) -> Prepared {
    let parsed = mime::parse_within(&raw.bytes, limits);
    let mut meta = parsed.meta;
    let mut defects = parsed.defects;
    if raw.truncated {
        defects.insert(0, Defect::Truncated);
    }
    let mut labels = std::mem::take(&mut raw.labels);
    let mut draft = raw.is_draft;
    if raw.source.kind == SourceKind::Takeout {
        if let Some(v) = &parsed.gmail_labels {
            let (l, d) = labels::takeout_labels(v);
            labels.extend(l);
            draft |= d;
        }
    } else {
        // A thread id only counts where Gmail wrote it.
        meta.thread_id = None;
    }
    meta.labels = labels;
    meta.is_draft = draft;
    if raw.date_received.is_some() {
        meta.date_received = raw.date_received;
    }
    meta.envelope_sender = raw.envelope_sender.take();
    let md5 = crate::digest::Md5::of(&raw.bytes);
    Prepared { raw, meta: Metadata::Mail(Box::new(meta)), body: parsed.body, defects, md5 }
}

fn mbox_items(
    path: &Path,
    kind: SourceKind,
) -> Result<impl Iterator<Item = Item> + Send + use<>, IngestError> {
    let file =
        File::open(path).map_err(|e| IngestError::Io { path: path.to_path_buf(), source: e })?;
    let path_s = path.display().to_string();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let splitter = mbox::MboxSplitter::new(BufReader::with_capacity(1 << 20, file));
    let mut last_offset = 0;
    Ok(splitter.map(move |item| {
        let at = |offset, line, ordinal| Position {
            path: path_s.clone(),
            offset: Some(offset),
            line,
            ordinal,
        };
        match item {
            Err(e) => Item::Rejected(Rejection {
                position: at(last_offset, None, None),
                reason: format!("read error; the rest of the file was not read: {e}"),
            }),
            Ok(mbox::MboxItem::Preamble { offset, len, blank: true }) => Item::Notice(Notice {
                position: at(offset, Some(1), None),
                message: format!("{len} blank bytes before the first From_ line"),
            }),
            Ok(mbox::MboxItem::Preamble { offset, len, blank: false }) => Item::Rejected(Rejection {
                position: at(offset, Some(1), None),
                reason: format!(
                    "{len} bytes before the first From_ line are not a message (is this an mbox?)"
                ),
            }),
            Ok(mbox::MboxItem::Message(m)) => {
                last_offset = m.offset;
                let position = at(m.offset, Some(m.line), Some(m.ordinal));
                if m.bytes.iter().all(u8::is_ascii_whitespace) {
                    return Item::Rejected(Rejection {
                        position,
                        reason: "empty message: nothing between this From_ line and the next"
                            .to_owned(),
                    });
                }
                let (sender, date) = mbox::parse_envelope(&m.envelope);
                Item::Message(RawMessage {
                    bytes: m.bytes,
                    source: SourceRef {
                        kind,
                        path: path_s.clone(),
                        key: format!("{name}#{}", m.ordinal),
                        offset: Some(m.offset),
                    },
                    position,
                    labels: Vec::new(),
                    is_draft: false,
                    date_received: date,
                    envelope_sender: sender,
                    truncated: m.truncated,
                })
            }
        }
    }))
}

/// What one ingest run did. `seen = ingested + already_present + rejected.len()`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestReport {
    /// The source.
    pub source: String,
    /// Items that were messages or rejections.
    pub seen: u64,
    /// New records stored.
    pub ingested: u64,
    /// Records whose DocId the collection already had (a repeated ingest of the same source).
    pub already_present: u64,
    /// Bytes of the new records.
    pub bytes: u64,
    /// New distinct blobs written (identical bytes are stored once).
    pub new_blobs: u64,
    /// What could not become a record.
    pub rejected: Vec<Rejection>,
    /// Defects of stored records, with where they came from.
    pub defects: Vec<RecordDefect>,
    /// Other things worth saying.
    pub notices: Vec<Notice>,
}

/// A defect of one stored record.
#[derive(Clone, Debug, Serialize)]
pub struct RecordDefect {
    /// The record.
    pub doc_id: DocId,
    /// Where it came from.
    pub position: Position,
    /// What was wrong.
    pub defect: Defect,
}

impl IngestReport {
    /// True when every item seen was stored or already present.
    pub fn is_clean(&self) -> bool {
        self.rejected.is_empty()
    }
    /// The balance this report promises.
    pub fn balances(&self) -> bool {
        self.seen == self.ingested + self.already_present + self.rejected.len() as u64
    }
}

/// Why a source could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The source could not be opened.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The source.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No `cur/` or `new/` folder.
    #[error("{0} is not a Maildir (no cur/ or new/ folder)")]
    NotAMaildir(PathBuf),
    /// Not a folder.
    #[error("{0} is not a folder")]
    NotADirectory(PathBuf),
    /// Not the Takeout folder expected.
    #[error("{path}: no {expected} here (give the Takeout folder or the export's own folder)")]
    NotTakeout {
        /// The folder given.
        path: PathBuf,
        /// What was looked for.
        expected: &'static str,
    },
    /// A JSON Lines source whose header (or whose reading) stops the whole file: no header, a
    /// header of another format, a version this build does not read.
    #[error("{path}:{line}: {reason}")]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A source of one corpus ingested as another (`--corpus mail` with a chat file).
    #[error("{source_kind} holds {holds} records; it cannot be ingested as {corpus}")]
    WrongCorpus {
        /// The source's kind.
        source_kind: &'static str,
        /// The corpus its records belong to.
        holds: crate::model::Corpus,
        /// The corpus asked for.
        corpus: crate::model::Corpus,
    },
    /// A group member list that is not `Member,Group,JoinTime,Role,Type` as documented.
    #[error("{path}: {reason}")]
    BadMembers {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}
