//! Helpers shared by the systemperf integration tests: running the binary,
//! reading its output, unique temporary paths, and a lock that keeps
//! CPU-saturating runs away from timing-sensitive ones.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest any child may run before the test kills it and fails: a hang is
/// a bug, and must not hang the suite.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// Exit codes of the runner.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_INTERRUPTED: i32 = 130;

/// The eight stage headers in the order they must appear.
pub const STAGES: [&str; 8] = [
    "=== Options ===",
    "=== Setup ===",
    "=== Post Setup ===",
    "=== Warmup ===",
    "=== Tests ===",
    "=== Pre Cleanup ===",
    "=== Cleanup ===",
    "=== Finished ===",
];

/// The header printed before the status lines of a timed phase.
pub const STATUS_HEADER: &str = "    Current        Total      Average";

// ---------------------------------------------------------------------------
// Scheduling of CPU-heavy runs
// ---------------------------------------------------------------------------

static CPU: RwLock<()> = RwLock::new(());

/// Held by runs whose figures depend on timing (e.g. ops/s within 5%):
/// they may run together, but never next to a CPU-saturating run.
pub fn timing_sensitive() -> RwLockReadGuard<'static, ()> {
    CPU.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held by runs that keep every core busy (NoOpTest, spinning batches).
pub fn cpu_saturating() -> RwLockWriteGuard<'static, ()> {
    CPU.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

/// The finished run of one child process.
#[derive(Debug)]
pub struct Output {
    /// The process id of the runner (the parent of any worker processes).
    pub pid: u32,
    pub code: Option<i32>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Output {
    /// Asserts the exit code, printing both streams when it differs.
    #[track_caller]
    pub fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "unexpected exit status {:?}\n{}",
            self.status,
            self.dump()
        );
        self
    }

    /// Both streams, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}\n--- elapsed {:?} ---",
            self.stdout, self.stderr, self.elapsed
        )
    }

    /// The lines of stdout between the header `=== {stage} ===` and the
    /// next stage header (empty if the stage is absent).
    pub fn section(&self, stage: &str) -> Vec<&str> {
        section(&self.stdout, stage)
    }

    /// The results line of `stage` (Warmup or Tests), parsed.
    #[track_caller]
    pub fn results(&self, stage: &str) -> ResultsLine {
        let lines = self.section(stage);
        let line = lines
            .iter()
            .find(|line| line.starts_with("Completed "))
            .unwrap_or_else(|| panic!("no results line in {stage}\n{}", self.dump()));
        ResultsLine::parse(line).unwrap_or_else(|| panic!("unparsable results line {line:?}"))
    }

    /// The stage headers in the order printed.
    pub fn stages(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|line| line.starts_with("=== ") && line.ends_with(" ==="))
            .collect()
    }

    /// LogTest's lifecycle lines, in order.
    pub fn log_calls(&self) -> Vec<LogCall> {
        log_calls(&self.stdout)
    }
}

/// A `systemperf` command with a clean environment: no framework options
/// from the environment, and no backtraces in the output.
pub fn systemperf<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_systemperf"));
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PERFSTRESS_") {
            command.env_remove(&name);
        }
    }
    command.env("RUST_BACKTRACE", "0");
    command.stdin(Stdio::null());
    command
}

/// Runs `systemperf args...` to completion (or [`CHILD_TIMEOUT`]).
pub fn run(args: &[&str]) -> Output {
    run_command(systemperf(args))
}

/// Runs `command` to completion, collecting both streams.
pub fn run_command(mut command: Command) -> Output {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("systemperf starts");
    let pid = child.id();
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_with_timeout(&mut child, CHILD_TIMEOUT);
    let elapsed = started.elapsed();
    finish(pid, status, stdout, stderr, elapsed)
}

fn finish(
    pid: u32,
    status: Option<ExitStatus>,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
    elapsed: Duration,
) -> Output {
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    let Some(status) = status else {
        panic!(
            "systemperf did not finish within {CHILD_TIMEOUT:?} (killed)\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        );
    };
    Output {
        pid,
        code: status.code(),
        status,
        stdout,
        stderr,
        elapsed,
    }
}

fn drain(mut stream: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child`; kills it and returns `None` after `timeout`.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A child whose stdout is watched line by line while it runs, so a test
/// can act (send a signal) at a known point of the run.
pub struct Watched {
    child: Child,
    started: Instant,
    lines: mpsc::Receiver<String>,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

impl Watched {
    /// Starts `systemperf args...`.
    pub fn start(args: &[&str]) -> Self {
        Self::spawn(systemperf(args))
    }

    /// Starts `systemperf args...` in a process group of its own, as a
    /// shell starts a job (Ctrl-C in a terminal signals that whole group).
    pub fn start_in_own_group(args: &[&str]) -> Self {
        use std::os::unix::process::CommandExt;
        let mut command = systemperf(args);
        command.process_group(0);
        Self::spawn(command)
    }

    fn spawn(mut command: Command) -> Self {
        let started = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("systemperf starts");
        let (sender, lines) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        let stdout = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                all.push_str(&line);
                all.push('\n');
                let _ = sender.send(line);
            }
            all
        });
        let stderr = drain(child.stderr.take().expect("piped stderr"));
        Self {
            child,
            started,
            lines,
            stdout,
            stderr,
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until a stdout line satisfies `predicate`; panics after
    /// `timeout` (killing the child).
    #[track_caller]
    pub fn wait_for_line(&mut self, timeout: Duration, predicate: impl Fn(&str) -> bool) {
        self.wait_for(timeout, predicate);
    }

    /// Sends `signal` to the child.
    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid fits pid_t");
        send_signal(pid, signal);
    }

    /// Waits until a stdout line satisfies `predicate` and returns it.
    #[track_caller]
    pub fn wait_for(&mut self, timeout: Duration, predicate: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if predicate(&line) => return line,
                Ok(_) => {}
                Err(_) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!("the expected line did not appear within {timeout:?}");
                }
            }
        }
    }

    /// Waits until stdout is closed by every process writing to it (the
    /// runner and its workers); `false` if it is still open after `timeout`.
    pub fn wait_for_eof(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(mpsc::RecvTimeoutError::Timeout) => return false,
            }
        }
    }

    /// Waits for the child to exit (or [`CHILD_TIMEOUT`]) and returns its
    /// output; `elapsed` is measured from the start.
    pub fn finish(mut self) -> Output {
        let pid = self.child.id();
        let status = wait_with_timeout(&mut self.child, CHILD_TIMEOUT);
        let elapsed = self.started.elapsed();
        finish(pid, status, self.stdout, self.stderr, elapsed)
    }
}

/// `kill(pid, signal)`, asserting it worked.
pub fn send_signal(pid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions; the tests only
    // signal processes (or groups) they started and have not reaped.
    let result = unsafe { libc::kill(pid, signal) };
    assert_eq!(result, 0, "kill({pid}, {signal}) failed");
}

/// Whether process `pid` still exists (and is not a zombie).
pub fn process_is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

/// `"1 process"`, `"2 processes"`: as the options line says it.
pub fn processes_text(processes: usize) -> String {
    if processes == 1 {
        "1 process".to_owned()
    } else {
        format!("{processes} processes")
    }
}

// ---------------------------------------------------------------------------
// Parsing the output
// ---------------------------------------------------------------------------

/// The lines of `stdout` after `=== {stage} ===`, up to the next header.
pub fn section<'a>(stdout: &'a str, stage: &str) -> Vec<&'a str> {
    let header = format!("=== {stage} ===");
    stdout
        .lines()
        .skip_while(|line| *line != header)
        .skip(1)
        .take_while(|line| !(line.starts_with("=== ") && line.ends_with(" ===")))
        .collect()
}

/// `Completed {total} operations in a weighted-average of {w}s ({ops} ops/s, {spo} s/op)`
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResultsLine {
    pub total: u64,
    pub weighted_average_seconds: f64,
    pub operations_per_second: f64,
    pub seconds_per_operation: f64,
}

impl ResultsLine {
    /// Parses a results line; `None` if it is not one.
    pub fn parse(line: &str) -> Option<Self> {
        let rest = line.strip_prefix("Completed ")?;
        let (total, rest) = rest.split_once(" operations in a weighted-average of ")?;
        let (weighted, rest) = rest.split_once("s (")?;
        let (ops, rest) = rest.split_once(" ops/s, ")?;
        let spo = rest.strip_suffix(" s/op)")?;
        Some(Self {
            total: parse_grouped(total)? as u64,
            weighted_average_seconds: parse_grouped(weighted)?,
            operations_per_second: parse_grouped(ops)?,
            seconds_per_operation: parse_grouped(spo)?,
        })
    }
}

/// Parses a number with `,` thousands separators, checking the grouping.
pub fn parse_grouped(text: &str) -> Option<f64> {
    let (integer, _) = text.split_once('.').unwrap_or((text, ""));
    let groups: Vec<&str> = integer.split(',').collect();
    let well_grouped = groups.iter().enumerate().all(|(index, group)| {
        !group.is_empty()
            && group.chars().all(|c| c.is_ascii_digit())
            && ((index == 0 && group.len() <= 3) || group.len() == 3)
    });
    if !well_grouped {
        return None;
    }
    text.replace(',', "").parse().ok()
}

/// A status line: current, total, average.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatusLine {
    pub current: u64,
    pub total: u64,
    pub average: f64,
}

/// The status lines of a timed-phase section: every line after the status
/// header that is three numbers.
pub fn status_lines(section: &[&str]) -> Vec<StatusLine> {
    section
        .iter()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [current, total, average] => Some(StatusLine {
                    current: parse_grouped(current)? as u64,
                    total: parse_grouped(total)? as u64,
                    average: average.replace(',', "").parse().ok()?,
                }),
                _ => None,
            }
        })
        .collect()
}

/// One lifecycle line of LogTest: `[  0.123s] pid N parallel index I: <call>`.
#[derive(Clone, Debug, PartialEq)]
pub struct LogCall {
    pub pid: u32,
    pub index: usize,
    pub call: String,
}

impl LogCall {
    /// The call's name without its iteration (`run_async 3` -> `run_async`).
    pub fn name(&self) -> &str {
        self.call.split(' ').next().unwrap_or_default()
    }
}

/// LogTest's lifecycle lines in `stdout`, in order.
pub fn log_calls(stdout: &str) -> Vec<LogCall> {
    stdout
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix('[')?;
            let (seconds, rest) = rest.split_once("s] pid ")?;
            seconds.trim().parse::<f64>().ok()?;
            let (pid, rest) = rest.split_once(" parallel index ")?;
            let (index, call) = rest.split_once(": ")?;
            Some(LogCall {
                pid: pid.parse().ok()?,
                index: index.parse().ok()?,
                call: call.to_owned(),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

/// A unique path in the temporary directory, removed on drop.
pub struct TempPath(PathBuf);

impl TempPath {
    /// A fresh path (no file yet) named after `tag`.
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "systemperf-it-{}-{}-{tag}.json",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    /// A fresh path holding a stale results file, to be removed by the run.
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

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

/// Asserts `actual` is within `tolerance` (relative) of `expected`.
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    let relative = (actual - expected).abs() / expected.abs();
    assert!(
        relative <= tolerance,
        "{what}: {actual} is not within {:.1}% of {expected} (off by {:.2}%)",
        tolerance * 100.0,
        relative * 100.0
    );
}

/// `Err` unless `actual` is within `tolerance` (relative) of `expected`:
/// for figures that depend on the machine's load.
pub fn within(actual: f64, expected: f64, tolerance: f64, what: &str) -> Result<(), String> {
    let relative = (actual - expected).abs() / expected.abs();
    if relative <= tolerance {
        Ok(())
    } else {
        Err(format!(
            "{what}: {actual} is not within {:.1}% of {expected} (off by {:.2}%)",
            tolerance * 100.0,
            relative * 100.0
        ))
    }
}

/// `Err(message)` unless `condition`: a timing-dependent expectation.
pub fn expect(condition: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(message()) }
}

/// Runs a timing-sensitive check; if a timing figure is off (the check
/// returns `Err`; structural failures panic at once), runs it once more, so
/// a moment of load on a busy machine does not fail the suite while a real
/// error (off both times) still does.
#[track_caller]
pub fn retry_timing(mut check: impl FnMut() -> Result<(), String>) {
    let Err(first) = check() else { return };
    eprintln!("timing off on the first attempt, retrying: {first}");
    if let Err(second) = check() {
        panic!("timing off twice:\n1: {first}\n2: {second}");
    }
}
