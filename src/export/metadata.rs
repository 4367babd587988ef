//! The metadata files of a mail or groups export: EDRM XML, the mail CSV, results counts, error
//! reports, group membership. Values come from the records; every CSV cell is guarded and every
//! XML value cleaned by the format writers.

use super::naming::message_file_name;
use super::plan::ExportPlan;
use super::request::LineEndings;
use super::run::Failure;
use crate::digest::Md5;
use crate::format::csv::CsvWriter;
use crate::format::xml::{EdrmWriter, ExternalFile, Tag};
use crate::model::{Corpus, MailMeta, Mailbox, Record, time};
use std::io::{self, Write};

/// `metadata.csv` columns (Vault's, in order, then ours).
pub const CSV_COLUMNS: [&str; 22] = [
    "Rfc822MessageId",
    "GmailMessageId",
    "Account",
    "From",
    "To",
    "CC",
    "BCC",
    "Subject",
    "Labels",
    "DateSent",
    "DateReceived",
    "SubjectAtStart",
    "SubjectAtEnd",
    "DateFirstMessageSent",
    "DateLastMessageSent",
    "DateFirstMessageReceived",
    "DateLastMessageReceived",
    "ThreadedMessageCount",
    "DocID",
    "FileName",
    "FileSize",
    "Hash",
];

/// `error.csv` columns for mail and groups (Vault's, then class and retry query).
pub const ERROR_COLUMNS: [&str; 16] = [
    "Document ID",
    "Document type",
    "File type",
    "Attachments count",
    "Attachment names",
    "Subject",
    "Size",
    "From",
    "To",
    "Cc",
    "Sent time",
    "Source account",
    "Error description",
    "RFC 822 Message-ID",
    "Failure class",
    "Retry query",
];

/// Addresses as one comma-separated value; a display name holding a comma or quote is quoted.
pub fn addresses(list: &[Mailbox]) -> String {
    list.iter()
        .map(|m| match &m.name {
            Some(n) if n.contains([',', '"']) => {
                format!("\"{}\" <{}>", n.replace('"', "\\\""), m.address)
            }
            _ => m.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Labels as one comma-separated value, readable by the rule got-your-back applies to real Vault
/// exports: split at commas outside `"…"` and `'…'`, then strip white space and `"` from each
/// piece. So a label holding a comma or a `'` (which would open a quote) is written in double
/// quotes; a `"` inside a label cannot survive that rule and is dropped by such readers.
pub fn labels(list: &[String]) -> String {
    list.iter()
        .map(|l| if l.contains([',', '\'', '"']) { format!("\"{l}\"") } else { l.clone() })
        .collect::<Vec<_>>()
        .join(",")
}

/// The search that finds a record again: `rfc822msgid:"…"`, always quoted (so `*`, `OR`,
/// parentheses and spaces are data, not syntax) with `"` and `\` escaped by `\`. It finds
/// exactly the records with that Message-ID (several, if copies share it). Empty when the record
/// has no Message-ID: then no query singles it out, and the row says so.
pub fn retry_query(r: &Record) -> String {
    match r.mail().and_then(|m| m.message_id.as_deref()) {
        Some(id) if !id.trim().is_empty() => {
            format!("rfc822msgid:\"{}\"", crate::query::escape_phrase(id))
        }
        _ => String::new(),
    }
}

/// Said in `Error description` when a failed record has no retry query.
pub const NO_RETRY_QUERY: &str = "no Message-ID, so no query finds exactly this record: retry it by Document ID with --retry-from";

fn iso(t: Option<i64>) -> String {
    t.and_then(time::iso_utc_millis).unwrap_or_default()
}

fn csv_date(t: Option<i64>) -> String {
    t.and_then(time::csv_utc).unwrap_or_default()
}

/// Size and MD5 of a message as exported when its bytes differ from the stored ones (CRLF line
/// endings); `None` when it was exported as stored.
pub type Converted<'a> = Option<&'a (u64, Md5)>;

/// The mail metadata of a record in a mail or groups export. The plan admits only hits of the
/// export's corpus and the store only mail metadata on mail records, so this fails only on a
/// broken invariant, which stops the export instead of writing an empty mail row.
fn mail_of(r: &Record) -> io::Result<&MailMeta> {
    r.mail().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("record {} ({}) has no mail metadata to write", r.doc_id, r.corpus),
        )
    })
}

/// `FileSize` and `Hash` of a record as exported.
fn exported_file(r: &Record, converted: Converted<'_>) -> (u64, String) {
    match converted {
        Some((size, md5)) => (*size, md5.to_hex()),
        None => (r.blob().size, r.blob().md5.to_hex()),
    }
}

/// Start `metadata.xml`: the export-wide tags. Each exported record then adds its `Document`
/// ([`xml_document`]).
///
/// A `DateTime` tag without a value is left out, never written empty (a review tool's date
/// parser aborts on an empty one). With CRLF line endings each Document also carries
/// `IngestHash`, the MD5 of the bytes as ingested.
pub fn xml_start<W: Write>(plan: &ExportPlan, w: W) -> io::Result<EdrmWriter<W>> {
    let custodians: Vec<&str> = plan.custodians.iter().map(|a| a.as_str()).collect();
    let custodians = custodians.join(",");
    EdrmWriter::new(
        w,
        &[
            Tag { name: "UserQuery", data_type: "Text", value: &plan.user_query },
            Tag { name: "TimeZone", data_type: "Text", value: &plan.time_zone },
            Tag { name: "Custodians", data_type: "LongText", value: &custodians },
        ],
    )
}

/// One record's `Document` in `metadata.xml`.
pub fn xml_document<W: Write>(
    x: &mut EdrmWriter<W>,
    plan: &ExportPlan,
    r: &Record,
    converted: Converted<'_>,
) -> io::Result<()> {
    let crlf = plan.line_endings == LineEndings::Crlf;
    let m = mail_of(r)?;
    let doc_id = r.doc_id.to_string();
    let (from, to, cc, bcc) =
        (addresses(&m.from), addresses(&m.to), addresses(&m.cc), addresses(&m.bcc));
    let (sent, received) = (iso(m.date_sent), iso(m.date_received));
    let labels = labels(&m.labels);
    let ingest_hash = r.blob().md5.to_hex();
    let tags = [
        Tag { name: "Account", data_type: "Text", value: r.account.as_str() },
        Tag { name: "#From", data_type: "Text", value: &from },
        Tag { name: "#To", data_type: "LongText", value: &to },
        Tag { name: "#CC", data_type: "LongText", value: &cc },
        Tag { name: "#BCC", data_type: "LongText", value: &bcc },
        Tag { name: "#Subject", data_type: "Text", value: m.subject.as_deref().unwrap_or("") },
        Tag { name: "#DateSent", data_type: "DateTime", value: &sent },
        Tag { name: "#DateReceived", data_type: "DateTime", value: &received },
        Tag { name: "Labels", data_type: "Text", value: &labels },
        Tag {
            name: "Rfc822MessageId",
            data_type: "Text",
            value: m.message_id.as_deref().unwrap_or(""),
        },
        Tag { name: "IngestHash", data_type: "Text", value: &ingest_hash },
    ];
    let tags: Vec<Tag<'_>> = tags
        .into_iter()
        .filter(|t| !(t.data_type == "DateTime" && t.value.is_empty()))
        .filter(|t| crlf || t.name != "IngestHash")
        .collect();
    let (size, hash) = exported_file(r, converted);
    let file_name = message_file_name(r);
    x.document(&doc_id, &tags, &ExternalFile { name: &file_name, size, hash: &hash })
}

/// Start `metadata.csv` (mail): [`CSV_COLUMNS`], plus `IngestHash` last with CRLF line endings;
/// cells guarded as the plan says. Each exported record then adds its row ([`csv_row`]).
pub fn csv_start<W: Write>(plan: &ExportPlan, w: W) -> io::Result<CsvWriter<W>> {
    let mut header: Vec<&str> = CSV_COLUMNS.to_vec();
    if plan.line_endings == LineEndings::Crlf {
        header.push("IngestHash");
    }
    CsvWriter::with_guard(w, &header, plan.csv_formula_guard)
}

/// One record's row in `metadata.csv`.
pub fn csv_row<W: Write>(
    c: &mut CsvWriter<W>,
    plan: &ExportPlan,
    r: &Record,
    converted: Converted<'_>,
) -> io::Result<()> {
    let m = mail_of(r)?;
    let doc_id = r.doc_id.to_string();
    let (size, hash) = exported_file(r, converted);
    let mut row = vec![
        m.message_id.clone().unwrap_or_default(),
        doc_id.clone(),
        r.account.to_string(),
        addresses(&m.from),
        addresses(&m.to),
        addresses(&m.cc),
        addresses(&m.bcc),
        m.subject.clone().unwrap_or_default(),
        labels(&m.labels),
        csv_date(m.date_sent),
        csv_date(m.date_received),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        doc_id,
        message_file_name(r),
        size.to_string(),
        hash,
    ];
    if plan.line_endings == LineEndings::Crlf {
        row.push(r.blob().md5.to_hex());
    }
    c.row(&row)
}

/// Write `error.csv` rows for failed records.
pub fn write_errors(failed: &[(&Record, &Failure)], guard: bool, w: impl Write) -> io::Result<()> {
    let mut c = CsvWriter::with_guard(w, &ERROR_COLUMNS, guard)?;
    for (r, f) in failed {
        // Every failed record gets its row, whatever its corpus: the mail columns stay empty for
        // a record without mail metadata rather than the row being dropped.
        let empty = MailMeta::default();
        let m = r.mail().unwrap_or(&empty);
        let names: Vec<&str> = m.attachments.iter().filter_map(|a| a.name.as_deref()).collect();
        let kind = match r.corpus {
            Corpus::Mail | Corpus::Groups => "mail",
            other => other.as_str(),
        };
        c.row(&[
            r.doc_id.to_string(),
            kind.to_owned(),
            kind.to_owned(),
            m.attachments.len().to_string(),
            names.join(", "),
            m.subject.clone().unwrap_or_default(),
            r.blob().size.to_string(),
            addresses(&m.from),
            addresses(&m.to),
            addresses(&m.cc),
            csv_date(m.date_sent),
            r.account.to_string(),
            if retry_query(r).is_empty() {
                format!("{}; {NO_RETRY_QUERY}", f.reason)
            } else {
                f.reason.clone()
            },
            m.message_id.clone().unwrap_or_default(),
            f.class.as_str().to_owned(),
            retry_query(r),
        ])?;
    }
    c.finish().map(|_| ())
}
