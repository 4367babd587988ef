//! What an export did, per account, written as `NAME-summary.json` and checked by `verify`.

use super::request::ExportRequest;
use serde::{Deserialize, Serialize};

/// Per account: `in_scope = exported + failed_transient + failed_non_transient + excluded`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The account.
    pub account: String,
    /// Records the search found.
    pub in_scope: u64,
    /// Written to the content zips.
    pub exported: u64,
    /// Could not be read now; retry later.
    pub failed_transient: u64,
    /// Missing or damaged; retrying will not help.
    pub failed_non_transient: u64,
    /// Left out on purpose (none today; the field keeps the equation honest for later rules).
    pub excluded: u64,
}

impl Balance {
    /// Does the equation hold?
    pub fn balances(&self) -> bool {
        self.in_scope
            == self.exported + self.failed_transient + self.failed_non_transient + self.excluded
    }
    /// All failures.
    pub fn failed(&self) -> u64 {
        self.failed_transient + self.failed_non_transient
    }
}

/// One written file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenFile {
    /// File name inside the export folder.
    pub name: String,
    /// What it is (absent in summaries written before kinds were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<super::plan::FileKind>,
    /// Bytes.
    pub size: u64,
    /// MD5, lowercase hex.
    pub md5: String,
}

/// One content zip of the export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZipMap {
    /// `NAME-N.zip`.
    pub file: String,
    /// The mbox entry inside it.
    pub entry: String,
    /// The account whose messages the entry holds.
    pub account: String,
    /// 1, 2, … for the parts of the account's mbox.
    pub part: u32,
}

/// `NAME-summary.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    /// The export name.
    pub name: String,
    /// `mail` or `groups`.
    pub corpus: String,
    /// The request as given.
    pub request: ExportRequest,
    /// Per account, by account.
    pub accounts: Vec<Balance>,
    /// Sums over accounts.
    pub totals: Balance,
    /// Every file but the summary and the checksum file.
    pub files: Vec<WrittenFile>,
    /// Messages that did not end in a line feed and got one in the mbox (their `Hash` and
    /// `FileSize` are of the original bytes).
    pub messages_given_final_newline: u64,
    /// Characters XML 1.0 forbids, replaced by U+FFFD in metadata.xml.
    pub xml_replaced_characters: u64,
    /// Bytes of exported messages.
    pub exported_bytes: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Worker threads used.
    pub threads: usize,
    /// Each content zip, its mbox entry and whose messages it holds: the map from entry names
    /// (made unique across the export, see `plan::name_entries`) back to accounts.
    #[serde(default)]
    pub zips: Vec<ZipMap>,
    /// `ediscovery` version.
    pub version: String,
}
