//! A deterministic sample organisation: a few custodians in three org units with mail in every
//! source format ingest reads (mbox, Gmail Takeout mbox, Maildir++, `.eml`), a Google Group with a
//! member list, attachments, HTML-only mail, drafts, non-ASCII headers, quoted `From ` lines; the
//! same custodians' Chat, Drive and Voice as JSON Lines sources with content files
//! (`corpora.rs`) — and a planted matter ("Project Falcon") in every corpus for the examples to
//! find and count.
//!
//! Mail and groups stay in [`SampleOrg::sources`] and the other corpora in
//! [`SampleOrg::other_sources`], so tests that count the mail sample (330 records at scale 1) do
//! not change when the other corpora grow.
//!
//! The same `scale` always writes the same bytes: no clock, no randomness beyond a fixed-seed
//! generator.

use crate::format::mbox::frame_mboxrd;
use crate::ingest::Source;
use crate::model::{Account, Corpus, OrgUnit};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::io::Write as _;
use std::path::{Path, PathBuf};

mod corpora;

/// One custodian's source in the sample.
#[derive(Clone, Debug)]
pub struct SampleSource {
    /// Whose it is (for groups, the group address).
    pub account: Account,
    /// Its corpus.
    pub corpus: Corpus,
    /// The account's org unit.
    pub org_unit: OrgUnit,
    /// Where it was written.
    pub source: Source,
    /// How many messages (chat messages, Drive files, Voice items) it holds.
    pub messages: usize,
    /// How many of them hold the phrase "Project Falcon".
    pub falcon: usize,
}

/// The generated organisation.
#[derive(Clone, Debug)]
pub struct SampleOrg {
    /// The folder it was written to.
    pub root: PathBuf,
    /// Every mail and groups source, in a fixed order.
    pub sources: Vec<SampleSource>,
    /// Every Chat, Drive and Voice source (JSON Lines), in a fixed order: chat, then Drive, then
    /// Voice, each custodian in turn. Kept apart from `sources` so the mail sample's counts stay
    /// what tests rely on.
    pub other_sources: Vec<SampleSource>,
    /// The group's member list (`Member,Group,JoinTime,Role,Type` CSV).
    pub group_members: PathBuf,
    /// The organisation file (`Account,OrgUnit,Type,Created,Admin` CSV): the custodians in
    /// their org units, the group, an administrator ([`SAMPLE_ADMIN`]) and a legal counsel
    /// ([`SAMPLE_COUNSEL`], a user with no mail) for matters.
    pub org_file: PathBuf,
}

/// The sample organisation's administrator (creates matters).
pub const SAMPLE_ADMIN: &str = "admin@example.org";
/// The sample organisation's legal counsel: a user who can be made a matter's collaborator.
pub const SAMPLE_COUNSEL: &str = "lara@example.org";

impl SampleOrg {
    /// Messages in the mail and groups sources.
    pub fn total_messages(&self) -> usize {
        self.sources.iter().map(|s| s.messages).sum()
    }

    /// Items (messages, files, Voice items) of one corpus, over every source.
    pub fn items_of(&self, corpus: Corpus) -> usize {
        self.all_sources().filter(|s| s.corpus == corpus).map(|s| s.messages).sum()
    }

    /// Every source of every corpus: `sources` then `other_sources`.
    pub fn all_sources(&self) -> impl Iterator<Item = &SampleSource> {
        self.sources.iter().chain(&self.other_sources)
    }
}

/// splitmix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const PEOPLE: [(&str, &str, &str); 5] = [
    ("alice@example.org", "Alice Archer", "/Legal"),
    ("bob@example.org", "Bob Baker", "/Sales"),
    ("carol@example.org", "Carol Chen", "/Sales/EMEA"),
    ("dan@example.org", "Dan Dörfler", "/Engineering"),
    ("erin@example.org", "Erin Evans", "/Engineering"),
];
const GROUP: &str = "deals@example.org";
const OUTSIDERS: [&str; 4] = [
    "pat@partner.example.com",
    "lee@vendor.example.net",
    "news@list.example.com",
    "sam@law.example",
];
const TOPICS: [&str; 12] = [
    "quarterly forecast",
    "contract renewal",
    "lunch on Friday",
    "server migration",
    "expense report",
    "board deck",
    "hiring plan",
    "customer escalation",
    "travel booking",
    "security review",
    "pricing update",
    "team offsite",
];
const WORDS: [&str; 16] = [
    "please", "review", "attached", "numbers", "before", "meeting", "thanks", "update", "budget",
    "timeline", "draft", "final", "schedule", "approve", "question", "agenda",
];

/// Write the sample organisation under `dir` (created; existing sample files are replaced).
/// `scale` multiplies the number of items: 1 gives 330 mail and group messages, 106 chat
/// messages (per participant), 50 Drive files and 35 Voice items.
pub fn generate(dir: &Path, scale: usize) -> io::Result<SampleOrg> {
    let scale = scale.max(1);
    fs::create_dir_all(dir)?;
    let mut rng = Rng(0x5EED_0000 + scale as u64);
    let mut sources = Vec::new();
    let base_time: i64 = 1_688_169_600; // 2023-07-01T00:00:00Z
    let mut counter = 0usize;

    for (i, (addr, name, ou)) in PEOPLE.iter().enumerate() {
        let n = (40 + 10 * i) * scale;
        let mut msgs = Vec::with_capacity(n);
        let mut falcon = 0;
        for k in 0..n {
            counter += 1;
            let t = base_time + (counter as i64) * 3_517 + rng.below(3_600) as i64;
            let is_falcon = k % 7 == 3;
            falcon += usize::from(is_falcon);
            msgs.push(message(&mut rng, counter, t, addr, name, is_falcon, k));
        }
        let account = Account::new(addr).map_err(io::Error::other)?;
        let source = match i {
            // Alice: plain mbox. Bob: Gmail Takeout mbox. Carol: Maildir++. Dan: .eml folder.
            // Erin: mbox again (the most common export format).
            0 | 4 => {
                let p = dir.join("mbox").join(format!("{addr}.mbox"));
                write_mbox(&p, &msgs, false)?;
                Source::Mbox(p)
            }
            1 => {
                let p = dir.join("takeout").join(format!("{addr}.mbox"));
                write_mbox(&p, &msgs, true)?;
                Source::Takeout(p)
            }
            2 => {
                let p = dir.join("maildir").join(addr);
                write_maildir(&p, &msgs)?;
                Source::Maildir(p)
            }
            _ => {
                let p = dir.join("eml").join(addr);
                write_eml(&p, &msgs)?;
                Source::Eml(p)
            }
        };
        sources.push(SampleSource {
            account,
            corpus: Corpus::Mail,
            org_unit: OrgUnit::new(ou),
            source,
            messages: n,
            falcon,
        });
    }

    // The group: every message went to deals@ and is held in the group's archive.
    let n = 30 * scale;
    let mut msgs = Vec::with_capacity(n);
    let mut falcon = 0;
    for k in 0..n {
        counter += 1;
        let (addr, name, _) = PEOPLE[k % PEOPLE.len()];
        let t = base_time + (counter as i64) * 2_011;
        let is_falcon = k.is_multiple_of(5);
        falcon += usize::from(is_falcon);
        let mut m = message(&mut rng, counter, t, addr, name, is_falcon, k);
        m.to = vec![GROUP.to_owned()];
        msgs.push(m);
    }
    let p = dir.join("groups").join(format!("{GROUP}.mbox"));
    write_mbox(&p, &msgs, false)?;
    sources.push(SampleSource {
        account: Account::new(GROUP).map_err(io::Error::other)?,
        corpus: Corpus::Groups,
        org_unit: OrgUnit::root(),
        source: Source::Mbox(p),
        messages: n,
        falcon,
    });
    let group_members = dir.join("groups").join(format!("{GROUP}-members.csv"));
    let mut csv = String::from("Member,Group,JoinTime,Role,Type\n");
    for (k, (addr, _, _)) in PEOPLE.iter().enumerate() {
        let role = if k == 0 { "OWNER" } else { "MEMBER" };
        let _ = writeln!(csv, "{addr},{GROUP},2023-06-{:02}T09:00:00Z,{role},USER", k + 1);
    }
    fs::write(&group_members, csv)?;
    let org_file = dir.join("org.csv");
    let mut csv = String::from("Account,OrgUnit,Type,Created,Admin\n");
    let _ = writeln!(csv, "{SAMPLE_ADMIN},/,USER,2019-01-07T08:00:00Z,true");
    let _ = writeln!(csv, "{SAMPLE_COUNSEL},/Legal,USER,2020-03-02T08:00:00Z,false");
    for (k, (addr, _, ou)) in PEOPLE.iter().enumerate() {
        let _ = writeln!(csv, "{addr},{ou},USER,2021-0{}-01T09:00:00Z,false", k + 1);
    }
    let _ = writeln!(csv, "{GROUP},/,GROUP,2021-06-01T09:00:00Z,false");
    fs::write(&org_file, csv)?;
    // A generator of their own, so the mail above is byte for byte what it was before these
    // corpora existed.
    let mut rng = Rng(0xC0A7_0000 + scale as u64);
    let mut other_sources = corpora::chat(dir, scale, &mut rng)?;
    other_sources.extend(corpora::drive(dir, scale, &mut rng)?);
    other_sources.extend(corpora::voice(dir, scale, &mut rng)?);
    Ok(SampleOrg { root: dir.to_path_buf(), sources, other_sources, group_members, org_file })
}

/// One generated message and what the container should say about it.
struct Msg {
    id: usize,
    time: i64,
    to: Vec<String>,
    bytes_head: String,
    body: String,
    draft: bool,
    starred: bool,
    unread: bool,
}

impl Msg {
    fn bytes(&self) -> Vec<u8> {
        let mut s = self.bytes_head.clone();
        let _ = write!(s, "To: {}\r\n\r\n", self.to.join(", "));
        s.push_str(&self.body);
        s.into_bytes()
    }
}

fn message(
    rng: &mut Rng,
    id: usize,
    time: i64,
    from: &str,
    name: &str,
    falcon: bool,
    k: usize,
) -> Msg {
    let topic = if falcon { "Project Falcon term sheet" } else { rng.pick(&TOPICS) };
    let mut to = vec![PEOPLE[rng.below(PEOPLE.len())].0.to_owned()];
    if rng.below(3) == 0 {
        to.push(rng.pick(&OUTSIDERS).to_owned());
    }
    let date = crate::model::time::asctime_utc(time).unwrap_or_default();
    let rfc = crate::model::time::rfc2822_utc(time).unwrap_or_default();
    let mut head = String::new();
    let _ = write!(head, "Message-ID: <sample-{id}@example.org>\r\n");
    let _ = write!(head, "Date: {rfc}\r\n");
    // Non-ASCII display names are RFC 2047 encoded, as a real client would.
    if name.is_ascii() {
        let _ = write!(head, "From: {name} <{from}>\r\n");
    } else {
        let _ = write!(head, "From: =?UTF-8?B?{}?= <{from}>\r\n", base64(name.as_bytes()));
    }
    let subject = if k % 11 == 5 {
        format!("=?ISO-8859-1?Q?R=E9sum=E9_{}?=", topic.replace(' ', "_"))
    } else {
        format!("Re: {topic}")
    };
    let _ = write!(head, "Subject: {subject}\r\n");
    if k % 13 == 4 {
        let _ = write!(head, "Cc: {}\r\n", rng.pick(&OUTSIDERS));
    }
    let _ = write!(head, "X-Sample-Date: {date}\r\n");
    head.push_str("MIME-Version: 1.0\r\n");
    let mut words = String::new();
    for _ in 0..(20 + rng.below(60)) {
        words.push_str(rng.pick(&WORDS));
        words.push(' ');
    }
    if falcon {
        words.push_str("The Falcon acquisition price must stay confidential. ");
    }
    let body = if k % 4 == 1 {
        // With an attachment.
        let att_name = if falcon { "falcon-terms.pdf" } else { "notes.txt" };
        let att = format!("%PDF-1.4 sample attachment {id} {words}");
        head.push_str("Content-Type: multipart/mixed; boundary=\"b1\"\r\n");
        format!(
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{words}\r\n\r\nFrom the desk of {name}\r\n\
--b1\r\nContent-Type: application/octet-stream; name=\"{att_name}\"\r\n\
Content-Disposition: attachment; filename=\"{att_name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
            base64(att.as_bytes())
        )
    } else if k % 4 == 2 {
        head.push_str("Content-Type: text/html; charset=utf-8\r\n");
        format!("<html><body><p>{words}</p><p>Regards,<br>{name}</p></body></html>\r\n")
    } else {
        head.push_str("Content-Type: text/plain; charset=utf-8\r\n");
        format!("{words}\r\n\r\nFrom the desk of {name}\r\n>From an old quote\r\n")
    };
    Msg {
        id,
        time,
        to,
        bytes_head: head,
        body,
        draft: k % 17 == 8,
        starred: k % 9 == 2,
        unread: k.is_multiple_of(6),
    }
}

fn write_mbox(path: &Path, msgs: &[Msg], takeout: bool) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut out = Vec::new();
    for m in msgs {
        let mut bytes = Vec::new();
        if takeout {
            let mut labels = vec!["Inbox"];
            if m.starred {
                labels.push("Starred");
            }
            if m.unread {
                labels.push("Unread");
            }
            if m.draft {
                labels = vec!["Draft"];
            }
            if m.id.is_multiple_of(5) {
                labels.push("\"Clients, key\"");
            }
            let _ = write!(
                bytes,
                "X-GM-THRID: {}\r\nX-Gmail-Labels: {}\r\n",
                1_700_000_000_000_000u64 + (m.id as u64 / 3),
                labels.join(",")
            );
        }
        bytes.extend_from_slice(&m.bytes());
        let env = format!(
            "{} {}",
            "sender@example.org",
            crate::model::time::asctime_utc(m.time).unwrap_or_default()
        );
        let _ = frame_mboxrd(&env, &bytes, &mut out);
    }
    fs::write(path, out)
}

fn write_maildir(root: &Path, msgs: &[Msg]) -> io::Result<()> {
    for sub in ["cur", "new", "tmp", ".Projects/cur", ".Projects/new", ".Projects/tmp"] {
        fs::create_dir_all(root.join(sub))?;
    }
    for (k, m) in msgs.iter().enumerate() {
        let folder = if k % 5 == 4 { root.join(".Projects") } else { root.to_path_buf() };
        let mut flags = String::new();
        if m.draft {
            flags.push('D');
        }
        if m.starred {
            flags.push('F');
        }
        if !m.unread {
            flags.push('S');
        }
        let name = format!("{}.M{}P1.sample:2,{flags}", m.time, m.id);
        fs::write(folder.join("cur").join(name), m.bytes())?;
    }
    Ok(())
}

fn write_eml(root: &Path, msgs: &[Msg]) -> io::Result<()> {
    fs::create_dir_all(root)?;
    for m in msgs {
        fs::write(root.join(format!("{:06}.eml", m.id)), m.bytes())?;
    }
    Ok(())
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let flat = base64::engine::general_purpose::STANDARD.encode(bytes);
    // MIME wants lines of at most 76 characters.
    let lines: Vec<&str> =
        flat.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
    lines.join("\r\n")
}
