//! The files a run writes (results files, profiles): checked before the
//! run starts, so a bad path never costs a measurement; an earlier run's
//! regular file removed, anything else refused; written atomically; and no
//! temporary file left behind on any exit path.

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, ErrorKind};

/// What a results path is, checked before the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutputKind {
    /// Nothing there yet, or a regular file (an earlier run's, removed).
    File,
    /// A character device (`/dev/null`, a terminal) or a pipe with a
    /// reader (`/dev/stdout` of a piped run): written through, never
    /// removed or renamed over.
    Device,
}

/// Checks `path` (given as `option`) before the run: removes an earlier
/// run's regular file, refuses to replace anything else (a directory, a
/// symlink, a fifo, a socket), and makes sure the file can be written. A
/// usage error otherwise, naming the path and the reason.
pub(crate) fn prepare_output(option: &str, path: &Path) -> Result<OutputKind, Error> {
    let refuse = |why: String| {
        Err(Error::new(
            ErrorKind::Usage,
            format!("{option} {}: {why}", path.display()),
        ))
    };
    match std::fs::symlink_metadata(path) {
        Ok(metadata) => {
            let mut kind = metadata.file_type();
            // `/dev/stdout` is a link to the process's descriptor: a link
            // to a device or pipe is that device or pipe.
            if kind.is_symlink()
                && let Ok(target) = std::fs::metadata(path)
                && is_write_through(&target.file_type())
            {
                kind = target.file_type();
            }
            if kind.is_file() {
                if let Err(error) = remove_stale_results(path) {
                    return refuse(format!(
                        "cannot remove the earlier results file there ({error}); remove it or choose another path"
                    ));
                }
            } else if is_write_through(&kind) {
                // A pipe is not opened here: closing it would end its
                // reader's input. It is opened (never waiting for a
                // reader) when the results are written.
                if is_pipe(&kind) {
                    return Ok(OutputKind::Device);
                }
                return match open_write_through(path) {
                    Ok(_) => Ok(OutputKind::Device),
                    Err(error) => refuse(format!("cannot write to this device: {error}")),
                };
            } else {
                let what = if kind.is_dir() {
                    "a directory"
                } else if kind.is_symlink() {
                    "a symbolic link"
                } else {
                    "not a regular file (a socket or block device)"
                };
                return refuse(format!(
                    "it is {what}, which a results file would replace; give the path of a regular file"
                ));
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return refuse(format!("cannot be checked: {error}")),
    }
    // Writable? Try the very temporary file the results will be written to.
    let probe = temporary_path(path);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(OutputKind::File)
        }
        Err(error) => refuse(format!("cannot be written: {error}")),
    }
}

/// Checks that `directory` (`--profile-path`) exists or can be made, and
/// can be written to.
pub(crate) fn prepare_directory(option: &str, directory: &Path) -> Result<(), Error> {
    let refuse = |why: String| {
        Err(Error::new(
            ErrorKind::Usage,
            format!("{option} {}: {why}", directory.display()),
        ))
    };
    if let Err(error) = std::fs::create_dir_all(directory) {
        return refuse(format!("cannot be created: {error}"));
    }
    let probe = directory.join(format!(".perfstress-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(error) => refuse(format!("cannot be written to: {error}")),
    }
}

/// A character device or a pipe: written through, not replaced.
#[cfg(unix)]
fn is_write_through(kind: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    kind.is_char_device() || kind.is_fifo()
}

#[cfg(not(unix))]
fn is_write_through(_kind: &std::fs::FileType) -> bool {
    false
}

#[cfg(unix)]
fn is_pipe(kind: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    kind.is_fifo()
}

#[cfg(not(unix))]
fn is_pipe(_kind: &std::fs::FileType) -> bool {
    false
}

/// Opens a device or pipe for writing. A pipe that nobody reads is an
/// error (ENXIO), not a wait for ever; once open, writes block as usual.
fn open_write_through(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a descriptor this function owns, with valid flags.
        unsafe {
            let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    Ok(file)
}

/// Temporary files being written now: removed by [`remove_temporary_files`]
/// when the process must exit at once (a second Ctrl-C).
static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn in_progress() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    IN_PROGRESS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes a results file this run wrote (a regular file only: a device or
/// pipe written through is left as it is).
pub(crate) fn remove_written(path: &Path) {
    if std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.is_file()) {
        let _ = std::fs::remove_file(path);
    }
}

/// Removes every temporary file being written (before a hard exit).
pub(crate) fn remove_temporary_files() {
    for path in in_progress().drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

/// `PATH.<pid>.tmp`, beside `path`.
fn temporary_path(path: &Path) -> PathBuf {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    PathBuf::from(temporary)
}

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
/// `path` is left alone. A character device (`/dev/stdout`) is written
/// through instead.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let is_device = std::fs::metadata(path)
        .map(|metadata| is_write_through(&metadata.file_type()))
        .unwrap_or(false);
    if is_device {
        let mut out = BufWriter::new(open_write_through(path)?);
        write(&mut out)?;
        return out
            .into_inner()
            .map_err(|error| error.into_error())
            .map(drop);
    }
    let temporary = temporary_path(path);
    in_progress().push(temporary.clone());
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
    in_progress().retain(|path| *path != temporary);
    outcome
}
