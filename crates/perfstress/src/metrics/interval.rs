//! The run over time: what each status tick saw ([`TickReport`], per
//! process and merged across processes by tick), turned into one
//! [`IntervalRecord`] per status interval by [`Timeline`], plus the last,
//! partial interval of each phase, so that the intervals add up exactly to
//! the phase's totals. And the memory trend of the timed run (peak RSS and
//! the leak slope by least squares).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ErrorGroups, InstanceSnapshot, LatencyHistogram, PhaseMeasurement};
use crate::phase::Phase;

/// What one status tick saw, in one process or merged over all of them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct TickReport {
    /// Every instance's progress, in parallel-index order.
    pub(crate) snapshots: Vec<InstanceSnapshot>,
    /// Errors counted since the phase started (stress mode).
    #[serde(default)]
    pub(crate) errors: ErrorGroups,
    /// Latency of the operations completed in this interval (with
    /// `--latency` and a timeline or histogram log).
    #[serde(default)]
    pub(crate) latency: Option<LatencyHistogram>,
    /// Resident memory at the tick, in bytes (summed over processes).
    #[serde(default)]
    pub(crate) rss_bytes: Option<u64>,
    /// CPU seconds used since the phase started (summed over processes).
    #[serde(default)]
    pub(crate) cpu_seconds: Option<f64>,
    /// With several processes (or hosts): the operations each completed
    /// since the phase started, in the order of their shares (`None`: it
    /// was lost); set by the parent as it merges the ticks, empty
    /// otherwise.
    #[serde(skip)]
    pub(crate) process_operations: Vec<Option<u64>>,
}

impl TickReport {
    /// Operations completed since the phase started, all instances.
    pub(crate) fn completed_operations(&self) -> u64 {
        self.snapshots
            .iter()
            .map(|snapshot| snapshot.completed_operations)
            .sum()
    }

    /// Adds another process's report of the same tick.
    pub(crate) fn merge(&mut self, other: &TickReport) {
        self.snapshots.extend_from_slice(&other.snapshots);
        self.errors.merge(&other.errors);
        if let Some(latency) = &other.latency {
            match &mut self.latency {
                Some(mine) => mine.merge(latency),
                None => self.latency = Some(latency.clone()),
            }
        }
        self.rss_bytes = sum(self.rss_bytes, other.rss_bytes);
        self.cpu_seconds = sum(self.cpu_seconds, other.cpu_seconds);
    }
}

fn sum<T: std::ops::Add<Output = T>>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// The latency figures of one interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct IntervalLatency {
    /// Operations timed in the interval.
    pub(crate) count: u64,
    /// Median.
    pub(crate) p50: Duration,
    /// 90th percentile.
    pub(crate) p90: Duration,
    /// 99th percentile.
    pub(crate) p99: Duration,
    /// The slowest.
    pub(crate) max: Duration,
}

impl IntervalLatency {
    /// The figures of `histogram`.
    pub(crate) fn of(histogram: &LatencyHistogram) -> Self {
        Self {
            count: histogram.count(),
            p50: histogram.percentile(50.0),
            p90: histogram.percentile(90.0),
            p99: histogram.percentile(99.0),
            max: histogram.percentile(100.0),
        }
    }
}

/// One status interval of a timed phase, as the timeline writes it.
#[derive(Clone, Debug)]
pub(crate) struct IntervalRecord {
    /// Warm-up or the timed run.
    pub(crate) phase: Phase,
    /// 0, 1, ... within the phase.
    pub(crate) index: u32,
    /// Seconds since the phase started, at the interval's start and end.
    pub(crate) start_seconds: f64,
    /// See `start_seconds`.
    pub(crate) end_seconds: f64,
    /// The last interval of the phase (partial, or the operations that
    /// completed as the phase stopped).
    pub(crate) is_final: bool,
    /// Operations completed in the interval.
    pub(crate) operations: u64,
    /// Operations completed since the phase started.
    pub(crate) total_operations: u64,
    /// `operations / (end - start)`; `None` for an interval too short.
    pub(crate) operations_per_second: Option<f64>,
    /// Errors in the interval, by group.
    pub(crate) errors: BTreeMap<String, u64>,
    /// Errors since the phase started.
    pub(crate) total_errors: u64,
    /// The interval's latency histogram, if recorded.
    pub(crate) histogram: Option<LatencyHistogram>,
    /// What it says.
    pub(crate) latency: Option<IntervalLatency>,
    /// CPU use in the interval, in percent of one core (all processes).
    pub(crate) cpu_percent: Option<f64>,
    /// Resident memory at the interval's end (all processes).
    pub(crate) rss_bytes: Option<u64>,
    /// With several processes (or hosts): each one's operations completed
    /// in the interval, in the order of their shares; empty otherwise.
    pub(crate) process_operations: Vec<u64>,
}

/// Shorter intervals get no rate (a last interval of a few microseconds
/// would give a meaningless one).
const MIN_RATE_SECONDS: f64 = 0.001;

/// Turns a phase's tick reports into interval records.
#[derive(Debug)]
pub(crate) struct Timeline {
    phase: Phase,
    interval: Duration,
    /// Whether the ticks carry each interval's latency (then the last
    /// interval's is the phase's histogram less theirs).
    interval_latency: bool,
    ticks: u32,
    previous_end: f64,
    previous_operations: u64,
    previous_errors: ErrorGroups,
    previous_cpu: Option<f64>,
    /// Every interval histogram so far: the last interval's is the phase's
    /// histogram less this.
    latency_sum: Option<LatencyHistogram>,
    last_rss: Option<u64>,
    /// `(seconds since the start, bytes)` at each tick.
    memory: Vec<(f64, u64)>,
    /// Each process's operations since the phase started, at the last
    /// interval's end (several processes only).
    previous_processes: Vec<u64>,
}

impl Timeline {
    /// The timeline of `phase`, ticking every `interval`; with
    /// `interval_latency` its ticks carry each interval's latency.
    pub(crate) fn new(phase: Phase, interval: Duration, interval_latency: bool) -> Self {
        Self {
            phase,
            interval,
            interval_latency,
            ticks: 0,
            previous_end: 0.0,
            previous_operations: 0,
            previous_errors: ErrorGroups::default(),
            previous_cpu: Some(0.0),
            latency_sum: None,
            last_rss: None,
            memory: Vec::new(),
            previous_processes: Vec::new(),
        }
    }

    /// The interval that tick `tick` ended.
    pub(crate) fn tick(&mut self, tick: u32, report: &TickReport) -> IntervalRecord {
        let end = self.interval.as_secs_f64() * f64::from(tick);
        let total = report.completed_operations();
        if let Some(latency) = &report.latency {
            match &mut self.latency_sum {
                Some(sum) => sum.merge(latency),
                None => self.latency_sum = Some(latency.clone()),
            }
        }
        if let Some(rss) = report.rss_bytes {
            self.memory.push((end, rss));
            self.last_rss = Some(rss);
        }
        self.ticks = tick;
        self.record(
            end,
            false,
            total,
            &report.errors,
            report.latency.clone(),
            report.cpu_seconds,
            report.rss_bytes,
            &report.process_operations,
        )
    }

    /// The last interval: from the last tick to `end_seconds`, with what
    /// the phase measured in the end. `None` if it holds nothing (the phase
    /// ended on a tick and nothing completed after it).
    pub(crate) fn finish(
        &mut self,
        measurement: &PhaseMeasurement,
        end_seconds: f64,
    ) -> Option<IntervalRecord> {
        let total = measurement.completed_operations();
        let latency = measurement
            .latency
            .as_ref()
            .filter(|_| self.interval_latency)
            .map(|record| {
                let mut rest = record.service.clone();
                if let Some(sum) = &self.latency_sum {
                    rest.subtract(sum);
                }
                rest
            });
        let end = end_seconds.max(self.previous_end);
        let record = self.record(
            end,
            true,
            total,
            &measurement.errors,
            latency,
            measurement.cpu_seconds,
            self.last_rss,
            &measurement.process_operations,
        );
        let empty = record.operations == 0
            && record.errors.is_empty()
            && record.latency.is_none_or(|latency| latency.count == 0);
        (end - record.start_seconds >= MIN_RATE_SECONDS || !empty).then_some(record)
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        end: f64,
        is_final: bool,
        total: u64,
        errors: &ErrorGroups,
        histogram: Option<LatencyHistogram>,
        cpu_seconds: Option<f64>,
        rss_bytes: Option<u64>,
        processes: &[Option<u64>],
    ) -> IntervalRecord {
        let start = self.previous_end;
        let seconds = end - start;
        let operations = total.saturating_sub(self.previous_operations);
        let cpu_percent = match (cpu_seconds, self.previous_cpu) {
            (Some(now), Some(before)) if seconds >= MIN_RATE_SECONDS => {
                Some(((now - before) / seconds * 100.0).max(0.0))
            }
            _ => None,
        };
        let record = IntervalRecord {
            phase: self.phase,
            index: if is_final { self.ticks } else { self.ticks - 1 },
            start_seconds: start,
            end_seconds: end,
            is_final,
            operations,
            total_operations: total,
            operations_per_second: (seconds >= MIN_RATE_SECONDS)
                .then(|| operations as f64 / seconds),
            errors: errors.since(&self.previous_errors),
            total_errors: errors.total(),
            latency: histogram.as_ref().map(IntervalLatency::of),
            histogram,
            cpu_percent,
            rss_bytes,
            process_operations: self.process_operations(processes),
        };
        self.previous_end = end;
        self.previous_operations = total;
        self.previous_errors = errors.clone();
        self.previous_cpu = cpu_seconds;
        record
    }

    /// Each process's operations since the last interval, from their
    /// totals `processes` now (a lost one's stays where it was).
    fn process_operations(&mut self, processes: &[Option<u64>]) -> Vec<u64> {
        if processes.len() < 2 {
            return Vec::new();
        }
        self.previous_processes.resize(processes.len(), 0);
        processes
            .iter()
            .zip(&mut self.previous_processes)
            .map(|(now, previous)| {
                let now = now.unwrap_or(*previous);
                let operations = now.saturating_sub(*previous);
                *previous = now;
                operations
            })
            .collect()
    }

    /// `(seconds since the start, resident bytes)` at each tick so far.
    pub(crate) fn memory_samples(&self) -> &[(f64, u64)] {
        &self.memory
    }
}

/// Resident memory over the timed run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct MemoryTrend {
    /// The largest sample (all processes together), in bytes.
    pub(crate) peak_bytes: u64,
    /// Growth by least squares over the samples, in bytes per minute;
    /// `None` with fewer than 3 samples.
    pub(crate) slope_bytes_per_minute: Option<f64>,
    /// Samples the figures come from.
    pub(crate) samples: usize,
}

impl MemoryTrend {
    /// The trend of `samples` (`(seconds, bytes)`); `None` without any.
    pub(crate) fn from_samples(samples: &[(f64, u64)]) -> Option<Self> {
        let peak_bytes = samples.iter().map(|(_, bytes)| *bytes).max()?;
        Some(Self {
            peak_bytes,
            slope_bytes_per_minute: least_squares_slope(samples).map(|slope| slope * 60.0),
            samples: samples.len(),
        })
    }
}

/// The slope of the least-squares line through `points`, in y per x;
/// `None` with fewer than 3 points or all at one x.
fn least_squares_slope(points: &[(f64, u64)]) -> Option<f64> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, y)| *y as f64).sum::<f64>() / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for (x, y) in points {
        covariance += (x - mean_x) * (*y as f64 - mean_y);
        variance += (x - mean_x) * (x - mean_x);
    }
    (variance > 0.0).then(|| covariance / variance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn report(ops: u64, errors: &[&str]) -> TickReport {
        let mut groups = ErrorGroups::default();
        for message in errors {
            groups.record(&Error::msg(*message));
        }
        let mut latency = LatencyHistogram::new();
        for nanos in 1..=ops {
            latency.record_nanos(nanos * 1000);
        }
        TickReport {
            snapshots: vec![InstanceSnapshot {
                completed_operations: ops,
                last_completion: Duration::from_secs(1),
            }],
            errors: groups,
            latency: Some(latency),
            rss_bytes: Some(1000 + ops),
            cpu_seconds: Some(ops as f64 / 100.0),
            process_operations: Vec::new(),
        }
    }

    #[test]
    fn each_process_has_its_operations_of_the_interval() {
        let mut timeline = Timeline::new(Phase::Run, Duration::from_secs(1), false);
        let ticked = |timeline: &mut Timeline, tick, processes: Vec<Option<u64>>| {
            let total = processes.iter().flatten().sum();
            let mut report = report(total, &[]);
            report.process_operations = processes;
            timeline.tick(tick, &report)
        };
        let first = ticked(&mut timeline, 1, vec![Some(4), Some(6)]);
        assert_eq!(first.process_operations, [4, 6]);
        let second = ticked(&mut timeline, 2, vec![Some(9), Some(16)]);
        assert_eq!(second.process_operations, [5, 10]);
        assert_eq!(second.operations, 15, "they add up to the interval's");
        let measurement = PhaseMeasurement {
            snapshots: report(27, &[]).snapshots,
            // The second was lost: it stays where it was.
            process_operations: vec![Some(11), None],
            ..Default::default()
        };
        let last = timeline.finish(&measurement, 2.5).unwrap();
        assert_eq!(last.process_operations, [2, 0]);
        // One process: none.
        let mut single = Timeline::new(Phase::Run, Duration::from_secs(1), false);
        assert!(
            single
                .tick(1, &report(3, &[]))
                .process_operations
                .is_empty()
        );
    }

    #[test]
    fn intervals_add_up_to_the_totals() {
        let mut timeline = Timeline::new(Phase::Run, Duration::from_secs(1), true);
        // Cumulative operations 10, 25; cumulative errors 1, 3.
        let first = timeline.tick(1, &report(10, &["a"]));
        assert_eq!(
            (first.index, first.operations, first.total_operations),
            (0, 10, 10)
        );
        assert_eq!(first.errors.get("Test: a"), Some(&1));
        assert_eq!(first.operations_per_second, Some(10.0));
        assert_eq!(first.cpu_percent, Some(10.0));
        let second = timeline.tick(2, &report(25, &["a", "b", "b"]));
        assert_eq!((second.index, second.operations), (1, 15));
        assert_eq!(second.errors.get("Test: b"), Some(&2));
        assert_eq!(second.errors.get("Test: a"), None);
        // The phase ends at 2.5 s with 30 operations, 4 errors.
        let mut whole = LatencyHistogram::new();
        for nanos in (1..=10).chain(1..=25).chain(1..=5) {
            whole.record_nanos(nanos * 1000);
        }
        let final_report = report(30, &["a", "b", "b", "c"]);
        let measurement = PhaseMeasurement {
            snapshots: final_report.snapshots.clone(),
            errors: final_report.errors.clone(),
            cpu_seconds: Some(0.3),
            latency: Some(crate::metrics::LatencyRecord {
                service: whole,
                ..Default::default()
            }),
            ..Default::default()
        };
        let last = timeline.finish(&measurement, 2.5).unwrap();
        assert!(last.is_final);
        assert_eq!(
            (last.index, last.operations, last.total_operations),
            (2, 5, 30)
        );
        assert_eq!(last.start_seconds, 2.0);
        assert_eq!(last.errors.get("Test: c"), Some(&1));
        assert_eq!(
            last.latency.unwrap().count,
            5,
            "the phase's histogram less the intervals'"
        );
        assert_eq!(first.operations + second.operations + last.operations, 30);
    }

    #[test]
    fn an_empty_last_interval_on_a_tick_is_left_out() {
        let mut timeline = Timeline::new(Phase::Warmup, Duration::from_secs(1), false);
        timeline.tick(1, &report(10, &[]));
        let measurement = PhaseMeasurement {
            snapshots: report(10, &[]).snapshots,
            ..Default::default()
        };
        assert!(timeline.finish(&measurement, 1.0).is_none());
    }

    #[test]
    fn slope_by_least_squares() {
        // 1 KiB a second, with noise that cancels out.
        let samples: Vec<(f64, u64)> = (0..10)
            .map(|second| {
                let noise = if second % 2 == 0 { 100 } else { 0 };
                (f64::from(second), 50_000 + 1024 * second as u64 + noise)
            })
            .collect();
        let trend = MemoryTrend::from_samples(&samples).unwrap();
        let slope = trend.slope_bytes_per_minute.unwrap();
        assert!(
            (slope - 1024.0 * 60.0).abs() / (1024.0 * 60.0) < 0.02,
            "{slope}"
        );
        assert_eq!(trend.peak_bytes, 50_000 + 9 * 1024);
        let flat = MemoryTrend::from_samples(&[(1.0, 5), (2.0, 5), (3.0, 5)]).unwrap();
        assert_eq!(flat.slope_bytes_per_minute, Some(0.0));
        assert_eq!(
            MemoryTrend::from_samples(&[(1.0, 5), (2.0, 6)])
                .unwrap()
                .slope_bytes_per_minute,
            None
        );
        assert!(MemoryTrend::from_samples(&[]).is_none());
    }
}
