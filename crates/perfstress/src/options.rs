//! The framework's command-line options and their validation.

use std::path::PathBuf;
use std::time::Duration;

// The flags' environment variables take the usual spellings: 1/0,
// true/false, yes/no, on/off.
use clap::builder::BoolishValueParser;

use crate::test_proxy::{ProxyUrl, parse_proxy_url};
use crate::threshold::{Threshold, parse_threshold};

/// The options every perf runner accepts, before or after the test name.
///
/// Each has a `PERFSTRESS_*` environment variable; `<runner> --help` lists
/// them. Read-only for test code: the runner parses them.
#[derive(clap::Args, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GlobalOptions {
    /// Length of the timed run in seconds (fractions allowed, e.g. 0.5).
    #[arg(short = 'd', long, value_name = "SECS", default_value = "10",
          value_parser = parse_duration, allow_negative_numbers = true, env = "PERFSTRESS_DURATION")]
    pub duration: Duration,

    /// Warm-up before the timed run, in seconds; 0 skips it.
    #[arg(short = 'w', long, visible_alias = "warm-up", value_name = "SECS", default_value = "5",
          value_parser = parse_warmup, allow_negative_numbers = true, env = "PERFSTRESS_WARMUP")]
    pub warmup: Duration,

    /// Number of test instances in total.
    #[arg(short = 'p', long, value_name = "N", default_value_t = 1,
          value_parser = parse_parallel, allow_negative_numbers = true, env = "PERFSTRESS_PARALLEL")]
    pub parallel: usize,

    /// Upper bound on processes the instances are spread over (at most one
    /// per instance); 1 runs everything in this process.
    #[arg(long, value_name = "N", default_value_t = default_processes(),
          value_parser = parse_processes, allow_negative_numbers = true, env = "PERFSTRESS_PROCESSES")]
    pub processes: usize,

    /// Run the sync variant (`run_sync`, one OS thread per instance) instead
    /// of the async one (`run_async`, tasks on a tokio runtime).
    #[arg(long, env = "PERFSTRESS_SYNC", value_parser = BoolishValueParser::new())]
    pub sync: bool,

    /// Keep the resources the test created: skip cleanup and global cleanup.
    #[arg(long, env = "PERFSTRESS_NO_CLEANUP", value_parser = BoolishValueParser::new())]
    pub no_cleanup: bool,

    /// Disable TLS certificate validation in the client under test (and
    /// for the test proxy's calls).
    #[arg(long, env = "PERFSTRESS_INSECURE", value_parser = BoolishValueParser::new())]
    pub insecure: bool,

    /// Run through the Azure SDK test proxy: record one operation per
    /// instance after setup, play it back for the warm-up and the timed run.
    /// `;`-separated URLs (e.g. `http://127.0.0.1:5000/`); instance i uses
    /// proxy i mod n. Repeatable, and combined with --test-proxy.
    #[arg(short = 'x', long = "test-proxies", value_name = "URL[;URL...]", value_parser = parse_proxy_url,
          action = clap::ArgAction::Append, value_delimiter = ';', env = "PERFSTRESS_TEST_PROXIES")]
    pub(crate) test_proxies: Vec<ProxyUrl>,

    /// One test proxy URL (the older single form; added to --test-proxies).
    #[arg(long = "test-proxy", value_name = "URL", value_parser = parse_proxy_url,
          action = clap::ArgAction::Append, env = "PERFSTRESS_TEST_PROXY")]
    pub(crate) test_proxy: Vec<ProxyUrl>,

    /// Write the summary as JSON to PATH (removed when the run starts, so a
    /// failed run never leaves a stale result).
    #[arg(long, value_name = "PATH", env = "PERFSTRESS_TEST_RESULTS")]
    pub test_results: Option<PathBuf>,

    /// Record the latency of every operation of the timed run and print
    /// its percentiles.
    #[arg(short = 'l', long, env = "PERFSTRESS_LATENCY", value_parser = BoolishValueParser::new())]
    pub latency: bool,

    /// With --latency (or --rate): write every operation's latency as PerfAutomation's
    /// JSON array (`[{"Time": ms, "Size": bytes}, ...]`) to PATH.
    #[arg(long, value_name = "PATH", env = "PERFSTRESS_RESULTS_FILE")]
    pub results_file: Option<PathBuf>,

    /// Target rate over all instances, in operations per second: operations
    /// are started on a fixed schedule (open loop) and latency is reported
    /// both as service time and corrected for the time spent behind
    /// schedule. Implies --latency.
    #[arg(short = 'r', long, value_name = "OPS", value_parser = parse_rate, allow_negative_numbers = true, env = "PERFSTRESS_RATE")]
    pub rate: Option<f64>,

    /// Profile the timed run; write a flame graph (SVG) and a pprof
    /// protobuf per process.
    #[arg(long, env = "PERFSTRESS_PROFILE", value_parser = BoolishValueParser::new())]
    pub profile: bool,

    /// Directory for --profile's files (default: the working directory).
    #[arg(
        long,
        value_name = "PATH",
        requires = "profile",
        env = "PERFSTRESS_PROFILE_PATH"
    )]
    pub profile_path: Option<PathBuf>,

    /// A bound on a figure of the timed run, checked after it; repeatable
    /// (or `;`-separated): `ops/s>1000`, `p99<50ms`, `error_rate<0.1%`,
    /// `rss<200MiB`, `cpu<150%`. A bound that fails exits 3.
    #[arg(long = "threshold", value_name = "EXPR", value_parser = parse_threshold,
          action = clap::ArgAction::Append, value_delimiter = ';', env = "PERFSTRESS_THRESHOLD")]
    pub(crate) thresholds: Vec<Threshold>,

    /// Timed runs after the one warm-up, each printed and kept; the summary
    /// gives their mean, standard deviation and 95% confidence interval.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = parse_iterations, allow_negative_numbers = true, env = "PERFSTRESS_ITERATIONS")]
    pub iterations: usize,

    /// Save this run as baseline NAME (see --baseline-dir), keyed by test
    /// and options; a later `--baseline NAME` or `compare` reads it.
    #[arg(long, value_name = "NAME", value_parser = parse_baseline_name, env = "PERFSTRESS_SAVE_BASELINE")]
    pub save_baseline: Option<String>,

    /// Compare this run with baseline NAME (saved with --save-baseline for
    /// the same test and options) and print the change with its statistics.
    #[arg(long, value_name = "NAME", value_parser = parse_baseline_name, env = "PERFSTRESS_BASELINE")]
    pub baseline: Option<String>,

    /// Where baselines are kept (default: `perfstress/baselines` in cargo's
    /// target directory, or `target/perfstress/baselines`).
    #[arg(long, value_name = "DIR", env = "PERFSTRESS_BASELINE_DIR")]
    pub baseline_dir: Option<PathBuf>,

    /// With --baseline: a regression (a significant change worse than
    /// --noise-threshold) exits 3.
    #[arg(long, requires = "baseline", env = "PERFSTRESS_FAIL_ON_REGRESSION", value_parser = BoolishValueParser::new())]
    pub fail_on_regression: bool,

    /// With --baseline: changes smaller than this many percent are "no
    /// change", however significant.
    #[arg(long, value_name = "PERCENT", default_value_t = 2.0,
          value_parser = parse_noise_threshold, env = "PERFSTRESS_NOISE_THRESHOLD")]
    pub noise_threshold: f64,

    /// Write the results (iterations, statistics, comparison, thresholds) as
    /// Markdown to PATH, e.g. for a CI job summary.
    #[arg(long, value_name = "PATH", env = "PERFSTRESS_MARKDOWN")]
    pub markdown: Option<PathBuf>,

    /// How long an operation still running when a timed phase ends (its
    /// deadline, a failure, Ctrl-C) may take to complete, in seconds; then
    /// it is abandoned and the run fails. 0 abandons it at once.
    #[arg(long, value_name = "SECS", default_value = "5",
          value_parser = parse_warmup, allow_negative_numbers = true, env = "PERFSTRESS_GRACE")]
    pub grace: Duration,

    /// With worker processes: a worker that sends nothing (not even its
    /// heartbeat, 4 a second) for this many seconds is reported, killed,
    /// and the run fails.
    #[arg(long, value_name = "SECS", default_value = "5",
          value_parser = parse_duration, allow_negative_numbers = true, env = "PERFSTRESS_LIVENESS_TIMEOUT")]
    pub liveness_timeout: Duration,

    /// Stress mode: a failed operation is counted (by kind, in the Errors
    /// block of the results) and the instance goes on, instead of ending
    /// the run. Errors in setup and cleanup still fail it.
    #[arg(long, env = "PERFSTRESS_CONTINUE_ON_ERROR", value_parser = BoolishValueParser::new())]
    pub continue_on_error: bool,

    /// With --continue-on-error: the share of the timed run's operations
    /// that may fail with the run still passing (exit 0), as a fraction or
    /// a percentage: `0.01` or `1%`. Default 0: any error fails the run.
    #[arg(long, value_name = "RATE", value_parser = parse_fraction,
          requires = "continue_on_error", env = "PERFSTRESS_MAX_ERROR_RATE")]
    pub max_error_rate: Option<f64>,

    /// Write the run's timeline to PATH as JSON Lines: one object per status
    /// interval of the warm-up and the timed run (operations, ops/s, errors,
    /// latency with --latency, CPU, RSS), each line flushed as written.
    #[arg(long, value_name = "PATH", env = "PERFSTRESS_TIMELINE")]
    pub timeline: Option<PathBuf>,

    /// Write the run's report to PATH: one self-contained HTML page (no
    /// network request) with the options, the results and charts of the
    /// run over time. `<runner> report FILES... -o PATH` builds one from
    /// saved runs.
    #[arg(long, value_name = "PATH", env = "PERFSTRESS_REPORT")]
    pub report: Option<PathBuf>,

    /// With --latency: write each status interval's latency histogram of
    /// the timed run to PATH in the HdrHistogram interval-log format.
    #[arg(long, value_name = "PATH", env = "PERFSTRESS_HISTOGRAM_LOG")]
    pub histogram_log: Option<PathBuf>,

    /// Export the run over time as OpenTelemetry metrics to the OTLP/HTTP
    /// collector at URL (e.g. `http://localhost:4318`; `/v1/metrics` is
    /// added to a URL without a path), once per status interval.
    #[arg(long, value_name = "URL", env = "PERFSTRESS_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,

    /// No live progress line (shown at the bottom of a terminal during the
    /// timed stages; never on a pipe or a file).
    #[arg(long, env = "PERFSTRESS_NO_PROGRESS", value_parser = BoolishValueParser::new())]
    pub no_progress: bool,

    /// Print no status lines and no progress line: the options, the stage
    /// headers, the results, warnings and errors only. The files the run
    /// writes (--timeline, --test-results, --report...) are unchanged.
    #[arg(long, env = "PERFSTRESS_QUIET", value_parser = BoolishValueParser::new())]
    pub quiet: bool,

    /// Seconds between two status lines (and timeline intervals).
    #[arg(long, value_name = "SECS", default_value = "1",
          value_parser = parse_status_interval, allow_negative_numbers = true, env = "PERFSTRESS_STATUS_INTERVAL")]
    pub status_interval: Duration,

    /// Coordinate a run across hosts: listen on ADDR (e.g. `0.0.0.0:7878`)
    /// for `--hosts N` hosts started with `--join`, which run the
    /// instances; this process runs none. Needs a join token
    /// (`--token-file` or `PERFSTRESS_JOIN_TOKEN`).
    #[arg(
        long,
        value_name = "ADDR",
        requires = "hosts",
        conflicts_with = "shard",
        env = "PERFSTRESS_LISTEN"
    )]
    pub listen: Option<String>,

    /// With --listen: the number of hosts the run waits for; `--parallel`
    /// and `--rate` are divided exactly over them.
    #[arg(long, value_name = "N", requires = "listen", value_parser = parse_hosts,
          env = "PERFSTRESS_HOSTS")]
    pub hosts: Option<usize>,

    /// Join the run coordinated at ADDR (`--listen`) as one of its hosts,
    /// with no test arguments: the coordinator sends the test, its options
    /// and this host's share, spread over `--processes` processes here.
    #[arg(long, value_name = "ADDR", env = "PERFSTRESS_JOIN")]
    pub join: Option<String>,

    /// With --join: the local address to connect from (e.g. `10.0.0.5` or
    /// `10.0.0.5:0`).
    #[arg(long, value_name = "ADDR", requires = "join", env = "PERFSTRESS_BIND")]
    pub bind: Option<String>,

    /// With --join: the name this host goes by in the run (default: the
    /// machine's host name and this process's id). Two hosts of one run
    /// may not share a name.
    #[arg(
        long,
        value_name = "NAME",
        requires = "join",
        env = "PERFSTRESS_HOST_ID"
    )]
    pub host_id: Option<String>,

    /// With --listen or --join: read the join token from PATH (its first
    /// line). Else it comes from PERFSTRESS_JOIN_TOKEN; never give it on
    /// the command line.
    #[arg(long, value_name = "PATH", env = "PERFSTRESS_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,

    /// With --listen: serve the hosts over TLS with the certificate chain
    /// in this PEM file (leaf first; its names or IP addresses are what
    /// hosts check). Needs --tls-key. Hosts then need --tls-ca.
    #[arg(long, value_name = "PEM", env = "PERFSTRESS_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// With --tls-cert: the certificate's private key, a PEM file (PKCS#8,
    /// PKCS#1 or SEC1; may be the certificate's own file).
    #[arg(long, value_name = "PEM", env = "PERFSTRESS_TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// With --join: talk to the coordinator over TLS, trusting the
    /// certificates in this PEM file (the coordinator's self-signed
    /// certificate, or the CA that signed it).
    #[arg(long, value_name = "PEM", env = "PERFSTRESS_TLS_CA")]
    pub tls_ca: Option<PathBuf>,

    /// With --tls-ca: the name the coordinator's certificate must carry
    /// (default: the host part of --join, a DNS name or an IP address).
    #[arg(long, value_name = "NAME", env = "PERFSTRESS_TLS_SERVER_NAME")]
    pub tls_server_name: Option<String>,

    /// Seconds the coordinator waits for every host to join (and a joining
    /// host for the coordinator to answer).
    #[arg(long, value_name = "SECS", default_value = "60",
          value_parser = parse_duration, allow_negative_numbers = true, env = "PERFSTRESS_JOIN_TIMEOUT")]
    pub join_timeout: Duration,

    /// Run segment I of N of the run, with no coordinator (`--shard 0/3`,
    /// `1/3`, `2/3` on three machines): this run takes its share of
    /// `--parallel` (and of `--rate`); `<runner> merge FILES...` merges
    /// their `--test-results` files.
    #[arg(long, value_name = "I/N", value_parser = parse_shard, env = "PERFSTRESS_SHARD")]
    pub shard: Option<Shard>,

    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    pub(crate) bench: bool,

    /// Set by a joined host on the run it carries out: its instances,
    /// `FIRST,COUNT`.
    #[arg(long, hide = true, value_name = "SPEC")]
    pub(crate) perfstress_host: Option<String>,

    /// Set by a parent process on the worker processes it starts.
    #[arg(long, hide = true, value_name = "SPEC")]
    pub(crate) perfstress_worker: Option<String>,
}

/// The name of the hidden option that starts a worker process.
pub(crate) const WORKER_OPTION: &str = "--perfstress-worker";

/// The default of `--processes`: the number of CPUs.
pub(crate) fn default_processes() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

impl Default for GlobalOptions {
    fn default() -> Self {
        Self {
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(5),
            parallel: 1,
            processes: default_processes(),
            sync: false,
            no_cleanup: false,
            insecure: false,
            test_proxies: Vec::new(),
            test_proxy: Vec::new(),
            test_results: None,
            latency: false,
            results_file: None,
            rate: None,
            profile: false,
            profile_path: None,
            thresholds: Vec::new(),
            iterations: 1,
            save_baseline: None,
            baseline: None,
            baseline_dir: None,
            fail_on_regression: false,
            noise_threshold: 2.0,
            markdown: None,
            grace: Duration::from_secs(5),
            liveness_timeout: Duration::from_secs(5),
            continue_on_error: false,
            max_error_rate: None,
            timeline: None,
            report: None,
            no_progress: false,
            quiet: false,
            histogram_log: None,
            otlp_endpoint: None,
            status_interval: Duration::from_secs(1),
            listen: None,
            hosts: None,
            join: None,
            bind: None,
            host_id: None,
            token_file: None,
            tls_cert: None,
            tls_key: None,
            tls_ca: None,
            tls_server_name: None,
            join_timeout: Duration::from_secs(60),
            shard: None,
            bench: false,
            perfstress_host: None,
            perfstress_worker: None,
        }
    }
}

/// The name of the hidden option a joined host runs its share with.
pub(crate) const HOST_OPTION: &str = "--perfstress-host";

/// `--shard I/N`: segment `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which segment, from 0.
    pub index: usize,
    /// How many segments the run is cut into.
    pub count: usize,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || format!("expected I/N with 0 <= I < N, e.g. 0/3; got '{text}'");
    let (index, count) = text.trim().split_once('/').ok_or_else(bad)?;
    let index: usize = index.trim().parse().map_err(|_| bad())?;
    let count: usize = count.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count || count > MAX_PARALLEL {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

fn parse_hosts(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(hosts) if (1..=MAX_PARALLEL).contains(&hosts) => Ok(hosts),
        _ => Err(format!(
            "expected a number of hosts, from 1 to {MAX_PARALLEL}; got '{text}'"
        )),
    }
}

/// The longest duration accepted: a day, far beyond any sensible run, and
/// small enough that deadlines can never overflow.
const MAX_SECONDS: f64 = 86_400.0;
/// The shortest timed run accepted.
const MIN_SECONDS: f64 = 0.001;
/// The slowest target rate accepted (one operation in about 17 minutes):
/// below it, the schedule's intervals leave what clocks can represent.
const MIN_RATE: f64 = 0.001;
/// The fastest target rate accepted.
const MAX_RATE: f64 = 1e9;
/// More instances than any machine can usefully run is a typo.
const MAX_PARALLEL: usize = 100_000;

fn parse_seconds(text: &str, allow_zero: bool) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of seconds, e.g. 10 or 0.5; got '{text}'"))?;
    let lower = if allow_zero {
        "0 or more"
    } else {
        "more than 0 (at least 0.001, a millisecond)"
    };
    // A timed run shorter than a millisecond (`1e-10`) is a run of nothing.
    let too_short = !allow_zero && seconds < MIN_SECONDS;
    if !seconds.is_finite() || seconds < 0.0 || too_short || seconds > MAX_SECONDS {
        return Err(format!(
            "must be {lower} and at most {MAX_SECONDS} seconds; got '{text}'"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && (MIN_RATE..=MAX_RATE).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "expected operations per second, from {MIN_RATE} to {MAX_RATE:e}; got '{text}'"
        )),
    }
}

/// A rate (a share of something) written as a fraction or a percentage:
/// `0.01` or `1%`, from 0 to 1 (100%). The value parser of every option
/// that takes a rate (`--max-error-rate`, a test's `--error-rate`).
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.strip_suffix('%') {
        Some(number) => (number.trim(), 0.01),
        None => (trimmed, 1.0),
    };
    match number.parse::<f64>() {
        Ok(value) if value.is_finite() && (0.0..=1.0).contains(&(value * scale)) => {
            Ok(value * scale)
        }
        _ => Err(format!(
            "expected a rate from 0 to 1, as a fraction or a percentage (0.01 or 1%); got '{text}'"
        )),
    }
}

/// The shortest status interval accepted.
const MIN_STATUS_INTERVAL: f64 = 0.01;

fn parse_status_interval(text: &str) -> Result<Duration, String> {
    let interval = parse_seconds(text, false)?;
    if interval.as_secs_f64() < MIN_STATUS_INTERVAL {
        return Err(format!(
            "must be at least {MIN_STATUS_INTERVAL} seconds; got '{text}'"
        ));
    }
    Ok(interval)
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    parse_seconds(text, false)
}

fn parse_warmup(text: &str) -> Result<Duration, String> {
    parse_seconds(text, true)
}

fn parse_count(text: &str) -> Result<usize, String> {
    let count: i64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a whole number from 1 to {MAX_PARALLEL}; got '{text}'"))?;
    if !(1..=MAX_PARALLEL as i64).contains(&count) {
        return Err(format!("must be from 1 to {MAX_PARALLEL}; got '{text}'"));
    }
    Ok(count as usize)
}

/// More iterations than anyone waits for is a typo.
const MAX_ITERATIONS: usize = 10_000;

fn parse_iterations(text: &str) -> Result<usize, String> {
    match text.trim().parse::<i64>() {
        Ok(count) if (1..=MAX_ITERATIONS as i64).contains(&count) => Ok(count as usize),
        _ => Err(format!(
            "expected a whole number of timed runs from 1 to {MAX_ITERATIONS}; got '{text}'"
        )),
    }
}

/// The clap value parser of `--noise-threshold`: a percentage, 0 to 100.
pub(crate) fn parse_noise_threshold(text: &str) -> Result<f64, String> {
    match text.trim().trim_end_matches('%').parse::<f64>() {
        Ok(percent) if percent.is_finite() && (0.0..=100.0).contains(&percent) => Ok(percent),
        _ => Err(format!(
            "expected a percentage from 0 to 100, e.g. 2 or 2%; got '{text}'"
        )),
    }
}

/// The clap value parser of baseline names: they become folder names, so
/// letters, digits, `.`, `_` and `-` only (`main`, `pr-123`, `v1.2`).
pub(crate) fn parse_baseline_name(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.len() <= 100
        && !text.starts_with('.')
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "a baseline name is 1 to 100 letters, digits, '.', '_' or '-', not starting with '.' (e.g. main, pr-123); got '{text}'"
        ))
    }
}

fn parse_parallel(text: &str) -> Result<usize, String> {
    parse_count(text)
}

fn parse_processes(text: &str) -> Result<usize, String> {
    parse_count(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_accept_integers_and_fractions() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_warmup("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_seconds_name_the_range() {
        assert!(parse_duration("0").unwrap_err().contains("more than 0"));
        assert!(parse_duration("1e-10").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(
            parse_duration("abc")
                .unwrap_err()
                .contains("number of seconds")
        );
        assert!(parse_duration("inf").is_err());
        assert!(parse_warmup("-0.5").unwrap_err().contains("0 or more"));
    }

    #[test]
    fn rate_must_be_positive() {
        assert_eq!(parse_rate("100"), Ok(100.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-5").is_err());
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("1e-30").is_err());
        assert!(parse_rate("1e-12").is_err());
        assert_eq!(parse_rate("0.001"), Ok(0.001));
    }

    #[test]
    fn rates_are_fractions_or_percentages() {
        assert_eq!(parse_fraction("0.01"), Ok(0.01));
        assert_eq!(parse_fraction("1%"), Ok(0.01));
        assert_eq!(parse_fraction(" 2.5 % "), Ok(0.025));
        assert_eq!(parse_fraction("0"), Ok(0.0));
        assert_eq!(parse_fraction("100%"), Ok(1.0));
        assert!(parse_fraction("1.5").unwrap_err().contains("0.01 or 1%"));
        assert!(parse_fraction("-1%").is_err());
        assert!(parse_fraction("lots").is_err());
        assert!(parse_fraction("nan").is_err());
    }

    #[test]
    fn status_interval_range() {
        assert_eq!(parse_status_interval("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_status_interval("0.001").is_err());
        assert!(parse_status_interval("0").is_err());
    }

    #[test]
    fn parallel_range() {
        assert_eq!(parse_parallel("8"), Ok(8));
        assert!(parse_parallel("0").unwrap_err().contains("from 1"));
        assert!(parse_parallel("-3").is_err());
        assert!(parse_parallel("2.5").is_err());
    }
}
