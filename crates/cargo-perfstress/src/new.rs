//! `cargo perfstress new NAME`: a perf package the way the manual teaches.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::Failure;

const HELP: &str = "\
Creates a perf package: Cargo.toml with a `perf` bench (harness = false, no
[[bin]]: PerfAutomation counts the executables), benches/perf.rs, an example
test in src/lib.rs and a perf-tests.yml for PerfAutomation.

Usage: cargo perfstress new NAME [--perfstress-path DIR]

NAME is the directory to create (it must not exist); its last component is
the package name.

Options:
      --perfstress-path DIR  depend on perfstress by path (its crates/perfstress directory)
                             instead of by version
  -h, --help                 print this help
";

pub fn main(args: &[OsString]) -> Result<(), Failure> {
    let mut name = None;
    let mut perfstress_path = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "-h" || text == "--help" {
            print!("{HELP}");
            return Ok(());
        } else if text == "--perfstress-path" {
            let value = args
                .next()
                .ok_or_else(|| Failure::usage("--perfstress-path needs a value"))?;
            perfstress_path = Some(PathBuf::from(value));
        } else if let Some(value) = text.strip_prefix("--perfstress-path=") {
            perfstress_path = Some(PathBuf::from(value));
        } else if text.starts_with('-') {
            return Err(Failure::usage(format!(
                "unknown option `{text}` of `cargo perfstress new` (see --help)"
            )));
        } else if name.is_some() {
            return Err(Failure::usage(format!(
                "unexpected argument `{text}`: `cargo perfstress new` takes one NAME"
            )));
        } else {
            name = Some(PathBuf::from(arg));
        }
    }
    let dir = name.ok_or_else(|| {
        Failure::usage("`cargo perfstress new` needs the NAME of the package to create")
    })?;
    let package = package_name(&dir)?;
    let dependency = match perfstress_path {
        Some(path) => {
            let path = path.canonicalize().map_err(|error| {
                Failure::usage(format!("--perfstress-path {}: {error}", path.display()))
            })?;
            if !path.join("Cargo.toml").is_file() {
                return Err(Failure::usage(format!(
                    "--perfstress-path {}: no Cargo.toml there (give perfstress's crate directory, crates/perfstress)",
                    path.display()
                )));
            }
            format!("{{ path = {} }}", toml_string(&path.to_string_lossy()))
        }
        None => format!("\"{}\"", env!("CARGO_PKG_VERSION")),
    };
    if dir.exists() || dir.symlink_metadata().is_ok() {
        return Err(Failure::usage(format!(
            "destination `{}` already exists; `cargo perfstress new` never overwrites: pick another NAME",
            dir.display()
        )));
    }
    let files = files(&package, &dependency);
    std::fs::create_dir_all(dir.join("src"))
        .and_then(|()| std::fs::create_dir_all(dir.join("benches")))
        .and_then(|()| {
            files
                .iter()
                .try_for_each(|(path, text)| std::fs::write(dir.join(path), text))
        })
        .map_err(|error| Failure {
            message: format!("creating {}: {error}", dir.display()),
            code: 1,
        })?;
    eprintln!("     Created perf package `{package}` in {}", dir.display());
    if let Some(workspace) = enclosing_workspace(&dir) {
        eprintln!(
            "note: {} is inside the workspace of {}: add the package to its `members` (or its `exclude`)",
            dir.display(),
            workspace.display()
        );
    }
    eprintln!(
        "then, in {}:\n  \
         cargo perfstress                    # build, then list its tests\n  \
         cargo perfstress ExampleTest -d 5   # build, then run one",
        dir.display()
    );
    Ok(())
}

/// The package name: the directory's last component, as cargo allows it.
fn package_name(dir: &Path) -> Result<String, Failure> {
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let valid = name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(Failure::usage(format!(
            "`{}` is not a package name: use letters, digits, `-` and `_`, starting with a letter",
            dir.display()
        )));
    }
    Ok(name)
}

fn toml_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The nearest manifest above `dir` that declares a workspace.
fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    let dir = std::path::absolute(dir).ok()?;
    dir.ancestors().skip(1).find_map(|ancestor| {
        let manifest = ancestor.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).ok()?;
        let table = text.parse::<toml::Table>().ok()?;
        table.contains_key("workspace").then_some(manifest)
    })
}

fn files(package: &str, dependency: &str) -> Vec<(&'static str, String)> {
    let krate = package.replace('-', "_");
    let version = env!("CARGO_PKG_VERSION");
    vec![
        (
            "Cargo.toml",
            format!(
                r#"[package]
name = "{package}"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
perfstress = {dependency}
# A test's own options are a `clap::Args` type.
clap = {{ version = "4", features = ["derive"] }}
# perfstress runs the tests on a tokio runtime of its own; add what your client needs.
tokio = {{ version = "1", features = ["rt", "time"] }}

# The perf runner: `cargo perfstress` (or `cargo bench --bench perf --`).
# No [[bin]]: PerfAutomation builds `--bench perf` and wants exactly one executable.
[[bench]]
name = "perf"
harness = false
"#
            ),
        ),
        (".gitignore", "/target\n".to_owned()),
        (
            "benches/perf.rs",
            format!(
                r#"//! The perf runner of `{package}`: lists and runs the tests of src/lib.rs.
//!
//! ```text
//! cargo perfstress                        # list the tests
//! cargo perfstress ExampleTest -d 5 -p 4  # run one
//! cargo perfstress ExampleTest --help     # its options and the framework's
//! ```

// Links the library, where the tests are registered with #[perfstress::test].
use {krate} as _;

fn main() {{
    perfstress::main()
}}
"#
            ),
        ),
        (
            "src/lib.rs",
            format!(
                r#"//! Perf tests of `{package}`. A test is a type whose `impl` of
//! `perfstress::PerfTest` is marked `#[perfstress::test]`; see perfstress's
//! README (version {version}) for the hooks (`global_setup`, `setup`,
//! `cleanup`, ...) and the other kinds of test.

use perfstress::{{PerfTest, Result, TestContext}};

/// The test's own command-line options: any `clap::Args` type.
#[derive(clap::Args, Clone, Debug)]
pub struct ExampleOptions {{
    /// Size of the payload in bytes.
    #[arg(long, default_value_t = 1024)]
    pub size: usize,
}}

/// One instance per parallel index (`-p`): holds the client under test.
pub struct ExampleTest {{
    payload: Vec<u8>,
    checksum: u64,
}}

/// Sums a --size payload per operation (replace with a call of your client).
#[perfstress::test]
impl PerfTest for ExampleTest {{
    type Options = ExampleOptions;

    // Once per instance, before the run: create the client here.
    async fn new(ctx: &TestContext<ExampleOptions>) -> Result<Self> {{
        Ok(ExampleTest {{
            payload: vec![1; ctx.options().size],
            checksum: 0,
        }})
    }}

    // With --sync (PerfAutomation's way): one operation on the instance's thread.
    fn run_sync(&mut self) -> Result<()> {{
        let sum: u64 = self.payload.iter().map(|&byte| u64::from(byte)).sum();
        self.checksum = self.checksum.wrapping_add(sum);
        Ok(())
    }}

    // Without --sync: one operation, as a tokio task.
    async fn run_async(&mut self) -> Result<()> {{
        let sum: u64 = self.payload.iter().map(|&byte| u64::from(byte)).sum();
        self.checksum = self.checksum.wrapping_add(sum);
        tokio::task::yield_now().await;
        Ok(())
    }}
}}
"#
            ),
        ),
        (
            "perf-tests.yml",
            format!(
                r#"# How Azure's PerfAutomation runs this suite (beside it, under sdk/<service>/):
# it builds `cargo build --release --package {package} --bench perf` and runs
# each Arguments line, appending --sync.
Service: {package}
Project: {package}
PrimaryPackage: {package}
PackageVersions:
- {package}: source
Tests:
- Test: example
  Class: ExampleTest
  Arguments:
  - --size 1024 --parallel 1
  - --size 1048576 --parallel 4
"#
            ),
        ),
    ]
}
