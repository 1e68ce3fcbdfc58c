//! Reading the runner's report the way PerfAutomation and users read it:
//! stage headers, results lines, status lines, grouped numbers.

/// The eight stage headers of a run with a warm-up, in the order they must
/// appear.
pub const STAGES: [&str; 8] = [
    "=== Options ===",
    "=== Setup ===",
    "=== Post Setup ===",
    "=== Warmup ===",
    "=== Tests ===",
    "=== Pre Cleanup ===",
    "=== Cleanup ===",
    "=== Finished ===",
];

/// The header printed before the status lines of a timed phase.
pub const STATUS_HEADER: &str = "    Current        Total      Average";

/// Whether `line` is a stage header (`=== Name ===`).
pub(crate) fn is_stage_header(line: &str) -> bool {
    line.starts_with("=== ") && line.ends_with(" ===")
}

/// The lines of `stdout` after `=== {stage} ===`, up to the next header
/// (empty if the stage is absent).
pub(crate) fn section<'a>(stdout: &'a str, stage: &str) -> Vec<&'a str> {
    let header = format!("=== {stage} ===");
    stdout
        .lines()
        .skip_while(|line| *line != header)
        .skip(1)
        .take_while(|line| !is_stage_header(line))
        .collect()
}

/// `Completed {total} operations in a weighted-average of {w}s ({ops} ops/s, {spo} s/op)`
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResultsLine {
    /// Operations completed by every instance.
    pub total: u64,
    /// The weighted average of the instances' last completion times.
    pub weighted_average_seconds: f64,
    /// The sum over instances of completed operations / last completion.
    pub operations_per_second: f64,
    /// `1 / operations_per_second`.
    pub seconds_per_operation: f64,
}

impl ResultsLine {
    /// Parses a results line; `None` if it is not one.
    pub fn parse(line: &str) -> Option<Self> {
        let rest = line.strip_prefix("Completed ")?;
        let (total, rest) = rest.split_once(" operations in a weighted-average of ")?;
        let (weighted, rest) = rest.split_once("s (")?;
        let (ops, rest) = rest.split_once(" ops/s, ")?;
        let spo = rest.strip_suffix(" s/op)")?;
        Some(Self {
            total: parse_grouped(total)? as u64,
            weighted_average_seconds: parse_grouped(weighted)?,
            operations_per_second: parse_grouped(ops)?,
            seconds_per_operation: parse_grouped(spo)?,
        })
    }
}

/// Parses a number with `,` thousands separators, checking the grouping.
pub fn parse_grouped(text: &str) -> Option<f64> {
    let (integer, _) = text.split_once('.').unwrap_or((text, ""));
    let groups: Vec<&str> = integer.split(',').collect();
    let well_grouped = groups.iter().enumerate().all(|(index, group)| {
        !group.is_empty()
            && group.chars().all(|c| c.is_ascii_digit())
            && ((index == 0 && group.len() <= 3) || group.len() == 3)
    });
    if !well_grouped {
        return None;
    }
    text.replace(',', "").parse().ok()
}

/// A status line: current, total, average.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatusLine {
    /// Operations completed since the previous status line.
    pub current: u64,
    /// Operations completed since the start of the phase.
    pub total: u64,
    /// The phase's rate so far, in operations per second.
    pub average: f64,
}

impl StatusLine {
    /// Parses a status line (three numbers); `None` if it is not one.
    pub fn parse(line: &str) -> Option<Self> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [current, total, average] => Some(StatusLine {
                current: parse_grouped(current)? as u64,
                total: parse_grouped(total)? as u64,
                average: average.replace(',', "").parse().ok()?,
            }),
            _ => None,
        }
    }
}

/// The status lines among `lines` (a timed phase's section): every line
/// that is three numbers.
pub fn status_lines(lines: &[&str]) -> Vec<StatusLine> {
    lines
        .iter()
        .filter_map(|line| StatusLine::parse(line))
        .collect()
}

/// `"1 process"`, `"2 processes"`: as the options line says it.
pub fn processes_text(processes: usize) -> String {
    if processes == 1 {
        "1 process".to_owned()
    } else {
        format!("{processes} processes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_numbers() {
        assert_eq!(parse_grouped("1,234,567.5"), Some(1_234_567.5));
        assert_eq!(parse_grouped("999"), Some(999.0));
        assert_eq!(parse_grouped("1234"), None, "four digits need a comma");
        assert_eq!(parse_grouped("1,23"), None);
        assert_eq!(parse_grouped(",123"), None);
        assert_eq!(parse_grouped("-1"), None);
    }

    #[test]
    fn results_and_status_lines() {
        let line = "Completed 1,040 operations in a weighted-average of 2.038s (510.3 ops/s, 0.001960 s/op)";
        assert_eq!(
            ResultsLine::parse(line),
            Some(ResultsLine {
                total: 1040,
                weighted_average_seconds: 2.038,
                operations_per_second: 510.3,
                seconds_per_operation: 0.00196,
            })
        );
        assert_eq!(ResultsLine::parse("Completed without statistics"), None);
        assert_eq!(
            status_lines(&[STATUS_HEADER, "        18           18        19.71", ""]),
            [StatusLine {
                current: 18,
                total: 18,
                average: 19.71
            }]
        );
    }

    #[test]
    fn sections_end_at_the_next_header() {
        let stdout = "=== Options ===\nA\n\n=== Setup ===\n\n=== Tests ===\nB\n";
        assert_eq!(section(stdout, "Options"), ["A", ""]);
        assert_eq!(section(stdout, "Tests"), ["B"]);
        assert!(section(stdout, "Warmup").is_empty());
    }
}
