//! `cargo perfstress` end to end: packages made with `cargo perfstress new`
//! (depending on this repository's perfstress by path) in a temporary
//! directory, built and run.
//!
//! The packages live outside this workspace (under the system's temporary
//! directory, at paths stable across runs), and every build shares one target
//! directory under the workspace's `CARGO_TARGET_TMPDIR`, the one the
//! PerfAutomation package tests of systemperf and the storage suite build
//! into: with the repository's lockfile copied into each package (the same
//! versions), perfstress and its dependencies are compiled once in release
//! mode for all of them (a few minutes the first time, seconds afterwards),
//! and the builds never wait for the outer cargo's build directory lock.
//! Builds started by tests running at the same time wait for each other on
//! that target directory's lock.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const REPOSITORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Where this run's packages are: a directory of the system's temporary
/// directory named after this target directory (so two checkouts do not
/// share it, and each run reuses the last one's build).
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        env!("CARGO_TARGET_TMPDIR").hash(&mut hasher);
        let root =
            std::env::temp_dir().join(format!("cargo-perfstress-tests-{:016x}", hasher.finish()));
        std::fs::create_dir_all(&root).unwrap();
        root
    })
}

/// An empty directory `name` of this run.
fn fresh(name: &str) -> PathBuf {
    let dir = root().join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn perfstress_path() -> PathBuf {
    Path::new(REPOSITORY)
        .join("crates/perfstress")
        .canonicalize()
        .unwrap()
}

/// `cargo-perfstress ARGS` in `dir`, building into the shared target dir.
fn cargo_perfstress(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-perfstress"))
        .args(args)
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("perf-automation"),
        )
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// `cargo perfstress new NAME --perfstress-path <this repository's>` in
/// `dir`, with the repository's lockfile (so the build resolves to the
/// versions already downloaded; cargo drops what the package does not use).
fn new_package(dir: &Path, name: &str) -> PathBuf {
    let path = perfstress_path();
    let output = cargo_perfstress(
        dir,
        &["new", name, "--perfstress-path", path.to_str().unwrap()],
    );
    assert_exit(&output, 0);
    let package = dir.join(name);
    std::fs::copy(
        Path::new(REPOSITORY).join("Cargo.lock"),
        package.join("Cargo.lock"),
    )
    .unwrap();
    package
}

/// The package most tests run: made once per run.
fn example() -> &'static Path {
    static EXAMPLE: OnceLock<PathBuf> = OnceLock::new();
    EXAMPLE.get_or_init(|| new_package(&fresh("example"), "example-perf"))
}

#[test]
fn new_scaffolds_a_perf_package_and_never_overwrites() {
    let dir = fresh("new");
    let package = new_package(&dir, "my-client-perf");
    let manifest = std::fs::read_to_string(package.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"my-client-perf\""), "{manifest}");
    assert!(
        manifest.contains("[[bench]]\nname = \"perf\"\nharness = false\n"),
        "{manifest}"
    );
    assert!(
        !manifest.lines().any(|line| line.trim() == "[[bin]]"),
        "{manifest}"
    );
    let path = perfstress_path();
    assert!(
        manifest.contains(&format!("perfstress = {{ path = \"{}\" }}", path.display())),
        "{manifest}"
    );
    let bench = std::fs::read_to_string(package.join("benches/perf.rs")).unwrap();
    assert!(
        bench.contains("fn main() {\n    perfstress::main()\n}"),
        "{bench}"
    );
    assert!(bench.contains("use my_client_perf as _;"), "{bench}");
    let lib = std::fs::read_to_string(package.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("#[perfstress::test]\nimpl PerfTest for ExampleTest"),
        "{lib}"
    );
    let suite = std::fs::read_to_string(package.join("perf-tests.yml")).unwrap();
    for line in [
        "PrimaryPackage: my-client-perf",
        "- my-client-perf: source",
        "  Class: ExampleTest",
        "  - --size 1024 --parallel 1",
    ] {
        assert!(suite.contains(line), "{line} not in\n{suite}");
    }

    // The code is formatted as rustfmt would (when there is a rustfmt).
    let rustfmt = Command::new("rustfmt")
        .args([
            "--check",
            "--edition",
            "2024",
            "src/lib.rs",
            "benches/perf.rs",
        ])
        .current_dir(&package)
        .output();
    if let Ok(rustfmt) = rustfmt {
        assert!(rustfmt.status.success(), "{}", stdout(&rustfmt));
    }

    // An existing directory is refused and left alone.
    std::fs::write(package.join("src/lib.rs"), "// mine").unwrap();
    let output = cargo_perfstress(&dir, &["new", "my-client-perf"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("already exists"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(package.join("src/lib.rs")).unwrap(),
        "// mine"
    );

    // Without --perfstress-path, by version.
    let output = cargo_perfstress(&dir, &["new", "by-version"]);
    assert_exit(&output, 0);
    let manifest = std::fs::read_to_string(dir.join("by-version/Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("perfstress = \"{}\"", env!("CARGO_PKG_VERSION"))),
        "{manifest}"
    );

    // Usage errors.
    for args in [&["new"][..], &["new", "9lives"], &["new", "x", "--bogus"]] {
        assert_exit(&cargo_perfstress(&dir, args), 2);
    }
}

#[test]
fn without_a_test_name_it_lists_the_tests() {
    // As `cargo perfstress` runs it (`perfstress` first) and directly.
    for args in [&["perfstress"][..], &[]] {
        let output = cargo_perfstress(example(), args);
        assert_exit(&output, 0);
        let stdout = stdout(&output);
        assert!(
            stdout.contains(
                "ExampleTest  Sums a --size payload per operation (replace with a call of your client)."
            ),
            "{stdout}"
        );
        assert!(
            stdout.contains("run one with `cargo perfstress <TEST> [options]`"),
            "{stdout}"
        );
        // cargo's own output stays on stderr.
        assert!(
            stderr(&output).contains("Finished `release` profile"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn runs_a_test_with_its_options() {
    let output = cargo_perfstress(
        example(),
        &[
            "perfstress",
            "ExampleTest",
            "-d",
            "0.2",
            "-w",
            "0",
            "--processes",
            "1",
            "--size",
            "64",
        ],
    );
    assert_exit(&output, 0);
    let stdout = stdout(&output);
    assert!(stdout.contains("=== Tests ==="), "{stdout}");
    assert!(stdout.contains("--size 64"), "{stdout}");
    let results = stdout
        .lines()
        .find(|line| line.starts_with("Completed "))
        .unwrap_or_else(|| panic!("no results line in\n{stdout}"));
    assert!(results.contains(" ops/s, "), "{results}");
}

#[test]
fn passes_the_exit_code_through() {
    let output = cargo_perfstress(example(), &["NoSuchTest"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("unknown test 'NoSuchTest'"),
        "{}",
        stderr(&output)
    );

    // After `--` every argument is the runner's, even ours.
    let output = cargo_perfstress(example(), &["--", "ExampleTest", "--debug"]);
    assert_exit(&output, 2);
    assert!(
        !stderr(&output).contains("cargo-perfstress:"),
        "{}",
        stderr(&output)
    );
}

/// The test runs in place of `cargo perfstress` (the same process): a
/// signal to it is the test's, and so is the exit code.
#[cfg(unix)]
#[test]
fn a_signal_reaches_the_test_and_its_exit_code_comes_back() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-perfstress"))
        .args(["ExampleTest", "-d", "60", "-w", "0", "--processes", "1"])
        .current_dir(example())
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("perf-automation"),
        )
        .env("CARGO_TERM_COLOR", "never")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("=== Tests ===") {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            panic!("the run ended before its timed phase:\n{seen}");
        }
        seen.push_str(&line);
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(status.code(), Some(143), "{seen}{rest}");
    assert!(rest.contains("=== Cleanup ==="), "{seen}{rest}");
}

#[test]
fn debug_says_what_it_looked_at() {
    let output = cargo_perfstress(example(), &["--debug"]);
    assert_exit(&output, 0);
    let stderr = stderr(&output);
    for text in [
        "cargo-perfstress: manifest: ",
        "cargo-perfstress: package `example-perf` (",
        "depends on perfstress",
        "bench `perf` of package `example-perf` (",
        "candidate: the package's `perf` bench",
        "cargo-perfstress: build: ",
        " build --release --package example-perf --bench perf --message-format=json-render-diagnostics",
        "cargo-perfstress: executable: ",
        "cargo-perfstress: running ",
    ] {
        assert!(stderr.contains(text), "{text:?} not in\n{stderr}");
    }
    assert!(
        stdout(&output).contains("ExampleTest"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn manifest_path_and_package_select_the_package() {
    let parent = example().parent().unwrap();
    let output = cargo_perfstress(parent, &["--manifest-path", "example-perf/Cargo.toml"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("ExampleTest"),
        "{}",
        stdout(&output)
    );

    let output = cargo_perfstress(
        example(),
        &["--package", "example-perf", "--target", "perf"],
    );
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("ExampleTest"),
        "{}",
        stdout(&output)
    );

    let output = cargo_perfstress(example(), &["--package=nope"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("--package nope: no such package in the workspace at "),
        "{}",
        stderr(&output)
    );
    let output = cargo_perfstress(parent, &["--manifest-path", "nope/Cargo.toml"]);
    assert_exit(&output, 2);
}

#[test]
fn outside_a_package_it_says_so() {
    let dir = fresh("not-a-package");
    if let Some(manifest) = dir
        .ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|path| path.exists())
    {
        panic!(
            "{} is above the temporary directory: cannot test this",
            manifest.display()
        );
    }
    let output = cargo_perfstress(&dir, &["ExampleTest"]);
    assert_exit(&output, 2);
    let stderr = stderr(&output);
    assert!(
        stderr.starts_with(&format!(
            "error: not in a cargo package: no Cargo.toml in {} or any parent directory\n",
            dir.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("cargo perfstress new NAME"), "{stderr}");
}

/// A package of `manifest` (after its `[package]`) and `files`.
fn package(name: &str, manifest: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = fresh(name);
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{manifest}"
        ),
    )
    .unwrap();
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn without_a_perf_target_it_says_how_to_make_one() {
    // A library, and a `perf` bench with libtest's harness.
    let dir = package(
        "no-perf-target",
        "",
        &[("src/lib.rs", ""), ("benches/perf.rs", "")],
    );
    let output = cargo_perfstress(&dir, &[]);
    assert_exit(&output, 2);
    let stderr = stderr(&output);
    assert!(
        stderr.starts_with("error: package `no-perf-target` has no perf target (--debug shows what was looked at)\n"),
        "{stderr}"
    );
    for line in [
        "  1. in Cargo.toml: [[bench]] name = \"perf\" harness = false (and perfstress in [dependencies])\n",
        "  2. benches/perf.rs: fn main() { perfstress::main() }\n",
        "  3. a test: an impl of perfstress::PerfTest marked #[perfstress::test]\n",
    ] {
        assert!(stderr.contains(line), "{line:?} not in\n{stderr}");
    }

    let output = cargo_perfstress(&dir, &["--debug"]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not depend on perfstress"), "{stderr}");
    assert!(
        stderr.contains(
            "not used: the `perf` bench, but with libtest's harness (add `harness = false`)"
        ),
        "{stderr}"
    );
}

#[test]
fn two_candidates_are_listed_and_target_picks_one() {
    let manifest = format!(
        "[dependencies]\nperfstress = {{ path = {:?} }}\n\n\
         [[bench]]\nname = \"upload\"\nharness = false\n\n\
         [[bench]]\nname = \"download\"\nharness = false\n\n\
         [[bench]]\nname = \"criterion-like\"\n",
        perfstress_path()
    );
    let dir = package(
        "two-candidates",
        &manifest,
        &[
            ("src/lib.rs", ""),
            ("benches/upload.rs", "fn main() {}"),
            ("benches/download.rs", "fn main() {}"),
            ("benches/criterion-like.rs", ""),
        ],
    );
    let output = cargo_perfstress(&dir, &["UploadTest"]);
    assert_exit(&output, 2);
    let stderr = stderr(&output);
    assert!(
        stderr.starts_with("error: package `two-candidates` has more than one perf target:\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  bench `upload` of package `two-candidates` ("),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  bench `download` of package `two-candidates` ("),
        "{stderr}"
    );
    assert!(!stderr.contains("criterion-like"), "{stderr}");
    assert!(stderr.contains("pick one with --target NAME"), "{stderr}");

    let output = cargo_perfstress(&dir, &["--target", "upload", "--debug"]);
    assert_exit(&output, 0);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bench `upload` of package `two-candidates` (")
            && stderr.contains("candidate: named by --target")
            && stderr.contains(" --bench upload --message-format=json-render-diagnostics"),
        "{stderr}"
    );

    let output = cargo_perfstress(&dir, &["--target", "nope"]);
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "--target nope: package `two-candidates` has no bench or bin target of that name"
        ),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_failed_build_keeps_cargos_output_and_exit_code() {
    let package = new_package(&fresh("broken"), "broken-perf");
    let lib = package.join("src/lib.rs");
    let mut text = std::fs::read_to_string(&lib).unwrap();
    text.push_str("\npub fn broken() -> u32 { \"not a number\" }\n");
    std::fs::write(&lib, text).unwrap();
    let output = cargo_perfstress(&package, &["ExampleTest"]);
    assert_exit(&output, 101);
    let stderr = stderr(&output);
    assert!(
        stderr.contains("error[E0308]: mismatched types"),
        "{stderr}"
    );
    assert!(
        stderr.contains("could not compile `broken-perf`"),
        "{stderr}"
    );
    assert!(!stderr.contains("error: error"), "{stderr}");
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

#[test]
fn in_a_workspace_package_picks_the_member() {
    let root = fresh("workspace");
    let path = perfstress_path();
    for name in ["alpha-perf", "beta-perf"] {
        let output = cargo_perfstress(
            &root,
            &["new", name, "--perfstress-path", path.to_str().unwrap()],
        );
        assert_exit(&output, 0);
    }
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"alpha-perf\", \"beta-perf\"]\n",
    )
    .unwrap();
    std::fs::copy(
        Path::new(REPOSITORY).join("Cargo.lock"),
        root.join("Cargo.lock"),
    )
    .unwrap();

    // At the root: both members' `perf` benches.
    let output = cargo_perfstress(&root, &["-p", "2"]);
    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(
        message.starts_with(&format!(
            "error: the workspace at {} has more than one perf target:\n",
            root.display()
        )),
        "{message}"
    );
    assert!(
        message.contains("\n  bench `perf` of package `alpha-perf` ("),
        "{message}"
    );
    assert!(
        message.contains("\n  bench `perf` of package `beta-perf` ("),
        "{message}"
    );
    assert!(
        message
            .contains("pick one with --target NAME (and --package NAME if two have the same name)"),
        "{message}"
    );

    // --package picks one; `-p` is the runner's.
    let output = cargo_perfstress(
        &root,
        &[
            "--package",
            "beta-perf",
            "ExampleTest",
            "-p",
            "2",
            "-d",
            "0.2",
            "-w",
            "0",
            "--processes",
            "1",
        ],
    );
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("parallel 2"),
        "{}",
        stdout(&output)
    );

    // In a member's directory, that member.
    let output = cargo_perfstress(&root.join("beta-perf/src"), &["--debug"]);
    assert_exit(&output, 0);
    assert!(
        stderr(&output).contains(" --package beta-perf --bench perf "),
        "{}",
        stderr(&output)
    );
}

/// PerfAutomation's build of the package reports exactly one executable.
#[test]
fn the_scaffold_is_one_executable_as_perf_automation_builds_it() {
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "build",
            "--release",
            "--package",
            "example-perf",
            "--bench",
            "perf",
            "--message-format=json",
        ])
        .current_dir(example())
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("perf-automation"),
        )
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let executables = stdout(&output)
        .lines()
        .filter(|line| line.contains("\"executable\":\""))
        .count();
    assert_eq!(executables, 1, "{}", stdout(&output));
}
