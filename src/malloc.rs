//! glibc's malloc set for long runs: the one call into it, and this crate's second `unsafe`
//! (after the pack maps in `store/map.rs`).
//!
//! glibc serves a block of at least its *mmap threshold* by mapping it, and returns it to the
//! system when freed; smaller blocks come from per-thread arenas, which keep the pages they
//! reached at their highest. The threshold starts at 128 KiB but rises to the size of the
//! largest mapped block freed (up to 32 MiB). An export frees half-megabyte listing buffers
//! and account lists early on, after which such blocks come from the arenas, and the arenas'
//! high-water marks grow with the export's length though what the export holds does not.
//! Measured on the scaled corpus (`BENCHMARKS.md`, "Memory on 4× the corpus"): the `store`
//! export's peak anonymous memory was 47, 58 and 66 MB at 1×, 4× and 8× the corpus with the
//! threshold left to rise, and 24, 26 and 29 MB with it pinned; `deflate` 65 and 83 MB
//! against 41 and 42 MB at 1× and 4×.

/// Pin glibc's mmap threshold at 128 KiB, so blocks that large are always mapped and given
/// back when freed. Returns whether it was set: not off glibc, not when the user's
/// `GLIBC_TUNABLES` already sets `glibc.malloc.mmap_threshold` (theirs is kept), and not with
/// `EDISCOVERY_MALLOC=default` (glibc's own rising threshold, for comparison).
///
/// Call it once at the start of a program, before threads start (the CLI's `main` does).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn pin_mmap_threshold() -> bool {
    let user_set = std::env::var_os("GLIBC_TUNABLES")
        .is_some_and(|t| t.to_string_lossy().contains("glibc.malloc.mmap_threshold"));
    if user_set || std::env::var_os("EDISCOVERY_MALLOC").is_some_and(|v| v == "default") {
        return false;
    }
    // SAFETY: `mallopt` has no memory-safety preconditions: it takes glibc's arena locks and
    // changes a tuning value; blocks already handed out keep how they were allocated.
    #[allow(unsafe_code)]
    let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) };
    set == 1
}

/// Off glibc there is nothing to pin: returns false.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn pin_mmap_threshold() -> bool {
    false
}

#[cfg(test)]
mod tests {
    /// glibc takes the value (mallopt returns 1), unless the environment asks to keep its own.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_the_pinned_threshold() {
        let kept = std::env::var_os("GLIBC_TUNABLES").is_some()
            || std::env::var_os("EDISCOVERY_MALLOC").is_some();
        assert_eq!(super::pin_mmap_threshold(), !kept);
    }
}
