//! Text of `--iterations` (the table of iterations and their statistics)
//! and of comparisons (`--baseline`, `compare`), shared by the console and
//! the Markdown file: rows of cells, laid out by each.

use crate::metrics::{
    Comparison, Estimate, IterationFigures, IterationStatistics, MetricChange, ordered_latency,
};

use super::format::format_significant;

/// `100.0 ± 0.1234`: a mean and the half width of its 95% interval.
pub(crate) fn mean_and_interval(estimate: &Estimate) -> String {
    if estimate.count < 2 {
        return format_significant(estimate.mean);
    }
    format!(
        "{} ± {}",
        format_significant(estimate.mean),
        format_significant((estimate.ci_high - estimate.ci_low) / 2.0)
    )
}

/// `+1.23%`.
fn percent(value: f64) -> String {
    format!("{value:+.2}%")
}

/// The header and rows of the iterations table: one row per iteration
/// (ops/s, then each latency figure in ms).
pub(crate) fn iteration_rows(iterations: &[IterationFigures]) -> (Vec<String>, Vec<Vec<String>>) {
    let latency: Vec<String> = iterations
        .first()
        .map(|first| {
            ordered_latency(&first.latency_ms)
                .into_iter()
                .map(|(name, _)| name.to_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut header = vec!["iteration".to_owned(), "ops/s".to_owned()];
    header.extend(latency.iter().map(|name| format!("{name} ms")));
    let rows = iterations
        .iter()
        .enumerate()
        .map(|(index, iteration)| {
            let mut row = vec![
                (index + 1).to_string(),
                format_significant(iteration.operations_per_second),
            ];
            row.extend(latency.iter().map(|name| {
                iteration
                    .latency_ms
                    .get(name)
                    .map_or_else(|| "-".to_owned(), |value| format_significant(*value))
            }));
            row
        })
        .collect();
    (header, rows)
}

/// The header and rows of the statistics table: per figure the mean, the
/// standard deviation, the 95% interval and the coefficient of variation.
pub(crate) fn statistics_rows(statistics: &IterationStatistics) -> (Vec<String>, Vec<Vec<String>>) {
    let header = ["figure", "mean", "std dev", "95% CI", "CV"]
        .map(str::to_owned)
        .to_vec();
    let row = |name: String, estimate: &Estimate| {
        vec![
            name,
            format_significant(estimate.mean),
            format_significant(estimate.standard_deviation),
            format!(
                "{} .. {}",
                format_significant(estimate.ci_low),
                format_significant(estimate.ci_high)
            ),
            estimate
                .coefficient_of_variation()
                .map_or_else(|| "-".to_owned(), |cv| format!("{:.2}%", cv * 100.0)),
        ]
    };
    let mut rows = vec![row("ops/s".to_owned(), &statistics.operations_per_second)];
    for (name, estimate) in statistics.latency_in_order() {
        rows.push(row(format!("{name} ms"), estimate));
    }
    (header, rows)
}

/// The header and rows of a comparison table.
pub(crate) fn comparison_rows(comparison: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "metric",
        "old (95% CI)",
        "new (95% CI)",
        "change (95% CI)",
        "p",
        "verdict",
    ]
    .map(str::to_owned)
    .to_vec();
    let rows = comparison.metrics.iter().map(metric_row).collect();
    (header, rows)
}

fn metric_row(metric: &MetricChange) -> Vec<String> {
    vec![
        metric.metric.clone(),
        mean_and_interval(&metric.old),
        mean_and_interval(&metric.new),
        match metric.change_ci_percent {
            Some((low, high)) => format!(
                "{} [{}, {}]",
                percent(metric.change_percent),
                percent(low),
                percent(high)
            ),
            None => percent(metric.change_percent),
        },
        metric
            .p_value
            .map_or_else(|| "-".to_owned(), |p| format!("{p:.4}")),
        metric.verdict.label().to_owned(),
    ]
}

/// The title of a comparison: `SleepTest: this run vs baseline main`.
pub(crate) fn comparison_title(comparison: &Comparison) -> String {
    format!(
        "{}: {} vs {}",
        comparison.test_name, comparison.new_label, comparison.old_label
    )
}

/// The note under a comparison table.
pub(crate) fn comparison_note(comparison: &Comparison) -> String {
    let iterations = |side: fn(&MetricChange) -> &Estimate| {
        comparison
            .metrics
            .first()
            .map_or(0, |metric| side(metric).count)
    };
    format!(
        "Change of the new run relative to the old; verdict: Welch's t-test at 5% on {} vs {} iterations, and changes under the noise threshold ({}%) are no change.",
        iterations(|metric| &metric.new),
        iterations(|metric| &metric.old),
        comparison.noise_threshold_percent
    )
}

/// Rows laid out in columns for a terminal: each column as wide as its
/// widest cell, two spaces apart, indented by two.
pub(crate) fn columns(header: &[String], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    std::iter::once(header)
        .chain(rows.iter().map(Vec::as_slice))
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(index, (cell, width))| {
                    let pad = width - cell.chars().count();
                    // The first column (a name) to the left, numbers right.
                    if index == 0 {
                        format!("{cell}{}", " ".repeat(pad))
                    } else {
                        format!("{}{cell}", " ".repeat(pad))
                    }
                })
                .collect();
            format!("  {}", cells.join("  ")).trim_end().to_owned()
        })
        .collect()
}

/// The console's lines of the iterations: the table of iterations, then
/// their statistics.
pub(crate) fn iteration_lines(
    iterations: &[IterationFigures],
    statistics: Option<&IterationStatistics>,
) -> Vec<String> {
    let (header, rows) = iteration_rows(iterations);
    let mut lines = columns(&header, &rows);
    if let Some(statistics) = statistics {
        lines.push(String::new());
        let (header, rows) = statistics_rows(statistics);
        lines.extend(columns(&header, &rows));
    }
    lines
}

/// The console's lines of a comparison: the title, the table, the note.
pub(crate) fn comparison_lines(comparison: &Comparison) -> Vec<String> {
    let mut lines = vec![format!(
        "=== Comparison: {} ===",
        comparison_title(comparison)
    )];
    let (header, rows) = comparison_rows(comparison);
    lines.extend(columns(&header, &rows));
    lines.push(comparison_note(comparison));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align() {
        let header = vec!["metric".to_owned(), "value".to_owned()];
        let rows = vec![vec!["ops/s".to_owned(), "1,000".to_owned()]];
        assert_eq!(
            columns(&header, &rows),
            ["  metric  value", "  ops/s   1,000"]
        );
    }

    #[test]
    fn an_estimate_shows_its_interval() {
        let estimate = Estimate::of(&[99.0, 101.0]).unwrap();
        assert!(mean_and_interval(&estimate).starts_with("100.0 ± 12.71"));
        assert_eq!(mean_and_interval(&Estimate::of(&[5.0]).unwrap()), "5.000");
    }
}
