//! Plain domain types, no I/O: what a record is, whose it is, which corpus it belongs to.
//!
//! Everything downstream (store, index, search, export) speaks these types, so they are shaped for
//! all five Vault corpora even where only mail is filled today.

mod chat;
mod drive;
mod id;
mod part;
mod record;
pub mod time;
mod voice;

pub use chat::{ChatEdit, ChatMeta, ConversationType};
pub use drive::{AccessRole, AccessVia, DocumentType, DriveMeta, IndirectAccess};
pub use id::{Account, AccountError, DocId, OrgUnit};
pub use part::{Part, PartKind, Parts};
pub use record::{
    Attachment, BlobRef, Corpus, Defect, GroupMember, MailMeta, Mailbox, Metadata, Record,
    SourceKind, SourceRef,
};
pub use voice::{VoiceKind, VoiceMeta, VoiceText, e164};
