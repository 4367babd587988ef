//! Writing one account's zips: `<folder>/<folder>-<n>.zip` from 1, a folder per product inside,
//! each zip holding at most the split size of content (uncompressed message bytes, so the file
//! never exceeds it by more than the container's few bytes per entry); a product that does not
//! fit continues in the next zip under the same entry name, as Takeout splits. Each zip is
//! written under a temporary name, hashed as it is written, synced and renamed.
//!
//! Records are decoded one at a time from the store and their bytes read through a
//! [`BlobSource`] (the store, or in tests a store with failures injected): memory holds one
//! framed message, whatever the account's size. A record whose bytes cannot be read, or do not
//! match their recorded MD5/CRC, is a failed file with its reason; a user-deleted record nothing
//! keeps is left out and counted.

use super::OrgExportError;
use super::accounts::PlannedAccount;
use super::products::{PRODUCTS, Product};
use super::report::{AccountReport, Archive, FailedFile, ProductCount};
use crate::digest::{Md5, Md5Writer};
use crate::export::BlobSource;
use crate::format::zip::{Compression, DeflatePool, EntryOptions, ZipOptions, ZipWriter};
use crate::model::{DocId, Record};
use crate::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// What the writer needs besides the account.
pub(crate) struct Ctx<'a> {
    pub store: &'a Store,
    pub source: &'a dyn BlobSource,
    pub deleted: &'a BTreeSet<DocId>,
    pub split_bytes: u64,
    pub pool: &'a DeflatePool,
    pub mtime: i64,
}

/// The records of one account, product by product, framed one at a time.
struct Items<'a> {
    ctx: &'a Ctx<'a>,
    list: Vec<(usize, u64)>,
    at: usize,
    counts: BTreeMap<String, ProductCount>,
    failures: Vec<FailedFile>,
    deleted: u64,
}

impl Items<'_> {
    /// The next framed message and its product's index; failures and deleted records are
    /// counted on the way.
    fn next(&mut self) -> Result<Option<(usize, Vec<u8>)>, OrgExportError> {
        while let Some(&(p, seq)) = self.list.get(self.at) {
            self.at += 1;
            let Some(rec) = self.ctx.store.get(seq)? else { continue };
            if self.ctx.deleted.contains(&rec.doc_id) {
                self.deleted += 1;
                continue;
            }
            let product = &PRODUCTS[p];
            match frame(product, &rec, self.ctx.source) {
                Ok(buf) => {
                    self.counts.entry(product.name.to_owned()).or_default().exported += 1;
                    return Ok(Some((p, buf)));
                }
                Err(reason) => {
                    self.counts.entry(product.name.to_owned()).or_default().not_exported += 1;
                    self.failures.push(FailedFile {
                        product: product.name.to_owned(),
                        file: failed_name(&rec),
                        reason,
                    });
                }
            }
        }
        Ok(None)
    }
}

/// The name a failed record is listed under: a Drive file's title (what its owner knows it by;
/// hostile text, escaped by the report), else the message's Vault `FileName`.
fn failed_name(rec: &Record) -> String {
    match &rec.meta {
        crate::model::Metadata::Drive(d) if !d.title.is_empty() => d.title.clone(),
        _ => crate::export::naming::message_file_name(rec),
    }
}

/// Read, check and frame one record, or why not.
fn frame(product: &Product, rec: &Record, source: &dyn BlobSource) -> Result<Vec<u8>, String> {
    let Some(f) = product.frame else { return Err(product.missing.to_owned()) };
    let bytes = source.read(rec).map_err(|f| f.reason)?;
    let b = rec.blob();
    let intact = bytes.len() as u64 == b.size
        && match b.crc32 {
            Some(crc) => crate::digest::crc32(&bytes) == crc,
            None => Md5::of(&bytes) == b.md5,
        };
    if !intact {
        return Err(format!(
            "stored bytes are damaged: {} bytes, expected {} bytes with MD5 {}",
            bytes.len(),
            b.size,
            b.md5
        ));
    }
    let mut out = Vec::with_capacity(bytes.len() + 128);
    f(rec, &bytes, &mut out);
    Ok(out)
}

type ZipFile = ZipWriter<Md5Writer<BufWriter<File>>>;

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> OrgExportError + '_ {
    move |source| OrgExportError::Io { path: path.to_path_buf(), source }
}

/// Write `a`'s zips into `root/<folder>/` (created; any leftover of a killed attempt removed
/// first) and say what was written.
pub(crate) fn account(
    root: &Path,
    a: &PlannedAccount,
    ctx: &Ctx<'_>,
) -> Result<AccountReport, OrgExportError> {
    let dir = root.join(&a.folder);
    if std::fs::symlink_metadata(&dir).is_ok() {
        std::fs::remove_dir_all(&dir).map_err(io_at(&dir))?;
    }
    let mut list = Vec::new();
    for (p, product) in PRODUCTS.iter().enumerate() {
        if a.corpora.contains(&product.corpus) {
            let seqs = ctx.store.seqs_of(product.corpus, &a.account)?;
            list.extend(seqs.into_iter().map(|s| (p, s)));
        }
    }
    let mut items =
        Items { ctx, list, at: 0, counts: BTreeMap::new(), failures: Vec::new(), deleted: 0 };
    let mut archives = Vec::new();
    let mut next = items.next()?;
    let opts = EntryOptions {
        compression: Compression::Deflate,
        mtime: Some(ctx.mtime),
        large: ctx.split_bytes >= 1 << 31,
    };
    while let Some(first) = next.take() {
        if archives.is_empty() {
            std::fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        }
        let name = format!("{}-{}.zip", a.folder, archives.len() + 1);
        let path = dir.join(&name);
        let tmp = dir.join(format!(".{name}.partial"));
        let file = File::create(&tmp).map_err(io_at(&tmp))?;
        let w = Md5Writer::new(BufWriter::with_capacity(1 << 20, file));
        let mut zip: ZipFile =
            ZipWriter::with_pool(w, ZipOptions::default(), ctx.pool).map_err(|e| zerr(&tmp, e))?;
        let mut content = 0u64;
        let mut cur = Some(first);
        // One entry per product in this zip; stop when the zip is full or nothing is left.
        while let Some((p, buf)) = cur.take() {
            let mut entry = zip.start_entry(PRODUCTS[p].entry, opts).map_err(|e| zerr(&tmp, e))?;
            let mut buf = buf;
            loop {
                entry.write_all(&buf).map_err(io_at(&tmp))?;
                content += buf.len() as u64;
                match items.next()? {
                    None => break,
                    Some((q, b)) if content + b.len() as u64 > ctx.split_bytes => {
                        next = Some((q, b));
                        break;
                    }
                    Some((q, b)) if q != p => {
                        cur = Some((q, b));
                        break;
                    }
                    Some((_, b)) => buf = b,
                }
            }
            entry.finish().map_err(|e| zerr(&tmp, e))?;
        }
        let w = zip.finish().map_err(|e| zerr(&tmp, e))?;
        let (buf, md5, size) = w.finish();
        let f = buf.into_inner().map_err(|e| e.into_error()).map_err(io_at(&tmp))?;
        f.sync_all().map_err(io_at(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io_at(&path))?;
        archives.push(Archive { path: format!("{}/{name}", a.folder), size, md5: md5.to_hex() });
    }
    if !archives.is_empty()
        && let Ok(d) = File::open(&dir)
    {
        let _ = d.sync_all();
    }
    let exported = items.counts.values().map(|c| c.exported).sum();
    let not_exported = items.counts.values().map(|c| c.not_exported).sum();
    Ok(AccountReport {
        id: a.account.to_string(),
        account_type: a.kind,
        folder: a.folder.clone(),
        archives,
        products: items.counts,
        exported,
        not_exported,
        deleted_left_out: items.deleted,
        failures: items.failures,
    })
}

fn zerr(path: &Path, e: crate::format::zip::ZipWriteError) -> OrgExportError {
    OrgExportError::Io { path: path.to_path_buf(), source: io::Error::from(e) }
}
