//! The systemperf package as PerfAutomation builds it: a perf package must
//! build exactly one executable, its `perf` bench (cargo builds a package's
//! `[[bin]]`s along with its benches, so a bin there would make two).

use std::path::Path;

use crate::common::*;

/// PerfAutomation's build command, run as it runs it (in the repository
/// root) but into a target directory of its own under this build's
/// (`CARGO_TARGET_TMPDIR`): a release build must not wait for the lock
/// this `cargo test` holds on its own target directory, nor disturb it.
/// Every stdout line that is JSON with a string `executable` counts, as
/// PerfAutomation counts them: exactly one, the `perf` bench of
/// `systemperf`.
#[test]
fn perf_automation_build_reports_one_executable_the_perf_bench() {
    // A release build keeps both cores busy for minutes.
    let _cpu = cpu_saturating();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("perf-automation");
    perf_automation_build(&repository, "systemperf", "crates/systemperf", &target_dir);
}
