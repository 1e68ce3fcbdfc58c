//! Stress mode and memory in the console: the `=== Errors ===` block of a
//! timed phase (per group the count, its share of the operations, the first
//! full message with its causes), the verdict of `--max-error-rate`, and,
//! under `=== Finished ===`, the timed run's memory (peak RSS, leak slope)
//! and allocations per operation.

use serde::Serialize;

use crate::error::Error;
use crate::metrics::{ErrorResults, LatencySummary, PhaseResults, RunSummary};
use crate::redact::redact_text;

use super::console::Console;
use super::format::{format_count, format_significant};
use super::latency::format_latency;
use super::reporter::Reporter;

/// `1.00 %`.
pub(crate) fn format_percent(fraction: f64) -> String {
    format!("{} %", format_significant(fraction * 100.0))
}

/// `12.3 MiB`, `-0.5 KiB`: bytes in the largest binary unit under 1024.
pub(crate) fn format_bytes(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{} {}", format_significant(value), units[unit])
}

/// The lines of the `=== Errors ===` block (after its header).
pub(crate) fn error_lines(errors: &ErrorResults) -> Vec<String> {
    let mut lines = Vec::new();
    if errors.errors == 0 {
        lines.push(format!(
            "No errors in {} operations.",
            format_count(errors.attempted)
        ));
        return lines;
    }
    lines.push(format!(
        "{} errors in {} operations ({}){}",
        format_count(errors.errors),
        format_count(errors.attempted),
        format_percent(errors.rate),
        match errors.limit {
            Some(limit) => format!(
                "; --max-error-rate {}: {}",
                format_percent(limit),
                if errors.within_limit() {
                    "within"
                } else {
                    "EXCEEDED"
                }
            ),
            None => String::new(),
        }
    ));
    for group in errors.groups.by_count() {
        lines.push(format!(
            "{:>12}  {:>9}  {}",
            format_count(group.count),
            format_percent(errors.share(group)),
            redact_text(&group.key),
        ));
        let mut chain = group.first_chain.iter();
        if let Some(first) = chain.next() {
            lines.push(format!("{:25}first: {}", "", redact_text(first)));
        }
        for cause in chain {
            lines.push(format!("{:25}  caused by: {}", "", redact_text(cause)));
        }
    }
    if let Some(latency) = &errors.latency {
        lines.push(format!(
            "Latency of the failed operations: p50 {}, p99 {}, max {} ({} operations)",
            format_latency(latency.percentiles[0].1),
            format_latency(
                latency
                    .percentiles
                    .iter()
                    .find(|(percentile, _)| *percentile == 99.0)
                    .map_or(latency.max, |(_, latency)| *latency)
            ),
            format_latency(latency.max),
            format_count(latency.count),
        ));
    }
    lines
}

/// The memory and allocation lines of a timed run's results.
pub(crate) fn memory_lines(results: &PhaseResults) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(memory) = &results.memory {
        lines.push(format!(
            "Memory: peak RSS {}{}",
            format_bytes(memory.peak_bytes as f64),
            match memory.slope_bytes_per_minute {
                Some(slope) => format!(
                    ", growth {}/min (least squares over {} samples)",
                    format_bytes(slope),
                    memory.samples
                ),
                None => String::new(),
            }
        ));
    }
    if let Some(allocations) = &results.allocations {
        lines.push(format!(
            "Allocations: {} per operation, {} per operation ({} allocations, {} in the phase)",
            format_significant(allocations.per_operation),
            format_bytes(allocations.bytes_per_operation),
            format_count(allocations.counts.allocations),
            format_bytes(allocations.counts.bytes as f64),
        ));
    }
    lines
}

/// The results file's stress and memory figures of the timed run.
/// `L` is the results file's latency distribution (`json.rs`'s).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct StressResults<L> {
    /// `--continue-on-error`: the failed operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) errors: Option<ErrorsJson<L>>,
    /// The largest resident memory of every process together at a status
    /// tick, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) peak_memory_use: Option<u64>,
    /// Resident memory growth by least squares over the status ticks, in
    /// bytes per minute (a leak shows as a steady positive slope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_growth_bytes_per_minute: Option<f64>,
    /// With the counting allocator: allocations per operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) allocations_per_operation: Option<f64>,
    /// With the counting allocator: bytes allocated per operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bytes_allocated_per_operation: Option<f64>,
}

/// The failed operations in the results file.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ErrorsJson<L> {
    /// Failed operations.
    pub(crate) total: u64,
    /// Operations attempted (completed and failed).
    pub(crate) attempted: u64,
    /// `total / attempted`.
    pub(crate) rate: f64,
    /// `--max-error-rate` (0 by default).
    pub(crate) max_error_rate: f64,
    /// Whether the rate was within it.
    pub(crate) within_limit: bool,
    /// Per group, largest first.
    pub(crate) groups: Vec<ErrorGroupJson>,
    /// With --latency: the latency of the failed operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) latency: Option<L>,
}

/// One group of errors in the results file.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ErrorGroupJson {
    /// The group's stable key.
    pub(crate) key: String,
    /// Errors in it.
    pub(crate) count: u64,
    /// Its share of the attempted operations.
    pub(crate) share: f64,
    /// The first error's message and its causes, outermost first.
    pub(crate) first_error: Vec<String>,
}

impl<L> Default for StressResults<L> {
    fn default() -> Self {
        Self {
            errors: None,
            peak_memory_use: None,
            memory_growth_bytes_per_minute: None,
            allocations_per_operation: None,
            bytes_allocated_per_operation: None,
        }
    }
}

impl<L> StressResults<L> {
    /// The figures of the timed run `run`; `latency` converts a latency
    /// summary to the results file's form.
    pub(crate) fn new(run: &PhaseResults, latency: impl Fn(&LatencySummary) -> L) -> Self {
        Self {
            errors: run.errors.as_ref().map(|errors| ErrorsJson {
                total: errors.errors,
                attempted: errors.attempted,
                rate: errors.rate,
                max_error_rate: errors.limit.unwrap_or(0.0),
                within_limit: errors.within_limit(),
                groups: errors
                    .groups
                    .by_count()
                    .into_iter()
                    .map(|group| ErrorGroupJson {
                        key: redact_text(&group.key),
                        count: group.count,
                        share: errors.share(group),
                        first_error: group
                            .first_chain
                            .iter()
                            .map(|line| redact_text(line))
                            .collect(),
                    })
                    .collect(),
                latency: errors.latency.as_ref().map(latency),
            }),
            peak_memory_use: run.memory.map(|memory| memory.peak_bytes),
            memory_growth_bytes_per_minute: run
                .memory
                .and_then(|memory| memory.slope_bytes_per_minute),
            allocations_per_operation: run.allocations.map(|allocations| allocations.per_operation),
            bytes_allocated_per_operation: run
                .allocations
                .map(|allocations| allocations.bytes_per_operation),
        }
    }
}

/// Prints the stress and memory figures of each timed phase.
#[derive(Debug, Default)]
pub(crate) struct StressConsole {
    console: Console,
}

impl Reporter for StressConsole {
    fn phase_results(&mut self, results: &PhaseResults) {
        if let Some(errors) = &results.errors {
            self.console.line("");
            self.console.stage("Errors");
            for line in error_lines(errors) {
                self.console.line(&line);
            }
        }
    }

    fn run_summary(&mut self, summary: &RunSummary<'_>) -> Result<(), Error> {
        // Under `=== Finished ===`: the timed run's memory and allocations.
        if let Some(run) = &summary.run {
            for line in memory_lines(run) {
                self.console.line(&line);
            }
        }
        if let Some(errors) = summary.run.as_ref().and_then(|run| run.errors.as_ref())
            && let Some(limit) = errors.limit
            && !errors.within_limit()
        {
            self.console.error(&format!(
                "error: error rate {} ({} of {} operations failed) is above --max-error-rate {} (exit code 1)",
                format_percent(errors.rate),
                format_count(errors.errors),
                format_count(errors.attempted),
                format_percent(limit),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ErrorGroups;

    #[test]
    fn the_errors_block_lists_groups_with_their_first_message() {
        let mut groups = ErrorGroups::default();
        for millis in [31, 29, 30] {
            groups.record(&Error::msg(format!("timed out after {millis} ms")));
        }
        groups.record(&Error::from(std::io::Error::other("connection reset")).context("HTTP 503"));
        let errors = ErrorResults::new(groups, 396, None, Some(0.005));
        let lines = error_lines(&errors);
        assert_eq!(
            lines[0],
            "4 errors in 400 operations (1.000 %); --max-error-rate 0.5000 %: EXCEEDED"
        );
        assert!(
            lines[1].ends_with("Test: timed out after <n> ms"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].contains(" 3 ") && lines[1].contains("0.7500 %"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].ends_with("first: timed out after 31 ms"),
            "{}",
            lines[2]
        );
        assert!(lines[4].ends_with("first: HTTP 503"), "{}", lines[4]);
        assert!(
            lines[5].ends_with("caused by: connection reset"),
            "{}",
            lines[5]
        );
    }

    #[test]
    fn bytes_in_binary_units() {
        assert_eq!(format_bytes(512.0), "512.0 B");
        assert_eq!(format_bytes(1536.0), "1.500 KiB");
        assert_eq!(format_bytes(-3.0 * 1024.0 * 1024.0), "-3.000 MiB");
    }
}
