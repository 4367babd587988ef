//! What every command shares on stdout and stderr: JSON, the `ediscovery: …` error lines, and
//! closed pipes.

use crate::exit;
use std::io::Write;
use std::process::ExitCode;

/// What a command returns: its exit code, or an error printed as `ediscovery: …` (exit 1).
pub type CliResult = Result<ExitCode, Box<dyn std::error::Error>>;

/// `value` as pretty JSON and a newline. (Serialised to a string first: `serde_json`'s writer
/// errors hide the `io::Error`, and [`broken_pipe`] must find it.)
pub fn json(o: &mut dyn Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    let s = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    writeln!(o, "{s}")
}

/// An error line on stderr. Errors stay text on stderr even with `--json`.
pub fn error(message: impl std::fmt::Display) {
    eprintln!("ediscovery: {message}");
}

/// Does this error come from a closed stdout (`ediscovery search … | head`)? Then the reader has
/// all it wanted and the command ends quietly with exit 0.
pub fn broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// A query that begins with `--` is almost surely a mistyped flag (queries may begin with one
/// `-`, so clap hands such words to the query): refuse it as a usage error.
pub fn flag_like(query: &str) -> Option<ExitCode> {
    query.starts_with("--").then(|| {
        error(format_args!(
            "{query:?} looks like a flag, not a query: check the flag's spelling \
             (`ediscovery help`), or write the query without the leading `--`"
        ));
        exit::code(exit::USAGE)
    })
}
