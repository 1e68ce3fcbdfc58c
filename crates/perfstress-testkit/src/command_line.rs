//! The runner's command line as builder methods, shared by runs of a
//! runner binary ([`Run`](crate::Run)) and in-process runs
//! ([`Perf`](crate::Perf)), so a test states only what it sets.

use std::ffi::OsStr;
use std::fmt::Display;

use crate::temp::{TempDir, TempPath};

/// Appends the runner's arguments. Every method appends, in call order;
/// nothing is validated or deduplicated, so a test can pass a bad or
/// repeated option on purpose with [`arg`](CommandLine::arg).
pub trait CommandLine: Sized {
    /// Appends one argument as it is.
    fn arg(self, arg: impl AsRef<OsStr>) -> Self;

    /// Appends arguments as they are.
    fn args<I, S>(self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        args.into_iter().fold(self, |run, arg| run.arg(arg))
    }

    /// Appends `name value` (a test's own option, e.g. `--size 1024`).
    fn option(self, name: &str, value: impl Display) -> Self {
        self.arg(name).arg(value.to_string())
    }

    /// `-d SECONDS`: the length of the timed run.
    fn duration(self, seconds: impl Display) -> Self {
        self.option("-d", seconds)
    }

    /// `-w SECONDS`: the warm-up (0 skips it).
    fn warmup(self, seconds: impl Display) -> Self {
        self.option("-w", seconds)
    }

    /// `-p N`: test instances in total.
    fn parallel(self, instances: usize) -> Self {
        self.option("-p", instances)
    }

    /// `--processes N`: spread the instances over at most N processes.
    fn processes(self, processes: usize) -> Self {
        self.option("--processes", processes)
    }

    /// `--sync` if `sync`, nothing otherwise.
    fn sync(self, sync: bool) -> Self {
        if sync { self.arg("--sync") } else { self }
    }

    /// `--latency`.
    fn latency(self) -> Self {
        self.arg("--latency")
    }

    /// `--rate OPS`: the open-loop target rate over all instances.
    fn rate(self, operations_per_second: impl Display) -> Self {
        self.option("--rate", operations_per_second)
    }

    /// `--test-results PATH`: the results file.
    fn results(self, path: &TempPath) -> Self {
        self.arg("--test-results").arg(path.arg())
    }

    /// `--results-file PATH`: the per-operation latency file.
    fn results_file(self, path: &TempPath) -> Self {
        self.arg("--results-file").arg(path.arg())
    }

    /// `--profile --profile-path DIR`.
    fn profile(self, directory: &TempDir) -> Self {
        self.arg("--profile")
            .arg("--profile-path")
            .arg(directory.arg())
    }
}
