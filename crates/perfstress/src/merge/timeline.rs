//! `merge`'s timelines: the `--timeline` files of the shards merged into
//! the whole run's, interval by interval, and their `--histogram-log`
//! files into the whole run's interval histograms.
//!
//! Shards started independently share no clock: their intervals are
//! aligned by index within each phase (and iteration), interval `k` of
//! every shard being the `k`-th status interval since that shard's phase
//! started. Per merged interval: operations and errors (per group) are
//! summed, totals are the sums of the shards' totals, ops/s is the summed
//! operations over the interval's length (the earliest start to the latest
//! end of the shards' intervals), RSS and CPU are summed over the shards
//! as the live timeline sums them over processes, and the latency
//! percentiles are those of the merged interval histograms (exact: the
//! shards' histogram logs carry the histograms; the timeline lines only
//! their percentiles, which do not merge).
//!
//! A shard whose phase has fewer intervals than another's (its last,
//! partial interval ended a tick earlier) adds nothing to the later
//! intervals but its totals: its operations are all in its earlier ones,
//! and its processes had ended (no CPU, no RSS).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use serde::Deserialize;

use crate::error::{Error, ErrorKind};
use crate::metrics::{IntervalLatency, IntervalRecord, LatencyHistogram};
use crate::phase::Phase;
use crate::report::TimelineLine;

/// Shorter intervals get no rate, as in a run's timeline.
const MIN_RATE_SECONDS: f64 = 0.001;

fn usage(message: String) -> Error {
    Error::new(ErrorKind::Usage, message)
}

/// The latency part of a timeline line that merging reads.
#[derive(Debug, Deserialize)]
struct LineLatency {
    count: u64,
}

/// A timeline line as written by a run (`report::TimelineLine`); fields
/// it does not know are kept in `extra`.
#[derive(Debug, Deserialize)]
struct Line {
    phase: String,
    #[serde(default)]
    iteration: Option<usize>,
    interval: u32,
    start_seconds: f64,
    end_seconds: f64,
    operations: u64,
    total_operations: u64,
    #[serde(default)]
    errors: BTreeMap<String, u64>,
    #[serde(default)]
    total_errors: u64,
    #[serde(default)]
    latency_ms: Option<LineLatency>,
    #[serde(default)]
    cpu_percent: Option<f64>,
    #[serde(default)]
    rss_bytes: Option<u64>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// The fields of a line that merging computes (the rest are `extra`).
const KNOWN: [&str; 3] = ["final", "operations_per_second", "latency_ms"];

/// A phase of a timeline: the warm-up, or the timed run's iteration.
type Group = (Phase, Option<usize>);

/// One shard's `--timeline` file, its lines by phase and iteration, each
/// group's intervals in order from 0.
#[derive(Debug)]
pub(crate) struct ShardTimeline {
    path: PathBuf,
    groups: Vec<(Group, Vec<Line>)>,
}

/// One shard's `--histogram-log` file: the interval histograms of each
/// iteration (its tag `iteration-N`; `None` without `--iterations`), in
/// order.
#[derive(Debug)]
pub(crate) struct ShardHistogramLog {
    path: PathBuf,
    iterations: BTreeMap<Option<usize>, Vec<LatencyHistogram>>,
}

/// Whether `text` looks like a timeline (its first line a JSON object with
/// `phase` and `interval`).
pub(crate) fn is_timeline(text: &str) -> bool {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .and_then(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .is_some_and(|value| value.get("phase").is_some() && value.get("interval").is_some())
}

/// Whether `text` looks like an HdrHistogram interval log (it starts with
/// a `#` comment or header, as every writer's does).
pub(crate) fn is_histogram_log(text: &str) -> bool {
    text.trim_start().starts_with('#')
}

impl ShardTimeline {
    /// Reads `text`, the timeline file at `path`.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Self, Error> {
        let mut groups: Vec<(Group, Vec<Line>)> = Vec::new();
        for (number, text) in text.lines().enumerate() {
            if text.trim().is_empty() {
                continue;
            }
            let at = || format!("{}:{}", path.display(), number + 1);
            let line: Line = serde_json::from_str(text)
                .map_err(|error| usage(format!("{}: not a --timeline line ({error})", at())))?;
            let phase = match line.phase.as_str() {
                "warmup" => Phase::Warmup,
                "run" => Phase::Run,
                other => {
                    return Err(usage(format!(
                        "{}: phase `{other}` is neither `warmup` nor `run`",
                        at()
                    )));
                }
            };
            let group = (phase, line.iteration);
            let lines = match groups.iter_mut().find(|(key, _)| *key == group) {
                Some((_, lines)) => lines,
                None => {
                    groups.push((group, Vec::new()));
                    &mut groups.last_mut().expect("just pushed").1
                }
            };
            if line.interval as usize != lines.len() {
                return Err(usage(format!(
                    "{}: interval {} of {} follows interval {}: not a whole timeline",
                    at(),
                    line.interval,
                    group_name(group),
                    lines.len() as i64 - 1
                )));
            }
            lines.push(line);
        }
        if groups.is_empty() {
            return Err(usage(format!(
                "{} is an empty timeline (its run recorded no interval)",
                path.display()
            )));
        }
        Ok(Self {
            path: path.to_owned(),
            groups,
        })
    }

    /// Checks that this is the timeline of the run whose results file
    /// `results` (at `results_path`) is: the operations its timed run's
    /// intervals add up to are the results' (per iteration with
    /// `--iterations`).
    pub(crate) fn check_results(
        &self,
        results_path: &Path,
        results: &serde_json::Value,
    ) -> Result<(), Error> {
        let iterations = results["iterations"].as_array().filter(|all| all.len() > 1);
        let mut runs = 0;
        for ((phase, iteration), lines) in &self.groups {
            if *phase != Phase::Run {
                continue;
            }
            runs += 1;
            let expected = match (iterations, iteration) {
                (Some(all), Some(iteration)) => all
                    .get(iteration.wrapping_sub(1))
                    .and_then(|figures| figures["total_operations"].as_u64()),
                (None, None) => results["total_operations"].as_u64(),
                _ => None,
            };
            let found = lines.last().map(|line| line.total_operations);
            if expected != found {
                return Err(usage(format!(
                    "{} is not the timeline of {}: {} in it completed {} operations, the results file says {}",
                    self.path.display(),
                    results_path.display(),
                    group_name((*phase, *iteration)),
                    found.unwrap_or(0),
                    expected.map_or_else(|| "nothing of it".to_owned(), |count| count.to_string()),
                )));
            }
        }
        let expected_runs = iterations.map_or(1, Vec::len);
        if runs != expected_runs {
            return Err(usage(format!(
                "{} is not the timeline of {}: it holds {runs} timed runs, the results file {expected_runs}",
                self.path.display(),
                results_path.display()
            )));
        }
        Ok(())
    }

    /// Whether any line carries interval latency.
    fn has_latency(&self) -> bool {
        self.groups
            .iter()
            .any(|(_, lines)| lines.iter().any(|line| line.latency_ms.is_some()))
    }
}

impl ShardHistogramLog {
    /// Reads `text`, the interval log at `path`.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Self, Error> {
        let mut iterations: BTreeMap<Option<usize>, Vec<LatencyHistogram>> = BTreeMap::new();
        for entry in IntervalLogIterator::new(text.as_bytes()) {
            let entry = entry.map_err(|error| {
                usage(format!(
                    "{} is not an HdrHistogram interval log: {error:?}",
                    path.display()
                ))
            })?;
            let LogEntry::Interval(interval) = entry else {
                continue;
            };
            let iteration = match interval.tag() {
                None => None,
                Some(tag) => Some(
                    tag.as_str()
                        .strip_prefix("iteration-")
                        .and_then(|index| index.parse().ok())
                        .ok_or_else(|| {
                            usage(format!(
                                "{}: tag `{}` is not a perfstress iteration's (`iteration-N`)",
                                path.display(),
                                tag.as_str()
                            ))
                        })?,
                ),
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(interval.encoded_histogram())
                .map_err(|error| {
                    usage(format!(
                        "{}: an interval's histogram is not base64: {error}",
                        path.display()
                    ))
                })?;
            let latency = LatencyHistogram::from_bytes(&bytes).ok_or_else(|| {
                usage(format!(
                    "{}: an interval's histogram does not decode",
                    path.display()
                ))
            })?;
            iterations.entry(iteration).or_default().push(latency);
        }
        Ok(Self {
            path: path.to_owned(),
            iterations,
        })
    }
}

/// The interval histograms of a group's lines (`None` for a line without
/// latency), in line order.
type LineHistograms<'a> = Vec<Option<&'a LatencyHistogram>>;

/// A shard's lines of one group, with their histograms if given.
type Row<'a> = (&'a [Line], Option<&'a LineHistograms<'a>>);

/// A shard's timeline with its interval histograms (run lines with
/// latency, in order), if its histogram log was given.
struct Shard<'a> {
    timeline: &'a ShardTimeline,
    histograms: Option<Vec<(Group, LineHistograms<'a>)>>,
}

/// Pairs the histograms of `log` with the timed run's lines of `timeline`
/// that carry latency, checking that they are the same intervals.
fn pair_histograms<'a>(
    timeline: &'a ShardTimeline,
    log: &'a ShardHistogramLog,
) -> Result<Vec<(Group, LineHistograms<'a>)>, Error> {
    let mismatch = |why: String| {
        usage(format!(
            "{} is not the histogram log of {}: {why}",
            log.path.display(),
            timeline.path.display()
        ))
    };
    let mut paired = Vec::new();
    for (group, lines) in &timeline.groups {
        let (phase, iteration) = *group;
        let mut histograms = phase
            .eq(&Phase::Run)
            .then(|| log.iterations.get(&iteration))
            .flatten()
            .map(|all| all.iter())
            .into_iter()
            .flatten();
        let mut row = Vec::with_capacity(lines.len());
        for line in lines {
            let histogram = match &line.latency_ms {
                Some(latency) if phase == Phase::Run => {
                    let histogram = histograms.next().ok_or_else(|| {
                        mismatch(format!(
                            "it has no histogram for interval {} of {}",
                            line.interval,
                            group_name(*group)
                        ))
                    })?;
                    if histogram.count() != latency.count {
                        return Err(mismatch(format!(
                            "interval {} of {} timed {} operations, its histogram holds {}",
                            line.interval,
                            group_name(*group),
                            latency.count,
                            histogram.count()
                        )));
                    }
                    Some(histogram)
                }
                _ => None,
            };
            row.push(histogram);
        }
        if histograms.next().is_some() {
            return Err(mismatch(format!(
                "it has more interval histograms of {} than the timeline has intervals with latency",
                group_name(*group)
            )));
        }
        paired.push((*group, row));
    }
    let runs: Vec<Option<usize>> = timeline
        .groups
        .iter()
        .filter(|((phase, _), _)| *phase == Phase::Run)
        .map(|((_, iteration), _)| *iteration)
        .collect();
    if let Some(other) = log.iterations.keys().find(|key| !runs.contains(key)) {
        return Err(mismatch(format!(
            "it has histograms of {}, which the timeline has not",
            group_name((Phase::Run, *other))
        )));
    }
    Ok(paired)
}

fn group_name((phase, iteration): Group) -> String {
    match (phase, iteration) {
        (Phase::Warmup, _) => "the warm-up".to_owned(),
        (_, Some(iteration)) => format!("iteration {iteration}"),
        _ => "the timed run".to_owned(),
    }
}

/// One merged interval: its record (as a run's timeline writes it), its
/// iteration, and the extra fields carried over.
#[derive(Debug)]
pub(crate) struct MergedInterval {
    /// What the timeline and the histogram log write.
    pub(crate) record: IntervalRecord,
    /// The timed run's iteration (`--iterations`).
    pub(crate) iteration: Option<usize>,
    /// Fields of the shards' lines that merging does not know: arrays
    /// (per-process figures) joined in shard order; others are dropped.
    extra: serde_json::Map<String, serde_json::Value>,
}

impl MergedInterval {
    /// The interval's timeline line (JSON, no newline).
    pub(crate) fn to_line(&self) -> serde_json::Result<Vec<u8>> {
        let mut line = serde_json::to_vec(&TimelineLine::new(&self.record, self.iteration))?;
        for (name, value) in &self.extra {
            // Before the closing brace, so the known fields keep their order.
            line.pop();
            line.push(b',');
            serde_json::to_writer(&mut line, name)?;
            line.push(b':');
            serde_json::to_writer(&mut line, value)?;
            line.push(b'}');
        }
        Ok(line)
    }
}

/// Merges the shards' timelines (in shard order), with their histogram
/// logs when given (`logs` is empty or one per timeline, in the same
/// order). Interval latency needs the histogram logs: percentiles do not
/// merge.
pub(crate) fn merge(
    timelines: &[&ShardTimeline],
    logs: &[&ShardHistogramLog],
) -> Result<Vec<MergedInterval>, Error> {
    if logs.is_empty()
        && let Some(timeline) = timelines.iter().find(|timeline| timeline.has_latency())
    {
        return Err(usage(format!(
            "{} has interval latency (--latency): its percentiles merge exactly only from the interval histograms; give each shard's --histogram-log file after its results file",
            timeline.path.display()
        )));
    }
    let mut shards = Vec::with_capacity(timelines.len());
    for (index, timeline) in timelines.iter().enumerate() {
        let histograms = match logs.get(index) {
            Some(log) => Some(pair_histograms(timeline, log)?),
            None => None,
        };
        shards.push(Shard {
            timeline,
            histograms,
        });
    }
    // Every phase and iteration, in the order the shards' files hold them.
    let mut groups: Vec<Group> = Vec::new();
    for timeline in timelines {
        for (group, _) in &timeline.groups {
            if !groups.contains(group) {
                groups.push(*group);
            }
        }
    }
    let mut merged = Vec::new();
    for group in groups {
        let rows: Vec<Row<'_>> = shards
            .iter()
            .map(|shard| {
                let lines = shard
                    .timeline
                    .groups
                    .iter()
                    .find(|(key, _)| *key == group)
                    .map_or(&[][..], |(_, lines)| &lines[..]);
                let histograms = shard
                    .histograms
                    .as_ref()
                    .and_then(|histograms| histograms.iter().find(|(key, _)| *key == group))
                    .map(|(_, row)| row);
                (lines, histograms)
            })
            .collect();
        let count = rows.iter().map(|(lines, _)| lines.len()).max().unwrap_or(0);
        for index in 0..count {
            merged.push(merge_interval(group, index, count, &rows));
        }
    }
    Ok(merged)
}

/// Interval `index` of `count` of `group`, from each shard's lines.
fn merge_interval(
    (phase, iteration): Group,
    index: usize,
    count: usize,
    rows: &[Row<'_>],
) -> MergedInterval {
    let mut start = f64::INFINITY;
    let mut end: f64 = 0.0;
    let mut operations = 0;
    let mut total_operations = 0;
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut total_errors = 0;
    let mut histogram: Option<LatencyHistogram> = None;
    let mut cpu_seconds: Option<f64> = None;
    let mut rss_bytes: Option<u64> = None;
    let mut extra: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    let mut dropped: Vec<String> = Vec::new();
    for (lines, histograms) in rows {
        // A shard whose phase ended earlier keeps its totals.
        if let Some(last) = lines.get(index).or(lines.last()) {
            total_operations += last.total_operations;
            total_errors += last.total_errors;
        }
        let Some(line) = lines.get(index) else {
            continue;
        };
        start = start.min(line.start_seconds);
        end = end.max(line.end_seconds);
        operations += line.operations;
        for (group, count) in &line.errors {
            *errors.entry(group.clone()).or_default() += count;
        }
        if let Some(shard) = histograms.and_then(|all| all.get(index).copied().flatten()) {
            histogram
                .get_or_insert_with(LatencyHistogram::new)
                .merge(shard);
        }
        if let Some(percent) = line.cpu_percent {
            let seconds = percent / 100.0 * (line.end_seconds - line.start_seconds);
            cpu_seconds = Some(cpu_seconds.unwrap_or(0.0) + seconds);
        }
        if let Some(rss) = line.rss_bytes {
            rss_bytes = Some(rss_bytes.unwrap_or(0) + rss);
        }
        for (name, value) in &line.extra {
            if KNOWN.contains(&name.as_str()) || dropped.contains(name) {
                continue;
            }
            match (extra.get_mut(name), value) {
                (Some(serde_json::Value::Array(all)), serde_json::Value::Array(more)) => {
                    all.extend(more.iter().cloned());
                }
                (None, serde_json::Value::Array(_)) => {
                    extra.insert(name.clone(), value.clone());
                }
                _ => {
                    extra.remove(name);
                    dropped.push(name.clone());
                }
            }
        }
    }
    let seconds = end - start;
    let has_rate = seconds >= MIN_RATE_SECONDS;
    let record = IntervalRecord {
        phase,
        index: index as u32,
        start_seconds: start,
        end_seconds: end,
        is_final: index + 1 == count,
        operations,
        total_operations,
        operations_per_second: has_rate.then(|| operations as f64 / seconds),
        errors,
        total_errors,
        latency: histogram.as_ref().map(IntervalLatency::of),
        histogram,
        cpu_percent: cpu_seconds
            .filter(|_| has_rate)
            .map(|cpu| cpu / seconds * 100.0),
        rss_bytes,
        // The shards' `process_operations` are joined through `extra`.
        process_operations: Vec::new(),
    };
    MergedInterval {
        record,
        iteration,
        extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(name: &str, text: &str) -> ShardTimeline {
        ShardTimeline::parse(Path::new(name), text).unwrap()
    }

    const A: &str = r#"{"phase":"warmup","interval":0,"start_seconds":0.0,"end_seconds":0.5,"final":true,"operations":4,"total_operations":4,"operations_per_second":8.0,"errors":{},"total_errors":0,"cpu_percent":10.0,"rss_bytes":100,"process_operations":[4]}
{"phase":"run","interval":0,"start_seconds":0.0,"end_seconds":1.0,"final":false,"operations":10,"total_operations":10,"operations_per_second":10.0,"errors":{"timeout":1},"total_errors":1,"cpu_percent":20.0,"rss_bytes":100,"process_operations":[10],"note":"a"}
{"phase":"run","interval":1,"start_seconds":1.0,"end_seconds":1.5,"final":true,"operations":5,"total_operations":15,"operations_per_second":10.0,"errors":{},"total_errors":1,"cpu_percent":20.0,"rss_bytes":120,"process_operations":[5],"note":"a"}
"#;
    const B: &str = r#"{"phase":"warmup","interval":0,"start_seconds":0.0,"end_seconds":0.5,"final":true,"operations":6,"total_operations":6,"operations_per_second":12.0,"errors":{},"total_errors":0,"cpu_percent":30.0,"rss_bytes":200,"process_operations":[6]}
{"phase":"run","interval":0,"start_seconds":0.0,"end_seconds":1.0,"final":false,"operations":20,"total_operations":20,"operations_per_second":20.0,"errors":{"timeout":2,"refused":1},"total_errors":3,"cpu_percent":40.0,"rss_bytes":200,"process_operations":[20],"note":"b"}
{"phase":"run","interval":1,"start_seconds":1.0,"end_seconds":2.0,"final":false,"operations":20,"total_operations":40,"operations_per_second":20.0,"errors":{},"total_errors":3,"cpu_percent":40.0,"rss_bytes":200,"process_operations":[20],"note":"b"}
{"phase":"run","interval":2,"start_seconds":2.0,"end_seconds":2.01,"final":true,"operations":1,"total_operations":41,"operations_per_second":100.0,"errors":{},"total_errors":3,"cpu_percent":0.0,"rss_bytes":210,"process_operations":[1],"note":"b"}
"#;

    fn line(interval: &MergedInterval) -> serde_json::Value {
        serde_json::from_slice(&interval.to_line().unwrap()).unwrap()
    }

    #[test]
    fn intervals_merge_by_index_with_sums_and_recomputed_rates() {
        let merged = merge(&[&timeline("a", A), &timeline("b", B)], &[]).unwrap();
        let lines: Vec<serde_json::Value> = merged.iter().map(line).collect();
        assert_eq!(lines.len(), 4);
        let warmup = &lines[0];
        assert_eq!(warmup["phase"], "warmup");
        assert_eq!(warmup["operations"], 10);
        assert_eq!(warmup["operations_per_second"], 20.0);
        assert_eq!(warmup["final"], true);
        assert_eq!(warmup["cpu_percent"], 40.0);
        assert_eq!(warmup["rss_bytes"], 300);
        assert_eq!(warmup["process_operations"], serde_json::json!([4, 6]));
        let first = &lines[1];
        assert_eq!(first["operations"], 30);
        assert_eq!(first["total_operations"], 30);
        assert_eq!(
            first["errors"],
            serde_json::json!({"timeout": 3, "refused": 1})
        );
        assert_eq!(first["total_errors"], 4);
        assert_eq!(first["final"], false);
        // Strings do not merge: dropped.
        assert!(first.get("note").is_none());
        // Interval 1: a's (half an interval, final) and b's; the length
        // is the longer one's.
        let second = &lines[2];
        assert_eq!(second["operations"], 25);
        assert_eq!(second["total_operations"], 55);
        assert_eq!(second["operations_per_second"], 25.0);
        assert_eq!(second["final"], false);
        // 20% of 0.5 s + 40% of 1 s over 1 s.
        assert!((second["cpu_percent"].as_f64().unwrap() - 50.0).abs() < 1e-9);
        // Interval 2 only b has: a adds its totals, nothing else.
        let third = &lines[3];
        assert_eq!(third["operations"], 1);
        assert_eq!(third["total_operations"], 56);
        assert_eq!(third["total_errors"], 4);
        assert_eq!(third["rss_bytes"], 210);
        assert_eq!(third["final"], true);
        assert_eq!(third["process_operations"], serde_json::json!([1]));
        // The intervals add up to the totals.
        let run: u64 = lines[1..]
            .iter()
            .map(|line| line["operations"].as_u64().unwrap())
            .sum();
        assert_eq!(run, 15 + 41);
    }

    #[test]
    fn a_gap_or_an_empty_file_is_not_a_timeline() {
        let gap = A.replace(r#""interval":1"#, r#""interval":2"#);
        let error = ShardTimeline::parse(Path::new("t"), &gap).unwrap_err();
        assert!(
            error.to_string().contains("not a whole timeline"),
            "{error}"
        );
        assert!(ShardTimeline::parse(Path::new("t"), "\n").is_err());
    }

    #[test]
    fn a_timeline_is_checked_against_its_results_file() {
        let a = timeline("a", A);
        a.check_results(Path::new("r"), &serde_json::json!({"total_operations": 15}))
            .unwrap();
        let error = a
            .check_results(Path::new("r"), &serde_json::json!({"total_operations": 41}))
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("a is not the timeline of r: the timed run in it completed 15 operations, the results file says 41"),
            "{error}"
        );
    }

    #[test]
    fn latency_needs_the_histogram_logs() {
        let with_latency = A.replace(
            r#""cpu_percent":20.0"#,
            r#""latency_ms":{"count":10,"p50":1.0,"p90":1.0,"p99":1.0,"max":1.0},"cpu_percent":20.0"#,
        );
        let error = merge(&[&timeline("a", &with_latency)], &[]).unwrap_err();
        assert!(error.to_string().contains("--histogram-log"), "{error}");
    }
}
