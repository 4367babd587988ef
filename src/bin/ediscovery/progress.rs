//! Progress bars, on a terminal only: when stderr is a file or a pipe, nothing is drawn (ingest
//! prints plain `committed` lines instead).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

/// A bar over `total` bytes (a spinner when the total is unknown, 0), or `None` off a terminal.
pub fn bytes_bar(total: u64) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if total == 0 {
            b.set_style(
                ProgressStyle::with_template("{spinner} {bytes} {binary_bytes_per_sec} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
        } else {
            b.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
        b
    })
}

/// Ingest progress: a bar on a terminal; plain `committed` lines otherwise.
pub struct IngestBar {
    bar: Option<ProgressBar>,
    messages: u64,
}

impl IngestBar {
    /// Over `total` source bytes (0: unknown).
    pub fn new(total: u64) -> IngestBar {
        IngestBar { bar: bytes_bar(total), messages: 0 }
    }

    /// Clear the bar before the report is printed.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl ediscovery::IngestProgress for IngestBar {
    fn advanced(&mut self, messages: u64, bytes: u64) {
        self.messages += messages;
        if let Some(b) = &self.bar {
            b.inc(bytes);
            b.set_message(format!("{} messages", self.messages));
        }
    }
    fn committed(&mut self, generation: u64, records: u64) {
        match &self.bar {
            Some(b) => b.set_message(format!("{} messages, committed {records}", self.messages)),
            None => eprintln!("committed generation {generation}: {records} records"),
        }
    }
}

/// Export progress on a terminal: messages, bytes, rate, ETA.
pub struct ExportBar {
    bar: Option<ProgressBar>,
    messages: AtomicU64,
}

impl ExportBar {
    /// Over the plan's `total` bytes.
    pub fn new(total: u64) -> ExportBar {
        ExportBar { bar: bytes_bar(total), messages: AtomicU64::new(0) }
    }

    /// Clear the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl ediscovery::export::ExportProgress for ExportBar {
    fn advanced(&self, messages: u64, bytes: u64) {
        if let Some(b) = &self.bar {
            let n = self.messages.fetch_add(messages, Ordering::Relaxed) + messages;
            b.inc(bytes);
            b.set_message(format!("{n} messages"));
        }
    }
}

/// Organisation export progress on a terminal: accounts done of planned, the last one named.
pub struct OrgBar {
    bar: Option<ProgressBar>,
}

impl OrgBar {
    /// Nothing drawn until the accounts are known.
    pub fn new() -> OrgBar {
        OrgBar {
            bar: std::io::stderr().is_terminal().then(|| {
                let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
                b.set_style(
                    ProgressStyle::with_template("{bar:30} {pos}/{len} accounts {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                b
            }),
        }
    }

    /// Clear the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl ediscovery::export::org::OrgExportProgress for OrgBar {
    fn planned(&self, accounts: usize, _resumed: usize) {
        if let Some(b) = &self.bar {
            b.set_length(accounts as u64);
        }
    }
    fn account_done(&self, a: &ediscovery::export::org::report::AccountReport, resumed: bool) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(format!("{}{}", a.id, if resumed { " (kept)" } else { "" }));
        }
    }
}
