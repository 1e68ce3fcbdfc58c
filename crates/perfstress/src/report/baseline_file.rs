//! `--save-baseline NAME`: the run, as [`RunRecord`](crate::metrics::RunRecord)
//! keeps it, saved where `--baseline NAME` and `compare` find it (see
//! `baseline.rs` for the layout).

use std::path::PathBuf;

use crate::error::Error;
use crate::metrics::RunSummary;

use super::console::Console;
use super::reporter::Reporter;

/// Saves the run as a baseline at the end of a run that measured something.
pub(crate) struct BaselineFile {
    directory: PathBuf,
    name: String,
    /// The file this run wrote.
    written: Option<PathBuf>,
}

impl BaselineFile {
    /// The reporter saving baseline `name` in `directory`.
    pub(crate) fn new(directory: PathBuf, name: String) -> Self {
        Self {
            directory,
            name,
            written: None,
        }
    }
}

impl Reporter for BaselineFile {
    fn discard(&mut self) {
        if let Some(path) = self.written.take() {
            crate::fs::remove_written(&path);
        }
    }

    fn run_summary(&mut self, summary: &RunSummary<'_>) -> Result<(), Error> {
        if !summary.outcome.has_results() {
            return Ok(());
        }
        let Some(record) = &summary.record else {
            return Ok(());
        };
        let path = crate::baseline::save(&self.directory, &self.name, record)?;
        Console::new().line(&format!(
            "Baseline {} saved to {}",
            self.name,
            path.display()
        ));
        self.written = Some(path);
        Ok(())
    }
}
