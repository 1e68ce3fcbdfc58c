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

/// The timeline lines with an ops/s (a last interval under 1 ms has none).
fn rated(timeline: &[Value]) -> u64 {
    timeline
        .iter()
        .filter(|line| line["operations_per_second"].is_number())
        .count() as u64
}

/// A chart over time: a position on the time axis per timeline line, and
/// `points` (per series) drawn.
#[track_caller]
fn assert_over_time(chart: &Value, timeline: &[Value], expected: &[u64]) {
    assert_eq!(chart["x"].as_u64(), Some(timeline.len() as u64), "{chart}");
    assert_eq!(points(chart), expected, "{chart}");
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
    let lines = timeline.len() as u64;
    assert!(lines >= 3, "{timeline:?}");
    assert_over_time(chart(&seen, "ops", Some(0)), &timeline, &[rated(&timeline)]);
    for name in ["cpu", "rss"] {
        assert_over_time(chart(&seen, name, Some(0)), &timeline, &[lines]);
    }
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
    let lines = timeline.len() as u64;
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
        let run_lines = timeline
            .iter()
            .filter(|line| line["latency_ms"].is_object());
        assert_over_time(
            chart(&seen, "ops", Some(index)),
            &timeline,
            &[rated(&timeline)],
        );
        assert_eq!(
            points(chart(&seen, "latency", Some(index))),
            vec![run_lines.count() as u64; 4]
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
