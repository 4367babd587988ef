//! One on-disk format per file, each with the writer exports use and the reader `verify` uses.
//! Each outside format crate is used here only: zip in `zip.rs`, csv in `csv.rs`, quick-xml in
//! `xml.rs`.

pub mod bounded;
pub mod csv;
pub mod html;
pub mod mbox;
pub mod md5sum;
pub mod xml;
pub mod zip;
