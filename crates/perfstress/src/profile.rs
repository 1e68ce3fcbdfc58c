//! `--profile`: sample the timed run with a CPU profiler and write, per
//! process, a flame graph (SVG) and a pprof protobuf.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// Whether this build can profile (`profile` feature, on Unix).
pub(crate) const AVAILABLE: bool = cfg!(all(unix, feature = "profile"));

/// Samples per second: a prime, so sampling does not beat with periodic work.
#[cfg(all(unix, feature = "profile"))]
const FREQUENCY: i32 = 997;

/// Where and under which name a process writes its profile.
#[cfg_attr(not(all(unix, feature = "profile")), allow(dead_code))]
#[derive(Clone, Debug)]
pub(crate) struct ProfileTarget {
    pub(crate) directory: PathBuf,
    pub(crate) test_name: &'static str,
    pub(crate) first_index: usize,
    pub(crate) sync: bool,
}

#[cfg_attr(not(all(unix, feature = "profile")), allow(dead_code))]
impl ProfileTarget {
    /// `profile-{TestName}-{first parallel index}-{sync|async}` in the directory.
    fn stem(&self) -> PathBuf {
        let variant = if self.sync { "sync" } else { "async" };
        self.directory.join(format!(
            "profile-{}-{}-{variant}",
            self.test_name, self.first_index
        ))
    }
}

/// A running profiler; [`finish`](Profiler::finish) writes the files.
#[cfg_attr(not(all(unix, feature = "profile")), allow(dead_code))]
pub(crate) struct Profiler {
    #[cfg(all(unix, feature = "profile"))]
    guard: pprof::ProfilerGuard<'static>,
    target: ProfileTarget,
}

impl Profiler {
    /// Starts sampling this process.
    pub(crate) fn start(target: ProfileTarget) -> Result<Self> {
        #[cfg(all(unix, feature = "profile"))]
        {
            let guard = pprof::ProfilerGuardBuilder::default()
                .frequency(FREQUENCY)
                .blocklist(&["libc", "libgcc", "pthread", "vdso"])
                .build()
                .map_err(|error| {
                    Error::with_source(ErrorKind::Io, "cannot start the profiler", error)
                })?;
            Ok(Self { guard, target })
        }
        #[cfg(not(all(unix, feature = "profile")))]
        {
            let _ = target;
            Err(Error::new(
                ErrorKind::Unsupported,
                "--profile needs a Unix system and perfstress's `profile` feature",
            ))
        }
    }

    /// Stops sampling and writes `<stem>.svg` and `<stem>.pb`; returns their paths.
    pub(crate) fn finish(self) -> Result<Vec<PathBuf>> {
        #[cfg(all(unix, feature = "profile"))]
        {
            use pprof::protos::Message;

            let report = self.guard.report().build();
            // Stopping the profiler makes pprof-rs start a fresh sample file
            // in a static that is never dropped, so it would outlive the
            // process: that new file (ours, open, in the temporary
            // directory) is removed. (A second profile in the same process
            // would find it gone: a process profiles once.)
            let open_before = open_temporary_files();
            drop(self.guard);
            for path in open_temporary_files().difference(&open_before) {
                let _ = std::fs::remove_file(path);
            }
            let report = report.map_err(|error| {
                Error::with_source(ErrorKind::Io, "cannot build the profile", error)
            })?;
            std::fs::create_dir_all(&self.target.directory).map_err(|error| {
                io_error(
                    &format!("cannot create {}", self.target.directory.display()),
                    error,
                )
            })?;
            let stem = self.target.stem();
            let svg = stem.with_extension("svg");
            let file = std::fs::File::create(&svg)
                .map_err(|error| io_error(&format!("cannot create {}", svg.display()), error))?;
            report
                .flamegraph(std::io::BufWriter::new(file))
                .map_err(|error| {
                    Error::with_source(ErrorKind::Io, "cannot write the flame graph", error)
                })?;
            let protobuf = stem.with_extension("pb");
            let profile = report.pprof().map_err(|error| {
                Error::with_source(ErrorKind::Io, "cannot encode the profile", error)
            })?;
            let mut bytes = Vec::new();
            profile.encode(&mut bytes).map_err(|error| {
                Error::with_source(ErrorKind::Io, "cannot encode the profile", error)
            })?;
            write_file(&protobuf, &bytes)?;
            Ok(vec![svg, protobuf])
        }
        #[cfg(not(all(unix, feature = "profile")))]
        {
            Ok(Vec::new())
        }
    }
}

#[cfg(all(unix, feature = "profile"))]
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)
        .map_err(|error| io_error(&format!("cannot write {}", path.display()), error))
}

/// The files in the temporary directory that this process has open and
/// created (`tempfile`'s `.tmpXXXXXX` names); empty where `/proc` is not.
#[cfg(all(unix, feature = "profile"))]
fn open_temporary_files() -> std::collections::BTreeSet<PathBuf> {
    let temporary = std::env::temp_dir();
    let Ok(descriptors) = std::fs::read_dir("/proc/self/fd") else {
        return Default::default();
    };
    descriptors
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|path| {
            path.parent() == Some(temporary.as_path())
                && path
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with(".tmp"))
        })
        .collect()
}

#[cfg_attr(not(all(unix, feature = "profile")), allow(dead_code))]
fn io_error(message: &str, error: std::io::Error) -> Error {
    Error::with_source(ErrorKind::Io, message.to_owned(), error)
}

/// The directory profiles go to: `--profile-path`, else the working directory.
pub(crate) fn profile_directory(path: Option<&Path>) -> PathBuf {
    path.map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
