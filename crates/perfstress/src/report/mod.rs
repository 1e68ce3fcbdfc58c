//! Reporters: they read plain summaries and write text or files, and never
//! compute a statistic.

mod console;
mod format;
mod json;

pub use console::{Console, results_line, status_line};
pub use format::{format_count, format_significant};
pub use json::{InstanceResults, TestResults, remove_stale_results, write_test_results};
