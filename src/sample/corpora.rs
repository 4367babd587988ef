//! The sample organisation's Chat, Drive and Voice: JSON Lines sources in our ingest formats
//! (`docs/formats/{chat,drive,voice}-jsonl.md`) with their content files, one source per
//! custodian and corpus, each knowing how many items it holds and how many mention Project Falcon
//! so the examples and tests can check search counts against what was planted.
//!
//! Chat: a named space with in-line threads and replies, a group chat and a direct message; an
//! edit, a deletion, attachments and an HTML message. A custodian's source holds the messages of
//! every conversation they take part in, as Vault holds a copy per participant. Drive: each
//! custodian's files in six kinds the extractor reads (a Google Doc stored as DOCX, a real DOCX and
//! XLSX, text, HTML, CSV), some in a shared drive, shared directly and indirectly (group, domain,
//! public), one trashed, one with a hostile title. Voice: text conversations, voicemails with audio
//! and transcript, and incoming, outgoing and missed calls.

use super::{PEOPLE, Rng, SampleSource, WORDS};
use crate::format::zip::{Compression, ZipOut};
use crate::ingest::Source;
use crate::model::{Account, Corpus, OrgUnit};
use serde_json::{Value, json};
use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

/// Where the chat, Drive and Voice timelines start: 2023-07-03T00:00:00Z, after the mail's.
const BASE: i64 = 1_688_342_400;
/// The phrase the examples search for, planted whole so a phrase query finds exactly these.
const FALCON: &str = "Project Falcon";

fn iso(t: i64) -> String {
    crate::model::time::iso_utc(t).unwrap_or_default()
}

fn words(rng: &mut Rng, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(rng.pick(&WORDS));
    }
    s
}

fn account(addr: &str) -> io::Result<Account> {
    Account::new(addr).map_err(io::Error::other)
}

fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, bytes)
}

fn write_jsonl(path: &Path, format: &str, lines: &[Value]) -> io::Result<()> {
    let mut out = serde_json::to_string(&json!({"format": format, "version": 1}))?;
    out.push('\n');
    for l in lines {
        out.push_str(&serde_json::to_string(l)?);
        out.push('\n');
    }
    write_file(path, out.as_bytes())
}

fn org_unit(addr: &str) -> OrgUnit {
    PEOPLE.iter().find(|p| p.0 == addr).map_or_else(OrgUnit::root, |p| OrgUnit::new(p.2))
}

/// A chat conversation: id, name, type, participants, messages at scale 1.
type Conversation<'a> = (&'a str, Option<&'a str>, &'a str, Vec<&'a str>, usize);

/// Chat: three conversations, each custodian's source the messages of those they are in.
pub(super) fn chat(dir: &Path, scale: usize, rng: &mut Rng) -> io::Result<Vec<SampleSource>> {
    let root = dir.join("chat");
    let [alice, bob, carol, dan, erin] = PEOPLE.map(|p| p.0);
    let conversations: [Conversation<'_>; 3] = [
        ("spaces/AAAASampleFalcon", Some("Deal room"), "SPACE", vec![alice, bob, carol], 18),
        ("spaces/BBBBSampleGroup", None, "GROUP_CHAT", vec![bob, dan, erin], 12),
        ("dm/CCCCSampleDirect", None, "DIRECT_MESSAGE", vec![alice, dan], 8),
    ];
    // Per conversation: its lines and how many mention Falcon.
    let mut conv_lines: Vec<(Vec<Value>, usize)> = Vec::new();
    for (c, (id, name, kind, people, per_scale)) in conversations.iter().enumerate() {
        let n = per_scale * scale;
        let mut lines = Vec::with_capacity(n);
        let mut falcon = 0;
        let mut thread = String::new();
        for k in 0..n {
            let t = BASE + (c as i64) * 3_600 + (k as i64) * 2_700 + rng.below(600) as i64;
            let sender = people[k % people.len()];
            let sender_name = PEOPLE.iter().find(|p| p.0 == sender).map_or("", |p| p.1);
            let message_id = format!("{}-m{k:04}", id.rsplit('/').next().unwrap_or(id));
            let is_falcon = k % 5 == 1;
            falcon += usize::from(is_falcon);
            let len = 6 + rng.below(10);
            let mut text = words(rng, len);
            if is_falcon {
                text.push_str(&format!(" — {FALCON} timeline attached"));
            }
            let mut line = json!({
                "space": {"id": id, "type": kind},
                "message_id": message_id,
                "sender": sender,
                "sender_name": sender_name,
                "created": iso(t),
                "text": text,
                "participants": people,
            });
            if let Some(name) = name {
                line["space"]["name"] = json!(name);
            }
            // The space is threaded: a top-level message every third, then two in-line replies.
            if *kind == "SPACE" {
                if k % 3 == 0 {
                    thread = message_id.clone();
                }
                line["thread_id"] = json!(thread);
            }
            if *kind == "SPACE" && k % 6 == 4 {
                let file = format!("files/notes-{c}-{k}.txt");
                let body = format!("meeting notes {k}: {}\n", words(rng, 12));
                write_file(&root.join(&file), body.as_bytes())?;
                line["attachments"] = json!([{"path": file, "name": format!("notes {k}.txt"), "content_type": "text/plain"}]);
            }
            if *kind == "SPACE" && k % 7 == 6 {
                line["html"] = json!(format!("<p>{}</p>", line["text"].as_str().unwrap_or("")));
            }
            if k == 2 {
                line["edits"] =
                    json!([{"at": iso(t + 60), "previous_text": "first wording, since corrected"}]);
            }
            if *kind == "GROUP_CHAT" && k == 4 {
                line["deleted"] = json!(iso(t + 900));
            }
            lines.push(line);
        }
        conv_lines.push((lines, falcon));
    }
    let mut sources = Vec::new();
    for addr in PEOPLE.map(|p| p.0) {
        let mut lines = Vec::new();
        let mut falcon = 0;
        for ((_, _, _, people, _), (ls, f)) in conversations.iter().zip(&conv_lines) {
            if people.contains(&addr) {
                lines.extend(ls.iter().cloned());
                falcon += f;
            }
        }
        let file = root.join(format!("{addr}.jsonl"));
        write_jsonl(&file, crate::ingest::chat_jsonl::FORMAT, &lines)?;
        sources.push(SampleSource {
            account: account(addr)?,
            corpus: Corpus::Chat,
            org_unit: org_unit(addr),
            source: Source::ChatJsonl { file, root: root.clone() },
            messages: lines.len(),
            falcon,
        });
    }
    Ok(sources)
}

/// A minimal DOCX the extractor (and Word) reads: one paragraph per line of `text`.
fn docx(text: &str) -> io::Result<Vec<u8>> {
    let paras: String = text
        .lines()
        .map(|l| format!("<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", xml(l)))
        .collect();
    let doc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{paras}</w:body></w:document>"
    );
    zip(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", DOCX_RELS.as_bytes()),
        ("word/document.xml", doc.as_bytes()),
    ])
}

/// A minimal XLSX: one sheet, one inline-string cell per line of `text`, a number beside each.
fn xlsx(text: &str) -> io::Result<Vec<u8>> {
    let rows: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            format!(
                "<row r=\"{r}\"><c r=\"A{r}\" t=\"inlineStr\"><is><t>{}</t></is></c><c r=\"B{r}\"><v>{}</v></c></row>",
                xml(l),
                (i + 1) * 1250,
                r = i + 1
            )
        })
        .collect();
    let sheet = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>{rows}</sheetData></worksheet>"
    );
    zip(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", XLSX_RELS.as_bytes()),
        ("xl/workbook.xml", WORKBOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ])
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>";
const DOCX_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";
const XLSX_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
const WORKBOOK: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"Figures\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
const WORKBOOK_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>";

/// A zip with fixed entry times, so the same scale gives the same bytes.
fn zip(entries: &[(&str, &[u8])]) -> io::Result<Vec<u8>> {
    let mut z = ZipOut::new(Vec::new());
    for (name, bytes) in entries {
        z.start(name, Compression::Deflate, Some(BASE), false)?;
        z.write_all(bytes)?;
    }
    z.finish()
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Drive: each custodian's files; some in the deal team's shared drive.
pub(super) fn drive(dir: &Path, scale: usize, rng: &mut Rng) -> io::Result<Vec<SampleSource>> {
    let root = dir.join("drive");
    let mut sources = Vec::new();
    for (i, (addr, _, _)) in PEOPLE.iter().enumerate() {
        let n = (6 + 2 * i) * scale;
        let mut lines = Vec::with_capacity(n);
        let mut falcon = 0;
        for j in 0..n {
            let created = BASE + (i as i64) * 86_400 + (j as i64) * 5_400;
            let modified = created + 3_600 + rng.below(7_200) as i64;
            let is_falcon = j % 4 == 2;
            falcon += usize::from(is_falcon);
            let mut body = format!("{}\n{}", words(rng, 10), words(rng, 14));
            if is_falcon {
                body.push_str(&format!("\n{FALCON}: valuation and closing checklist"));
            }
            let topic = ["forecast", "contract", "roadmap", "budget", "minutes", "pricing"][j % 6];
            let stem = addr.split('@').next().unwrap_or(addr);
            let drive_id = format!("1Sample{stem}{j:04}");
            // Uploaded files' titles end in their extension, as in Drive; Google Docs' do not.
            let ext = ["", ".docx", ".xlsx", ".txt", ".html", ".csv"][j % 6];
            // One hostile title per custodian: a slash, dots, quotes, an emoji and accents.
            let title = if j == 1 {
                format!("Q3 {topic} / \"final\" ..\u{1F985} Résumé {j}{ext}")
            } else {
                format!("{} {topic} {j}{ext}", if is_falcon { "Falcon" } else { "Team" })
            };
            let (file, mime, doc_type, bytes) = match j % 6 {
                // A Google Doc's bytes are what Vault exports it as: a DOCX.
                0 => (
                    format!("{stem}/{j}.gdoc.docx"),
                    "application/vnd.google-apps.document",
                    Some("DOCUMENT"),
                    docx(&body)?,
                ),
                1 => (
                    format!("{stem}/{j}.docx"),
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    None,
                    docx(&body)?,
                ),
                2 => (
                    format!("{stem}/{j}.xlsx"),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    None,
                    xlsx(&body)?,
                ),
                3 => (format!("{stem}/{j}.txt"), "text/plain", None, body.clone().into_bytes()),
                4 => (
                    format!("{stem}/{j}.html"),
                    "text/html",
                    None,
                    html_doc(&title, &body).into_bytes(),
                ),
                _ => (
                    format!("{stem}/{j}.csv"),
                    "text/csv",
                    None,
                    body.replace(' ', ",").into_bytes(),
                ),
            };
            write_file(&root.join(&file), &bytes)?;
            let next = PEOPLE[(i + 1 + j) % PEOPLE.len()].0;
            let other = PEOPLE[(i + 2 + j) % PEOPLE.len()].0;
            let mut line = json!({
                "drive_id": drive_id,
                "title": title,
                "owner": addr,
                "creator": addr,
                "mime_type": mime,
                "created": iso(created),
                "modified": iso(modified),
                "collaborators": [next],
                "source_hash": format!("{:032x}", rng.next()),
                "content": file,
            });
            if let Some(t) = doc_type {
                line["document_type"] = json!(t);
            }
            if j % 3 == 0 {
                line["viewers"] = json!([other, "pat@partner.example.com"]);
            }
            let mut indirect = Vec::new();
            if j % 4 == 0 {
                indirect.push(json!({"via": "group", "target": super::GROUP, "role": "viewer"}));
            }
            if j % 4 == 1 {
                indirect
                    .push(json!({"via": "domain", "target": "example.org", "role": "commenter"}));
            }
            if j % 7 == 5 {
                indirect.push(json!({"via": "public", "role": "viewer"}));
            }
            if !indirect.is_empty() {
                line["indirect"] = json!(indirect);
            }
            // Every fifth file lives in the deal team's shared drive, owned by the drive.
            if j % 5 == 3 {
                line["owner"] = json!("Deal team shared drive");
                line["shared_drive_id"] = json!("0ASampleDealTeam");
                line["parent_id"] = json!("0ASampleDealTeam");
            }
            if j % 9 == 7 {
                line["trashed"] = json!(true);
            }
            lines.push(line);
        }
        let file = root.join(format!("{addr}.jsonl"));
        write_jsonl(&file, crate::ingest::drive_jsonl::FORMAT, &lines)?;
        sources.push(SampleSource {
            account: account(addr)?,
            corpus: Corpus::Drive,
            org_unit: org_unit(addr),
            source: Source::DriveJsonl { file, root: root.clone() },
            messages: n,
            falcon,
        });
    }
    Ok(sources)
}

fn html_doc(title: &str, body: &str) -> String {
    let paras: String = body.lines().map(|l| format!("<p>{}</p>", xml(l))).collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body>{paras}</body></html>\n",
        xml(title)
    )
}

/// Voice: per custodian, items cycling through texts, voicemail and the three kinds of call.
pub(super) fn voice(dir: &Path, scale: usize, rng: &mut Rng) -> io::Result<Vec<SampleSource>> {
    let root = dir.join("voice");
    // Other parties' numbers, in the notations people write.
    let others = ["(212) 555-0199", "+1 646-555-0123", "001 917 555 0147", "415.555.0100"];
    let mut sources = Vec::new();
    for (i, (addr, _, _)) in PEOPLE.iter().enumerate() {
        let n = (5 + i) * scale;
        let own = format!("+1732555010{i}");
        let stem = addr.split('@').next().unwrap_or(addr);
        let mut lines = Vec::with_capacity(n);
        let mut falcon = 0;
        for k in 0..n {
            let t = BASE + (i as i64) * 43_200 + (k as i64) * 7_200 + rng.below(900) as i64;
            let other = others[(i + k) % others.len()];
            let item_id = format!("{stem}-voice-{k:04}");
            // Texts and voicemails carry words; every third of those mentions Falcon.
            let is_falcon = k % 5 <= 1 && k % 3 == 0;
            falcon += usize::from(is_falcon);
            let mut line = json!({
                "item_id": item_id,
                "account": addr,
                "started": iso(t),
                "owner_numbers": [own],
                "participant_numbers": [other],
            });
            match k % 5 {
                0 => {
                    line["type"] = json!("TEXT_MESSAGE");
                    let mut msgs = Vec::new();
                    for m in 0..(2 + k % 3) {
                        let outgoing = m % 2 == 0;
                        let len = 5 + rng.below(6);
                        let mut text = words(rng, len);
                        if is_falcon && m == 1 {
                            text.push_str(&format!(" about {FALCON} tomorrow"));
                        }
                        msgs.push(json!({
                            "at": iso(t + 60 * m as i64),
                            "from": if outgoing { own.as_str() } else { other },
                            "outgoing": outgoing,
                            "text": text,
                        }));
                    }
                    line["messages"] = json!(msgs);
                }
                1 => {
                    line["type"] = json!("VOICEMAIL");
                    let audio = format!("{stem}/{item_id}.mp3");
                    let transcript = format!("{stem}/{item_id}.txt");
                    // An ID3 header and silent MPEG frames: bytes with the shape of an MP3.
                    let mut mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00".to_vec();
                    for _ in 0..(8 + k % 5) {
                        mp3.extend_from_slice(b"\xFF\xFB\x90\x64");
                        mp3.extend_from_slice(&[0u8; 413]);
                    }
                    write_file(&root.join(&audio), &mp3)?;
                    let mut said = format!("Hi, it's about the {}. ", words(rng, 8));
                    if is_falcon {
                        said.push_str(&format!("Call me back on {FALCON} before noon. "));
                    }
                    write_file(&root.join(&transcript), said.as_bytes())?;
                    line["audio"] = json!(audio);
                    line["transcript"] = json!(transcript);
                    line["duration_secs"] = json!(12 + k % 40);
                    line["labels"] = json!(["Inbox"]);
                }
                2 => {
                    line["type"] = json!("INCOMING_CALL");
                    line["duration_secs"] = json!(60 + 7 * k);
                }
                3 => {
                    line["type"] = json!("OUTGOING_CALL");
                    line["duration_secs"] = json!(30 + 11 * k);
                }
                _ => line["type"] = json!("MISSED_CALL"),
            }
            lines.push(line);
        }
        let file = root.join(format!("{addr}.jsonl"));
        write_jsonl(&file, crate::ingest::voice_jsonl::FORMAT, &lines)?;
        sources.push(SampleSource {
            account: account(addr)?,
            corpus: Corpus::Voice,
            org_unit: org_unit(addr),
            source: Source::VoiceJsonl { file, root: root.clone() },
            messages: n,
            falcon,
        });
    }
    Ok(sources)
}
