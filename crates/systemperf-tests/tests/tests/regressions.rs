//! Catching regressions: `--iterations`, `--save-baseline` / `--baseline`,
//! `compare`, `--markdown`. SleepTest's rate is known (one operation per
//! delay), so a slower delay is a known slowdown.

use crate::common::*;

/// SleepTest with `delay_ms` operations, one instance, in this process,
/// `iterations` timed runs of `seconds` after no warm-up.
fn sleep(delay_ms: u32, iterations: usize, seconds: f64) -> Run {
    systemperf("SleepTest")
        .option("--initial-delay-ms", delay_ms)
        .duration(seconds)
        .warmup(0)
        .processes(1)
        .option("--iterations", iterations)
}

/// The cells of the `ops/s` row of a comparison table on stdout.
fn ops_row(output: &Output) -> Vec<String> {
    let line = output
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("=== Comparison: "))
        .find(|line| line.trim_start().starts_with("ops/s") && line.contains('%'))
        .unwrap_or_else(|| panic!("no ops/s comparison row\n{}", output.dump()));
    line.split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `-9.09% [-9.5%, -8.7%]` -> (-9.09, -9.5, -8.7).
fn change(cell: &str) -> (f64, f64, f64) {
    let numbers: Vec<f64> = cell
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().unwrap())
        .collect();
    match numbers[..] {
        [change, low, high] => (change, low, high),
        _ => panic!("not a change with its interval: {cell}"),
    }
}

#[test]
fn iterations_are_each_printed_kept_and_summarised() {
    let _timing = timing_sensitive();
    let results = TempPath::new("iterations");
    let markdown = TempPath::new("iterations-md");
    let output = sleep(10, 3, 0.3)
        .latency()
        .results(&results)
        .option("--markdown", markdown.arg())
        .ok();
    // Each iteration has its results line (and latency table) after the
    // one Tests header.
    let lines: Vec<&str> = output.stdout.lines().collect();
    let completed = lines
        .iter()
        .filter(|line| line.starts_with("Completed "))
        .count();
    assert_eq!(completed, 3, "{}", output.dump());
    assert!(lines.contains(&"Iteration 3 of 3"), "{}", output.dump());
    assert_eq!(
        output
            .stages()
            .iter()
            .filter(|stage| **stage == "=== Tests ===")
            .count(),
        1
    );
    assert_eq!(output.section("Warmup").len(), 0, "no warm-up asked for");
    // The iterations table and the statistics.
    let table = output.section("Iterations");
    assert!(
        table
            .iter()
            .any(|line| line.trim_start().starts_with("iteration") && line.contains("p99 ms")),
        "{}",
        output.dump()
    );
    let statistics = table
        .iter()
        .find(|line| line.trim_start().starts_with("ops/s ") && line.contains(".."))
        .unwrap_or_else(|| panic!("no statistics row\n{}", output.dump()));
    assert!(
        statistics.ends_with('%'),
        "the CV closes the row: {statistics}"
    );
    assert!(
        table
            .iter()
            .any(|line| line.trim_start().starts_with("p99 ms")),
        "latency percentiles have statistics too\n{}",
        output.dump()
    );

    let json = results.json();
    // PerfAutomation's fields as they are.
    assert_eq!(json["test_name"], "SleepTest");
    assert!(json["operations_per_second"].is_f64());
    assert!(json["average_memory_use"].is_u64() || json["average_memory_use"].is_null());
    let iterations = json["iterations"].as_array().unwrap();
    assert_eq!(iterations.len(), 3);
    let mut rates = Vec::new();
    for iteration in iterations {
        let rate = iteration["operations_per_second"].as_f64().unwrap();
        assert_close(rate, 100.0, 0.15, "each iteration's ops/s");
        assert!(iteration["latency_ms"]["p99"].as_f64().unwrap() >= 10.0);
        rates.push(rate);
    }
    let statistics = &json["iteration_statistics"]["operations_per_second"];
    let mean = rates.iter().sum::<f64>() / 3.0;
    assert!((statistics["mean"].as_f64().unwrap() - mean).abs() < 1e-9);
    assert_eq!(statistics["count"], 3);
    let (low, high) = (
        statistics["ci_low"].as_f64().unwrap(),
        statistics["ci_high"].as_f64().unwrap(),
    );
    assert!(low <= mean && mean <= high, "{statistics}");
    assert!(json["iteration_statistics"]["latency_ms"]["p50"]["mean"].is_f64());
    // The pooled figure: 3 x 0.3 s of 10 ms operations.
    assert_close(
        json["total_operations"].as_f64().unwrap(),
        90.0,
        0.15,
        "operations",
    );
    let environment = &json["environment"];
    assert!(
        environment["rustc_version"]
            .as_str()
            .unwrap()
            .starts_with("rustc ")
    );
    assert!(environment["cpu_cores"].as_u64().unwrap() >= 1);
    assert!(
        environment["suite"]
            .as_str()
            .unwrap()
            .starts_with("systemperf ")
    );

    let markdown = std::fs::read_to_string(markdown.path()).unwrap();
    assert!(markdown.starts_with("## SleepTest"), "{markdown}");
    assert!(markdown.contains("### Iterations"), "{markdown}");
    assert!(markdown.contains("| 3 |"), "{markdown}");
}

#[test]
fn a_slower_sleep_is_flagged_as_a_nine_percent_regression() {
    let _timing = timing_sensitive();
    let baselines = TempDir::new("baselines");
    // 10 ms operations vs 11 ms: 100 ops/s vs 90.9, a change of -9.09%.
    retry_timing(|| {
        for (delay, name) in [(10, "old"), (11, "new")] {
            sleep(delay, 5, 0.4)
                .option("--baseline-dir", baselines.arg())
                .option("--save-baseline", name)
                .ok();
        }
        let output = runner()
            .args(["compare", "old", "new", "--baseline-dir", baselines.arg()])
            .ok();
        // Options differ: named in a warning above the comparison.
        expect(
            output.stderr.contains("warning: the runs' options differ")
                && output
                    .stderr
                    .contains("--initial-delay-ms 10 vs --initial-delay-ms 11"),
            || format!("no warning\n{}", output.dump()),
        )?;
        let row = ops_row(&output);
        expect(row.last().map(String::as_str) == Some("REGRESSED"), || {
            format!("{row:?}\n{}", output.dump())
        })?;
        let (change, low, high) = change(&row[3]);
        within(change, -9.09, 0.25, "the change in percent")?;
        expect(low < change && change < high && high < 0.0, || {
            format!("the interval [{low}, {high}] must hold {change} and exclude 0")
        })?;
        Ok(())
    });
    // A gate: the regression exits 3.
    let output = runner()
        .args(["compare", "old", "new", "--fail-on-regression"])
        .option("--baseline-dir", baselines.arg())
        .outcome(Outcome::GateFailed);
    assert!(
        output.stderr.contains("regressed (exit code 3)"),
        "{}",
        output.dump()
    );
    // NEW relative to OLD: the other way round it is an improvement.
    let output = runner()
        .args(["compare", "new", "old", "--fail-on-regression"])
        .option("--baseline-dir", baselines.arg())
        .ok();
    assert_eq!(ops_row(&output).last().unwrap(), "improved");
    // --strict refuses different options, with the reason.
    let output = runner()
        .args(["compare", "old", "new", "--strict"])
        .option("--baseline-dir", baselines.arg())
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("--strict")
            && output
                .stderr
                .contains("--initial-delay-ms 10 vs --initial-delay-ms 11"),
        "{}",
        output.dump()
    );
}

#[test]
fn identical_runs_give_at_most_one_false_verdict_in_twenty() {
    let _timing = timing_sensitive();
    let baselines = TempDir::new("identical");
    let mut false_verdicts = Vec::new();
    for pair in 0..20 {
        for side in ["a", "b"] {
            sleep(5, 3, 0.1)
                .option("--baseline-dir", baselines.arg())
                .option("--save-baseline", format!("{side}{pair}"))
                .ok();
        }
        let output = runner()
            .args(["compare", &format!("a{pair}"), &format!("b{pair}")])
            .option("--baseline-dir", baselines.arg())
            .ok();
        assert!(!output.stderr.contains("warning"), "{}", output.dump());
        let row = ops_row(&output);
        if row.last().map(String::as_str) != Some("no change") {
            false_verdicts.push(row);
        }
    }
    assert!(false_verdicts.len() <= 1, "{false_verdicts:?}");
}

#[test]
fn a_baseline_is_read_back_exactly_and_gates_a_run() {
    let _timing = timing_sensitive();
    let baselines = TempDir::new("exact");
    let results = TempPath::new("exact");
    let output = sleep(10, 3, 0.2)
        .latency()
        .results(&results)
        .option("--baseline-dir", baselines.arg())
        .option("--save-baseline", "main")
        .ok();
    let saved = output
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Baseline main saved to "))
        .unwrap_or_else(|| panic!("{}", output.dump()))
        .to_owned();
    assert!(saved.starts_with(baselines.arg()) && saved.contains("/main/SleepTest/p1-async-"));
    let baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let json = results.json();
    // The same figures, bit for bit, in both files.
    assert_eq!(baseline["iterations"], json["iterations"]);
    assert_eq!(
        baseline["operations_per_second"],
        json["operations_per_second"]
    );
    assert_eq!(baseline["environment"], json["environment"]);
    assert_eq!(baseline["format"], "perfstress-baseline");
    assert!(baseline["latency_histogram"].as_str().unwrap().len() > 20);
    // Read back: compared with itself, exactly nothing changed.
    let output = runner()
        .args(["compare", &saved, "main"])
        .option("--baseline-dir", baselines.arg())
        .ok();
    let row = ops_row(&output);
    let (change, low, high) = change(&row[3]);
    assert_eq!(change, 0.0, "{}", output.dump());
    assert!(low < 0.0 && high > 0.0, "{row:?}");
    assert_eq!(row[4], "1.0000");
    assert_eq!(row[5], "no change");
    // A results file compares too.
    runner()
        .args(["compare", results.arg(), "main"])
        .option("--baseline-dir", baselines.arg())
        .ok();

    // --baseline compares a run with it; a baseline 20% faster than this
    // run makes this run a regression, and --fail-on-regression exits 3.
    // (Without the gate: on a loaded machine an iteration of this run may
    // fall behind its schedule, a real slowdown.)
    let output = sleep(10, 3, 0.2)
        .latency()
        .option("--baseline-dir", baselines.arg())
        .option("--baseline", "main")
        .ok();
    assert!(
        output.stdout.contains("this run vs baseline main"),
        "{}",
        output.dump()
    );
    let mut faster = baseline.clone();
    for iteration in faster["iterations"].as_array_mut().unwrap() {
        let rate = iteration["operations_per_second"].as_f64().unwrap();
        iteration["operations_per_second"] = (rate * 1.2).into();
    }
    std::fs::write(&saved, serde_json::to_string(&faster).unwrap()).unwrap();
    let markdown = TempPath::new("gate-md");
    let results = TempPath::new("gate-results");
    let output = sleep(10, 3, 0.2)
        .latency()
        .results(&results)
        .option("--baseline-dir", baselines.arg())
        .option("--baseline", "main")
        .arg("--fail-on-regression")
        .option("--markdown", markdown.arg())
        .outcome(Outcome::GateFailed);
    assert_eq!(ops_row(&output).last().unwrap(), "REGRESSED");
    // The numbers are still written, with the comparison.
    assert_eq!(
        results.json()["comparison"]["metrics"][0]["verdict"],
        "regressed"
    );
    let markdown = std::fs::read_to_string(markdown.path()).unwrap();
    assert!(
        markdown.contains("this run vs baseline main") && markdown.contains("| REGRESSED |"),
        "{markdown}"
    );
}

#[test]
fn bad_baselines_and_comparisons_are_usage_errors() {
    let baselines = TempDir::new("bad");
    let results = TempPath::stale("bad");
    // No such baseline: refused before any setup, naming what is there.
    let output = sleep(10, 2, 0.1)
        .results(&results)
        .option("--baseline-dir", baselines.arg())
        .option("--baseline", "main")
        .outcome(Outcome::Usage);
    assert!(
        output
            .stderr
            .contains("--baseline main: no baseline of SleepTest")
            && output.stderr.contains("save one with --save-baseline"),
        "{}",
        output.dump()
    );
    assert!(
        !output.stdout.contains("=== Setup ==="),
        "{}",
        output.dump()
    );
    assert!(!results.exists(), "the stale results file is removed");
    for (args, message) in [
        (vec!["--iterations", "0"], "--iterations"),
        (vec!["--save-baseline", "../up"], "a baseline name is"),
        (vec!["--fail-on-regression"], "--baseline"),
        (vec!["--noise-threshold", "-1"], "a percentage"),
    ] {
        let output = sleep(10, 1, 0.1).args(args.clone()).outcome(Outcome::Usage);
        assert!(
            output.stderr.contains(message),
            "{args:?}\n{}",
            output.dump()
        );
    }
    // Different tests never compare.
    sleep(10, 2, 0.1)
        .option("--baseline-dir", baselines.arg())
        .option("--save-baseline", "sleep")
        .ok();
    systemperf("NoOpTest")
        .duration(0.1)
        .warmup(0)
        .processes(1)
        .option("--iterations", 2)
        .option("--baseline-dir", baselines.arg())
        .option("--save-baseline", "noop")
        .ok();
    let output = runner()
        .args(["compare", "sleep", "noop"])
        .option("--baseline-dir", baselines.arg())
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("SleepTest")
            && output.stderr.contains("only runs of the same test compare"),
        "{}",
        output.dump()
    );
    let output = runner()
        .args(["compare", "sleep", "nothing-here"])
        .option("--baseline-dir", baselines.arg())
        .outcome(Outcome::Usage);
    assert!(
        output
            .stderr
            .contains("'nothing-here' is neither a file nor a baseline")
            && output.stderr.contains("saved: noop, sleep"),
        "{}",
        output.dump()
    );
    // A runs from another machine: a warning, and refused with --strict.
    let saved = baselines.path().join("sleep");
    let file = std::fs::read_dir(saved.join("SleepTest"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    other["environment"]["cpu_model"] = "Imaginary CPU 9000".into();
    other["environment"]["cpu_cores"] = 64.into();
    let elsewhere = TempPath::new("elsewhere");
    std::fs::write(elsewhere.path(), other.to_string()).unwrap();
    let output = runner()
        .args(["compare", elsewhere.arg(), "sleep"])
        .option("--baseline-dir", baselines.arg())
        .ok();
    assert!(
        output.stderr.contains("different machines")
            && output.stderr.contains("Imaginary CPU 9000"),
        "{}",
        output.dump()
    );
    let output = runner()
        .args(["compare", elsewhere.arg(), "sleep", "--strict"])
        .option("--baseline-dir", baselines.arg())
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("--strict") && output.stderr.contains("64 vs"),
        "{}",
        output.dump()
    );
}
