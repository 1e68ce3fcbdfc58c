//! Every run ends: an operation that never completes, a thread the OS
//! refuses, a stopped worker, a killed runner, silent connections to the
//! worker listener. Each run here would hang (or, for the stopped worker,
//! pass with skewed figures) without the framework's bounds; each is
//! checked against its bound with the kit's timeout far above it.

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;

/// The `error:` lines of stderr.
fn error_lines(output: &Output) -> Vec<&str> {
    output
        .stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect()
}

/// Whether LogTest logged `name` for instance `index`.
fn called(calls: &[LogCall], index: usize, name: &str) -> bool {
    calls
        .iter()
        .any(|call| call.index == index && call.name() == name)
}

/// An async operation that never completes (its server never answers):
/// at the deadline it gets the grace period (5 s by default), then it is
/// aborted and reported; the instance is back, so it is cleaned up too.
#[test]
fn a_hanging_async_operation_is_aborted_after_the_default_grace_period() {
    let output = systemperf("LogTest")
        .option("--delay-ms", 100)
        .args(["--hang-in", "run", "--hang-after", "2"])
        .parallel(2)
        .processes(1)
        .duration(1)
        .warmup(0)
        .fails();
    output.assert_failure_reported();
    let dump = output.dump();
    assert!(
        output.elapsed >= Duration::from_secs(5) && output.elapsed < Duration::from_secs(15),
        "1 s, then the 5 s grace period\n{dump}"
    );
    let errors = error_lines(&output);
    assert_eq!(errors.len(), 1, "{dump}");
    for needle in [
        "(parallel index 0)",
        "still running 5 s",
        "aborted",
        "--grace",
    ] {
        assert!(errors[0].contains(needle), "{needle:?} in {:?}", errors[0]);
    }
    let calls = output.log_calls();
    for index in 0..2 {
        for name in ["cleanup", "close"] {
            assert!(called(&calls, index, name), "{name} of {index}\n{dump}");
        }
    }
    // Its two operations count; the one that hung does not.
    let lines = output.section("Tests");
    assert!(
        lines.iter().any(
            |line| line.starts_with("Warning: 1 instance completed fewer than half")
                && line.contains("parallel index 0 (2)")
        ),
        "the hung instance is flagged after the results\n{dump}"
    );
}

/// The same with `--sync` and `--grace 1`: a thread cannot be stopped, so
/// after the grace period it is abandoned and reported; the other instance
/// is cleaned up (global cleanup on it, the first one left), the stuck one
/// is skipped, and the process exits.
#[test]
fn a_hanging_sync_operation_is_abandoned_and_the_process_still_exits() {
    let output = systemperf("LogTest")
        .option("--delay-ms", 100)
        .args(["--hang-in", "run", "--hang-after", "2", "--grace", "1"])
        .parallel(2)
        .processes(1)
        .duration(1)
        .warmup(0)
        .sync(true)
        .fails();
    output.assert_failure_reported();
    let dump = output.dump();
    assert!(output.elapsed < Duration::from_secs(8), "1 s + 1 s\n{dump}");
    let errors = error_lines(&output);
    assert_eq!(errors.len(), 1, "{dump}");
    for needle in [
        "(parallel index 0)",
        "still running 1 s",
        "abandoned",
        "not cleaned up",
    ] {
        assert!(errors[0].contains(needle), "{needle:?} in {:?}", errors[0]);
    }
    let calls = output.log_calls();
    for name in ["cleanup", "global_cleanup", "close"] {
        assert!(called(&calls, 1, name), "{name} of 1\n{dump}");
        assert!(!called(&calls, 0, name), "no {name} of the stuck 0\n{dump}");
    }
}

/// An async operation that blocks its runtime thread cannot be aborted
/// either: it is abandoned, and the runtime is not waited for at exit.
#[test]
fn an_async_operation_blocking_its_thread_is_abandoned() {
    let output = systemperf("LogTest")
        .option("--delay-ms", 100)
        .args(["--hang-in", "run", "--hang-after", "1", "--hang-blocking"])
        .args(["--grace", "0.5"])
        .parallel(2)
        .processes(1)
        .duration(1)
        .warmup(0)
        .fails();
    output.assert_failure_reported();
    let dump = output.dump();
    assert!(output.elapsed < Duration::from_secs(8), "{dump}");
    let errors = error_lines(&output);
    assert_eq!(errors.len(), 1, "{dump}");
    assert!(
        errors[0].contains("(parallel index 0)") && errors[0].contains("blocks its runtime thread"),
        "{dump}"
    );
    let calls = output.log_calls();
    assert!(called(&calls, 1, "close"), "{dump}");
    assert!(!called(&calls, 0, "close"), "{dump}");
}

/// Ctrl-C after the deadline, while a hanging operation has a long grace
/// period, stops the run at once, async and sync (the abort handles are
/// kept until the tasks are collected).
#[test]
fn ctrl_c_during_the_grace_period_stops_the_run() {
    for sync in [false, true] {
        let mut child = systemperf("LogTest")
            .option("--delay-ms", 100)
            .args(["--hang-in", "run", "--hang-after", "2", "--grace", "60"])
            .parallel(2)
            .processes(1)
            .duration(1)
            .warmup(0)
            .sync(sync)
            .start();
        // The only status line comes at the deadline.
        child.wait_for_status_line(Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(300));
        let signalled = Instant::now();
        child.signal(libc::SIGINT);
        let output = child.finish();
        output.assert_outcome(Outcome::Interrupted);
        let dump = output.dump();
        assert!(
            signalled.elapsed() < Duration::from_secs(5),
            "sync {sync}: Ctrl-C ends the grace period\n{dump}"
        );
        let calls = output.log_calls();
        assert!(called(&calls, 1, "close"), "{dump}");
        if sync {
            assert!(
                output.stderr.contains("cut the grace period short"),
                "{dump}"
            );
        }
    }
}

/// A hanging `--sync` operation in a worker process: the worker reports
/// it, cleans up the rest and exits; so does the run.
#[test]
fn a_hanging_operation_in_a_worker_process_ends_the_run() {
    let output = systemperf("LogTest")
        .option("--delay-ms", 100)
        .args(["--hang-in", "run", "--hang-after", "2", "--grace", "1"])
        .parallel(2)
        .processes(2)
        .duration(1)
        .warmup(0)
        .sync(true)
        .fails();
    output.assert_failure_reported();
    let dump = output.dump();
    assert!(output.elapsed < Duration::from_secs(10), "{dump}");
    let errors = error_lines(&output);
    assert_eq!(errors.len(), 1, "no worker is reported dead\n{dump}");
    assert!(
        errors[0].contains("(parallel index 0)") && errors[0].contains("abandoned"),
        "{dump}"
    );
    assert!(called(&output.log_calls(), 1, "close"), "{dump}");
}

/// `--sync` with more threads than the OS gives: the thread that cannot be
/// started fails the run, naming its instance and the OS error; the
/// threads already started are released (no operation runs), and every
/// instance is cleaned up. The OS's refusal is injected (the framework's
/// test hook `PERFSTRESS_TEST_THREAD_LIMIT`): RLIMIT_NPROC does not bind
/// root, and an address-space limit fails allocations other than the
/// thread stacks, machine by machine.
#[test]
fn a_thread_the_os_refuses_fails_the_run_cleanly() {
    let output = systemperf("LogTest")
        .env("PERFSTRESS_TEST_THREAD_LIMIT", "3")
        .option("--delay-ms", 100)
        .parallel(6)
        .processes(1)
        .duration(5)
        .warmup(0)
        .sync(true)
        .fails();
    output.assert_failure_reported();
    let dump = output.dump();
    assert!(output.elapsed < Duration::from_secs(3), "at once\n{dump}");
    let errors = error_lines(&output);
    assert_eq!(errors.len(), 1, "{dump}");
    for needle in [
        "(parallel index 3)",
        "cannot start a thread",
        "3 of 6 started",
    ] {
        assert!(errors[0].contains(needle), "{needle:?}\n{dump}");
    }
    assert!(
        output
            .stderr
            .contains("caused by: Resource temporarily unavailable (os error 11)"),
        "{dump}"
    );
    let calls = output.log_calls();
    assert!(
        !calls.iter().any(|call| call.name() == "run_sync"),
        "released before any operation\n{dump}"
    );
    for index in 0..6 {
        for name in ["cleanup", "close"] {
            assert!(called(&calls, index, name), "{name} of {index}\n{dump}");
        }
    }

    // In worker processes (the limit is per process): both fail alike,
    // nothing waits for a start that cannot come.
    let output = systemperf("LogTest")
        .env("PERFSTRESS_TEST_THREAD_LIMIT", "1")
        .option("--delay-ms", 100)
        .parallel(4)
        .processes(2)
        .duration(5)
        .warmup(1)
        .sync(true)
        .fails();
    output.assert_failure_reported();
    let dump = output.dump();
    assert!(output.elapsed < Duration::from_secs(4), "{dump}");
    let errors = error_lines(&output);
    assert_eq!(errors.len(), 2, "{dump}");
    assert!(
        errors[0].contains("(parallel index 1) failed in warm-up"),
        "{dump}"
    );
    assert!(
        errors[1].contains("(parallel index 3) failed in warm-up"),
        "{dump}"
    );
    let calls = output.log_calls();
    for index in 0..4 {
        assert!(called(&calls, index, "close"), "close of {index}\n{dump}");
    }
}

/// A worker stopped with SIGSTOP sends nothing, not even its heartbeat:
/// after `--liveness-timeout` it is reported and killed, the other worker
/// cleans up, the run fails.
#[test]
fn a_stopped_worker_fails_the_run_after_the_liveness_timeout() {
    let results = TempPath::stale("stopped-worker");
    let mut child = systemperf("LogTest")
        .option("--delay-ms", 100)
        .args(["--liveness-timeout", "2"])
        .parallel(2)
        .processes(2)
        .duration(30)
        .warmup(0)
        .results(&results)
        .start();
    let workers = wait_for_workers(&mut child, 2);
    child.wait_for_status_line(Duration::from_secs(10));
    let victim = child.wait_for(Duration::from_secs(5), |line| {
        line.contains("parallel index 1: run_async")
    });
    let victim = log_calls(&victim)[0].pid;
    let stopped = Instant::now();
    send_signal(victim, libc::SIGSTOP);
    let output = child.finish();
    output.assert_outcome(Outcome::Failed);
    output.assert_failure_reported();
    let dump = output.dump();
    let waited = stopped.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(8),
        "the 2 s timeout, then cleanup: {waited:?}\n{dump}"
    );
    let errors = error_lines(&output);
    assert_eq!(errors.len(), 1, "{dump}");
    for needle in [
        "worker process 1",
        &format!("pid {victim}"),
        "parallel indexes 1..=1",
        "sent nothing",
        "--liveness-timeout 2 s",
    ] {
        assert!(errors[0].contains(needle), "{needle:?}\n{dump}");
    }
    assert!(!process_is_running(victim), "the stopped worker was killed");
    assert!(
        workers.iter().all(|pid| !process_is_running(*pid)),
        "{dump}"
    );
    let calls = output.log_calls();
    for name in ["cleanup", "global_cleanup", "close"] {
        assert!(called(&calls, 0, name), "{name} of 0\n{dump}");
    }
    assert!(!results.exists(), "no results file\n{dump}");
}

/// A worker stopped for less than the liveness timeout: the status lines
/// go on while it is silent (showing its standstill) and say so on stderr;
/// when it is back, its figures are said to be skewed, and its instance,
/// far behind the other, is flagged after the results line (whose format
/// does not change).
#[test]
fn a_worker_stopped_for_a_while_is_visible_and_flagged() {
    let _timing = timing_sensitive();
    let mut child = systemperf("LogTest")
        .option("--delay-ms", 100)
        .args(["--liveness-timeout", "30"])
        .parallel(2)
        .processes(2)
        .duration(6)
        .warmup(0)
        .start();
    wait_for_workers(&mut child, 2);
    child.wait_for_status_line(Duration::from_secs(10));
    let victim = child.wait_for(Duration::from_secs(5), |line| {
        line.contains("parallel index 1: run_async")
    });
    let victim = log_calls(&victim)[0].pid;
    send_signal(victim, libc::SIGSTOP);
    let stopped = Instant::now();
    // Without the other worker's progress, there would be none until it is back.
    let line = child.wait_for_status_line(Duration::from_millis(3500));
    assert!(StatusLine::parse(&line).is_some());
    std::thread::sleep(Duration::from_secs(4).saturating_sub(stopped.elapsed()));
    send_signal(victim, libc::SIGCONT);
    let output = child.finish();
    output.assert_outcome(Outcome::Success);
    let dump = output.dump();
    for needle in [
        &format!(
            "warning: worker process 1 (pid {victim}, parallel indexes 1..=1) has sent nothing for"
        ),
        "the status lines go on without its progress",
        "responded again after",
        "figures for the Tests stage are skewed",
    ] {
        assert!(output.stderr.contains(needle), "{needle:?}\n{dump}");
    }
    let section = output.section("Tests");
    let results = section
        .iter()
        .position(|line| line.starts_with("Completed "))
        .unwrap_or_else(|| panic!("{dump}"));
    assert!(
        output.results("Tests").total > 0,
        "the results line parses as ever\n{dump}"
    );
    let warning = section[results + 1];
    assert!(
        warning.starts_with("Warning: 1 instance completed fewer than half")
            && warning.contains("parallel index 1 ("),
        "{warning:?}\n{dump}"
    );
}

/// The runner killed with SIGKILL while a `--sync` operation hangs in a
/// worker: the worker's parent link closes (and on Linux the parent's death
/// signal comes), it stops waiting, cleans up what it can and exits.
#[test]
fn sync_workers_exit_when_the_runner_is_killed_during_a_hanging_operation() {
    let mut child = systemperf("LogTest")
        .option("--delay-ms", 100)
        .args(["--hang-in", "run", "--hang-after", "2", "--grace", "60"])
        .parallel(2)
        .processes(2)
        .duration(30)
        .warmup(0)
        .sync(true)
        .start();
    let workers = wait_for_workers(&mut child, 2);
    child.wait_for(Duration::from_secs(10), |line| line.ends_with(": hang"));
    child.signal(libc::SIGKILL);
    assert!(
        child.wait_for_eof(Duration::from_secs(20)),
        "worker processes still hold stdout 20 s after the runner died"
    );
    let output = child.finish();
    assert_eq!(output.code, None, "{:?}", output.status);
    for worker in &workers {
        assert!(
            !process_is_running(*worker),
            "worker {worker} outlived the runner"
        );
    }
    let dump = output.dump();
    let calls = output.log_calls();
    for name in ["cleanup", "global_cleanup", "close"] {
        assert!(called(&calls, 1, name), "{name} of 1\n{dump}");
    }
}

/// An orphaned worker whose cleanup never ends exits anyway, after the
/// grace period plus 10 s, and says why.
#[test]
fn an_orphaned_worker_whose_cleanup_hangs_exits_after_a_bounded_time() {
    let mut child = systemperf("LogTest")
        .option("--delay-ms", 100)
        .args(["--hang-in", "cleanup", "--grace", "0"])
        .parallel(2)
        .processes(2)
        .duration(30)
        .warmup(0)
        .start();
    let workers = wait_for_workers(&mut child, 2);
    child.wait_for_status_line(Duration::from_secs(10));
    let killed = Instant::now();
    child.signal(libc::SIGKILL);
    assert!(
        child.wait_for_eof(Duration::from_secs(30)),
        "a worker still holds stdout 30 s after the runner died"
    );
    let waited = killed.elapsed();
    let output = child.finish();
    let dump = output.dump();
    assert!(waited >= Duration::from_secs(9), "{waited:?}\n{dump}");
    for worker in &workers {
        assert!(
            !process_is_running(*worker),
            "worker {worker} outlived the runner"
        );
    }
    assert!(
        output
            .stderr
            .contains("lost its parent and did not finish cleaning up within 10 s: exiting"),
        "{dump}"
    );
    let calls = output.log_calls();
    assert!(called(&calls, 0, "hang"), "{dump}");
    assert!(called(&calls, 1, "close"), "{dump}");
}

/// The port the runner `pid` listens on for its workers (loopback).
fn listening_port(pid: u32) -> Option<u16> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).ok()?;
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
        let (address, port) = local.split_once(':')?;
        (*state == "0A" && address == "0100007F" && inodes.iter().any(|i| i == inode))
            .then(|| u16::from_str_radix(port, 16).ok())
            .flatten()
    })
}

/// Silent connections to the worker listener (7 at once, then a steady
/// trickle) before the workers connect: each has its own handshake
/// timeout, read side by side, so the workers are taken as they come. The
/// workers are held back by the framework's test hook
/// `PERFSTRESS_TEST_CONNECT_DELAY_MS` so the silent ones come first.
#[test]
fn silent_connections_do_not_stall_worker_start_up() {
    let mut child = systemperf("LogTest")
        .env("PERFSTRESS_TEST_CONNECT_DELAY_MS", "1500")
        .option("--delay-ms", 100)
        .parallel(2)
        .processes(2)
        .duration(1)
        .warmup(0)
        .start();
    let started = Instant::now();
    let port = loop {
        if let Some(port) = listening_port(child.pid()) {
            break port;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the runner listens for its workers at once"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let silent: Vec<TcpStream> = (0..7)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let trickle = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stop.load(Ordering::Relaxed) && held.len() < 100 {
                if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
                    held.push(stream);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    child.wait_for(Duration::from_secs(10), |line| line == "=== Tests ===");
    let connected = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    trickle.join().unwrap();
    drop(silent);
    let output = child.finish();
    output.assert_outcome(Outcome::Success);
    assert!(
        connected < Duration::from_secs(5),
        "the workers connected 1.5 s in, whatever the silent connections: {connected:?}\n{}",
        output.dump()
    );
}

/// Issue 12, item 12: a panic of the framework itself (injected at the
/// start of a stage, as a bug of the runner would) is a reported failure,
/// not a crash: exit 1, the runner named with the panic's message, and the
/// stages after it still run, cleanup and close of every instance
/// included, in one process and across worker processes.
#[test]
fn a_framework_panic_is_reported_and_cleanup_still_runs() {
    for processes in [1, 2] {
        let output = systemperf("LogTest")
            .env("PERFSTRESS_TEST_FRAMEWORK_PANIC", "warmup")
            .option("--delay-ms", 50)
            .parallel(2)
            .processes(processes)
            .warmup(1)
            .duration(1)
            .fails();
        output.assert_failure_reported();
        let dump = output.dump();
        let errors = error_lines(&output);
        assert!(
            errors.iter().any(|line| line.contains("the runner")
                && line.contains("injected framework panic in Warmup")),
            "--processes {processes}\n{dump}"
        );
        // The panic is reported once, not as the default hook's noise.
        assert!(!output.stderr.contains("thread '"), "{dump}");
        // The timed run is skipped; cleanup and close still run.
        assert!(!output.stdout.contains("=== Tests ==="), "{dump}");
        let calls = output.log_calls();
        for index in 0..2 {
            for name in ["cleanup", "global_cleanup", "close"] {
                if name == "global_cleanup" && index == 1 {
                    continue;
                }
                assert!(
                    called(&calls, index, name),
                    "--processes {processes}: {name} of {index}\n{dump}"
                );
            }
        }
    }
}
