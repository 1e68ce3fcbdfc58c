//! The console: the family's text report on stdout (options, stage
//! headers, status lines, results, latency tables) and diagnostics on
//! stderr.

use std::io::Write;

use crate::error::Error;
use crate::failure::Failure;
use crate::metrics::{
    Iterations, Lagging, PhaseEnd, PhaseResults, PhaseSummary, RunSummary, StatusSample,
};
use crate::phase::Phase;
use crate::plan::{LATE_START_THRESHOLD, Plan};
use crate::redact::redact_text;
use crate::threshold::Metric;

use super::comparison::{comparison_lines, iteration_lines};
use super::format::{format_count, format_significant};
use super::latency::{clock_resolution_line, latency_table};
use super::reporter::Reporter;

/// A measured figure of `metric` (in its base unit) with its unit.
pub(crate) fn format_measured(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Latency(_) => {
            super::latency::format_latency(std::time::Duration::from_secs_f64(value))
        }
        Metric::Rss => format!("{} MiB", format_significant(value / (1024.0 * 1024.0))),
        Metric::Cpu => format!("{} %", format_significant(value)),
        Metric::ErrorRate => format!("{} %", format_significant(value * 100.0)),
        Metric::OperationsPerSecond => format!("{} ops/s", format_significant(value)),
        Metric::Operations => format_count(value as u64),
    }
}

/// Entries of a `--results-file` past which PerfAutomation (which reads it
/// into one string) is in trouble.
const RESULTS_FILE_ENTRIES_LIMIT: u64 = 30_000_000;
/// Bytes of one entry, about: `{"Time":0.0123,"Size":-1},`.
const RESULTS_FILE_ENTRY_BYTES: u64 = 25;

/// The results line of a phase, in the family's format (PerfAutomation
/// parses it with `\((.*) ops/s`).
pub(crate) fn results_line(summary: &PhaseSummary) -> String {
    match (
        summary.weighted_average_seconds,
        summary.seconds_per_operation,
    ) {
        (Some(weighted_average), Some(seconds_per_operation)) if summary.total_operations > 0 => {
            format!(
                "Completed {} operations in a weighted-average of {}s ({} ops/s, {} s/op)",
                format_count(summary.total_operations),
                format_significant(weighted_average),
                format_significant(summary.operations_per_second),
                format_significant(seconds_per_operation),
            )
        }
        _ => "Completed without generating operation statistics.".to_owned(),
    }
}

/// The warning after the results line of a phase in which some instances
/// completed far fewer operations than the others.
pub(crate) fn lagging_line(lagging: &Lagging) -> String {
    const SHOWN: usize = 5;
    let count = lagging.instances.len();
    let mut listed: Vec<String> = lagging
        .instances
        .iter()
        .take(SHOWN)
        .map(|(index, completed)| format!("{index} ({})", format_count(*completed)))
        .collect();
    if count > SHOWN {
        listed.push(format!("and {} more", count - SHOWN));
    }
    format!(
        "Warning: {count} instance{} completed fewer than half the operations of the median instance ({}): parallel index{} {}; stalled or starved, they skew the results",
        if count == 1 { "" } else { "s" },
        format_count(lagging.median),
        if count == 1 { "" } else { "es" },
        listed.join(", "),
    )
}

/// One status line: operations since the last line, total, current rate.
pub(crate) fn status_line(sample: &StatusSample) -> String {
    columns(&[
        format_count(sample.current),
        format_count(sample.total),
        format_significant(sample.average),
    ])
}

/// Widths of the status columns (`Current`, `Total`, `Average`).
const STATUS_WIDTHS: [usize; 3] = [11, 13, 13];

/// Right-aligns `cells` in the status columns; a cell too wide for its
/// column still gets one space before it, so numbers never run together.
fn columns(cells: &[String]) -> String {
    let mut line = String::new();
    for (index, (cell, width)) in cells.iter().zip(STATUS_WIDTHS).enumerate() {
        if index > 0 && cell.len() >= width {
            line.push(' ');
        }
        line.push_str(&format!("{cell:>width$}"));
    }
    line
}

/// Writes the report to stdout and diagnostics to stderr, a whole line at a
/// time so that lines from the coordinator never interleave.
#[derive(Debug, Default)]
pub(crate) struct Console {
    /// Stress mode: errors of the phase so far (from the last interval),
    /// shown as a last status column once there are any.
    errors_so_far: u64,
    /// `--quiet`: the reporter prints no status lines (nor their header).
    quiet: bool,
}

impl Console {
    /// A console on the process's stdout and stderr.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The console reporter of a run: with `quiet` (`--quiet`), without
    /// the status lines.
    pub(crate) fn reporter(quiet: bool) -> Self {
        Self {
            quiet,
            ..Self::default()
        }
    }

    /// Writes one line of report output.
    pub(crate) fn line(&self, text: &str) {
        // Above the progress line, when a terminal shows one.
        super::progress::print_line(text);
    }

    /// Writes a stage header such as `=== Setup ===`.
    pub(crate) fn stage(&self, name: &str) {
        self.line(&format!("=== {name} ==="));
    }

    /// Writes the header of the status lines.
    pub(crate) fn status_header(&self) {
        self.line(&format!(
            "{:>11}{:>13}{:>13}",
            "Current", "Total", "Average"
        ));
    }

    /// Writes one status line.
    pub(crate) fn status_line(&self, sample: &StatusSample) {
        self.line(&status_line(sample));
    }

    /// Writes the results line of a phase.
    pub(crate) fn results(&self, summary: &PhaseSummary) {
        self.line(&results_line(summary));
    }

    /// Writes a failure of one instance to stderr: test, parallel index,
    /// phase and the whole error chain.
    /// `who` names the instance (`parallel index 3`) or process that failed.
    pub(crate) fn failure(&self, test_name: &str, who: &str, phase: &str, error: &Error) {
        let chain: Vec<String> = error.causes().map(|line| redact_text(&line)).collect();
        let mut text = format!(
            "error: {test_name} ({who}) failed in {phase}: {}",
            chain.first().map(String::as_str).unwrap_or("unknown error")
        );
        for cause in chain.iter().skip(1) {
            text.push_str("\n  caused by: ");
            text.push_str(cause);
        }
        self.error(&text);
    }

    /// Writes a diagnostic line to stderr, secrets masked.
    pub(crate) fn error(&self, text: &str) {
        let text = redact_text(text);
        // Above the progress line too: on a terminal both streams share it.
        super::progress::suspend(|| {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{text}");
        });
    }
}

impl Reporter for Console {
    fn options(&mut self, plan: &Plan) {
        self.stage("Options");
        let processes = plan.processes();
        let spread = match (&plan.coordinate, plan.shard) {
            (Some(_), _) => format!(
                "over {processes} host{}",
                if processes == 1 { "" } else { "s" }
            ),
            (None, Some(shard)) => format!(
                "shard {}/{} (parallel indexes {}..={}) over {processes} process{}",
                shard.index,
                shard.count,
                plan.segment.first_index,
                plan.segment.first_index + plan.segment.count - 1,
                if processes == 1 { "" } else { "es" }
            ),
            (None, None) => format!(
                "over {processes} process{}",
                if processes == 1 { "" } else { "es" }
            ),
        };
        self.line(&format!(
            "{}  duration {} s, warm-up {} s, parallel {} {spread}, {}{}{}",
            plan.test_name(),
            plan.duration.as_secs_f64(),
            plan.warmup.as_secs_f64(),
            plan.parallel,
            match (plan.sync, plan.sync_bridge) {
                (true, true) => "sync (async operation on a runtime per instance)",
                (true, false) => "sync",
                (false, _) => "async",
            },
            if plan.no_cleanup { ", no cleanup" } else { "" },
            if plan.insecure { ", insecure" } else { "" },
        ));
        if !plan.test_options.is_empty() {
            self.line(&format!("  {}", plan.test_options.join("  ")));
        }
        if !plan.test_proxies.is_empty() {
            let proxies: Vec<String> = plan.test_proxies.iter().map(ToString::to_string).collect();
            self.line(&format!(
                "  test proxies {} (instance i uses proxy i mod {}; one operation per instance recorded, then played back)",
                proxies.join(" "),
                proxies.len()
            ));
        }
        self.line("");
    }

    fn stage_start(&mut self, stage: Phase) {
        self.errors_so_far = 0;
        self.stage(stage.header());
        if stage.is_timed() && !self.quiet {
            self.status_header();
        }
    }

    fn interval(&mut self, record: &crate::metrics::IntervalRecord) {
        self.errors_so_far = record.total_errors;
    }

    fn status(&mut self, _stage: Phase, _tick: u32, sample: &StatusSample) {
        if self.quiet {
            return;
        }
        if self.errors_so_far > 0 {
            self.line(&format!(
                "{}   errors {}",
                status_line(sample),
                format_count(self.errors_so_far)
            ));
        } else {
            self.status_line(sample);
        }
    }

    fn phase_results(&mut self, results: &PhaseResults) {
        self.results(&results.summary);
        match results.ended {
            PhaseEnd::Completed => {}
            PhaseEnd::Interrupted => self.line("(partial results: the phase was interrupted)"),
            PhaseEnd::Failed => self.line("(partial results: the run failed; the error follows)"),
        }
        if let Some(lagging) = &results.lagging {
            self.line(&lagging_line(lagging));
        }
        if let Some(latency) = &results.latency {
            self.line("");
            self.stage("Latency Distribution");
            for line in latency_table(&latency.service) {
                self.line(&line);
            }
            if let Some(resolution) = latency.clock_resolution_ns {
                self.line(&clock_resolution_line(resolution));
            }
            if let Some(corrected) = &latency.corrected {
                self.line("");
                self.stage("Corrected Latency Distribution");
                for line in latency_table(corrected) {
                    self.line(&line);
                }
            }
        }
        if let Some(rate) = &results.rate {
            self.line("");
            self.line(&format!(
                "Target rate {} ops/s, achieved {} ops/s; {} of {} operations started late (more than {} ms behind schedule)",
                format_significant(rate.target),
                format_significant(rate.achieved),
                format_count(rate.late_starts),
                format_count(rate.started),
                LATE_START_THRESHOLD.as_millis(),
            ));
        }
        if let Some(entries) = results
            .projected_operations
            .filter(|entries| *entries > RESULTS_FILE_ENTRIES_LIMIT)
        {
            self.error(&format!(
                "warning: at the warm-up's rate, --results-file will hold about {} entries (about {} MB); PerfAutomation reads it into one string and manages about {} million: use a shorter --duration or rely on --latency's percentiles",
                format_count(entries),
                format_count(entries.saturating_mul(RESULTS_FILE_ENTRY_BYTES) / 1_000_000),
                RESULTS_FILE_ENTRIES_LIMIT / 1_000_000
            ));
        }
        for path in &results.profile_files {
            self.line(&format!("Profile written to {path}"));
        }
    }

    fn iteration_start(&mut self, index: usize, count: usize) {
        // The first iteration's header is the stage's.
        if index > 1 {
            self.line(&format!("Iteration {index} of {count}"));
            if !self.quiet {
                self.status_header();
            }
        }
    }

    fn iterations(&mut self, iterations: &Iterations) {
        self.line("");
        self.stage("Iterations");
        for line in iteration_lines(&iterations.figures, iterations.statistics.as_ref()) {
            self.line(&line);
        }
    }

    fn failure(&mut self, plan: &Plan, failure: &Failure) {
        Console::failure(
            self,
            plan.test_name(),
            &failure.who.to_string(),
            &failure.phase.to_string(),
            &failure.error,
        );
    }

    fn stage_end(&mut self, _stage: Phase) {
        self.line("");
    }

    fn run_summary(&mut self, summary: &RunSummary<'_>) -> Result<(), Error> {
        if !summary.hosts.is_empty() {
            self.stage("Hosts");
            for line in host_lines(&summary.hosts) {
                self.line(&line);
            }
            self.line("");
        }
        self.stage("Finished");
        if let Some(comparison) = &summary.comparison {
            for warning in comparison.warnings() {
                self.error(&format!("warning: {warning}"));
            }
            for line in comparison_lines(comparison) {
                self.line(&line);
            }
            self.line("");
        }
        if !summary.thresholds.is_empty() {
            self.stage("Thresholds");
            let width = summary
                .thresholds
                .iter()
                .map(|result| result.threshold.text.len())
                .max()
                .unwrap_or(0);
            for result in &summary.thresholds {
                let measured = result
                    .measured
                    .map(|value| format_measured(result.threshold.metric, value))
                    .unwrap_or_else(|| "not measured".to_owned());
                self.line(&format!(
                    "  {:width$}  measured {:>14}  {}",
                    result.threshold.text,
                    measured,
                    if result.passed { "pass" } else { "FAIL" }
                ));
            }
            let failed = summary
                .thresholds
                .iter()
                .filter(|result| !result.passed)
                .count();
            if failed > 0 {
                self.error(&format!(
                    "error: {failed} of {} thresholds failed (exit code 3)",
                    summary.thresholds.len()
                ));
            }
        }
        Ok(())
    }
}

/// The Hosts block of a run across hosts: each host's own results line,
/// its clock, and the worst clock offset uncertainty.
fn host_lines(hosts: &[crate::metrics::HostResults]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut worst = std::time::Duration::ZERO;
    for host in hosts {
        let part = &host.part;
        let clock = part.host.clock;
        worst = worst.max(clock.uncertainty());
        lines.push(format!(
            "  {} (pid {} at {}, parallel indexes {}..={}, clock offset {:+.3} ms ± {:.3} ms)",
            part.host.identity,
            part.host.pid,
            part.host.address,
            part.share.first_index,
            part.share.first_index + part.share.count - 1,
            clock.offset_nanos as f64 / 1e6,
            clock.uncertainty().as_secs_f64() * 1e3,
        ));
        match (&host.run, part.lost) {
            (_, Some(interval)) => lines.push(format!(
                "    lost after interval {interval}: its instances are left out of the results"
            )),
            (Some(run), None) => lines.push(format!("    {}", results_line(&run.summary))),
            (None, None) => lines.push("    no timed run".to_owned()),
        }
    }
    lines.push(format!(
        "  Worst clock offset uncertainty: {:.3} ms",
        worst.as_secs_f64() * 1e3
    ));
    lines
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::InstanceSnapshot;

    #[test]
    fn results_line_of_a_sleep_run() {
        // Two instances, 100 ops each in exactly 5 s: 40 ops/s in total.
        let instance = InstanceSnapshot {
            completed_operations: 100,
            last_completion: Duration::from_secs(5),
        };
        let summary = PhaseSummary::from_instances(vec![instance, instance]);
        assert_eq!(
            results_line(&summary),
            "Completed 200 operations in a weighted-average of 5.000s (40.00 ops/s, 0.02500 s/op)"
        );
    }

    #[test]
    fn results_line_without_operations() {
        let summary = PhaseSummary::from_instances(vec![InstanceSnapshot::default()]);
        assert_eq!(
            results_line(&summary),
            "Completed without generating operation statistics."
        );
    }

    #[test]
    fn status_line_columns() {
        let sample = StatusSample {
            current: 20,
            total: 40,
            average: 20.0,
        };
        assert_eq!(
            status_line(&sample),
            "         20           40        20.00"
        );
    }

    #[test]
    fn lagging_instances_line() {
        let one = Lagging {
            median: 1200,
            instances: vec![(1, 20)],
        };
        assert_eq!(
            lagging_line(&one),
            "Warning: 1 instance completed fewer than half the operations of the median instance (1,200): parallel index 1 (20); stalled or starved, they skew the results"
        );
        let many = Lagging {
            median: 60,
            instances: (10..17).map(|index| (index, 3)).collect(),
        };
        assert!(lagging_line(&many).contains(
            "7 instances completed fewer than half the operations of the median instance (60): parallel indexes 10 (3), 11 (3), 12 (3), 13 (3), 14 (3), and 2 more;"
        ));
    }
}
