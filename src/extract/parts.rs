//! The parts of one zip (an OOXML or ODF file) read as XML, their inflated bytes counted
//! against [`Limits::extract_part_bytes`] and [`Limits::extract_inflated_bytes`]: the zip
//! crate stops an entry at its declared size, but a bomb declares whatever it likes, so the
//! count is of the bytes that actually come out.

use super::ExtractError;
use crate::Limits;
use crate::format::zip::ZipIn;
use std::io::Cursor;

/// An office file's zip.
pub(super) type Zip<'a> = ZipIn<Cursor<&'a [u8]>>;

/// Reading the parts of one zip: the inflated bytes counted against the per-part and per-file
/// caps, the text gathered in a [`Sink`].
pub(super) struct ZipRead<'z, 'a> {
    zip: &'z mut Zip<'a>,
    limits: &'z Limits,
    inflated: u64,
}

impl<'z, 'a> ZipRead<'z, 'a> {
    pub(super) fn new(zip: &'z mut Zip<'a>, limits: &'z Limits) -> Self {
        ZipRead { zip, limits, inflated: 0 }
    }

    /// Walk the XML of entry `entry`, if there is one, handing each node to `f`.
    /// `Ok(false)`: no such entry.
    pub(super) fn walk(
        &mut self,
        entry: &str,
        f: impl FnMut(super::xml::Node<'_, '_>) -> super::xml::Flow,
    ) -> Result<bool, ExtractError> {
        let (limits, already) = (self.limits, self.inflated);
        let read = self.zip.read(entry, |r| {
            let mut counted = counted::Counted::new(r, limits, already);
            let res = super::xml::walk(&mut counted, entry, limits.extract_xml_depth, f);
            (res, counted.used(), counted.exceeded())
        });
        let (res, used, exceeded) = match read {
            Ok(Some(x)) => x,
            Ok(None) => return Ok(false),
            Err(e) => {
                return Err(ExtractError::ZipEntry {
                    entry: entry.to_owned(),
                    message: e.to_string(),
                });
            }
        };
        self.inflated = self.inflated.saturating_add(used);
        match exceeded {
            Some(counted::Exceeded::Part) => Err(ExtractError::PartTooLarge {
                entry: entry.to_owned(),
                limit: limits.extract_part_bytes,
            }),
            Some(counted::Exceeded::Total) => Err(ExtractError::InflatedTooLarge {
                entry: entry.to_owned(),
                limit: limits.extract_inflated_bytes,
            }),
            None => res.map(|()| true),
        }
    }

    /// Entry names in the zip.
    pub(super) fn names(&self) -> Vec<String> {
        self.zip.names()
    }
}

mod counted {
    //! A reader of one zip entry that stops at the per-part and per-file inflation caps.

    use crate::Limits;
    use std::io::{self, Read};

    /// Which cap was passed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) enum Exceeded {
        Part,
        Total,
    }

    pub(super) struct Counted<'r> {
        inner: &'r mut dyn Read,
        used: u64,
        part_max: u64,
        total_left: u64,
        exceeded: Option<Exceeded>,
    }

    impl<'r> Counted<'r> {
        pub(super) fn new(inner: &'r mut dyn Read, limits: &Limits, already: u64) -> Self {
            Counted {
                inner,
                used: 0,
                part_max: limits.extract_part_bytes,
                total_left: limits.extract_inflated_bytes.saturating_sub(already),
                exceeded: None,
            }
        }
        pub(super) fn used(&self) -> u64 {
            self.used
        }
        pub(super) fn exceeded(&self) -> Option<Exceeded> {
            self.exceeded
        }
    }

    impl Read for Counted<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.used = self.used.saturating_add(n as u64);
            let over = if self.used > self.part_max {
                Some(Exceeded::Part)
            } else if self.used > self.total_left {
                Some(Exceeded::Total)
            } else {
                None
            };
            if let Some(which) = over {
                self.exceeded = Some(which);
                return Err(io::Error::new(io::ErrorKind::InvalidData, "inflation cap passed"));
            }
            Ok(n)
        }
    }
}
