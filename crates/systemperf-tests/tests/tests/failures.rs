//! Failures of test code: errors and panics in every lifecycle phase. The
//! run must report test, instance, phase and message, still clean up, exit
//! 1, never hang, and never leave a results file.

use std::time::Duration;

use crate::common::*;

/// What a failing LogTest run must show.
struct Expect<'a> {
    /// Extra arguments (the failure to inject, -p ...).
    args: &'a [&'a str],
    /// The failing instance.
    index: usize,
    /// The phase as the runner names it.
    phase: &'a str,
    /// The injected message (the point as LogTest's Debug spells it).
    message: &'a str,
    /// Whether it is a panic (the error then names where it panicked).
    panic: bool,
    /// The calls that must have happened after the failure, as
    /// (parallel index, call name), in this order.
    then: &'a [(usize, &'a str)],
    /// Calls that must have happened after the failure, in any order
    /// (processes clean up concurrently).
    after: &'a [(usize, &'a str)],
    /// Calls that must not have happened at all.
    never: &'a [&'a str],
}

/// Runs LogTest with `expect.args` and a stale results file, and checks
/// the failure report.
fn check_failure(tag: &str, expect: Expect<'_>) -> Output {
    let results = TempPath::stale(tag);
    let mut run = systemperf("LogTest").results(&results).args(expect.args);
    // Short defaults for what the case does not set itself; one process
    // (so that the order of calls is deterministic) unless it says otherwise.
    for (option, default) in [
        ("-w", "0"),
        ("-d", "0.3"),
        ("--delay-ms", "50"),
        ("--processes", "1"),
    ] {
        if !expect.args.contains(&option) {
            run = run.option(option, default);
        }
    }
    let output = run.fails();
    let dump = output.dump();

    // The error: on stderr, once, with test name, index, phase and message.
    let prefix = format!(
        "error: LogTest (parallel index {}) failed in {}: ",
        expect.index, expect.phase
    );
    let errors: Vec<&str> = output
        .stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "exactly one failure is reported\n{dump}");
    let error = errors[0];
    assert!(
        error.starts_with(&prefix),
        "{error:?} should start with {prefix:?}\n{dump}"
    );
    let message = format!("LogTest failure injected in {} (--fail-in)", expect.message);
    assert!(
        error.ends_with(&message),
        "{error:?} should name {message:?}"
    );
    if expect.panic {
        assert!(
            error.contains("panicked at ") && error.contains("log.rs:"),
            "a panic names its location: {error:?}"
        );
        assert!(
            !output.stderr.contains("thread '"),
            "no default panic-hook noise with RUST_BACKTRACE=0\n{dump}"
        );
    }
    // Errors on stderr only, and the report still ends properly.
    output.assert_failure_reported();
    assert!(!output.stdout.contains("Results written"), "{dump}");

    // What ran after the failure, in order.
    let calls = output.log_calls();
    let failed_at = calls
        .iter()
        .position(|call| expect.is_failing_call(call))
        .unwrap_or_else(|| panic!("the failing call is logged\n{dump}"));
    let mut from = failed_at;
    for (index, name) in expect.then {
        let found = calls[from..]
            .iter()
            .position(|call| call.index == *index && call.name() == *name)
            .unwrap_or_else(|| {
                panic!("{name} of instance {index} after the failure\n{calls:#?}\n{dump}")
            });
        from += found;
    }
    for (index, name) in expect.after {
        assert!(
            calls[failed_at..]
                .iter()
                .any(|call| call.index == *index && call.name() == *name),
            "{name} of instance {index} after the failure\n{calls:#?}\n{dump}"
        );
    }
    for name in expect.never {
        assert!(
            calls.iter().all(|call| call.name() != *name),
            "{name} must not run\n{dump}"
        );
    }

    // A failed run never leaves a results file, not even a stale one.
    assert!(
        !results.exists(),
        "the stale results file was removed\n{dump}"
    );
    output
}

impl Expect<'_> {
    /// Whether `call` is the LogTest call that fails in this phase.
    fn is_failing_call(&self, call: &LogCall) -> bool {
        call.index == self.index
            && match self.phase {
                "run" | "warm-up" => call.name() == "run_async" || call.name() == "run_sync",
                phase => call.name() == phase,
            }
    }
}

#[test]
fn error_in_run() {
    let output = check_failure(
        "fail-run",
        Expect {
            args: &["--fail-in", "run"],
            index: 0,
            phase: "run",
            message: "Run",
            panic: false,
            then: &[(0, "cleanup"), (0, "global_cleanup"), (0, "close")],
            after: &[],
            never: &[],
        },
    );
    assert!(
        output
            .section("Tests")
            .contains(&"Completed without generating operation statistics."),
        "{}",
        output.dump()
    );
}

#[test]
fn panic_in_run_during_warmup() {
    let output = check_failure(
        "fail-warmup",
        Expect {
            args: &["--fail-in", "run", "--fail-mode", "panic", "-w", "1"],
            index: 0,
            phase: "warm-up",
            message: "Run",
            panic: true,
            then: &[(0, "cleanup"), (0, "global_cleanup"), (0, "close")],
            after: &[],
            never: &[],
        },
    );
    assert!(
        !output.stages().contains(&"=== Tests ==="),
        "no timed run after a failed warm-up\n{}",
        output.dump()
    );
}

#[test]
fn panic_in_setup() {
    let output = check_failure(
        "fail-setup",
        Expect {
            args: &["--fail-in", "setup", "--fail-mode", "panic"],
            index: 0,
            phase: "setup",
            message: "Setup",
            panic: true,
            then: &[(0, "cleanup"), (0, "global_cleanup"), (0, "close")],
            after: &[],
            never: &["run_async"],
        },
    );
    let stages = output.stages();
    assert!(!stages.contains(&"=== Warmup ===") && !stages.contains(&"=== Tests ==="));
}

#[test]
fn error_in_setup_of_one_instance() {
    check_failure(
        "fail-setup-1",
        Expect {
            args: &["--fail-in", "setup", "--fail-index", "1", "-p", "2"],
            index: 1,
            phase: "setup",
            message: "Setup",
            panic: false,
            then: &[(0, "global_cleanup"), (0, "close")],
            after: &[],
            never: &["run_async"],
        },
    );
}

#[test]
fn error_in_global_setup() {
    check_failure(
        "fail-global-setup",
        Expect {
            args: &["--fail-in", "global-setup", "-p", "2"],
            index: 0,
            phase: "global_setup",
            message: "GlobalSetup",
            panic: false,
            then: &[(0, "global_cleanup"), (0, "close")],
            after: &[],
            never: &["setup", "run_async"],
        },
    );
}

#[test]
fn error_in_new() {
    check_failure(
        "fail-new",
        Expect {
            args: &["--fail-in", "new"],
            index: 0,
            phase: "new",
            message: "New",
            panic: false,
            // The instance was never created: nothing to clean up or close.
            then: &[],
            after: &[],
            never: &["global_setup", "setup", "run_async", "close"],
        },
    );
}

#[test]
fn panic_in_new_of_second_instance() {
    let output = check_failure(
        "fail-new-1",
        Expect {
            args: &[
                "--fail-in",
                "new",
                "--fail-index",
                "1",
                "--fail-mode",
                "panic",
                "-p",
                "2",
            ],
            index: 1,
            phase: "new",
            message: "New",
            panic: true,
            // Instance 0 exists and is closed; global setup never ran, so
            // neither does global cleanup.
            then: &[(0, "close")],
            after: &[],
            never: &["global_setup", "setup", "run_async", "global_cleanup"],
        },
    );
    let calls = output.log_calls();
    assert!(
        calls
            .iter()
            .all(|call| call.index == 0 || call.name() == "new"),
        "instance 1 was never created: {calls:#?}"
    );
}

#[test]
fn error_in_cleanup() {
    let output = check_failure(
        "fail-cleanup",
        Expect {
            args: &["--fail-in", "cleanup", "-p", "2"],
            index: 0,
            phase: "cleanup",
            message: "Cleanup",
            panic: false,
            then: &[(0, "close"), (1, "close")],
            after: &[],
            never: &[],
        },
    );
    // The timed run itself succeeded and was reported.
    assert!(output.results("Tests").total > 0);
    let calls = output.log_calls();
    assert!(
        calls
            .iter()
            .any(|call| call.index == 1 && call.name() == "cleanup")
    );
}

#[test]
fn error_in_global_cleanup() {
    check_failure(
        "fail-global-cleanup",
        Expect {
            args: &["--fail-in", "global-cleanup", "-p", "2"],
            index: 0,
            phase: "global_cleanup",
            message: "GlobalCleanup",
            panic: false,
            then: &[(0, "close"), (1, "close")],
            after: &[],
            never: &[],
        },
    );
}

#[test]
fn panic_in_close() {
    let output = check_failure(
        "fail-close",
        Expect {
            args: &[
                "--fail-in",
                "close",
                "--fail-mode",
                "panic",
                "--fail-index",
                "1",
                "-p",
                "2",
            ],
            index: 1,
            phase: "close",
            message: "Close",
            panic: true,
            then: &[],
            after: &[],
            never: &[],
        },
    );
    let calls = output.log_calls();
    assert!(
        calls
            .iter()
            .any(|call| call.index == 0 && call.name() == "close")
    );
}

/// Instance 1 fails at once in a 30 s run: instance 0 is stopped promptly
/// (not at the end of the duration), and both are cleaned up and closed.
fn check_prompt_stop(tag: &str, extra: &[&str], panic: bool) {
    let mut args = vec![
        "--fail-in",
        "run",
        "--fail-index",
        "1",
        "-p",
        "2",
        "-d",
        "30",
    ];
    args.extend_from_slice(extra);
    let output = check_failure(
        tag,
        Expect {
            args: &args,
            index: 1,
            phase: "run",
            message: "Run",
            panic,
            then: &[(0, "global_cleanup"), (0, "close"), (1, "close")],
            after: &[],
            never: &[],
        },
    );
    assert!(
        output.elapsed < Duration::from_secs(5),
        "the run ended after {:?}, not promptly",
        output.elapsed
    );
    let calls = output.log_calls();
    for index in 0..2 {
        assert_eq!(
            calls
                .iter()
                .filter(|call| call.index == index && call.name() == "cleanup")
                .count(),
            1,
            "instance {index} is cleaned up\n{}",
            output.dump()
        );
    }
}

#[test]
fn failing_instance_stops_the_others_promptly_async() {
    // Instance 0's operations take 10 s: it must be cancelled, not awaited.
    check_prompt_stop("prompt-async", &["--delay-ms", "10000"], false);
}

#[test]
fn failing_instance_stops_the_others_promptly_sync() {
    check_prompt_stop(
        "prompt-sync",
        &["--sync", "--delay-ms", "200", "--fail-mode", "panic"],
        true,
    );
}

/// The same with each instance in a worker process of its own: the failure
/// crosses from worker 1 to the parent, which stops worker 0 (its 10 s
/// operation is cancelled) and both clean up.
#[test]
fn failing_instance_stops_the_others_promptly_two_processes() {
    let output = check_failure(
        "prompt-processes",
        Expect {
            args: &[
                "--fail-in",
                "run",
                "--fail-index",
                "1",
                "-p",
                "2",
                "--processes",
                "2",
                "-d",
                "30",
                "--delay-ms",
                "10000",
            ],
            index: 1,
            phase: "run",
            message: "Run",
            panic: false,
            then: &[],
            after: &[
                (0, "cleanup"),
                (0, "global_cleanup"),
                (0, "close"),
                (1, "cleanup"),
                (1, "global_cleanup"),
                (1, "close"),
            ],
            never: &[],
        },
    );
    assert!(
        output.elapsed < Duration::from_secs(5),
        "the run ended after {:?}, not promptly",
        output.elapsed
    );
    let calls = output.log_calls();
    assert_ne!(calls[0].pid, output.pid);
}

/// A panic in `new` in worker process 1: nothing runs, and the other
/// process closes its instance if it created one (it may be cancelled
/// before it gets that far: the workers start at the same time).
#[test]
fn panic_in_new_in_a_worker_process() {
    let output = check_failure(
        "fail-new-worker",
        Expect {
            args: &[
                "--fail-in",
                "new",
                "--fail-index",
                "1",
                "--fail-mode",
                "panic",
                "-p",
                "2",
                "--processes",
                "2",
            ],
            index: 1,
            phase: "new",
            message: "New",
            panic: true,
            then: &[],
            after: &[],
            never: &["run_async"],
        },
    );
    let calls = output.log_calls();
    assert!(
        calls
            .iter()
            .all(|call| call.index == 0 || call.name() == "new"),
        "instance 1 was never created: {calls:#?}"
    );
    let created = calls
        .iter()
        .any(|call| call.index == 0 && call.name() == "new");
    let closed = calls
        .iter()
        .any(|call| call.index == 0 && call.name() == "close");
    assert_eq!(
        created, closed,
        "instance 0 is closed if and only if it was created: {calls:#?}"
    );
}

/// An error in cleanup in worker process 0 while worker process 1 cleans
/// up at the same time (so its calls may come before or after the failure).
#[test]
fn error_in_cleanup_in_a_worker_process() {
    let output = check_failure(
        "fail-cleanup-worker",
        Expect {
            args: &["--fail-in", "cleanup", "-p", "2", "--processes", "2"],
            index: 0,
            phase: "cleanup",
            message: "Cleanup",
            panic: false,
            then: &[(0, "global_cleanup"), (0, "close")],
            after: &[],
            never: &[],
        },
    );
    let calls = output.log_calls();
    for name in ["cleanup", "global_cleanup", "close"] {
        assert!(
            calls
                .iter()
                .any(|call| call.index == 1 && call.name() == name),
            "{name} of instance 1\n{}",
            output.dump()
        );
    }
}
