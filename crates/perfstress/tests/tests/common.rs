//! Helpers of the in-process tests: running `perfstress::run` one at a
//! time, unique results paths, and keeping assertion messages visible.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

/// Exit codes of the runner.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

static SERIAL: Mutex<()> = Mutex::new(());

/// Held for the whole of a test that calls `perfstress::run`: runs share
/// the process (its stdout, panic hook and Ctrl-C handler) and the test
/// types' static counters, so they go one at a time.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What one `perfstress::run` returned, and how long it took.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub elapsed: Duration,
}

/// `perf args...` in this process (call with [`serial`] held), with
/// `--processes 1` unless `args` say otherwise: a multi-process run starts
/// this executable as its workers, and this executable is the test harness,
/// not a perf runner.
pub fn perf(args: &[&str]) -> Ran {
    let single_process: &[&str] = if args.contains(&"--processes") {
        &[]
    } else {
        &["--processes", "1"]
    };
    let argv: Vec<OsString> = std::iter::once("perf")
        .chain(single_process.iter().copied())
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect();
    let started = Instant::now();
    let code = perfstress::run(argv);
    let elapsed = started.elapsed();
    keep_panic_messages();
    Ran {
        code: code.code(),
        elapsed,
    }
}

/// `perfstress::run` installs a process-wide panic hook that prints nothing
/// (it turns panics of test code into reported failures), which would also
/// silence the messages of this binary's failing assertions. Chain a hook
/// that still prints them.
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

/// A unique path in the temporary directory, removed on drop.
pub struct TempPath(PathBuf);

impl TempPath {
    /// A fresh path (no file yet) named after `tag`.
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "perfstress-it-{}-{}-{tag}.json",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    /// A fresh path holding a stale results file.
    pub fn stale(tag: &str) -> Self {
        let path = Self::new(tag);
        std::fs::write(&path.0, "{\"operations_per_second\": 12345.0}\n").expect("write stale");
        path
    }

    /// The path as a command-line argument.
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("temporary paths are UTF-8")
    }

    pub fn exists(&self) -> bool {
        self.0.exists()
    }

    /// The JSON in the file.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(&self.0)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", self.0.display()));
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("bad JSON ({error}): {text}"))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Asserts `actual` is within `tolerance` (relative) of `expected`.
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    let relative = (actual - expected).abs() / expected.abs();
    assert!(
        relative <= tolerance,
        "{what}: {actual} is not within {:.1}% of {expected}",
        tolerance * 100.0
    );
}
