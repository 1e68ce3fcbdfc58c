//! Hostile input and faults (issue 12, files, security, bad input, exit
//! codes): each test reproduces what used to go wrong.

use std::process::Stdio;
use std::time::Duration;

use crate::common::*;

/// A quick successful run: NoOpTest for a fifth of a second.
fn quick(test: &str) -> Run {
    systemperf(test).duration(0.2).warmup(0).processes(1)
}

#[test]
fn help_and_usage_errors_touch_no_results_file() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    for args in [
        &["NoOpTest", "--help"][..],
        &["NoOpTest", "--bogus"],
        &["--help"],
    ] {
        let results = TempPath::stale("untouched");
        runner().args(args).results(&results).run();
        assert!(results.exists(), "{args:?} removed the results file");
    }
}

#[test]
fn a_results_option_that_took_a_test_name_is_a_usage_error() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    let output = runner()
        .args(["--test-results", "NoOpTest", "-d", "1"])
        .outcome(Outcome::Usage);
    assert!(
        output
            .stderr
            .contains("--test-results took the test name 'NoOpTest' as its path"),
        "{}",
        output.dump()
    );
    // Framework options without a test are a usage error, not the list.
    let output = runner().args(["-d", "1"]).outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("no test to run"),
        "{}",
        output.dump()
    );
}

#[test]
fn what_is_not_a_regular_file_is_never_replaced() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    let directory = TempDir::new("not-regular");
    let target = directory.path().join("target.json");
    std::fs::write(&target, "keep me").unwrap();
    let link = directory.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let fifo = directory.path().join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    for (path, why) in [
        (&link, "a symbolic link"),
        (&directory.path().to_path_buf(), "a directory"),
    ] {
        let output = quick("NoOpTest")
            .option("--test-results", path.to_str().unwrap())
            .outcome(Outcome::Usage);
        assert!(output.stderr.contains(why), "{why}\n{}", output.dump());
        assert!(
            !output.stdout.contains("=== Setup ==="),
            "{}",
            output.dump()
        );
    }
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");

    // A pipe with a reader is written through, and stays a pipe.
    let reader = std::process::Command::new("cat")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    quick("NoOpTest")
        .option("--test-results", fifo.to_str().unwrap())
        .ok();
    let read = reader.wait_with_output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(json["test_name"], "NoOpTest");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn devices_are_written_through() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    let before = std::fs::symlink_metadata("/dev/null").unwrap();
    quick("NoOpTest").option("--test-results", "/dev/null").ok();
    quick("NoOpTest")
        .latency()
        .option("--results-file", "/dev/null")
        .ok();
    let after = std::fs::symlink_metadata("/dev/null").unwrap();
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    assert!(
        after.file_type().is_char_device(),
        "/dev/null is still a device"
    );
    assert_eq!(before.rdev(), after.rdev());
    // The standard output, piped: the JSON comes out there.
    let output = quick("NoOpTest")
        .option("--test-results", "/dev/stdout")
        .ok();
    assert!(
        output.stdout.contains("\"test_name\": \"NoOpTest\""),
        "{}",
        output.dump()
    );
}

#[test]
fn unwritable_paths_are_found_before_setup() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    let directory = TempDir::new("unwritable");
    let missing = directory.path().join("no-such-dir").join("r.json");
    let output = quick("NoOpTest")
        .option("--test-results", missing.to_str().unwrap())
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("cannot be written"),
        "{}",
        output.dump()
    );
    assert!(
        !output.stdout.contains("=== Setup ==="),
        "{}",
        output.dump()
    );
    let output = quick("NoOpTest")
        .arg("--profile")
        .option("--profile-path", "/proc/no-such-dir")
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("--profile-path"),
        "{}",
        output.dump()
    );
    assert!(
        !output.stdout.contains("=== Setup ==="),
        "{}",
        output.dump()
    );
}

#[test]
fn sigterm_and_sighup_have_their_own_exit_codes() {
    for (signal, outcome, name) in [
        (libc::SIGTERM, Outcome::Terminated, "Terminated"),
        (libc::SIGHUP, Outcome::HungUp, "Hung up"),
    ] {
        let results = TempPath::stale("signal");
        let mut child = systemperf("SleepTest")
            .option("--initial-delay-ms", 50)
            .duration(30)
            .warmup(0)
            .processes(1)
            .results(&results)
            .start();
        child.wait_for(Duration::from_secs(10), |line| line == "=== Tests ===");
        child.wait_for_status_line(Duration::from_secs(5));
        child.signal(signal);
        let output = child.finish();
        output.assert_outcome(outcome);
        assert!(output.stderr.contains(name), "{}", output.dump());
        assert!(
            output.stdout.contains("=== Cleanup ==="),
            "cleanup ran\n{}",
            output.dump()
        );
        assert!(!results.exists(), "no results file\n{}", output.dump());
    }
}

#[test]
fn a_closed_stdout_keeps_the_measurement() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    let tests: &[&str] = if cfg!(feature = "http") {
        &["HttpGetTest", "LogTest"]
    } else {
        &["LogTest"]
    };
    for &test in tests {
        let results = TempPath::new("closed-stdout");
        let child = quick(test)
            .results(&results)
            .into_command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end at once, as `| head -1` does after a line.
        let mut child = child;
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{test}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            results.json()["total_operations"].as_u64().unwrap() > 0,
            "{test}"
        );
    }
}

#[cfg(feature = "http")]
#[test]
fn secrets_in_bad_input_are_masked() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    let output = runner()
        .args([
            "HttpGetTest",
            "-d",
            "1",
            "--url",
            "https://user:hunter2secret@127.0.0.1/x?sig=SIGSECRET",
        ])
        .outcome(Outcome::Usage);
    for secret in ["hunter2secret", "SIGSECRET"] {
        assert!(!output.stderr.contains(secret), "{}", output.dump());
        assert!(!output.stdout.contains(secret), "{}", output.dump());
    }
    assert!(output.stderr.contains("--url"), "{}", output.dump());
}

#[test]
fn the_worker_token_is_not_on_the_command_line() {
    let mut child = systemperf("SleepTest")
        .option("--initial-delay-ms", 50)
        .parallel(2)
        .processes(2)
        .duration(3)
        .warmup(0)
        .start();
    child.wait_for(Duration::from_secs(10), |line| line == "=== Tests ===");
    let workers = children_of(child.pid());
    assert_eq!(workers.len(), 2, "{workers:?}");
    for worker in workers {
        let command_line = std::fs::read(format!("/proc/{worker}/cmdline")).unwrap();
        let arguments: Vec<String> = command_line
            .split(|byte| *byte == 0)
            .map(|argument| String::from_utf8_lossy(argument).into_owned())
            .collect();
        let spec = arguments
            .iter()
            .skip_while(|argument| *argument != "--perfstress-worker")
            .nth(1)
            .expect("a worker's spec");
        assert_eq!(spec.split(',').count(), 2, "address and index only: {spec}");
    }
    child.signal(libc::SIGINT);
    child.finish().assert_outcome(Outcome::Interrupted);
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|candidate| {
            std::fs::read_to_string(format!("/proc/{candidate}/stat"))
                .ok()
                .and_then(|stat| {
                    // `pid (name) state ppid ...`: the name may hold spaces.
                    let after = &stat[stat.rfind(')')? + 2..];
                    after.split(' ').nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

#[test]
fn bad_numbers_are_usage_errors() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    for (args, needle) in [
        (&["NoOpTest", "--rate", "1e-30"][..], "--rate"),
        (&["NoOpTest", "--rate", "1e-12"], "--rate"),
        (&["NoOpTest", "-d", "1e-10"], "--duration"),
        (
            &["SleepTest", "--initial-delay-ms", "-5"],
            "invalid value '-5'",
        ),
    ] {
        let output = runner().args(args).outcome(Outcome::Usage);
        assert!(
            output.stderr.contains(needle),
            "{args:?}\n{}",
            output.dump()
        );
    }
    let output = runner()
        .args(["LogTest", "--fail-in", "global-setup", "--fail-index", "1"])
        .args(["-p", "2", "--processes", "1", "-d", "1", "-w", "0"])
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("does not run the global hooks"),
        "{}",
        output.dump()
    );
}

#[test]
fn a_rate_never_starts_an_operation_at_the_deadline() {
    let _timing = timing_sensitive();
    let results = TempPath::new("rate-exact");
    quick("NoOpTest")
        .rate(500)
        .duration(2)
        .results(&results)
        .ok();
    // 1000 due in 2 s, none at the deadline itself (it used to be 1001); a
    // loaded machine may start the last one or two after the deadline was
    // seen, and then they are not started at all.
    let total = results.json()["total_operations"].as_u64().unwrap();
    assert!((950..=1000).contains(&total), "{total} operations");
}

#[test]
fn flags_from_the_environment_take_the_usual_spellings() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    for (value, sync) in [("0", false), ("false", false), ("1", true), ("yes", true)] {
        let output = quick("NoOpTest").env("PERFSTRESS_SYNC", value).ok();
        let options = output.section("Options");
        assert_eq!(options[0].ends_with(" sync"), sync, "{value}: {options:?}");
    }
}

#[test]
fn latency_memory_is_bounded() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    // Histograms grow with the latencies: 20,000 instances of a no-op fit
    // in well under a gigabyte and a half (they took 5.3 GB).
    let results = TempPath::new("latency-memory");
    // Memory is sampled at each status line: run past the first one.
    quick("NoOpTest")
        .parallel(20_000)
        .duration(1.5)
        .latency()
        .results(&results)
        .ok();
    let memory = results.json()["average_memory_use"].as_u64().unwrap();
    assert!(memory < 1_500_000_000, "{memory} bytes");
    // And what cannot fit is refused before it starts.
    let output = quick("NoOpTest")
        .parallel(100_000)
        .latency()
        .rate(1_000_000)
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("MiB of histograms"),
        "{}",
        output.dump()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn profiling_leaves_no_temporary_file() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    let temporary = TempDir::new("profile-tmp");
    let profiles = TempDir::new("profile-out");
    quick("NoOpTest")
        .parallel(2)
        .processes(2)
        .duration(0.5)
        .profile(&profiles)
        .env("TMPDIR", temporary.path())
        .ok();
    let left: Vec<_> = std::fs::read_dir(temporary.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in the temporary directory: {left:?}");
    assert_eq!(profiles.files().len(), 4, "an SVG and a pb per process");
}

#[test]
fn messages_name_the_real_cause() {
    // NoOpTest (or a transport) keeps a core busy: not beside timed runs.
    let _cpu = cpu_saturating();
    // A bad environment variable is named, not blamed on "arguments".
    let output = quick("NoOpTest")
        .env(
            "PERFSTRESS_DURATION",
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"\xff"),
        )
        .outcome(Outcome::Usage);
    assert!(
        output
            .stderr
            .contains("PERFSTRESS_DURATION is not valid UTF-8"),
        "{}",
        output.dump()
    );
    // A path too long says so, not "cannot remove the old results file".
    let long = std::env::temp_dir().join(format!("{}.json", "x".repeat(300)));
    let output = quick("NoOpTest")
        .option("--test-results", long.to_str().unwrap())
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("File name too long"),
        "{}",
        output.dump()
    );
    assert!(
        !output.stderr.contains("cannot remove"),
        "{}",
        output.dump()
    );
    // A usage error of a test in a multi-process run is reported once per
    // instance, without "worker process exited with code 2" lines.
    let output = systemperf("LogTest")
        .parallel(2)
        .processes(2)
        .duration(1)
        .warmup(0)
        .args(["--fail-in", "new", "--fail-index", "5"])
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("names no instance"),
        "{}",
        output.dump()
    );
    assert!(
        !output.stderr.contains("exited with code"),
        "{}",
        output.dump()
    );
}

#[test]
fn a_huge_results_file_is_announced_before_the_timed_run() {
    let _cpu = cpu_saturating();
    let per_operation = TempPath::new("huge-results-file");
    let mut child = systemperf("NoOpTest")
        .latency()
        .option("--results-file", per_operation.arg())
        .duration(60)
        .warmup(1)
        .processes(1)
        .start();
    // The warning comes with the warm-up's results, before the timed run.
    child.wait_for(Duration::from_secs(20), |line| line == "=== Tests ===");
    child.signal(libc::SIGINT);
    let output = child.finish();
    output.assert_outcome(Outcome::Interrupted);
    assert!(
        output
            .stderr
            .contains("warning: at the warm-up's rate, --results-file will hold about"),
        "{}",
        output.dump()
    );
    assert!(output.stderr.contains("30 million"), "{}", output.dump());
    assert!(!per_operation.exists(), "an interrupted run writes no file");
}

#[test]
fn ctrl_c_while_the_workers_start_is_an_interruption() {
    // The workers are held back before they connect, so the signal comes
    // while the parent waits for them.
    let child = systemperf("SleepTest")
        .option("--initial-delay-ms", 50)
        .parallel(2)
        .processes(2)
        .duration(2)
        .warmup(0)
        .env("PERFSTRESS_TEST_CONNECT_DELAY_MS", "3000")
        .start();
    std::thread::sleep(Duration::from_millis(500));
    child.signal(libc::SIGINT);
    let output = child.finish();
    output.assert_outcome(Outcome::Interrupted);
    assert!(
        !output.stdout.contains("=== Setup ==="),
        "{}",
        output.dump()
    );
}

#[test]
fn a_signal_while_the_results_are_written_is_an_interruption() {
    let _cpu = cpu_saturating();
    let directory = TempDir::new("slow-reader");
    let fifo = directory.path().join("per-operation");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut child = systemperf("NoOpTest")
        .latency()
        .option("--results-file", fifo.to_str().unwrap())
        .duration(0.5)
        .warmup(0)
        .processes(1)
        .start();
    // A reader that opens the pipe but does not read yet: the runner's
    // write of millions of entries blocks once the pipe is full.
    let mut reader = std::fs::File::open(&fifo).unwrap();
    child.wait_for(Duration::from_secs(20), |line| line == "=== Finished ===");
    std::thread::sleep(Duration::from_millis(300));
    child.signal(libc::SIGINT);
    std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
    child.finish().assert_outcome(Outcome::Interrupted);
}

/// Item 3: a second Ctrl-C while the results file is written ends the run
/// at once and leaves no `PATH.<pid>.tmp` behind (nor a partial file).
#[test]
fn a_second_ctrl_c_while_the_results_are_written_leaves_no_temporary_file() {
    let _cpu = cpu_saturating();
    let directory = TempDir::new("second-ctrl-c");
    let results = directory.path().join("per-operation.json");
    let child = systemperf("NoOpTest")
        .latency()
        .option("--results-file", results.to_str().unwrap())
        .duration(1)
        .warmup(0)
        .processes(1)
        .start();
    // The temporary file appears when the write begins; a second of
    // NoOpTest is tens of millions of entries, so it is still being
    // written when the signals come.
    let temporary = |directory: &std::path::Path| {
        std::fs::read_dir(directory)
            .unwrap()
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path())
            .find(|path| path.extension().is_some_and(|extension| extension == "tmp"))
    };
    let began = std::time::Instant::now();
    let seen = loop {
        if let Some(path) = temporary(directory.path()) {
            break path;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the results file was never written"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    child.signal(libc::SIGINT);
    std::thread::sleep(Duration::from_millis(50));
    child.signal(libc::SIGINT);
    let output = child.finish();
    output.assert_outcome(Outcome::Interrupted);
    assert!(
        !seen.exists(),
        "{} left behind\n{}",
        seen.display(),
        output.dump()
    );
    assert_eq!(temporary(directory.path()), None, "{}", output.dump());
    // Either the write was cut short (no file) or it had just finished
    // (a complete array): never a partial file.
    if let Ok(text) = std::fs::read_to_string(&results) {
        let entries: Vec<serde_json::Value> = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("a partial results file: {error}"));
        assert!(!entries.is_empty());
    }
}
