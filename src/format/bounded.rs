//! A reader that refuses to deliver more than a set number of bytes per record, for the readers
//! `verify` runs over files it did not write: a hostile CSV row or XML element as long as the
//! file would otherwise be held whole by the parser. The caller resets the count at each record
//! boundary; the parsers' own read-ahead (a few KiB) is the only slack.

use std::io::{self, Read};

/// Counts bytes since the last [`Bounded::reset`] and fails once they pass `max`.
pub struct Bounded<R> {
    inner: R,
    max: u64,
    used: u64,
}

impl<R: Read> Bounded<R> {
    /// Wrap `inner`; `max` bytes per record.
    pub fn new(inner: R, max: u64) -> Self {
        Bounded { inner, max, used: 0 }
    }

    /// A new record starts: its bytes count from zero.
    pub fn reset(&mut self) {
        self.used = 0;
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.used > self.max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a record longer than {} bytes", self.max),
            ));
        }
        let n = self.inner.read(buf)?;
        self.used = self.used.saturating_add(n as u64);
        Ok(n)
    }
}
