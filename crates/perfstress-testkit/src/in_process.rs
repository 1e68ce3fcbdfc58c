//! Runs of `perfstress::run` in the test's own process, as a perf target's
//! `main` would make them, for tests whose test types are defined in the
//! test binary itself.

use std::ffi::{OsStr, OsString};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use crate::command_line::CommandLine;
use perfstress::Outcome;

static SERIAL: Mutex<()> = Mutex::new(());

/// Held for the whole of a test that runs [`Perf`]: runs share the process
/// (its stdout, panic hook and Ctrl-C handler) and the test types' static
/// counters, so they go one at a time.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An in-process run being built: `perf ARGS...` through
/// `perfstress::run`, with `--processes 1` unless the arguments name
/// `--processes` (a multi-process run starts this executable as its
/// workers, and this executable is the test harness, not a perf runner).
/// Hold [`serial`] while it runs.
#[derive(Debug, Default)]
pub struct Perf {
    args: Vec<OsString>,
}

impl Perf {
    /// `perf` with no arguments yet (with none, it lists the tests).
    pub fn new() -> Self {
        Self::default()
    }

    /// `perf TEST`, to be given its options.
    pub fn test(name: &str) -> Self {
        Self::new().arg(name)
    }

    /// Runs, whatever the exit code.
    pub fn run(self) -> Ran {
        // Without arguments it lists the tests; options without a test
        // would be a usage error.
        let single_process: &[&str] =
            if self.args.is_empty() || self.args.iter().any(|arg| arg == "--processes") {
                &[]
            } else {
                &["--processes", "1"]
            };
        let argv: Vec<OsString> = std::iter::once(OsString::from("perf"))
            .chain(single_process.iter().map(OsString::from))
            .chain(self.args)
            .collect();
        let command = argv
            .iter()
            .map(|arg| arg.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        let started = Instant::now();
        let code = perfstress::run(argv).code();
        let elapsed = started.elapsed();
        keep_panic_messages();
        Ran {
            command,
            code,
            elapsed,
        }
    }

    /// Runs and asserts the exit code of `expected`.
    #[track_caller]
    pub fn outcome(self, expected: Outcome) -> Ran {
        let ran = self.run();
        ran.assert_outcome(expected);
        ran
    }

    /// Runs and asserts success (exit 0).
    #[track_caller]
    pub fn ok(self) -> Ran {
        self.outcome(Outcome::Success)
    }

    /// Runs and asserts the test failed (exit 1).
    #[track_caller]
    pub fn fails(self) -> Ran {
        self.outcome(Outcome::Failed)
    }
}

impl CommandLine for Perf {
    fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }
}

/// What one in-process run returned, and how long it took.
#[derive(Debug)]
pub struct Ran {
    /// The command line, for assertion messages.
    pub command: String,
    /// The exit code `perfstress::run` returned.
    pub code: i32,
    /// How long the run took.
    pub elapsed: Duration,
}

impl Ran {
    /// Asserts the exit code of `expected`.
    #[track_caller]
    pub fn assert_outcome(&self, expected: Outcome) -> &Self {
        assert_eq!(self.code, expected.code(), "{self:?}");
        self
    }
}

/// `perfstress::run` installs a process-wide panic hook that prints nothing
/// (it turns panics of test code into reported failures), which would also
/// silence the messages of the test binary's failing assertions. Chain a
/// hook that still prints them.
fn keep_panic_messages() {
    static WRAP: Once = Once::new();
    WRAP.call_once(|| {
        let perfstress_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            perfstress_hook(info);
            let on_a_test_thread = std::thread::current()
                .name()
                .is_some_and(|name| !name.starts_with("perfstress"));
            if on_a_test_thread {
                eprintln!("{info}");
            }
        }));
    });
}
