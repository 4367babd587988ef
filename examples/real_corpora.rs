//! Turns the real public data fetched by `../shared/corpus/fetch-real-corpora.sh` into our Chat,
//! Drive and Voice JSON Lines inputs for several custodians (`docs/formats/real-corpora.md` is
//! the mapping, and says which fields are generated because no real source has them).
//!
//! ```text
//! cargo run --release --example real_corpora -- RAW_DIR OUT_DIR [--custodians N] [--conversations N]
//! ```
//!
//! `RAW_DIR` is the script's `raw/` folder; `OUT_DIR` must be absent or empty. Writes
//! `OUT_DIR/{chat,drive,voice}/<custodian>.jsonl` with the content files beside them and
//! `OUT_DIR/sources.json` listing every file (corpus, account, root, items). The same input gives
//! byte-identical output: everything is visited in a fixed order and every generated value comes
//! from an MD5 of a stable key, never from a clock or a random source.
//!
//! `dataset.json` (39 MB) is read as a stream over its top-level map, one conversation at a
//! time; `--conversations N` keeps the first N in the file's order (the acceptance test's subset).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use ediscovery::Limits;
use ediscovery::digest::Md5;
use ediscovery::model::time::iso_utc;
use serde::Deserialize;
use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What stops a conversion, with the file it concerns.
#[derive(Debug, thiserror::Error)]
enum ConvertError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("{path}: {why}")]
    Bad { path: PathBuf, why: String },
    #[error("{0}")]
    Usage(String),
}

type Result<T> = std::result::Result<T, ConvertError>;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ConvertError + '_ {
    move |source| ConvertError::Io { path: path.to_path_buf(), source }
}

/// The documented placement rule: the first 8 bytes of MD5(`key`) as a big-endian number,
/// modulo `n`. `tests/independent/real_corpora_reader.py` applies the same rule on its own.
fn bucket(key: &str, n: usize) -> usize {
    let h = Md5::of(key.as_bytes()).0;
    let mut x = [0u8; 8];
    x.copy_from_slice(&h[..8]);
    (u64::from_be_bytes(x) % n as u64) as usize
}

/// Byte `i` of MD5(`key`): the other generated choices (conversation type, sharing, numbers).
fn hash_byte(key: &str, i: usize) -> u8 {
    Md5::of(key.as_bytes()).0[i]
}

/// The custodians: `custodian-1@real.example` … `custodian-N@real.example`.
fn custodians(n: usize) -> Vec<String> {
    (1..=n).map(|k| format!("custodian-{k}@real.example")).collect()
}

fn iso(secs: i64) -> String {
    iso_utc(secs).unwrap_or_default()
}

/// One JSON Lines file being written, with how many items it holds.
struct Jsonl {
    path: PathBuf,
    out: BufWriter<File>,
    items: usize,
}

impl Jsonl {
    fn create(path: PathBuf, format: &str) -> Result<Jsonl> {
        let f = File::create(&path).map_err(io_err(&path))?;
        let mut j = Jsonl { path, out: BufWriter::new(f), items: 0 };
        j.line(&json!({"format": format, "version": 1}))?;
        j.items = 0;
        Ok(j)
    }

    fn line(&mut self, v: &Value) -> Result<()> {
        let s = serde_json::to_string(v)
            .map_err(|source| ConvertError::Json { path: self.path.clone(), source })?;
        self.out.write_all(s.as_bytes()).map_err(io_err(&self.path))?;
        self.out.write_all(b"\n").map_err(io_err(&self.path))?;
        self.items += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<usize> {
        self.out.flush().map_err(io_err(&self.path))?;
        Ok(self.items)
    }
}

/// One file per custodian of a corpus: `OUT/<corpus>/<custodian>.jsonl`.
struct PerCustodian {
    corpus: &'static str,
    files: Vec<Jsonl>,
}

impl PerCustodian {
    fn create(out: &Path, corpus: &'static str, format: &str, people: &[String]) -> Result<Self> {
        let dir = out.join(corpus);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let files = people
            .iter()
            .map(|p| Jsonl::create(dir.join(format!("{p}.jsonl")), format))
            .collect::<Result<Vec<_>>>()?;
        Ok(PerCustodian { corpus, files })
    }

    /// Closes the files and lists them for `sources.json`.
    fn finish(self, people: &[String], listed: &mut Vec<Value>) -> Result<usize> {
        let mut total = 0;
        for (j, account) in self.files.into_iter().zip(people) {
            let items = j.finish()?;
            total += items;
            listed.push(json!({
                "corpus": self.corpus,
                "account": account,
                "file": format!("{}/{account}.jsonl", self.corpus),
                "root": self.corpus,
                "items": items,
            }));
        }
        Ok(total)
    }
}

#[derive(Deserialize)]
struct ChitchatMessage {
    text: String,
    timestamp: String,
    sender: String,
}

#[derive(Deserialize)]
struct Conversation {
    /// Turns: runs of messages by one sender, in order.
    messages: Vec<Vec<ChitchatMessage>>,
    prompt: Option<String>,
}

/// A sender's address: `u-<first 8 hex digits of the UUID>@real.example` (unique in the data
/// set: checked as senders appear).
fn sender_address(uuid: &str) -> String {
    let short: String = uuid.chars().take(8).collect();
    format!("u-{short}@real.example")
}

/// Writes chitchat conversations into the custodians' chat files as they are read.
struct ChatWriter<'a> {
    files: PerCustodian,
    people: &'a [String],
    limit: Option<usize>,
    seen: usize,
    /// Short address → full UUID, to refuse two senders sharing one address.
    senders: BTreeMap<String, String>,
    path: PathBuf,
    failure: Option<ConvertError>,
}

impl ChatWriter<'_> {
    fn conversation(&mut self, id: &str, c: Conversation) -> Result<()> {
        let custodian = bucket(id, self.people.len());
        let (kind, space_id) = match hash_byte(id, 8) % 3 {
            0 => ("SPACE", format!("spaces/{}", id.replace('-', ""))),
            1 => ("GROUP_CHAT", format!("spaces/{}", id.replace('-', ""))),
            _ => ("DIRECT_MESSAGE", format!("dm/{}", id.replace('-', ""))),
        };
        let mut participants: Vec<String> = Vec::new();
        for m in c.messages.iter().flatten() {
            let a = sender_address(&m.sender);
            match self.senders.get(&a) {
                Some(full) if *full != m.sender => {
                    return Err(ConvertError::Bad {
                        path: self.path.clone(),
                        why: format!("senders {full} and {} share the address {a}", m.sender),
                    });
                }
                Some(_) => {}
                None => {
                    self.senders.insert(a.clone(), m.sender.clone());
                }
            }
            if !participants.contains(&a) {
                participants.push(a);
            }
        }
        let holder = &self.people[custodian];
        if !participants.contains(holder) {
            participants.push(holder.clone());
        }
        let mut space = json!({"id": space_id, "type": kind});
        if kind == "SPACE" {
            let name = c
                .prompt
                .clone()
                .unwrap_or_else(|| format!("Chitchat {}", id.chars().take(8).collect::<String>()));
            space["name"] = json!(name);
        }
        let mut thread = None;
        for (k, m) in c.messages.iter().flatten().enumerate() {
            let message_id = format!("{id}-{}", k + 1);
            let mut line = json!({
                "space": space,
                "message_id": message_id,
                "sender": sender_address(&m.sender),
                "created": m.timestamp,
                "text": m.text,
                "participants": participants,
            });
            if kind == "SPACE" {
                line["thread_id"] = json!(thread.get_or_insert_with(|| message_id.clone()));
            }
            self.files.files[custodian].line(&line)?;
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for &mut ChatWriter<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of conversation id to conversation")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(id) = map.next_key::<String>()? {
            if self.limit.is_some_and(|n| self.seen >= n) {
                // Enough: stop reading (the caller knows the error that follows is this stop).
                return Ok(());
            }
            let c: Conversation = map.next_value()?;
            self.seen += 1;
            if let Err(e) = self.conversation(&id, c) {
                self.failure = Some(e);
                return Ok(());
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for &mut ChatWriter<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// Chitchat → chat JSONL: returns (conversations, messages).
fn chat(
    raw: &Path,
    out: &Path,
    people: &[String],
    limit: Option<usize>,
    listed: &mut Vec<Value>,
) -> Result<(usize, usize)> {
    let path = raw.join("chitchat/dataset.json");
    let f = File::open(&path).map_err(io_err(&path))?;
    let mut w = ChatWriter {
        files: PerCustodian::create(out, "chat", "ediscovery.chat", people)?,
        people,
        limit,
        seen: 0,
        senders: BTreeMap::new(),
        path: path.clone(),
        failure: None,
    };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, f));
    let read = (&mut w).deserialize(&mut de);
    if let Some(e) = w.failure.take() {
        return Err(e);
    }
    let stopped_early = limit.is_some_and(|n| w.seen >= n);
    match read {
        Ok(()) => de.end().map_err(|source| ConvertError::Json { path: path.clone(), source })?,
        Err(_) if stopped_early => {}
        Err(source) => return Err(ConvertError::Json { path, source }),
    }
    let conversations = w.seen;
    let messages = w.files.finish(people, listed)?;
    Ok((conversations, messages))
}

/// `{"year", "name", "party", "text"}` beside each `.txt` of the SOTU data set.
#[derive(Deserialize)]
struct Speech {
    year: i32,
    name: String,
    party: String,
}

fn sorted_files(dir: &Path, ext: &[&str]) -> Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).map_err(io_err(dir))? {
        let p = e.map_err(io_err(dir))?.path();
        let x = p.extension().map(|x| x.to_string_lossy().to_lowercase()).unwrap_or_default();
        if p.is_file() && ext.contains(&x.as_str()) {
            v.push(p);
        }
    }
    v.sort();
    Ok(v)
}

fn name_of(p: &Path) -> String {
    p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
}

fn stem_of(p: &Path) -> String {
    p.file_stem().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(d) = to.parent() {
        fs::create_dir_all(d).map_err(io_err(d))?;
    }
    fs::copy(from, to).map_err(io_err(from))?;
    Ok(())
}

fn mtime(p: &Path) -> Result<i64> {
    let m = fs::metadata(p).map_err(io_err(p))?.modified().map_err(io_err(p))?;
    Ok(match m.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    })
}

/// Generated sharing of one Drive file (`key` its stable key, `owner` the owner's index):
/// the next custodian edits; byte 9 of the hash decides a viewer, byte 10 indirect access.
fn sharing(line: &mut Value, key: &str, owner: usize, people: &[String]) {
    let n = people.len();
    if n > 1 {
        line["collaborators"] = json!([people[(owner + 1) % n]]);
    }
    if n > 2 && hash_byte(key, 9).is_multiple_of(3) {
        line["viewers"] = json!([people[(owner + 2) % n]]);
    }
    let indirect = match hash_byte(key, 10) % 4 {
        0 => Some(json!({"via": "group", "target": "everyone@real.example", "role": "viewer"})),
        1 => Some(json!({"via": "domain", "target": "real.example", "role": "commenter"})),
        2 => Some(json!({"via": "public", "role": "viewer"})),
        _ => None,
    };
    if let Some(i) = indirect {
        line["indirect"] = json!([i]);
    }
}

fn doc_mime(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or_default().to_lowercase();
    match ext.as_str() {
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "xls" => "application/vnd.ms-excel",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

/// SOTU speeches and office files → Drive JSONL: returns (speeches, files).
fn drive(
    raw: &Path,
    out: &Path,
    people: &[String],
    listed: &mut Vec<Value>,
) -> Result<(usize, usize)> {
    let mut files = PerCustodian::create(out, "drive", "ediscovery.drive", people)?;
    let n = people.len();
    let sotu = raw.join("sotu");
    let speeches = sorted_files(&sotu, &["json"])?;
    for meta_path in &speeches {
        let stem = stem_of(meta_path);
        let text_path = sotu.join(format!("{stem}.txt"));
        let bytes = fs::read(meta_path).map_err(io_err(meta_path))?;
        let s: Speech = serde_json::from_slice(&bytes)
            .map_err(|source| ConvertError::Json { path: meta_path.clone(), source })?;
        let key = format!("sotu/{stem}");
        let owner = bucket(&key, n);
        let content = format!("files/sotu/{stem}.txt");
        copy(&text_path, &out.join("drive").join(&content))?;
        let date = format!("{:04}-01-01T00:00:00Z", s.year);
        let mut line = json!({
            "drive_id": format!("sotu-{stem}"),
            "title": format!("{} State of the Union ({}, {})", s.year, s.name, s.party),
            "owner": people[owner],
            "creator": people[owner],
            "mime_type": "text/plain",
            "created": date,
            "modified": date,
            "content": content,
        });
        sharing(&mut line, &key, owner, people);
        files.files[owner].line(&line)?;
    }
    let docs = sorted_files(
        &raw.join("docs"),
        &["docx", "xlsx", "pptx", "xls", "pdf", "png", "jpg", "jpeg", "txt"],
    )?;
    // Only the properties are wanted: one page and a little text keep a long PDF quick.
    let mut limits = Limits::default();
    limits.extract_pages = 1;
    limits.extract_text_bytes = 4096;
    for p in &docs {
        let name = name_of(p);
        let key = format!("docs/{name}");
        let owner = bucket(&key, n);
        let content = format!("files/docs/{name}");
        copy(p, &out.join("drive").join(&content))?;
        let bytes = fs::read(p).map_err(io_err(p))?;
        let props = ediscovery::extract::extract(&bytes, &name, None, &limits).properties;
        let fallback = mtime(p)?;
        let mut line = json!({
            "drive_id": format!("doc-{name}"),
            "title": name,
            "owner": people[owner],
            "creator": props.creator.clone().unwrap_or_else(|| people[owner].clone()),
            "mime_type": doc_mime(&name),
            "created": iso(props.created.unwrap_or(fallback)),
            "modified": iso(props.modified.or(props.created).unwrap_or(fallback)),
            "content": content,
        });
        sharing(&mut line, &key, owner, people);
        files.files[owner].line(&line)?;
    }
    files.finish(people, listed)?;
    Ok((speeches.len(), docs.len()))
}

/// `name: text` lines of `transcripts.txt` (`;` comments and blank lines skipped), by the
/// name's last path segment: the fetch flattens `digits/1.wav` to `1.wav`.
fn transcripts(path: &Path) -> Result<BTreeMap<String, Vec<String>>> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    let mut by_base: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in text.lines() {
        if l.starts_with(';') || l.trim().is_empty() {
            continue;
        }
        let Some((name, said)) = l.split_once(':') else {
            continue;
        };
        let base = name.trim().rsplit('/').next().unwrap_or_default().to_owned();
        by_base.entry(base).or_default().push(said.trim().to_owned());
    }
    Ok(by_base)
}

/// Seconds of audio in a RIFF/WAVE file (data bytes over byte rate, rounded up), if it says.
fn wav_seconds(b: &[u8]) -> Option<u64> {
    if b.len() < 12 || &b[..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return None;
    }
    let u32_at = |i: usize| b.get(i..i + 4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]));
    let (mut i, mut rate, mut data) = (12usize, None, None);
    while i + 8 <= b.len() {
        let id = &b[i..i + 4];
        let size = u32_at(i + 4)? as usize;
        if id == b"fmt " {
            rate = u32_at(i + 16);
        } else if id == b"data" {
            data = Some(size as u64);
        }
        i = i.checked_add(8 + size + (size & 1))?;
    }
    let rate = u64::from(rate.filter(|r| *r > 0)?);
    Some(data?.div_ceil(rate))
}

/// Telephone recordings → Voice JSONL voicemails: returns (items, with a transcript).
fn voice(
    raw: &Path,
    out: &Path,
    people: &[String],
    listed: &mut Vec<Value>,
) -> Result<(usize, usize)> {
    let mut files = PerCustodian::create(out, "voice", "ediscovery.voice", people)?;
    let n = people.len();
    let dir = raw.join("voice-sounds");
    let said = transcripts(&dir.join("transcripts.txt"))?;
    let wavs = sorted_files(&dir, &["wav"])?;
    let mut transcribed = 0;
    let owner_number = |k: usize| format!("+1202555{:04}", 100 + k);
    for p in &wavs {
        let stem = stem_of(p);
        let key = format!("voice/{stem}");
        let owner = bucket(&key, n);
        let audio = format!("files/{stem}.wav");
        copy(p, &out.join("voice").join(&audio))?;
        let h = Md5::of(key.as_bytes()).0;
        let area = 200 + (u16::from_be_bytes([h[8], h[9]]) % 800);
        let other = format!("+1{area}555{:04}", 100 + u16::from(h[10]) % 100);
        let bytes = fs::read(p).map_err(io_err(p))?;
        let mut line = json!({
            "item_id": format!("vm-{stem}"),
            "account": people[owner],
            "type": "VOICEMAIL",
            "started": iso(mtime(p)?),
            "owner_numbers": [owner_number(owner + 1)],
            "participant_numbers": [other],
            "audio": audio,
            "labels": ["Inbox"],
        });
        if let Some(s) = wav_seconds(&bytes) {
            line["duration_secs"] = json!(s);
        }
        // Only a name with exactly one transcript line is paired: after flattening, `1.wav`
        // could be `digits/1` or `silence/1`, and guessing would put words on the wrong audio.
        if let Some([text]) = said.get(&stem).map(Vec::as_slice) {
            let t = format!("files/{stem}.txt");
            let path = out.join("voice").join(&t);
            fs::write(&path, format!("{text}\n")).map_err(io_err(&path))?;
            line["transcript"] = json!(t);
            transcribed += 1;
        }
        files.files[owner].line(&line)?;
    }
    files.finish(people, listed)?;
    Ok((wavs.len(), transcribed))
}

struct Args {
    raw: PathBuf,
    out: PathBuf,
    custodians: usize,
    conversations: Option<usize>,
}

fn args() -> Result<Args> {
    let usage = || {
        ConvertError::Usage(
            "usage: real_corpora RAW_DIR OUT_DIR [--custodians N] [--conversations N]".to_owned(),
        )
    };
    let mut it = std::env::args_os().skip(1);
    let mut pos = Vec::new();
    let (mut custodians, mut conversations) = (5usize, None);
    while let Some(a) = it.next() {
        let number = |v: Option<std::ffi::OsString>| -> Result<usize> {
            v.and_then(|v| v.to_str().and_then(|s| s.parse().ok())).ok_or_else(usage)
        };
        match a.to_str() {
            Some("--custodians") => custodians = number(it.next())?,
            Some("--conversations") => conversations = Some(number(it.next())?),
            _ => pos.push(PathBuf::from(a)),
        }
    }
    let [raw, out] = <[PathBuf; 2]>::try_from(pos).map_err(|_| usage())?;
    if custodians == 0 {
        return Err(usage());
    }
    Ok(Args { raw, out, custodians, conversations })
}

fn run() -> Result<()> {
    let a = args()?;
    if a.out.exists() && fs::read_dir(&a.out).map_err(io_err(&a.out))?.next().is_some() {
        return Err(ConvertError::Bad { path: a.out, why: "not empty".to_owned() });
    }
    fs::create_dir_all(&a.out).map_err(io_err(&a.out))?;
    let people = custodians(a.custodians);
    let mut listed = Vec::new();
    let (conversations, messages) = chat(&a.raw, &a.out, &people, a.conversations, &mut listed)?;
    let (speeches, docs) = drive(&a.raw, &a.out, &people, &mut listed)?;
    let (voicemails, transcribed) = voice(&a.raw, &a.out, &people, &mut listed)?;
    let manifest = json!({"format": "ediscovery.real-corpora", "version": 1, "sources": listed});
    let path = a.out.join("sources.json");
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|source| ConvertError::Json { path: path.clone(), source })?;
    fs::write(&path, text + "\n").map_err(io_err(&path))?;
    let accounts: BTreeSet<&str> = people.iter().map(String::as_str).collect();
    println!("custodians {}", accounts.len());
    println!("chat   {conversations} conversations, {messages} messages");
    println!("drive  {speeches} speeches, {docs} office files and images");
    println!("voice  {voicemails} voicemails, {transcribed} with a transcript");
    println!("sources {}", path.display());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("real_corpora: {e}");
            ExitCode::FAILURE
        }
    }
}
