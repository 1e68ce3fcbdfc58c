//! The HTML report (`--report`, `systemperf report FILES... -o PATH`),
//! opened in headless Chromium by `scripts/check-report.js` (Chromium and
//! the pinned playwright-core from `scripts/install-chromium.sh`): no
//! script error, no request but the file itself, each chart with as many
//! points as the timeline holds, a screenshot that is not blank, and the
//! page's figures equal to the results file's.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What `scripts/check-report.js` saw of the page at `page`.
#[track_caller]
fn open_in_chromium(page: &Path) -> Value {
    let root = repository();
    assert!(
        root.join(".ci/.playwright/node_modules/playwright-core")
            .is_dir()
            && Path::new("/usr/bin/chromium").exists(),
        "the report tests need Chromium and playwright-core: run `bash scripts/install-chromium.sh`"
    );
    let output = Command::new("node")
        .arg(root.join("scripts/check-report.js"))
        .arg(page)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "check-report.js failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).expect("check-report.js prints JSON");
    assert_eq!(seen["errors"], serde_json::json!([]), "script errors");
    let url = seen["url"].as_str().unwrap();
    assert_eq!(
        seen["requests"],
        serde_json::json!([url]),
        "the page requests nothing but itself"
    );
    let screenshot = &seen["screenshot"];
    assert!(
        screenshot["ink"].as_f64().unwrap() > 0.02 && screenshot["colours"].as_u64().unwrap() > 8,
        "a blank screenshot: {screenshot}"
    );
    seen
}

fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("the timeline is written")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the results are written")).unwrap()
}

/// The chart `name` of run `run` (`None`: outside the runs' sections).
#[track_caller]
fn chart<'a>(seen: &'a Value, name: &str, run: Option<u64>) -> &'a Value {
    seen["charts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|chart| chart["name"] == name && chart["run"].as_u64() == run)
        .unwrap_or_else(|| panic!("no chart {name} of run {run:?}: {}", seen["charts"]))
}

fn seconds(line: &Value) -> f64 {
    line["end_seconds"].as_f64().unwrap() - line["start_seconds"].as_f64().unwrap()
}

/// The timeline's phases (the warm-up, the timed run or each iteration),
/// as the page tells them apart.
fn phases(timeline: &[Value]) -> Vec<Vec<&Value>> {
    let mut phases: Vec<Vec<&Value>> = Vec::new();
    for (index, line) in timeline.iter().enumerate() {
        let new_phase = index == 0 || {
            let previous = &timeline[index - 1];
            line["phase"] != previous["phase"]
                || line["iteration"] != previous["iteration"]
                || line["interval"].as_u64() <= previous["interval"].as_u64()
        };
        if new_phase {
            phases.push(Vec::new());
        }
        phases.last_mut().unwrap().push(line);
    }
    phases
}

/// The points the page draws of each phase: one per timeline line, but a
/// phase's last interval shorter than a quarter of the status interval
/// goes with the one before it. Each point: (operations, has an ops/s).
fn drawn(timeline: &[Value]) -> Vec<Vec<(u64, bool)>> {
    let step = timeline
        .iter()
        .filter(|line| line["final"] == false)
        .map(seconds)
        .fold(0.0, f64::max);
    phases(timeline)
        .into_iter()
        .map(|lines| {
            let mut points: Vec<(u64, bool)> = lines
                .iter()
                .map(|line| {
                    (
                        line["operations"].as_u64().unwrap(),
                        line["operations_per_second"].is_number(),
                    )
                })
                .collect();
            let last = lines.last().unwrap();
            if lines.len() > 1 && last["final"] == true && step > 0.0 && seconds(last) < step / 4.0
            {
                let (operations, _) = points.pop().unwrap();
                let before = points.last_mut().unwrap();
                *before = (before.0 + operations, true);
            }
            points
        })
        .collect()
}

/// How many points the page draws, and how many have an ops/s.
fn drawn_counts(timeline: &[Value]) -> (u64, u64) {
    let points: Vec<(u64, bool)> = drawn(timeline).into_iter().flatten().collect();
    (
        points.len() as u64,
        points.iter().filter(|(_, rated)| *rated).count() as u64,
    )
}

/// The points of the timeline with an ops/s.
fn rated(timeline: &[Value]) -> u64 {
    drawn_counts(timeline).1
}

/// A chart over time: a position on the time axis per point drawn of the
/// timeline, and `points` (per series) drawn.
#[track_caller]
fn assert_over_time(chart: &Value, timeline: &[Value], expected: &[u64]) {
    assert_eq!(
        chart["x"].as_u64(),
        Some(drawn_counts(timeline).0),
        "{chart}"
    );
    assert_eq!(points(chart), expected, "{chart}");
}

/// The chart's series `index` (0: the time axis).
fn column(chart: &Value, index: usize) -> Vec<Option<f64>> {
    chart["data"][index]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::as_f64)
        .collect()
}

fn points(chart: &Value) -> Vec<u64> {
    chart["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect()
}

/// The figure `field` of run `run` on the page equals the results file's
/// value (`pointer` in it), as data and as text (to its 4 digits).
#[track_caller]
fn assert_figure(seen: &Value, run: u64, field: &str, results: &Value, pointer: &str) {
    let expected = results
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} not in the results"));
    let figure = seen["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|figure| figure["field"] == field && figure["run"].as_u64() == Some(run))
        .unwrap_or_else(|| panic!("no figure {field}"));
    assert_eq!(
        figure["value"].as_f64(),
        Some(expected),
        "{field}: {figure}"
    );
    let text = figure["text"].as_str().unwrap();
    let shown: f64 = text
        .split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("{field}: {text}"));
    let scale = if text.contains(" %") && !field.contains("cpu") {
        100.0
    } else {
        1.0
    };
    assert!(
        (shown - expected * scale).abs() <= (expected * scale).abs() * 5e-4,
        "{field}: the page shows {text}, the results file {expected}"
    );
}

#[test]
fn a_run_with_latency_and_rate() {
    let _timing = timing_sensitive();
    let directory = TempDir::new("report-rate");
    let (page, results, timeline) = (
        directory.path().join("run.html"),
        directory.path().join("run.json"),
        directory.path().join("run.jsonl"),
    );
    let output = systemperf("SleepTest")
        .duration(2)
        .warmup(1)
        .parallel(2)
        .processes(1)
        .rate(40)
        .option("--initial-delay-ms", 10)
        .option("--report", page.display())
        .option("--test-results", results.display())
        .option("--timeline", timeline.display())
        .ok();
    assert!(
        output
            .stdout
            .contains(&format!("Report written to {}", page.display())),
        "{}",
        output.dump()
    );
    let (results, timeline) = (read_json(&results), lines_of(&timeline));
    let seen = open_in_chromium(&page);
    assert_eq!(seen["title"], "perfstress: SleepTest");
    // Every timeline line is a point of the charts over time (warm-up
    // and timed run).
    let lines = drawn_counts(&timeline).0;
    assert!(lines >= 3, "{timeline:?}");
    assert_over_time(chart(&seen, "ops", Some(0)), &timeline, &[rated(&timeline)]);
    for name in ["cpu", "rss"] {
        assert_over_time(chart(&seen, name, Some(0)), &timeline, &[lines]);
    }
    // With --rate the intervals hold service time.
    let latency_lines = timeline
        .iter()
        .filter(|line| line["latency_ms"].is_object())
        .count();
    assert!(latency_lines >= 2, "{timeline:?}");
    assert_eq!(
        points(chart(&seen, "latency", Some(0)))[0],
        latency_lines as u64
    );
    // The spectrum: service time and corrected latency, 50% .. 99.999%.
    let spectrum = results["latency"]["spectrum_ms"].as_array().unwrap().len() as u64;
    assert_eq!(spectrum, 12);
    assert_eq!(
        points(chart(&seen, "spectrum", Some(0))),
        vec![spectrum - 1, spectrum - 1]
    );
    for (field, pointer) in [
        ("operations_per_second", "/operations_per_second"),
        ("total_operations", "/total_operations"),
        ("latency.percentiles_ms.p99", "/latency/percentiles_ms/p99"),
        (
            "corrected_latency.percentiles_ms.p50",
            "/corrected_latency/percentiles_ms/p50",
        ),
        ("late_starts", "/late_starts"),
    ] {
        assert_figure(&seen, 0, field, &results, pointer);
    }
}

#[test]
fn a_stress_run_with_errors() {
    let _timing = timing_sensitive();
    let directory = TempDir::new("report-stress");
    let (page, results, timeline) = (
        directory.path().join("stress.html"),
        directory.path().join("stress.json"),
        directory.path().join("stress.jsonl"),
    );
    systemperf("StressSampleTest")
        .duration(2)
        .warmup(1)
        .processes(1)
        .arg("--continue-on-error")
        .option("--error-rate", "1%")
        .option("--error-kinds", "timeout,status")
        .option("--max-error-rate", "5%")
        .option("--test-results", results.display())
        .option("--timeline", timeline.display())
        .ok();
    // The page of the saved run equals the one of the run itself.
    runner()
        .arg("report")
        .arg(&results)
        .arg(&timeline)
        .option("-o", page.display())
        .ok();
    let (results, timeline) = (read_json(&results), lines_of(&timeline));
    let seen = open_in_chromium(&page);
    let errors = chart(&seen, "errors", Some(0));
    // One series per group, a point per timeline line each.
    let lines = drawn_counts(&timeline).0;
    assert_over_time(errors, &timeline, &[lines, lines]);
    assert_over_time(chart(&seen, "ops", Some(0)), &timeline, &[rated(&timeline)]);
    assert!(results["errors"]["total"].as_u64().unwrap() > 0);
    assert_figure(&seen, 0, "errors.total", &results, "/errors/total");
    assert_figure(&seen, 0, "errors.rate", &results, "/errors/rate");
    assert_figure(
        &seen,
        0,
        "operations_per_second",
        &results,
        "/operations_per_second",
    );
    let text = seen["text"].as_str().unwrap();
    for group in results["errors"]["groups"].as_array().unwrap() {
        assert!(text.contains(group["key"].as_str().unwrap()), "{group}");
    }
}

#[test]
fn two_runs_compared() {
    let _timing = timing_sensitive();
    let directory = TempDir::new("report-compare");
    let file = |name: &str| directory.path().join(name);
    // A quarter of the rate, over 3 iterations each: Welch's test over 2
    // and 2 was not significant when a loaded machine stretched one
    // iteration (CI saw "no change" for half the rate once).
    for (run, delay) in [("old", 10), ("new", 40)] {
        systemperf("SleepTest")
            .duration(1)
            .warmup(0)
            .processes(1)
            .latency()
            .option("--iterations", 3)
            .option("--initial-delay-ms", delay)
            .option("--test-results", file(&format!("{run}.json")).display())
            .option("--timeline", file(&format!("{run}.jsonl")).display())
            .ok();
    }
    let page = file("compared.html");
    let output = runner()
        .arg("report")
        .arg(file("old.json"))
        .arg(file("old.jsonl"))
        .arg(file("new.json"))
        .arg(file("new.jsonl"))
        .option("-o", page.display())
        .ok();
    assert!(
        output.stdout.contains("Report written to"),
        "{}",
        output.dump()
    );
    let seen = open_in_chromium(&page);
    assert!(
        seen["title"]
            .as_str()
            .unwrap()
            .contains("2 runs of SleepTest")
    );
    // A quarter of the rate: ops/s regressed, latency too (4 times as long).
    let verdicts: Vec<&str> = seen["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|verdict| verdict.as_str().unwrap())
        .collect();
    assert_eq!(verdicts.first(), Some(&"REGRESSED"), "{verdicts:?}");
    for (index, run) in ["old", "new"].iter().enumerate() {
        let timeline = lines_of(&file(&format!("{run}.jsonl")));
        let results = read_json(&file(&format!("{run}.json")));
        let index = index as u64;
        // No warm-up: every line has its latency (a 1 s iteration's last,
        // empty-length interval is drawn with the one before it).
        assert!(timeline.iter().all(|line| line["latency_ms"].is_object()));
        // Each iteration its own series, one after the other: x never goes
        // back.
        let ops = chart(&seen, "ops", Some(index));
        let iterations: Vec<u64> = drawn(&timeline)
            .iter()
            .map(|points| points.iter().filter(|(_, rated)| *rated).count() as u64)
            .collect();
        assert_over_time(ops, &timeline, &iterations);
        assert_eq!(
            ops["labels"],
            serde_json::json!(["iteration 1", "iteration 2", "iteration 3"])
        );
        assert_iterations_in_order(ops);
        assert_eq!(
            points(chart(&seen, "latency", Some(index))),
            vec![drawn_counts(&timeline).0; 4]
        );
        assert_eq!(points(chart(&seen, "iterations", Some(index)))[0], 3);
        assert_figure(
            &seen,
            index,
            "operations_per_second",
            &results,
            "/operations_per_second",
        );
        assert_figure(
            &seen,
            index,
            "iteration_statistics.operations_per_second.mean",
            &results,
            "/iteration_statistics/operations_per_second/mean",
        );
    }
    let compared = chart(&seen, "ops-compared", None);
    assert_eq!(points(compared).len(), 2);
}

/// The chart's x ascends, and each series' points come after those of
/// the series before it (the iterations, in the order they ran).
#[track_caller]
fn assert_iterations_in_order(chart: &Value) {
    let x: Vec<f64> = column(chart, 0).into_iter().map(Option::unwrap).collect();
    assert!(
        x.windows(2).all(|pair| pair[0] < pair[1]),
        "x goes back: {x:?}"
    );
    let mut last_end = f64::NEG_INFINITY;
    for series in 1..chart["data"].as_array().unwrap().len() {
        let at: Vec<f64> = column(chart, series)
            .iter()
            .zip(&x)
            .filter(|(value, _)| value.is_some())
            .map(|(_, x)| *x)
            .collect();
        assert!(
            !at.is_empty() && at[0] > last_end,
            "series {series}: {at:?}"
        );
        last_end = *at.last().unwrap();
    }
}

#[test]
fn each_process_has_its_series_and_a_short_last_interval_folds() {
    let _timing = timing_sensitive();
    let directory = TempDir::new("report-processes");
    let (page, results, timeline) = (
        directory.path().join("run.html"),
        directory.path().join("run.json"),
        directory.path().join("run.jsonl"),
    );
    // Ticks at 0.666, 1.332 and 1.998 s: the timed run's last interval is
    // 2 ms long (the warm-up's, 0.334 s, is not short).
    systemperf("SleepTest")
        .duration(2)
        .warmup(1)
        .parallel(3)
        .processes(2)
        .option("--initial-delay-ms", 10)
        .option("--status-interval", 0.666)
        .option("--report", page.display())
        .option("--test-results", results.display())
        .option("--timeline", timeline.display())
        .ok();
    let (results, timeline) = (read_json(&results), lines_of(&timeline));
    // The timeline: each process's operations, adding up to the interval's.
    for line in &timeline {
        let processes: Vec<u64> = line["process_operations"]
            .as_array()
            .unwrap_or_else(|| panic!("{line}"))
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        assert_eq!(processes.len(), 2, "{line}");
        assert_eq!(
            processes.iter().sum::<u64>(),
            line["operations"].as_u64().unwrap(),
            "{line}"
        );
    }
    let run: Vec<&Value> = timeline
        .iter()
        .filter(|line| line["phase"] == "run")
        .collect();
    let last = run.last().unwrap();
    assert!(last["final"] == true && seconds(last) < 0.01, "{last}");
    let timed: u64 = run
        .iter()
        .map(|line| line["operations"].as_u64().unwrap())
        .sum();
    assert_eq!(Some(timed), results["total_operations"].as_u64());

    let seen = open_in_chromium(&page);
    let ops = chart(&seen, "ops", Some(0));
    assert_eq!(
        ops["labels"],
        serde_json::json!(["all processes", "process 1", "process 2"])
    );
    // The timed run's last interval is drawn with the one before it.
    let (count, rated) = drawn_counts(&timeline);
    assert_eq!(count, timeline.len() as u64 - 1);
    assert_over_time(ops, &timeline, &[rated, rated, rated]);
    // On the page too the processes add up to the total, at every point.
    let (total, first, second) = (column(ops, 1), column(ops, 2), column(ops, 3));
    for index in 0..total.len() {
        if let Some(total) = total[index] {
            let sum = first[index].unwrap() + second[index].unwrap();
            assert!(
                (sum - total).abs() <= total * 1e-9,
                "{index}: {sum} vs {total}"
            );
        }
    }
    // The folded point: the phase's end, its ops/s over both intervals,
    // not the 2 ms interval's alone.
    let x = column(ops, 0);
    let end = x.last().unwrap().unwrap();
    assert!(
        (end - 3.0).abs() < 1e-9,
        "warm-up 1 s, then the 2 s run: {end}"
    );
    let before = run[run.len() - 2];
    let both = before["operations"].as_u64().unwrap() + last["operations"].as_u64().unwrap();
    let rate = total.last().unwrap().unwrap();
    assert!(
        (rate - both as f64 / (2.0 - 1.332)).abs() < 1e-6,
        "{rate}, {both} operations over 0.668 s"
    );
    // The page's count of the timed run's operations is the results'.
    assert_eq!(
        ops["operations"].as_u64(),
        results["total_operations"].as_u64()
    );
    assert!(
        seen["text"].as_str().unwrap().contains(&format!(
            "The timed run's intervals hold {timed} operations"
        )),
        "{}",
        seen["text"]
    );
    assert_figure(&seen, 0, "total_operations", &results, "/total_operations");
    // Three RSS samples in the timed run: the leak slope is drawn over it,
    // with the results' slope.
    let slope = results["memory_growth_bytes_per_minute"]
        .as_f64()
        .expect("a slope of 3 samples");
    let rss = chart(&seen, "rss", Some(0));
    assert_eq!(rss["labels"], serde_json::json!(["RSS", "leak slope"]));
    let line: Vec<(f64, f64)> = column(rss, 0)
        .into_iter()
        .zip(column(rss, 2))
        .filter_map(|(x, y)| Some((x?, y?)))
        .collect();
    assert_eq!(
        line.len(),
        drawn(&timeline)[1].len(),
        "the timed run's points"
    );
    let (first, last) = (line[0], line[line.len() - 1]);
    let drawn_slope = (last.1 - first.1) / (last.0 - first.0) * 60.0 * 1048576.0;
    assert!(
        (drawn_slope - slope).abs() <= slope.abs() * 1e-6 + 1e-6,
        "{drawn_slope} vs {slope}"
    );
}

#[test]
fn report_refuses_files_it_cannot_place() {
    let directory = TempDir::new("report-usage");
    let timeline = directory.path().join("t.jsonl");
    std::fs::write(&timeline, "{\"phase\":\"run\",\"interval\":0}\n").unwrap();
    let page = directory.path().join("page.html");
    let output = runner()
        .arg("report")
        .arg(&timeline)
        .option("-o", page.display())
        .outcome(Outcome::Usage);
    assert!(
        output
            .stderr
            .contains("give the run's --test-results file before it"),
        "{}",
        output.dump()
    );
    let other = directory.path().join("notes.txt");
    std::fs::write(&other, "not a run\n").unwrap();
    let output = runner()
        .arg("report")
        .arg(&other)
        .option("-o", page.display())
        .outcome(Outcome::Usage);
    assert!(
        output
            .stderr
            .contains("neither a --test-results file nor a --timeline file"),
        "{}",
        output.dump()
    );
    let output = runner().arg("report").arg(&other).outcome(Outcome::Usage);
    assert!(output.stderr.contains("--output"), "{}", output.dump());
    assert!(!page.exists(), "nothing is written on bad input");
}
