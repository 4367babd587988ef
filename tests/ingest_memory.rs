//! Memory ingest holds for a huge content file, measured by a counting allocator: a 500 MB text
//! file named by a Drive JSONL line is hashed, stored and its text extracted with the heap
//! bounded by `Limits` (the text cap and the prefix extraction reads), not by the file. Its own
//! test binary, with one test, so no other test allocates while the peak is measured.
//! `EDISCOVERY_INGEST_MEMORY_MB` sets the file's size (default 500).
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr, missing_docs)]

use ediscovery::ingest::Source;
use ediscovery::model::{Account, Corpus};
use ediscovery::{CollectionWriter, IngestOptions, Limits, NoProgress};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
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

const MIB: usize = 1 << 20;

#[test]
fn a_huge_drive_file_costs_its_caps_not_its_size() {
    let mb: usize = std::env::var("EDISCOVERY_INGEST_MEMORY_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("drive");
    std::fs::create_dir_all(&root).unwrap();
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(root.join("big.txt")).unwrap());
        let line = b"the quick brown fox jumps over the lazy dog\n".repeat(MIB / 44 + 1);
        let mut written = 0;
        while written < mb * MIB {
            f.write_all(&line).unwrap();
            written += line.len();
        }
        f.write_all(b"needle-at-the-end\n").unwrap();
    }
    let jsonl = root.join("drive.jsonl");
    std::fs::write(
        &jsonl,
        concat!(
            "{\"format\": \"ediscovery.drive\", \"version\": 1}\n",
            "{\"drive_id\": \"big\", \"title\": \"Big\", \"owner\": \"a@example.com\", ",
            "\"mime_type\": \"text/plain\", \"content\": \"big.txt\"}\n"
        ),
    )
    .unwrap();
    let limits = Limits::default();
    let mut w = CollectionWriter::open(&tmp.path().join("c"), 1).unwrap();
    let mut opts = IngestOptions::new(Account::new("a@example.com").unwrap());
    opts.corpus = Corpus::Drive;
    let src = Source::DriveJsonl { file: jsonl, root };
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let report = w.ingest(&src, &opts, &mut NoProgress).unwrap();
    let peak = PEAK.load(Ordering::SeqCst) - base;
    eprintln!("{mb} MB file: peak {:.1} MiB of heap", peak as f64 / MIB as f64);
    assert_eq!(report.ingested, 1, "{report:?}");
    assert!(report.bytes > (mb * MIB) as u64);
    assert!(report.defects.iter().any(|d| d.defect.kind() == "text_truncated"), "{report:?}");
    // The prefix extraction reads (4 × the text cap), the text, the batch and the index
    // writer's buffers: a few tens of MiB whatever the file's size.
    let bound = 4 * limits.extract_text_bytes + 2 * limits.extract_text_bytes + 48 * MIB;
    assert!(peak < bound, "peak {peak} bytes for a {mb} MB file (bound {bound})");
    assert!(peak < mb * MIB / 4 || mb < 200, "peak {peak} bytes: grows with the file");
}
