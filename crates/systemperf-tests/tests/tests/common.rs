//! What the end-to-end tests share beyond the kit (`perfstress-testkit`,
//! re-exported here): the `systemperf` runner they start, and the lifecycle
//! lines of its LogTest.

use std::time::Duration;

pub use perfstress_testkit::*;

/// A run of `systemperf TEST`, to be given its options.
pub fn systemperf(test: &str) -> Run {
    runner().arg(test)
}

/// A run of `systemperf` with no arguments yet: for a command line that
/// does not start with the test name (or has none).
pub fn runner() -> Run {
    Run::new(env!("CARGO_BIN_EXE_systemperf"))
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

/// LogTest's lifecycle lines in a run's output.
pub trait LogCalls {
    /// LogTest's lifecycle lines, in order.
    fn log_calls(&self) -> Vec<LogCall>;
}

impl LogCalls for Output {
    fn log_calls(&self) -> Vec<LogCall> {
        log_calls(&self.stdout)
    }
}

/// Waits for LogTest's `new` of `count` instances, each in a worker process
/// of its own, and returns the workers' process ids.
#[track_caller]
pub fn wait_for_workers(child: &mut Watched, count: usize) -> Vec<u32> {
    (0..count)
        .map(|_| {
            let line = child.wait_for(Duration::from_secs(10), |line| line.ends_with(": new"));
            log_calls(&line)[0].pid
        })
        .collect()
}
