//! Event tests (`SampleEventTest`): events counted from an event source
//! instead of a run loop, only during warm-up and the timed run, with the
//! same results math and status lines; `error_raised` failing the run;
//! `--latency` and `--rate` rejected.

use std::time::Duration;

use crate::common::*;

/// `SampleEventTest --partitions 4 --max-events-per-second 400 -w 1 -d 2`
/// in `processes` processes with `parallel` instances: each instance has a
/// source of its own, so the rate is `400 * parallel`.
fn check_rate_limited(sync: bool, parallel: usize, processes: usize) {
    let _timing = timing_sensitive();
    retry_timing(|| rate_limited_attempt(sync, parallel, processes));
}

fn rate_limited_attempt(sync: bool, parallel: usize, processes: usize) -> Result<(), String> {
    let results = TempPath::stale("events-rate");
    let output = systemperf("SampleEventTest")
        .option("--partitions", 4)
        .option("--max-events-per-second", 400)
        .parallel(parallel)
        .processes(processes)
        .duration(2)
        .warmup(1)
        .results(&results)
        .sync(sync)
        .ok();
    assert_eq!(output.stderr, "", "a successful run writes no diagnostics");
    let dump = output.dump();

    let options = output.section("Options");
    let variant = if sync { "sync" } else { "async" };
    assert_eq!(
        options.first().copied(),
        Some(
            format!(
                "SampleEventTest  duration 2 s, warm-up 1 s, parallel {parallel} over {}, {variant}",
                processes_text(processes)
            )
            .as_str()
        ),
        "{dump}"
    );
    assert_eq!(
        options.get(1).copied(),
        Some("  --partitions 4  --max-events-per-second 400"),
        "{dump}"
    );

    let rate = 400.0 * parallel as f64;
    // Status lines: once a second in both phases, the columns add up, at
    // the source's rate; then the results line.
    for (stage, seconds) in [("Warmup", 1), ("Tests", 2)] {
        for line in output.timed_status_lines(stage, seconds) {
            within(line.current as f64, rate, 0.03, "events in one second")?;
            within(line.average, rate, 0.03, "status average")?;
        }
        let results = output.results(stage);
        // Only this phase's events: a second's worth per second of phase.
        within(
            results.total as f64,
            rate * seconds as f64,
            0.03,
            &format!("{stage} total"),
        )?;
    }

    let line = output.results("Tests");
    within(
        line.operations_per_second,
        rate,
        0.03,
        "ops/s of the results line",
    )?;
    assert_close(
        line.weighted_average_seconds,
        line.total as f64 / line.operations_per_second,
        0.001,
        "weighted-average = total / ops/s",
    );

    let json = results.json();
    assert_eq!(json["test_name"], "SampleEventTest");
    assert_eq!(json["parallel"], parallel);
    assert_eq!(json["processes"], processes);
    assert_eq!(json["sync"], sync);
    let test_options = json["test_options"].as_array().expect("test_options");
    assert!(
        test_options.contains(&serde_json::json!("--partitions 4"))
            && test_options.contains(&serde_json::json!("--max-events-per-second 400")),
        "{json}"
    );
    let ops = json["operations_per_second"]
        .as_f64()
        .expect("ops/s is a number");
    within(ops, rate, 0.03, "operations_per_second of the results file")?;
    assert_close(
        ops,
        line.operations_per_second,
        0.0005,
        "file vs line ops/s",
    );
    assert_eq!(
        json["total_operations"].as_u64(),
        Some(line.total),
        "{json}"
    );
    assert!(
        json.get("latency").is_none(),
        "no latency for events: {json}"
    );

    // Per instance: 400 events a second for 2 s; the last one before the
    // deadline; the rate is the sum of the instances' rates.
    let instances = json["instances"].as_array().expect("instances");
    assert_eq!(instances.len(), parallel, "{json}");
    let mut sum_of_rates = 0.0;
    for (index, instance) in instances.iter().enumerate() {
        assert_eq!(instance["parallel_index"], index, "{json}");
        let completed = instance["completed_operations"].as_u64().unwrap();
        let last = instance["last_completion_seconds"].as_f64().unwrap();
        within(completed as f64, 800.0, 0.01, "events of one instance")?;
        expect((1.95..=2.005).contains(&last), || {
            format!("instance {index}: last event at {last} s\n{json}")
        })?;
        sum_of_rates += completed as f64 / last;
    }
    assert_close(ops, sum_of_rates, 1e-9, "ops/s = sum of per-instance rates");
    Ok(())
}

#[test]
fn rate_limited_events_async() {
    check_rate_limited(false, 1, 1);
}

#[test]
fn rate_limited_events_sync() {
    check_rate_limited(true, 1, 1);
}

/// Each of the two worker processes has an instance with a 400/s source of
/// its own: 800 events/s together, merged by the parent.
#[test]
fn rate_limited_events_two_processes() {
    check_rate_limited(false, 2, 2);
}

/// A 400/s source: with `-w 0 -d 1` the timed run counts a second of events
/// (not those raised between the start of the source and the run, nor
/// after the deadline); with `-w 1 -d 1` the warm-up's events are not
/// carried over into the timed run.
#[test]
fn events_outside_the_timed_phases_are_not_counted() {
    let _timing = timing_sensitive();
    retry_timing(|| outside_phases_attempt(false, true));
    retry_timing(|| outside_phases_attempt(true, false));
}

fn outside_phases_attempt(warmup: bool, sync: bool) -> Result<(), String> {
    let results = TempPath::new("events-outside");
    let output = systemperf("SampleEventTest")
        .option("--partitions", 4)
        .option("--max-events-per-second", 400)
        .processes(1)
        .duration(1)
        .warmup(if warmup { 1 } else { 0 })
        .results(&results)
        .sync(sync)
        .ok();
    let dump = output.dump();
    if warmup {
        let results = output.results("Warmup");
        expect((392..=404).contains(&results.total), || {
            format!("a second of warm-up is 400 events, got {results:?}\n{dump}")
        })?;
    } else {
        assert!(
            !output.stages().contains(&"=== Warmup ==="),
            "no warm-up stage with -w 0\n{dump}"
        );
    }
    // 4 partitions x 100 events in the second (one more per partition if
    // its schedule falls exactly on the start), never 800.
    let line = output.results("Tests");
    expect((392..=404).contains(&line.total), || {
        format!("a second of events is 400, got {line:?}\n{dump}")
    })?;
    let json = results.json();
    assert_eq!(
        json["total_operations"].as_u64(),
        Some(line.total),
        "{json}"
    );
    let last = json["instances"][0]["last_completion_seconds"]
        .as_f64()
        .expect("last_completion_seconds");
    expect((0.98..=1.005).contains(&last), || {
        format!("the last counted event is at {last} s, after the 1 s deadline\n{json}")
    })?;
    Ok(())
}

/// An unthrottled source (8 partitions, as fast as they can): the counts
/// and the results math hold however many events arrive, in one process
/// with two instances.
#[test]
fn unthrottled_events() {
    let _cpu = cpu_saturating();
    let results = TempPath::new("events-unthrottled");
    let output = systemperf("SampleEventTest")
        .parallel(2)
        .processes(1)
        .duration(1)
        .warmup(0)
        .results(&results)
        .ok();
    let dump = output.dump();
    assert_eq!(
        output.section("Options").get(1).copied(),
        Some("  --partitions 8"),
        "{dump}"
    );
    let line = output.results("Tests");
    assert!(
        line.total > 10_000,
        "a busy source raises many events\n{dump}"
    );
    let lines = status_lines(&output.section("Tests"));
    assert_eq!(lines.len(), 1, "{dump}");
    assert!(line.total >= lines[0].total, "{dump}");

    let json = results.json();
    assert_eq!(
        json["total_operations"].as_u64(),
        Some(line.total),
        "{json}"
    );
    let ops = json["operations_per_second"].as_f64().unwrap();
    let mut total = 0;
    let mut sum_of_rates = 0.0;
    for instance in json["instances"].as_array().expect("instances") {
        let completed = instance["completed_operations"].as_u64().unwrap();
        let last = instance["last_completion_seconds"].as_f64().unwrap();
        assert!(completed > 0 && last > 0.5, "{json}");
        total += completed;
        sum_of_rates += completed as f64 / last;
    }
    assert_eq!(total, line.total, "{json}");
    assert_close(ops, sum_of_rates, 1e-9, "ops/s = sum of per-instance rates");
}

/// Events count only until the deadline: an unthrottled source keeps
/// raising events after it (until the source is stopped before cleanup),
/// and none of those may count, so the last counted event is at most the
/// duration after the start.
#[test]
fn events_after_the_deadline_are_not_counted() {
    let _cpu = cpu_saturating();
    for sync in [true, false] {
        let results = TempPath::new("events-deadline");
        systemperf("SampleEventTest")
            .processes(1)
            .duration(1)
            .warmup(0)
            .results(&results)
            .sync(sync)
            .ok();
        let json = results.json();
        let last = json["instances"][0]["last_completion_seconds"]
            .as_f64()
            .expect("last_completion_seconds");
        assert!(
            last <= 1.001,
            "sync {sync}: an event {:.1} ms after the deadline was counted\n{json}",
            (last - 1.0) * 1000.0
        );
    }
}

/// `--error-after-seconds 1` in a 10 s run: the source's `error_raised`
/// fails the run after about a second (exit 1), named on stderr with the
/// test, index and message; cleanup still runs; no results file, not even
/// a stale one.
fn check_error_after_seconds(extra: &[&str], parallel: usize) {
    let results = TempPath::stale("events-error");
    let output = systemperf("SampleEventTest")
        .option("--partitions", 2)
        .option("--max-events-per-second", 100)
        .option("--error-after-seconds", 1)
        .duration(10)
        .warmup(0)
        .results(&results)
        .args(extra)
        .fails();
    let dump = output.dump();
    assert!(
        output.elapsed >= Duration::from_millis(900) && output.elapsed < Duration::from_secs(3),
        "the error comes after about a second, and stops the run promptly\n{dump}"
    );
    let errors: Vec<&str> = output
        .stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    // Each instance's source fails; at least the first is reported.
    assert!(
        (1..=parallel).contains(&errors.len()),
        "one error per failing instance at most\n{dump}"
    );
    for error in &errors {
        assert!(
            error.starts_with("error: SampleEventTest (parallel index ")
                && error.contains(") failed in run: ")
                && error.contains("error-after-seconds"),
            "{error:?} should name the test, index, phase and cause\n{dump}"
        );
    }
    output.assert_failure_reported();
    // The events before the failure are reported, not as a success.
    let line = output.results("Tests");
    assert!(line.total > 0, "{dump}");
    assert!(!output.stdout.contains("Results written"), "{dump}");
    assert!(
        !results.exists(),
        "the stale results file was removed\n{dump}"
    );
}

#[test]
fn error_raised_fails_the_run_async() {
    let _timing = timing_sensitive();
    check_error_after_seconds(&["--processes", "1"], 1);
}

/// Two worker processes with a source each; the failure crosses to the
/// parent, which stops and cleans up both.
#[test]
fn error_raised_fails_the_run_sync_two_processes() {
    let _timing = timing_sensitive();
    check_error_after_seconds(&["--sync", "-p", "2", "--processes", "2"], 2);
}

/// An error raised during the warm-up fails the run there: no timed run.
#[test]
fn error_raised_during_warmup() {
    let _timing = timing_sensitive();
    let output = systemperf("SampleEventTest")
        .option("--partitions", 2)
        .option("--max-events-per-second", 100)
        .option("--error-after-seconds", 0.5)
        .processes(1)
        .warmup(5)
        .duration(5)
        .fails();
    let dump = output.dump();
    assert!(output.elapsed < Duration::from_secs(3), "{dump}");
    assert!(
        output
            .stderr
            .contains("error: SampleEventTest (parallel index 0) failed in warm-up: "),
        "{dump}"
    );
    let stages = output.stages();
    assert!(!stages.contains(&"=== Tests ==="), "{dump}");
    assert!(stages.contains(&"=== Cleanup ==="), "{dump}");
}

/// `--latency` and `--rate` time and pace operations; an event test has
/// none: a usage error that says why, before anything runs.
#[test]
fn latency_and_rate_are_usage_errors_for_event_tests() {
    for extra in [
        &["--latency"][..],
        &["-l"],
        &["--rate", "10"],
        &["-r", "10", "--latency"],
        &["--latency", "-p", "2", "--processes", "2"],
    ] {
        let results = TempPath::stale("events-usage");
        let output = systemperf("SampleEventTest")
            .duration(1)
            .warmup(0)
            .results(&results)
            .args(extra)
            .outcome(Outcome::Usage);
        let dump = output.dump();
        assert!(
            output.stderr.contains("SampleEventTest is an event test"),
            "{extra:?}: the error says why\n{dump}"
        );
        assert!(
            !output.stdout.contains("=== Setup ==="),
            "{extra:?}: nothing runs\n{dump}"
        );
        assert!(
            results.exists(),
            "{extra:?}: a usage error touches no file\n{dump}"
        );
    }
}
