//! The examples the README points at run and check their own numbers.

use std::path::PathBuf;
use std::process::Command;

fn example(name: &str) -> PathBuf {
    // Cargo builds examples next to the test binaries' `deps` folder.
    let mut p = std::env::current_exe().unwrap();
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    p.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn investigation_runs_end_to_end() {
    let exe = example("investigation");
    assert!(exe.exists(), "{} not built", exe.display());
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(&exe).arg(tmp.path().join("inv")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("330 records"), "{stdout}");
    assert!(stdout.contains("(verified: true)"), "{stdout}");
    assert!(tmp.path().join("inv/collection/MANIFEST.json").is_file());
    assert_eq!(stdout.matches("verify: OK").count(), 2, "{stdout}");
    assert!(tmp.path().join("inv/exports/Falcon-mail/Falcon-mail-checksums.md5").is_file());
    assert!(
        tmp.path().join("inv/exports/Falcon-groups/Falcon-groups-group-membership.csv").is_file()
    );
}
