//! The systemperf package as PerfAutomation builds it: a perf package must
//! build exactly one executable, its `perf` bench (cargo builds a package's
//! `[[bin]]`s along with its benches, so a bin there would make two).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

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
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    // At the lowest priority where `nice` is there: the other tests that
    // run meanwhile (promptness is checked to the second) go first.
    let niced = Command::new("nice").arg("true").status().is_ok();
    let run = if niced {
        Run::new("nice").args(["-n", "19"]).arg(cargo)
    } else {
        Run::new(cargo)
    };
    let started = Instant::now();
    let output = run
        .current_dir(&repository)
        .args(["build", "--release", "--package", "systemperf"])
        .args(["--bench", "perf", "--message-format=json"])
        .arg("--target-dir")
        .arg(&target_dir)
        .timeout(Duration::from_secs(30 * 60))
        .ok();
    eprintln!(
        "PerfAutomation's build of systemperf took {:.0?}",
        started.elapsed()
    );

    let executables: Vec<Value> = output
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["executable"].is_string())
        .collect();
    assert_eq!(
        executables.len(),
        1,
        "exactly one executable: {executables:#?}\n--- stderr ---\n{}",
        output.stderr
    );
    let perf = &executables[0];
    assert_eq!(perf["reason"], "compiler-artifact", "{perf:#}");
    assert_eq!(perf["target"]["name"], "perf", "{perf:#}");
    assert_eq!(
        perf["target"]["kind"],
        serde_json::json!(["bench"]),
        "{perf:#}"
    );
    let package = perf["package_id"].as_str().unwrap_or_default();
    assert!(
        package.contains("crates/systemperf#"),
        "the bench of systemperf: {perf:#}"
    );
    let executable = Path::new(perf["executable"].as_str().unwrap_or_default());
    assert!(
        executable.starts_with(&target_dir) && executable.is_file(),
        "{} is a file in {}",
        executable.display(),
        target_dir.display()
    );
}
