//! Google Takeout's Chat export: `Google Chat/Groups/<DM|Space> <id>/` holding `group_info.json`
//! (the space's name and members), `messages.json` (`{"messages": [...]}`, each with `creator`,
//! `created_date`, `text`, `topic_id`, `message_id`, `attached_files`) and the attachments as
//! `File-<name>` files.
//!
//! Takeout is Google's format, not ours, so fields it may add are ignored (unlike our JSONL); what
//! a record needs (message id, creator, a readable date) is required, and a message without it is
//! a rejection naming the file and message number. Attachments are found as Takeout names them:
//! the `export_name` with characters a file name cannot hold (`?`, `/`, `:`…) made `_`, and the
//! second and later uses of one name numbered `name(1).ext`, `name(2).ext`…; one that is not
//! there rejects its message. Files of the folder no message refers to are reported as notices,
//! and links are never followed.
//!
//! A space is read whole (`messages.json` is one JSON document, followed by `messages-2.json`,
//! `messages-3.json` … when a split archive was unpacked into one folder); spaces are read one
//! at a time.

use super::entry::{self, Kind, NOT_REGULAR, SYMLINK};
use super::record::{Content, RawPart, RawRecord};
use super::walk;
use super::{IngestError, Item, Notice, Position, Rejection};
use crate::model::{ChatMeta, ConversationType, Metadata, PartKind, SourceKind, SourceRef};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

#[derive(Deserialize, Default)]
struct GroupInfo {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    members: Vec<Member>,
}

#[derive(Deserialize, Default, Clone)]
struct Member {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
struct Messages {
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    creator: Option<Member>,
    #[serde(default)]
    created_date: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    attached_files: Vec<Attached>,
    #[serde(default)]
    topic_id: Option<String>,
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    deleted_date: Option<String>,
}

#[derive(Deserialize)]
struct Attached {
    #[serde(default)]
    original_name: Option<String>,
    #[serde(default)]
    export_name: Option<String>,
}

/// The `Groups` folder under `path`: `path` itself, `path/Groups` or `path/Google Chat/Groups`.
fn groups_dir(path: &Path) -> Option<PathBuf> {
    [path.join("Google Chat").join("Groups"), path.join("Groups"), path.to_path_buf()]
        .into_iter()
        .find(|p| {
            p.is_dir()
                && (p.file_name().is_some_and(|n| n == "Groups")
                    || p.join("messages.json").exists())
        })
}

/// Every message of every space of the Takeout Chat export at `path` (a `Takeout`, `Google
/// Chat` or `Groups` folder).
pub fn items(path: &Path) -> Result<impl Iterator<Item = Item> + Send + use<>, IngestError> {
    let groups = groups_dir(path).ok_or_else(|| IngestError::NotTakeout {
        path: path.to_path_buf(),
        expected: "a Google Chat/Groups folder",
    })?;
    let spaces = walk::walk(&groups).filter(|e| e.as_ref().map_or(true, |e| e.depth == 1));
    Ok(spaces.flat_map(|e| match e {
        Err((p, reason)) => vec![rejected_file(&p, reason)],
        Ok(e) => match e.kind {
            Kind::Dir => space(&e.path),
            Kind::Symlink => vec![rejected_file(&e.path, SYMLINK.to_owned())],
            Kind::Other => vec![rejected_file(&e.path, NOT_REGULAR.to_owned())],
            Kind::File => vec![Item::Notice(Notice {
                position: Position::file(&e.path),
                message: "skipped: a file beside the space folders, not a space".to_owned(),
            })],
        },
    }))
}

fn rejected_file(path: &Path, reason: String) -> Item {
    Item::Rejected(Rejection { position: Position::file(path), reason })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    // The default policy: the Takeout adapters are not given the caller's `Limits` yet.
    let limits = crate::Limits::default();
    let (bytes, _) = entry::read_regular_capped(path, limits.takeout_file_bytes)?;
    crate::limits::check_json_depth(&bytes, limits.json_depth).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("not Takeout Chat JSON: {e}"))
}

/// The name Takeout gives an attachment file: characters a file name cannot hold made `_`.
fn file_name(export_name: &str) -> String {
    export_name
        .chars()
        .map(|c| {
            if matches!(c, '?' | '/' | '\\' | ':' | '*' | '"' | '<' | '>' | '|') { '_' } else { c }
        })
        .collect()
}

/// `name(k).ext` for the k-th repeat of a name.
fn numbered(name: &str, k: usize) -> String {
    if k == 0 {
        return name.to_owned();
    }
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{}({k}){}", &name[..dot], &name[dot..]),
        _ => format!("{name}({k})"),
    }
}

/// `messages.json` and the numbered copies an archive split across zips leaves beside it when
/// its zips are unpacked into one folder (`messages-2.json`, `messages-3.json`, …: our
/// organisation export's names, docs/export-contract.md), in number order, so messages and
/// their attachment numbering keep their order.
fn message_files(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let k = if name == "messages.json" {
            Some(1)
        } else {
            name.strip_prefix("messages-")
                .and_then(|r| r.strip_suffix(".json"))
                .filter(|n| !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|k| *k >= 2)
        };
        if let Some(k) = k {
            found.push((k, e.path()));
        }
    }
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

fn space(dir: &Path) -> Vec<Item> {
    let (dir_name, _) = entry::name_text(dir.file_name().unwrap_or_default());
    let (kind_word, id) = dir_name.split_once(' ').unwrap_or(("", &dir_name));
    let info_path = dir.join("group_info.json");
    let mut items = Vec::new();
    let info: GroupInfo = if info_path.exists() {
        match read_json(&info_path) {
            Ok(i) => i,
            Err(e) => return vec![rejected_file(&info_path, e)],
        }
    } else {
        GroupInfo::default()
    };
    let message_files = message_files(dir);
    if message_files.is_empty() {
        let path = dir.join("messages.json");
        let e = read_json::<Messages>(&path).err().unwrap_or_default();
        return vec![rejected_file(&path, e)];
    }
    let conversation = match (kind_word, &info.name) {
        ("DM", _) => ConversationType::DirectMessage,
        (_, Some(_)) => ConversationType::Space,
        _ => ConversationType::GroupChat,
    };
    let participants: Vec<String> =
        info.members.iter().filter_map(|m| m.email.clone().or_else(|| m.name.clone())).collect();
    let mut used: HashMap<String, usize> = HashMap::new();
    let mut referenced: BTreeSet<PathBuf> = BTreeSet::new();
    // One file's messages parsed at a time; a file that cannot be read is rejected by name and
    // the others are still read.
    type Next<'a> = Result<(&'a PathBuf, usize, Message), (&'a PathBuf, String)>;
    let messages = message_files.iter().flat_map(|path| -> Box<dyn Iterator<Item = Next<'_>>> {
        match read_json::<Messages>(path) {
            Ok(m) => {
                Box::new(m.messages.into_iter().enumerate().map(move |(i, m)| Ok((path, i, m))))
            }
            Err(e) => Box::new(std::iter::once(Err((path, e)))),
        }
    });
    for next in messages {
        let (messages_path, i, m) = match next {
            Ok(x) => x,
            Err((path, reason)) => {
                items.push(rejected_file(path, reason));
                continue;
            }
        };
        let position = Position {
            path: messages_path.display().to_string(),
            offset: None,
            line: None,
            ordinal: Some(i as u64),
        };
        // Attachment names are numbered in message order whether or not a message is kept.
        let mut files = Vec::new();
        let mut missing = None;
        for a in &m.attached_files {
            let Some(export) = a.export_name.as_deref() else {
                missing.get_or_insert_with(|| "an attachment without export_name".to_owned());
                continue;
            };
            let base = file_name(export);
            let k = used.entry(base.clone()).or_insert(0);
            let name = numbered(&base, *k);
            *k += 1;
            let path = dir.join(&name);
            match std::fs::symlink_metadata(&path) {
                Ok(md) if md.file_type().is_file() => {
                    referenced.insert(path.clone());
                    files
                        .push((a.original_name.clone().unwrap_or_else(|| export.to_owned()), path));
                }
                Ok(_) => {
                    missing.get_or_insert_with(|| {
                        format!(
                            "attachment {name:?} is not a regular file (links are not followed)"
                        )
                    });
                }
                Err(_) => {
                    missing.get_or_insert_with(|| format!("attachment {name:?} (export_name {export:?}) is not in the space folder"));
                }
            }
        }
        let record = missing.map_or_else(
            || message(messages_path, id, &info, conversation, &participants, m, files, &position),
            Err,
        );
        items.push(match record {
            Ok(r) => Item::Record(Box::new(r)),
            Err(reason) => Item::Rejected(Rejection { position, reason }),
        });
    }
    // Everything else in the folder is reported: nothing is left out silently.
    for e in walk::walk(dir) {
        match e {
            Err((p, reason)) => items.push(rejected_file(&p, reason)),
            Ok(e) => {
                let known = message_files.contains(&e.path)
                    || e.path == info_path
                    || referenced.contains(&e.path);
                match e.kind {
                    _ if known => {}
                    Kind::Symlink => items.push(rejected_file(&e.path, SYMLINK.to_owned())),
                    Kind::Other => items.push(rejected_file(&e.path, NOT_REGULAR.to_owned())),
                    Kind::Dir | Kind::File => items.push(Item::Notice(Notice {
                        position: Position::file(&e.path),
                        message: "not ingested: no message of messages.json refers to it"
                            .to_owned(),
                    })),
                }
            }
        }
    }
    items
}

#[allow(clippy::too_many_arguments)]
fn message(
    messages_path: &Path,
    id: &str,
    info: &GroupInfo,
    conversation: ConversationType,
    participants: &[String],
    m: Message,
    files: Vec<(String, PathBuf)>,
    position: &Position,
) -> Result<RawRecord, String> {
    let message_id = m.message_id.filter(|s| !s.is_empty()).ok_or("no message_id")?;
    let creator = m.creator.unwrap_or_default();
    let sender = creator.email.clone().or_else(|| creator.name.clone()).ok_or("no creator")?;
    let created_s = m.created_date.ok_or("no created_date")?;
    let created = takeout_date(&created_s)
        .ok_or_else(|| format!("created_date {created_s:?} is not a Takeout date"))?;
    let deleted = match m.deleted_date {
        Some(d) => Some(
            takeout_date(&d).ok_or_else(|| format!("deleted_date {d:?} is not a Takeout date"))?,
        ),
        None => None,
    };
    let space_id = format!("spaces/{id}");
    let mut parts = vec![RawPart::text(PartKind::Message, m.text.as_deref().unwrap_or_default())];
    for (name, path) in files {
        let ctype = super::drive_folder::mime_of(&name);
        parts.push(RawPart {
            kind: PartKind::Attachment,
            name: Some(name),
            content_type: Some(ctype.to_owned()),
            content: Content::File(path),
        });
    }
    let meta = ChatMeta {
        space_id: space_id.clone(),
        space_name: info.name.clone(),
        conversation: Some(conversation),
        created_before_dec_2020: false,
        thread_id: m.topic_id,
        message_id: message_id.clone(),
        sender,
        sender_name: creator.name,
        created,
        participants: participants.to_vec(),
        edits: Vec::new(),
        deleted,
    };
    Ok(RawRecord {
        source: SourceRef {
            kind: SourceKind::TakeoutChat,
            path: messages_path.display().to_string(),
            key: format!("{space_id}/{message_id}"),
            offset: None,
        },
        position: position.clone(),
        meta: Metadata::Chat(Box::new(meta)),
        parts,
        account_claim: None,
        defects: Vec::new(),
    })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A Takeout Chat date, `Sunday, November 18, 2018 at 6:02:21 PM UTC` (the space before `PM` is
/// often U+202F), as UTC seconds. Only `UTC`/`GMT` times are read: Takeout writes those, and a
/// zone abbreviation could not be placed reliably.
pub fn takeout_date(s: &str) -> Option<i64> {
    let s: String = s.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    let s = s.split_once(", ").map_or(s.as_str(), |(_, rest)| rest);
    let (date, time) = s.split_once(" at ")?;
    let mut d = date.split([' ', ',']).filter(|w| !w.is_empty());
    let month_name = d.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? + 1;
    let day: u32 = d.next()?.parse().ok()?;
    let year: i32 = d.next()?.parse().ok()?;
    let mut t = time.split(' ').filter(|w| !w.is_empty());
    let hms = t.next()?;
    let ampm = t.next()?;
    let zone = t.next()?;
    if !matches!(zone, "UTC" | "GMT") || t.next().is_some() {
        return None;
    }
    let mut h = hms.split(':');
    let (hh, mm, ss): (u32, u32, u32) =
        (h.next()?.parse().ok()?, h.next()?.parse().ok()?, h.next()?.parse().ok()?);
    if !(1..=12).contains(&hh) || mm > 59 || ss > 60 {
        return None;
    }
    let hh = match ampm {
        "AM" => hh % 12,
        "PM" => hh % 12 + 12,
        _ => return None,
    };
    crate::model::time::parse_iso8601(&format!(
        "{year:04}-{month:02}-{day:02}T{hh:02}:{mm:02}:{ss:02}Z"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takeout_dates() {
        assert_eq!(takeout_date("Sunday, November 18, 2018 at 6:02:21 PM UTC"), Some(1542564141));
        assert_eq!(
            takeout_date("Wednesday, April 15, 2015 at 12:51:08\u{202f}AM UTC"),
            Some(1429059068)
        );
        assert_eq!(takeout_date("Sunday, November 18, 2018 at 6:02:21 PM PST"), None);
        assert_eq!(takeout_date("yesterday"), None);
    }

    #[test]
    fn numbered_copies_are_read_in_number_order_and_a_bad_one_is_rejected_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let space = dir.path().join("Groups/Space AAA");
        std::fs::create_dir_all(&space).unwrap();
        let msg = |id: &str| {
            format!(
                r#"{{"creator": {{"email": "a@x"}}, "created_date": "Sunday, November 18, 2018 at 6:02:21 PM UTC", "text": "t", "message_id": "{id}"}}"#
            )
        };
        let file = |name: &str, ids: &[&str]| {
            let body: Vec<String> = ids.iter().map(|i| msg(i)).collect();
            std::fs::write(space.join(name), format!(r#"{{"messages": [{}]}}"#, body.join(",")))
                .unwrap();
        };
        file("messages.json", &["m1"]);
        file("messages-10.json", &["m4"]);
        file("messages-2.json", &["m2", "m3"]);
        file("messages-02.json", &["not a copy"]);
        std::fs::write(space.join("messages-3.json"), "{not json").unwrap();
        let items: Vec<Item> = items(&dir.path().join("Groups")).unwrap().collect();
        let ids: Vec<String> = items
            .iter()
            .filter_map(|i| match i {
                Item::Record(r) => match &r.meta {
                    Metadata::Chat(c) => Some(c.message_id.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert_eq!(ids, ["m1", "m2", "m3", "m4"]);
        let rejected: Vec<&str> = items
            .iter()
            .filter_map(|i| match i {
                Item::Rejected(r) => Some(r.position.path.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        assert!(rejected[0].ends_with("messages-3.json"), "{rejected:?}");
        let noticed = items
            .iter()
            .any(|i| matches!(i, Item::Notice(n) if n.position.path.ends_with("messages-02.json")));
        assert!(noticed, "a name that is not a numbered copy is reported, not read");
    }

    #[test]
    fn attachment_names_as_takeout_writes_them() {
        assert_eq!(file_name("File-1?account_id=0.jpg"), "File-1_account_id=0.jpg");
        assert_eq!(numbered("File-a.jpg", 0), "File-a.jpg");
        assert_eq!(numbered("File-a.jpg", 2), "File-a(2).jpg");
    }
}
