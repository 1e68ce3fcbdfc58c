//! The workspace's test kit: what the integration tests of `perfstress`
//! and `systemperf-tests` share, so that a test states only its arguments
//! and its assertions.
//!
//! - **Runs.** [`Run`] builds a run of a runner binary (a child process
//!   with a clean environment and a timeout) and ends in [`Output`] (or a
//!   [`Watched`] child, to signal it mid-run); [`Perf`] runs
//!   `perfstress::run` in this process (hold [`serial`]). Both take the
//!   runner's options through [`CommandLine`], and check the exit code by
//!   [`Outcome`].
//! - **The report**, read as PerfAutomation reads it: [`Output::section`],
//!   [`Output::results`] ([`ResultsLine`]), [`Output::stages`] ([`STAGES`]),
//!   [`status_lines`] ([`StatusLine`], [`STATUS_HEADER`]), [`parse_grouped`];
//!   and checked whole where every test checks it the same way:
//!   [`Output::timed_status_lines`], [`Output::assert_failure_reported`].
//! - **Packages**: [`perf_automation_build`] builds a perf package as
//!   PerfAutomation does and checks it yields exactly one executable.
//! - **Files**: [`TempPath`] (results files) and [`TempDir`], removed on drop.
//! - **Figures**: [`assert_close`], and for timing-dependent ones
//!   [`within`]/[`expect`] inside [`retry_timing`]; [`timing_sensitive`] and
//!   [`cpu_saturating`] keep runs of the two kinds apart.
//!
//! ```no_run
//! use perfstress_testkit::*;
//!
//! let results = TempPath::new("sleep");
//! let output = Run::new("target/debug/systemperf")
//!     .arg("SleepTest")
//!     .option("--initial-delay-ms", 100)
//!     .parallel(2)
//!     .duration(2)
//!     .warmup(0)
//!     .results(&results)
//!     .ok();
//! assert_eq!(results.json()["total_operations"].as_u64(), Some(output.results("Tests").total));
//! ```
#![deny(missing_docs)]

mod command_line;
mod in_process;
mod numbers;
mod perf_automation;
mod report;
mod run;
mod schedule;
mod temp;
mod watched;

pub use command_line::CommandLine;
pub use in_process::{Perf, Ran, serial};
pub use numbers::{assert_close, expect, retry_timing, within};
pub use perf_automation::perf_automation_build;
// Becomes `pub use perfstress::Outcome;` once the library has it.
pub use perfstress::Outcome;
pub use report::{
    ResultsLine, STAGES, STATUS_HEADER, StatusLine, parse_grouped, processes_text, status_lines,
};
pub use run::{CHILD_TIMEOUT, Output, Run};
pub use schedule::{cpu_saturating, timing_sensitive};
pub use temp::{TempDir, TempPath};
pub use watched::{Watched, process_is_running, send_signal};
