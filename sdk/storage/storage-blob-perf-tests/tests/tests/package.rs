//! The suite as PerfAutomation builds and runs it: `cargo build --release
//! --package storage-blob-perf --bench perf --message-format=json` reports
//! exactly one executable, and each argument line of
//! `sdk/storage/perf-tests.yml` runs as PerfAutomation runs it:
//! `{exe} --test-results {root}/testResults/{Class}-results.json "{Class}"
//! {arguments} --sync`, here against Azurite.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::azurite::*;

/// PerfAutomation's build, in the repository root, into the target
/// directory the systemperf package test uses too (under this build's
/// `CARGO_TARGET_TMPDIR`, shared by the workspace's packages), so their
/// common release dependencies are built once; cargo's lock on it makes
/// the two builds take turns. Returns the one executable.
fn perf_automation_build() -> PathBuf {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("perf-automation");
    perfstress_testkit::perf_automation_build(
        &repository(),
        "storage-blob-perf",
        "sdk/storage/storage-blob-perf",
        &target_dir,
    )
}

/// `(Class, argument line)` of every test of a perf-tests.yml (the subset
/// of YAML these files use: `Class:` keys and `Arguments:` lists).
fn argument_lines(yml: &str) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    let mut class = None;
    let mut in_arguments = false;
    for line in yml.lines() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("Class:") {
            class = Some(name.trim().to_owned());
            in_arguments = false;
        } else if trimmed == "Arguments:" {
            in_arguments = true;
        } else if in_arguments
            && line.starts_with(char::is_whitespace)
            && let Some(arguments) = trimmed.strip_prefix("- ")
        {
            let class = class.clone().expect("a Class before its Arguments");
            lines.push((class, arguments.trim().to_owned()));
        } else if !trimmed.starts_with('#') && !trimmed.is_empty() {
            in_arguments = false;
        }
    }
    lines
}

/// A .NET command line's arguments: whitespace-separated, double quotes
/// group (what PerfAutomation's argument strings use).
fn split_arguments(line: &str) -> Vec<String> {
    let mut arguments = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for character in line.chars() {
        match character {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    arguments.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if any {
        arguments.push(current);
    }
    arguments
}

#[test]
fn perf_tests_yml_parses_into_argument_lines() {
    let yml = "Tests:\n- Test: a\n  Class: A\n  Arguments:\n  - --size 1 --parallel 2\n  - --x \"y z\"\n- Test: b\n  Class: B\n  Arguments:\n  - --count 5\n";
    assert_eq!(
        argument_lines(yml),
        [
            ("A".to_owned(), "--size 1 --parallel 2".to_owned()),
            ("A".to_owned(), "--x \"y z\"".to_owned()),
            ("B".to_owned(), "--count 5".to_owned()),
        ]
    );
    assert_eq!(split_arguments("--x \"y z\"  --q"), ["--x", "y z", "--q"]);
}

#[test]
fn perf_automation_builds_one_executable_and_runs_every_yml_line() {
    // A release build keeps both cores busy for minutes.
    let _cpu = cpu_saturating();
    let executable = perf_automation_build();
    let yml = std::fs::read_to_string(repository().join("sdk/storage/perf-tests.yml"))
        .expect("sdk/storage/perf-tests.yml");
    assert!(yml.contains("PrimaryPackage: storage-blob-perf"), "{yml}");
    let lines = argument_lines(&yml);
    assert!(lines.len() >= 8, "{lines:?}");

    let azurite = Azurite::start();
    let root = TempDir::new("perf-automation-root");
    let results_dir = root.path().join("testResults");
    std::fs::create_dir_all(&results_dir).expect("testResults");
    for (class, arguments) in lines {
        let results = results_dir.join(format!("{class}-results.json"));
        let _ = std::fs::remove_file(&results);
        // As PerfAutomation runs it (no shell; `--sync` appended), but
        // for 1 s without warm-up: the environment sets what the line
        // leaves to the defaults. Uploads of 10 MiB at -p 32 take seconds
        // each on Azurite: the operations in flight at the deadline get
        // 60 s to complete instead of the default 5 s grace.
        let output = Run::new(&executable)
            .env(
                "AZURE_STORAGE_CONNECTION_STRING",
                azurite.connection_string(),
            )
            .env("PERFSTRESS_DURATION", "1")
            .env("PERFSTRESS_WARMUP", "0")
            .env("PERFSTRESS_GRACE", "60")
            .arg("--test-results")
            .arg(&results)
            .arg(&class)
            .args(split_arguments(&arguments))
            .arg("--sync")
            .timeout(Duration::from_secs(120))
            .run();
        output.assert_outcome(Outcome::Success);
        let json: Value = serde_json::from_str(
            &std::fs::read_to_string(&results).unwrap_or_else(|_| panic!("{}", output.dump())),
        )
        .expect("results JSON");
        assert!(
            json["operations_per_second"].as_f64().unwrap_or_default() > 0.0,
            "{class} {arguments}: {json:#}"
        );
        assert!(
            json["average_memory_use"].is_u64() || json["average_memory_use"].is_null(),
            "{json:#}"
        );
        assert_eq!(json["sync"], true, "{json:#}");
        assert_eq!(
            azurite.containers(),
            Vec::<String>::new(),
            "{class} {arguments} left containers\n{}",
            output.dump()
        );
    }
}
