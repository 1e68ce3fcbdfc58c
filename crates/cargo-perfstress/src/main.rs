//! `cargo perfstress`: builds a package's perf target in release mode and
//! runs it (`cargo perfstress` lists the tests, `cargo perfstress TEST
//! [options]` runs one), or scaffolds a perf package (`cargo perfstress new
//! NAME`). See the crate's README.

mod find;
mod new;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use cargo_metadata::{Message, Metadata, MetadataCommand};

use find::{Candidate, TargetKind};

/// A failure to report: the message (printed after `error: `) and the exit
/// code (2 for usage, cargo's own code when cargo failed).
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

/// What `cargo perfstress` (not `new`) was asked to do.
#[derive(Debug, Default, PartialEq)]
struct RunArgs {
    package: Option<String>,
    manifest_path: Option<PathBuf>,
    target: Option<String>,
    debug: bool,
    help: bool,
    version: bool,
    /// Everything else, passed to the perf executable unchanged.
    pass: Vec<OsString>,
}

const HELP: &str = "\
Builds a package's perfstress perf target in release mode and runs it.

Usage: cargo perfstress [OPTIONS] [TEST] [TEST OPTIONS]...
       cargo perfstress new NAME [--perfstress-path DIR]

Without a test name, lists the package's tests; with one, runs it: every
argument but the options below goes to the perf runner unchanged, and the
exit code is the test's (`cargo perfstress TEST --help` shows the runner's
and the test's options). After `--`, every argument goes to the runner.

The perf target is the package's `perf` bench (harness = false), or else the
one harness = false bench or bin target of a package that depends on
perfstress.

Options:
      --package NAME        the workspace member to run (not -p: that is the runner's --parallel)
      --manifest-path PATH  the Cargo.toml of the package or workspace
      --target NAME         the bench or bin target to run, when there are several
      --debug               print the packages and targets looked at, the build command and the executable
  -h, --help                print this help (alone; `TEST --help` is the runner's)
  -V, --version             print the version

Commands:
  new NAME    create a perf package NAME (a `perf` bench, an example test, perf-tests.yml);
              --perfstress-path DIR depends on perfstress by path instead of by version
";

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    // `cargo perfstress ...` runs `cargo-perfstress perfstress ...`.
    if args.first().is_some_and(|arg| arg == "perfstress") {
        args.remove(0);
    }
    let result = if args.first().is_some_and(|arg| arg == "new") {
        new::main(&args[1..])
    } else {
        parse_run_args(args).and_then(run)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

fn parse_run_args(args: Vec<OsString>) -> Result<RunArgs, Failure> {
    let mut parsed = RunArgs::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            parsed.pass.push(arg);
            continue;
        };
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (text, None),
        };
        let mut value = |name: &str| -> Result<String, Failure> {
            match inline.clone() {
                Some(value) => Ok(value),
                None => args
                    .next()
                    .and_then(|value| value.into_string().ok())
                    .ok_or_else(|| Failure::usage(format!("{name} needs a value"))),
            }
        };
        match name {
            "--" => {
                parsed.pass.extend(args.by_ref());
            }
            "--package" => parsed.package = Some(value(name)?),
            "--manifest-path" => parsed.manifest_path = Some(PathBuf::from(value(name)?)),
            "--target" => parsed.target = Some(value(name)?),
            "--debug" if inline.is_none() => parsed.debug = true,
            _ => parsed.pass.push(arg),
        }
    }
    // `--help` and `--version` are ours only alone; after a test name they
    // are the runner's.
    if parsed.pass.len() == 1 {
        match parsed.pass[0].to_str() {
            Some("-h" | "--help") => parsed.help = true,
            Some("-V" | "--version") => parsed.version = true,
            _ => {}
        }
    }
    Ok(parsed)
}

/// Prints a `--debug` line.
macro_rules! debug {
    ($on:expr, $($arg:tt)*) => {
        if $on {
            eprintln!("cargo-perfstress: {}", format_args!($($arg)*));
        }
    };
}
pub(crate) use debug;

fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn run(args: RunArgs) -> Result<(), Failure> {
    if args.help {
        print!("{HELP}");
        return Ok(());
    }
    if args.version {
        println!("cargo-perfstress {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let (manifest, metadata) = metadata(&args)?;
    let candidate = find::perf_target(&metadata, &manifest, &args)?;
    let executable = build(&args, &candidate)?;
    debug!(
        args.debug,
        "running {} {:?}",
        executable.display(),
        args.pass
    );
    exec(executable, &args.pass)
}

/// `cargo metadata --no-deps` of the package or workspace: cargo's own
/// error (and exit code) when there is none or its manifest is broken.
fn metadata(args: &RunArgs) -> Result<(PathBuf, Metadata), Failure> {
    let manifest = match &args.manifest_path {
        Some(path) => {
            if !path.is_file() {
                return Err(Failure::usage(format!(
                    "--manifest-path {}: no such file",
                    path.display()
                )));
            }
            path.clone()
        }
        None => {
            let cwd = std::env::current_dir()
                .map_err(|error| Failure::usage(format!("no working directory: {error}")))?;
            match cwd
                .ancestors()
                .map(|dir| dir.join("Cargo.toml"))
                .find(|manifest| manifest.is_file())
            {
                Some(manifest) => manifest,
                None => {
                    return Err(Failure::usage(format!(
                        "not in a cargo package: no Cargo.toml in {} or any parent directory\n\
                         \x20 run `cargo perfstress` in a package's directory, pass --manifest-path PATH,\n\
                         \x20 or create a perf package with `cargo perfstress new NAME`",
                        cwd.display()
                    )));
                }
            }
        }
    };
    debug!(args.debug, "manifest: {}", manifest.display());
    let mut command = MetadataCommand::new();
    command
        .cargo_path(cargo())
        .no_deps()
        .manifest_path(&manifest);
    let mut command = command.cargo_command();
    command.stderr(Stdio::inherit());
    let output = command
        .output()
        .map_err(|error| Failure::usage(format!("could not run cargo metadata: {error}")))?;
    if !output.status.success() {
        return Err(Failure {
            message: String::new(),
            code: exit_code(output.status),
        });
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = stdout
        .lines()
        .find(|line| line.starts_with('{'))
        .unwrap_or_default();
    let metadata = MetadataCommand::parse(json).map_err(|error| Failure {
        message: format!("could not read cargo metadata's output: {error}"),
        code: 1,
    })?;
    Ok((manifest, metadata))
}

/// The exit code to pass on for a process's exit status (1 when a signal
/// ended it).
fn exit_code(status: std::process::ExitStatus) -> u8 {
    match status.code() {
        Some(code) => u8::try_from(code).unwrap_or(1),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                if let Some(signal) = status.signal() {
                    return u8::try_from(128 + signal).unwrap_or(1);
                }
            }
            1
        }
    }
}

/// The build command of a candidate, as it runs.
fn build_command(args: &RunArgs, candidate: &Candidate) -> Command {
    let mut command = Command::new(cargo());
    command
        .arg("build")
        .arg("--release")
        .arg("--package")
        .arg(&candidate.package_name)
        .arg(match candidate.kind {
            TargetKind::Bench => "--bench",
            TargetKind::Bin => "--bin",
        })
        .arg(&candidate.target_name)
        .arg("--message-format=json-render-diagnostics");
    if let Some(manifest) = &args.manifest_path {
        command.arg("--manifest-path").arg(manifest);
    }
    command
}

/// Builds the candidate with cargo's progress and diagnostics on our stderr
/// and returns its executable.
fn build(args: &RunArgs, candidate: &Candidate) -> Result<PathBuf, Failure> {
    let mut command = build_command(args, candidate);
    debug!(
        args.debug,
        "build: {}",
        std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|arg| arg.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|error| Failure::usage(format!("could not run cargo build: {error}")))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut executable = None;
    for message in Message::parse_stream(std::io::BufReader::new(stdout)) {
        let Ok(Message::CompilerArtifact(artifact)) = message else {
            continue;
        };
        let wanted = match candidate.kind {
            TargetKind::Bench => "bench",
            TargetKind::Bin => "bin",
        };
        if artifact.package_id == candidate.package_id
            && artifact.target.name == candidate.target_name
            && artifact
                .target
                .kind
                .iter()
                .any(|kind| kind.to_string() == wanted)
            && let Some(path) = artifact.executable
        {
            executable = Some(path.into_std_path_buf());
        }
    }
    let status = child
        .wait()
        .map_err(|error| Failure::usage(format!("waiting for cargo build: {error}")))?;
    if !status.success() {
        return Err(Failure {
            message: String::new(),
            code: exit_code(status),
        });
    }
    let executable = executable.ok_or_else(|| Failure {
        message: format!(
            "cargo built no executable for {} (no compiler-artifact message with one)",
            candidate.describe()
        ),
        code: 1,
    })?;
    debug!(args.debug, "executable: {}", executable.display());
    Ok(executable)
}

/// Runs the perf executable in place of this process (Unix: `exec`, so the
/// test's exit code and signals are its own), named `cargo perfstress` so
/// that its list and usage messages say how to run a test this way.
fn exec(executable: PathBuf, pass: &[OsString]) -> Result<(), Failure> {
    let mut command = Command::new(&executable);
    command.args(pass);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = command.arg0("cargo perfstress").exec();
        Err(Failure {
            message: format!("could not run {}: {error}", executable.display()),
            code: 1,
        })
    }
    #[cfg(not(unix))]
    {
        let status = command.status().map_err(|error| Failure {
            message: format!("could not run {}: {error}", executable.display()),
            code: 1,
        })?;
        match exit_code(status) {
            0 => Ok(()),
            code => Err(Failure {
                message: String::new(),
                code,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> RunArgs {
        parse_run_args(args.iter().map(OsString::from).collect()).unwrap()
    }

    #[test]
    fn own_options_are_taken_and_the_rest_passes_through() {
        let args = parse(&[
            "--package",
            "my-perf",
            "UploadTest",
            "-p",
            "8",
            "--debug",
            "--target=perf",
            "--size",
            "1024",
        ]);
        assert_eq!(args.package.as_deref(), Some("my-perf"));
        assert_eq!(args.target.as_deref(), Some("perf"));
        assert!(args.debug);
        assert_eq!(args.pass, ["UploadTest", "-p", "8", "--size", "1024"]);
    }

    #[test]
    fn everything_after_double_dash_passes_through() {
        let args = parse(&[
            "--manifest-path",
            "a/Cargo.toml",
            "--",
            "T",
            "--debug",
            "--",
        ]);
        assert_eq!(args.manifest_path, Some(PathBuf::from("a/Cargo.toml")));
        assert!(!args.debug);
        assert_eq!(args.pass, ["T", "--debug", "--"]);
    }

    #[test]
    fn help_is_ours_only_alone() {
        assert!(parse(&["--help"]).help);
        assert!(parse(&["--debug", "-h"]).help);
        let args = parse(&["UploadTest", "--help"]);
        assert!(!args.help);
        assert_eq!(args.pass, ["UploadTest", "--help"]);
    }

    #[test]
    fn an_option_without_its_value_is_a_usage_error() {
        let error = parse_run_args(vec!["--package".into()]).unwrap_err();
        assert_eq!(error.code, 2);
        assert_eq!(error.message, "--package needs a value");
    }
}
