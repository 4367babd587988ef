//! Memory `extract` holds on huge and hostile input, measured by a counting allocator: the
//! peak of live heap bytes during one call, against the caps of `Limits` (a file of hundreds
//! of megabytes must cost what its caps say, not its size). Its own test binary, with one test,
//! so that no other test allocates while a peak is measured.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr, missing_docs)]

use ediscovery::Limits;
use ediscovery::extract::{ExtractError, Truncation, extract};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Cursor, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated on top of what was live before `f` ran, at the highest point during it.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    let peak = PEAK.load(Ordering::SeqCst) - base;
    eprintln!("peak {:.2} MiB", peak as f64 / MIB as f64);
    (out, peak)
}

const MIB: usize = 1 << 20;

fn docx_with_body(body: impl Fn(&mut dyn Write)) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    z.start_file("[Content_Types].xml", opts).unwrap();
    z.write_all(b"<Types/>").unwrap();
    z.start_file("word/document.xml", opts).unwrap();
    z.write_all(b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>first words</w:t></w:r></w:p>")
        .unwrap();
    body(&mut z);
    z.write_all(b"</w:body></w:document>").unwrap();
    z.finish().unwrap().into_inner()
}

#[test]
fn huge_and_hostile_files_cost_their_caps_not_their_size() {
    let limits = Limits::default();
    let text_cap = limits.extract_text_bytes;

    // 200 MB of text in one line: the output buffer, nothing more.
    let input = vec![b'w'; 200 * MIB];
    let (out, peak) = peak_during(|| extract(&input, "big.txt", None, &limits));
    assert_eq!(out.text.len(), text_cap);
    assert!(peak <= text_cap + 64 * 1024, "text: {peak} bytes at peak");
    drop(out);

    // 200 MB that is not UTF-8 (read as windows-1252): the same.
    let input: Vec<u8> = (0..200 * MIB).map(|i| if i % 3 == 0 { 0xE9 } else { b'a' }).collect();
    let (out, peak) = peak_during(|| extract(&input, "big.txt", None, &limits));
    assert!(out.text.starts_with("éaaéaa"), "{:?}", &out.text[..10]);
    assert!(peak <= text_cap + 64 * 1024, "latin-1: {peak} bytes at peak");
    drop((out, input));

    // 200 MB of HTML, with a smaller part cap so the bound shows: at most the markup read
    // (decoded) and its text, each under the part cap.
    let mut html_limits = Limits::default();
    html_limits.extract_part_bytes = 8 * MIB as u64;
    let input = b"<p>word</p>".repeat(200 * MIB / 11);
    let (out, peak) = peak_during(|| extract(&input, "big.html", None, &html_limits));
    assert_eq!(out.truncated, Some(Truncation::TextBytes { limit: text_cap as u64 }));
    assert!(peak <= 3 * 8 * MIB, "html: {peak} bytes at peak");
    drop((out, input));

    // A zip bomb of 100 MB of empty paragraphs: streamed, never held.
    let bomb = docx_with_body(|w| {
        let chunk = b"<w:p/>".repeat(MIB / 6);
        for _ in 0..100 {
            w.write_all(&chunk).unwrap();
        }
    });
    assert!(bomb.len() < 2 * MIB, "{}", bomb.len());
    let (out, peak) = peak_during(|| extract(&bomb, "bomb.docx", None, &limits));
    assert!(matches!(out.problem, Some(ExtractError::PartTooLarge { .. })), "{:?}", out.problem);
    assert_eq!(out.text, "first words\n");
    assert!(peak <= MIB, "zip bomb: {peak} bytes at peak");
    drop(out);

    // One 100 MB text run (a "line" with no markup): the XML reader holds one event, so the
    // part cap bounds it (twice over, for the buffer's growth).
    let run = docx_with_body(|w| {
        w.write_all(b"<w:p><w:r><w:t>").unwrap();
        let chunk = vec![b'x'; MIB];
        for _ in 0..100 {
            w.write_all(&chunk).unwrap();
        }
        w.write_all(b"</w:t></w:r></w:p>").unwrap();
    });
    let (out, peak) = peak_during(|| extract(&run, "run.docx", None, &limits));
    assert!(matches!(out.problem, Some(ExtractError::PartTooLarge { .. })), "{:?}", out.problem);
    let part = limits.extract_part_bytes as usize;
    assert!(peak <= 2 * part + 2 * text_cap + MIB, "one huge run: {peak} bytes at peak");
}
