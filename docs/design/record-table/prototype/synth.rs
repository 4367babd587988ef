//! Deterministic synthetic records shaped like ediscovery's mail records. Accounts: 5,000, Zipf(1)
//! skew, records arrive in per-account runs (an ingest reads one custodian's mbox at a time).
use crate::model::*;

pub const ACCOUNTS: usize = 5000;

#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
    z ^ (z >> 31)
}

pub struct Rng(pub u64);
impl Rng {
    #[inline]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(1);
        mix(self.0)
    }
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn account_name(a: usize) -> String {
    format!("custodian.{a:04}@dept{}.example-corp.com", a % 37)
}
pub fn org_unit(a: usize) -> String {
    format!("/Example Corp/Division {}/Team {}", a % 11, a % 53)
}

const WORDS: &[&str] = &[
    "quarterly", "report", "meeting", "re:", "fwd:", "budget", "project", "atlas", "review", "draft",
    "contract", "invoice", "schedule", "update", "legal", "hold", "notice", "team", "offsite", "plan",
];
const NAMES: &[&str] = &["Alice Martin", "Bob Chen", "Carol Díaz", "Dmitri Ivanov", "Eve O'Neil", "Frank Müller", "Grace Ho"];

pub struct Gen {
    rng: Rng,
    cum: Vec<f64>,
    seq: u64,
    acct: usize,
    left: u64,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        let mut cum = Vec::with_capacity(ACCOUNTS);
        let mut t = 0.0;
        for k in 1..=ACCOUNTS {
            t += 1.0 / k as f64;
            cum.push(t);
        }
        Gen { rng: Rng(seed), cum, seq: 0, acct: 0, left: 0 }
    }
    fn pick_account(&mut self) -> usize {
        let x = (self.rng.next() >> 11) as f64 / (1u64 << 53) as f64 * self.cum[ACCOUNTS - 1];
        let k = self.cum.partition_point(|&c| c < x).min(ACCOUNTS - 1);
        // spread the heavy accounts over the id space
        (k * 2654435761) % ACCOUNTS
    }
    pub fn next_record(&mut self) -> Record {
        if self.left == 0 {
            self.acct = self.pick_account();
            self.left = 50 + self.rng.below(3000);
        }
        self.left -= 1;
        let seq = self.seq;
        self.seq += 1;
        make(seq, self.acct)
    }
}

fn md5_of(x: u64) -> Md5 {
    let a = mix(x).to_le_bytes();
    let b = mix(x ^ 0xABCDEF).to_le_bytes();
    let mut m = [0u8; 16];
    m[..8].copy_from_slice(&a);
    m[8..].copy_from_slice(&b);
    Md5(m)
}

fn words(r: &mut Rng, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[r.below(WORDS.len() as u64) as usize]);
    }
    s
}

fn mailbox(r: &mut Rng) -> Mailbox {
    let n = NAMES[r.below(NAMES.len() as u64) as usize];
    let has_name = r.below(4) != 0;
    Mailbox {
        name: has_name.then(|| n.to_string()),
        address: format!("{}.{}@{}.com", n.split(' ').next().unwrap().to_lowercase(), r.below(1000), ["example-corp", "partner", "gmail"][r.below(3) as usize]),
    }
}

/// Record `seq` of account `acct`: the content is a function of (seq, acct) only.
pub fn make(seq: u64, acct: usize) -> Record {
    let mut r = Rng(mix(seq ^ 0x5eed));
    let acc = account_name(acct);
    let file_no = seq / 5000;
    let date = 1_500_000_000 + (seq as i64) * 13 + r.below(86400) as i64;
    let n_to = 1 + r.below(2) as usize;
    let n_cc = [0, 0, 1][r.below(3) as usize];
    let n_att = [0, 0, 0, 1, 1, 2][r.below(6) as usize];
    let n_refs = [0, 0, 1, 2][r.below(4) as usize];
    let mid = |r: &mut Rng| format!("{:016x}.{:08x}@mail.example-corp.com", r.next(), r.next() as u32);
    let m = MailMeta {
        message_id: Some(mid(&mut r)),
        from: vec![mailbox(&mut r)],
        to: (0..n_to).map(|_| mailbox(&mut r)).collect(),
        cc: (0..n_cc).map(|_| mailbox(&mut r)).collect(),
        bcc: if r.below(10) == 0 { vec![mailbox(&mut r)] } else { vec![] },
        subject: Some({
            let k = 2 + r.below(8) as usize;
            words(&mut r, k)
        }),
        date_sent: Some(date),
        date_received: Some(date + 5),
        labels: {
            let mut l = vec!["^INBOX".to_string()];
            if r.below(2) == 0 {
                l.push("^UNREAD".into());
            }
            if r.below(3) == 0 {
                l.push(format!("Project {}", r.below(40)));
            }
            l
        },
        attachments: (0..n_att)
            .map(|_| {
                let k = 1 + r.below(3) as usize;
                Attachment { name: Some(format!("{}.pdf", words(&mut r, k).replace(' ', "_"))), content_type: "application/pdf".into(), size: r.below(5_000_000) }
            })
            .collect(),
        in_reply_to: if n_refs > 0 { vec![mid(&mut r)] } else { vec![] },
        references: (0..n_refs).map(|_| mid(&mut r)).collect(),
        is_draft: r.below(50) == 0,
        thread_id: Some(format!("{}", 1_600_000_000_000_000_000u64 + r.below(1 << 40))),
        envelope_sender: None,
        list_id: None,
        delivered_to: vec![acc.clone()],
    };
    let defects = match r.below(100) {
        0 => vec![Defect::BadDate],
        1 => vec![Defect::MissingMessageId],
        _ => vec![],
    };
    Record {
        doc_id: DocId(md5_of(seq)),
        seq,
        corpus: Corpus::Mail,
        org_unit: OrgUnit(org_unit(acct)),
        source: SourceRef {
            kind: SourceKind::Takeout,
            path: format!("/evidence/vault-2024-03/{acc}-{file_no:03}.mbox"),
            key: format!("{file_no:03}.mbox#{}", seq % 5000),
            offset: Some(seq * 48_211),
        },
        account: Account(acc),
        blob: BlobRef { md5: md5_of(!seq), size: 2_000 + r.below(200_000), pack: (seq / 20_000) as u32, offset: seq * 37_000 },
        meta: Metadata::Mail(Box::new(m)),
        defects,
    }
}
