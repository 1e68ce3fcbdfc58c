//! `--timeline PATH`: the run over time as JSON Lines, one object per
//! status interval of the warm-up and the timed run (and the last, partial
//! interval of each), each line written and flushed as its interval ends,
//! so a run that crashes or is interrupted keeps its timeline up to then.
//! `--histogram-log PATH`: the timed run's interval latency histograms in
//! the HdrHistogram interval-log format.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use serde::Serialize;

use crate::error::{Error, ErrorKind};
use crate::metrics::{IntervalRecord, RunSummary};
use crate::phase::Phase;
use crate::plan::Plan;

use super::reporter::Reporter;

/// One line of the timeline.
#[derive(Debug, Serialize)]
pub(crate) struct TimelineLine<'a> {
    /// `"warmup"` or `"run"`.
    pub(crate) phase: &'static str,
    /// With `--iterations N` (N > 1), the timed run's iteration, 1 to N
    /// (each iteration's intervals count from 0 again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) iteration: Option<usize>,
    /// 0, 1, ... within the phase.
    pub(crate) interval: u32,
    /// Seconds since the phase started, at the interval's start.
    pub(crate) start_seconds: f64,
    /// ... and at its end.
    pub(crate) end_seconds: f64,
    /// The phase's last interval (partial, or what completed as it stopped).
    #[serde(rename = "final")]
    pub(crate) is_final: bool,
    /// Operations completed in the interval.
    pub(crate) operations: u64,
    /// Operations completed since the phase started.
    pub(crate) total_operations: u64,
    /// The interval's operations per second (`null` for one under 1 ms).
    pub(crate) operations_per_second: Option<f64>,
    /// Failed operations in the interval, by group (stress mode).
    pub(crate) errors: &'a BTreeMap<String, u64>,
    /// Failed operations since the phase started.
    pub(crate) total_errors: u64,
    /// With --latency (timed run): the interval's latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) latency_ms: Option<IntervalLatencyMs>,
    /// CPU use of every process in the interval, in percent of one core.
    pub(crate) cpu_percent: Option<f64>,
    /// Resident memory of every process at the interval's end, in bytes.
    pub(crate) rss_bytes: Option<u64>,
    /// With several processes (`--processes`) or hosts (`--hosts`): each
    /// one's operations completed in the interval, in the order of their
    /// shares (parallel indexes); they add up to `operations`.
    #[serde(skip_serializing_if = "<[u64]>::is_empty")]
    pub(crate) process_operations: &'a [u64],
}

/// An interval's latency in milliseconds.
#[derive(Debug, Serialize)]
pub(crate) struct IntervalLatencyMs {
    /// Operations timed.
    pub(crate) count: u64,
    /// Median.
    pub(crate) p50: f64,
    /// 90th percentile.
    pub(crate) p90: f64,
    /// 99th percentile.
    pub(crate) p99: f64,
    /// The slowest.
    pub(crate) max: f64,
}

impl<'a> TimelineLine<'a> {
    /// The line of `record`, of timed-run iteration `iteration` (with
    /// `--iterations`).
    pub(crate) fn new(record: &'a IntervalRecord, iteration: Option<usize>) -> Self {
        let ms = |duration: Duration| duration.as_secs_f64() * 1e3;
        Self {
            phase: phase_name(record.phase),
            iteration: iteration.filter(|_| record.phase == Phase::Run),
            interval: record.index,
            start_seconds: record.start_seconds,
            end_seconds: record.end_seconds,
            is_final: record.is_final,
            operations: record.operations,
            total_operations: record.total_operations,
            operations_per_second: record.operations_per_second,
            errors: &record.errors,
            total_errors: record.total_errors,
            latency_ms: record.latency.map(|latency| IntervalLatencyMs {
                count: latency.count,
                p50: ms(latency.p50),
                p90: ms(latency.p90),
                p99: ms(latency.p99),
                max: ms(latency.max),
            }),
            // Process CPU time advances in clock ticks (10 ms on Linux):
            // a tenth of a percent is more than the figure holds.
            cpu_percent: record
                .cpu_percent
                .map(|percent| (percent * 10.0).round() / 10.0),
            rss_bytes: record.rss_bytes,
            process_operations: &record.process_operations,
        }
    }
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Warmup => "warmup",
        _ => "run",
    }
}

/// The error of a file that cannot be written.
fn write_error(option: &str, path: &std::path::Path, error: std::io::Error) -> Error {
    Error::with_source(
        ErrorKind::Io,
        format!("{option}: cannot write {}", path.display()),
        error,
    )
}

/// A file written line by line as the run goes; a failure to write is
/// kept and reported at the end of the run (which it fails).
#[derive(Debug)]
struct LineFile {
    option: &'static str,
    path: PathBuf,
    file: Option<File>,
    error: Option<Error>,
}

impl LineFile {
    fn new(option: &'static str, path: PathBuf) -> Self {
        Self {
            option,
            path,
            file: None,
            error: None,
        }
    }

    /// Writes `bytes` at once and flushes them.
    fn write(&mut self, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let result = match &mut self.file {
            Some(file) => file.write_all(bytes).and_then(|()| file.flush()),
            None => File::create(&self.path).and_then(|mut file| {
                file.write_all(bytes)?;
                file.flush()?;
                self.file = Some(file);
                Ok(())
            }),
        };
        if let Err(error) = result {
            self.error = Some(write_error(self.option, &self.path, error));
        }
    }

    fn finish(&mut self) -> Result<(), Error> {
        if let Some(file) = &self.file {
            let _ = file.sync_data();
        }
        match self.error.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// Writes `--timeline`.
#[derive(Debug)]
pub(crate) struct TimelineFile {
    file: LineFile,
    /// The timed run's iteration (`--iterations`).
    iteration: Option<usize>,
}

impl TimelineFile {
    /// The reporter writing `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            file: LineFile::new("--timeline", path),
            iteration: None,
        }
    }
}

impl Reporter for TimelineFile {
    fn options(&mut self, _plan: &Plan) {
        // Created at the start: a run that fails before its first interval
        // still leaves an (empty) timeline, not an earlier run's.
        self.file.write(b"");
    }

    fn iteration_start(&mut self, index: usize, _count: usize) {
        self.iteration = Some(index);
    }

    fn interval(&mut self, record: &IntervalRecord) {
        let mut line = match serde_json::to_vec(&TimelineLine::new(record, self.iteration)) {
            Ok(line) => line,
            Err(error) => {
                self.file.error = Some(Error::msg(format!("--timeline: {error}")));
                return;
            }
        };
        line.push(b'\n');
        self.file.write(&line);
    }

    fn run_summary(&mut self, _summary: &RunSummary<'_>) -> Result<(), Error> {
        self.file.finish()
    }
}

/// Writes `--histogram-log`: a header, then one interval histogram (V2,
/// deflate-compressed, base64, nanoseconds) per status interval of the
/// timed run, timestamps in seconds since the run's start (`BaseTime`).
#[derive(Debug)]
pub(crate) struct HistogramLogFile {
    file: LineFile,
    started: bool,
    /// `iteration-N` with `--iterations`: the interval log's tag, so each
    /// iteration's intervals (timestamps from 0 again) read apart.
    tag: Option<String>,
}

impl HistogramLogFile {
    /// The reporter writing `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            file: LineFile::new("--histogram-log", path),
            started: false,
            tag: None,
        }
    }

    /// Ends the file (as the end of a run does), reporting a failure to
    /// write it.
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        self.file.finish()
    }
}

impl Reporter for HistogramLogFile {
    fn options(&mut self, _plan: &Plan) {
        self.file.write(b"");
    }

    fn iteration_start(&mut self, index: usize, _count: usize) {
        self.tag = Some(format!("iteration-{index}"));
    }

    fn interval(&mut self, record: &IntervalRecord) {
        let Some(histogram) = record
            .histogram
            .as_ref()
            .filter(|_| record.phase == Phase::Run)
        else {
            return;
        };
        let mut buffer = Vec::new();
        let mut serializer = V2DeflateSerializer::new();
        let mut written = Ok(());
        if !std::mem::replace(&mut self.started, true) {
            let run_start = SystemTime::now()
                .checked_sub(Duration::from_secs_f64(record.end_seconds))
                .unwrap_or_else(SystemTime::now);
            written = IntervalLogWriterBuilder::new()
                .add_comment(&format!(
                    "[Histogram log of the timed run, written by perfstress {}; values in nanoseconds]",
                    env!("CARGO_PKG_VERSION")
                ))
                .with_start_time(run_start)
                .with_base_time(run_start)
                .begin_log_with(&mut buffer, &mut serializer)
                .map(drop)
                .map_err(|error| error.to_string());
            // The legend the Java writer puts after the header (readers
            // skip it).
            buffer.extend_from_slice(
                b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
            );
        }
        let written = written.and_then(|()| {
            IntervalLogWriterBuilder::new()
                .begin_log_with(&mut buffer, &mut serializer)
                .map_err(|error| error.to_string())?
                .write_histogram(
                    histogram.histogram(),
                    Duration::from_secs_f64(record.start_seconds),
                    Duration::from_secs_f64(record.end_seconds - record.start_seconds),
                    self.tag.as_deref().and_then(Tag::new),
                )
                .map_err(|error| error.to_string())
        });
        match written {
            Ok(()) => self.file.write(&buffer),
            Err(error) => self.file.error = Some(Error::msg(format!("--histogram-log: {error}"))),
        }
    }

    fn run_summary(&mut self, _summary: &RunSummary<'_>) -> Result<(), Error> {
        self.file.finish()
    }
}
