//! `<runner> merge FILES...`: merges the `--test-results` files of the
//! `--shard I/N` runs of one test (started independently, with no
//! coordinator) into the results of the whole run: every instance's
//! operations (so ops/s is the results math over all of them), the
//! HdrHistograms merged, the errors added. It reports as a run would (the
//! results block, and `--test-results` for the merged file).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;

use crate::error::{Error, ErrorKind};
use crate::metrics::{PhaseEnd, PhaseMeasurement, PhaseResults, RunSummary, ThresholdResult};
use crate::outcome::Outcome;
use crate::phase::Phase;
use crate::plan::Plan;
use crate::registry::{Invocation, TestEntry};
use crate::report::{Console, MergeInput};

/// The subcommand's name.
pub(crate) const COMMAND: &str = "merge";

/// Turns a command line (program name first) into the test it runs and
/// its parsed options, or the outcome of a bad one (already reported).
pub(crate) type ParseCommandLine =
    fn(&str, Vec<OsString>) -> Result<(&'static TestEntry, Invocation), Outcome>;

/// Merges the results files of `--shard` runs into the whole run's.
#[derive(Parser, Debug)]
#[command(disable_version_flag = true)]
struct MergeArgs {
    /// The `--test-results` files of the shards `0/N` to `N-1/N`, each once.
    #[arg(value_name = "FILES", required = true)]
    files: Vec<PathBuf>,

    /// Write the merged results file (the same contract as a run's) to PATH.
    #[arg(long, value_name = "PATH")]
    test_results: Option<PathBuf>,
}

/// One shard's file.
struct ShardFile {
    path: PathBuf,
    index: usize,
    count: usize,
    test_name: String,
    input: MergeInput,
}

/// Runs `<program> merge ARGS`.
pub(crate) fn run(program: &str, args: Vec<OsString>, parse: ParseCommandLine) -> Outcome {
    let console = Console::new();
    let command = std::iter::once(OsString::from(format!("{program} {COMMAND}"))).chain(args);
    let args = match MergeArgs::try_parse_from(command) {
        Ok(args) => args,
        Err(error) if !error.use_stderr() => {
            let _ = error.print();
            return Outcome::Success;
        }
        Err(error) => {
            console.error(error.render().to_string().trim_end());
            return Outcome::Usage;
        }
    };
    let shards = match read_shards(&args.files) {
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
    if let Err(error) = plan.prepare_outputs() {
        console.error(&format!("error: {error}"));
        return Outcome::Usage;
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

/// Reads and checks the shards' files: each a `--shard` run's results
/// file, of the same test and segments, every segment exactly once; in
/// segment order.
fn read_shards(files: &[PathBuf]) -> Result<Vec<ShardFile>, Error> {
    let usage = |message: String| Error::new(ErrorKind::Usage, message);
    let mut shards = Vec::with_capacity(files.len());
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|error| usage(format!("cannot read {}: {error}", path.display())))?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
            usage(format!(
                "{} is not a results file (JSON): {error}",
                path.display()
            ))
        })?;
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
        let strip = |arguments: &[String]| -> Vec<String> {
            let mut kept = Vec::new();
            let mut skip = false;
            for argument in arguments {
                if std::mem::take(&mut skip) {
                    continue;
                }
                match argument.as_str() {
                    "--shard" | "--test-results" => skip = true,
                    _ if argument.starts_with("--shard=")
                        || argument.starts_with("--test-results=") => {}
                    _ => kept.push(argument.clone()),
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
    Ok(shards)
}
