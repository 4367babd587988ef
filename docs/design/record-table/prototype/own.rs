//! (B) Our own record table: append-only data file + mmapped fixed-width row index + per-account
//! seq runs + tombstones + a small summaries file, committed by an atomically renamed manifest that
//! holds the committed lengths (bytes past them are crash garbage, ignored by readers and cut off
//! by the next writer).
//!
//! ```text
//! DIR/MANIFEST                 JSON: generation, epoch, committed lengths, summaries file name
//! DIR/data-EEEE.bin            [u32 len][record bytes]...             (append-only)
//! DIR/index-EEEE.bin           16-byte rows, row = seq: offset u64, len u32, acct u32 (bit 31 = dead)
//! DIR/accounts-EEEE.bin        runs: [prev run offset u64][n u64][n x seq u64], one per account per commit
//! DIR/tombstones-EEEE.bin      u64 seqs removed since the epoch began
//! DIR/summaries-GGGGGGGG.bin   per account: name, records, bytes, last run, org units (rewritten per commit)
//! ```
//! EEEE (epoch) changes only at compaction; seqs never change.
use crate::api::{Summary, Table};
use crate::codec;
use crate::model::Record;
use memmap2::{Mmap, MmapOptions};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const ROW: usize = 16;
const DEAD: u32 = 1 << 31;
const NONE: u64 = u64::MAX;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    generation: u64,
    epoch: u32,
    data_len: u64,
    rows: u64,
    accounts_len: u64,
    tombstones_len: u64,
    live: u64,
    summaries: String,
}

#[derive(Clone, Debug, Default)]
struct Acct {
    name: String,
    sum: Summary,
    last_run: u64,
}

fn bad(m: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, m.to_string())
}

fn map(path: &Path, len: u64) -> io::Result<Option<Mmap>> {
    if len == 0 {
        return Ok(None);
    }
    let f = File::open(path)?;
    if f.metadata()?.len() < len {
        return Err(bad("file shorter than its committed length"));
    }
    // SAFETY: only ever appended to below `len` is never rewritten (append-only; compaction writes new files).
    Ok(Some(unsafe { MmapOptions::new().len(len as usize).map(&f)? }))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

pub struct OwnTable {
    dir: PathBuf,
    man: Manifest,
    accts: Vec<Acct>,
    by_name: HashMap<String, u32>,
    tombs: Vec<u64>, // sorted committed tombstones of this epoch
    index: Option<Mmap>,
    data: Option<Mmap>,
    runs: Option<Mmap>,
    // writer state
    writer: Option<Writer>,
}

struct Writer {
    data: BufWriter<File>,
    index: BufWriter<File>,
    accounts: BufWriter<File>,
    tombstones: BufWriter<File>,
    data_len: u64,
    rows: u64,
    accounts_len: u64,
    tombstones_len: u64,
    pending: Vec<(u32, u64)>, // (acct, seq) in order
    pending_tombs: Vec<u64>,
    pending_set: std::collections::HashSet<u64>,
    live: u64,
    buf: Vec<u8>,
}

impl OwnTable {
    fn p(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn epoch_file(&self, kind: &str) -> PathBuf {
        self.dir.join(format!("{kind}-{:04}.bin", self.man.epoch))
    }

    /// Open for reading: reads the manifest, the summaries and the tombstones; maps the rest.
    pub fn open(dir: &Path) -> io::Result<OwnTable> {
        let man: Manifest = serde_json::from_slice(&fs::read(dir.join("MANIFEST"))?).map_err(|e| bad(&e.to_string()))?;
        let mut t = OwnTable { dir: dir.to_path_buf(), man, accts: vec![], by_name: HashMap::new(), tombs: vec![], index: None, data: None, runs: None, writer: None };
        t.load()?;
        Ok(t)
    }

    fn load(&mut self) -> io::Result<()> {
        self.accts = read_summaries(&self.p(&self.man.summaries))?;
        self.by_name = self.accts.iter().enumerate().map(|(i, a)| (a.name.clone(), i as u32)).collect();
        let mut tb = vec![0u8; self.man.tombstones_len as usize];
        File::open(self.epoch_file("tombstones"))?.read_exact(&mut tb)?;
        self.tombs = tb.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
        self.tombs.sort_unstable();
        self.remap()
    }

    fn remap(&mut self) -> io::Result<()> {
        self.index = map(&self.epoch_file("index"), self.man.rows * ROW as u64)?;
        self.data = map(&self.epoch_file("data"), self.man.data_len)?;
        self.runs = map(&self.epoch_file("accounts"), self.man.accounts_len)?;
        if let Some(d) = &self.data {
            // OWN_ADVICE=random: no readahead (pure random by_seq); default: kernel readahead,
            // which helps "every record of account X" (records of an account sit in runs).
            if std::env::var("OWN_ADVICE").as_deref() == Ok("random") {
                let _ = d.advise(memmap2::Advice::Random);
            }
        }
        Ok(())
    }

    /// Create (if absent) and open for writing: cuts every file to its committed length and
    /// removes files the manifest does not name (crash garbage).
    pub fn open_writer(dir: &Path) -> io::Result<OwnTable> {
        fs::create_dir_all(dir)?;
        if !dir.join("MANIFEST").exists() {
            let man = Manifest { format: 1, summaries: "summaries-00000000.bin".into(), ..Default::default() };
            for k in ["data", "index", "accounts", "tombstones"] {
                File::create(dir.join(format!("{k}-0000.bin")))?.sync_all()?;
            }
            write_summaries(&dir.join(&man.summaries), &[])?;
            write_manifest(dir, &man)?;
        }
        let mut t = OwnTable::open(dir)?;
        let keep: Vec<String> = ["data", "index", "accounts", "tombstones"].iter().map(|k| format!("{k}-{:04}.bin", t.man.epoch)).chain([t.man.summaries.clone(), "MANIFEST".into()]).collect();
        for e in fs::read_dir(dir)? {
            let n = e?.file_name().to_string_lossy().into_owned();
            if !keep.contains(&n) {
                fs::remove_file(dir.join(&n))?;
            }
        }
        let open = |k: &str, len: u64| -> io::Result<BufWriter<File>> {
            let f = OpenOptions::new().read(true).write(true).open(t.epoch_file(k))?;
            f.set_len(len)?; // trailing garbage from a crash goes
            let mut f = f;
            io::Seek::seek(&mut f, io::SeekFrom::Start(len))?;
            Ok(BufWriter::with_capacity(1 << 20, f))
        };
        let m = t.man.clone();
        t.writer = Some(Writer {
            data: open("data", m.data_len)?,
            index: open("index", m.rows * ROW as u64)?,
            accounts: open("accounts", m.accounts_len)?,
            tombstones: open("tombstones", m.tombstones_len)?,
            data_len: m.data_len,
            rows: m.rows,
            accounts_len: m.accounts_len,
            tombstones_len: m.tombstones_len,
            pending: vec![],
            pending_tombs: vec![],
            pending_set: Default::default(),
            live: m.live,
            buf: Vec::with_capacity(4096),
        });
        Ok(t)
    }

    fn row(&self, seq: u64) -> Option<(u64, u32, u32)> {
        let ix = self.index.as_ref()?;
        let o = (seq as usize).checked_mul(ROW)?;
        let r = ix.get(o..o + ROW)?;
        Some((u64::from_le_bytes(r[0..8].try_into().unwrap()), u32::from_le_bytes(r[8..12].try_into().unwrap()), u32::from_le_bytes(r[12..16].try_into().unwrap())))
    }

    fn is_removed(&self, seq: u64, acct: u32) -> bool {
        acct & DEAD != 0 || self.tombs.binary_search(&seq).is_ok()
    }

    fn run_list(&self, id: u32) -> io::Result<Vec<(usize, usize)>> {
        let mut out = vec![];
        let mut at = self.accts[id as usize].last_run;
        let runs = match &self.runs {
            Some(r) => r,
            None => return Ok(out),
        };
        while at != NONE {
            let h = runs.get(at as usize..at as usize + 16).ok_or_else(|| bad("run header"))?;
            let prev = u64::from_le_bytes(h[0..8].try_into().unwrap());
            let n = u64::from_le_bytes(h[8..16].try_into().unwrap()) as usize;
            out.push((at as usize + 16, n));
            if prev != NONE && prev >= at {
                return Err(bad("run chain not backwards"));
            }
            at = prev;
        }
        out.reverse();
        Ok(out)
    }

    pub fn disk_files(&self) -> Vec<PathBuf> {
        fs::read_dir(&self.dir).unwrap().map(|e| e.unwrap().path()).collect()
    }
}

fn write_manifest(dir: &Path, m: &Manifest) -> io::Result<()> {
    let tmp = dir.join("MANIFEST.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(&serde_json::to_vec(m).unwrap())?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join("MANIFEST"))?;
    sync_dir(dir)
}

fn write_summaries(path: &Path, accts: &[Acct]) -> io::Result<()> {
    let mut b = Vec::with_capacity(accts.len() * 128);
    let mut w = codec::W(&mut b);
    w.u(accts.len() as u64);
    for a in accts {
        w.s(&a.name);
        w.u(a.sum.records);
        w.u(a.sum.bytes);
        w.0.extend_from_slice(&a.last_run.to_le_bytes());
        w.u(a.sum.org_units.len() as u64);
        for (ou, n) in &a.sum.org_units {
            w.s(ou);
            w.u(*n);
        }
    }
    let mut f = File::create(path)?;
    f.write_all(&b)?;
    f.sync_all()
}

fn read_summaries(path: &Path) -> io::Result<Vec<Acct>> {
    let b = fs::read(path)?;
    let e = |_| bad("summaries");
    let mut r = codec::R { b: &b, p: 0 };
    let n = r.u().map_err(e)? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let name = r.s().map_err(e)?;
        let records = r.u().map_err(e)?;
        let bytes = r.u().map_err(e)?;
        let last_run = u64::from_le_bytes(r.bytes(8).map_err(e)?.try_into().unwrap());
        let k = r.u().map_err(e)?;
        let mut org_units = std::collections::BTreeMap::new();
        for _ in 0..k {
            let ou = r.s().map_err(e)?;
            org_units.insert(ou, r.u().map_err(e)?);
        }
        out.push(Acct { name, sum: Summary { records, bytes, org_units }, last_run });
    }
    Ok(out)
}

impl Table for OwnTable {
    fn append(&mut self, recs: &[Record]) -> io::Result<()> {
        let w = self.writer.as_mut().ok_or_else(|| bad("read-only"))?;
        for r in recs {
            let id = match self.by_name.get(&r.account.0) {
                Some(&i) => i,
                None => {
                    self.accts.push(Acct { name: r.account.0.clone(), sum: Summary::default(), last_run: NONE });
                    let i = (self.accts.len() - 1) as u32;
                    self.by_name.insert(r.account.0.clone(), i);
                    i
                }
            };
            let seq = w.rows + w.pending.len() as u64;
            w.buf.clear();
            codec::encode(r, &mut w.buf);
            let off = w.data_len;
            w.data.write_all(&(w.buf.len() as u32).to_le_bytes())?;
            w.data.write_all(&w.buf)?;
            w.data_len += 4 + w.buf.len() as u64;
            let mut row = [0u8; ROW];
            row[0..8].copy_from_slice(&(off + 4).to_le_bytes());
            row[8..12].copy_from_slice(&(w.buf.len() as u32).to_le_bytes());
            row[12..16].copy_from_slice(&id.to_le_bytes());
            w.index.write_all(&row)?;
            w.pending.push((id, seq));
            self.accts[id as usize].sum.add(r);
        }
        Ok(())
    }

    fn commit(&mut self) -> io::Result<()> {
        let w = self.writer.as_mut().ok_or_else(|| bad("read-only"))?;
        // account runs: one per account touched, seqs in order
        let mut groups: HashMap<u32, Vec<u64>> = HashMap::new();
        let mut order = vec![];
        for &(a, s) in &w.pending {
            groups.entry(a).or_insert_with(|| {
                order.push(a);
                vec![]
            }).push(s);
        }
        for a in order {
            let seqs = &groups[&a];
            let at = w.accounts_len;
            let acct = &mut self.accts[a as usize];
            w.accounts.write_all(&acct.last_run.to_le_bytes())?;
            w.accounts.write_all(&(seqs.len() as u64).to_le_bytes())?;
            for s in seqs {
                w.accounts.write_all(&s.to_le_bytes())?;
            }
            w.accounts_len += 16 + 8 * seqs.len() as u64;
            acct.last_run = at;
        }
        for s in &w.pending_tombs {
            w.tombstones.write_all(&s.to_le_bytes())?;
        }
        w.tombstones_len += 8 * w.pending_tombs.len() as u64;
        for f in [&mut w.data, &mut w.index, &mut w.accounts, &mut w.tombstones] {
            f.flush()?;
            f.get_ref().sync_data()?;
        }
        w.rows += w.pending.len() as u64;
        w.live = w.live + w.pending.len() as u64 - w.pending_tombs.len() as u64;
        let mut man = self.man.clone();
        man.generation += 1;
        man.data_len = w.data_len;
        man.rows = w.rows;
        man.accounts_len = w.accounts_len;
        man.tombstones_len = w.tombstones_len;
        man.live = w.live;
        man.summaries = format!("summaries-{:08}.bin", man.generation);
        write_summaries(&self.dir.join(&man.summaries), &self.accts)?;
        // (in the crate: the index commits here, under man.generation)
        write_manifest(&self.dir, &man)?;
        let old = std::mem::replace(&mut self.man, man);
        let _ = fs::remove_file(self.dir.join(old.summaries));
        self.tombs.extend(w.pending_tombs.drain(..));
        w.pending_set.clear();
        self.tombs.sort_unstable();
        w.pending.clear();
        self.remap()
    }

    fn by_seq(&self, seq: u64) -> io::Result<Option<Record>> {
        let Some((off, len, acct)) = self.row(seq) else { return Ok(None) };
        if self.is_removed(seq, acct) {
            return Ok(None);
        }
        let d = self.data.as_ref().ok_or_else(|| bad("no data"))?;
        let b = d.get(off as usize..off as usize + len as usize).ok_or_else(|| bad("row past data"))?;
        codec::decode(b, seq).map(Some).map_err(|e| bad(e.0))
    }

    fn count(&self) -> u64 {
        self.man.live
    }

    fn next_seq(&self) -> u64 {
        match &self.writer {
            Some(w) => w.rows + w.pending.len() as u64,
            None => self.man.rows,
        }
    }

    fn account_summary(&self, account: &str) -> Option<Summary> {
        self.by_name.get(account).map(|&i| self.accts[i as usize].sum.clone())
    }

    fn seqs_of_account(&self, account: &str) -> io::Result<Vec<u64>> {
        let mut v = vec![];
        self.for_each_seq_of_account(account, &mut |s| v.push(s))?;
        Ok(v)
    }

    fn for_each_seq_of_account(&self, account: &str, f: &mut dyn FnMut(u64)) -> io::Result<u64> {
        let Some(&id) = self.by_name.get(account) else { return Ok(0) };
        let runs = self.run_list(id)?;
        let m = match &self.runs {
            Some(m) => m,
            None => return Ok(0),
        };
        let mut n = 0;
        for (at, k) in runs {
            let b = m.get(at..at + 8 * k).ok_or_else(|| bad("run"))?;
            for c in b.chunks_exact(8) {
                let s = u64::from_le_bytes(c.try_into().unwrap());
                if self.tombs.is_empty() || self.tombs.binary_search(&s).is_err() {
                    f(s);
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    fn remove(&mut self, seq: u64) -> io::Result<bool> {
        let Some(r) = self.by_seq(seq)? else { return Ok(false) };
        let w = self.writer.as_mut().ok_or_else(|| bad("read-only"))?;
        if !w.pending_set.insert(seq) {
            return Ok(false);
        }
        w.pending_tombs.push(seq);
        let id = self.by_name[&r.account.0];
        self.accts[id as usize].sum.sub(&r);
        Ok(true)
    }

    /// New epoch: copies live records into new files, marks removed rows dead, one run per
    /// account; the manifest rename switches over; old epoch files are deleted after.
    fn compact(&mut self) -> io::Result<()> {
        {
            let w = self.writer.as_ref().ok_or_else(|| bad("read-only"))?;
            if !w.pending.is_empty() || !w.pending_tombs.is_empty() {
                return Err(bad("commit first"));
            }
        }
        let ne = self.man.epoch + 1;
        let nf = |k: &str| self.dir.join(format!("{k}-{ne:04}.bin"));
        let mut data = BufWriter::with_capacity(1 << 20, File::create(nf("data"))?);
        let mut index = BufWriter::with_capacity(1 << 20, File::create(nf("index"))?);
        let mut data_len = 0u64;
        let mut live = 0u64;
        let d = self.data.as_deref().unwrap_or(&[]);
        let mut tombs = self.tombs.iter().peekable();
        for seq in 0..self.man.rows {
            let (off, len, acct) = self.row(seq).ok_or_else(|| bad("row"))?;
            let mut dead = acct & DEAD != 0;
            while tombs.peek().is_some_and(|&&t| t < seq) {
                tombs.next();
            }
            if tombs.peek() == Some(&&seq) {
                dead = true;
            }
            let mut row = [0u8; ROW];
            if dead {
                row[12..16].copy_from_slice(&((acct & !DEAD) | DEAD).to_le_bytes());
            } else {
                let b = &d[off as usize - 4..off as usize + len as usize];
                data.write_all(b)?;
                row[0..8].copy_from_slice(&(data_len + 4).to_le_bytes());
                row[8..12].copy_from_slice(&len.to_le_bytes());
                row[12..16].copy_from_slice(&acct.to_le_bytes());
                data_len += b.len() as u64;
                live += 1;
            }
            index.write_all(&row)?;
        }
        let mut accounts = BufWriter::with_capacity(1 << 20, File::create(nf("accounts"))?);
        let mut accounts_len = 0u64;
        let mut accts = self.accts.clone();
        for id in 0..accts.len() {
            let seqs = self.seqs_of_account(&accts[id].name)?;
            if seqs.is_empty() {
                accts[id].last_run = NONE;
                continue;
            }
            accounts.write_all(&NONE.to_le_bytes())?;
            accounts.write_all(&(seqs.len() as u64).to_le_bytes())?;
            for s in &seqs {
                accounts.write_all(&s.to_le_bytes())?;
            }
            accts[id].last_run = accounts_len;
            accounts_len += 16 + 8 * seqs.len() as u64;
        }
        let tomb = File::create(nf("tombstones"))?;
        for f in [&mut data, &mut index, &mut accounts] {
            f.flush()?;
            f.get_ref().sync_all()?;
        }
        tomb.sync_all()?;
        drop((data, index, accounts));
        if live != self.man.live {
            return Err(bad("live count mismatch at compaction"));
        }
        let mut man = self.man.clone();
        man.generation += 1;
        man.epoch = ne;
        man.data_len = data_len;
        man.accounts_len = accounts_len;
        man.tombstones_len = 0;
        man.summaries = format!("summaries-{:08}.bin", man.generation);
        write_summaries(&self.dir.join(&man.summaries), &accts)?;
        write_manifest(&self.dir, &man)?;
        // switch over; reopen as writer (drops old maps, deletes the old epoch's files)
        self.writer = None;
        self.index = None;
        self.data = None;
        self.runs = None;
        *self = OwnTable::open_writer(&self.dir.clone())?;
        Ok(())
    }
}
