//! Text extraction for Drive files (issue 11 item 2), checked against independent readers:
//! Python's zipfile + xml.etree (`tests/independent/office_text.py`) for office files, Python's
//! own UTF-8 decoding for text files, and poppler's `pdftotext` for PDFs where it is installed.
//! Real files come from `../shared/corpus/fetch-real-corpora.sh` (skipped with a message when
//! absent); small fixtures and hostile inputs are built here, byte by byte.

use ediscovery::Limits;
use ediscovery::extract::{ExtractError, Extracted, FileKind, Truncation, Unsupported, extract};
use ediscovery::model::Defect;
use std::collections::BTreeSet;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use zip::write::SimpleFileOptions;

/// `raw/docs` of the real corpora (`EDISCOVERY_REAL_CORPORA`, else `../real-corpora`).
fn real_docs() -> Option<PathBuf> {
    let root = std::env::var_os("EDISCOVERY_REAL_CORPORA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../real-corpora"),
        PathBuf::from,
    );
    let docs = root.join("raw/docs");
    if docs.is_dir() {
        Some(docs)
    } else {
        eprintln!(
            "SKIPPED: no real corpora at {} (fetch them with ../shared/corpus/fetch-real-corpora.sh DIR and set EDISCOVERY_REAL_CORPORA=DIR)",
            root.display()
        );
        None
    }
}

fn pdftotext_installed() -> bool {
    let ok = Command::new("pdftotext").arg("-v").output().is_ok();
    if !ok {
        eprintln!("SKIPPED: pdftotext not installed (apt-get install poppler-utils)");
    }
    ok
}

/// Lowercased tokens: runs of letters, digits and `_` (Python's `\w+`).
fn tokens(s: &str) -> BTreeSet<String> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Lowercased words of at least four letters (what the PDF comparison counts: short tokens
/// are mostly numbers and hyphenation stubs).
fn words(s: &str) -> BTreeSet<String> {
    s.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect()
}

fn diff(a: &BTreeSet<String>, b: &BTreeSet<String>) -> Vec<String> {
    a.difference(b).take(20).cloned().collect()
}

/// The text Python's independent reader finds in an office file.
fn python_office_text(path: &Path) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/office_text.py");
    let out = Command::new("python3").arg(script).arg(path).output().expect("python3");
    assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn pdftotext(path: &Path, last_page: u32) -> String {
    let out = Command::new("pdftotext")
        .args(["-l", &last_page.to_string(), "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Our text of an office file and Python's have the same tokens.
fn assert_same_tokens_as_python(path: &Path, ours: &Extracted) {
    let theirs = tokens(&python_office_text(path));
    let mine = tokens(&ours.text);
    assert!(
        theirs == mine,
        "{}: only Python: {:?}; only ours: {:?}",
        path.display(),
        diff(&theirs, &mine),
        diff(&mine, &theirs)
    );
}

fn read(path: &Path) -> Extracted {
    let bytes = std::fs::read(path).unwrap();
    extract(&bytes, &path.to_string_lossy(), None, &Limits::default())
}

// ---------------------------------------------------------------------------------------------
// Real files.

#[test]
fn real_office_files_match_python_token_for_token() {
    let Some(docs) = real_docs() else { return };
    let mut seen = [0usize; 3];
    for e in std::fs::read_dir(&docs).unwrap() {
        let path = e.unwrap().path();
        let ext = path.extension().and_then(|x| x.to_str()).unwrap_or_default().to_owned();
        let (slot, kind) = match ext.as_str() {
            "docx" => (0, FileKind::Docx),
            "xlsx" => (1, FileKind::Xlsx),
            "pptx" => (2, FileKind::Pptx),
            _ => continue,
        };
        let out = read(&path);
        assert_eq!(out.kind, kind, "{}", path.display());
        assert_eq!(out.problem, None, "{}", path.display());
        assert_eq!(out.truncated, None, "{}", path.display());
        assert_same_tokens_as_python(&path, &out);
        seen[slot] += 1;
    }
    assert!(seen.iter().all(|&n| n >= 2), "too few real office files: {seen:?}");
}

#[test]
fn real_office_properties_match_core_xml() {
    let Some(docs) = real_docs() else { return };
    let out = read(&docs.join("example.docx"));
    // docProps/core.xml, read by Python below: title, creator, lastModifiedBy, created.
    let script = "import sys,zipfile,xml.etree.ElementTree as E,datetime\n\
        r=E.fromstring(zipfile.ZipFile(sys.argv[1]).read('docProps/core.xml'))\n\
        v={e.tag.rsplit('}',1)[-1]:(e.text or '') for e in r}\n\
        ts=lambda s:int(datetime.datetime.fromisoformat(s.replace('Z','+00:00')).timestamp())\n\
        print(v['title']);print(v['creator']);print(v['lastModifiedBy']);print(ts(v['created']));print(ts(v['modified']))";
    let py = Command::new("python3")
        .args(["-c", script])
        .arg(docs.join("example.docx"))
        .output()
        .unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let py = String::from_utf8(py.stdout).unwrap();
    let want: Vec<&str> = py.lines().collect();
    let p = &out.properties;
    assert_eq!(p.title.as_deref(), Some(want[0]));
    assert_eq!(p.creator.as_deref(), Some(want[1]));
    assert_eq!(p.last_modified_by.as_deref(), Some(want[2]));
    assert_eq!(p.created.map(|t| t.to_string()).as_deref(), Some(want[3]));
    assert_eq!(p.modified.map(|t| t.to_string()).as_deref(), Some(want[4]));
}

#[test]
fn real_pdfs_match_pdftotext() {
    let Some(docs) = real_docs() else { return };
    if !pdftotext_installed() {
        return;
    }
    let mut compared = 0;
    for e in std::fs::read_dir(&docs).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "pdf") {
            continue;
        }
        let out = read(&path);
        assert_eq!(out.kind, FileKind::Pdf);
        // pdftotext reads the same first pages we do.
        let theirs = words(&pdftotext(&path, Limits::default().extract_pages));
        if theirs.is_empty() {
            // Image-only (tableoptions.pdf): pdftotext finds no text either, and we say so.
            assert!(out.text.trim().is_empty(), "{}: {:?}", path.display(), out.text);
            assert!(
                matches!(out.problem, Some(ExtractError::NoTextLayer { pages }) if pages >= 1),
                "{}: {:?}",
                path.display(),
                out.problem
            );
            continue;
        }
        assert_eq!(out.problem, None, "{}", path.display());
        let mine = words(&out.text);
        let both = theirs.intersection(&mine).count() as f64;
        let (recall, precision) = (both / theirs.len() as f64, both / mine.len() as f64);
        // Measured: recall 0.986–1.000, precision 0.970–0.999. The rest is hyphenation:
        // pdftotext joins "compu-" + "tation" across lines, we keep both halves.
        assert!(
            recall >= 0.98 && precision >= 0.96,
            "{}: recall {recall:.3} precision {precision:.3}; only pdftotext: {:?}; only ours: {:?}",
            path.display(),
            diff(&theirs, &mine),
            diff(&mine, &theirs)
        );
        compared += 1;
    }
    assert!(compared >= 4, "only {compared} PDFs with text compared");
}

#[test]
fn real_pdf_past_100_pages_is_cut_and_its_info_read() {
    let Some(docs) = real_docs() else { return };
    let path = docs.join("gnuplot.pdf");
    if !path.is_file() {
        eprintln!("SKIPPED: {} absent", path.display());
        return;
    }
    let out = read(&path);
    assert_eq!(out.pages, Some(311));
    assert_eq!(out.truncated, Some(Truncation::Pages { limit: 100 }));
    assert!(
        out.defects().contains(&Defect::TextTruncated { cap: "extract_pages".into(), limit: 100 })
    );
    // A word pdftotext finds only past page 100 is not in our text; one from page 1 is.
    if pdftotext_installed() {
        let first = words(&pdftotext(&path, 100));
        let rest: BTreeSet<String> = words(&{
            let o = Command::new("pdftotext")
                .args(["-f", "101", "-enc", "UTF-8"])
                .arg(&path)
                .arg("-")
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).into_owned()
        });
        let later: Vec<&String> = rest.difference(&first).collect();
        assert!(later.len() > 50, "{later:?}");
        let mine = words(&out.text);
        let leaked: Vec<&&String> = later.iter().filter(|w| mine.contains(**w)).collect();
        assert!(leaked.is_empty(), "words of pages past 100 extracted: {leaked:?}");
    }
    // The Info dictionary, as pdfinfo reads it.
    assert_eq!(out.properties.title.as_deref(), Some("gnuplot documentation"));
    assert_eq!(out.properties.creator.as_deref(), Some("gnuplot"));
    if let Ok(info) = Command::new("pdfinfo").args(["-isodates"]).arg(&path).output() {
        let info = String::from_utf8_lossy(&info.stdout).into_owned();
        let created =
            info.lines().find_map(|l| l.strip_prefix("CreationDate:")).unwrap().trim().to_owned();
        let script = format!(
            "import datetime;print(int(datetime.datetime.fromisoformat('{created}'.replace('Z','+00:00')).timestamp()))"
        );
        let py = Command::new("python3").args(["-c", &script]).output().unwrap();
        assert_eq!(
            out.properties.created.map(|t| t.to_string()),
            Some(String::from_utf8_lossy(&py.stdout).trim().to_owned())
        );
    }
}

#[test]
fn real_text_files_read_as_python_decodes_them() {
    let Some(docs) = real_docs() else { return };
    let sotu = docs.parent().unwrap().join("sotu");
    // One Python process decodes every speech (UTF-8, newlines as they are).
    let script = "import sys,json,glob,os\n\
        print(json.dumps({os.path.basename(p): open(p,encoding='utf-8',errors='replace',newline='').read() for p in glob.glob(sys.argv[1]+'/*.txt')}))";
    let py = Command::new("python3").args(["-c", script]).arg(&sotu).output().unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let theirs: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&py.stdout).unwrap();
    assert!(theirs.len() > 200, "{} speeches", theirs.len());
    for (name, text) in &theirs {
        let bytes = std::fs::read(sotu.join(name)).unwrap();
        let out = extract(&bytes, "speech.txt", Some("text/plain"), &Limits::default());
        assert_eq!(
            (out.kind, &out.problem, out.truncated),
            (FileKind::Text, &None, None),
            "{name}"
        );
        assert_eq!(&out.text, text, "{name}");
    }
}

#[test]
fn real_images_and_legacy_office_files_are_not_searched_and_say_so() {
    let Some(docs) = real_docs() else { return };
    for (name, want) in [
        ("einstein.jpg", Unsupported::Image),
        ("logo.png", Unsupported::Image),
        ("clippy.xls", Unsupported::LegacyOffice),
    ] {
        // Even when the name claims a supported type.
        let bytes = std::fs::read(docs.join(name)).unwrap();
        let out = extract(&bytes, "renamed.docx", Some("application/pdf"), &Limits::default());
        assert_eq!(out.kind, FileKind::Unsupported(want), "{name}");
        assert_eq!(out.text, "");
        assert_eq!(out.defects(), vec![Defect::TextNotExtracted { reason: want.reason().into() }]);
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures made here.

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        z.start_file(*name, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap().into_inner()
}

const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;
const CT: &[u8] = br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;

fn docx(body: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let doc = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>{body}</w:body></w:document>"#
    );
    let mut entries: Vec<(&str, &[u8])> =
        vec![("[Content_Types].xml", CT), ("word/document.xml", doc.as_bytes())];
    entries.extend_from_slice(extra);
    zip_of(&entries)
}

/// Write `bytes` to a temporary file for the Python reader.
fn on_disk(bytes: &[u8], name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    (dir, p)
}

#[test]
fn docx_fixture_reads_paragraphs_headers_notes_and_skips_what_is_not_text() {
    let body = r#"<w:p><w:r><w:t>Merger</w:t></w:r><w:r><w:t xml:space="preserve"> agree</w:t></w:r><w:r><w:t>ment</w:t></w:r></w:p>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Col1</w:t><w:tab/><w:t>Col2</w:t><w:br/><w:t>R&amp;D</w:t></w:r></w:p>
<w:p><w:del><w:r><w:delText>withdrawn</w:delText></w:r></w:del><w:r><w:instrText>PAGEREF _Toc1</w:instrText></w:r></w:p>
<w:p><w:r><mc:AlternateContent><mc:Choice><w:t>boxed</w:t></mc:Choice><mc:Fallback><w:t>legacycopy</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>
<w:p><w:r><w:lastRenderedPageBreak/><w:t>Second page</w:t></w:r></w:p>"#;
    let header =
        format!(r#"<w:hdr {W}><w:p><w:r><w:t>Privileged header</w:t></w:r></w:p></w:hdr>"#);
    let notes = format!(
        r#"<w:footnotes {W}><w:footnote><w:p><w:r><w:t>Footnote words</w:t></w:r></w:p></w:footnote></w:footnotes>"#
    );
    let core = br#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>Deal memo</dc:title><dc:creator>Ann Example</dc:creator><dcterms:created>2017-03-05T10:29:54Z</dcterms:created></cp:coreProperties>"#;
    let bytes = docx(
        body,
        &[
            ("word/header1.xml", header.as_bytes()),
            ("word/footnotes.xml", notes.as_bytes()),
            ("docProps/core.xml", core),
        ],
    );
    let out = extract(&bytes, "memo.bin", None, &Limits::default());
    assert_eq!(out.kind, FileKind::Docx);
    assert_eq!(
        out.text,
        "Merger agreement\nCol1\tCol2\nR&D\nboxed\nSecond page\nPrivileged header\nFootnote words\n"
    );
    assert_eq!(out.pages, Some(2), "one lastRenderedPageBreak: two pages");
    assert_eq!(out.properties.title.as_deref(), Some("Deal memo"));
    assert_eq!(out.properties.creator.as_deref(), Some("Ann Example"));
    assert_eq!(out.properties.created, Some(1_488_709_794));
    assert!(out.defects().is_empty());
    let (_d, p) = on_disk(&bytes, "memo.docx");
    assert_eq!(tokens(&out.text), tokens(&python_office_text(&p)));
}

#[test]
fn docx_pages_past_the_cap_are_not_read() {
    let page =
        |n: usize| format!("<w:p><w:r><w:lastRenderedPageBreak/><w:t>page{n}</w:t></w:r></w:p>");
    let body: String = (2..=5).map(page).collect();
    let bytes = docx(&format!("<w:p><w:r><w:t>page1</w:t></w:r></w:p>{body}"), &[]);
    let mut limits = Limits::default();
    limits.extract_pages = 3;
    let out = extract(&bytes, "x.docx", None, &limits);
    assert_eq!(out.text, "page1\npage2\npage3\n");
    assert_eq!(out.truncated, Some(Truncation::Pages { limit: 3 }));
}

#[test]
fn xlsx_fixture_reads_strings_numbers_and_sheet_names_in_workbook_order() {
    let wb = br#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Summary" sheetId="2" r:id="rId2"/><sheet name="Raw data" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let rels = br#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    let sst = br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>Revenue</t></si><si><r><t>Net </t></r><r><t>income</t></r><rPh><t>phonetic</t></rPh></si></sst>"#;
    let s1 = br#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>1234.5</v></c><c r="C1" t="inlineStr"><is><t>inline words</t></is></c><c r="D1" t="b"><v>1</v></c><c r="E1" t="e"><v>#DIV/0!</v></c><c r="F1" t="str"><f>A1&amp;"x"</f><v>Revenuex</v></c></row></sheetData></worksheet>"#;
    let s2 = br#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1"><v>42</v></c></row></sheetData></worksheet>"#;
    let bytes = zip_of(&[
        ("[Content_Types].xml", CT),
        ("xl/workbook.xml", wb),
        ("xl/_rels/workbook.xml.rels", rels),
        ("xl/sharedStrings.xml", sst),
        ("xl/worksheets/sheet1.xml", s1),
        ("xl/worksheets/sheet2.xml", s2),
    ]);
    let out = extract(&bytes, "book", None, &Limits::default());
    assert_eq!(out.kind, FileKind::Xlsx);
    assert_eq!(
        out.text,
        "Revenue\nNet income\nSummary\n42\nRaw data\n1234.5\ninline words\nRevenuex\n"
    );
    let (_d, p) = on_disk(&bytes, "book.xlsx");
    assert_eq!(tokens(&out.text), tokens(&python_office_text(&p)));
}

fn pptx(slides: &[&str], with_notes: bool) -> Vec<u8> {
    const P: &str = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    // Presentation order is the reverse of the file numbering.
    let ids: String = (1..=slides.len())
        .rev()
        .map(|i| format!(r#"<p:sldId id="{}" r:id="rId{i}"/>"#, 255 + i))
        .collect();
    let pres = format!("<p:presentation {P}><p:sldIdLst>{ids}</p:sldIdLst></p:presentation>");
    let rels: String = (1..=slides.len()).map(|i| format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide{i}.xml"/>"#)).collect();
    let rels = format!(
        r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>"#
    );
    let mut owned: Vec<(String, Vec<u8>)> = vec![
        ("[Content_Types].xml".into(), CT.to_vec()),
        ("ppt/presentation.xml".into(), pres.into_bytes()),
        ("ppt/_rels/presentation.xml.rels".into(), rels.into_bytes()),
    ];
    for (i, text) in slides.iter().enumerate() {
        let n = i + 1;
        owned.push((format!("ppt/slides/slide{n}.xml"), format!(r#"<p:sld {P}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{text}</a:t></a:r><a:br/><a:r><a:t>line two</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#).into_bytes()));
        if with_notes {
            owned.push((format!("ppt/slides/_rels/slide{n}.xml.rels"), format!(r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide" Target="../notesSlides/notesSlide{n}.xml"/></Relationships>"#).into_bytes()));
            owned.push((format!("ppt/notesSlides/notesSlide{n}.xml"), format!(r#"<p:notes {P}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>note {text}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:notes>"#).into_bytes()));
        }
    }
    let entries: Vec<(&str, &[u8])> =
        owned.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    zip_of(&entries)
}

#[test]
fn pptx_fixture_reads_slides_in_presentation_order_with_notes_and_caps_pages() {
    let bytes = pptx(&["alpha", "bravo", "charlie"], true);
    let out = extract(&bytes, "deck.pptx", None, &Limits::default());
    assert_eq!(out.kind, FileKind::Pptx);
    assert_eq!(out.pages, Some(3));
    assert_eq!(
        out.text,
        "charlie\nline two\nnote charlie\nbravo\nline two\nnote bravo\nalpha\nline two\nnote alpha\n"
    );
    let (_d, p) = on_disk(&bytes, "deck.pptx");
    assert_eq!(tokens(&out.text), tokens(&python_office_text(&p)));
    let mut limits = Limits::default();
    limits.extract_pages = 2;
    let out = extract(&bytes, "deck.pptx", None, &limits);
    assert_eq!((out.pages, out.truncated), (Some(3), Some(Truncation::Pages { limit: 2 })));
    assert!(out.text.contains("bravo") && !out.text.contains("alpha"), "{:?}", out.text);
}

fn odf(mime: &str, body: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"><office:automatic-styles/><office:body>{body}</office:body></office:document-content>"#
    );
    let meta = br#"<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><meta:initial-creator>Ann</meta:initial-creator><dc:creator>Bob</dc:creator><meta:creation-date>2017-03-05T10:29:54</meta:creation-date><dc:title>Plan</dc:title><meta:document-statistic meta:page-count="7"/></office:meta></office:document-meta>"#;
    // The mimetype entry is stored first, uncompressed, as ODF requires.
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    z.start_file(
        "mimetype",
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
    .unwrap();
    z.write_all(mime.as_bytes()).unwrap();
    for (name, bytes) in [("content.xml", content.as_bytes()), ("meta.xml", &meta[..])] {
        z.start_file(name, SimpleFileOptions::default()).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap().into_inner()
}

#[test]
fn odf_fixtures_read_text_cells_and_pages() {
    let odt = odf(
        "application/vnd.oasis.opendocument.text",
        r#"<office:text><text:tracked-changes><text:changed-region><text:deletion><text:p>struck</text:p></text:deletion></text:changed-region></text:tracked-changes><text:h>Title</text:h><text:p>one<text:s text:c="3"/>two<text:tab/>three<text:line-break/>four <text:span>span</text:span>ned</text:p></office:text>"#,
    );
    let out = extract(&odt, "plan.odt", None, &Limits::default());
    assert_eq!(out.kind, FileKind::Odt);
    assert_eq!(out.text, "Title\none two\tthree\nfour spanned\n");
    assert_eq!(out.pages, Some(7));
    let p = &out.properties;
    assert_eq!(
        (p.creator.as_deref(), p.last_modified_by.as_deref(), p.title.as_deref()),
        (Some("Ann"), Some("Bob"), Some("Plan"))
    );
    assert_eq!(p.created, Some(1_488_709_794));
    let (_d, path) = on_disk(&odt, "plan.odt");
    assert_eq!(tokens(&out.text), tokens(&python_office_text(&path)));

    let ods = odf(
        "application/vnd.oasis.opendocument.spreadsheet",
        r#"<office:spreadsheet><table:table table:name="Budget"><table:table-row><table:table-cell office:value-type="float" office:value="12.5"><text:p>12.5</text:p></table:table-cell><table:table-cell><text:p>travel</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet>"#,
    );
    let out = extract(&ods, "b", Some("application/octet-stream"), &Limits::default());
    assert_eq!((out.kind, out.text.as_str()), (FileKind::Ods, "Budget\n12.5\ntravel\n"));
    let (_d, path) = on_disk(&ods, "b.ods");
    assert_eq!(tokens(&out.text), tokens(&python_office_text(&path)));

    let pages: String =
        (1..=4).map(|i| format!("<draw:page><text:p>slide{i}</text:p></draw:page>")).collect();
    let odp = odf(
        "application/vnd.oasis.opendocument.presentation",
        &format!("<office:presentation>{pages}</office:presentation>"),
    );
    let mut limits = Limits::default();
    limits.extract_pages = 3;
    let out = extract(&odp, "d.odp", None, &limits);
    assert_eq!(out.kind, FileKind::Odp);
    assert_eq!((out.pages, out.truncated), (Some(4), Some(Truncation::Pages { limit: 3 })));
    assert_eq!(out.text, "slide1\nslide2\nslide3\n");
}

/// A PDF from `objects` (numbered from 1), with a correct cross-reference table.
fn pdf_of(objects: &[String], info: Option<usize>) -> Vec<u8> {
    let objects: Vec<Vec<u8>> = objects.iter().map(|o| o.clone().into_bytes()).collect();
    pdf_of_bytes(&objects, info)
}

fn pdf_of_bytes(objects: &[Vec<u8>], info: Option<usize>) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    let info = info.map(|i| format!(" /Info {i} 0 R")).unwrap_or_default();
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(content: &[u8], dict: &str) -> String {
    String::from_utf8(stream_bytes(content, dict)).unwrap()
}

fn stream_bytes(content: &[u8], dict: &str) -> Vec<u8> {
    let mut out = format!("<< /Length {}{dict} >>\nstream\n", content.len()).into_bytes();
    out.extend_from_slice(content);
    out.extend_from_slice(b"\nendstream");
    out
}

/// Catalog, pages, font, then one page (and content stream) per text; page `i` gets `extra[i]`
/// in its dictionary (and no MediaBox when `extra[i]` says `nobox`).
fn text_pdf(texts: &[&str], page_extra: &[&str], more: &[String]) -> Vec<u8> {
    let n = texts.len();
    let base = 4; // 1 catalog, 2 pages, 3 font
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", base + 2 * i)).collect();
    let mut objs = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    for (i, t) in texts.iter().enumerate() {
        let extra = page_extra.get(i).copied().unwrap_or("");
        let mediabox = if extra.contains("nobox") { "" } else { "/MediaBox [0 0 612 792]" };
        let extra = extra.replace("nobox", "");
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R {mediabox} /Resources << /Font << /F1 3 0 R >> {extra} >> /Contents {} 0 R >>",
            base + 2 * i + 1
        ));
        objs.push(stream(format!("BT /F1 24 Tf 72 700 Td ({t}) Tj ET").as_bytes(), ""));
    }
    objs.extend_from_slice(more);
    pdf_of(&objs, None)
}

#[test]
fn tiny_pdf_reads_its_text_and_info_as_pdftotext_does() {
    let mut objs = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        stream(b"BT /F1 24 Tf 72 700 Td (Hello PDF world) Tj 0 -30 Td (second line) Tj ET", ""),
    ];
    objs.push("<< /Title (Board minutes) /Author <FEFF0041006E006E00E9> /CreationDate (D:20170305112954+01'00') >>".to_owned());
    let bytes = pdf_of(&objs, Some(6));
    let out = extract(&bytes, "m.pdf", None, &Limits::default());
    assert_eq!((out.kind, out.pages, &out.problem), (FileKind::Pdf, Some(1), &None));
    assert_eq!(tokens(&out.text), tokens("Hello PDF world second line"), "{:?}", out.text);
    assert_eq!(out.properties.title.as_deref(), Some("Board minutes"));
    assert_eq!(out.properties.creator.as_deref(), Some("Anné"));
    assert_eq!(out.properties.created, Some(1_488_709_794));
    if pdftotext_installed() {
        let (_d, p) = on_disk(&bytes, "m.pdf");
        assert_eq!(tokens(&pdftotext(&p, 100)), tokens(&out.text));
    }
}

#[test]
fn pdf_pages_past_the_cap_are_not_read() {
    let bytes = text_pdf(&["pageone", "pagetwo", "pagethree"], &[], &[]);
    let mut limits = Limits::default();
    limits.extract_pages = 2;
    let out = extract(&bytes, "p.pdf", None, &limits);
    assert_eq!((out.pages, out.truncated), (Some(3), Some(Truncation::Pages { limit: 2 })));
    assert_eq!(tokens(&out.text), tokens("pageone pagetwo"));
}

// ---------------------------------------------------------------------------------------------
// Hostile input: a clear problem or a documented rendering, never a panic.

#[test]
fn zip_bomb_entry_is_stopped_at_the_part_cap_with_its_name() {
    let mut body = String::from("<w:p><w:r><w:t>before the bomb</w:t></w:r></w:p><w:p>");
    body.push_str(&" ".repeat(4 << 20));
    let bytes = docx(&body, &[]);
    assert!(bytes.len() < 64 << 10, "{} bytes", bytes.len());
    let mut limits = Limits::default();
    limits.extract_part_bytes = 1 << 20;
    let out = extract(&bytes, "bomb.docx", None, &limits);
    assert_eq!(
        out.problem,
        Some(ExtractError::PartTooLarge { entry: "word/document.xml".into(), limit: 1 << 20 })
    );
    assert_eq!(out.text, "before the bomb\n");
    let reason = out.defects()[0].clone();
    assert!(
        matches!(&reason, Defect::TextNotExtracted { reason } if reason.contains("word/document.xml") && reason.contains("extract_part_bytes")),
        "{reason:?}"
    );
}

#[test]
fn many_parts_are_stopped_at_the_total_inflation_cap() {
    let filler = format!("<a>{}</a>", " ".repeat(600 << 10));
    let mut extra: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 1..=5 {
        extra.push((format!("word/header{i}.xml"), filler.clone().into_bytes()));
    }
    let refs: Vec<(&str, &[u8])> = extra.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let bytes = docx("<w:p><w:r><w:t>main</w:t></w:r></w:p>", &refs);
    let mut limits = Limits::default();
    limits.extract_part_bytes = 1 << 20;
    limits.extract_inflated_bytes = 2 << 20;
    let out = extract(&bytes, "x.docx", None, &limits);
    assert_eq!(
        out.problem,
        Some(ExtractError::InflatedTooLarge { entry: "word/header4.xml".into(), limit: 2 << 20 })
    );
    assert!(out.text.starts_with("main"));
}

#[test]
fn truncated_zip_names_what_it_claimed_to_be() {
    let whole = docx("<w:p><w:r><w:t>gone</w:t></w:r></w:p>", &[]);
    let cut = &whole[..whole.len() / 2];
    let out = extract(cut, "Contract.docx", None, &Limits::default());
    assert_eq!(out.kind, FileKind::Docx);
    assert!(matches!(out.problem, Some(ExtractError::Zip { .. })), "{:?}", out.problem);
    let out = extract(cut, "blob", None, &Limits::default());
    assert_eq!(out.kind, FileKind::Unsupported(Unsupported::Archive));
    assert_eq!(out.defects().len(), 2);
}

#[test]
fn xml_nested_ten_thousand_deep_is_an_error_at_its_byte() {
    let body = format!("<w:p><w:r><w:t>shallow</w:t></w:r></w:p>{}", "<w:sdt>".repeat(10_000));
    let bytes = docx(&body, &[]);
    let out = extract(&bytes, "deep.docx", None, &Limits::default());
    assert_eq!(out.text, "shallow\n");
    match out.problem {
        Some(ExtractError::XmlTooDeep { entry, limit: 256, at }) => {
            assert_eq!(entry, "word/document.xml");
            // The 256th `<w:sdt>` after the prolog, document, body and paragraph.
            assert!(at > 254 * 7, "{at}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_xml_keeps_the_text_before_it() {
    let bytes = docx("<w:p><w:r><w:t>kept</w:t></w:r></w:p><w:p><w:r><w:t>broken</w:x>", &[]);
    let out = extract(&bytes, "x.docx", None, &Limits::default());
    assert!(out.text.starts_with("kept\nbroken"), "{:?}", out.text);
    assert!(
        matches!(&out.problem, Some(ExtractError::Xml { entry, .. }) if entry == "word/document.xml"),
        "{:?}",
        out.problem
    );
}

#[test]
fn pdf_with_a_broken_xref_is_refused_never_a_panic() {
    let good = text_pdf(&["recovered text"], &[], &[]);
    // startxref points into the middle of an object.
    let s = String::from_utf8_lossy(&good).into_owned();
    let at = s.rfind("startxref\n").unwrap() + "startxref\n".len();
    let mut broken = good[..at].to_vec();
    broken.extend_from_slice(b"17\n%%EOF\n");
    let out = extract(&broken, "b.pdf", None, &Limits::default());
    assert_eq!(out.kind, FileKind::Pdf);
    assert!(
        matches!(out.problem, Some(ExtractError::Pdf { .. })),
        "{:?} {:?}",
        out.problem,
        out.text
    );
    // And cut short in the middle of the cross-reference table.
    let xref = s.find("xref\n").unwrap();
    let out = extract(&good[..xref + 20], "c.pdf", None, &Limits::default());
    assert!(matches!(out.problem, Some(ExtractError::Pdf { .. })), "{:?}", out.problem);
}

/// Catalog, pages (two), font, and the two pages with their contents: page 1 (object 4)
/// draws content object 5, page 2 (object 6) content object 7; `page1_resources` is added to
/// page 1's resources; `more` are objects 8, ….
fn two_pages(
    content1: Vec<u8>,
    page1_resources: &str,
    content2: &[u8],
    more: Vec<Vec<u8>>,
) -> Vec<u8> {
    let mut objs: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [4 0 R 6 0 R] /Count 2 /MediaBox [0 0 612 792] >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> {page1_resources} >> /Contents 5 0 R >>").into_bytes(),
        content1,
        b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents 7 0 R >>".to_vec(),
        stream_bytes(content2, ""),
    ];
    objs.extend(more);
    pdf_of_bytes(&objs, None)
}

#[test]
fn pdf_flate_bomb_stream_is_left_out_and_the_rest_read() {
    use flate2::{Compression, write::ZlibEncoder};
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    z.write_all(&vec![b' '; 4 << 20]).unwrap();
    let bomb = z.finish().unwrap();
    assert!(bomb.len() < 64 << 10);
    let pdf = two_pages(
        stream_bytes(&bomb, " /Filter /FlateDecode"),
        "",
        b"BT /F1 24 Tf 72 700 Td (safe page) Tj ET",
        vec![],
    );
    let mut limits = Limits::default();
    limits.extract_part_bytes = 1 << 20;
    let out = extract(&pdf, "bomb.pdf", None, &limits);
    assert_eq!(
        out.problem,
        Some(ExtractError::PdfStreamTooLarge { object: 5, generation: 0, limit: 1 << 20 })
    );
    assert_eq!(tokens(&out.text), tokens("safe page"));
    assert_eq!(out.pages, Some(2));
    // Under the default cap (64 MiB) the same stream is read: it is only spaces.
    let out = extract(&pdf, "bomb.pdf", None, &Limits::default());
    assert_eq!((out.problem, tokens(&out.text)), (None, tokens("safe page")));
}

#[test]
fn pdf_form_that_draws_itself_is_refused_on_its_page_only() {
    // Page 1 draws form 8, which has no resources of its own and so draws `/X1` from the
    // page's: itself.
    let looping = stream_bytes(b"/X1 Do", " /Type /XObject /Subtype /Form /BBox [0 0 10 10]");
    let page1 = stream_bytes(b"BT /F1 24 Tf 72 700 Td (looping) Tj ET /X1 Do", "");
    let bytes = two_pages(
        page1.clone(),
        "/XObject << /X1 8 0 R >>",
        b"BT /F1 24 Tf 72 700 Td (fine page) Tj ET",
        vec![looping],
    );
    let out = extract(&bytes, "loop.pdf", None, &Limits::default());
    assert_eq!(out.problem, Some(ExtractError::PdfFormLoop { page: 1 }));
    assert_eq!(tokens(&out.text), tokens("fine page"));
    // The same form drawing text instead of itself, drawn twice: read, no problem.
    let form = stream_bytes(
        b"BT /F1 12 Tf 0 0 Td (in form) Tj ET",
        " /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /Font << /F1 3 0 R >> >>",
    );
    let page1 = stream_bytes(b"BT /F1 24 Tf 72 700 Td (looping) Tj ET /X1 Do /X1 Do", "");
    let bytes = two_pages(
        page1,
        "/XObject << /X1 8 0 R >>",
        b"BT /F1 24 Tf 72 700 Td (fine page) Tj ET",
        vec![form],
    );
    let out = extract(&bytes, "ok.pdf", None, &Limits::default());
    assert_eq!(out.problem, None);
    assert!(tokens(&out.text).contains("form"), "{:?}", out.text);
}

#[test]
fn pdf_reader_panic_is_caught_per_page() {
    // pdf-extract `expect`s a MediaBox on every page; page 1 has none.
    let bytes = text_pdf(&["no box here", "boxed page"], &["nobox"], &[]);
    let out = extract(&bytes, "p.pdf", None, &Limits::default());
    match &out.problem {
        Some(ExtractError::PdfPanicked { page: 1, message }) => {
            assert!(message.contains("MediaBox"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(tokens(&out.text), tokens("boxed page"));
}

#[test]
fn encrypted_files_are_not_searched_and_say_so() {
    let mut pdf = text_pdf(&["secret"], &[], &[]);
    let s = String::from_utf8_lossy(&pdf).into_owned();
    let at = s.rfind("/Root 1 0 R").unwrap();
    pdf.splice(
        at..at,
        b"/Encrypt << /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >> ".iter().copied(),
    );
    let out = extract(&pdf, "s.pdf", None, &Limits::default());
    assert_eq!(
        (out.problem, out.text.as_str()),
        (Some(ExtractError::Encrypted { what: "PDF" }), "")
    );
    // Office's password protection: an OLE2 file holding an EncryptedPackage stream.
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.extend(vec![0u8; 512]);
    ole.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    let out = extract(&ole, "Budget.xlsx", None, &Limits::default());
    assert_eq!(
        (out.kind, out.problem),
        (FileKind::Xlsx, Some(ExtractError::Encrypted { what: "Office document" }))
    );
    // A password-protected ODF file says so in its manifest.
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    z.start_file(
        "mimetype",
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
    .unwrap();
    z.write_all(b"application/vnd.oasis.opendocument.text").unwrap();
    z.start_file("META-INF/manifest.xml", SimpleFileOptions::default()).unwrap();
    z.write_all(br#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data manifest:checksum="x"/></manifest:file-entry></manifest:manifest>"#).unwrap();
    z.start_file("content.xml", SimpleFileOptions::default()).unwrap();
    z.write_all(b"\x8f\x02garbage").unwrap();
    let out = extract(&z.finish().unwrap().into_inner(), "x.odt", None, &Limits::default());
    assert_eq!(
        (out.kind, out.problem),
        (FileKind::Odt, Some(ExtractError::Encrypted { what: "OpenDocument" }))
    );
}

#[test]
fn huge_text_is_capped_and_invalid_utf8_rendered_as_documented() {
    let limits = Limits::default();
    // 20 MB in one line.
    let big = vec![b'w'; 20 << 20];
    let out = extract(&big, "log.txt", None, &limits);
    assert_eq!(out.text.len(), limits.extract_text_bytes);
    assert_eq!(
        out.truncated,
        Some(Truncation::TextBytes { limit: limits.extract_text_bytes as u64 })
    );
    assert_eq!(
        out.defects(),
        vec![Defect::TextTruncated { cap: "extract_text_bytes".into(), limit: 1 << 20 }]
    );
    // Latin-1 text becomes windows-1252 text; a damaged UTF-8 file keeps its UTF-8.
    assert_eq!(extract(b"na\xEFve caf\xE9", "a.txt", None, &limits).text, "naïve café");
    assert_eq!(
        extract(
            "naïve café \u{2014}"
                .as_bytes()
                .iter()
                .copied()
                .chain([0xC3])
                .collect::<Vec<_>>()
                .as_slice(),
            "a.txt",
            None,
            &limits
        )
        .text,
        "naïve café \u{2014}\u{FFFD}"
    );
    // Empty input is empty text, no problem.
    let out = extract(b"", "empty.txt", None, &limits);
    assert_eq!((out.kind, out.text.as_str(), out.defects()), (FileKind::Text, "", vec![]));
}

#[test]
fn files_past_the_file_cap_are_not_opened() {
    let bytes = text_pdf(&["small"], &[], &[]);
    let mut limits = Limits::default();
    limits.extract_file_bytes = 100;
    let out = extract(&bytes, "x.pdf", None, &limits);
    assert_eq!(
        out.problem,
        Some(ExtractError::FileTooLarge { size: bytes.len() as u64, limit: 100 })
    );
}
