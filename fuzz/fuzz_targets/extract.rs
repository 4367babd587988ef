//! Text extraction on arbitrary bytes (seed it with small PDFs, DOCX, XLSX, ODT files): never
//! panics through `extract`, never returns more text than the cap, never hangs or runs out of
//! memory (libFuzzer's own limits catch both). Small caps, so bombs hit them quickly.
//!
//! pdf-extract panics on hostile PDFs and `extract` catches them; libfuzzer-sys's panic hook
//! would abort on those caught panics too, so the hook is replaced by a silent one: a panic that
//! escapes `extract` still unwinds into libfuzzer-sys, which reports it as a crash.
#![no_main]

use ediscovery::Limits;
use ediscovery::extract::{FileKind, extract};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
        let mut limits = Limits::default();
        limits.extract_text_bytes = 64 << 10;
        limits.extract_part_bytes = 4 << 20;
        limits.extract_inflated_bytes = 16 << 20;
        limits.extract_pages = 20;
        // The name hint is taken from the first byte, so every branch of the hint is reached.
        let name = ["a.txt", "a.html", "a.docx", "a.xlsx", "a.pptx", "a.odt", "a.pdf", "a"]
            [usize::from(data.first().copied().unwrap_or(0) % 8)];
        let out = extract(data, name, None, &limits);
        assert!(out.text.len() <= limits.extract_text_bytes);
        if let FileKind::Unsupported(_) = out.kind {
            assert!(out.text.is_empty());
        }
        // Every outcome that is not plain success says why.
        let _ = out.defects();
    }
);
