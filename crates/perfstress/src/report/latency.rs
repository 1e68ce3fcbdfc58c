use std::time::Duration;

use crate::metrics::LatencySummary;

use super::format::format_significant;

/// A latency with a unit that keeps it readable from nanoseconds to
/// seconds, and four significant digits: `812.0 ns`, `12.35 µs`,
/// `1.235 ms`, `2.500 s`.
pub(crate) fn format_latency(latency: Duration) -> String {
    let nanos = latency.as_nanos() as f64;
    let (value, unit) = if nanos < 1e3 {
        (nanos, "ns")
    } else if nanos < 1e6 {
        (nanos / 1e3, "µs")
    } else if nanos < 1e9 {
        (nanos / 1e6, "ms")
    } else {
        (nanos / 1e9, "s")
    };
    format!("{} {unit}", format_significant(value))
}

/// The lines of a latency table: one per percentile (the latency in
/// milliseconds, as in the family, then in a readable unit), then the
/// mean, min, max and count.
pub(crate) fn latency_table(summary: &LatencySummary) -> Vec<String> {
    let mut lines = Vec::with_capacity(summary.percentiles.len() + 2);
    for (percentile, latency) in &summary.percentiles {
        lines.push(format!(
            "{:>7}%  {:>14} ms  {:>12}",
            format_percentile(*percentile),
            format_significant(latency.as_secs_f64() * 1e3),
            format_latency(*latency)
        ));
    }
    lines.push(format!(
        "mean {}, min {}, max {}, {} operations",
        format_latency(summary.mean),
        format_latency(summary.min),
        format_latency(summary.max),
        super::format::format_count(summary.count)
    ));
    lines
}

/// The line under the latency table that tells the clock's measured
/// resolution: `clock resolution 0.4762 ns (measured at the start;
/// latencies are kept in whole nanoseconds)`.
pub(crate) fn clock_resolution_line(resolution_ns: f64) -> String {
    format!(
        "clock resolution {} ns (measured at the start; latencies are kept in whole nanoseconds)",
        format_significant(resolution_ns)
    )
}

fn format_percentile(percentile: f64) -> String {
    if percentile.fract() == 0.0 {
        format!("{percentile:.0}")
    } else {
        format!("{percentile}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_stay_readable() {
        assert_eq!(format_latency(Duration::from_nanos(812)), "812.0 ns");
        assert_eq!(format_latency(Duration::from_nanos(12_345)), "12.35 µs");
        assert_eq!(format_latency(Duration::from_micros(1_235)), "1.235 ms");
        assert_eq!(format_latency(Duration::from_millis(2_500)), "2.500 s");
    }

    #[test]
    fn table_has_a_line_per_percentile() {
        let summary = LatencySummary {
            count: 10,
            percentiles: vec![
                (50.0, Duration::from_micros(7)),
                (99.9, Duration::from_millis(3)),
            ],
            spectrum: vec![],
            min: Duration::from_micros(5),
            max: Duration::from_millis(3),
            mean: Duration::from_micros(300),
        };
        let lines = latency_table(&summary);
        assert_eq!(lines[0], "     50%        0.007000 ms      7.000 µs");
        assert_eq!(lines[1], "   99.9%           3.000 ms      3.000 ms");
        assert!(lines[2].contains("10 operations"));
    }

    #[test]
    fn clock_resolution_keeps_four_digits() {
        assert_eq!(
            clock_resolution_line(10.0),
            "clock resolution 10.00 ns (measured at the start; latencies are kept in whole nanoseconds)"
        );
        assert!(clock_resolution_line(0.47619).starts_with("clock resolution 0.4762 ns "));
    }
}
