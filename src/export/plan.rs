//! The export plan: pure data — which files, which records go where, where mboxes split. A dry
//! run prints it; the runner writes exactly it; tests can assert it without writing anything.

use super::naming::SafeName;
use crate::format::zip::Compression;
use crate::model::{Account, Corpus, Record};
use serde::Serialize;
use std::collections::BTreeMap;

/// Bytes the framing adds per message at most, besides quoting: the `From ` line (DocID, `@xxx`,
/// asctime) and up to two line feeds.
pub const FRAMING: u64 = 80;

/// One content zip: one account's mbox (or one part of it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZipPlan {
    /// `NAME-N.zip`.
    pub file: String,
    /// Whose messages.
    pub account: Account,
    /// 1 for the first part of the account's mbox, 2, 3… after splits.
    pub part: u32,
    /// The mbox entry inside: `NAME-<account>.mbox`, `NAME-<account>-2.mbox`, …
    pub entry: String,
    /// Records (by `seq`), in export order.
    pub records: Vec<u64>,
    /// Their stored bytes.
    pub bytes: u64,
    /// Latest record date in the zip (the entry's timestamp).
    pub latest: Option<i64>,
}

/// Everything an export will write.
#[derive(Clone, Debug, Serialize)]
pub struct ExportPlan {
    /// The export name.
    pub name: SafeName,
    /// The corpus.
    pub corpus: Corpus,
    /// Zip compression.
    pub compression: Compression,
    /// Split size.
    pub split_size: u64,
    /// The content zips, in order of account, then part.
    pub zips: Vec<ZipPlan>,
    /// Records in scope per account (zeros included for queried accounts with nothing).
    pub in_scope: BTreeMap<Account, u64>,
    /// The query as the user typed it (export-wide `UserQuery`).
    pub user_query: String,
    /// The time zone (export-wide `TimeZone`).
    pub time_zone: String,
    /// The searched accounts (export-wide `Custodians`); empty unless the search was by account.
    pub custodians: Vec<Account>,
}

impl ExportPlan {
    /// Assign `hits` (search order: account, date, seq) to zips.
    pub fn assign(mut self, hits: &[&Record]) -> ExportPlan {
        let (name, split_size) = (self.name.clone(), self.split_size);
        let zips = &mut self.zips;
        for r in hits {
            let size = r.blob.size + FRAMING;
            let date = r.mail().and_then(|m| m.date_sent.or(m.date_received));
            let start_new = match zips.last() {
                Some(z) => {
                    z.account != r.account || (z.bytes + size > split_size && !z.records.is_empty())
                }
                None => true,
            };
            if start_new {
                let part = match zips.last() {
                    Some(z) if z.account == r.account => z.part + 1,
                    _ => 1,
                };
                let acct = SafeName::new(r.account.as_str());
                let entry = if part == 1 {
                    format!("{name}-{acct}.mbox")
                } else {
                    format!("{name}-{acct}-{part}.mbox")
                };
                zips.push(ZipPlan {
                    file: format!("{name}-{}.zip", zips.len() + 1),
                    account: r.account.clone(),
                    part,
                    entry,
                    records: Vec::new(),
                    bytes: 0,
                    latest: None,
                });
            }
            if let Some(z) = zips.last_mut() {
                z.records.push(r.seq);
                z.bytes += size;
                z.latest = z.latest.max(date);
            }
        }
        self
    }

    /// `NAME-suffix`.
    pub fn file(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.name)
    }
}
