use std::io::Write;

use crate::error::Error;
use crate::metrics::{PhaseSummary, StatusSample};

use super::format::{format_count, format_significant};

/// A URL's query (SAS signatures, tokens) and user info are secrets too:
/// `https://u:p@host/c?sig=x` is shown as `https://***@host/c?***`.
pub fn redact_url(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, _)) => (rest, "?***"),
        None => (rest, ""),
    };
    let rest = match rest.split_once('/') {
        Some((authority, path)) => (authority, format!("/{path}")),
        None => (rest, String::new()),
    };
    let authority = match rest.0.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => rest.0.to_owned(),
    };
    format!("{scheme}://{authority}{}{query}", rest.1)
}

/// `text` with every URL in it redacted by [`redact_url`] (error messages
/// of HTTP clients quote the URL they failed on).
pub fn redact_urls(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let Some(separator) = word.find("://") else {
                return word.to_owned();
            };
            let start = word[..separator]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
                .map_or(0, |index| index + 1);
            let end = word[separator + 3..]
                .find([')', '"', '\'', ',', '<', '>'])
                .map_or(word.len(), |index| separator + 3 + index);
            format!(
                "{}{}{}",
                &word[..start],
                redact_url(&word[start..end]),
                &word[end..]
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

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
        let chain: Vec<String> = error.chain().iter().map(|line| redact_urls(line)).collect();
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
    fn urls_lose_their_query_and_user_info() {
        assert_eq!(
            redact_url("http://127.0.0.1:9/b?sig=SECRET&sv=1"),
            "http://127.0.0.1:9/b?***"
        );
        assert_eq!(redact_url("https://user:pw@host/c"), "https://***@host/c");
        assert_eq!(redact_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(redact_url("1024"), "1024");
        assert_eq!(
            redact_urls("error sending request for url (http://h/b?sig=S): refused"),
            "error sending request for url (http://h/b?***): refused"
        );
    }

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
