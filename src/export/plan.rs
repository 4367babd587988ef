//! The export plan: pure data — which files, which records go where, where mboxes split. A dry
//! run prints it; the runner writes exactly it; tests can assert it without writing anything.

use super::naming::SafeName;
use crate::format::zip::Compression;
use crate::model::{Account, Corpus};
use crate::search::Hit;
use serde::{Deserialize, Serialize};
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
    /// The mbox entry inside: `NAME-<account>.mbox`, `NAME-<account>-2.mbox`, …, unique across
    /// the export (see [`name_entries`]).
    pub entry: String,
    /// Records (by `seq`), in export order.
    pub records: Vec<u64>,
    /// Each record's stored size, in the same order (from its hit: no record is decoded), so
    /// the runner can batch by bytes. Not in the printed plan.
    #[serde(skip)]
    pub sizes: Vec<u64>,
    /// Their stored bytes.
    pub bytes: u64,
    /// Latest record date in the zip (the entry's timestamp).
    pub latest: Option<i64>,
    /// Drive: each record's entry name in the zip (`<title>_<driveid><ext>`), in `records`
    /// order, unique across the export. Empty for the other corpora.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Chat: the conversation documents of the mbox, in export order; each holds matched
    /// records (in `records`) and context messages (in no `records` list: not in scope). Empty
    /// for the other corpora.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<ChatDocPlan>,
    /// Set in a streaming plan ([`super::plan_streaming`]), whose zips hold no records
    /// (`records` and `sizes` are empty): where this zip's records are in its account's hits,
    /// found again when the zip is written. Not in the printed plan.
    #[serde(skip)]
    pub deferred: Option<Deferred>,
}

/// Where a streaming plan's zip finds its records: the `count` hits of its account from
/// `first`, in hit order, out of the `of` hits the account had when the export was planned
/// (fewer or more when the zip is written means the collection changed: the run stops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deferred {
    /// Index of the zip's first record among its account's hits.
    pub first: usize,
    /// How many records the zip holds.
    pub count: usize,
    /// How many hits the account had at planning.
    pub of: usize,
}

impl ZipPlan {
    /// How many records the zip holds, whether the plan holds them or not.
    pub fn len(&self) -> usize {
        self.deferred.map_or(self.records.len(), |d| d.count)
    }

    /// Whether the zip holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One Chat conversation document: one mbox message rendering several chat messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatDocPlan {
    /// `<SPACEID>-MBI-FLAT:<timestamp>`: the `From ` line's address part, `Message-ID`,
    /// `Subject` and `ExternalFile/@FileName` (unique across the export).
    pub file_name: String,
    /// Every message (by `seq`), in render order.
    pub messages: Vec<u64>,
    /// Which of them the search matched (the ones the balance counts).
    pub matched: Vec<u64>,
}

/// What a file of an export is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// `NAME-N.zip`: mbox entries.
    Content,
    /// `NAME-metadata.xml` (EDRM).
    MetadataXml,
    /// `NAME-metadata.csv` (mail).
    MetadataCsv,
    /// `NAME-results-count.csv`.
    ResultsCount,
    /// `NAME-group-membership.csv` (groups).
    GroupMembership,
    /// `NAME-error.csv`.
    Errors,
    /// `NAME-account-exceptions.csv` (mail).
    AccountExceptions,
    /// `NAME-failed-group-membership-lookups.csv` (groups).
    FailedGroupMembershipLookups,
    /// `NAME-custodian-docid.csv` (Drive).
    CustodianDocid,
    /// `NAME-incomplete-accounts.csv` (Drive).
    IncompleteAccounts,
    /// `NAME-summary.json`.
    Summary,
    /// `NAME-checksums.md5`, written last.
    Checksums,
}

impl FileKind {
    /// The part after `NAME-` of a fixed file (content zips are numbered instead).
    pub fn suffix(self) -> Option<&'static str> {
        Some(match self {
            FileKind::Content => return None,
            FileKind::MetadataXml => "metadata.xml",
            FileKind::MetadataCsv => "metadata.csv",
            FileKind::ResultsCount => "results-count.csv",
            FileKind::GroupMembership => "group-membership.csv",
            FileKind::Errors => "error.csv",
            FileKind::AccountExceptions => "account-exceptions.csv",
            FileKind::FailedGroupMembershipLookups => "failed-group-membership-lookups.csv",
            FileKind::CustodianDocid => "custodian-docid.csv",
            FileKind::IncompleteAccounts => "incomplete-accounts.csv",
            FileKind::Summary => "summary.json",
            FileKind::Checksums => "checksums.md5",
        })
    }
}

/// When a planned file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    /// Always.
    Always,
    /// Only when records failed.
    IfFailures,
    /// Only when a group in scope has no ingested member list.
    IfMissingMemberLists,
}

/// One file the export will (or, for conditional files, may) write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedFile {
    /// The file name inside the export folder.
    pub name: String,
    /// What it is.
    pub kind: FileKind,
    /// When it is written.
    pub when: When,
}

/// Each corpus's fixed files, besides the content zips, the summary and the checksum file: the
/// one place that says which files a corpus's export has (`docs/export-contract.md`).
pub fn file_set(corpus: Corpus) -> &'static [(FileKind, When)] {
    use FileKind::*;
    match corpus {
        Corpus::Groups => &[
            (MetadataXml, When::Always),
            (ResultsCount, When::Always),
            (GroupMembership, When::Always),
            (Errors, When::IfFailures),
            (FailedGroupMembershipLookups, When::IfMissingMemberLists),
        ],
        Corpus::Chat => {
            &[(MetadataXml, When::Always), (ResultsCount, When::Always), (Errors, When::IfFailures)]
        }
        Corpus::Drive => &[
            (MetadataXml, When::Always),
            (CustodianDocid, When::Always),
            (Errors, When::IfFailures),
            (IncompleteAccounts, When::IfFailures),
        ],
        // Vault writes no count file for Voice.
        Corpus::Voice => &[(MetadataXml, When::Always), (Errors, When::IfFailures)],
        Corpus::Mail => &[
            (MetadataXml, When::Always),
            (MetadataCsv, When::Always),
            (ResultsCount, When::Always),
            (Errors, When::IfFailures),
            (AccountExceptions, When::IfFailures),
        ],
    }
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
    /// Line endings of the exported messages.
    pub line_endings: super::request::LineEndings,
    /// Whether CSV cells are guarded against formulas.
    pub csv_formula_guard: bool,
    /// Check stored bytes by MD5 rather than by their recorded CRC-32.
    pub recheck_md5: bool,
    /// Drive `includeAccessInfo`: indirect users sorted by role instead of all in `Others`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_access_info: bool,
    /// Every file, in the order written: the content zips, the corpus's file set, the summary,
    /// and last the checksum file.
    pub files: Vec<PlannedFile>,
    /// A streaming plan's search, run again account by account to find the records its zips
    /// do not hold ([`ZipPlan::deferred`]). `None` when the plan holds every record.
    #[serde(skip)]
    pub search: Option<std::sync::Arc<crate::SearchRequest>>,
}

impl ExportPlan {
    /// Assign `hits` (search order: account, date, seq) to zips: one account per zip, a new zip
    /// before one would pass the split size. Drive zips are `NAME_0.zip`, `NAME_1.zip`… (Vault
    /// numbers them from 0 with `_`); the others `NAME-1.zip`…; Voice never splits an account
    /// (Vault writes one zip per account).
    pub fn assign(mut self, hits: &[&Hit]) -> ExportPlan {
        self.add_hits(hits);
        self.finish_zips();
        self
    }

    /// [`assign`](Self::assign) a run of hits after those already assigned (in search order:
    /// a streaming plan adds one account's at a time).
    pub fn add_hits(&mut self, hits: &[&Hit]) {
        let name = self.name.clone();
        let split_size = if self.corpus == Corpus::Voice { u64::MAX } else { self.split_size };
        let drive = self.corpus == Corpus::Drive;
        let zips = &mut self.zips;
        for r in hits {
            let size = r.size + FRAMING;
            let date = r.date;
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
                let file = if drive {
                    format!("{name}_{}.zip", zips.len())
                } else {
                    format!("{name}-{}.zip", zips.len() + 1)
                };
                zips.push(ZipPlan {
                    file,
                    account: r.account.clone(),
                    part,
                    entry: String::new(),
                    records: Vec::new(),
                    sizes: Vec::new(),
                    bytes: 0,
                    latest: None,
                    names: Vec::new(),
                    documents: Vec::new(),
                    deferred: None,
                });
            }
            if let Some(z) = zips.last_mut() {
                z.records.push(r.seq);
                z.sizes.push(r.size);
                z.bytes += size;
                z.latest = z.latest.max(date);
            }
        }
    }

    /// Name the zips' entries and list the files, once every hit is assigned.
    pub fn finish_zips(&mut self) {
        if self.corpus == Corpus::Drive {
            // A Drive zip holds files, not an mbox: its entries are named per record later.
            self.zips.iter_mut().for_each(|z| z.entry.clear());
        } else {
            name_entries(&self.name, &mut self.zips);
        }
        self.list_files();
    }

    /// Fill [`files`](Self::files) from the zips and the corpus's file set.
    pub fn list_files(&mut self) {
        let name = &self.name;
        let content = self.zips.iter().map(|z| PlannedFile {
            name: z.file.clone(),
            kind: FileKind::Content,
            when: When::Always,
        });
        let fixed = file_set(self.corpus)
            .iter()
            .copied()
            .chain([(FileKind::Summary, When::Always), (FileKind::Checksums, When::Always)])
            .filter_map(|(kind, when)| {
                kind.suffix().map(|s| PlannedFile { name: format!("{name}-{s}"), kind, when })
            });
        self.files = content.chain(fixed).collect();
    }

    /// Does this export's file set have a file of this kind (perhaps conditionally)?
    pub fn has(&self, kind: FileKind) -> bool {
        self.files.iter().any(|f| f.kind == kind)
    }

    /// `NAME-<suffix>` of a fixed file kind.
    pub fn file_of(&self, kind: FileKind) -> String {
        self.file(kind.suffix().unwrap_or(""))
    }

    /// `NAME-suffix`.
    pub fn file(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.name)
    }
}

/// Give every zip's mbox entry a name unique across the whole export, so that unzipping every
/// zip into one folder loses nothing.
///
/// The stem is the account sanitised by [`SafeName`]. Sanitising can map two accounts to one stem
/// (`ålice@x` and the Cyrillic `аlice@x` both become `_lice@x`; very long names are cut), and a
/// part suffix can meet another account's name (`a@x` part 2 and account `a@x-2` part 1 are both
/// `…-a@x-2.mbox`). Every account caught in such a meeting gets `_` and the first hex digits of
/// the MD5 of its exact address appended to its stem, for all of its parts; the summary's `zips`
/// list maps each entry back to its account.
pub fn name_entries(name: &SafeName, zips: &mut [ZipPlan]) {
    use std::collections::{BTreeMap, BTreeSet};
    let entry = |stem: &str, part: u32| {
        if part == 1 { format!("{name}-{stem}.mbox") } else { format!("{name}-{stem}-{part}.mbox") }
    };
    let mut stems: BTreeMap<Account, String> = zips
        .iter()
        .map(|z| (z.account.clone(), SafeName::new(z.account.as_str()).to_string()))
        .collect();
    let stem = |stems: &BTreeMap<Account, String>, a: &Account| {
        stems.get(a).cloned().unwrap_or_else(|| SafeName::new(a.as_str()).to_string())
    };
    for digits in [8, 16, 32] {
        let mut owners: BTreeMap<String, BTreeSet<Account>> = BTreeMap::new();
        for z in zips.iter() {
            owners
                .entry(entry(&stem(&stems, &z.account), z.part))
                .or_default()
                .insert(z.account.clone());
        }
        // Two stems that are equal also meet here: both accounts' part 1 has the same name.
        let caught: BTreeSet<Account> =
            owners.into_values().filter(|o| o.len() > 1).flatten().collect();
        if caught.is_empty() {
            break;
        }
        for a in caught {
            let hex = crate::digest::Md5::of(a.as_str().as_bytes()).to_hex();
            let base = SafeName::new(a.as_str());
            // Cut the base so the suffix always survives SafeName's length limit.
            let keep = base.as_str().len().min(SafeName::MAX - digits - 1);
            let base = base.as_str().get(..keep).unwrap_or(base.as_str());
            let suffixed = format!("{base}_{}", hex.get(..digits).unwrap_or(&hex));
            stems.insert(a, suffixed);
        }
    }
    for z in zips.iter_mut() {
        z.entry = entry(&stem(&stems, &z.account), z.part);
    }
}
