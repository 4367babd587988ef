//! The report at the root of an organisation-wide export: one model ([`OrgReport`]), written as
//! `report.json` (serde) and rendered as `report.html` by a pure function ([`render_html`]).
//!
//! The HTML is what Google's Data Export puts in the archive's root for an administrator to open
//! in a browser (facts §15.3): the export's status and metadata at the top (who started it and
//! when, the expiry date), then the accounts with errors in alphabetical order with
//! `User/Service ID`, `Account type`, `Archive` (relative links that open the zips) and
//! `Failure summary` (exported / not exported) that expands (`<details>`) into the files that
//! failed with their reasons; then the accounts left out; then every account.
//!
//! One self-contained file: no script, no image, no font or stylesheet from anywhere (the style
//! is inline), so it works offline from a `file://` URL and a strict content security policy is
//! stated in a `<meta>`. Every text that comes from data — account names, file names, reasons —
//! is escaped ([`escape`]); links are relative paths built from [`SafeName`] folder and file
//! names and percent-encoded as well, so a hostile account name can neither inject markup nor
//! point a link outside the archive.
//!
//! [`SafeName`]: crate::export::SafeName

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The account types the report lists, as Google names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AccountKind {
    /// A person.
    #[serde(rename = "User")]
    User,
    /// A Google Group.
    #[serde(rename = "Group")]
    Group,
    /// Organisation-owned data (shared drives): "Resource" rows.
    #[serde(rename = "Customer-owned data")]
    CustomerOwned,
    /// Data without an owner (and accounts the organisation file does not list).
    #[serde(rename = "Service account")]
    ServiceAccount,
}

impl AccountKind {
    /// As the report shows it.
    pub fn label(self) -> &'static str {
        match self {
            AccountKind::User => "User",
            AccountKind::Group => "Group",
            AccountKind::CustomerOwned => "Customer-owned data",
            AccountKind::ServiceAccount => "Service account",
        }
    }
}

/// One archive file of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    /// Its path from the archive root, `/`-separated (`<account>/<account>-1.zip`).
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// MD5, lowercase hex.
    pub md5: String,
}

/// One file (item) that could not be exported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedFile {
    /// The product (`Mail`, `Groups`, …).
    pub product: String,
    /// The file's name as it would have been exported.
    pub file: String,
    /// Why it was not.
    pub reason: String,
}

/// Counts of one product of one account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductCount {
    /// Files written.
    pub exported: u64,
    /// Files that failed.
    pub not_exported: u64,
}

/// One account's part of the export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountReport {
    /// `User/Service ID`: the address.
    pub id: String,
    /// `Account type`.
    pub account_type: AccountKind,
    /// Its folder in the archive.
    pub folder: String,
    /// Its zips, in order.
    pub archives: Vec<Archive>,
    /// Per product.
    pub products: BTreeMap<String, ProductCount>,
    /// Files written, all products.
    pub exported: u64,
    /// Files that failed, all products.
    pub not_exported: u64,
    /// Items left out because their user deleted them and nothing keeps them.
    #[serde(default)]
    pub deleted_left_out: u64,
    /// The failed files.
    pub failures: Vec<FailedFile>,
}

/// An account the export left out, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeftOutAccount {
    /// The address.
    pub id: String,
    /// Its type.
    pub account_type: AccountKind,
    /// When it was created (ISO-8601 UTC).
    pub created: String,
    /// Why it is not in the archive.
    pub reason: String,
}

/// Totals over the accounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Accounts in the archive.
    pub accounts: u64,
    /// Of them, with errors.
    pub accounts_with_errors: u64,
    /// Accounts left out.
    pub left_out: u64,
    /// Files written.
    pub exported: u64,
    /// Files that failed.
    pub not_exported: u64,
    /// User-deleted items left out.
    pub deleted_left_out: u64,
    /// Zip files.
    pub archives: u64,
}

/// Everything the report says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgReport {
    /// The export's id (the archive folder's name).
    pub export_id: String,
    /// `Completed` or `Completed with errors`.
    pub status: String,
    /// The administrator who started it.
    pub started_by: String,
    /// When it started (ISO-8601 UTC).
    pub start_time: String,
    /// When it finished (ISO-8601 UTC).
    pub finish_time: String,
    /// When the archive expires and is removed (ISO-8601 UTC).
    pub expiry_time: String,
    /// Started within 30 days of the last full export, with `--force`.
    pub forced: bool,
    /// Every account in the archive, in alphabetical order.
    pub accounts: Vec<AccountReport>,
    /// Accounts left out, in alphabetical order.
    pub left_out: Vec<LeftOutAccount>,
    /// Totals.
    pub totals: Totals,
}

impl OrgReport {
    /// The accounts with errors, in alphabetical order.
    pub fn with_errors(&self) -> impl Iterator<Item = &AccountReport> {
        self.accounts.iter().filter(|a| a.not_exported > 0)
    }

    /// Sort the accounts and count the totals (call once every account is in).
    pub fn finish(&mut self) {
        self.accounts.sort_by(|a, b| a.id.cmp(&b.id));
        self.left_out.sort_by(|a, b| a.id.cmp(&b.id));
        let mut t = Totals { left_out: self.left_out.len() as u64, ..Totals::default() };
        for a in &self.accounts {
            t.accounts += 1;
            t.accounts_with_errors += u64::from(a.not_exported > 0);
            t.exported += a.exported;
            t.not_exported += a.not_exported;
            t.deleted_left_out += a.deleted_left_out;
            t.archives += a.archives.len() as u64;
        }
        self.status =
            if t.not_exported > 0 { "Completed with errors" } else { "Completed" }.to_owned();
        self.totals = t;
    }
}

/// `s` with `& < > " '` as character references: safe as element text and as a quoted
/// attribute value.
pub fn escape(s: &str) -> String {
    crate::format::html::escape(s)
}

/// A relative path as a URL path: each `/`-separated segment percent-encoded except RFC 3986's
/// unreserved characters and `@` `+`. A segment that is empty, `.` or `..` is encoded away
/// (`%2E%2E`), so the link cannot climb out of the archive whatever the path held.
pub fn href(path: &str) -> String {
    let mut out = String::new();
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let dots = seg.is_empty() || seg.bytes().all(|b| b == b'.');
        for b in seg.bytes() {
            if !dots && (b.is_ascii_alphanumeric() || b"-._~@+".contains(&b)) {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
        if seg.is_empty() {
            out.push_str("%5F");
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#202124;max-width:80rem}\
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}\
dl{display:grid;grid-template-columns:max-content auto;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}\
table{border-collapse:collapse;width:100%;margin-top:.5rem}\
caption{text-align:left;font-weight:600;padding:.25rem 0}\
th,td{border:1px solid #dadce0;padding:.4rem .6rem;text-align:left;vertical-align:top}\
thead th{background:#f1f3f4}tbody th{font-weight:400;word-break:break-all}\
.status-errors{color:#b3261e;font-weight:600}.status-ok{color:#137333;font-weight:600}\
ul{margin:0;padding-left:1.2rem}summary{cursor:pointer}code{word-break:break-all}\
details ul{margin-top:.4rem}";

fn archive_links(out: &mut String, a: &AccountReport) {
    if a.archives.is_empty() {
        out.push_str("<td>none</td>");
        return;
    }
    out.push_str("<td><ul>");
    for z in &a.archives {
        let name = z.path.rsplit('/').next().unwrap_or(&z.path);
        let _ = write!(
            out,
            "<li><a href=\"{}\">{}</a> ({} bytes)</li>",
            escape(&href(&z.path)),
            escape(name),
            z.size
        );
    }
    out.push_str("</ul></td>");
}

fn summary_text(a: &AccountReport) -> String {
    format!("{} exported, {} not exported", a.exported, a.not_exported)
}

fn failure_cell(out: &mut String, a: &AccountReport) {
    if a.failures.is_empty() {
        let _ = write!(out, "<td>{}</td>", escape(&summary_text(a)));
        return;
    }
    let _ = write!(
        out,
        "<td><details><summary>{}</summary><ul class=\"failed\">",
        escape(&summary_text(a))
    );
    for f in &a.failures {
        let _ = write!(
            out,
            "<li><span class=\"product\">{}</span>: <code class=\"file\">{}</code>: <span class=\"reason\">{}</span></li>",
            escape(&f.product),
            escape(&f.file),
            escape(&f.reason)
        );
    }
    out.push_str("</ul></details></td>");
}

fn account_table(out: &mut String, id: &str, caption: &str, rows: &[&AccountReport]) {
    let _ = write!(
        out,
        "<table id=\"{id}\"><caption>{}</caption><thead><tr>\
         <th scope=\"col\">User/Service ID</th><th scope=\"col\">Account type</th>\
         <th scope=\"col\">Archive</th><th scope=\"col\">Failure summary</th></tr></thead><tbody>",
        escape(caption)
    );
    for a in rows {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td>",
            escape(&a.id),
            escape(a.account_type.label())
        );
        archive_links(out, a);
        failure_cell(out, a);
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

/// The report as one self-contained HTML document (see the module documentation).
pub fn render_html(r: &OrgReport) -> String {
    let mut out = String::with_capacity(4096 + r.accounts.len() * 512);
    let t = &r.totals;
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>Data export {} – report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>Data export report</h1>\n",
        escape(&r.export_id)
    );
    let class = if t.not_exported > 0 { "status-errors" } else { "status-ok" };
    out.push_str("<section aria-labelledby=\"status\">\n<h2 id=\"status\">Status</h2>\n<dl>");
    let items: [(&str, String); 10] = [
        ("Export ID", r.export_id.clone()),
        ("Started by", r.started_by.clone()),
        ("Started", r.start_time.clone()),
        ("Finished", r.finish_time.clone()),
        ("Archive expires", r.expiry_time.clone()),
        (
            "Accounts",
            format!(
                "{} exported, {} with errors, {} left out",
                t.accounts, t.accounts_with_errors, t.left_out
            ),
        ),
        ("Files", format!("{} exported, {} not exported", t.exported, t.not_exported)),
        ("Deleted items left out", t.deleted_left_out.to_string()),
        ("Archive files", t.archives.to_string()),
        (
            "Started within 30 days of the last export",
            if r.forced { "yes (forced)" } else { "no" }.to_owned(),
        ),
    ];
    let _ = write!(
        out,
        "<dt>Status</dt><dd class=\"{class}\" id=\"export-status\">{}</dd>",
        escape(&r.status)
    );
    for (k, v) in &items {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    out.push_str("</dl>\n</section>\n");

    out.push_str(
        "<section aria-labelledby=\"errors\">\n<h2 id=\"errors\">Accounts with errors</h2>\n",
    );
    let errors: Vec<&AccountReport> = r.with_errors().collect();
    if errors.is_empty() {
        out.push_str("<p>No account had errors.</p>\n");
    } else {
        account_table(
            &mut out,
            "error-accounts",
            "Accounts with errors, in alphabetical order (expand a failure summary for the files that failed)",
            &errors,
        );
    }
    out.push_str("</section>\n");

    out.push_str(
        "<section aria-labelledby=\"left-out\">\n<h2 id=\"left-out\">Accounts left out</h2>\n",
    );
    if r.left_out.is_empty() {
        out.push_str("<p>No account was left out.</p>\n");
    } else {
        out.push_str(
            "<table id=\"left-out-accounts\"><caption>Accounts not in this archive, and why</caption>\
             <thead><tr><th scope=\"col\">User/Service ID</th><th scope=\"col\">Account type</th>\
             <th scope=\"col\">Created</th><th scope=\"col\">Reason</th></tr></thead><tbody>",
        );
        for a in &r.left_out {
            let _ = write!(
                out,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&a.id),
                escape(a.account_type.label()),
                escape(&a.created),
                escape(&a.reason)
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");

    out.push_str("<section aria-labelledby=\"all\">\n<h2 id=\"all\">All accounts</h2>\n");
    let all: Vec<&AccountReport> = r.accounts.iter().collect();
    account_table(&mut out, "all-accounts", "Every exported account, in alphabetical order", &all);
    out.push_str("</section>\n</main>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, failures: usize) -> AccountReport {
        AccountReport {
            id: id.to_owned(),
            account_type: AccountKind::User,
            folder: crate::export::SafeName::new(id).to_string(),
            archives: vec![Archive {
                path: format!("{0}/{0}-1.zip", crate::export::SafeName::new(id)),
                size: 10,
                md5: "0".repeat(32),
            }],
            products: BTreeMap::new(),
            exported: 3,
            not_exported: failures as u64,
            deleted_left_out: 0,
            failures: (0..failures)
                .map(|i| FailedFile {
                    product: "Mail".into(),
                    file: format!("<b>{i}</b>\"&.mbox"),
                    reason: "bytes <damaged>".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn hostile_names_are_escaped_and_links_stay_inside() {
        let mut r = OrgReport {
            export_id: "20260101T000000Z".into(),
            status: String::new(),
            started_by: "admin@x.org".into(),
            start_time: "2026-01-01T00:00:00Z".into(),
            finish_time: "2026-01-01T00:10:00Z".into(),
            expiry_time: "2026-01-31T00:00:00Z".into(),
            forced: false,
            accounts: vec![account("zed@x", 0), account("<script>alert(1)</script>@x", 2)],
            left_out: vec![],
            totals: Totals::default(),
        };
        r.finish();
        let html = render_html(&r);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;@x"));
        assert!(html.contains("&lt;b&gt;0&lt;/b&gt;&quot;&amp;.mbox"));
        assert_eq!(r.status, "Completed with errors");
        assert_eq!(href("../a b/..").as_str(), "%2E%2E/a%20b/%2E%2E");
        assert_eq!(href("a@x.org/a@x.org-1.zip"), "a@x.org/a@x.org-1.zip");
        assert_eq!(escape("a'b"), "a&#39;b");
    }
}
