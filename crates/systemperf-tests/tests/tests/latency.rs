//! Latency (`--latency`), the per-operation results file (`--results-file`),
//! the open-loop target rate (`--rate`) and profiling (`--profile`).

use serde_json::Value;

use crate::common::*;

/// The percentiles of a distribution, as printed and as keyed in the
/// results file, in the order they must appear.
const PERCENTILES: [(&str, &str); 7] = [
    ("50%", "p50"),
    ("75%", "p75"),
    ("90%", "p90"),
    ("95%", "p95"),
    ("99%", "p99"),
    ("99.9%", "p99.9"),
    ("100%", "p100"),
];

/// HdrHistogram with three significant digits: a recorded value comes back
/// within this (relative) of what was recorded.
const PRECISION: f64 = 0.001;

/// A number of the results file.
#[track_caller]
fn number(json: &Value, what: &str) -> f64 {
    json.as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {json}"))
}

/// Checks the `=== {heading} ===` section against `json[key]` (the same
/// distribution in the results file) and `total` operations; returns the
/// percentiles in milliseconds, in [`PERCENTILES`] order.
#[track_caller]
fn check_distribution(
    output: &Output,
    json: &Value,
    heading: &str,
    key: &str,
    total: u64,
) -> Vec<f64> {
    let dump = output.dump();
    let lines = output.section(heading);
    assert!(
        lines.len() >= PERCENTILES.len() + 2,
        "{heading}: {lines:#?}\n{dump}"
    );
    let latency = &json[key];
    assert!(latency.is_object(), "{key} in the results file: {json}");
    assert_eq!(
        latency["count"].as_u64(),
        Some(total),
        "{key}.count: {json}"
    );
    let keyed = latency["percentiles_ms"]
        .as_object()
        .unwrap_or_else(|| panic!("{key}.percentiles_ms: {json}"));
    assert_eq!(
        keyed.len(),
        PERCENTILES.len(),
        "{key}.percentiles_ms: {json}"
    );

    // `     50%         50.14 ms      50.14 ms`: the label, milliseconds,
    // then the same in a readable unit.
    let mut percentiles = Vec::new();
    for (line, (label, json_key)) in lines.iter().zip(PERCENTILES) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(
            fields.len() == 5 && fields[0] == label && fields[2] == "ms",
            "{heading}: {line:?} should be the {label} line\n{dump}"
        );
        let printed =
            parse_grouped(fields[1]).unwrap_or_else(|| panic!("{heading}: {line:?}: bad number"));
        let stored = number(&keyed[json_key], json_key);
        // Four significant digits on the console, full precision in JSON.
        assert_close(printed, stored, 0.0006, &format!("{heading} {label}"));
        percentiles.push(stored);
    }
    assert!(
        percentiles.windows(2).all(|pair| pair[0] <= pair[1]),
        "{heading}: percentiles must not decrease: {percentiles:?}"
    );

    // `mean 50.15 ms, min 50.04 ms, max 53.18 ms, 80 operations`
    let summary = lines[PERCENTILES.len()];
    assert!(
        summary.starts_with("mean "),
        "{heading}: {summary:?}\n{dump}"
    );
    let count = summary
        .rsplit_once(", ")
        .and_then(|(_, count)| count.strip_suffix(" operations"))
        .and_then(parse_grouped);
    assert_eq!(count, Some(total as f64), "{heading}: {summary:?}");
    let mut end = PERCENTILES.len() + 1;
    if key == "latency" {
        // `clock resolution 0.9524 ns (measured at the start; ...)`: the
        // latency clock's real step, as the results file has it.
        let line = lines[end];
        let printed = line
            .strip_prefix("clock resolution ")
            .and_then(|rest| rest.split_once(" ns"))
            .and_then(|(number, _)| parse_grouped(number))
            .unwrap_or_else(|| {
                panic!("{heading}: {line:?} should be the clock resolution\n{dump}")
            });
        let stored = number(&latency["clock_resolution_ns"], "clock_resolution_ns");
        assert_close(printed, stored, 0.0006, "clock resolution");
        // A TSC steps by well under a nanosecond to 10 ns; a clocksource
        // in 100 ns units would still be under a microsecond.
        assert!(
            stored > 0.0 && stored < 1000.0,
            "clock resolution {stored} ns"
        );
        end += 1;
    }
    assert_eq!(lines[end], "", "{heading}: {lines:#?}");

    let min = number(&latency["min_ms"], "min_ms");
    let mean = number(&latency["mean_ms"], "mean_ms");
    let max = number(&latency["max_ms"], "max_ms");
    let p50 = percentiles[0];
    assert!(
        min <= p50 && p50 <= max && min <= mean && mean <= max,
        "{key}: min {min}, p50 {p50}, mean {mean}, max {max}"
    );
    assert_close(percentiles[6], max, PRECISION, "p100 is the maximum");
    percentiles
}

/// `SleepTest --initial-delay-ms 50 -p 2 -d 2 -w 0 --latency`: every
/// operation takes 50 ms on average (on SleepTest's absolute schedule, one
/// that follows a late wake-up is shorter by as much), whether
/// the histograms come from one process or are merged from two workers.
fn check_sleep_latency(sync: bool, processes: usize) {
    let _timing = timing_sensitive();
    retry_timing(|| sleep_latency_attempt(sync, processes));
}

fn sleep_latency_attempt(sync: bool, processes: usize) -> Result<(), String> {
    let results = TempPath::stale("latency");
    let per_operation = TempPath::stale("per-operation");
    let output = systemperf("SleepTest")
        .option("--initial-delay-ms", 50)
        .parallel(2)
        .duration(2)
        .warmup(0)
        .latency()
        .processes(processes)
        .results(&results)
        .results_file(&per_operation)
        .sync(sync)
        .ok();
    assert_eq!(output.stderr, "", "a successful run writes no diagnostics");
    let dump = output.dump();
    assert_eq!(
        output.stages(),
        [
            "=== Options ===",
            "=== Setup ===",
            "=== Post Setup ===",
            "=== Tests ===",
            "=== Latency Distribution ===",
            "=== Pre Cleanup ===",
            "=== Cleanup ===",
            "=== Finished ===",
        ],
        "{dump}"
    );
    let total = output.results("Tests").total;
    // 40 each; the one due exactly at the deadline may start just before
    // the deadline is seen, and then completes and counts.
    expect((74..=82).contains(&total), || {
        format!("2 instances x 40 operations of 50 ms in 2 s, got {total}\n{dump}")
    })?;

    let json = results.json();
    assert_eq!(json["total_operations"].as_u64(), Some(total), "{json}");
    let percentiles = check_distribution(&output, &json, "Latency Distribution", "latency", total);
    let p50 = percentiles[0];
    let min = number(&json["latency"]["min_ms"], "min_ms");
    let max = number(&json["latency"]["max_ms"], "max_ms");
    // SleepTest keeps an absolute schedule: an operation that follows a
    // late wake-up is that much shorter, so the mean is the delay and no
    // operation is skipped or cut in half.
    let mean = number(&json["latency"]["mean_ms"], "mean_ms");
    within(mean, 50.0, 0.02, "mean latency of 50 ms operations")?;
    expect(min >= 25.0, || {
        format!("a 50 ms operation took {min} ms\n{dump}")
    })?;
    expect(p50 <= 53.0, || {
        format!("p50 of a 50 ms sleep is {p50} ms (more than 6% over)\n{dump}")
    })?;
    assert!(
        json.get("corrected_latency").is_none(),
        "no corrected latency without --rate: {json}"
    );

    // The per-operation file: one entry per operation, sorted by latency.
    assert!(
        output.stdout.contains(&format!(
            "Per-operation results written to {}",
            per_operation.arg()
        )),
        "{dump}"
    );
    let entries = per_operation.json();
    let entries = entries.as_array().expect("the results file is an array");
    assert_eq!(entries.len() as u64, total, "one entry per operation");
    let mut times = Vec::with_capacity(entries.len());
    for entry in entries {
        let fields = entry.as_object().expect("each entry is an object");
        assert_eq!(fields.len(), 2, "only Time and Size: {entry}");
        assert_eq!(entry["Size"].as_i64(), Some(-1), "no --size: {entry}");
        let time = number(&entry["Time"], "Time");
        assert!(
            time >= min * (1.0 - PRECISION) && time <= max * (1.0 + PRECISION),
            "{time} ms is outside [{min}, {max}]"
        );
        times.push(time);
    }
    assert!(
        times.windows(2).all(|pair| pair[0] <= pair[1]),
        "entries come sorted by latency: {times:?}"
    );
    // The nearest-rank median of the entries is the printed p50.
    let median = times[times.len().div_ceil(2) - 1];
    assert_close(median, p50, 2.0 * PRECISION, "median entry vs p50");
    Ok(())
}

#[test]
fn latency_distribution_sync() {
    check_sleep_latency(true, 1);
}

#[test]
fn latency_distribution_merged_from_two_processes() {
    check_sleep_latency(false, 2);
}

/// `--results-file` alone: there is no latency to write; a usage error,
/// before anything runs, and no file.
#[test]
fn results_file_requires_latency() {
    let per_operation = TempPath::new("per-operation-usage");
    let output = systemperf("SleepTest")
        .option("--initial-delay-ms", 10)
        .duration(0.2)
        .warmup(0)
        .results_file(&per_operation)
        .outcome(Outcome::Usage);
    let dump = output.dump();
    assert!(output.stderr.contains("--latency"), "{dump}");
    assert!(!output.stdout.contains("=== Setup ==="), "{dump}");
    assert!(!per_operation.exists(), "{dump}");
}

/// `--rate` implies `--latency`, so `--results-file` works with it alone.
#[test]
fn results_file_with_rate_alone() {
    let _timing = timing_sensitive();
    let results = TempPath::new("rate-results");
    let per_operation = TempPath::new("rate-per-operation");
    let output = systemperf("SleepTest")
        .option("--initial-delay-ms", 10)
        .duration(0.5)
        .warmup(0)
        .rate(50)
        .processes(1)
        .results(&results)
        .results_file(&per_operation)
        .ok();
    let total = results.json()["total_operations"].as_u64().unwrap();
    let entries = per_operation.json();
    assert_eq!(
        entries.as_array().map(Vec::len),
        Some(total as usize),
        "{}",
        output.dump()
    );
}

/// The `Target rate ...` line: (target as printed, achieved, late, total).
#[track_caller]
fn target_line(output: &Output) -> (String, f64, u64, u64) {
    let dump = output.dump();
    let line = output
        .stdout
        .lines()
        .find(|line| line.starts_with("Target rate "))
        .unwrap_or_else(|| panic!("no target rate line\n{dump}"));
    let parse = || {
        let rest = line.strip_prefix("Target rate ")?;
        let (target, rest) = rest.split_once(" ops/s, achieved ")?;
        let (achieved, rest) = rest.split_once(" ops/s; ")?;
        let (late, rest) = rest.split_once(" of ")?;
        let (total, rest) = rest.split_once(" operations started late")?;
        rest.starts_with(" (more than 1 ms behind schedule)")
            .then_some(())?;
        Some((
            target.to_owned(),
            parse_grouped(achieved)?,
            parse_grouped(late)? as u64,
            parse_grouped(total)? as u64,
        ))
    };
    parse().unwrap_or_else(|| panic!("unparsable target rate line {line:?}\n{dump}"))
}

/// One instance of 100 ms operations can do 10/s; `--rate 20` asks twice
/// that. Service time stays 100 ms; corrected latency (from each
/// operation's scheduled start) grows with the backlog; nearly every
/// operation starts late.
#[test]
fn infeasible_rate_shows_in_corrected_latency() {
    let _timing = timing_sensitive();
    retry_timing(infeasible_rate_attempt);
}

fn infeasible_rate_attempt() -> Result<(), String> {
    let results = TempPath::stale("rate-infeasible");
    let output = systemperf("SleepTest")
        .option("--initial-delay-ms", 100)
        .parallel(1)
        .duration(3)
        .warmup(0)
        .rate(20)
        .processes(1)
        .results(&results)
        .ok();
    assert_eq!(output.stderr, "", "a successful run writes no diagnostics");
    let dump = output.dump();
    let stages = output.stages();
    let after_tests: Vec<&str> = stages
        .iter()
        .skip_while(|stage| **stage != "=== Tests ===")
        .copied()
        .collect();
    assert_eq!(
        after_tests[..4],
        [
            "=== Tests ===",
            "=== Latency Distribution ===",
            "=== Corrected Latency Distribution ===",
            "=== Pre Cleanup ===",
        ],
        "{dump}"
    );

    let line = output.results("Tests");
    within(
        line.operations_per_second,
        10.0,
        0.05,
        "one 100 ms instance",
    )?;
    let json = results.json();
    let total = line.total;
    assert_eq!(json["total_operations"].as_u64(), Some(total), "{json}");
    assert_eq!(json["target_rate"].as_f64(), Some(20.0), "{json}");
    let service = check_distribution(&output, &json, "Latency Distribution", "latency", total);
    let corrected = check_distribution(
        &output,
        &json,
        "Corrected Latency Distribution",
        "corrected_latency",
        total,
    );
    // On SleepTest's absolute schedule an operation after a late wake-up
    // is that much shorter: the median is about 100 ms, not above it.
    expect(service[0] >= 97.0, || {
        format!("service time of a 100 ms sleep: {service:?}")
    })?;
    expect(service[0] <= 106.0, || {
        format!("service time p50 {} ms for a 100 ms sleep", service[0])
    })?;
    // Operation k is due at k * 50 ms but starts at k * 100 ms: the
    // backlog grows by 50 ms per operation, to about 1.5 s after 3 s.
    let (service_p99, corrected_p99) = (service[4], corrected[4]);
    expect(corrected_p99 > 3.0 * service_p99, || {
        format!("corrected p99 {corrected_p99} ms vs service p99 {service_p99} ms\n{dump}")
    })?;
    assert!(
        corrected
            .iter()
            .zip(&service)
            .all(|(corrected, service)| corrected * (1.0 + PRECISION) >= *service),
        "corrected latency includes the service time: {corrected:?} vs {service:?}"
    );

    // Every operation but the first starts behind schedule.
    let late_starts = json["late_starts"].as_u64().expect("late_starts");
    assert!(
        late_starts + 2 >= total && late_starts < total,
        "{late_starts} late starts of {total}\n{json}"
    );
    let (target, achieved, late, of) = target_line(&output);
    assert_eq!(target, "20.00", "{dump}");
    assert_close(
        achieved,
        line.operations_per_second,
        0.0005,
        "achieved vs results line",
    );
    assert_eq!((late, of), (late_starts, total), "{dump}");
    Ok(())
}

/// NoOpTest paced at 200 ops/s, which one instance easily keeps up with:
/// 200 ops/s achieved, hardly any late start, corrected latency close to
/// service time.
fn check_feasible_rate(sync: bool) {
    let _timing = timing_sensitive();
    retry_timing(|| feasible_rate_attempt(sync));
}

fn feasible_rate_attempt(sync: bool) -> Result<(), String> {
    let results = TempPath::stale("rate-feasible");
    let output = systemperf("NoOpTest")
        .rate(200)
        .duration(2)
        .warmup(0)
        .processes(1)
        .results(&results)
        .sync(sync)
        .ok();
    let dump = output.dump();
    let line = output.results("Tests");
    within(
        line.operations_per_second,
        200.0,
        0.03,
        "ops/s of the results line",
    )?;
    // Operations are due every 5 ms from the start: 400 in 2 s (and the
    // one due right at the deadline may start; up to two more while
    // `paced_operations_due_after_the_deadline_do_not_start` fails).
    expect((396..=403).contains(&line.total), || {
        format!("400 operations due in 2 s, got {}\n{dump}", line.total)
    })?;

    let json = results.json();
    let total = line.total;
    assert_eq!(json["total_operations"].as_u64(), Some(total), "{json}");
    assert_eq!(json["target_rate"].as_f64(), Some(200.0), "{json}");
    let ops = number(&json["operations_per_second"], "operations_per_second");
    within(
        ops,
        200.0,
        0.03,
        "operations_per_second of the results file",
    )?;
    check_distribution(&output, &json, "Latency Distribution", "latency", total);
    let corrected = check_distribution(
        &output,
        &json,
        "Corrected Latency Distribution",
        "corrected_latency",
        total,
    );
    let late_starts = json["late_starts"].as_u64().expect("late_starts");
    expect(late_starts * 10 <= total, || {
        format!("{late_starts} of {total} operations started late\n{dump}")
    })?;
    expect(corrected[0] < 1.0, || {
        format!(
            "corrected p50 {} ms for on-time no-ops\n{dump}",
            corrected[0]
        )
    })?;
    let (target, achieved, late, of) = target_line(&output);
    assert_eq!(target, "200.0", "{dump}");
    assert_close(
        achieved,
        line.operations_per_second,
        0.0005,
        "achieved vs results line",
    );
    assert_eq!((late, of), (late_starts, total), "{dump}");
    Ok(())
}

#[test]
fn feasible_rate_async() {
    check_feasible_rate(false);
}

#[test]
fn feasible_rate_sync() {
    check_feasible_rate(true);
}

/// Two instances at 100 ops/s in all: instance 0's operations are due at
/// 0, 20, ..., 980 ms, instance 1's at 10, 30, ..., 970 ms; with `-d 0.985`
/// their next ones are due 15 and 5 ms after the deadline, and must not
/// start: 99 operations at most.
#[test]
fn paced_operations_due_after_the_deadline_do_not_start() {
    let _timing = timing_sensitive();
    for sync in [false, true] {
        for _ in 0..3 {
            let results = TempPath::new("rate-deadline");
            systemperf("NoOpTest")
                .rate(100)
                .parallel(2)
                .duration(0.985)
                .warmup(0)
                .processes(1)
                .results(&results)
                .sync(sync)
                .ok();
            let json = results.json();
            let total = json["total_operations"].as_u64().unwrap();
            assert!(
                total <= 99,
                "sync {sync}: {total} operations, but only 99 were due by the deadline\n{json}"
            );
        }
    }
}

/// `--profile` on a one-process run: a flame graph and a pprof protobuf
/// named after the test, first index and variant, in `--profile-path`,
/// printed; the flame graph shows the test's run function.
#[test]
fn profile_one_process() {
    let _cpu = cpu_saturating();
    let directory = TempDir::new("profile");
    let output = systemperf("SampleBatchTest")
        .duration(1)
        .warmup(0)
        .processes(1)
        .sync(true)
        .profile(&directory)
        .ok();
    let dump = output.dump();
    assert_eq!(
        directory.files(),
        [
            "profile-SampleBatchTest-0-sync.pb",
            "profile-SampleBatchTest-0-sync.svg",
        ],
        "{dump}"
    );
    for extension in ["svg", "pb"] {
        let path = directory
            .path()
            .join(format!("profile-SampleBatchTest-0-sync.{extension}"));
        assert!(
            output
                .stdout
                .contains(&format!("Profile written to {}", path.display())),
            "{dump}"
        );
        let size = std::fs::metadata(&path).expect("the profile exists").len();
        assert!(size > 100, "{} has {size} bytes", path.display());
    }
    let svg = std::fs::read_to_string(directory.path().join("profile-SampleBatchTest-0-sync.svg"))
        .expect("read the flame graph");
    assert!(svg.contains("<svg"), "the flame graph is an SVG");
    assert!(
        svg.contains("run_batch_sync"),
        "the flame graph shows the test's run function"
    );
}

/// With two worker processes, each writes its own profile, named after its
/// first parallel index, and the parent prints all of them.
#[test]
fn profile_per_worker_process() {
    let _cpu = cpu_saturating();
    let directory = TempDir::new("profile-workers");
    let output = profiled_batches(&directory);
    let dump = output.dump();
    let expected = [
        "profile-SampleBatchTest-0-async.pb",
        "profile-SampleBatchTest-0-async.svg",
        "profile-SampleBatchTest-1-async.pb",
        "profile-SampleBatchTest-1-async.svg",
    ];
    assert_eq!(directory.files(), expected, "{dump}");
    for name in expected {
        let path = directory.path().join(name);
        assert!(
            output
                .stdout
                .contains(&format!("Profile written to {}", path.display())),
            "{name} is printed\n{dump}"
        );
    }
    assert_eq!(
        output.stdout.matches("Profile written to ").count(),
        4,
        "{dump}"
    );
}

/// The workers' profiles cover their whole timed run, which starts with
/// the other processes': instances in profiled workers complete as many
/// operations as anywhere else, and each flame graph shows the run
/// function.
#[test]
fn profiled_workers_run_the_whole_phase() {
    let _cpu = cpu_saturating();
    let directory = TempDir::new("profile-late");
    let results = TempPath::new("profile-late");
    let output = systemperf("SleepTest")
        .option("--initial-delay-ms", 10)
        .duration(1)
        .warmup(0)
        .parallel(2)
        .processes(2)
        .profile(&directory)
        .results(&results)
        .ok();
    let json = results.json();
    for instance in json["instances"].as_array().expect("instances") {
        let completed = instance["completed_operations"].as_u64().unwrap();
        // 10 ms sleeps (plus overshoot) for a second: about 90 to 100.
        assert!(
            completed >= 80,
            "a profiled worker's instance completed {completed} operations in 1 s of \
             10 ms sleeps\n{json}\n{}",
            output.dump()
        );
    }

    let directory = TempDir::new("profile-late-batch");
    profiled_batches(&directory);
    for index in 0..2 {
        let path = directory
            .path()
            .join(format!("profile-SampleBatchTest-{index}-async.svg"));
        let svg = std::fs::read_to_string(&path).expect("read the flame graph");
        assert!(
            svg.contains("run_batch_async"),
            "{} shows the run function ({} bytes)",
            path.display(),
            svg.len()
        );
    }
}

/// A successful `SampleBatchTest -p 2 --processes 2 -d 1 -w 0 --profile`
/// run that writes its profiles to `directory`.
fn profiled_batches(directory: &TempDir) -> Output {
    systemperf("SampleBatchTest")
        .duration(1)
        .warmup(0)
        .parallel(2)
        .processes(2)
        .profile(directory)
        .ok()
}
