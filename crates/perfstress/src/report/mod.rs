//! Reporters: they read plain summaries and write text or files, and never
//! compute a statistic.

mod console;
mod format;
mod json;
mod latency;
mod operations_file;

pub use console::{Console, redact_url, redact_urls, results_line, status_line};
pub use format::{format_count, format_significant};
pub use json::{
    InstanceResults, LatencyResults, TestResults, remove_stale_results, write_test_results,
};
pub use latency::{format_latency, latency_table};
pub use operations_file::write_operations_file;
