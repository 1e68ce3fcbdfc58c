//! Saved baselines: where they are kept and how they are found.
//!
//! A baseline is one JSON file per test and workload (the options that
//! change what is measured) under a name:
//!
//! ```text
//! <baseline dir>/<NAME>/<TEST>/<KEY>.json
//! ```
//!
//! `<baseline dir>` is `--baseline-dir` (`PERFSTRESS_BASELINE_DIR`), by
//! default `perfstress/baselines` in cargo's target directory; `<KEY>` is
//! `p<parallel>-<sync|async>-<hash of the workload>`. Saving under a name
//! again replaces that name's file of the same test and workload (only a
//! baseline file is ever replaced).

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind};
use crate::metrics::{Comparison, RunRecord, Workload};
use crate::plan::Plan;

/// The file name (without `.json`) of a workload's baseline.
pub(crate) fn key(workload: &Workload) -> String {
    // FNV-1a over the canonical JSON of the workload: stable across
    // versions and platforms, unlike std's hasher.
    let canonical = serde_json::to_string(workload).unwrap_or_default();
    let hash = canonical
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!(
        "p{}-{}-{hash:016x}",
        workload.parallel,
        if workload.sync { "sync" } else { "async" }
    )
}

/// Where baseline `name` of `test` with `workload` is kept.
pub(crate) fn path(directory: &Path, name: &str, test: &str, workload: &Workload) -> PathBuf {
    directory
        .join(name)
        .join(test)
        .join(format!("{}.json", key(workload)))
}

/// Every saved run under `name` (any test, any workload), sorted.
pub(crate) fn runs_under(directory: &Path, name: &str) -> Vec<PathBuf> {
    let mut runs = Vec::new();
    let Ok(tests) = std::fs::read_dir(directory.join(name)) else {
        return runs;
    };
    for test in tests.flatten() {
        let Ok(files) = std::fs::read_dir(test.path()) else {
            continue;
        };
        runs.extend(
            files
                .flatten()
                .map(|file| file.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json")),
        );
    }
    runs.sort();
    runs
}

/// The baseline names saved in `directory`, sorted.
pub(crate) fn names(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| entry.path().is_dir())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Reads a saved run (a baseline or a `--test-results` file).
pub(crate) fn load(path: &Path) -> Result<RunRecord, Error> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        Error::with_source(
            ErrorKind::Io,
            format!("cannot read {}", path.display()),
            error,
        )
    })?;
    RunRecord::from_json(&text).map_err(|why| {
        Error::new(
            ErrorKind::Usage,
            format!("{} is not a saved run: {why}", path.display()),
        )
    })
}

/// Writes `record` as baseline `name` (replacing an earlier baseline of
/// the same name, test and workload).
pub(crate) fn save(directory: &Path, name: &str, record: &RunRecord) -> Result<PathBuf, Error> {
    let path = path(directory, name, &record.test_name, &record.workload);
    let record = RunRecord {
        baseline_name: Some(name.to_owned()),
        ..record.clone()
    };
    let written = (|| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::fs::write_atomically(&path, |out| {
            serde_json::to_writer_pretty(&mut *out, &record)?;
            std::io::Write::write_all(out, b"\n")
        })
    })();
    written.map_err(|error| {
        Error::with_source(
            ErrorKind::Io,
            format!("cannot save baseline {name} to {}", path.display()),
            error,
        )
    })?;
    Ok(path)
}

/// Checks, before the run: that `--baseline NAME` exists for this test and
/// workload (else a usage error naming what there is), and that
/// `--save-baseline NAME` can be written and would replace nothing but a
/// baseline.
pub(crate) fn prepare(plan: &Plan) -> Result<(), Error> {
    let settings = &plan.baseline;
    let workload = Workload::of(plan);
    let usage = |message: String| Err(Error::new(ErrorKind::Usage, message));
    if let Some(name) = &settings.compare {
        let wanted = path(&settings.directory, name, plan.test_name(), &workload);
        if !wanted.is_file() {
            let saved: Vec<String> = runs_under(&settings.directory, name)
                .iter()
                .filter_map(|path| load(path).ok())
                .filter(|record| record.test_name == plan.test_name())
                .map(|record| format!("\n  {}", record.workload.describe()))
                .collect();
            let why = if !saved.is_empty() {
                format!(
                    "it holds {} with other options:{}\nrun with the same options, or compare the runs with `compare`",
                    plan.test_name(),
                    saved.concat()
                )
            } else if settings.directory.join(name).is_dir() {
                format!("it has no run of {}", plan.test_name())
            } else {
                let names = names(&settings.directory);
                if names.is_empty() {
                    "no baseline is saved there; save one with --save-baseline NAME".to_owned()
                } else {
                    format!("saved baselines: {}", names.join(", "))
                }
            };
            return usage(format!(
                "--baseline {name}: no baseline of {} with these options ({}) in {}; {why}",
                plan.test_name(),
                workload.describe(),
                settings.directory.display()
            ));
        }
        if let Err(error) = load(&wanted) {
            return usage(format!("--baseline {name}: {error}"));
        }
    }
    if let Some(name) = &settings.save {
        let target = path(&settings.directory, name, plan.test_name(), &workload);
        if std::fs::symlink_metadata(&target).is_ok() && load(&target).is_err() {
            return usage(format!(
                "--save-baseline {name}: {} exists and is not a baseline; move it away or choose another --baseline-dir",
                target.display()
            ));
        }
        if let Some(parent) = target.parent() {
            crate::fs::prepare_directory("--save-baseline", parent)?;
        }
    }
    Ok(())
}

/// With `--baseline NAME`: `record` (this run) compared with the baseline.
pub(crate) fn compare_with_baseline(
    plan: &Plan,
    record: &RunRecord,
) -> Result<Option<Comparison>, Error> {
    let settings = &plan.baseline;
    let Some(name) = &settings.compare else {
        return Ok(None);
    };
    let old = load(&path(
        &settings.directory,
        name,
        &record.test_name,
        &record.workload,
    ))?;
    Comparison::new(
        (&format!("baseline {name}"), &old),
        ("this run", record),
        settings.noise_threshold,
    )
    .map(Some)
    .map_err(|why| Error::new(ErrorKind::Usage, why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::metrics::IterationFigures;

    fn workload(delay: &str) -> Workload {
        Workload {
            parallel: 2,
            processes: 1,
            sync: false,
            rate: None,
            latency: true,
            test_options: vec![format!("--initial-delay-ms {delay}")],
        }
    }

    #[test]
    fn keys_are_stable_and_tell_workloads_apart() {
        assert_eq!(key(&workload("10")), key(&workload("10")));
        assert_ne!(key(&workload("10")), key(&workload("11")));
        assert!(key(&workload("10")).starts_with("p2-async-"));
        assert_eq!(key(&workload("10")).len(), "p2-async-".len() + 16);
    }

    #[test]
    fn a_saved_baseline_reads_back_exactly() {
        let directory = std::env::temp_dir().join(format!(
            "perfstress-baseline-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let mut histogram = crate::metrics::LatencyHistogram::new();
        for nanos in [1_000, 2_500, 10_000_000, 10_200_001] {
            histogram.record_nanos(nanos);
        }
        let record = RunRecord {
            format: "perfstress-baseline".into(),
            format_version: 1,
            baseline_name: Some("main".into()),
            test_name: "SleepTest".into(),
            workload: workload("10"),
            duration_seconds: 0.5,
            warmup_seconds: 0.0,
            // Values whose shortest decimal form needs all 17 digits.
            operations_per_second: 0.1 + 0.2,
            iterations: [99.999_999_999_999_99, 1.0 / 3.0, 2.0f64.sqrt()]
                .into_iter()
                .map(|operations_per_second| IterationFigures {
                    operations_per_second,
                    total_operations: 50,
                    latency_ms: [("p99".to_owned(), std::f64::consts::PI)]
                        .into_iter()
                        .collect(),
                })
                .collect(),
            statistics: None,
            latency_ms: Default::default(),
            latency_histogram: Some(crate::metrics::encode_histogram(&histogram)),
            environment: Environment::current(Some("systemperf 0.1.0".into())),
            created_unix_seconds: Some(1_700_000_000),
        };
        let record = RunRecord {
            statistics: crate::metrics::IterationStatistics::of(&record.iterations),
            ..record
        };
        let written = save(&directory, "main", &record).unwrap();
        assert_eq!(
            written,
            path(&directory, "main", "SleepTest", &workload("10"))
        );
        let read = load(&written).unwrap();
        assert_eq!(read, record, "every field, every bit of every float");
        let histogram_back = read.histogram().unwrap();
        assert_eq!(histogram_back.count(), 4);
        assert_eq!(
            histogram_back.percentile(100.0),
            histogram.percentile(100.0)
        );
        assert_eq!(runs_under(&directory, "main"), [written]);
        assert_eq!(names(&directory), ["main"]);
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
