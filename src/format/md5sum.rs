//! The checksum file: `<32 lowercase hex>  <name>` per line, sorted by name, as `md5sum` prints
//! it, so `md5sum -c NAME-checksums.md5` passes inside the export folder.

use crate::digest::Md5;
use std::io::{self, BufRead, Write};

/// Write the lines for `files` (sorted here).
pub fn write(mut w: impl Write, files: &[(String, Md5)]) -> io::Result<()> {
    let mut sorted: Vec<&(String, Md5)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, md5) in sorted {
        writeln!(w, "{md5}  {name}")?;
    }
    Ok(())
}

/// Read the lines back.
pub fn read(r: impl BufRead) -> io::Result<Vec<(String, Md5)>> {
    let mut out = Vec::new();
    for (i, line) in r.lines().enumerate() {
        let line = line?;
        let (hex, name) = line.split_once("  ").ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, format!("line {}: not `md5  name`", i + 1))
        })?;
        let md5 = hex.parse().map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!("line {}: {e}", i + 1))
        })?;
        out.push((name.to_owned(), md5));
    }
    Ok(out)
}
