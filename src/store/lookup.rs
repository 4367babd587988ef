//! An open-addressing hash index from a 16-byte digest to a record `seq`, for the writer's
//! MD5 → blob lookup.
//!
//! Why not a `HashMap<Md5, BlobRef>`: at 10 million records that map is about 1 GB of memory,
//! filled by decoding every record at writer open. Here a slot is a `u64`: the high 32 bits of a
//! per-process SipHash of the digest (the tag) and seq + 1 (0 = empty). The digest itself is read
//! from the record table's keys file (memory mapped, written by the table) only when a tag
//! matches, so a probe almost never leaves this array, the index grows without reading a digest
//! (the tag also places the slot), and it costs 8 bytes per slot: 128 MB at 10 million records.
//! Keyed hashing means crafted digests cannot pile up in one place.

use std::hash::{BuildHasher, RandomState};

/// Seqs this index can hold: below `u32::MAX` (a slot holds seq + 1 in 32 bits).
pub(crate) const SEQ_LIMIT: u64 = u32::MAX as u64;

/// The index. Lookups take a `key_of(seq)` that reads the digest stored for `seq` (`None`: the
/// record is gone, never a match).
pub(crate) struct SeqIndex {
    slots: Vec<u64>,
    len: usize,
    hasher: RandomState,
}

impl SeqIndex {
    /// An empty index with room for `n` entries before it grows.
    pub(crate) fn with_capacity(n: u64) -> SeqIndex {
        SeqIndex { slots: vec![0; capacity_for(n)], len: 0, hasher: RandomState::new() }
    }

    /// The index of every `(seq, digest)`, the lowest seq kept for a digest held twice.
    ///
    /// Why not `insert` one by one: in seq order each insert lands on a random slot (a cache and
    /// TLB miss, 3–4 s of CPU at 10 million). Here the slots are computed first and sorted by
    /// where they go, so the table is filled front to back.
    pub(crate) fn build<E>(
        entries: impl Iterator<Item = Result<(u64, [u8; 16]), E>>,
        key_of: impl FnMut(u64) -> Result<Option<[u8; 16]>, E>,
    ) -> Result<SeqIndex, E> {
        let mut ix = SeqIndex::with_capacity(0);
        let mut slots = Vec::new();
        for e in entries {
            let (seq, key) = e?;
            debug_assert!(seq < SEQ_LIMIT);
            slots.push((ix.tag(&key) << 32) | (seq + 1));
        }
        ix.slots = vec![0; capacity_for(slots.len() as u64)];
        ix.place_all(slots, key_of)?;
        Ok(ix)
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn tag(&self, key: &[u8; 16]) -> u64 {
        self.hasher.hash_one(key) >> 32
    }

    /// The first slot to look at for a tag: the tag's low bits.
    fn home(tag: u64, mask: usize) -> usize {
        // The tag is 32 bits: it fits a usize on every target that runs this crate.
        (tag as usize) & mask
    }

    /// The seq held for `key`.
    pub(crate) fn find<E>(
        &self,
        key: &[u8; 16],
        mut key_of: impl FnMut(u64) -> Result<Option<[u8; 16]>, E>,
    ) -> Result<Option<u64>, E> {
        let tag = self.tag(key);
        let mask = self.slots.len() - 1;
        let mut i = Self::home(tag, mask);
        loop {
            let s = self.slots[i];
            if s == 0 {
                return Ok(None);
            }
            let seq = (s & 0xFFFF_FFFF) - 1;
            if s >> 32 == tag && key_of(seq)?.as_ref() == Some(key) {
                return Ok(Some(seq));
            }
            i = (i + 1) & mask;
        }
    }

    /// Hold `seq` for `key` unless a seq is held for it already. Returns whether it was added.
    /// `seq` must be below [`SEQ_LIMIT`] (the caller checks, with its own error).
    pub(crate) fn insert<E>(
        &mut self,
        key: &[u8; 16],
        seq: u64,
        mut key_of: impl FnMut(u64) -> Result<Option<[u8; 16]>, E>,
    ) -> Result<bool, E> {
        debug_assert!(seq < SEQ_LIMIT);
        // At most 70% full: linear probing stays short (about 6 slots for a miss at 70%).
        if (self.len + 1) * 10 > self.slots.len() * 7 {
            self.grow();
        }
        let tag = self.tag(key);
        self.place((tag << 32) | (seq + 1), |held| Ok(key_of(held)?.as_ref() == Some(key)))
    }

    /// Put slot value `s` at the first free slot from its home, unless `same(seq)` says a held
    /// seq with its tag has its digest. Returns whether it was placed.
    fn place<E>(
        &mut self,
        s: u64,
        mut same: impl FnMut(u64) -> Result<bool, E>,
    ) -> Result<bool, E> {
        let mask = self.slots.len() - 1;
        let mut i = Self::home(s >> 32, mask);
        loop {
            let held = self.slots[i];
            if held == 0 {
                self.slots[i] = s;
                self.len += 1;
                return Ok(true);
            }
            if held >> 32 == s >> 32 && same((held & 0xFFFF_FFFF) - 1)? {
                return Ok(false);
            }
            i = (i + 1) & mask;
        }
    }

    /// Place slot values into the (empty) table in the order of their home slots, then seqs.
    fn place_all<E>(
        &mut self,
        mut slots: Vec<u64>,
        mut key_of: impl FnMut(u64) -> Result<Option<[u8; 16]>, E>,
    ) -> Result<(), E> {
        let mask = self.slots.len() - 1;
        slots.sort_unstable_by_key(|&s| (Self::home(s >> 32, mask), s & 0xFFFF_FFFF));
        for s in slots {
            let seq = (s & 0xFFFF_FFFF) - 1;
            // Digests are read only for a tag met twice, and then once each.
            let mut mine = None;
            self.place(s, |held| {
                if mine.is_none() {
                    mine = Some(key_of(seq)?);
                }
                Ok(matches!((key_of(held)?, mine.flatten()), (Some(a), Some(b)) if a == b))
            })?;
        }
        Ok(())
    }

    /// Double the slots and place every entry again, by its tag (no digest is read: every
    /// entry is already distinct).
    fn grow(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.len = 0;
        let held: Vec<u64> = old.into_iter().filter(|&s| s != 0).collect();
        let never = |_: u64| -> Result<Option<[u8; 16]>, std::convert::Infallible> { Ok(None) };
        // Distinct entries: `same` is never true, so no digest is read and nothing fails.
        let _ = self.place_all(held, never);
    }
}

/// Slots for `n` entries at most 70% full, a power of two (at least 1024).
fn capacity_for(n: u64) -> usize {
    let want = usize::try_from(n.saturating_mul(10) / 7).unwrap_or(usize::MAX / 2);
    want.max(1024).checked_next_power_of_two().unwrap_or(1 << 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn key(n: u64) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
        k[8..].copy_from_slice(&n.to_le_bytes());
        k
    }

    #[test]
    fn finds_what_was_inserted_through_growth_and_keeps_the_first_seq() {
        // seq s holds the digest of s / 2: every digest twice, the first seq kept.
        let key_of = |s: u64| -> Result<Option<[u8; 16]>, Infallible> { Ok(Some(key(s / 2))) };
        let mut ix = SeqIndex::with_capacity(0);
        for s in 0..10_000u64 {
            assert_eq!(ix.insert(&key(s / 2), s, key_of).unwrap(), s % 2 == 0, "{s}");
        }
        assert_eq!(ix.len(), 5_000);
        for n in 0..5_000u64 {
            assert_eq!(ix.find(&key(n), key_of).unwrap(), Some(2 * n));
        }
        assert_eq!(ix.find(&key(5_000), key_of).unwrap(), None);
    }

    #[test]
    fn a_tag_match_alone_is_never_taken_for_the_key() {
        let mut ix = SeqIndex::with_capacity(16);
        let ka = key(1);
        let tag = ix.tag(&ka);
        // Seq 7 holds another digest under ka's tag, as a tag collision would.
        let mask = ix.slots.len() - 1;
        ix.slots[SeqIndex::home(tag, mask)] = (tag << 32) | 8;
        ix.len = 1;
        let others = |s: u64| -> Result<Option<[u8; 16]>, Infallible> { Ok(Some(key(100 + s))) };
        assert_eq!(ix.find(&ka, others).unwrap(), None);
        assert!(ix.insert(&ka, 9, others).unwrap());
        let with_ka = |s: u64| -> Result<Option<[u8; 16]>, Infallible> {
            Ok(Some(if s == 9 { ka } else { key(100 + s) }))
        };
        assert_eq!(ix.find(&ka, with_ka).unwrap(), Some(9));
        // Growing places entries by their tags alone and keeps them findable.
        ix.grow();
        assert_eq!((ix.len(), ix.find(&ka, with_ka).unwrap()), (2, Some(9)));
    }

    #[test]
    fn a_built_index_equals_one_inserted_in_seq_order() {
        // Seq s holds the digest of s % 700: duplicates far apart, the lowest seq kept.
        let key_of = |s: u64| -> Result<Option<[u8; 16]>, Infallible> { Ok(Some(key(s % 700))) };
        let entries = (0..3_000u64).map(|s| Ok((s, key(s % 700))));
        let ix = SeqIndex::build(entries, key_of).unwrap();
        assert_eq!(ix.len(), 700);
        for n in 0..700u64 {
            assert_eq!(ix.find(&key(n), key_of).unwrap(), Some(n));
        }
        assert_eq!(ix.find(&key(700), key_of).unwrap(), None);
        // Errors of key_of stop the build.
        let failing = |_: u64| -> Result<Option<[u8; 16]>, &str> { Err("unreadable") };
        let twice = [Ok((0, key(1))), Ok((1, key(1)))].into_iter();
        assert!(SeqIndex::build(twice, failing).is_err());
        let gone: [Result<(u64, [u8; 16]), &str>; 1] = [Err("row")];
        assert!(SeqIndex::build(gone.into_iter(), failing).is_err());
    }

    #[test]
    fn entries_whose_record_is_gone_never_match() {
        let mut ix = SeqIndex::with_capacity(4);
        let all = |s: u64| -> Result<Option<[u8; 16]>, Infallible> { Ok(Some(key(s))) };
        for s in 0..100 {
            ix.insert(&key(s), s, all).unwrap();
        }
        let odd_gone = |s: u64| -> Result<Option<[u8; 16]>, Infallible> {
            Ok(s.is_multiple_of(2).then(|| key(s)))
        };
        assert_eq!(ix.find(&key(3), odd_gone).unwrap(), None);
        assert_eq!(ix.find(&key(4), odd_gone).unwrap(), Some(4));
        // Errors of key_of come back as they are.
        let failing = |_: u64| -> Result<Option<[u8; 16]>, &str> { Err("unreadable") };
        assert_eq!(ix.find(&key(4), failing), Err("unreadable"));
    }
}
