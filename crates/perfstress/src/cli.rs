//! The command line: `<runner> [TEST] [options]`.
//!
//! Parsed in two passes, so that framework options may come before the test
//! name (PerfAutomation puts `--test-results` there) and the test's own
//! options after it: the first pass knows only the framework options and
//! finds the test name; the second parses everything with the test's
//! options added, so `--help` after a test name shows them.

use std::ffi::OsString;

use clap::{Args, FromArgMatches};

use crate::error::{Error, ErrorKind};
use crate::options::GlobalOptions;
use crate::outcome::Outcome;
use crate::registry::{self, Invocation, TestEntry};
use crate::report::Console;

/// Runs the perf runner on the process's arguments and exits with its code:
/// 0 success, 1 the test failed, 2 bad usage, 130 interrupted.
///
/// This is all the `main` of a perf target (`benches/perf.rs`) needs:
/// `fn main() { perfstress::main() }`.
pub fn main() -> ! {
    run(std::env::args_os().collect()).exit()
}

/// Runs the perf runner on `args` (the first is the program name) and
/// returns the outcome ([`Outcome::code`] is the exit code) instead of
/// exiting.
///
/// With more than one effective process (both `--parallel` and
/// `--processes` above 1, the default on a multi-core machine), the workers
/// are this executable started again in worker mode, so its `main` must be
/// [`main`] (or call `run` with the process's arguments). Elsewhere, e.g. in
/// a test harness, pass `--processes 1`.
pub fn run(args: Vec<OsString>) -> Outcome {
    crate::runner::install_panic_hook();
    let program = args
        .first()
        .and_then(|arg| std::path::Path::new(arg).file_stem())
        .map(|stem| program_name(&stem.to_string_lossy()))
        .unwrap_or_else(|| "perf".to_owned());
    let console = Console::new();
    // clap would blame a bad variable on "one or more arguments".
    for (name, value) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("PERFSTRESS_") && value.to_str().is_none() {
            console.error(&format!(
                "error: environment variable {name} is not valid UTF-8; fix or unset it"
            ));
            return Outcome::Usage;
        }
    }
    if let Some(duplicates) = registry::duplicate_names() {
        console.error(&format!("error: {duplicates}"));
        return Outcome::Usage;
    }

    let first_pass = GlobalOptions::augment_args(base_command(&program))
        .allow_external_subcommands(true)
        .subcommand_value_name("TEST")
        .subcommand_help_heading("Tests")
        .after_help(test_list(&program));
    let first = match first_pass.try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(error) => return print_clap_error(error),
    };
    // `--join ADDR`: the coordinator sends the test and its options.
    if first.subcommand().is_none()
        && let Ok(Some(_)) = first.try_get_one::<String>("join")
    {
        let global = match GlobalOptions::from_arg_matches(&first) {
            Ok(global) => global,
            Err(error) => return print_clap_error(error),
        };
        return match crate::runner::join(args[0].clone(), &global) {
            Ok(args) => run(args),
            Err(outcome) => outcome,
        };
    }
    let Some((test_name, test_args)) = first.subcommand() else {
        return match options_without_test(&first) {
            None => {
                console.line(&test_list(&program));
                Outcome::Success
            }
            Some(message) => {
                console.error(&format!("error: {message}\n\n{}", test_list(&program)));
                Outcome::Usage
            }
        };
    };
    if let Some(outcome) = file_command(&program, test_name, test_args) {
        return outcome;
    }
    let entry = match registry::find(test_name) {
        Ok(entry) => entry,
        Err(closest) => {
            let mut message = format!("error: unknown test '{test_name}'");
            if let Some(closest) = closest {
                message.push_str(&format!("\n\n  tip: a similar test exists: '{closest}'"));
            }
            message.push('\n');
            message.push_str(&test_list(&program));
            console.error(&message);
            return Outcome::Usage;
        }
    };

    match second_pass(&program, entry, &args, test_args) {
        Ok(invocation) => (entry.launch)(entry, invocation),
        Err(outcome) => outcome,
    }
}

/// The runner's commands on saved files, parsed as clap subcommands of the
/// program (`<runner> compare ...`, `merge ...`, `report ...`).
#[derive(clap::Parser, Debug)]
#[command(disable_version_flag = true, disable_help_subcommand = true)]
struct FileCommandLine {
    #[command(subcommand)]
    command: FileCommand,
}

/// One of the runner's commands on saved files, with its arguments (each
/// command's help is its arguments type's doc comment).
#[derive(clap::Subcommand, Debug)]
enum FileCommand {
    Compare(crate::compare::CompareArgs),
    Merge(crate::merge::MergeArgs),
    Report(crate::saved_report::ReportArgs),
}

/// Their names.
const FILE_COMMANDS: [&str; 3] = [
    crate::compare::COMMAND,
    crate::merge::COMMAND,
    crate::saved_report::COMMAND,
];

/// Runs `name` (in any case) with the arguments in `test_args` if it is one
/// of the runner's file commands and no test has that name; `None`
/// otherwise. A bad command line is a usage error (`--help` a success).
fn file_command(program: &str, name: &str, test_args: &clap::ArgMatches) -> Option<Outcome> {
    let command = FILE_COMMANDS
        .into_iter()
        .find(|command| name.eq_ignore_ascii_case(command))?;
    if registry::find(name).is_ok() {
        return None;
    }
    let args = test_args
        .get_many::<OsString>("")
        .into_iter()
        .flatten()
        .cloned();
    let command_line = [OsString::from(program), OsString::from(command)]
        .into_iter()
        .chain(args);
    let parsed = <FileCommandLine as clap::CommandFactory>::command()
        .name(program.to_owned())
        .bin_name(program.to_owned())
        .try_get_matches_from(command_line)
        .and_then(|matches| FileCommandLine::from_arg_matches(&matches));
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return Some(print_clap_error(error)),
    };
    Some(match parsed.command {
        FileCommand::Compare(args) => crate::compare::run(args),
        FileCommand::Merge(args) => crate::merge::run(program, args, invocation_of),
        FileCommand::Report(args) => crate::saved_report::run(args),
    })
}

/// The test a command line runs and its parsed options (for `merge`, from
/// a shard's command line); a bad one is reported.
fn invocation_of(
    program: &str,
    args: Vec<OsString>,
) -> Result<(&'static TestEntry, Invocation), Outcome> {
    let first = GlobalOptions::augment_args(base_command(program))
        .allow_external_subcommands(true)
        .try_get_matches_from(&args)
        .map_err(print_clap_error)?;
    let Some((test_name, test_args)) = first.subcommand() else {
        Console::new().error("error: the command line names no test");
        return Err(Outcome::Usage);
    };
    let entry = registry::find(test_name).map_err(|_| {
        Console::new().error(&format!("error: unknown test '{test_name}'"));
        Outcome::Usage
    })?;
    let invocation = second_pass(program, entry, &args, test_args)?;
    Ok((entry, invocation))
}

/// Second pass: everything but the test name, with the test's options.
fn second_pass(
    program: &str,
    entry: &'static TestEntry,
    args: &[OsString],
    test_args: &clap::ArgMatches,
) -> Result<Invocation, Outcome> {
    let console = Console::new();
    let trailing: Vec<OsString> = test_args
        .get_many::<OsString>("")
        .map(|values| values.cloned().collect())
        .unwrap_or_default();
    let leading = &args[1..args.len() - trailing.len() - 1];
    let second_args = std::iter::once(OsString::from(format!("{program} {}", entry.name)))
        .chain(leading.iter().cloned())
        .chain(trailing);
    let command = match test_command(program, entry) {
        Ok(command) => command,
        Err(error) => {
            console.error(&format!("error: {error}"));
            return Err(Outcome::Usage);
        }
    };
    let matches = command
        .try_get_matches_from(second_args)
        .map_err(print_clap_error)?;
    let global = GlobalOptions::from_arg_matches(&matches).map_err(print_clap_error)?;
    let environment = match &global.listen {
        Some(_) => crate::runner::forwarded_environment(
            &test_command(program, entry).map_err(|_| Outcome::Usage)?,
            &matches,
            global.tls_cert.is_some(),
        ),
        None => Vec::new(),
    };
    Ok(Invocation {
        global,
        matches,
        args: args.to_vec(),
        environment,
    })
}

/// Framework options given without a test name are a mistake (only
/// `--bench`, which cargo passes, goes without one): the message says
/// which, and names the likely cause when a results option took a test's
/// name as its path (`--test-results NoOpTest -d 1`).
fn options_without_test(matches: &clap::ArgMatches) -> Option<String> {
    for option in ["test_results", "results_file"] {
        if let Ok(Some(path)) = matches.try_get_one::<std::path::PathBuf>(option) {
            let text = path.to_string_lossy();
            if let Ok(entry) = registry::find(&text) {
                return Some(format!(
                    "--{} took the test name '{}' as its path: give the path after the option (--{} PATH {} ...)",
                    option.replace('_', "-"),
                    text,
                    option.replace('_', "-"),
                    entry.name
                ));
            }
        }
    }
    let options = GlobalOptions::augment_args(clap::Command::new("options"));
    let given: Vec<String> = options
        .get_arguments()
        .filter(|arg| arg.get_id() != "bench")
        .filter(|arg| {
            matches.value_source(arg.get_id().as_str())
                == Some(clap::parser::ValueSource::CommandLine)
        })
        .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
        .collect();
    (!given.is_empty()).then(|| format!("{} given, but no test to run", given.join(", ")))
}

/// The runner's name for messages: the executable's name without the hash
/// cargo appends to bench and test executables (`perf-0123456789abcdef`).
fn program_name(stem: &str) -> String {
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name.to_owned()
        }
        _ => stem.to_owned(),
    }
}

fn base_command(program: &str) -> clap::Command {
    clap::Command::new(program.to_owned())
        .about("Runs a performance test: warm-up, a timed run, and its results.")
        .version(env!("CARGO_PKG_VERSION"))
        .disable_version_flag(true)
        // As the siblings' parsers: a repeated flag is the flag (PerfAutomation
        // appends `--sync` to argument lines that may already have it), and
        // the last value of a repeated option wins.
        .args_override_self(true)
}

/// The command of one test: the framework's options and the test's own.
fn test_command(program: &str, entry: &TestEntry) -> Result<clap::Command, Error> {
    let framework = GlobalOptions::augment_args(clap::Command::new("framework"));
    let own =
        (entry.augment_args)(clap::Command::new(entry.name).next_help_heading("Test options"));
    for arg in own.get_arguments() {
        let clash = framework.get_arguments().find(|framework_arg| {
            framework_arg.get_id() == arg.get_id()
                || (arg.get_long().is_some() && framework_arg.get_long() == arg.get_long())
                || (arg.get_short().is_some() && framework_arg.get_short() == arg.get_short())
        });
        if let Some(clash) = clash {
            return Err(Error::new(
                ErrorKind::Usage,
                format!(
                    "option '{}' of test {} clashes with the framework's option '--{}'; rename it in the test's Options",
                    arg.get_long()
                        .map(|long| format!("--{long}"))
                        .unwrap_or_else(|| arg.get_id().to_string()),
                    entry.name,
                    clash.get_long().unwrap_or_default(),
                ),
            ));
        }
    }
    let mut command = GlobalOptions::augment_args(
        base_command(program)
            .name(format!("{program} {}", entry.name))
            .bin_name(format!("{program} {}", entry.name)),
    )
    .next_help_heading("Test options");
    command = (entry.augment_args)(command);
    // `--size -5` is a bad value for --size (the parser says why), not an
    // unknown argument `-5`.
    command = command.mut_args(|arg| {
        if arg.get_action().takes_values() {
            arg.allow_negative_numbers(true)
        } else {
            arg
        }
    });
    // On a joined host, the coordinator's environment, not this host's.
    command = crate::runner::follow_coordinator_environment(command);
    // After the test's options: their derive sets `about` from the options
    // type's doc comment, which describes the options, not the test.
    Ok(command.about(entry.description).long_about(None))
}

fn test_list(program: &str) -> String {
    let tests = registry::tests();
    if tests.is_empty() {
        return "No tests are registered: mark a test's impl with #[perfstress::test].".to_owned();
    }
    let width = tests
        .iter()
        .map(|entry| entry.name.len())
        .max()
        .unwrap_or(0);
    let mut list = format!(
        "Tests (run one with `{program} <TEST> [options]`; `{program} <TEST> --help` shows its options):\n"
    );
    // A suite's bench target is run through cargo, which needs `--`.
    if program == "perf" {
        list.push_str("  (through cargo: `cargo bench --bench perf -- <TEST> [options]`)\n");
    }
    for entry in &tests {
        list.push_str(&format!("  {:width$}  {}", entry.name, entry.description));
        if !entry.aliases.is_empty() {
            list.push_str(&format!(" (also: {})", entry.aliases.join(", ")));
        }
        list.push('\n');
    }
    list.push_str(&format!(
        "Compare saved runs (--save-baseline NAME, --test-results files): `{program} compare OLD NEW` (`{program} compare --help`)\n\
         Merge the runs of --shard I/N (results, timelines, histogram logs): `{program} merge FILES...` (`{program} merge --help`)\n\
         An HTML report of saved runs (--test-results and --timeline files): `{program} report FILES... -o PAGE.html` (`{program} report --help`)"
    ));
    list
}

/// Prints clap's message; `--help` is a success, anything else a usage
/// error, whose message quotes the values given: secrets masked.
fn print_clap_error(error: clap::Error) -> Outcome {
    if !error.use_stderr() {
        let _ = error.print();
        return Outcome::Success;
    }
    Console::new().error(error.render().to_string().trim_end());
    Outcome::Usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_hash_is_dropped_from_the_program_name() {
        assert_eq!(program_name("perf-8371b8186117c4bb"), "perf");
        assert_eq!(program_name("systemperf"), "systemperf");
        assert_eq!(program_name("my-perf"), "my-perf");
    }
}
