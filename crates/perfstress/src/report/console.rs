use std::io::Write;

use crate::error::Error;
use crate::metrics::{PhaseSummary, StatusSample};

use super::format::{format_count, format_significant};

/// The results line of a phase, in the family's format (PerfAutomation
/// parses it with `\((.*) ops/s`).
pub fn results_line(summary: &PhaseSummary) -> String {
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

/// One status line: operations since the last line, total, current rate.
pub fn status_line(sample: &StatusSample) -> String {
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
pub struct Console;

impl Console {
    /// A console on the process's stdout and stderr.
    pub fn new() -> Self {
        Self
    }

    /// Writes one line of report output.
    pub fn line(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) must not abort the run and skip cleanup.
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }

    /// Writes a stage header such as `=== Setup ===`.
    pub fn stage(&self, name: &str) {
        self.line(&format!("=== {name} ==="));
    }

    /// Writes the header of the status lines.
    pub fn status_header(&self) {
        self.line(&format!(
            "{:>11}{:>13}{:>13}",
            "Current", "Total", "Average"
        ));
    }

    /// Writes one status line.
    pub fn status_line(&self, sample: &StatusSample) {
        self.line(&status_line(sample));
    }

    /// Writes the results line of a phase.
    pub fn results(&self, summary: &PhaseSummary) {
        self.line(&results_line(summary));
    }

    /// Writes a failure of one instance to stderr: test, parallel index,
    /// phase and the whole error chain.
    /// `who` names the instance (`parallel index 3`) or process that failed.
    pub fn failure(&self, test_name: &str, who: &str, phase: &str, error: &Error) {
        let chain = error.chain();
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

    /// Writes a diagnostic line to stderr.
    pub fn error(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{text}");
    }
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
}
