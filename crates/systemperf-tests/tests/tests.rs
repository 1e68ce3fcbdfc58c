//! Integration tests of the `systemperf` runner: they run the binary as a
//! user (or PerfAutomation) would and check its report, results file, exit
//! codes and lifecycle, in one process and with worker processes. Shared
//! helpers are in the `perfstress-testkit` crate, and those that know
//! systemperf in `tests/tests/common.rs`.

#[path = "tests/common.rs"]
mod common;
#[path = "tests/events.rs"]
mod events;
#[path = "tests/failures.rs"]
mod failures;
#[path = "tests/gates.rs"]
mod gates;
#[path = "tests/hardening.rs"]
mod hardening;
#[path = "tests/hosts.rs"]
mod hosts;
#[cfg(feature = "http")]
#[path = "tests/hosts_tls.rs"]
mod hosts_tls;
#[cfg(feature = "http")]
#[path = "tests/http.rs"]
mod http;
#[path = "tests/interrupt.rs"]
mod interrupt;
#[path = "tests/latency.rs"]
mod latency;
#[path = "tests/lifecycle.rs"]
mod lifecycle;
#[cfg(feature = "otlp")]
#[path = "tests/otlp.rs"]
mod otlp;
#[path = "tests/output.rs"]
mod output;
#[path = "tests/package.rs"]
mod package;
#[path = "tests/processes.rs"]
mod processes;
#[path = "tests/progress.rs"]
mod progress;
#[path = "tests/regressions.rs"]
mod regressions;
#[path = "tests/reliability.rs"]
mod reliability;
#[path = "tests/report.rs"]
mod report;
#[path = "tests/stress.rs"]
mod stress;
#[cfg(feature = "http")]
#[path = "tests/test_proxy.rs"]
mod test_proxy;
#[path = "tests/timing.rs"]
mod timing;
#[path = "tests/usage.rs"]
mod usage;
