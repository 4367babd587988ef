//! Hand-rolled binary record encoding (format byte, LEB128 varints, length-prefixed UTF-8).
//! `seq` is not stored: it is the row number. Why hand-rolled and not postcard/bincode: the crate's
//! model uses `#[serde(tag = ...)]` (Metadata, Defect) and `skip_serializing_if`, which
//! non-self-describing serde formats cannot round-trip (see `postcard_pitfall` in main.rs).
use crate::model::*;

pub const FORMAT: u8 = 1;

#[derive(Debug)]
pub struct DecodeError(pub &'static str);

pub struct W<'a>(pub &'a mut Vec<u8>);
impl W<'_> {
    #[inline]
    pub fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    #[inline]
    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64)
    }
    #[inline]
    pub fn s(&mut self, s: &str) {
        self.u(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn os(&mut self, s: &Option<String>) {
        match s {
            None => self.0.push(0),
            Some(s) => {
                self.0.push(1);
                self.s(s)
            }
        }
    }
    fn oi(&mut self, v: Option<i64>) {
        match v {
            None => self.0.push(0),
            Some(v) => {
                self.0.push(1);
                self.i(v)
            }
        }
    }
    fn vs(&mut self, v: &[String]) {
        self.u(v.len() as u64);
        for s in v {
            self.s(s)
        }
    }
    fn mbs(&mut self, v: &[Mailbox]) {
        self.u(v.len() as u64);
        for m in v {
            self.os(&m.name);
            self.s(&m.address);
        }
    }
}

pub fn encode(r: &Record, out: &mut Vec<u8>) {
    let mut w = W(out);
    w.0.push(FORMAT);
    w.0.extend_from_slice(&r.doc_id.0 .0);
    w.0.push(r.corpus as u8);
    w.s(&r.account.0);
    w.s(&r.org_unit.0);
    w.0.push(r.source.kind as u8);
    w.s(&r.source.path);
    w.s(&r.source.key);
    match r.source.offset {
        None => w.0.push(0),
        Some(o) => {
            w.0.push(1);
            w.u(o)
        }
    }
    w.0.extend_from_slice(&r.blob.md5.0);
    w.u(r.blob.size);
    w.u(r.blob.pack as u64);
    w.u(r.blob.offset);
    match &r.meta {
        Metadata::Mail(m) => {
            w.0.push(0); // meta kind
            w.os(&m.message_id);
            w.mbs(&m.from);
            w.mbs(&m.to);
            w.mbs(&m.cc);
            w.mbs(&m.bcc);
            w.os(&m.subject);
            w.oi(m.date_sent);
            w.oi(m.date_received);
            w.vs(&m.labels);
            w.u(m.attachments.len() as u64);
            for a in &m.attachments {
                w.os(&a.name);
                w.s(&a.content_type);
                w.u(a.size);
            }
            w.vs(&m.in_reply_to);
            w.vs(&m.references);
            w.0.push(m.is_draft as u8);
            w.os(&m.thread_id);
            w.os(&m.envelope_sender);
            w.os(&m.list_id);
            w.vs(&m.delivered_to);
        }
    }
    w.u(r.defects.len() as u64);
    for d in &r.defects {
        match d {
            Defect::Truncated => w.0.push(0),
            Defect::MissingMessageId => w.0.push(1),
            Defect::DuplicateMessageId { first } => {
                w.0.push(2);
                w.0.extend_from_slice(&first.0 .0)
            }
            Defect::InvalidUtf8Header => w.0.push(3),
            Defect::Unparseable => w.0.push(4),
            Defect::BadDate => w.0.push(5),
            Defect::MimeTooDeep { limit } => {
                w.0.push(6);
                w.u(*limit as u64)
            }
        }
    }
}

pub struct R<'a> {
    pub b: &'a [u8],
    pub p: usize,
}
type Res<T> = Result<T, DecodeError>;
impl<'a> R<'a> {
    #[inline]
    pub fn byte(&mut self) -> Res<u8> {
        let v = *self.b.get(self.p).ok_or(DecodeError("eof"))?;
        self.p += 1;
        Ok(v)
    }
    #[inline]
    pub fn bytes(&mut self, n: usize) -> Res<&'a [u8]> {
        let end = self.p.checked_add(n).ok_or(DecodeError("len"))?;
        let v = self.b.get(self.p..end).ok_or(DecodeError("eof"))?;
        self.p = end;
        Ok(v)
    }
    #[inline]
    pub fn u(&mut self) -> Res<u64> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift > 63 {
                return Err(DecodeError("varint"));
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }
    fn i(&mut self) -> Res<i64> {
        let u = self.u()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    #[inline]
    pub fn s(&mut self) -> Res<String> {
        let n = self.u()? as usize;
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map(str::to_owned).map_err(|_| DecodeError("utf8"))
    }
    fn os(&mut self) -> Res<Option<String>> {
        Ok(if self.byte()? == 0 { None } else { Some(self.s()?) })
    }
    fn oi(&mut self) -> Res<Option<i64>> {
        Ok(if self.byte()? == 0 { None } else { Some(self.i()?) })
    }
    fn n(&mut self) -> Res<usize> {
        let n = self.u()? as usize;
        // each element takes at least one byte: bound allocation by the remaining input
        if n > self.b.len() - self.p {
            return Err(DecodeError("count"));
        }
        Ok(n)
    }
    fn vs(&mut self) -> Res<Vec<String>> {
        let n = self.n()?;
        (0..n).map(|_| self.s()).collect()
    }
    fn mbs(&mut self) -> Res<Vec<Mailbox>> {
        let n = self.n()?;
        (0..n).map(|_| Ok(Mailbox { name: self.os()?, address: self.s()? })).collect()
    }
    fn md5(&mut self) -> Res<Md5> {
        Ok(Md5(self.bytes(16)?.try_into().unwrap()))
    }
}

pub fn decode(b: &[u8], seq: u64) -> Result<Record, DecodeError> {
    let mut r = R { b, p: 0 };
    if r.byte()? != FORMAT {
        return Err(DecodeError("format"));
    }
    let doc_id = DocId(r.md5()?);
    let corpus = match r.byte()? {
        0 => Corpus::Mail,
        1 => Corpus::Groups,
        2 => Corpus::Chat,
        3 => Corpus::Drive,
        4 => Corpus::Voice,
        _ => return Err(DecodeError("corpus")),
    };
    // trusted: written by us from an already-validated Account
    let account = Account(r.s()?);
    let org_unit = OrgUnit(r.s()?);
    let kind = match r.byte()? {
        0 => SourceKind::Mbox,
        1 => SourceKind::Takeout,
        2 => SourceKind::Maildir,
        3 => SourceKind::Eml,
        _ => return Err(DecodeError("kind")),
    };
    let path = r.s()?;
    let key = r.s()?;
    let offset = if r.byte()? == 0 { None } else { Some(r.u()?) };
    let blob = BlobRef { md5: r.md5()?, size: r.u()?, pack: r.u()? as u32, offset: r.u()? };
    let meta = match r.byte()? {
        0 => {
            let mut m = MailMeta::default();
            m.message_id = r.os()?;
            m.from = r.mbs()?;
            m.to = r.mbs()?;
            m.cc = r.mbs()?;
            m.bcc = r.mbs()?;
            m.subject = r.os()?;
            m.date_sent = r.oi()?;
            m.date_received = r.oi()?;
            m.labels = r.vs()?;
            let n = r.n()?;
            m.attachments = (0..n)
                .map(|_| Ok(Attachment { name: r.os()?, content_type: r.s()?, size: r.u()? }))
                .collect::<Res<_>>()?;
            m.in_reply_to = r.vs()?;
            m.references = r.vs()?;
            m.is_draft = r.byte()? != 0;
            m.thread_id = r.os()?;
            m.envelope_sender = r.os()?;
            m.list_id = r.os()?;
            m.delivered_to = r.vs()?;
            Metadata::Mail(Box::new(m))
        }
        _ => return Err(DecodeError("meta")),
    };
    let n = r.n()?;
    let mut defects = Vec::with_capacity(n);
    for _ in 0..n {
        defects.push(match r.byte()? {
            0 => Defect::Truncated,
            1 => Defect::MissingMessageId,
            2 => Defect::DuplicateMessageId { first: DocId(r.md5()?) },
            3 => Defect::InvalidUtf8Header,
            4 => Defect::Unparseable,
            5 => Defect::BadDate,
            6 => Defect::MimeTooDeep { limit: r.u()? as usize },
            _ => return Err(DecodeError("defect")),
        });
    }
    if r.p != b.len() {
        return Err(DecodeError("trailing"));
    }
    Ok(Record { doc_id, seq, corpus, account, org_unit, source: SourceRef { kind, path, key, offset }, blob, meta, defects })
}
