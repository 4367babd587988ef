//! Deflate one zip entry on several cores, pigz style, with output that does not depend on the
//! number of threads or on how the caller splits its writes.
//!
//! The entry's bytes are cut into chunks of [`DeflateOptions::chunk_size`] at fixed stream
//! offsets. Each chunk is compressed by its own raw-deflate compressor whose dictionary is primed
//! with the 32 KiB of the stream just before it, and ends with a sync flush (an empty stored block
//! that byte-aligns the output, never a final block); the last chunk finishes the stream. The
//! concatenated outputs are one valid deflate stream, and each chunk's bytes are a pure function
//! of (level, chunk size, the stream's bytes), so 1 or N threads give the same bytes.
//!
//! Why priming: a chunk that starts with an empty window loses every match into the previous
//! chunk. Priming gives chunk k the window a single-stream compressor would have had (pigz's
//! default); it costs a 32 KiB copy per chunk and about 5% speed, gains about 1% ratio at 1 MiB
//! chunks and more at small chunks, and stays deterministic because the dictionary is made of
//! the stream's own bytes. A primed chunk cannot be inflated on its own, which zip readers never
//! do.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

use flate2::{Compress, Compression, FlushCompress, Status};

use super::writer::ZipWriteError;

/// The deflate window: a back-reference reaches at most 32 KiB back, so that much of the
/// preceding stream is all a chunk's compressor can use.
const WINDOW: usize = 32 * 1024;

/// Output room per compressor call (fixed: see `deflate_chunk`).
const OUT_STEP: usize = 64 * 1024;

/// Settings that decide the compressed bytes. Two writers with equal options produce identical
/// entries for identical input; changing either field (or the zlib-rs version) changes the bytes,
/// though every variant inflates to the same content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateOptions {
    /// zlib level, 0–9. 6 is zlib's and Vault's default trade-off.
    pub level: u32,
    /// Bytes of input per independently compressed chunk (at least 1). Larger chunks compress a
    /// little better and cost more memory per chunk in flight; 1 MiB costs under 0.1% in ratio
    /// against one stream.
    pub chunk_size: usize,
}

impl Default for DeflateOptions {
    fn default() -> Self {
        DeflateOptions { level: 6, chunk_size: 1 << 20 }
    }
}

impl DeflateOptions {
    pub(super) fn check(&self) -> Result<(), ZipWriteError> {
        if self.level > 9 {
            return Err(ZipWriteError::Options(format!("deflate level {} is not 0-9", self.level)));
        }
        if self.chunk_size == 0 {
            return Err(ZipWriteError::Options("deflate chunk size 0".to_owned()));
        }
        Ok(())
    }
}

/// Threads that compress chunks, shared by any number of writers (clone it: it is a handle).
///
/// It runs only compression jobs, which never wait on anything, so writers blocked waiting for
/// their chunks cannot starve it. Do not write a zip from inside this pool's own threads.
#[derive(Clone, Debug)]
pub struct DeflatePool {
    pool: Arc<rayon::ThreadPool>,
}

impl DeflatePool {
    /// A pool of `threads` compressing threads (0: one per core).
    pub fn new(threads: usize) -> Result<DeflatePool, ZipWriteError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("deflate-{i}"))
            // A panicking job drops its result sender; the writer then reports
            // `WorkerLost` instead of the process aborting.
            .panic_handler(|_| {})
            .build()
            .map_err(|e| ZipWriteError::Pool(e.to_string()))?;
        Ok(DeflatePool { pool: Arc::new(pool) })
    }

    /// How many threads compress.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }
}

/// One compressed chunk, handed back in stream order.
pub(super) struct Chunk {
    /// Raw deflate bytes, ending byte-aligned (sync flush) or with the final block.
    pub(super) compressed: Vec<u8>,
    /// CRC-32 of the chunk's input (with its length, for `combine`).
    pub(super) crc: crc32fast::Hasher,
    /// Input bytes.
    pub(super) len: u64,
    /// The input buffer, returned for reuse.
    input: Vec<u8>,
}

type ChunkResult = Result<Chunk, ZipWriteError>;

/// Receives compressed chunks in stream order.
pub(super) type Emit<'a> = dyn FnMut(&Chunk) -> Result<(), ZipWriteError> + 'a;

/// Compress one chunk. `dict` is the stream's preceding ≤ 32 KiB; `last` finishes the stream.
fn deflate_chunk(
    input: Vec<u8>,
    dict: &[u8],
    level: u32,
    last: bool,
    mut out: Vec<u8>,
) -> ChunkResult {
    let mut c = Compress::new(Compression::new(level), false);
    if !dict.is_empty() {
        c.set_dictionary(dict).map_err(|e| ZipWriteError::Deflate(e.to_string()))?;
    }
    out.clear();
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    loop {
        // Always offer the compressor the same output room: at level 0 zlib sizes its stored
        // blocks by the room it is given, so room that varied with buffer reuse would vary
        // the bytes.
        let start = out.len();
        out.resize(start + OUT_STEP, 0);
        let (in_before, out_before) = (c.total_in(), c.total_out());
        let done = usize::try_from(in_before).unwrap_or(usize::MAX).min(input.len());
        let status = c
            .compress(&input[done..], &mut out[start..], flush)
            .map_err(|e| ZipWriteError::Deflate(e.to_string()))?;
        let produced = usize::try_from(c.total_out() - out_before).unwrap_or(0).min(OUT_STEP);
        out.truncate(start + produced);
        let all_in = usize::try_from(c.total_in()).is_ok_and(|n| n == input.len());
        let finished = match status {
            Status::StreamEnd => true,
            // A sync flush is complete once all input is taken and the output did not fill up:
            // zlib stops with room to spare only when it has nothing left to emit.
            Status::Ok | Status::BufError => !last && all_in && produced < OUT_STEP,
        };
        if finished {
            break;
        }
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&input);
    Ok(Chunk { compressed: out, crc, len: input.len() as u64, input })
}

/// Where chunks are compressed.
enum Engine {
    /// On the caller's thread, one chunk at a time.
    Inline,
    /// On a pool, at most `in_flight` chunks submitted and not yet written.
    Pool { pool: DeflatePool, in_flight: usize, pending: VecDeque<Receiver<ChunkResult>> },
}

/// The deflater of the entry being written: buffers the current chunk, keeps the window that
/// primes the next one, and hands back compressed chunks in order through `emit`.
pub(super) struct Deflater {
    opts: DeflateOptions,
    engine: Engine,
    /// The chunk being filled.
    current: Vec<u8>,
    /// The last ≤ 32 KiB of the stream before `current`.
    window: Vec<u8>,
    /// Buffers to reuse (inputs, outputs), at most a few of each so memory stays bounded.
    spare_in: Vec<Vec<u8>>,
    spare_out: Vec<Vec<u8>>,
}

impl Deflater {
    /// Inline when `pool` is `None`; else at most `in_flight` (≥ 1) chunks in flight.
    pub(super) fn new(
        opts: DeflateOptions,
        pool: Option<DeflatePool>,
        in_flight: usize,
    ) -> Deflater {
        let engine = match pool {
            None => Engine::Inline,
            Some(pool) => {
                Engine::Pool { pool, in_flight: in_flight.max(1), pending: VecDeque::new() }
            }
        };
        Deflater {
            opts,
            engine,
            current: Vec::new(),
            window: Vec::new(),
            spare_in: Vec::new(),
            spare_out: Vec::new(),
        }
    }

    /// Start a new entry: an empty stream with an empty window.
    pub(super) fn reset(&mut self) {
        self.current.clear();
        self.window.clear();
        if let Engine::Pool { pending, .. } = &mut self.engine {
            // Only left over when an entry was abandoned; its chunks are not wanted.
            pending.clear();
        }
    }

    /// Take `buf` into the stream; `emit` receives every chunk that is ready, in order.
    pub(super) fn write(
        &mut self,
        mut buf: &[u8],
        emit: &mut Emit<'_>,
    ) -> Result<(), ZipWriteError> {
        while !buf.is_empty() {
            if self.current.len() >= self.opts.chunk_size {
                // Full, and more input follows: this chunk is not the last.
                self.submit(false, emit)?;
            }
            if self.current.capacity() == 0 {
                self.current.reserve_exact(self.opts.chunk_size.min(1 << 26));
            }
            let take = (self.opts.chunk_size - self.current.len()).min(buf.len());
            self.current.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
        }
        Ok(())
    }

    /// End the stream: the buffered chunk (possibly empty) finishes it; every chunk still in
    /// flight is emitted.
    pub(super) fn finish(&mut self, emit: &mut Emit<'_>) -> Result<(), ZipWriteError> {
        self.submit(true, emit)?;
        if let Engine::Pool { pending, .. } = &mut self.engine {
            while let Some(rx) = pending.pop_front() {
                let chunk = rx.recv().map_err(|_| ZipWriteError::WorkerLost)??;
                Self::emit_one(chunk, &mut self.spare_in, &mut self.spare_out, emit)?;
            }
        }
        Ok(())
    }

    fn submit(&mut self, last: bool, emit: &mut Emit<'_>) -> Result<(), ZipWriteError> {
        let input = std::mem::replace(&mut self.current, self.spare_in.pop().unwrap_or_default());
        let dict = self.window.clone();
        // The next chunk's window: the last 32 KiB of (window ++ input).
        if input.len() >= WINDOW {
            self.window.clear();
            self.window.extend_from_slice(&input[input.len() - WINDOW..]);
        } else {
            let keep = WINDOW - input.len();
            if self.window.len() > keep {
                self.window.drain(..self.window.len() - keep);
            }
            self.window.extend_from_slice(&input);
        }
        let out = self.spare_out.pop().unwrap_or_default();
        let level = self.opts.level;
        match &mut self.engine {
            Engine::Inline => {
                let chunk = deflate_chunk(input, &dict, level, last, out)?;
                Self::emit_one(chunk, &mut self.spare_in, &mut self.spare_out, emit)
            }
            Engine::Pool { pool, in_flight, pending } => {
                while pending.len() >= *in_flight {
                    let Some(rx) = pending.pop_front() else { break };
                    let chunk = rx.recv().map_err(|_| ZipWriteError::WorkerLost)??;
                    Self::emit_one(chunk, &mut self.spare_in, &mut self.spare_out, emit)?;
                }
                let (tx, rx) = sync_channel(1);
                pool.pool.spawn(move || {
                    // The receiver is gone only when the entry was abandoned.
                    let _ = tx.send(deflate_chunk(input, &dict, level, last, out));
                });
                pending.push_back(rx);
                // Write whatever is already done, so output keeps pace with compression.
                while let Some(rx) = pending.front() {
                    match rx.try_recv() {
                        Ok(chunk) => {
                            pending.pop_front();
                            Self::emit_one(chunk?, &mut self.spare_in, &mut self.spare_out, emit)?;
                        }
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return Err(ZipWriteError::WorkerLost),
                    }
                }
                Ok(())
            }
        }
    }

    /// Hand `chunk` to `emit`, then keep its buffers for the next chunks (two of each at most,
    /// enough to refill the pipeline without growing with the export).
    fn emit_one(
        chunk: Chunk,
        spare_in: &mut Vec<Vec<u8>>,
        spare_out: &mut Vec<Vec<u8>>,
        emit: &mut Emit<'_>,
    ) -> Result<(), ZipWriteError> {
        let r = emit(&chunk);
        let Chunk { compressed, mut input, .. } = chunk;
        if spare_in.len() < 2 {
            input.clear();
            spare_in.push(input);
        }
        if spare_out.len() < 2 {
            spare_out.push(compressed);
        }
        r
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Read;

    /// Mail-like text that compresses like mail: words from a small vocabulary, lines, a few
    /// headers, and runs of base64-looking noise.
    pub(crate) fn text(len: usize, seed: u64) -> Vec<u8> {
        const WORDS: &[&str] = &[
            "the",
            "meeting",
            "Subject:",
            "From:",
            "invoice",
            "please",
            "regards",
            "attached",
            "quarterly",
            "numbers",
            "is",
            "on",
            "Friday",
            "=?UTF-8?B?w6lsw6h2ZQ==?=",
            "and",
            "we",
        ];
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        let mut v = Vec::with_capacity(len + 64);
        while v.len() < len {
            match next() % 40 {
                0 => v.extend_from_slice(b"\n"),
                1 => {
                    for _ in 0..76 {
                        v.push(
                            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                                [next() % 64],
                        );
                    }
                    v.push(b'\n');
                }
                _ => {
                    v.extend_from_slice(WORDS[next() % WORDS.len()].as_bytes());
                    v.push(b' ');
                }
            }
        }
        v.truncate(len);
        v
    }

    /// Deflate `data` written in `splits`-sized pieces; the raw stream and its CRC.
    fn run(
        data: &[u8],
        opts: DeflateOptions,
        pool: Option<DeflatePool>,
        in_flight: usize,
        splits: &[usize],
    ) -> (Vec<u8>, u32, u64) {
        let mut d = Deflater::new(opts, pool, in_flight);
        let mut out = Vec::new();
        let mut crc = crc32fast::Hasher::new();
        let mut n = 0u64;
        let mut emit = |c: &Chunk| {
            out.extend_from_slice(&c.compressed);
            crc.combine(&c.crc);
            n += c.len;
            Ok(())
        };
        let mut rest = data;
        let mut i = 0;
        while !rest.is_empty() {
            let k = splits.get(i % splits.len().max(1)).copied().unwrap_or(rest.len()).max(1);
            let k = k.min(rest.len());
            d.write(&rest[..k], &mut emit).unwrap();
            rest = &rest[k..];
            i += 1;
        }
        d.finish(&mut emit).unwrap();
        (out, crc.finalize(), n)
    }

    fn inflate(raw: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        flate2::read::DeflateDecoder::new(raw).read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn chunk_boundaries_inflate_to_the_input_with_its_crc() {
        let opts = DeflateOptions { level: 6, chunk_size: 40_000 };
        for len in [0, 1, 39_999, 40_000, 40_001, 80_000, 123_457] {
            let data = text(len, len as u64);
            let (raw, crc, n) = run(&data, opts, None, 1, &[len.max(1)]);
            assert_eq!(inflate(&raw), data, "len {len}");
            assert_eq!((crc, n), (crc32fast::hash(&data), len as u64), "len {len}");
        }
    }

    #[test]
    fn one_chunk_is_a_plain_single_stream() {
        // Below the chunk size the entry is exactly what one compressor makes at that level.
        let data = text(100_000, 7);
        // Not levels 0 and 1: there zlib-rs sizes blocks by the output room it is given and the
        // input it is fed, which differ here (both are fixed in `deflate_chunk`, so our bytes
        // are still a function of the input: the property test covers every level).
        for level in [2, 6, 9] {
            let (raw, _, _) =
                run(&data, DeflateOptions { level, chunk_size: 1 << 20 }, None, 1, &[4096]);
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Compression::new(level));
            std::io::Write::write_all(&mut e, &data).unwrap();
            assert!(raw == e.finish().unwrap(), "level {level}");
        }
    }

    #[test]
    fn same_bytes_for_any_thread_count_in_flight_and_write_sizes() {
        let data = text(600_000, 3);
        let opts = DeflateOptions { level: 6, chunk_size: 50_000 };
        let (one, crc, _) = run(&data, opts, None, 1, &[data.len()]);
        assert_eq!(inflate(&one), data);
        for threads in [1, 2, 4] {
            let pool = DeflatePool::new(threads).unwrap();
            for in_flight in [1, 3, 8] {
                for splits in [&[1usize, 7, 65_536][..], &[50_000], &[49_999, 2]] {
                    let got = run(&data, opts, Some(pool.clone()), in_flight, splits);
                    assert_eq!((&got.0, got.1), (&one, crc), "{threads} {in_flight} {splits:?}");
                }
            }
        }
    }

    #[test]
    fn priming_reaches_into_earlier_chunks_even_when_they_are_small() {
        // Chunks smaller than the window: the dictionary spans several of them. A repeat of
        // text 20 KiB back compresses to almost nothing only if the window is right.
        let block = text(20_000, 11);
        let data = [&block[..], &block[..], &block[..]].concat();
        let small = DeflateOptions { level: 6, chunk_size: 3_000 };
        let (raw, crc, _) = run(&data, small, None, 1, &[1000]);
        assert_eq!((inflate(&raw), crc), (data.clone(), crc32fast::hash(&data)));
        let (single, _, _) = run(&block, small, None, 1, &[1000]);
        assert!(raw.len() < single.len() + single.len() / 4, "{} vs {}", raw.len(), single.len());
    }

    #[test]
    fn incompressible_input_grows_only_by_block_overhead() {
        let mut x = 1u32;
        let data: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let (raw, _, _) =
            run(&data, DeflateOptions { level: 9, chunk_size: 70_000 }, None, 1, &[data.len()]);
        assert_eq!(inflate(&raw), data);
        assert!(raw.len() < data.len() + data.len() / 100, "{}", raw.len());
    }

    #[test]
    fn options_out_of_range_are_refused() {
        assert!(DeflateOptions { level: 10, chunk_size: 1 }.check().is_err());
        assert!(DeflateOptions { level: 6, chunk_size: 0 }.check().is_err());
        assert!(DeflateOptions::default().check().is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn write_sizes_never_change_the_bytes(
            len in 0usize..200_000,
            chunk in 1usize..70_000,
            level in 0u32..10,
            splits in proptest::collection::vec(1usize..40_000, 1..8),
        ) {
            let data = text(len, len as u64 ^ chunk as u64);
            let opts = DeflateOptions { level, chunk_size: chunk.max(len / 200) };
            let whole = run(&data, opts, None, 1, &[len.max(1)]);
            proptest::prop_assert_eq!(inflate(&whole.0), data.clone());
            let pool = DeflatePool::new(2).unwrap();
            let split = run(&data, opts, Some(pool), 3, &splits);
            proptest::prop_assert_eq!(split, whole);
        }
    }
}
