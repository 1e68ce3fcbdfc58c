//! Stress mode (`--continue-on-error`, error groups, `--max-error-rate`),
//! the run timeline (`--timeline`, `--histogram-log`, `--status-interval`),
//! memory over time and the counting allocator, through StressSampleTest.

use std::time::Duration;

use serde_json::Value;

use crate::common::*;

/// StressSampleTest in one instance of one process, no warm-up (so the
/// failure schedule starts with the timed run), failing 1 operation in
/// 100, in two kinds taken in turn.
fn one_in_a_hundred() -> Run {
    systemperf("StressSampleTest")
        .duration(1)
        .warmup(0)
        .processes(1)
        .arg("--continue-on-error")
        .option("--error-rate", "1%")
        .option("--error-kinds", "timeout,status")
}

fn lines_of(path: &TempPath) -> Vec<Value> {
    std::fs::read_to_string(path.path())
        .expect("the timeline is written")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect()
}

fn group_count(json: &Value, key: &str) -> u64 {
    json["errors"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|group| group["key"] == key)
        .map_or(0, |group| group["count"].as_u64().unwrap())
}

#[test]
fn one_failure_in_a_hundred_is_counted_exactly_per_group() {
    let _cpu = cpu_saturating();
    for sync in [false, true] {
        let results = TempPath::new("stress-exact");
        let output = one_in_a_hundred()
            .sync(sync)
            .option("--max-error-rate", "1%")
            .results(&results)
            .run();
        output.assert_outcome(Outcome::Success);
        let json = results.json();
        let errors = &json["errors"];
        let (total, attempted) = (
            errors["total"].as_u64().unwrap(),
            errors["attempted"].as_u64().unwrap(),
        );
        assert!(attempted > 1000, "{}", output.dump());
        // Operations 100, 200, ... failed: exactly one in a hundred.
        assert_eq!(total, attempted / 100, "{}", output.dump());
        assert_eq!(
            json["total_operations"].as_u64().unwrap(),
            attempted - total,
            "failed operations are not completed operations"
        );
        // Timeout first, then HTTP 503 (the group the test names), in turn.
        assert_eq!(
            group_count(&json, "Test: timed out after <n> ms"),
            total.div_ceil(2)
        );
        assert_eq!(group_count(&json, "HTTP 503"), total / 2);
        assert_eq!(errors["max_error_rate"], 0.01);
        assert_eq!(errors["within_limit"], true);
        let block = output.section("Errors");
        assert!(
            block[0].starts_with(&format!(
                "{} errors in {} operations",
                format_count(total),
                format_count(attempted)
            )),
            "{}",
            output.dump()
        );
        assert!(
            block
                .iter()
                .any(|line| line.trim() == "first: timed out after 21 ms"),
            "the first full message\n{}",
            output.dump()
        );
        // Status lines gain an errors column.
        assert!(
            output
                .section("Tests")
                .iter()
                .any(|line| line.contains("   errors ")),
            "{}",
            output.dump()
        );
    }
}

fn format_count(count: u64) -> String {
    let digits = count.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[test]
fn the_exit_code_follows_max_error_rate() {
    let _cpu = cpu_saturating();
    // The rate is at most 1 % (exactly, when the operations are a multiple
    // of 100) and above 0.9 %: a limit of 2 % passes, 0.5 % and the
    // default (0) fail with the rate and the limit.
    let results = TempPath::new("stress-limit");
    one_in_a_hundred()
        .option("--max-error-rate", "0.02")
        .results(&results)
        .run()
        .assert_outcome(Outcome::Success);
    for limit in [Some("0.5%"), None] {
        let results = TempPath::new("stress-over");
        let mut run = one_in_a_hundred().results(&results);
        if let Some(limit) = limit {
            run = run.option("--max-error-rate", limit);
        }
        let output = run.run();
        output.assert_outcome(Outcome::Failed);
        let expected_limit = if limit.is_some() {
            "0.5000 %"
        } else {
            "0.000 %"
        };
        assert!(
            output.stderr.contains("error: error rate ")
                && output.stderr.contains(&format!(
                    "is above --max-error-rate {expected_limit} (exit code 1)"
                )),
            "{}",
            output.dump()
        );
        // Like a gate, the numbers are still written.
        let json = results.json();
        assert_eq!(json["errors"]["within_limit"], false);
        let rate = json["errors"]["rate"].as_f64().unwrap();
        assert!(rate > 0.009 && rate <= 0.01, "{rate}");
    }
    // The threshold metric error_rate measures the same rate.
    let results = TempPath::new("stress-threshold");
    one_in_a_hundred()
        .option("--max-error-rate", "1%")
        .option("--threshold", "error_rate<0.5%")
        .results(&results)
        .run()
        .assert_outcome(Outcome::GateFailed);
}

#[test]
fn without_continue_on_error_the_first_error_ends_the_run() {
    let output = systemperf("StressSampleTest")
        .duration(1)
        .warmup(0)
        .processes(1)
        .option("--error-rate", "1%")
        .run();
    output.assert_outcome(Outcome::Failed);
    assert!(
        output.stderr.contains("timed out after 21 ms"),
        "{}",
        output.dump()
    );
    assert!(!output.stdout.contains("=== Errors ==="));
}

#[test]
fn the_timeline_adds_up_across_two_processes() {
    let _cpu = cpu_saturating();
    let (timeline, log, results) = (
        TempPath::new("timeline"),
        TempPath::new("histogram-log"),
        TempPath::new("timeline-results"),
    );
    let output = systemperf("StressSampleTest")
        .duration(2.25)
        .warmup(1)
        .parallel(2)
        .processes(2)
        .latency()
        .arg("--continue-on-error")
        .option("--max-error-rate", "2%")
        .option("--error-rate", "1%")
        .option("--error-kinds", "timeout,reset,status")
        .option("--status-interval", "0.5")
        .option("--timeline", timeline.arg())
        .option("--histogram-log", log.arg())
        .results(&results)
        .run();
    output.assert_outcome(Outcome::Success);
    let json = results.json();
    let lines = lines_of(&timeline);
    let run: Vec<&Value> = lines.iter().filter(|line| line["phase"] == "run").collect();
    let warmup: Vec<&Value> = lines
        .iter()
        .filter(|line| line["phase"] == "warmup")
        .collect();
    assert!(warmup.len() >= 2, "{lines:?}");
    // 4 whole intervals of 0.5 s and the last quarter second.
    assert_eq!(run.len(), 5, "{lines:?}");
    for (index, line) in run.iter().enumerate() {
        assert_eq!(line["interval"], index as u64);
        assert_eq!(line["final"], index == 4);
        assert!(line["rss_bytes"].as_u64().unwrap() > 0);
        assert!(line["cpu_percent"].as_f64().is_some());
    }
    assert_eq!(run[4]["start_seconds"], 2.0);
    assert_eq!(run[4]["end_seconds"], 2.25);
    let sum = |key: &str| -> u64 { run.iter().map(|line| line[key].as_u64().unwrap()).sum() };
    assert_eq!(
        sum("operations"),
        json["total_operations"].as_u64().unwrap()
    );
    assert_eq!(run[4]["total_operations"], json["total_operations"]);
    // The interval histograms together are the run's histogram.
    let timed: u64 = run
        .iter()
        .map(|line| line["latency_ms"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(timed, json["latency"]["count"].as_u64().unwrap());
    // Errors per group add up too.
    for group in json["errors"]["groups"].as_array().unwrap() {
        let key = group["key"].as_str().unwrap();
        let per_interval: u64 = run
            .iter()
            .map(|line| line["errors"][key].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(per_interval, group["count"].as_u64().unwrap(), "{key}");
    }
    assert_eq!(json["errors"]["groups"].as_array().unwrap().len(), 3);

    // The histogram log, read as HdrHistogram's tools read it.
    let text = std::fs::read(log.path()).unwrap();
    let mut merged: hdrhistogram::Histogram<u64> = hdrhistogram::Histogram::new(3).unwrap();
    let mut intervals = 0;
    let mut deserializer = hdrhistogram::serialization::Deserializer::new();
    for entry in hdrhistogram::serialization::interval_log::IntervalLogIterator::new(&text) {
        if let hdrhistogram::serialization::interval_log::LogEntry::Interval(interval) =
            entry.expect("a well-formed interval log")
        {
            let bytes = base64_decode(interval.encoded_histogram());
            let histogram: hdrhistogram::Histogram<u64> =
                deserializer.deserialize(&mut bytes.as_slice()).unwrap();
            merged.add(&histogram).unwrap();
            intervals += 1;
        }
    }
    assert_eq!(intervals, 5);
    assert_eq!(merged.len(), json["latency"]["count"].as_u64().unwrap());
    let max_ms = json["latency"]["max_ms"].as_f64().unwrap();
    let logged_max_ms = merged.max() as f64 / 1e6;
    assert!(
        (logged_max_ms - max_ms).abs() <= max_ms * 0.001 + 1e-6,
        "{logged_max_ms} {max_ms}"
    );
}

/// Standard base64 (the interval log's encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut bytes = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let value = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    bytes
}

#[test]
fn an_interrupted_run_keeps_its_timeline() {
    let timeline = TempPath::new("timeline-interrupted");
    let mut child = systemperf("SleepTest")
        .option("--initial-delay-ms", 10)
        .duration(30)
        .warmup(0)
        .processes(1)
        .option("--status-interval", "0.2")
        .option("--timeline", timeline.arg())
        .start();
    child.wait_for(Duration::from_secs(10), |line| line == "=== Tests ===");
    for _ in 0..3 {
        child.wait_for_status_line(Duration::from_secs(5));
    }
    // Every line written so far is there, whole, before the signal.
    let before = lines_of(&timeline).len();
    assert!(before >= 3, "{before}");
    child.signal(libc::SIGINT);
    let output = child.finish();
    output.assert_outcome(Outcome::Interrupted);
    let lines = lines_of(&timeline);
    assert!(lines.len() >= before, "{lines:?}");
    // With the partial last interval (left out if nothing completed after
    // the last tick), the intervals add up to the partial results.
    let total: u64 = lines
        .iter()
        .map(|line| line["operations"].as_u64().unwrap())
        .sum();
    assert_eq!(total, output.results("Tests").total, "{lines:?}");
    assert_eq!(
        lines.last().unwrap()["total_operations"].as_u64(),
        Some(total)
    );

    // Killed outright, it keeps every line written before.
    let timeline = TempPath::new("timeline-killed");
    let mut child = systemperf("SleepTest")
        .option("--initial-delay-ms", 10)
        .duration(30)
        .warmup(0)
        .processes(1)
        .option("--status-interval", "0.2")
        .option("--timeline", timeline.arg())
        .start();
    child.wait_for(Duration::from_secs(10), |line| line == "=== Tests ===");
    for _ in 0..2 {
        child.wait_for_status_line(Duration::from_secs(5));
    }
    child.signal(libc::SIGKILL);
    let _ = child.finish();
    assert!(lines_of(&timeline).len() >= 2);
}

/// The slope of a StressSampleTest run of 500 µs operations (about 2,000
/// ops/s; no latency recorded, so no histogram grows), in bytes per minute,
/// and the truth of its leak.
fn slope_of(leak: usize) -> (f64, f64) {
    let results = TempPath::new("leak");
    let output = systemperf("StressSampleTest")
        .duration(6)
        .warmup(0)
        .processes(1)
        .option("--busy-us", 500)
        .option("--status-interval", "0.5")
        .option("--leak-bytes-per-op", leak)
        .results(&results)
        .run();
    output.assert_outcome(Outcome::Success);
    let json = results.json();
    let slope = json["memory_growth_bytes_per_minute"]
        .as_f64()
        .unwrap_or_else(|| panic!("no slope\n{}", output.dump()));
    assert!(json["peak_memory_use"].as_u64().unwrap() > 0);
    assert!(
        output.stdout.contains("Memory: peak RSS "),
        "{}",
        output.dump()
    );
    let truth = json["operations_per_second"].as_f64().unwrap() * leak as f64 * 60.0;
    (slope, truth)
}

#[test]
fn a_leak_shows_as_its_slope_and_no_leak_as_none() {
    let _timing = timing_sensitive();
    let (slope, truth) = slope_of(1024);
    assert!(
        (slope - truth).abs() <= truth * 0.10,
        "slope {slope} B/min, truth {truth} B/min"
    );
    let (flat, _) = slope_of(0);
    // The same run without the leak: under 3 % of that slope.
    assert!(
        flat.abs() < truth * 0.03,
        "slope {flat} B/min without a leak"
    );
}

#[test]
fn the_counting_allocator_reports_a_tests_allocations() {
    let _cpu = cpu_saturating();
    for allocations in [3, 0] {
        let results = TempPath::new("allocations");
        let output = systemperf("StressSampleTest")
            .duration(1)
            .warmup(0)
            .processes(1)
            .option("--allocations-per-op", allocations)
            .results(&results)
            .run();
        output.assert_outcome(Outcome::Success);
        let json = results.json();
        let per_operation = json["allocations_per_operation"].as_f64().unwrap();
        // The framework's own allocations during the phase (a few per
        // status tick) are lost among the millions of operations.
        assert!(
            (per_operation - f64::from(allocations)).abs() < 0.001,
            "{per_operation}\n{}",
            output.dump()
        );
        if allocations == 3 {
            let bytes = json["bytes_allocated_per_operation"].as_f64().unwrap();
            assert!((bytes - 24.0).abs() < 0.1, "three boxed u64: {bytes}");
        }
    }
}

#[test]
fn bad_stress_options_are_usage_errors() {
    for (args, message) in [
        (&["--max-error-rate", "1%"][..], "--continue-on-error"),
        (
            &["--continue-on-error", "--max-error-rate", "150%"][..],
            "0.01 or 1%",
        ),
        (
            &["--histogram-log", "h.hlog"][..],
            "--histogram-log needs --latency",
        ),
        (&["--status-interval", "0"][..], "--status-interval"),
        (&["--error-rate", "2"][..], "0.01 or 1%"),
    ] {
        let output = systemperf("StressSampleTest").processes(1).args(args).run();
        output.assert_outcome(Outcome::Usage);
        assert!(
            output.stderr.contains(message),
            "{args:?}\n{}",
            output.dump()
        );
    }
}

/// `--rate` with a timeline and a histogram log, over two iterations: each
/// interval carries its service-time latency, the lines name their
/// iteration, the log tags each iteration's intervals, and the figures add
/// up to the run's.
#[test]
fn paced_iterations_keep_interval_latency() {
    let _timing = timing_sensitive();
    let (timeline, log, results) = (
        TempPath::new("timeline-paced"),
        TempPath::new("histogram-log-paced"),
        TempPath::new("timeline-paced-results"),
    );
    let output = systemperf("NoOpTest")
        .duration(1)
        .warmup(0)
        .parallel(2)
        .processes(1)
        .option("--rate", 200)
        .option("--iterations", 2)
        .option("--status-interval", "0.5")
        .option("--timeline", timeline.arg())
        .option("--histogram-log", log.arg())
        .results(&results)
        .run();
    output.assert_outcome(Outcome::Success);
    let lines = lines_of(&timeline);
    let mut timed = 0;
    for iteration in 1..=2u64 {
        let run: Vec<&Value> = lines
            .iter()
            .filter(|line| line["phase"] == "run" && line["iteration"] == iteration)
            .collect();
        assert!(run.len() >= 2, "iteration {iteration}: {lines:?}");
        assert_eq!(run[0]["interval"], 0);
        let operations: u64 = run
            .iter()
            .map(|line| line["operations"].as_u64().unwrap())
            .sum();
        let latency: u64 = run
            .iter()
            .map(|line| line["latency_ms"]["count"].as_u64().unwrap())
            .sum();
        // Every completed operation's service time is in one interval.
        assert_eq!(latency, operations, "iteration {iteration}: {run:?}");
        assert!(operations > 0 && operations <= 200, "{operations}");
        // The whole intervals hold what completed in them: nothing is left
        // for a last interval of (nearly) no length.
        let whole: u64 = run
            .iter()
            .filter(|line| line["final"] == false)
            .map(|line| line["latency_ms"]["count"].as_u64().unwrap())
            .sum();
        assert!(whole * 10 >= operations * 9, "{run:?}");
        for cpu in run.iter().filter_map(|line| line["cpu_percent"].as_f64()) {
            assert_eq!((cpu * 10.0).round() / 10.0, cpu, "rounded to 0.1: {cpu}");
        }
        timed += latency;
    }
    let json = results.json();
    assert_eq!(timed, json["latency"]["count"].as_u64().unwrap(), "{json}");
    // The log's intervals are tagged with their iteration.
    let text = std::fs::read(log.path()).unwrap();
    let mut tags = std::collections::BTreeMap::<String, usize>::new();
    for entry in hdrhistogram::serialization::interval_log::IntervalLogIterator::new(&text) {
        if let hdrhistogram::serialization::interval_log::LogEntry::Interval(interval) =
            entry.expect("a well-formed interval log")
        {
            let tag = interval.tag().expect("tagged").as_str().to_owned();
            *tags.entry(tag).or_default() += 1;
        }
    }
    assert_eq!(
        tags.keys().collect::<Vec<_>>(),
        ["iteration-1", "iteration-2"],
        "{tags:?}"
    );
}
