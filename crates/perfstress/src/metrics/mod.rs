//! Measurement as plain data: per-instance counters written by the workers,
//! snapshots of them, and the results math that turns snapshots into a
//! [`PhaseSummary`]. Nothing here formats text.

mod counters;
mod latency;
mod summary;
mod tracker;

pub use counters::{InstanceCounters, InstanceSnapshot};
pub use latency::{LatencyHistogram, LatencySummary, PERCENTILES};
pub use summary::{PhaseSummary, StatusSample, operations_per_second};
pub(crate) use tracker::OperationTracker;
mod process;

pub use process::{process_cpu_time, resident_memory_bytes};
