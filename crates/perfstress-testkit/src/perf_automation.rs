//! A perf package built as Azure's PerfAutomation builds it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{CommandLine, Run};

/// Runs PerfAutomation's build of `package` (whose manifest is in
/// `package_dir`, relative to `repository`): `cargo build --release
/// --package P --bench perf --message-format=json`, in `repository`, into
/// `target_dir`, at the lowest CPU priority where `nice` exists (tests that
/// check promptness to the second run meanwhile). Counts the executables as
/// PerfAutomation counts them (every stdout line that is JSON with a string
/// `executable`), asserts there is exactly one, the `perf` bench of that
/// package, in `target_dir`, and returns its path.
///
/// Give the tests of a workspace one `target_dir` (e.g. under
/// `CARGO_TARGET_TMPDIR`, not the target directory `cargo test` holds
/// locked): their common release dependencies are then built once, and
/// cargo's lock makes the builds take turns.
pub fn perf_automation_build(
    repository: &Path,
    package: &str,
    package_dir: &str,
    target_dir: &Path,
) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let niced = Command::new("nice").arg("true").status().is_ok();
    let run = if niced {
        Run::new("nice").args(["-n", "19"]).arg(cargo)
    } else {
        Run::new(cargo)
    };
    let started = Instant::now();
    let output = run
        .current_dir(repository)
        .args(["build", "--release", "--package", package])
        .args(["--bench", "perf", "--message-format=json"])
        .arg("--target-dir")
        .arg(target_dir)
        .timeout(Duration::from_secs(40 * 60))
        .ok();
    eprintln!(
        "PerfAutomation's build of {package} took {:.0?}",
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
    let package_id = perf["package_id"].as_str().unwrap_or_default();
    assert!(
        package_id.contains(&format!("{package_dir}#")),
        "the bench of {package} ({package_dir}): {perf:#}"
    );
    let executable = PathBuf::from(perf["executable"].as_str().unwrap_or_default());
    assert!(
        executable.starts_with(target_dir) && executable.is_file(),
        "{} is a file in {}",
        executable.display(),
        target_dir.display()
    );
    executable
}
