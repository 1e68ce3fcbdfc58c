//! End-to-end tests of the storage blob perf suite: the runner binary
//! against an Azurite each test starts on a free port of 127.0.0.1
//! (in memory, no telemetry) and stops, in async and sync mode, with
//! cleanup checked after normal, failed and interrupted runs; and the
//! package as PerfAutomation builds and runs it.

#[path = "tests/aliases.rs"]
mod aliases;
#[path = "tests/azurite.rs"]
mod azurite;
#[path = "tests/chart.rs"]
mod chart;
#[path = "tests/cleanup.rs"]
mod cleanup;
#[path = "tests/config.rs"]
mod config;
#[path = "tests/package.rs"]
mod package;
#[path = "tests/proxy.rs"]
mod proxy;
#[path = "tests/runs.rs"]
mod runs;
