//! The end-of-run files (`--test-results`, `--results-file`, `--markdown`,
//! `--report`): each is written once, at the end of a run that has
//! results, says so on the console, and is removed again when the run is
//! discarded afterwards, only if this run wrote it.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::metrics::RunSummary;

use super::console::Console;

/// One end-of-run file and whether this run wrote it.
pub(crate) struct EndOfRunFile {
    path: PathBuf,
    /// What the console calls it: "`{what}` written to PATH".
    what: &'static str,
    written: bool,
}

impl EndOfRunFile {
    /// The file at `path`, announced as `what` ("Results", "Report", ...).
    pub(crate) fn new(path: PathBuf, what: &'static str) -> Self {
        Self {
            path,
            what,
            written: false,
        }
    }

    /// At the end of a run that has results, writes the file with `write`,
    /// which returns `false` when the run has nothing for it (then nothing
    /// is written or said).
    pub(crate) fn write(
        &mut self,
        summary: &RunSummary<'_>,
        write: impl FnOnce(&Path) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        if !summary.outcome.has_results() || !write(&self.path)? {
            return Ok(());
        }
        self.written = true;
        Console::new().line(&format!("{} written to {}", self.what, self.path.display()));
        Ok(())
    }

    /// Removes the file if this run wrote it.
    pub(crate) fn discard(&mut self) {
        if std::mem::take(&mut self.written) {
            crate::fs::remove_written(&self.path);
        }
    }
}
