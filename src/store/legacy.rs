//! Records as written before records had parts: one `blob` per record. Format 1 collections
//! (JSON Lines segments) and record-table rows with format byte 1 hold this shape; they are
//! read through [`RecordV1`] and become a [`Record`] whose one part is the message.

use crate::model::{
    Account, BlobRef, Corpus, Defect, DocId, Metadata, OrgUnit, Part, PartKind, Parts, Record,
    SourceRef,
};
use serde::Deserialize;

/// A record with exactly one blob (the message).
#[derive(Deserialize)]
pub(super) struct RecordV1 {
    doc_id: DocId,
    seq: u64,
    corpus: Corpus,
    account: Account,
    org_unit: OrgUnit,
    source: SourceRef,
    blob: BlobRef,
    meta: Metadata,
    #[serde(default)]
    defects: Vec<Defect>,
}

impl From<RecordV1> for Record {
    fn from(r: RecordV1) -> Record {
        Record {
            doc_id: r.doc_id,
            seq: r.seq,
            corpus: r.corpus,
            account: r.account,
            org_unit: r.org_unit,
            source: r.source,
            // Only mail was ever written in this shape: its one blob is the message.
            parts: Parts::new(Part::new(PartKind::Message, r.blob)),
            meta: r.meta,
            defects: r.defects,
        }
    }
}

/// Decode a record written in the one-blob shape.
pub(super) fn decode(json: &[u8]) -> serde_json::Result<Record> {
    serde_json::from_slice::<RecordV1>(json).map(Record::from)
}
