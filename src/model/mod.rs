//! Plain domain types, no I/O: what a record is, whose it is, which corpus it belongs to.
//!
//! Everything downstream (store, index, search, export) speaks these types, so they are shaped for
//! all five Vault corpora even where only mail is filled today.

mod id;
mod record;
pub mod time;

pub use id::{Account, AccountError, DocId, OrgUnit};
pub use record::{
    Attachment, BlobRef, Corpus, Defect, GroupMember, MailMeta, Mailbox, Metadata, Record,
    SourceKind, SourceRef,
};
