//! `--markdown PATH`: the results, iterations, comparison and thresholds
//! of a run as Markdown tables (for a CI job summary or a pull-request
//! comment); `compare --markdown PATH` writes its comparisons the same way.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind};
use crate::metrics::{Comparison, RunSummary};

use super::comparison::{
    comparison_note, comparison_rows, comparison_title, iteration_rows, statistics_rows,
};
use super::console::format_measured;
use super::end_file::EndOfRunFile;
use super::format::{format_count, format_significant};
use super::reporter::Reporter;

/// A Markdown table.
fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let escape = |cell: &String| cell.replace('|', "\\|");
    let line = |cells: &[String]| {
        format!(
            "| {} |\n",
            cells.iter().map(escape).collect::<Vec<_>>().join(" | ")
        )
    };
    let mut text = line(header);
    text.push_str(&format!(
        "|{}\n",
        header
            .iter()
            .enumerate()
            .map(|(index, _)| if index == 0 { " --- |" } else { " ---: |" })
            .collect::<String>()
    ));
    for row in rows {
        text.push_str(&line(row));
    }
    text
}

/// The Markdown of a comparison: a heading, warnings, the table, the note.
fn comparison_markdown(comparison: &Comparison) -> String {
    let mut text = format!("### {}\n\n", comparison_title(comparison));
    for warning in comparison.warnings() {
        text.push_str(&format!("> **Warning:** {warning}\n\n"));
    }
    let (header, rows) = comparison_rows(comparison);
    text.push_str(&table(&header, &rows));
    text.push_str(&format!("\n{}\n\n", comparison_note(comparison)));
    text
}

/// The Markdown of a run.
pub(crate) fn run_markdown(summary: &RunSummary<'_>) -> String {
    let plan = summary.plan;
    let mut text = format!("## {}\n\n", plan.test_name());
    let mut options = format!(
        "duration {} s, warm-up {} s, parallel {}, {}",
        plan.duration.as_secs_f64(),
        plan.warmup.as_secs_f64(),
        plan.parallel,
        if plan.sync { "sync" } else { "async" }
    );
    if plan.iterations > 1 {
        options.push_str(&format!(", {} iterations", plan.iterations));
    }
    for option in &plan.test_options {
        options.push_str(&format!(", `{option}`"));
    }
    text.push_str(&format!("{options}\n\n"));
    if let Some(run) = &summary.run {
        let header = ["figure", "value"].map(str::to_owned).to_vec();
        let mut rows = vec![
            vec![
                "ops/s".to_owned(),
                format_significant(run.summary.operations_per_second),
            ],
            vec![
                "operations".to_owned(),
                format_count(run.summary.total_operations),
            ],
        ];
        if let Some(cpu) = run.cpu_percent {
            rows.push(vec![
                "CPU (% of a core)".to_owned(),
                format_significant(cpu),
            ]);
        }
        if let Some(latency) = &run.latency {
            for (percentile, value) in &latency.service.percentiles {
                rows.push(vec![
                    format!("p{percentile} latency (ms)"),
                    format_significant(value.as_secs_f64() * 1e3),
                ]);
            }
        }
        text.push_str(&table(&header, &rows));
        text.push('\n');
    } else {
        text.push_str(&format!(
            "No results: the run ended {:?}.\n\n",
            summary.outcome
        ));
    }
    if let Some(record) = summary.record.as_ref().filter(|r| r.iterations.len() > 1) {
        text.push_str("### Iterations\n\n");
        let (header, rows) = iteration_rows(&record.iterations);
        text.push_str(&table(&header, &rows));
        text.push('\n');
        if let Some(statistics) = &record.statistics {
            let (header, rows) = statistics_rows(statistics);
            text.push_str(&table(&header, &rows));
            text.push('\n');
        }
    }
    if let Some(comparison) = &summary.comparison {
        text.push_str(&comparison_markdown(comparison));
    }
    if !summary.thresholds.is_empty() {
        text.push_str("### Thresholds\n\n");
        let header = ["threshold", "measured", "result"]
            .map(str::to_owned)
            .to_vec();
        let rows: Vec<Vec<String>> = summary
            .thresholds
            .iter()
            .map(|result| {
                vec![
                    format!("`{}`", result.threshold.text),
                    result.measured.map_or_else(
                        || "not measured".to_owned(),
                        |value| format_measured(result.threshold.metric, value),
                    ),
                    if result.passed { "pass" } else { "**FAIL**" }.to_owned(),
                ]
            })
            .collect();
        text.push_str(&table(&header, &rows));
        text.push('\n');
    }
    text
}

/// Writes `compare`'s comparisons as Markdown to `path`.
pub(crate) fn write_comparison_markdown(
    path: &Path,
    comparisons: &[Comparison],
) -> Result<(), Error> {
    let text: String = comparisons.iter().map(comparison_markdown).collect();
    write(path, &text)
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    crate::fs::write_atomically(path, |out| out.write_all(text.as_bytes())).map_err(|error| {
        Error::with_source(
            ErrorKind::Io,
            format!("cannot write the Markdown file {}", path.display()),
            error,
        )
    })
}

/// Writes `--markdown` at the end of a run that measured something.
pub(crate) struct MarkdownFile(EndOfRunFile);

impl MarkdownFile {
    /// The reporter writing `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self(EndOfRunFile::new(path, "Markdown"))
    }
}

impl Reporter for MarkdownFile {
    fn discard(&mut self) {
        self.0.discard();
    }

    fn run_summary(&mut self, summary: &RunSummary<'_>) -> Result<(), Error> {
        self.0.write(summary, |path| {
            write(path, &run_markdown(summary))?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_escape_pipes_and_align_numbers() {
        let header = vec!["metric".to_owned(), "value".to_owned()];
        let rows = vec![vec!["a|b".to_owned(), "1".to_owned()]];
        assert_eq!(
            table(&header, &rows),
            "| metric | value |\n| --- | ---: |\n| a\\|b | 1 |\n"
        );
    }
}
