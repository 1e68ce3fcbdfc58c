//! `--threshold EXPR`: a bound on one figure of the timed run, checked after
//! it (a CI gate). `ops/s>1000`, `p99<50ms`, `error_rate<0.1%`,
//! `rss<200MiB`, `cpu<150%`. Parsed when the command line is (a bad one is
//! a usage error before any setup); evaluated by the thresholds reporter.

use std::fmt;

/// A figure of the timed run a threshold can bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Metric {
    /// `ops/s`: the results math's operations per second.
    OperationsPerSecond,
    /// `operations`: operations completed in the timed run.
    Operations,
    /// `pNN` (`p50`, `p99`, `p99.9`), `min`, `mean`, `max`: the service-time
    /// latency (needs `--latency` or `--rate`); `percentile` 0-100, or
    /// `None` for the mean.
    Latency(LatencyFigure),
    /// `error_rate`: failed operations over all operations (a fraction).
    ErrorRate,
    /// `rss`: mean resident memory over the timed run, in bytes.
    Rss,
    /// `cpu`: mean CPU use over the timed run, in percent of one core.
    Cpu,
}

/// Which latency figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum LatencyFigure {
    /// A percentile, 0-100 (`min` is 0, `max` is 100).
    Percentile(f64),
    /// The mean.
    Mean,
}

/// `<`, `<=`, `>` or `>=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    Below,
    AtMost,
    Above,
    AtLeast,
}

impl Comparison {
    fn holds(self, measured: f64, bound: f64) -> bool {
        match self {
            Comparison::Below => measured < bound,
            Comparison::AtMost => measured <= bound,
            Comparison::Above => measured > bound,
            Comparison::AtLeast => measured >= bound,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
        }
    }
}

/// One `--threshold`: `metric comparison bound`, the bound in the metric's
/// base unit (seconds for latency, bytes for rss, a fraction for rates,
/// percent of a core for cpu).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Threshold {
    pub(crate) metric: Metric,
    pub(crate) comparison: Comparison,
    pub(crate) bound: f64,
    /// As the user wrote it.
    pub(crate) text: String,
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The metrics and units `--threshold` accepts, for its error messages.
const HELP: &str = "metrics: ops/s, operations, p50 p90 p99 p99.9 (any percentile), min, mean, max (latency: ns, us, ms, s; default ms), error_rate (0.01 or 1%), rss (B, KB, KiB, MB, MiB, GB, GiB), cpu (% of one core)";

impl Threshold {
    /// Parses `METRIC<VALUE[UNIT]` (or `<=`, `>`, `>=`), e.g. `p99<50ms`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let position = compact.find(['<', '>']).ok_or_else(|| {
            format!("expected METRIC<VALUE or METRIC>VALUE, e.g. p99<50ms; got '{text}'")
        })?;
        let (name, rest) = compact.split_at(position);
        let (comparison, value) = match rest {
            _ if rest.starts_with("<=") => (Comparison::AtMost, &rest[2..]),
            _ if rest.starts_with(">=") => (Comparison::AtLeast, &rest[2..]),
            _ if rest.starts_with('<') => (Comparison::Below, &rest[1..]),
            _ => (Comparison::Above, &rest[1..]),
        };
        let metric = parse_metric(&name.to_ascii_lowercase())
            .ok_or_else(|| format!("unknown metric '{name}' in '{text}'; {HELP}"))?;
        let (number, unit) = split_unit(value);
        let number: f64 = number
            .parse()
            .ok()
            .filter(|number: &f64| number.is_finite())
            .ok_or_else(|| {
                format!(
                    "expected a number after '{}' in '{text}'",
                    comparison.symbol()
                )
            })?;
        let scale = unit_scale(metric, &unit.to_ascii_lowercase()).ok_or_else(|| {
            format!("unit '{unit}' does not fit metric '{name}' in '{text}'; {HELP}")
        })?;
        Ok(Self {
            metric,
            comparison,
            bound: number * scale,
            text: text.trim().to_owned(),
        })
    }

    /// Whether the figure must be recorded with `--latency`.
    pub(crate) fn needs_latency(&self) -> bool {
        matches!(self.metric, Metric::Latency(_))
    }

    /// Whether `measured` (in the metric's base unit) keeps the bound.
    pub(crate) fn holds(&self, measured: f64) -> bool {
        self.comparison.holds(measured, self.bound)
    }
}

fn parse_metric(name: &str) -> Option<Metric> {
    Some(match name {
        "ops/s" | "ops" | "operations_per_second" => Metric::OperationsPerSecond,
        "operations" | "total_operations" => Metric::Operations,
        "error_rate" | "errors" => Metric::ErrorRate,
        "rss" | "memory" => Metric::Rss,
        "cpu" => Metric::Cpu,
        "min" => Metric::Latency(LatencyFigure::Percentile(0.0)),
        "max" => Metric::Latency(LatencyFigure::Percentile(100.0)),
        "mean" => Metric::Latency(LatencyFigure::Mean),
        _ => {
            let percentile: f64 = name.strip_prefix('p')?.parse().ok()?;
            if !(0.0..=100.0).contains(&percentile) {
                return None;
            }
            Metric::Latency(LatencyFigure::Percentile(percentile))
        }
    })
}

/// `50ms` -> (`50`, `ms`); `1e3` -> (`1e3`, ``).
fn split_unit(value: &str) -> (&str, &str) {
    let end = value
        .char_indices()
        .find(|&(index, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || ((c == 'e' || c == 'E')
                    && value[index + 1..].starts_with(|next: char| {
                        next.is_ascii_digit() || next == '-' || next == '+'
                    }))
                || ((c == '-' || c == '+')
                    && index > 0
                    && matches!(&value[index - 1..index], "e" | "E")))
        })
        .map_or(value.len(), |(index, _)| index);
    value.split_at(end)
}

/// What one `unit` of `metric` is in the metric's base unit.
fn unit_scale(metric: Metric, unit: &str) -> Option<f64> {
    match metric {
        Metric::Latency(_) => match unit {
            "" | "ms" => Some(1e-3),
            "ns" => Some(1e-9),
            "us" | "µs" => Some(1e-6),
            "s" => Some(1.0),
            _ => None,
        },
        Metric::ErrorRate => match unit {
            "" => Some(1.0),
            "%" => Some(0.01),
            _ => None,
        },
        Metric::Rss => match unit {
            "" | "b" => Some(1.0),
            "kb" => Some(1e3),
            "kib" => Some(1024.0),
            "mb" => Some(1e6),
            "mib" => Some(1024.0 * 1024.0),
            "gb" => Some(1e9),
            "gib" => Some(1024.0 * 1024.0 * 1024.0),
            _ => None,
        },
        Metric::Cpu => match unit {
            "" | "%" => Some(1.0),
            _ => None,
        },
        Metric::OperationsPerSecond | Metric::Operations => match unit {
            "" => Some(1.0),
            _ => None,
        },
    }
}

/// The clap value parser of `--threshold`.
pub(crate) fn parse_threshold(text: &str) -> Result<Threshold, String> {
    Threshold::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_and_unit_parses() {
        let parse = |text: &str| Threshold::parse(text).unwrap();
        assert_eq!(parse("ops/s>1000").metric, Metric::OperationsPerSecond);
        assert_eq!(parse("ops/s>1000").bound, 1000.0);
        assert_eq!(parse("ops/s >= 1e3").comparison, Comparison::AtLeast);
        let p99 = parse("p99<50ms");
        assert_eq!(p99.metric, Metric::Latency(LatencyFigure::Percentile(99.0)));
        assert!((p99.bound - 0.05).abs() < 1e-12);
        assert!((parse("p99.9<=250us").bound - 250e-6).abs() < 1e-15);
        assert_eq!(parse("max<2s").bound, 2.0);
        assert_eq!(
            parse("mean<800ns").metric,
            Metric::Latency(LatencyFigure::Mean)
        );
        assert!((parse("error_rate<0.1%").bound - 0.001).abs() < 1e-15);
        assert_eq!(parse("error_rate<0.01").bound, 0.01);
        assert_eq!(parse("rss<200MiB").bound, 200.0 * 1024.0 * 1024.0);
        assert_eq!(parse("rss<1GB").bound, 1e9);
        assert_eq!(parse("cpu<150%").bound, 150.0);
        assert_eq!(parse("operations>=10").metric, Metric::Operations);
    }

    #[test]
    fn bad_expressions_say_why() {
        let error = |text: &str| Threshold::parse(text).unwrap_err();
        assert!(error("latency<5ms").contains("unknown metric"));
        assert!(error("p99<5parsecs").contains("unit 'parsecs'"));
        assert!(error("rss<5ms").contains("does not fit"));
        assert!(error("p99=5ms").contains("expected METRIC<VALUE"));
        assert!(error("p99<fast").contains("a number"));
        assert!(error("p101<5ms").contains("unknown metric"));
    }

    #[test]
    fn bounds_hold_on_the_right_side() {
        let below = Threshold::parse("p99<50ms").unwrap();
        assert!(below.holds(0.049));
        assert!(!below.holds(0.050));
        let at_most = Threshold::parse("p99<=50ms").unwrap();
        assert!(at_most.holds(0.050));
        let above = Threshold::parse("ops/s>100").unwrap();
        assert!(above.holds(100.5) && !above.holds(100.0));
        let at_least = Threshold::parse("ops/s>=100").unwrap();
        assert!(at_least.holds(100.0) && !at_least.holds(99.9));
    }
}
