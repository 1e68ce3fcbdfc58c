//! A child whose stdout is watched line by line while it runs, and the
//! signals a test sends it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::report::StatusLine;
use crate::run::{self, Output};

/// A started child (see [`Run::start`](crate::Run::start)) whose stdout is
/// read line by line as it comes, so a test can act (send a signal) at a
/// known point of the run, then [`finish`](Watched::finish) it.
#[derive(Debug)]
pub struct Watched {
    command: String,
    child: Child,
    started: Instant,
    timeout: Duration,
    lines: mpsc::Receiver<String>,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

impl Watched {
    pub(crate) fn spawn(line: String, command: &mut Command, timeout: Duration) -> Self {
        let started = Instant::now();
        let mut child = run::spawn(command);
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
        let stderr = run::drain(child.stderr.take().expect("piped stderr"));
        Self {
            command: line,
            child,
            started,
            timeout,
            lines,
            stdout,
            stderr,
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the child.
    pub fn signal(&self, signal: libc::c_int) {
        send_signal(self.pid(), signal);
    }

    /// Waits until a stdout line satisfies `predicate` and returns it;
    /// panics after `timeout` (killing the child). Lines before it are
    /// passed over (they stay in the [`Output`]).
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

    /// Waits for the next status line (see [`wait_for`](Watched::wait_for)).
    #[track_caller]
    pub fn wait_for_status_line(&mut self, timeout: Duration) -> String {
        self.wait_for(timeout, |line| StatusLine::parse(line).is_some())
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

    /// Waits for the child to exit (or the run's timeout, which fails the
    /// test) and returns its output; `elapsed` is measured from the start.
    pub fn finish(mut self) -> Output {
        let pid = self.child.id();
        let status = run::wait_with_timeout(&mut self.child, self.timeout);
        let elapsed = self.started.elapsed();
        run::finish(
            self.command,
            pid,
            status,
            self.stdout,
            self.stderr,
            elapsed,
            self.timeout,
        )
    }
}

/// `kill(pid, signal)`, asserting it worked.
pub fn send_signal(pid: u32, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
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
