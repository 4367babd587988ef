//! Writing one account's zips: `<folder>/<folder>-<n>.zip` from 1, a folder per product inside,
//! each zip holding at most the split size of content (uncompressed bytes, so the file never
//! exceeds it by more than the container's few bytes per entry).
//!
//! **Splitting.** A chat space (its `group_info.json`, `messages.json` and attachments) starts
//! a new zip when its stored bytes do not fit the rest of the current zip but fit a fresh one,
//! so a space is whole in one zip unless it alone is larger than a zip. An entry that still
//! has to continue in the next zip (an mbox, a big space's `messages.json`) is closed there as
//! a whole document and continued under a numbered name: `messages-2.json`,
//! `All mail Including Spam and Trash-2.mbox`, … ([`continued_name`]). Unpacking all of an
//! account's zips into one folder, as administrators do, then overwrites nothing (with one
//! name in every zip, the last copy would win and the rest of the messages be lost).
//!
//! Records are decoded one at a time from the store and their bytes read through a
//! [`BlobSource`] (the store, or in tests a store with failures injected) as slices of the pack
//! map, written to the zip from there: memory holds one framed message or page, never a Drive
//! file's copy or an account. What is kept per account is the order: (space, time, seq) of chat
//! messages, so each space's messages are together, and each Drive file's id, parent and title,
//! so folders can be named. A record whose bytes (or an attachment's) cannot be read, or do not
//! match their recorded MD5/CRC, is a failed file with its reason; a user-deleted record nothing
//! keeps is left out and counted.

use super::OrgExportError;
use super::accounts::PlannedAccount;
use super::products::{Layout, PRODUCTS, Product, continued_name};
use super::report::{AccountReport, Archive, FailedFile, ProductCount};
use super::takeout::{self, Names};
use crate::digest::Md5;
use crate::export::{BlobSource, SafeName};
use crate::format::zip::{Compression, DeflatePool, EntryOptions, ZipOptions, ZipWriter};
use crate::model::{BlobRef, DocId, Metadata, PartKind, Record};
use crate::partial_file::PartialFile;
use crate::store::Store;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs::File;
use std::io::{self, Write};
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

/// Bytes for one zip entry: a whole entry (a Drive file, a page), or one message of an entry
/// consecutive pieces share (the mbox; `messages.json`, marked `json`: framed by
/// `takeout::JSON_HEAD`/`SEP`/`TAIL`).
struct Piece<'a> {
    entry: String,
    json: bool,
    bytes: Cow<'a, [u8]>,
    /// On the first piece of a group kept in one zip when it fits one (a chat space): the
    /// group's stored bytes, estimated; 0 otherwise.
    whole: u64,
}

/// Bytes a chat message adds to its space besides its stored parts: its JSON fields.
const CHAT_MESSAGE_OVERHEAD: u64 = 512;

/// One step of an account's export.
enum Task {
    /// A record of a product written as one mbox.
    Mbox(usize, u64),
    /// A chat message of product `p`, in the space folder given (an index into
    /// `Items::folders`).
    Chat { p: usize, seq: u64, folder: usize },
    /// The attachments of the space's messages written so far: after its `messages.json`.
    ChatAttachments,
    /// A Drive file of product `.0`.
    Drive(usize, u64),
    /// A Voice item of product `.0`.
    Voice(usize, u64),
}

/// The records of one account, product by product, as entry pieces, one record at a time.
struct Items<'a> {
    ctx: &'a Ctx<'a>,
    tasks: Vec<Task>,
    at: usize,
    queue: VecDeque<Piece<'a>>,
    counts: BTreeMap<String, ProductCount>,
    failures: Vec<FailedFile>,
    deleted: u64,
    names: Names,
    /// Chat space folders (unique names), whether `group_info.json` was written, and the
    /// space's estimated bytes (stored parts plus [`CHAT_MESSAGE_OVERHEAD`] a message).
    folders: Vec<(String, bool, u64)>,
    /// Attachments of the current space: (seq, part index, entry name).
    attachments: Vec<(u64, usize, String)>,
    /// Drive id → (parent id, title), for folder paths.
    drive_tree: HashMap<String, (Option<String>, String)>,
}

/// Read `blob` of `rec` (the main part through `source`, others from the store) and check it
/// against its MD5/CRC, or why not.
fn checked<'a>(ctx: &Ctx<'a>, rec: &Record, part: Option<usize>) -> Result<Cow<'a, [u8]>, String> {
    let (bytes, b): (Cow<'a, [u8]>, &BlobRef) = match part {
        None => (
            ctx.source.read(crate::export::Wanted::of(rec)).map_err(|f| f.reason)?,
            &rec.parts.main().blob,
        ),
        Some(i) => {
            let p = rec.parts.iter().nth(i).ok_or("no such part")?;
            (Cow::Borrowed(ctx.store.part_bytes(rec, p).map_err(|e| e.to_string())?), &p.blob)
        }
    };
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
    Ok(bytes)
}

impl<'a> Items<'a> {
    /// Plan the account: mbox products in seq order, chat grouped by space then time, Drive
    /// and Voice in seq order.
    fn plan(ctx: &'a Ctx<'a>, a: &PlannedAccount) -> Result<Items<'a>, OrgExportError> {
        let mut items = Items {
            ctx,
            tasks: Vec::new(),
            at: 0,
            queue: VecDeque::new(),
            counts: BTreeMap::new(),
            failures: Vec::new(),
            deleted: 0,
            names: Names::default(),
            folders: Vec::new(),
            attachments: Vec::new(),
            drive_tree: HashMap::new(),
        };
        for (p, product) in PRODUCTS.iter().enumerate() {
            if !a.corpora.contains(&product.corpus) {
                continue;
            }
            let seqs = ctx.store.seqs_of(product.corpus, &a.account)?;
            match product.layout {
                Layout::Mbox(_) => items.tasks.extend(seqs.into_iter().map(|s| Task::Mbox(p, s))),
                Layout::Drive => {
                    for &s in &seqs {
                        if let Some(rec) = ctx.store.get(s)?
                            && let Metadata::Drive(d) = &rec.meta
                        {
                            items
                                .drive_tree
                                .insert(d.drive_id.clone(), (d.parent_id.clone(), d.title.clone()));
                        }
                    }
                    // A folder's name is taken before any file's, so a folder that is also a
                    // record is written beside its contents as `name(1)`, never over them.
                    let parents: BTreeSet<String> =
                        items.drive_tree.values().filter_map(|(p, _)| p.clone()).collect();
                    for id in parents {
                        if let Some((up, title)) = items.drive_tree.get(&id) {
                            let dir = items.drive_dir(product.folder, up.as_deref(), &id);
                            let title = SafeName::new(title);
                            items.names.unique(&dir, title.as_str());
                        }
                    }
                    items.tasks.extend(seqs.into_iter().map(|s| Task::Drive(p, s)));
                }
                Layout::Voice => items.tasks.extend(seqs.into_iter().map(|s| Task::Voice(p, s))),
                Layout::Chat => {
                    let mut order = Vec::with_capacity(seqs.len());
                    for s in seqs {
                        if let Some(rec) = ctx.store.get(s)? {
                            let (space, folder, created) = match &rec.meta {
                                Metadata::Chat(c) => {
                                    (c.space_id.clone(), takeout::chat_folder(c), c.created)
                                }
                                _ => (String::new(), "Space unknown".to_owned(), 0),
                            };
                            let bytes = rec.parts.iter().map(|p| p.blob.size).sum::<u64>()
                                + CHAT_MESSAGE_OVERHEAD;
                            order.push((space, created, s, folder, bytes));
                        }
                    }
                    order.sort();
                    let mut last: Option<String> = None;
                    for (space, _, seq, folder, bytes) in order {
                        if last.as_ref() != Some(&space) {
                            if last.is_some() {
                                items.tasks.push(Task::ChatAttachments);
                            }
                            let name = items.names.unique(product.folder, &folder);
                            let name = name.strip_prefix(product.folder).unwrap_or(&name);
                            items.folders.push((format!("{}{name}/", product.folder), false, 0));
                            last = Some(space);
                        }
                        if let Some(f) = items.folders.last_mut() {
                            f.2 = f.2.saturating_add(bytes);
                        }
                        let folder = items.folders.len() - 1;
                        items.tasks.push(Task::Chat { p, seq, folder });
                    }
                    if last.is_some() {
                        items.tasks.push(Task::ChatAttachments);
                    }
                }
            }
        }
        Ok(items)
    }

    fn count(&mut self, product: &Product, result: Result<(), String>, rec: &Record) {
        let c = self.counts.entry(product.name.to_owned()).or_default();
        match result {
            Ok(()) => c.exported += 1,
            Err(reason) => {
                c.not_exported += 1;
                self.failures.push(FailedFile {
                    product: product.name.to_owned(),
                    file: failed_name(rec),
                    reason,
                });
            }
        }
    }

    /// The next piece; failures and deleted records are counted on the way.
    fn next(&mut self) -> Result<Option<Piece<'a>>, OrgExportError> {
        loop {
            if let Some(p) = self.queue.pop_front() {
                return Ok(Some(p));
            }
            let Some(task) = self.tasks.get(self.at) else { return Ok(None) };
            self.at += 1;
            let (p, seq) = match *task {
                Task::Mbox(p, s) | Task::Drive(p, s) | Task::Voice(p, s) => (p, s),
                Task::Chat { p, seq, .. } => (p, seq),
                Task::ChatAttachments => {
                    for (seq, i, entry) in std::mem::take(&mut self.attachments) {
                        // Checked when its message was written (a damaged attachment fails its
                        // message), so this second read only finds it again; the queued bytes
                        // are slices of the pack map, nothing is copied.
                        let Some(rec) = self.ctx.store.get(seq)? else { continue };
                        if let Ok(bytes) = checked(self.ctx, &rec, Some(i)) {
                            self.queue.push_back(Piece { entry, json: false, bytes, whole: 0 });
                        }
                    }
                    continue;
                }
            };
            let folder = match *task {
                Task::Chat { folder, .. } => folder,
                _ => 0,
            };
            let Some(rec) = self.ctx.store.get(seq)? else { continue };
            if self.ctx.deleted.contains(&rec.doc_id) {
                self.deleted += 1;
                continue;
            }
            let product = &PRODUCTS[p];
            let r = match product.layout {
                Layout::Mbox(entry) => self.mbox(entry, &rec),
                Layout::Chat => self.chat(folder, &rec),
                Layout::Drive => self.drive(product.folder, &rec),
                Layout::Voice => self.voice(product.folder, &rec),
            };
            self.count(product, r, &rec);
        }
    }

    fn mbox(&mut self, entry: &str, rec: &Record) -> Result<(), String> {
        let bytes = checked(self.ctx, rec, None)?;
        let mut out = Vec::with_capacity(bytes.len() + 128);
        super::products::takeout_mbox(rec, &bytes, &mut out);
        self.queue.push_back(Piece {
            entry: entry.to_owned(),
            json: false,
            bytes: out.into(),
            whole: 0,
        });
        Ok(())
    }

    fn chat(&mut self, folder: usize, rec: &Record) -> Result<(), String> {
        let Metadata::Chat(meta) = &rec.meta else {
            return Err("not a chat message".to_owned());
        };
        let text = checked(self.ctx, rec, None)?;
        let text = String::from_utf8_lossy(&text).into_owned();
        let (dir, info_written, space_bytes) =
            self.folders.get(folder).cloned().unwrap_or_default();
        let mut attached = Vec::new();
        let mut files = Vec::new();
        for (i, part) in rec.parts.iter().enumerate().skip(1) {
            if part.kind != PartKind::Attachment {
                continue;
            }
            checked(self.ctx, rec, Some(i))
                .map_err(|e| format!("attachment {:?}: {e}", part.name.as_deref().unwrap_or("")))?;
            files.push((i, part.name.clone()));
        }
        for (i, name) in files {
            let entry = self.names.unique(&dir, &takeout::attachment_name(name.as_deref()));
            let export = entry.strip_prefix(&dir).unwrap_or(&entry).to_owned();
            attached.push((name.unwrap_or_else(|| export.clone()), export));
            self.attachments.push((rec.seq, i, entry));
        }
        if !info_written {
            self.queue.push_back(Piece {
                entry: format!("{dir}group_info.json"),
                json: false,
                bytes: takeout::group_info_json(meta).into(),
                whole: space_bytes,
            });
            if let Some(f) = self.folders.get_mut(folder) {
                f.1 = true;
            }
        }
        self.queue.push_back(Piece {
            entry: format!("{dir}messages.json"),
            json: true,
            bytes: takeout::chat_message_json(meta, &text, &attached).into(),
            whole: 0,
        });
        Ok(())
    }

    /// `Takeout/Drive/<folders>/<title>` ([`Items::drive_dir`]), the original bytes as a
    /// slice of the pack map.
    fn drive(&mut self, root: &str, rec: &Record) -> Result<(), String> {
        let Metadata::Drive(meta) = &rec.meta else {
            return Err("not a Drive file".to_owned());
        };
        let bytes = checked(self.ctx, rec, None)?;
        let dir = self.drive_dir(root, meta.parent_id.as_deref(), &meta.drive_id);
        let title = if meta.title.is_empty() { &meta.drive_id } else { &meta.title };
        let entry = self.names.unique(&dir, SafeName::new(title).as_str());
        self.queue.push_back(Piece { entry, json: false, bytes, whole: 0 });
        Ok(())
    }

    /// The folder a Drive file with `parent` is written in: `root` (`Takeout/Drive/`) and the titles of
    /// its parents the account's own files name, each a [`SafeName`] (at most 32 deep; a cycle,
    /// or a parent not in the export, stops the walk).
    fn drive_dir(&self, root: &str, parent: Option<&str>, own: &str) -> String {
        let mut dirs = Vec::new();
        let mut seen = BTreeSet::from([own]);
        let mut parent = parent;
        while let Some(id) = parent {
            if dirs.len() >= 32 || !seen.insert(id) {
                break;
            }
            let Some((up, title)) = self.drive_tree.get(id) else { break };
            dirs.push(SafeName::new(title).to_string());
            parent = up.as_deref();
        }
        dirs.reverse();
        let mut dir = root.to_owned();
        for d in dirs {
            dir.push_str(&d);
            dir.push('/');
        }
        dir
    }

    fn voice(&mut self, dir: &str, rec: &Record) -> Result<(), String> {
        let Metadata::Voice(meta) = &rec.meta else {
            return Err("not a Voice item".to_owned());
        };
        let mut audio = None;
        let mut transcript = None;
        for (i, part) in rec.parts.iter().enumerate() {
            match part.kind {
                PartKind::Audio if audio.is_none() => {
                    let main = if i == 0 { None } else { Some(i) };
                    audio = Some(checked(self.ctx, rec, main)?);
                }
                PartKind::Transcript if transcript.is_none() => {
                    let main = if i == 0 { None } else { Some(i) };
                    let t = checked(self.ctx, rec, main)?;
                    transcript = Some(String::from_utf8_lossy(&t).into_owned());
                }
                _ => {}
            }
        }
        if audio.is_none() {
            // The main part is still read and checked: a damaged record is a failed file.
            checked(self.ctx, rec, None)?;
        }
        let page = self.names.unique(dir, &format!("{}.html", takeout::voice_stem(meta)));
        let stem = page.strip_suffix(".html").unwrap_or(&page).to_owned();
        let mp3 = audio.is_some().then(|| format!("{stem}.mp3"));
        let src = mp3.as_deref().map(|m| m.strip_prefix(dir).unwrap_or(m));
        let html = takeout::voice_html(meta, src, transcript.as_deref());
        self.queue.push_back(Piece {
            entry: page,
            json: false,
            bytes: html.into_bytes().into(),
            whole: 0,
        });
        if let (Some(bytes), Some(entry)) = (audio, mp3) {
            self.names.unique(dir, entry.strip_prefix(dir).unwrap_or(&entry));
            self.queue.push_back(Piece { entry, json: false, bytes, whole: 0 });
        }
        Ok(())
    }
}

/// The name a failed record is listed under: a Drive file's title (what its owner knows it by;
/// hostile text, escaped by the report), else the message's Vault `FileName`.
fn failed_name(rec: &Record) -> String {
    match &rec.meta {
        Metadata::Drive(d) if !d.title.is_empty() => d.title.clone(),
        _ => crate::export::naming::message_file_name(rec),
    }
}

type ZipFile = ZipWriter<PartialFile>;

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
    let mut items = Items::plan(ctx, a)?;
    let mut archives = Vec::new();
    // Zips each entry name was opened in so far: the next copy's number.
    let mut opened: HashMap<String, u32> = HashMap::new();
    let split = ctx.split_bytes;
    // Does `n` start the next zip, `content` bytes into this one? When it does not fit, or
    // when it opens a group that fits a zip but not the rest of this one.
    let next_zip = |content: u64, n: &Piece<'_>| {
        content > 0
            && (content + n.bytes.len() as u64 > split
                || (n.whole > 0 && n.whole <= split && content + n.whole > split))
    };
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
        let w = PartialFile::create(&dir, &name).map_err(io_at(&path))?;
        let tmp = w.tmp_path().to_path_buf();
        let mut zip: ZipFile =
            ZipWriter::with_pool(w, ZipOptions::default(), ctx.pool).map_err(|e| zerr(&tmp, e))?;
        let mut content = 0u64;
        let mut cur = Some(first);
        // One entry per name in this zip (pieces of one entry come together); stop when the
        // zip is full or nothing is left.
        while let Some(piece) = cur.take() {
            let k = opened.entry(piece.entry.clone()).or_insert(0);
            *k += 1;
            let stored = continued_name(&piece.entry, *k);
            let mut entry = zip.start_entry(&stored, opts).map_err(|e| zerr(&tmp, e))?;
            let json = piece.json;
            if json {
                entry.write_all(takeout::JSON_HEAD).map_err(io_at(&tmp))?;
            }
            let name = piece.entry;
            let mut bytes = piece.bytes;
            loop {
                entry.write_all(&bytes).map_err(io_at(&tmp))?;
                content += bytes.len() as u64;
                match items.next()? {
                    None => break,
                    Some(n) if next_zip(content, &n) => {
                        next = Some(n);
                        break;
                    }
                    Some(n) if n.entry != name => {
                        cur = Some(n);
                        break;
                    }
                    Some(n) => {
                        if json {
                            entry.write_all(takeout::JSON_SEP).map_err(io_at(&tmp))?;
                        }
                        bytes = n.bytes;
                    }
                }
            }
            if json {
                entry.write_all(takeout::JSON_TAIL).map_err(io_at(&tmp))?;
            }
            entry.finish().map_err(|e| zerr(&tmp, e))?;
        }
        let w = zip.finish().map_err(|e| zerr(&tmp, e))?;
        let (md5, size) = w.finish().map_err(io_at(&path))?;
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
