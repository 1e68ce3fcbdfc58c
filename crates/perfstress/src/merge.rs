//! `<runner> merge FILES...`: merges the `--test-results` files of the
//! `--shard I/N` runs of one test (started independently, with no
//! coordinator) into the results of the whole run: every instance's
//! operations (so ops/s is the results math over all of them), the
//! HdrHistograms merged, the errors added. It reports as a run would (the
//! results block, and `--test-results` for the merged file). Given each
//! shard's `--timeline` (and `--histogram-log`) file after its results
//! file, it also writes the whole run's timeline (and interval log),
//! merged interval by interval ([`timeline`]).

mod timeline;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::{Error, ErrorKind};
use crate::metrics::{PhaseEnd, PhaseMeasurement, PhaseResults, RunSummary, ThresholdResult};
use crate::outcome::Outcome;
use crate::phase::Phase;
use crate::plan::Plan;
use crate::registry::{Invocation, TestEntry};
use crate::report::{Console, HistogramLogFile, MergeInput, Reporter};

use timeline::{MergedInterval, ShardHistogramLog, ShardTimeline};

/// The subcommand's name.
pub(crate) const COMMAND: &str = "merge";

/// Turns a command line (program name first) into the test it runs and
/// its parsed options, or the outcome of a bad one (already reported).
pub(crate) type ParseCommandLine =
    fn(&str, Vec<OsString>) -> Result<(&'static TestEntry, Invocation), Outcome>;

/// Merges the results files of `--shard` runs into the whole run's.
#[derive(Args, Debug)]
pub(crate) struct MergeArgs {
    /// The `--test-results` files of the shards `0/N` to `N-1/N`, each once,
    /// in any order; each may be followed by its shard's `--timeline` file
    /// and `--histogram-log` file (told apart by their content).
    #[arg(value_name = "FILES", required = true)]
    files: Vec<PathBuf>,

    /// Write the merged results file (the same contract as a run's) to PATH.
    #[arg(long, value_name = "PATH")]
    test_results: Option<PathBuf>,

    /// Write the merged timeline (every shard's --timeline merged by
    /// interval index) to PATH.
    #[arg(long, value_name = "PATH")]
    timeline: Option<PathBuf>,

    /// Write the merged interval histograms (every shard's --histogram-log
    /// merged by interval) to PATH, in the HdrHistogram interval-log format.
    #[arg(long, value_name = "PATH")]
    histogram_log: Option<PathBuf>,
}

/// One shard's file.
struct ShardFile {
    path: PathBuf,
    index: usize,
    count: usize,
    test_name: String,
    input: MergeInput,
    /// Its `--timeline` file, if given.
    timeline: Option<ShardTimeline>,
    /// Its `--histogram-log` file, if given.
    histogram_log: Option<ShardHistogramLog>,
    /// The results file.
    results: serde_json::Value,
}

/// Runs `<program> merge` with its parsed arguments.
pub(crate) fn run(program: &str, args: MergeArgs, parse: ParseCommandLine) -> Outcome {
    let console = Console::new();
    let (shards, intervals) = match read_shards(&args) {
        Ok(shards) => shards,
        Err(error) => {
            console.error(&format!("error: {error}"));
            return Outcome::Usage;
        }
    };
    // The plan of the whole run: the first shard's command line, without
    // --shard and with only the merged results file to write.
    let command_line = std::iter::once(OsString::from(program))
        .chain(shards[0].input.arguments.iter().map(OsString::from))
        .collect();
    let (entry, mut invocation) = match parse(program, command_line) {
        Ok(parsed) => parsed,
        Err(outcome) => return outcome,
    };
    let global = &mut invocation.global;
    global.shard = None;
    global.test_results = args.test_results.clone();
    global.results_file = None;
    global.timeline = None;
    global.histogram_log = None;
    global.markdown = None;
    global.report = None;
    global.profile = false;
    global.save_baseline = None;
    global.baseline = None;
    let plan = match Plan::new(entry, &invocation.global, &invocation.matches) {
        Ok(plan) => plan,
        Err(error) => {
            console.error(&format!("error: {error}"));
            return Outcome::Usage;
        }
    };
    let outputs = [
        ("--timeline", &args.timeline),
        ("--histogram-log", &args.histogram_log),
    ];
    let prepared = plan.prepare_outputs().and_then(|_| {
        outputs
            .iter()
            .filter_map(|(option, path)| Some((option, path.as_ref()?)))
            .try_for_each(|(option, path)| crate::fs::prepare_output(option, path).map(drop))
    });
    if let Err(error) = prepared {
        console.error(&format!("error: {error}"));
        return Outcome::Usage;
    }
    if let Err(error) = write_intervals(&args, &intervals) {
        console.error(&format!("error: {error}"));
        return Outcome::Failed;
    }
    let measurement =
        PhaseMeasurement::merge(shards.into_iter().map(|shard| shard.input.measurement));
    let mut reporters = crate::report::reporters(&plan);
    reporters.options(&plan);
    reporters.stage_start(Phase::Run);
    let results = PhaseResults::new(&plan, Phase::Run, measurement, PhaseEnd::Completed);
    reporters.phase_results(&results);
    reporters.stage_end(Phase::Run);
    let thresholds = ThresholdResult::evaluate(&plan, Some(&results));
    let outcome = if thresholds.iter().any(|result| !result.passed) {
        Outcome::GateFailed
    } else {
        Outcome::Success
    };
    let summary = RunSummary {
        plan: &plan,
        warmup: None,
        run: Some(results),
        failures: Vec::new(),
        coordination_seconds: Default::default(),
        hosts: Vec::new(),
        shard_measurement: None,
        thresholds,
        outcome,
        record: None,
        comparison: None,
    };
    match reporters.run_summary(&summary) {
        Ok(()) => outcome,
        Err(error) => {
            console.error(&format!("error: {error}"));
            Outcome::Failed
        }
    }
}

/// Writes `--timeline` and `--histogram-log` (already prepared): the
/// merged intervals, the timeline at once (atomically), the interval log
/// through the run's own writer.
fn write_intervals(args: &MergeArgs, intervals: &[MergedInterval]) -> Result<(), Error> {
    if let Some(path) = &args.timeline {
        crate::fs::write_atomically(path, |out| {
            for interval in intervals {
                out.write_all(&interval.to_line()?)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        })
        .map_err(|error| {
            Error::with_source(
                ErrorKind::Io,
                format!("--timeline: cannot write {}", path.display()),
                error,
            )
        })?;
    }
    if let Some(path) = &args.histogram_log {
        let mut log = HistogramLogFile::new(path.clone());
        let mut iteration = None;
        for interval in intervals {
            if interval.iteration != iteration
                && let Some(index) = interval.iteration
            {
                log.iteration_start(index, 0);
            }
            iteration = interval.iteration;
            log.interval(&interval.record);
        }
        log.finish()?;
    }
    Ok(())
}

/// What a file given to `merge` is, by its content.
enum Kind {
    Results(serde_json::Value),
    Timeline(ShardTimeline),
    HistogramLog(ShardHistogramLog),
}

/// Reads `path` and tells its kind.
fn read_file(path: &Path) -> Result<Kind, Error> {
    let usage = |message: String| Error::new(ErrorKind::Usage, message);
    let text = std::fs::read_to_string(path)
        .map_err(|error| usage(format!("cannot read {}: {error}", path.display())))?;
    if timeline::is_timeline(&text) {
        return ShardTimeline::parse(path, &text).map(Kind::Timeline);
    }
    if timeline::is_histogram_log(&text) {
        return ShardHistogramLog::parse(path, &text).map(Kind::HistogramLog);
    }
    serde_json::from_str(&text)
        .map(Kind::Results)
        .map_err(|error| {
            usage(format!(
                "{} is not a results file (JSON), a timeline or a histogram log: {error}",
                path.display()
            ))
        })
}

/// Reads and checks the shards' files: each a `--shard` run's results
/// file, of the same test and segments, every segment exactly once, each
/// with its timeline and histogram log after it if given (all shards
/// alike); in segment order, with the merged intervals when `--timeline`
/// or `--histogram-log` asks for them.
fn read_shards(args: &MergeArgs) -> Result<(Vec<ShardFile>, Vec<MergedInterval>), Error> {
    let usage = |message: String| Error::new(ErrorKind::Usage, message);
    let mut shards: Vec<ShardFile> = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let json = match read_file(path)? {
            Kind::Results(json) => json,
            Kind::Timeline(timeline) => {
                let Some(shard) = shards.last_mut().filter(|shard| shard.timeline.is_none()) else {
                    return Err(usage(format!(
                        "{} is a timeline: give it after its shard's results file (merge R0.json T0.jsonl R1.json T1.jsonl ...), one per shard",
                        path.display()
                    )));
                };
                shard.timeline = Some(timeline);
                continue;
            }
            Kind::HistogramLog(log) => {
                let Some(shard) = shards
                    .last_mut()
                    .filter(|shard| shard.histogram_log.is_none())
                else {
                    return Err(usage(format!(
                        "{} is a histogram log: give it after its shard's results file (and timeline), one per shard",
                        path.display()
                    )));
                };
                shard.histogram_log = Some(log);
                continue;
            }
        };
        let not_a_shard = || {
            usage(format!(
                "{} is not the --test-results file of a --shard run (run each shard with --shard I/N --test-results FILE)",
                path.display()
            ))
        };
        let (index, count) = json["shard"]
            .as_str()
            .and_then(|shard| shard.split_once('/'))
            .and_then(|(index, count)| Some((index.parse().ok()?, count.parse().ok()?)))
            .ok_or_else(not_a_shard)?;
        let input: MergeInput =
            serde_json::from_value(json["merge_input"].clone()).map_err(|_| not_a_shard())?;
        shards.push(ShardFile {
            path: path.clone(),
            index,
            count,
            test_name: json["test_name"].as_str().unwrap_or_default().to_owned(),
            input,
            timeline: None,
            histogram_log: None,
            results: json,
        });
    }
    let first = &shards[0];
    for shard in &shards[1..] {
        if shard.count != first.count || shard.test_name != first.test_name {
            return Err(usage(format!(
                "{} ({} shard {}/{}) and {} ({} shard {}/{}) are not shards of one run",
                first.path.display(),
                first.test_name,
                first.index,
                first.count,
                shard.path.display(),
                shard.test_name,
                shard.index,
                shard.count
            )));
        }
        // The segment and the files each shard writes differ.
        const PER_SHARD: [&str; 8] = [
            "--shard",
            "--test-results",
            "--results-file",
            "--timeline",
            "--histogram-log",
            "--markdown",
            "--report",
            "--profile-path",
        ];
        let strip = |arguments: &[String]| -> Vec<String> {
            let mut kept = Vec::new();
            let mut skip = false;
            for argument in arguments {
                if std::mem::take(&mut skip) {
                    continue;
                }
                let name = argument
                    .split_once('=')
                    .map_or(&argument[..], |(name, _)| name);
                match PER_SHARD.contains(&name) {
                    true if name.len() == argument.len() => skip = true,
                    true => {}
                    false => kept.push(argument.clone()),
                }
            }
            kept
        };
        if strip(&shard.input.arguments) != strip(&first.input.arguments) {
            return Err(usage(format!(
                "{} and {} ran with different options: `{}` and `{}`",
                first.path.display(),
                shard.path.display(),
                first.input.arguments.join(" "),
                shard.input.arguments.join(" ")
            )));
        }
    }
    let count = first.count;
    shards.sort_by_key(|shard| shard.index);
    let mut missing = Vec::new();
    for index in 0..count {
        match shards.iter().filter(|shard| shard.index == index).count() {
            1 => {}
            0 => missing.push(format!("{index}/{count}")),
            _ => {
                return Err(usage(format!(
                    "shard {index}/{count} is given more than once"
                )));
            }
        }
    }
    if !missing.is_empty() {
        return Err(usage(format!(
            "shard{} {} of {count} missing: merge takes every shard's file",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    let intervals = merge_intervals(args, &shards)?;
    Ok((shards, intervals))
}

/// The merged intervals of the shards' timelines (checked against their
/// results files) when `--timeline` or `--histogram-log` asks for them.
fn merge_intervals(args: &MergeArgs, shards: &[ShardFile]) -> Result<Vec<MergedInterval>, Error> {
    let usage = |message: String| Error::new(ErrorKind::Usage, message);
    let kinds = [
        (
            "--timeline",
            args.timeline.is_some(),
            "timeline",
            shards
                .iter()
                .filter(|shard| shard.timeline.is_some())
                .count(),
        ),
        (
            "--histogram-log",
            args.histogram_log.is_some(),
            "histogram log",
            shards
                .iter()
                .filter(|shard| shard.histogram_log.is_some())
                .count(),
        ),
    ];
    for (option, wanted, kind, given) in kinds {
        if given == 0 && wanted {
            return Err(usage(format!(
                "{option} PATH writes the merged {kind}: give each shard's {option} file after its results file (merge R0.json T0.jsonl H0.hlog R1.json ...)"
            )));
        }
        if given > 0 && given < shards.len() {
            let without: Vec<String> = shards
                .iter()
                .filter(|shard| match option {
                    "--timeline" => shard.timeline.is_none(),
                    _ => shard.histogram_log.is_none(),
                })
                .map(|shard| shard.path.display().to_string())
                .collect();
            return Err(usage(format!(
                "{given} of {} shards come with a {kind}: give every shard's, after its results file (none after {})",
                shards.len(),
                without.join(", ")
            )));
        }
        if given > 0 && args.timeline.is_none() && args.histogram_log.is_none() {
            return Err(usage(format!(
                "the shards' {kind} files are given, but neither --timeline PATH nor --histogram-log PATH to write their merge to"
            )));
        }
    }
    if args.histogram_log.is_some() && args.timeline.is_none() {
        // The interval log is merged along the timelines' intervals.
        if shards.iter().any(|shard| shard.timeline.is_none()) {
            return Err(usage(
                "--histogram-log merges the intervals of the shards' timelines: give each shard's --timeline file too".to_owned(),
            ));
        }
    }
    let mut timelines = Vec::new();
    let mut logs = Vec::new();
    for shard in shards {
        if let Some(timeline) = &shard.timeline {
            timeline.check_results(&shard.path, &shard.results)?;
            timelines.push(timeline);
        }
        if let Some(log) = &shard.histogram_log {
            logs.push(log);
        }
    }
    if timelines.is_empty() {
        return Ok(Vec::new());
    }
    timeline::merge(&timelines, &logs)
}
