//! The plan of a run: every setting derived from the command line, worked
//! out once by [`Plan::new`] (in the parent and in each worker process,
//! from the same arguments) and then only read: by the runner, the worker
//! processes and the reporters.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::fs::{OutputKind, prepare_directory, prepare_output};
use crate::options::GlobalOptions;
use crate::profile::profile_directory;
use crate::redact::{is_secret, redact_url, remember_secret};
use crate::registry::TestEntry;
use crate::threshold::Threshold;

/// An operation that starts later than this behind its schedule counts as
/// a late start.
pub(crate) const LATE_START_THRESHOLD: Duration = Duration::from_millis(1);

/// How the operation loop times operations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum TimingStrategy {
    /// No clock read per operation (the default).
    Untimed,
    /// `--latency`: every operation of the timed run is timed.
    Recorded,
    /// `--rate`: operations start on a fixed schedule over all instances;
    /// service time and corrected latency are recorded.
    Paced {
        /// Operations per second over all instances.
        rate: f64,
    },
}

impl TimingStrategy {
    /// Whether latency is recorded (`--latency`, or `--rate` which implies it).
    pub(crate) fn records_latency(self) -> bool {
        !matches!(self, TimingStrategy::Untimed)
    }

    /// The target rate, with `--rate`.
    pub(crate) fn rate(self) -> Option<f64> {
        match self {
            TimingStrategy::Paced { rate } => Some(rate),
            _ => None,
        }
    }
}

/// Everything a run does, decided before it starts.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// The test.
    pub(crate) entry: &'static TestEntry,
    /// Instances in total (`--parallel`).
    pub(crate) parallel: usize,
    /// Which process runs which instances; one share runs in this process.
    pub(crate) shares: Vec<ProcessShare>,
    /// `--duration`.
    pub(crate) duration: Duration,
    /// `--warmup`; zero skips the warm-up.
    pub(crate) warmup: Duration,
    /// `--sync`.
    pub(crate) sync: bool,
    /// `--sync` on an async-only test: its operation runs through the sync
    /// bridge (a runtime per instance thread).
    pub(crate) sync_bridge: bool,
    /// `--insecure`.
    pub(crate) insecure: bool,
    /// `--no-cleanup`.
    pub(crate) no_cleanup: bool,
    /// `-x/--test-proxies` then `--test-proxy`, each once: instance `i`
    /// goes through `test_proxies[i % len]` (none: no proxy).
    pub(crate) test_proxies: Vec<crate::test_proxy::ProxyUrl>,
    /// How operations are timed in the timed run.
    pub(crate) timing: TimingStrategy,
    /// `--grace`: how long an operation in flight when a timed phase stops
    /// may still take before it is abandoned.
    pub(crate) grace: Duration,
    /// `--liveness-timeout`: how long a worker process may stay silent.
    pub(crate) liveness_timeout: Duration,
    /// Where `--profile` writes, when profiling.
    pub(crate) profile_directory: Option<PathBuf>,
    /// `--test-results`.
    pub(crate) test_results: Option<PathBuf>,
    /// `--results-file`.
    pub(crate) results_file: Option<PathBuf>,
    /// The test's own options as given (defaults included; secrets masked),
    /// for the options block and the results file.
    pub(crate) test_options: Vec<String>,
    /// The test's `--size` in bytes, if it has one: the size of each
    /// operation, as PerfAutomation reports it.
    pub(crate) operation_size: Option<u64>,
    /// `--threshold`s, checked after the timed run.
    pub(crate) thresholds: Vec<Threshold>,
    /// `--continue-on-error`, `--max-error-rate`, `--timeline`,
    /// `--histogram-log`, `--status-interval`.
    pub(crate) stress: StressPlan,
    /// `--iterations`: timed runs after the one warm-up.
    pub(crate) iterations: usize,
    /// `--save-baseline`, `--baseline` and what goes with them.
    pub(crate) baseline: BaselineSettings,
    /// `--markdown`.
    pub(crate) markdown: Option<PathBuf>,
    /// `--listen ADDR --hosts N`: this process coordinates hosts that run
    /// the instances (then `shares` holds each host's share).
    pub(crate) coordinate: Option<Coordinate>,
    /// The instances this run takes: all of them, a joined host's share,
    /// or `--shard`'s segment (the shares of its processes cover it).
    pub(crate) segment: ProcessShare,
    /// `--shard I/N`.
    pub(crate) shard: Option<crate::options::Shard>,
    /// A `--shard` run's command line (secrets masked), for `merge`;
    /// set by the runner, which has it.
    pub(crate) shard_arguments: Vec<String>,
    /// The live progress line: stdout is a terminal and no `--no-progress`
    /// or `--quiet` (a worker's stdout is its parent's pipe: never).
    pub(crate) progress: bool,
    /// `--quiet`: no status lines on the console.
    pub(crate) quiet: bool,
}

/// A run coordinated across hosts (`--listen`, `--hosts`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Coordinate {
    /// `--listen`.
    pub(crate) listen: String,
    /// `--join-timeout`.
    pub(crate) join_timeout: Duration,
}

/// Stress mode and the run timeline, as decided by [`Plan::new`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StressPlan {
    /// `--continue-on-error`: failed operations are counted, not fatal.
    pub(crate) continue_on_error: bool,
    /// `--max-error-rate` (0 without it): the largest share of the timed
    /// run's operations that may fail.
    pub(crate) max_error_rate: f64,
    /// `--timeline`.
    pub(crate) timeline: Option<PathBuf>,
    /// `--histogram-log`.
    pub(crate) histogram_log: Option<PathBuf>,
    /// `--otlp-endpoint`: the URL metrics are posted to.
    pub(crate) otlp_metrics_url: Option<String>,
    /// `--report` (its charts are the timeline's).
    pub(crate) report: Option<PathBuf>,
    /// `--status-interval`.
    pub(crate) status_interval: Duration,
}

impl StressPlan {
    /// Whether the ticks of the timed run carry each interval's latency.
    pub(crate) fn interval_latency(&self) -> bool {
        self.timeline.is_some()
            || self.histogram_log.is_some()
            || self.otlp_metrics_url.is_some()
            || self.report.is_some()
    }
}

/// Saving and comparing with baselines.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BaselineSettings {
    /// Where baselines are kept (`--baseline-dir`, or the default).
    pub(crate) directory: PathBuf,
    /// `--save-baseline NAME`.
    pub(crate) save: Option<String>,
    /// `--baseline NAME`.
    pub(crate) compare: Option<String>,
    /// `--fail-on-regression`.
    pub(crate) fail_on_regression: bool,
    /// `--noise-threshold`, in percent.
    pub(crate) noise_threshold: f64,
}

impl Plan {
    /// The plan of running `entry` with `global` and the test's options in
    /// `matches`; a usage error if the options do not go together.
    pub(crate) fn new(
        entry: &'static TestEntry,
        global: &GlobalOptions,
        matches: &clap::ArgMatches,
    ) -> Result<Self, Error> {
        let usage = |message: String| Err(Error::new(ErrorKind::Usage, message));
        if global.sync && !entry.has_sync {
            return usage(format!(
                "{} has no sync variant (it does not implement run_sync); run it without --sync, or mark it #[perfstress::test(sync_bridge)]",
                entry.name
            ));
        }
        if !global.sync && !entry.has_async {
            return usage(format!(
                "{} has no async variant (it does not implement run_async); run it with --sync",
                entry.name
            ));
        }
        let timing = match (global.rate, global.latency) {
            (Some(rate), _) => TimingStrategy::Paced { rate },
            (None, true) => TimingStrategy::Recorded,
            (None, false) => TimingStrategy::Untimed,
        };
        if global.results_file.is_some() && !timing.records_latency() {
            return usage(
                "--results-file needs --latency (or --rate): it lists every operation's latency"
                    .to_owned(),
            );
        }
        if entry.is_event && timing.records_latency() {
            return usage(format!(
                "{} is an event test: it has no operations to time (--latency) or pace (--rate)",
                entry.name
            ));
        }
        if let Some(threshold) = global
            .thresholds
            .iter()
            .find(|threshold| threshold.needs_latency() && !timing.records_latency())
        {
            return usage(format!(
                "--threshold {threshold} needs the latency recorded: add --latency (or --rate)"
            ));
        }
        if global.histogram_log.is_some() && !timing.records_latency() {
            return usage(
                "--histogram-log needs --latency (or --rate): it logs the latency histogram of each interval"
                    .to_owned(),
            );
        }
        if global.continue_on_error && entry.is_event {
            return usage(format!(
                "{} is an event test: its errors are raised by its source (error_raised), not by operations; --continue-on-error counts failed operations",
                entry.name
            ));
        }
        if global.profile && !crate::profile::AVAILABLE {
            return usage(
                "--profile is not available in this build: it needs a Unix system and perfstress's `profile` feature (on by default; see the perf target's Cargo.toml)"
                    .to_owned(),
            );
        }
        let otlp_metrics_url = match &global.otlp_endpoint {
            Some(_) if !crate::otlp::AVAILABLE => {
                return usage(
                    "--otlp-endpoint is not available in this build: it needs perfstress's `otlp` feature (add `features = [\"otlp\"]` to the perfstress dependency of the perf target's Cargo.toml)"
                        .to_owned(),
                );
            }
            Some(endpoint) => Some(
                crate::otlp::metrics_url(endpoint)
                    .map_err(|message| Error::new(ErrorKind::Usage, message))?,
            ),
            None => None,
        };
        let test_proxies = crate::test_proxy::plan::proxies(
            &global.test_proxies,
            &global.test_proxy,
            entry.name,
            entry.is_event,
        )?;
        let (segment, coordinate) = segment(global)?;
        let shares = match (&coordinate, global.hosts) {
            (Some(_), Some(hosts)) => split(global.parallel, hosts),
            _ => split_segment(segment, global.processes),
        };
        Ok(Self {
            entry,
            parallel: global.parallel,
            shares,
            coordinate,
            segment,
            shard: global.shard.filter(|_| global.perfstress_host.is_none()),
            shard_arguments: Vec::new(),
            duration: global.duration,
            warmup: global.warmup,
            sync: global.sync,
            sync_bridge: global.sync && entry.bridged,
            insecure: global.insecure,
            no_cleanup: global.no_cleanup,
            test_proxies,
            timing,
            grace: global.grace,
            liveness_timeout: global.liveness_timeout,
            profile_directory: global
                .profile
                .then(|| profile_directory(global.profile_path.as_deref())),
            test_results: global.test_results.clone(),
            results_file: global.results_file.clone(),
            test_options: describe_test_options(entry, matches),
            operation_size: operation_size(entry, matches),
            thresholds: global.thresholds.clone(),
            stress: StressPlan {
                continue_on_error: global.continue_on_error,
                max_error_rate: global.max_error_rate.unwrap_or(0.0),
                timeline: global.timeline.clone(),
                histogram_log: global.histogram_log.clone(),
                otlp_metrics_url,
                report: global.report.clone(),
                status_interval: global.status_interval,
            },
            iterations: global.iterations,
            baseline: BaselineSettings {
                directory: global
                    .baseline_dir
                    .clone()
                    .unwrap_or_else(default_baseline_directory),
                save: global.save_baseline.clone(),
                compare: global.baseline.clone(),
                fail_on_regression: global.fail_on_regression,
                noise_threshold: global.noise_threshold,
            },
            markdown: global.markdown.clone(),
            progress: !global.no_progress
                && !global.quiet
                && std::io::IsTerminal::is_terminal(&std::io::stdout()),
            quiet: global.quiet,
        })
    }

    /// Checks every path the run will write, before anything runs: an
    /// earlier run's results files are removed (so a failed run never
    /// leaves a stale number), anything else there is refused, and each
    /// must be writable. Called by the parent only.
    pub(crate) fn prepare_outputs(&self) -> Result<Vec<OutputKind>, Error> {
        let mut kinds = Vec::new();
        for (option, path) in [
            ("--test-results", &self.test_results),
            ("--results-file", &self.results_file),
            ("--timeline", &self.stress.timeline),
            ("--histogram-log", &self.stress.histogram_log),
            ("--report", &self.stress.report),
            ("--markdown", &self.markdown),
        ] {
            if let Some(path) = path {
                kinds.push(prepare_output(option, path)?);
            }
        }
        if let Some(directory) = &self.profile_directory {
            prepare_directory("--profile-path", directory)?;
        }
        Ok(kinds)
    }

    /// The test's name.
    pub(crate) fn test_name(&self) -> &'static str {
        self.entry.name
    }

    /// The test proxy instance `parallel_index` goes through, if any.
    pub(crate) fn test_proxy_for(
        &self,
        parallel_index: usize,
    ) -> Option<&crate::test_proxy::ProxyUrl> {
        crate::test_proxy::plan::proxy_for(&self.test_proxies, parallel_index)
    }

    /// Processes the instances run in (1: this process only).
    pub(crate) fn processes(&self) -> usize {
        self.shares.len()
    }
}

/// The instances this run takes, and whether it coordinates hosts; the
/// one place a run's instances are divided over hosts and shards (each
/// instance paces itself to its share of `--rate` by its parallel index,
/// so dividing the instances divides the rate exactly).
fn segment(global: &GlobalOptions) -> Result<(ProcessShare, Option<Coordinate>), Error> {
    let usage = |message: String| Err(Error::new(ErrorKind::Usage, message));
    let parallel = global.parallel;
    let all = ProcessShare {
        first_index: 0,
        count: parallel,
    };
    // A joined host (and its workers): the share the coordinator gave it;
    // the coordinator's own --listen, --hosts and --shard do not apply.
    if let Some(spec) = &global.perfstress_host {
        let parsed = spec.split_once(',').and_then(|(first, count)| {
            Some((first.parse::<usize>().ok()?, count.parse::<usize>().ok()?))
        });
        return match parsed {
            Some((first_index, count)) if count >= 1 && first_index + count <= parallel => {
                Ok((ProcessShare { first_index, count }, None))
            }
            _ => usage(format!("bad host specification '{spec}'")),
        };
    }
    if global.join.is_some() && global.perfstress_worker.is_none() {
        return usage(
            "--join takes no test: the coordinator (--listen) sends the test and its options; run `<runner> --join ADDR` alone"
                .to_owned(),
        );
    }
    if let Some(shard) = global.shard {
        if shard.count > parallel {
            return usage(format!(
                "--shard {}/{} needs --parallel at least {} (each shard runs at least one instance); got --parallel {parallel}",
                shard.index, shard.count, shard.count
            ));
        }
        return Ok((split(parallel, shard.count)[shard.index], None));
    }
    match (&global.listen, global.hosts) {
        (Some(listen), Some(hosts)) => {
            if hosts > parallel {
                return usage(format!(
                    "--hosts {hosts} needs --parallel at least {hosts} (each host runs at least one instance); got --parallel {parallel}"
                ));
            }
            Ok((
                all,
                Some(Coordinate {
                    listen: listen.clone(),
                    join_timeout: global.join_timeout,
                }),
            ))
        }
        _ => Ok((all, None)),
    }
}

/// Spreads the instances of `segment` over at most `processes` processes
/// as [`split`] does, keeping their parallel indexes.
pub(crate) fn split_segment(segment: ProcessShare, processes: usize) -> Vec<ProcessShare> {
    split(segment.count, processes)
        .into_iter()
        .map(|share| ProcessShare {
            first_index: segment.first_index + share.first_index,
            count: share.count,
        })
        .collect()
}

/// Where baselines are kept without `--baseline-dir`: `perfstress/baselines`
/// in cargo's target directory (`CARGO_TARGET_DIR`, or the folder holding
/// this executable that cargo marked with `CACHEDIR.TAG`), else
/// `target/perfstress/baselines` under the working directory.
pub(crate) fn default_baseline_directory() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|directory| !directory.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let executable = std::env::current_exe().ok()?;
            executable
                .ancestors()
                .skip(1)
                .find(|directory| directory.join("CACHEDIR.TAG").is_file())
                .map(std::path::Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("perfstress").join("baselines")
}

/// The test's own options as given (defaults included), for the options
/// block and the results file. Values of options whose names suggest a
/// secret are masked.
fn describe_test_options(entry: &TestEntry, matches: &clap::ArgMatches) -> Vec<String> {
    let own = (entry.augment_args)(clap::Command::new(entry.name));
    let mut described = Vec::new();
    for arg in own.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        let Ok(Some(values)) = matches.try_get_raw(arg.get_id().as_str()) else {
            continue;
        };
        let values: Vec<String> = values
            .map(|value| value.to_string_lossy().into_owned())
            .collect();
        let is_flag = matches!(
            arg.get_action(),
            clap::ArgAction::SetTrue | clap::ArgAction::SetFalse
        );
        if is_flag {
            if values.iter().any(|value| value == "true") {
                described.push(format!("--{long}"));
            }
        } else if is_secret(long) {
            for value in &values {
                remember_secret(value);
            }
            described.push(format!("--{long} ***"));
        } else {
            let values: Vec<String> = values.iter().map(|value| redact_url(value)).collect();
            described.push(format!("--{long} {}", values.join(" ")));
        }
    }
    described
}

/// The test's `--size` option, the size of each operation in bytes.
fn operation_size(entry: &TestEntry, matches: &clap::ArgMatches) -> Option<u64> {
    let own = (entry.augment_args)(clap::Command::new(entry.name));
    let size = own
        .get_arguments()
        .find(|arg| arg.get_long() == Some("size"))?;
    let mut values = matches.try_get_raw(size.get_id().as_str()).ok()??;
    values.next()?.to_str()?.trim().parse().ok()
}

/// The instances one process runs: parallel indexes `first_index..first_index + count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ProcessShare {
    /// The parallel index of the process's first instance.
    pub(crate) first_index: usize,
    /// How many instances the process runs.
    pub(crate) count: usize,
}

/// Spreads `parallel` instances over at most `processes` processes, the
/// reference's way: with `k, m = divmod(parallel, processes)`, process `i`
/// gets `k + (1 if i < m)` instances starting at `i*k + min(i, m)`. The
/// effective number of processes is `min(parallel, processes)`.
///
/// `split(10, 4)` gives 3, 3, 2, 2 instances at indexes 0, 3, 6, 8.
pub(crate) fn split(parallel: usize, processes: usize) -> Vec<ProcessShare> {
    let processes = processes.clamp(1, parallel.max(1));
    let (per_process, remainder) = (parallel / processes, parallel % processes);
    (0..processes)
        .map(|index| ProcessShare {
            first_index: index * per_process + index.min(remainder),
            count: per_process + usize::from(index < remainder),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(parallel: usize, processes: usize) -> Vec<usize> {
        split(parallel, processes)
            .iter()
            .map(|share| share.count)
            .collect()
    }

    #[test]
    fn segments_of_hosts_and_shards_cover_every_instance_once() {
        for parallel in 1..30 {
            for hosts in 1..=parallel.min(7) {
                for processes in 1..4 {
                    let mut next = 0;
                    for host in split(parallel, hosts) {
                        for share in split_segment(host, processes) {
                            assert_eq!(share.first_index, next);
                            next += share.count;
                        }
                    }
                    assert_eq!(next, parallel);
                }
            }
        }
    }

    #[test]
    fn reference_example() {
        assert_eq!(counts(10, 4), vec![3, 3, 2, 2]);
        let firsts: Vec<_> = split(10, 4).iter().map(|share| share.first_index).collect();
        assert_eq!(firsts, vec![0, 3, 6, 8]);
    }

    #[test]
    fn effective_processes_never_exceed_parallel() {
        assert_eq!(counts(2, 8), vec![1, 1]);
        assert_eq!(counts(1, 1), vec![1]);
        assert_eq!(counts(5, 1), vec![5]);
        assert_eq!(counts(3, 0), vec![3]);
    }

    #[test]
    fn indexes_are_unique_and_cover_everything() {
        for parallel in 1..40 {
            for processes in 1..12 {
                let shares = split(parallel, processes);
                assert_eq!(shares.len(), processes.min(parallel));
                let mut next = 0;
                for share in &shares {
                    assert_eq!(share.first_index, next, "contiguous, in order");
                    assert!(share.count >= 1);
                    next += share.count;
                }
                assert_eq!(next, parallel);
                let (min, max) = (
                    shares.iter().map(|s| s.count).min().unwrap(),
                    shares.iter().map(|s| s.count).max().unwrap(),
                );
                assert!(max - min <= 1, "balanced");
            }
        }
    }
}
