//! The journal that makes an organisation export resumable: `OUT/.<id>.partial/journal.jsonl`,
//! a header line, then one line per finished account (its [`AccountReport`], written after the
//! account's zips were synced and renamed into place, and synced itself).
//!
//! A run killed at any point leaves the journal ending in whole lines or in one torn line (a
//! kill mid-append); the torn line is ignored and its account redone. On resumption each
//! journalled account's zips are hashed again and compared with the MD5s the journal recorded:
//! an account whose files all match is kept as it is, anything else is removed and redone. The
//! report is built from the journal, so each account is counted once however often the run was
//! resumed. The journal is removed before the archive is renamed into place.

use super::report::AccountReport;
use crate::digest::Md5Writer;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

/// The journal's file name inside the partial folder.
pub const NAME: &str = "journal.jsonl";

/// What a resumed run must agree on with the run it continues.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// The export id.
    pub export_id: String,
    /// The collection folder, as given.
    pub collection: String,
    /// The start, UTC seconds.
    pub start: i64,
    /// Who started it.
    pub started_by: String,
    /// The split size.
    pub split_bytes: u64,
}

/// Create the journal with its header (synced).
pub fn create(path: &Path, h: &Header) -> io::Result<()> {
    let mut f = File::create(path)?;
    let line = serde_json::to_string(h).map_err(io::Error::other)?;
    f.write_all(line.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// Append one finished account (synced).
pub fn append(path: &Path, a: &AccountReport) -> io::Result<()> {
    let mut f = OpenOptions::new().append(true).open(path)?;
    let mut line = serde_json::to_vec(a).map_err(io::Error::other)?;
    line.push(b'\n');
    f.write_all(&line)?;
    f.sync_data()
}

/// The header and the accounts of a journal; a last line without its newline or that does not
/// parse (a kill mid-append) is left out. A header that does not parse is an error.
pub fn read(path: &Path) -> io::Result<(Header, Vec<AccountReport>)> {
    let mut r = BufReader::new(File::open(path)?);
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)?;
    let header: Header = serde_json::from_slice(&line)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("journal header: {e}")))?;
    let mut accounts = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 || !line.ends_with(b"\n") {
            break;
        }
        match serde_json::from_slice::<AccountReport>(&line) {
            Ok(a) => accounts.push(a),
            Err(_) => break,
        }
    }
    Ok((header, accounts))
}

/// Do the account's zips under `root` still have the sizes and MD5s the journal recorded?
pub fn intact(root: &Path, a: &AccountReport) -> bool {
    a.archives.iter().all(|z| {
        let Ok((mut f, meta)) = crate::fs_safe::open_regular(&root.join(&z.path)) else {
            return false;
        };
        if meta.len() != z.size {
            return false;
        }
        let mut w = Md5Writer::new(io::sink());
        io::copy(&mut f, &mut w).is_ok() && w.finish().1.to_hex() == z.md5
    })
}
