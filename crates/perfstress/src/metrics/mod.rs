//! Measurement and analysis as plain data: per-instance counters written
//! by the operation loops, snapshots of them, what a phase measured, and
//! the results math that turns measurements into a run summary. Nothing
//! here formats text.

mod counters;
mod errors;
mod interval;
mod latency;
mod measurement;
mod process;
mod run_summary;
mod summary;
mod tracker;

pub(crate) use counters::InstanceCounters;
pub use counters::InstanceSnapshot;
pub(crate) use errors::{ErrorGroups, ErrorResults};
pub(crate) use interval::{IntervalRecord, MemoryTrend, TickReport, Timeline};
pub use latency::{LatencyHistogram, LatencySummary, PERCENTILES};
pub(crate) use measurement::{LatencyRecord, PhaseMeasurement};
pub(crate) use process::available_memory_bytes;
pub use process::{process_cpu_time, resident_memory_bytes};
pub(crate) use run_summary::{
    FailureRecord, Lagging, PhaseEnd, PhaseResults, RunSummary, ThresholdResult,
};
pub use summary::{PhaseSummary, StatusSample, operations_per_second};
pub(crate) use tracker::OperationTracker;
