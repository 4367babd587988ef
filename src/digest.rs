//! MD5, CRC-32 and SHA-256: the only user of `md-5`, `crc32fast` and `sha2`.
//!
//! Vault's `Hash` column and the export checksum file are MD5, so every stored blob is addressed by
//! its MD5 and every written file streams through [`Md5Writer`]. The governance audit log chains
//! its entries by [`Sha256`]: MD5 collisions can be made at will, so MD5 cannot make a log
//! tamper-evident.

use md5::{Digest, Md5 as Hasher};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

/// A 16-byte MD5 digest, shown and serialised as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Md5(pub [u8; 16]);

impl Md5 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Md5 {
        Md5(Hasher::digest(bytes).into())
    }

    /// Lowercase hex, as `md5sum` prints it.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(32);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Display for Md5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Md5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Md5({})", self.to_hex())
    }
}

/// The text was not 32 hex digits.
#[derive(Debug, thiserror::Error)]
#[error("not an MD5 digest (32 hex digits): {0:?}")]
pub struct ParseMd5Error(pub String);

impl FromStr for Md5 {
    type Err = ParseMd5Error;
    fn from_str(s: &str) -> Result<Md5, ParseMd5Error> {
        let b = s.as_bytes();
        if b.len() != 32 {
            return Err(ParseMd5Error(s.to_owned()));
        }
        let mut out = [0u8; 16];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or_else(|| ParseMd5Error(s.to_owned()))?;
            let lo = hex_val(pair[1]).ok_or_else(|| ParseMd5Error(s.to_owned()))?;
            out[i] = hi << 4 | lo;
        }
        Ok(Md5(out))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Serialize for Md5 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Md5 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Md5, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental MD5 for data that arrives in pieces.
#[derive(Clone, Default)]
pub struct Md5Hasher(Hasher);

impl Md5Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }
    /// Feed more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    /// The digest of everything fed so far.
    pub fn finish(self) -> Md5 {
        Md5(self.0.finalize().into())
    }
}

/// A 32-byte SHA-256 digest, shown and serialised as 64 lowercase hex digits (as `sha256sum` and
/// Python's `hashlib.sha256(…).hexdigest()` print it).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        use sha2::Digest as _;
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    /// The all-zero digest: the "previous entry" of a chain's first entry.
    pub const ZERO: Sha256 = Sha256([0; 32]);

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

/// The text was not 64 hex digits.
#[derive(Debug, thiserror::Error)]
#[error("not a SHA-256 digest (64 hex digits): {0:?}")]
pub struct ParseSha256Error(pub String);

impl FromStr for Sha256 {
    type Err = ParseSha256Error;
    fn from_str(s: &str) -> Result<Sha256, ParseSha256Error> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return Err(ParseSha256Error(s.to_owned()));
        }
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or_else(|| ParseSha256Error(s.to_owned()))?;
            let lo = hex_val(pair[1]).ok_or_else(|| ParseSha256Error(s.to_owned()))?;
            out[i] = hi << 4 | lo;
        }
        Ok(Sha256(out))
    }
}

impl Serialize for Sha256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Sha256, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// CRC-32 (IEEE, as zip uses) of `bytes`: a cheap check that stored bytes are still the bytes
/// that were stored, at several GB/s where MD5 runs at about 0.6.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// An incremental CRC-32 for data that arrives in pieces.
#[derive(Clone, Default)]
pub struct Crc32Hasher(crc32fast::Hasher);

impl Crc32Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }
    /// Feed more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    /// The CRC of everything fed so far.
    pub fn finish(self) -> u32 {
        self.0.finalize()
    }
}

/// A writer that hashes and counts every byte that passes through it, so a file's MD5 is known the
/// moment it is written without reading it again.
pub struct Md5Writer<W> {
    inner: W,
    hasher: Hasher,
    len: u64,
}

impl<W: Write> Md5Writer<W> {
    /// Wrap `inner`.
    pub fn new(inner: W) -> Self {
        Md5Writer { inner, hasher: Hasher::new(), len: 0 }
    }
    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }
    /// True when nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The inner writer, the digest and the length.
    pub fn finish(self) -> (W, Md5, u64) {
        (self.inner, Md5(self.hasher.finalize().into()), self.len)
    }
}

impl<W: Write> Write for Md5Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_and_hex_round_trip() {
        assert_eq!(Md5::of(b"").to_hex(), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(Md5::of(b"abc").to_hex(), "900150983cd24fb0d6963f7d28e17f72");
        let m = Md5::of(b"abc");
        assert_eq!(m.to_hex().parse::<Md5>().ok(), Some(m));
        assert!("xyz".parse::<Md5>().is_err());
        let mut w = Md5Writer::new(Vec::new());
        w.write_all(b"a").unwrap();
        w.write_all(b"bc").unwrap();
        let (v, d, n) = w.finish();
        assert_eq!((v.as_slice(), d, n), (&b"abc"[..], m, 3));
        // The check value of CRC-32/ISO-HDLC, and the same in pieces.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let mut c = Crc32Hasher::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.finish(), 0xCBF4_3926);
        // FIPS 180-2 test vector.
        let abc = Sha256::of(b"abc");
        assert_eq!(
            abc.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(abc.to_hex().parse::<Sha256>().ok(), Some(abc));
        assert!("ba78".parse::<Sha256>().is_err());
    }
}
