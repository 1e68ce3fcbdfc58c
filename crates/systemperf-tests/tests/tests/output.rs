//! The report: stage headers, the options block, results lines, batch
//! tests and runs without operations.

use crate::common::*;

#[test]
fn stage_headers_in_order_with_warmup() {
    let _timing = timing_sensitive();
    let output = systemperf("SleepTest")
        .option("--initial-delay-ms", 100)
        .warmup(1)
        .duration(1)
        .ok();
    assert_eq!(output.stages(), STAGES, "{}", output.dump());
    // A results line after the warm-up and after the timed run.
    for stage in ["Warmup", "Tests"] {
        let total = output.results(stage).total;
        // 10, or 11 if the operation due exactly at the deadline (on
        // SleepTest's absolute schedule) started before it was seen.
        assert!(
            (9..=11).contains(&total),
            "{stage}: {total}\n{}",
            output.dump()
        );
    }
    assert_eq!(output.stdout.matches("Completed ").count(), 2);
    // Report output goes to stdout; nothing goes to stderr.
    assert_eq!(output.stderr, "");
    // Each stage header is preceded by a blank line (except the first).
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(lines[0], STAGES[0]);
    for (number, line) in lines.iter().enumerate().skip(1) {
        if line.starts_with("=== ") {
            assert_eq!(lines[number - 1], "", "no blank line before {line}");
        }
    }
}

#[test]
fn warmup_zero_skips_the_warmup_stage() {
    let output = systemperf("SleepTest")
        .option("--initial-delay-ms", 50)
        .option("--warm-up", 0)
        .duration(0.3)
        .ok();
    let expected: Vec<&str> = STAGES
        .into_iter()
        .filter(|stage| *stage != "=== Warmup ===")
        .collect();
    assert_eq!(output.stages(), expected, "{}", output.dump());
    assert_eq!(output.stdout.matches("Completed ").count(), 1);
    // Fractional durations work, and no status line for a phase under 1 s.
    let section = output.section("Tests");
    assert_eq!(section[0], STATUS_HEADER);
    assert!(section[1].starts_with("Completed "), "{section:#?}");
    assert_eq!(
        output.section("Options")[0].split(',').next(),
        Some("SleepTest  duration 0.3 s")
    );
}

#[test]
fn options_block_shows_the_effective_flags() {
    let output = systemperf("LogTest")
        .option("--delay-ms", 50)
        .duration(0.2)
        .warmup(0)
        .sync(true)
        .args(["--no-cleanup", "--insecure"])
        .ok();
    let options = output.section("Options");
    assert_eq!(
        options,
        [
            "LogTest  duration 0.2 s, warm-up 0 s, parallel 1 over 1 process, sync, no cleanup, insecure",
            "  --delay-ms 50  --fail-index 0  --fail-mode error  --hang-index 0  --hang-after 0",
            "",
        ],
        "{}",
        output.dump()
    );
}

#[test]
fn listing_tests_without_arguments() {
    let output = runner().ok();
    for name in ["LogTest", "NoOpTest", "SampleBatchTest", "SleepTest"] {
        let line = output
            .stdout
            .lines()
            .find(|line| line.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{name} is not listed\n{}", output.dump()));
        let description = line.trim_start()[name.len()..].trim();
        assert!(
            !description.is_empty(),
            "{name} has a description: {line:?}"
        );
    }
    assert!(!output.stdout.contains("==="), "listing runs nothing");
}

#[test]
fn test_help_lists_framework_and_test_options() {
    let output = systemperf("SleepTest").arg("--help").ok();
    for option in [
        "--duration",
        "--warmup",
        "--parallel",
        "--sync",
        "--no-cleanup",
        "--insecure",
        "--test-results",
        "--initial-delay-ms",
        "--instance-growth-factor",
        "--iteration-growth-factor",
    ] {
        assert!(
            output.stdout.contains(option),
            "{option}\n{}",
            output.dump()
        );
    }
    assert!(!output.stdout.contains("==="), "--help runs nothing");
}

/// `SleepTest --help` describes the test (its one-line description, as in
/// the list), not the doc comment of its Options struct ("Options of
/// [`SleepTest`]", rustdoc link brackets included, as it once did).
#[test]
fn test_help_shows_the_test_description() {
    let output = systemperf("SleepTest").arg("--help").ok();
    assert!(
        output
            .stdout
            .contains("Sleeps for a configurable, optionally growing delay per operation."),
        "{}",
        output.dump()
    );
    assert!(!output.stdout.contains("[`"), "{}", output.dump());
}

/// SampleBatchTest with min = max = 3: every batch returns 3 results, so
/// every count in the report is a multiple of 3 and the results file adds
/// up.
#[test]
fn batch_counts_are_summed() {
    let _cpu = cpu_saturating();
    let results = TempPath::new("batch");
    let output = systemperf("SampleBatchTest")
        .option("--min-message-count", 3)
        .option("--max-message-count", 3)
        .parallel(2)
        .duration(0.5)
        .warmup(0)
        .results(&results)
        .ok();
    let line = output.results("Tests");
    assert!(line.total > 0 && line.total.is_multiple_of(3), "{line:?}");
    let json = results.json();
    assert_eq!(json["test_name"], "SampleBatchTest");
    assert_eq!(json["total_operations"].as_u64(), Some(line.total));
    let instances = json["instances"].as_array().unwrap();
    let per_instance: Vec<u64> = instances
        .iter()
        .map(|instance| instance["completed_operations"].as_u64().unwrap())
        .collect();
    assert_eq!(per_instance.len(), 2);
    assert!(
        per_instance
            .iter()
            .all(|count| *count > 0 && count % 3 == 0),
        "{per_instance:?}"
    );
    assert_eq!(per_instance.iter().sum::<u64>(), line.total);
}

/// Batches that all return 0: no statistics, a results file with 0 ops/s,
/// never NaN, exit 0.
#[test]
fn batches_without_results() {
    let _cpu = cpu_saturating();
    let results = TempPath::new("empty-batch");
    let output = empty_batches(0.3, &results);
    let section = output.section("Tests");
    assert!(
        section.contains(&"Completed without generating operation statistics."),
        "{}",
        output.dump()
    );
    let json = results.json();
    assert_eq!(json["total_operations"], 0);
    assert_eq!(json["operations_per_second"].as_f64(), Some(0.0), "{json}");
    assert!(json["seconds_per_operation"].is_null(), "{json}");
    assert!(json["weighted_average_seconds"].is_null(), "{json}");
}

/// A status line before any operation completed reads 0 ops/s, not a
/// negative zero or NaN.
#[test]
fn status_line_without_operations() {
    let _timing = timing_sensitive();
    let output = systemperf("SleepTest")
        .option("--initial-delay-ms", 1500)
        .duration(1)
        .warmup(0)
        .ok();
    let section = output.section("Tests");
    let fields: Vec<&str> = section[1].split_whitespace().collect();
    assert_eq!(fields[..2], ["0", "0"], "{}", output.dump());
    assert!(
        fields[2].parse::<f64>() == Ok(0.0) && !fields[2].starts_with('-'),
        "{}",
        output.dump()
    );
    // The operation in flight at the deadline completes and counts.
    let line = output.results("Tests");
    assert_eq!(line.total, 1);
    assert_close(
        line.weighted_average_seconds,
        1.5,
        0.1,
        "its completion time",
    );
}

/// With no operations the rate is 0 (spec: "0 -> 0.000"), but the sum over
/// instances is an empty f64 sum, which Rust defines as -0.0: the results
/// file says `"operations_per_second": -0.0`.
#[test]
fn zero_rate_is_not_negative_zero() {
    let _cpu = cpu_saturating();
    let results = TempPath::new("negative-zero");
    empty_batches(0.2, &results);
    let ops = results.json()["operations_per_second"].as_f64().unwrap();
    assert!(ops.is_sign_positive(), "operations_per_second is {ops:?}");
}

/// A successful SampleBatchTest run of `seconds` whose batches all return
/// 0 results.
fn empty_batches(seconds: f64, results: &TempPath) -> Output {
    systemperf("SampleBatchTest")
        .option("--min-message-count", 0)
        .option("--max-message-count", 0)
        .duration(seconds)
        .warmup(0)
        .results(results)
        .ok()
}
