//! Running a runner binary as a child process and collecting its report.

use std::ffi::OsStr;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::command_line::CommandLine;
use crate::report::{self, ResultsLine, STATUS_HEADER, StatusLine};
use crate::watched::Watched;
use perfstress::Outcome;

/// Longest any child may run before the test kills it and fails: a hang is
/// a bug, and must not hang the suite.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// A run of a runner binary being built: its arguments (see
/// [`CommandLine`]), then one of [`run`](Run::run), [`ok`](Run::ok),
/// [`fails`](Run::fails), [`outcome`](Run::outcome) (run to completion)
/// or [`start`](Run::start) (watch it while it runs).
///
/// The child gets a clean environment: no `PERFSTRESS_*` variables (so no
/// framework option comes from the developer's shell), `RUST_BACKTRACE=0`
/// (no backtraces in the output) and no stdin.
#[derive(Debug)]
pub struct Run {
    command: Command,
    timeout: Duration,
}

impl Run {
    /// A run of `program` with no arguments yet.
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let mut command = Command::new(program);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PERFSTRESS_") {
                command.env_remove(&name);
            }
        }
        command.env("RUST_BACKTRACE", "0");
        command.stdin(Stdio::null());
        Run {
            command,
            timeout: CHILD_TIMEOUT,
        }
    }

    /// Runs the child in `directory` instead of the test's working directory.
    pub fn current_dir(mut self, directory: impl AsRef<std::path::Path>) -> Self {
        self.command.current_dir(directory);
        self
    }

    /// Sets environment variable `name` for the child (also a
    /// `PERFSTRESS_*` one, which the child otherwise never inherits).
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Removes environment variable `name` from the child's environment
    /// (a setting of the developer's shell the test must not see).
    pub fn env_remove(mut self, name: impl AsRef<OsStr>) -> Self {
        self.command.env_remove(name);
        self
    }

    /// The command, to spawn with streams of the test's own choosing.
    pub fn into_command(self) -> Command {
        self.command
    }

    /// Kill the child and fail after `timeout` instead of [`CHILD_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs to completion (or the timeout, which fails the test), whatever
    /// the exit code.
    pub fn run(mut self) -> Output {
        let line = command_line(&self.command);
        let started = Instant::now();
        let mut child = spawn(&mut self.command);
        let pid = child.id();
        let stdout = drain(child.stdout.take().expect("piped stdout"));
        let stderr = drain(child.stderr.take().expect("piped stderr"));
        let status = wait_with_timeout(&mut child, self.timeout);
        let elapsed = started.elapsed();
        finish(line, pid, status, stdout, stderr, elapsed, self.timeout)
    }

    /// Runs to completion and asserts the exit code of `expected`.
    #[track_caller]
    pub fn outcome(self, expected: Outcome) -> Output {
        let output = self.run();
        output.assert_outcome(expected);
        output
    }

    /// Runs to completion and asserts success (exit 0).
    #[track_caller]
    pub fn ok(self) -> Output {
        self.outcome(Outcome::Success)
    }

    /// Runs to completion and asserts the test failed (exit 1).
    #[track_caller]
    pub fn fails(self) -> Output {
        self.outcome(Outcome::Failed)
    }

    /// Starts the child and returns at once; its stdout is read line by
    /// line as it comes, so the test can act at a known point of the run.
    pub fn start(mut self) -> Watched {
        let line = command_line(&self.command);
        Watched::spawn(line, &mut self.command, self.timeout)
    }

    /// [`start`](Run::start)s the child in a process group of its own, as a
    /// shell starts a job (Ctrl-C in a terminal signals that whole group).
    pub fn start_in_own_group(mut self) -> Watched {
        use std::os::unix::process::CommandExt;
        self.command.process_group(0);
        self.start()
    }
}

impl CommandLine for Run {
    fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }
}

/// The finished run of one child process.
#[derive(Debug)]
pub struct Output {
    /// The command line, for assertion messages.
    pub command: String,
    /// The process id of the runner (the parent of any worker processes).
    pub pid: u32,
    /// The exit code; `None` if a signal ended the process.
    pub code: Option<i32>,
    /// The exit status.
    pub status: ExitStatus,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// From the start of the child to its exit.
    pub elapsed: Duration,
}

impl Output {
    /// Asserts the exit code of `expected`, printing the whole run when it
    /// differs.
    #[track_caller]
    pub fn assert_outcome(&self, expected: Outcome) -> &Self {
        assert_eq!(
            self.code,
            Some(expected.code()),
            "unexpected exit status {:?} (expected {expected:?})\n{}",
            self.status,
            self.dump()
        );
        self
    }

    /// Asserts what the report of every failed run shows: the errors on
    /// stderr only (no `error:` on stdout), and the report still through
    /// pre-cleanup, cleanup and its end.
    #[track_caller]
    pub fn assert_failure_reported(&self) -> &Self {
        let dump = self.dump();
        assert!(
            !self.stdout.contains("error:"),
            "errors go to stderr\n{dump}"
        );
        let stages = self.stages();
        for stage in ["=== Pre Cleanup ===", "=== Cleanup ===", "=== Finished ==="] {
            assert!(stages.contains(&stage), "{stage} missing\n{dump}");
        }
        self
    }

    /// The command line and both streams, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "--- {} ---\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- elapsed {:?} ---",
            self.command, self.stdout, self.stderr, self.elapsed
        )
    }

    /// The lines of stdout between the header `=== {stage} ===` and the
    /// next stage header (empty if the stage is absent).
    pub fn section(&self, stage: &str) -> Vec<&str> {
        report::section(&self.stdout, stage)
    }

    /// The results line of `stage` (Warmup or Tests), parsed; panics if
    /// there is none.
    #[track_caller]
    pub fn results(&self, stage: &str) -> ResultsLine {
        let lines = self.section(stage);
        let line = lines
            .iter()
            .find(|line| line.starts_with("Completed "))
            .unwrap_or_else(|| panic!("no results line in {stage}\n{}", self.dump()));
        ResultsLine::parse(line).unwrap_or_else(|| panic!("unparsable results line {line:?}"))
    }

    /// The status lines of the timed phase `stage`, which ran `seconds`
    /// whole seconds. Asserts the shape of its section (exactly the status
    /// header, one status line a second, the results line and a blank
    /// line) and that the columns add up: each total is the previous one
    /// plus the current count, and the results line's total is at least
    /// the last of them.
    #[track_caller]
    pub fn timed_status_lines(&self, stage: &str, seconds: usize) -> Vec<StatusLine> {
        let section = self.section(stage);
        let dump = self.dump();
        assert_eq!(section.len(), seconds + 3, "{stage}: {section:#?}\n{dump}");
        assert_eq!(section[0], STATUS_HEADER, "{stage}\n{dump}");
        assert!(
            section[seconds + 1].starts_with("Completed "),
            "{section:#?}\n{dump}"
        );
        assert_eq!(section[seconds + 2], "", "{dump}");
        let lines = report::status_lines(&section[1..=seconds]);
        assert_eq!(lines.len(), seconds, "{stage}: {section:#?}");
        let mut previous_total = 0;
        for line in &lines {
            assert_eq!(line.total, previous_total + line.current, "{lines:?}");
            previous_total = line.total;
        }
        let results = self.results(stage);
        assert!(results.total >= previous_total, "{results:?} vs {lines:?}");
        lines
    }

    /// The stage headers in the order printed.
    pub fn stages(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|line| report::is_stage_header(line))
            .collect()
    }
}

/// `program arg arg ...`, as the assertion messages show it.
fn command_line(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Spawns `command` with both output streams piped.
pub(crate) fn spawn(command: &mut Command) -> Child {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", command_line(command)))
}

/// Reads `stream` to its end on a thread of its own.
pub(crate) fn drain(mut stream: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child`; kills it and returns `None` after `timeout`.
pub(crate) fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
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

/// Joins the stream readers; panics (with both streams) if the child had
/// to be killed.
pub(crate) fn finish(
    command: String,
    pid: u32,
    status: Option<ExitStatus>,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
    elapsed: Duration,
    timeout: Duration,
) -> Output {
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    let Some(status) = status else {
        panic!(
            "{command} did not finish within {timeout:?} (killed)\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        );
    };
    Output {
        command,
        pid,
        code: status.code(),
        status,
        stdout,
        stderr,
        elapsed,
    }
}
