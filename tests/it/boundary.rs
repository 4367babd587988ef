//! Each outside crate is used only in the module that owns it (ARCHITECTURE.md).

use std::path::{Path, PathBuf};

/// (crate path as written in code, files allowed to use it)
const OWNERS: &[(&str, &[&str])] = &[
    ("tantivy", &["src/index/"]),
    ("mail_parser", &["src/ingest/mime.rs"]),
    ("md5", &["src/digest.rs"]),
    ("sha2", &["src/digest.rs"]),
    ("memmap2", &["src/store/map.rs"]),
    ("jiff", &["src/model/time.rs"]),
    ("rayon", &["src/ingest/pipeline.rs", "src/export/run.rs", "src/format/zip/deflate.rs"]),
    ("zip", &["src/format/zip.rs"]),
    ("flate2", &["src/format/zip/deflate.rs", "src/extract/pdf.rs"]),
    ("crc32fast", &["src/digest.rs", "src/format/zip/"]),
    ("csv", &["src/format/csv.rs"]),
    ("quick_xml", &["src/format/xml.rs", "src/extract/xml.rs"]),
    ("encoding_rs", &["src/extract/text.rs"]),
    ("pdf_extract", &["src/extract/pdf.rs"]),
    ("walkdir", &["src/ingest/eml.rs"]),
    ("libc", &["src/fs_safe.rs", "src/malloc.rs"]),
    ("rustix", &["src/store/reclaim.rs"]),
    ("base64", &["src/sample.rs", "src/export/mime.rs"]),
    ("object_store", &["src/split/remote.rs"]),
    ("tokio", &["src/split/remote.rs"]),
    ("clap", &["src/bin/"]),
    ("indicatif", &["src/bin/"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `krate::` as the start of a path (`csv::Writer`, `::csv::Writer`), not as the tail of one of
/// ours (`format::csv::read`).
fn uses_path(line: &str, krate: &str) -> bool {
    let pat = format!("{krate}::");
    line.match_indices(&pat).any(|(i, _)| {
        let before = &line[..i];
        let prev = before.chars().last();
        match prev {
            None => true,
            Some(':') => {
                before.ends_with("::")
                    && !before[..before.len() - 2]
                        .ends_with(|c: char| c.is_alphanumeric() || c == '_')
            }
            Some(c) => !(c.is_alphanumeric() || c == '_'),
        }
    })
}

#[test]
fn outside_crates_stay_in_their_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 10, "scanned {} files", files.len());
    let mut violations = Vec::new();
    let mut seen = vec![false; OWNERS.len()];
    for f in &files {
        let rel = f.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(f).unwrap();
        for (i, (krate, allowed)) in OWNERS.iter().enumerate() {
            let used = text.lines().any(|l| {
                let l = l.trim_start();
                !l.starts_with("//")
                    && (uses_path(l, krate) || l.starts_with(&format!("use {krate}")))
            });
            if used {
                if allowed.iter().any(|a| rel.starts_with(a)) {
                    seen[i] = true;
                } else {
                    violations.push(format!("{rel} uses {krate}"));
                }
            }
        }
    }
    assert!(violations.is_empty(), "boundary violations:\n{}", violations.join("\n"));
    // The scan must actually find each crate where it belongs, or it proves nothing.
    for (i, (krate, _)) in OWNERS.iter().enumerate() {
        assert!(seen[i], "{krate} was not found in its owning module: is the scan broken?");
    }
}

/// The crate's `unsafe` is the pack maps and the one `mallopt` call (`src/malloc.rs`), nowhere
/// else.
#[test]
fn unsafe_code_lives_in_two_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut with_unsafe: Vec<String> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().contains("unsafe {"))
        .map(|f| f.strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect();
    with_unsafe.sort();
    assert_eq!(with_unsafe, ["src/malloc.rs", "src/store/map.rs"]);
}
