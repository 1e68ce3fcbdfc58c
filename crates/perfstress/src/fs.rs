//! File helpers of the reporters: results files are written atomically
//! and an earlier run's file is removed before a run starts.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Removes a results file left by an earlier run, so that a run that fails
/// can never leave a stale number behind. A missing file is fine.
pub(crate) fn remove_stale_results(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// Writes `path` through `write` into a temporary file beside it, then
/// renames that into place; on any error the temporary file is removed and
/// `path` is left alone.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let outcome = (|| {
        let mut out = BufWriter::with_capacity(1 << 16, std::fs::File::create(&temporary)?);
        write(&mut out)?;
        out.into_inner()
            .map_err(|error| error.into_error())?
            .sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if outcome.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    outcome
}
