#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]
use ediscovery::{CollectionWriter, IngestOptions, NoProgress, ingest::Source, model::Account};
use std::time::Instant;
fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let out = std::path::PathBuf::from("/tmp/prof-coll");
    let _ = std::fs::remove_dir_all(&out);
    let t = Instant::now();
    let mut w = CollectionWriter::open(&out, 0).unwrap();
    println!("open {:?}", t.elapsed());
    let mut n = 0;
    for e in std::fs::read_dir(dir.join("mbox")).unwrap() {
        let p = e.unwrap().path();
        let a = p.file_stem().unwrap().to_string_lossy().to_string();
        let t1 = Instant::now();
        let r = w
            .ingest(
                &Source::Mbox(p),
                &IngestOptions::new(Account::new(&a).unwrap()),
                &mut NoProgress,
            )
            .unwrap();
        n += r.seen;
        println!("{a} {} {:?}", r.seen, t1.elapsed());
    }
    let t1 = Instant::now();
    w.finish().unwrap();
    println!("finish {:?}", t1.elapsed());
    println!("total {n} in {:?} = {:.0}/s", t.elapsed(), n as f64 / t.elapsed().as_secs_f64());
}
