//! MIME reading on arbitrary bytes, mapped onto an email-ish alphabet so the fuzzer reaches
//! headers, encoded words and multipart boundaries quickly: never panics, always reports.
#![no_main]

use ediscovery::ingest::mime;
use libfuzzer_sys::fuzz_target;

const ALPHABET: &[&[u8]] = &[
    b"\r\n", b"\n", b": ", b"From", b"To", b"Cc", b"Subject", b"Message-ID", b"Date", b"<", b">",
    b"@", b",", b"\"", b"=?", b"?=", b"?Q?", b"?B?", b"UTF-8", b"ISO-2022-JP", b"Content-Type",
    b"multipart/mixed; boundary=", b"--", b"text/html", b"<p>", b"base64", b"quoted-printable",
    b"Content-Transfer-Encoding", b"filename*=", b"Mon, 6 Mar 2023 10:00:00 +0000", b" ", b"\t",
    b"=C3=A9", b"\xff", b"\x00",
];

fuzz_target!(|data: &[u8]| {
    let mut msg = Vec::new();
    for &b in data {
        if b < 128 {
            msg.push(b);
        } else {
            msg.extend_from_slice(ALPHABET[usize::from(b - 128) % ALPHABET.len()]);
        }
    }
    let parsed = mime::parse(&msg);
    // Every message yields something: metadata or a defect that says why not.
    assert!(parsed.meta.message_id.is_some() || !parsed.defects.is_empty());
    assert!(parsed.body.len() <= mime::MAX_BODY_TEXT);
});
