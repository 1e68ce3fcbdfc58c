//! `--threshold`: bounds on the timed run's figures as a CI gate (exit 3).

use crate::common::*;

/// SleepTest with 20 ms operations, one instance, latency recorded: about
/// 50 ops/s and a p99 near 20 ms.
fn sleep_run(thresholds: &[&str], results: &TempPath) -> Output {
    let mut run = systemperf("SleepTest")
        .option("--initial-delay-ms", 20)
        .duration(1)
        .warmup(0)
        .processes(1)
        .latency()
        .results(results);
    for threshold in thresholds {
        run = run.option("--threshold", threshold);
    }
    run.run()
}

#[test]
fn each_threshold_kind_passes_and_fails_on_the_right_side() {
    let _timing = timing_sensitive();
    for (pass, fail) in [
        ("ops/s>20", "ops/s>200"),
        ("operations>=10", "operations>1000"),
        ("p99<200ms", "p99<5ms"),
        ("max<=1s", "max<1ms"),
        ("mean>5ms", "mean>500ms"),
        ("p50>=10000us", "p50<10000000ns"),
        ("error_rate<0.1%", "error_rate>0.5"),
        ("rss<10GiB", "rss<1KiB"),
        ("cpu<400%", "cpu>300"),
    ] {
        let results = TempPath::new("gate-pass");
        let output = sleep_run(&[pass], &results);
        output.assert_outcome(Outcome::Success);
        let table = output.section("Thresholds");
        assert!(
            table
                .iter()
                .any(|line| line.contains(pass) && line.ends_with("pass")),
            "{pass}\n{}",
            output.dump()
        );
        let results = TempPath::new("gate-fail");
        let output = sleep_run(&[pass, fail], &results);
        output.assert_outcome(Outcome::GateFailed);
        let table = output.section("Thresholds");
        assert!(
            table
                .iter()
                .any(|line| line.contains(fail) && line.ends_with("FAIL")),
            "{fail}\n{}",
            output.dump()
        );
        assert!(
            output.stderr.contains("1 of 2 thresholds failed"),
            "{}",
            output.dump()
        );
        // The numbers are still written: CI wants them.
        let json = results.json();
        let recorded: Vec<(String, bool)> = json["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| {
                (
                    entry["threshold"].as_str().unwrap().to_owned(),
                    entry["passed"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            recorded,
            [(pass.to_owned(), true), (fail.to_owned(), false)]
        );
    }
}

#[test]
fn bad_thresholds_are_usage_errors_before_setup() {
    for (threshold, needle) in [
        ("latency<5ms", "unknown metric"),
        ("p99<5parsecs", "unit 'parsecs'"),
        ("rss<5ms", "does not fit"),
        ("p99=5ms", "expected METRIC<VALUE"),
    ] {
        let output = runner()
            .args(["SleepTest", "-d", "1", "-l", "--threshold", threshold])
            .outcome(Outcome::Usage);
        assert!(
            output.stderr.contains(needle),
            "{threshold}\n{}",
            output.dump()
        );
        assert!(
            !output.stdout.contains("=== Setup ==="),
            "{}",
            output.dump()
        );
    }
    let output = runner()
        .args(["SleepTest", "-d", "1", "--threshold", "p99<5ms"])
        .outcome(Outcome::Usage);
    assert!(output.stderr.contains("add --latency"), "{}", output.dump());
}
