//! Measurement and analysis as plain data: per-instance counters written
//! by the operation loops, snapshots of them, what a phase measured, and
//! the results math that turns measurements into a run summary. Nothing
//! here formats text.

mod comparison;
mod counters;
mod errors;
mod hosts;
mod interval;
mod iterations;
mod latency;
mod measurement;
mod process;
mod record;
mod run_summary;
mod statistics;
mod summary;
mod tracker;

pub(crate) use comparison::{Comparison, MetricChange};
pub(crate) use counters::InstanceCounters;
pub use counters::InstanceSnapshot;
pub(crate) use errors::{ErrorGroups, ErrorResults};
pub(crate) use hosts::{ClockOffset, HostPart, HostResults, JoinedHost};
pub(crate) use interval::{IntervalLatency, IntervalRecord, MemoryTrend, TickReport, Timeline};
pub(crate) use iterations::{IterationFigures, IterationStatistics, Iterations, ordered_latency};
pub use latency::{LatencyHistogram, LatencySummary, PERCENTILES};
pub(crate) use measurement::{LatencyRecord, PhaseMeasurement};
pub(crate) use process::available_memory_bytes;
pub use process::{process_cpu_time, resident_memory_bytes};
#[cfg(test)]
pub(crate) use record::encode_histogram;
pub(crate) use record::{BASELINE_FORMAT, RunRecord, Workload};
pub(crate) use run_summary::{
    FailureRecord, Lagging, PhaseEnd, PhaseResults, RunSummary, ThresholdResult,
};
pub(crate) use statistics::Estimate;
pub use summary::{PhaseSummary, StatusSample, operations_per_second};
pub(crate) use tracker::OperationTracker;
