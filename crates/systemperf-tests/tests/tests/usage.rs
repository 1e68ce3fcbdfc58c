//! The command line: test names, option validation (exit 2, naming the
//! option), options in any order, and flags cargo passes.

use crate::common::*;

/// Runs `args` plus `--test-results` (a path with no file) and checks a
/// usage error: exit 2, stderr names `needles`, nothing ran, no file.
#[track_caller]
fn check_usage_error(args: &[&str], needles: &[&str]) -> Output {
    let results = TempPath::new("usage");
    let output = runner()
        .args(args)
        .results(&results)
        .outcome(Outcome::Usage);
    for needle in needles {
        assert!(
            output.stderr.contains(needle),
            "stderr should name {needle:?}\n{}",
            output.dump()
        );
    }
    assert!(
        !output.stdout.contains("=== Setup ==="),
        "nothing runs after a usage error\n{}",
        output.dump()
    );
    assert!(!results.exists(), "no results file after a usage error");
    output
}

#[test]
fn unknown_test_names_the_closest_one() {
    let output = check_usage_error(&["SleepTst", "-d", "1"], &["SleepTst", "'SleepTest'"]);
    // ... and lists the tests.
    for name in ["LogTest", "NoOpTest", "SampleBatchTest", "SleepTest"] {
        assert!(output.stderr.contains(name), "{}", output.dump());
    }
    check_usage_error(&["noop"], &["'NoOpTest'"]);
    check_usage_error(&["Zebra"], &["unknown test 'Zebra'"]);
}

#[test]
fn bad_framework_options_name_the_option() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["-d", "0"], &["--duration", "more than 0"]),
        (&["-d", "abc"], &["--duration", "abc"]),
        (&["-d", "inf"], &["--duration"]),
        (&["--duration"], &["--duration"]),
        (&["-w"], &["--warmup"]),
        (&["-w", "x"], &["--warmup"]),
        (&["-p", "0"], &["--parallel", "from 1"]),
        (&["--parallel=-3"], &["--parallel"]),
        (&["-p", "2.5"], &["--parallel"]),
        (&["-p", "many"], &["--parallel"]),
        (&["--processes", "0"], &["--processes", "from 1"]),
        (&["--processes"], &["--processes"]),
        (&["--bogus"], &["--bogus"]),
        (&["--test-results"], &["--test-results"]),
    ];
    for (args, needles) in cases {
        let mut all = vec!["SleepTest"];
        all.extend_from_slice(args);
        check_usage_error(&all, needles);
    }
    // Framework options before the test name are validated too.
    check_usage_error(&["-d", "0", "SleepTest"], &["--duration"]);
    check_usage_error(&["--bogus", "SleepTest"], &["--bogus"]);
}

#[test]
fn bad_test_options_name_the_option() {
    check_usage_error(
        &["SleepTest", "--initial-delay-ms", "abc"],
        &["--initial-delay-ms"],
    );
    check_usage_error(
        &["SleepTest", "--instance-growth-factor", "0"],
        &["--instance-growth-factor", "greater than 0"],
    );
    check_usage_error(
        &["SleepTest", "--iteration-growth-factor", "nan"],
        &["--iteration-growth-factor"],
    );
    check_usage_error(
        &["LogTest", "--fail-in", "bogus"],
        &["--fail-in", "cleanup"],
    );
    // Another test's option is unknown here.
    check_usage_error(&["NoOpTest", "--delay-ms", "5"], &["--delay-ms"]);
    check_usage_error(&["SleepTest", "extra"], &["extra"]);
}

/// A test may reject its options when it is created (ErrorKind::Usage):
/// that is a usage error too, and the stale results file is gone.
#[test]
fn test_rejecting_its_options_is_a_usage_error() {
    let results = TempPath::stale("batch-range");
    let output = systemperf("SampleBatchTest")
        .option("--min-message-count", 5)
        .option("--max-message-count", 2)
        .warmup(0)
        .duration(0.2)
        .results(&results)
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("--min-message-count"),
        "{}",
        output.dump()
    );
    assert!(
        output.stderr.contains("--max-message-count"),
        "{}",
        output.dump()
    );
    assert!(
        !output.stdout.contains("=== Tests ==="),
        "{}",
        output.dump()
    );
    assert!(!results.exists());
}

/// Negative numbers are bad values of their option, but clap takes `-1`
/// for a flag: the error says "unexpected argument '-1' found" and names
/// neither the option nor the allowed range (the spec requires both).
#[test]
fn negative_values_name_the_option() {
    check_usage_error(&["SleepTest", "-p", "-3"], &["--parallel", "from 1"]);
    check_usage_error(&["SleepTest", "-d", "-1"], &["--duration", "more than 0"]);
    check_usage_error(&["SleepTest", "-w", "-1"], &["--warmup", "0 or more"]);
}

/// Spec 5: the results file "is removed at start, so a failed run never
/// leaves a stale number" (the `failures` tests check that). A usage error
/// (`-d 0`, an unknown test, `--bogus`, `--help`) never starts a run: the
/// whole command line is parsed and checked first, and no file is touched.
#[test]
fn usage_error_leaves_files_alone() {
    for (args, outcome) in [
        (&["SleepTest", "-d", "0"][..], Outcome::Usage),
        (&["SleepTst"][..], Outcome::Usage),
        (&["SleepTest", "--bogus"][..], Outcome::Usage),
        (&["SleepTest", "--help"][..], Outcome::Success),
    ] {
        let results = TempPath::stale("usage-stale");
        runner().args(args).results(&results).outcome(outcome);
        assert!(results.exists(), "{args:?} touched the results file");
    }
}

#[test]
fn test_names_are_case_insensitive() {
    for name in ["sleeptest", "SLEEPTEST", "sLeEpTeSt"] {
        let results = TempPath::new("case");
        let output = systemperf(name)
            .option("--initial-delay-ms", 50)
            .duration(0.2)
            .warmup(0)
            .results(&results)
            .ok();
        assert!(
            output.section("Options")[0].starts_with("SleepTest  duration"),
            "{}",
            output.dump()
        );
        assert_eq!(results.json()["test_name"], "SleepTest");
    }
}

#[test]
fn bench_flag_from_cargo_is_ignored() {
    for args in [
        &[
            "SleepTest",
            "--initial-delay-ms",
            "50",
            "-d",
            "0.2",
            "-w",
            "0",
            "--bench",
        ][..],
        &[
            "--bench",
            "SleepTest",
            "--initial-delay-ms",
            "50",
            "-d",
            "0.2",
            "-w",
            "0",
        ][..],
    ] {
        let output = runner().args(args).ok();
        assert!(output.results("Tests").total > 0, "{}", output.dump());
    }
}

/// PerfAutomation puts `--test-results` before the test name; framework
/// options may come before or after it, test options in any order after.
#[test]
fn options_before_the_test_name() {
    let results = TempPath::stale("before");
    let output = runner()
        .results(&results)
        .args(["-w", "0", "--processes", "2", "SleepTest"])
        .args(["--initial-delay-ms", "50", "-p", "2"])
        .args(["--instance-growth-factor", "1", "-d", "0.4"])
        .ok();
    assert_eq!(
        output.section("Options")[..2],
        [
            "SleepTest  duration 0.4 s, warm-up 0 s, parallel 2 over 2 processes, async",
            "  --initial-delay-ms 50  --instance-growth-factor 1  --iteration-growth-factor 1",
        ],
        "{}",
        output.dump()
    );
    let json = results.json();
    assert_eq!(json["test_name"], "SleepTest");
    assert_eq!(json["duration_seconds"], 0.4);
    assert_eq!(json["parallel"], 2);
    assert_eq!(json["processes"], 2);
    assert!(json["operations_per_second"].as_f64().unwrap() > 0.0);
}

/// As the siblings' parsers: a repeated flag is the flag, and the last
/// value of a repeated option wins, before or after the test name
/// (PerfAutomation appends `--sync` to lines that may already have it).
#[test]
fn repeated_options_take_the_last_value() {
    let output = runner()
        .args([
            "-d",
            "5",
            "SleepTest",
            "--sync",
            "--sync",
            "-d",
            "0.3",
            "-w",
            "0",
            "-p",
            "3",
            "-p",
            "1",
            "--initial-delay-ms",
            "40",
            "--initial-delay-ms",
            "10",
        ])
        .ok();
    let options = output.section("Options");
    assert!(
        options[0].contains("duration 0.3 s")
            && options[0].contains("parallel 1 over 1 process, sync"),
        "{}",
        output.dump()
    );
    assert!(
        output.stdout.contains("--initial-delay-ms 10"),
        "{}",
        output.dump()
    );
}

/// PerfAutomation passes `--sync` to every test: every built-in test runs
/// with it (the async-only ones through the sync bridge). The list comes
/// from the runner's own listing, so a new test is covered too.
#[test]
fn every_built_in_test_runs_under_sync() {
    let listing = runner().ok();
    let tests: Vec<&str> = listing
        .stdout
        .lines()
        .skip(1)
        .filter(|line| line.starts_with("  ") && !line.trim_start().starts_with('('))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    // Five tests need no HTTP stack; the HTTP tests (HttpGetTest among
    // them) come with the `http` feature.
    assert!(tests.len() >= 5, "{}", listing.dump());
    assert_eq!(
        tests.contains(&"HttpGetTest"),
        cfg!(feature = "http"),
        "{}",
        listing.dump()
    );
    for test in tests {
        let output = systemperf(test)
            .sync(true)
            .duration(0.3)
            .warmup(0)
            .processes(1)
            .ok();
        assert!(
            output.section("Options")[0].contains(", sync"),
            "{test}\n{}",
            output.dump()
        );
    }
}
