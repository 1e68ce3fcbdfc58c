//! Where a run was measured: the versions, the toolchain, the machine and
//! the commit. Saved with every baseline and results file, so that
//! `compare` can tell runs from different machines apart.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The environment of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Environment {
    /// The perfstress version that measured it.
    pub(crate) perfstress_version: String,
    /// The test's crate and its version, e.g. `systemperf 0.1.0`.
    #[serde(default)]
    pub(crate) suite: Option<String>,
    /// `rustc --version` of the compiler that built perfstress.
    #[serde(default)]
    pub(crate) rustc_version: String,
    /// The target triple perfstress was built for.
    #[serde(default)]
    pub(crate) target: String,
    /// The CPU's model name, where the system tells it.
    #[serde(default)]
    pub(crate) cpu_model: Option<String>,
    /// CPUs available to the process.
    #[serde(default)]
    pub(crate) cpu_cores: usize,
    /// The operating system: its name, release and kernel where known.
    #[serde(default)]
    pub(crate) os: String,
    /// The git commit of the working directory's checkout (or CI's
    /// `GITHUB_SHA`, `BUILD_SOURCEVERSION`, `GIT_COMMIT`), when known.
    #[serde(default)]
    pub(crate) git_commit: Option<String>,
}

impl Environment {
    /// The environment of this process (captured once).
    pub(crate) fn current(suite: Option<String>) -> Self {
        static MACHINE: OnceLock<Environment> = OnceLock::new();
        let machine = MACHINE.get_or_init(|| Environment {
            perfstress_version: env!("CARGO_PKG_VERSION").to_owned(),
            suite: None,
            rustc_version: env!("PERFSTRESS_RUSTC_VERSION").to_owned(),
            target: env!("PERFSTRESS_TARGET").to_owned(),
            cpu_model: cpu_model(),
            cpu_cores: crate::options::default_processes(),
            os: os_description(),
            git_commit: git_commit(),
        });
        Self {
            suite,
            ..machine.clone()
        }
    }

    /// How this machine differs from `other`'s (CPU, cores, OS, target),
    /// one phrase per difference; empty for the same kind of machine.
    pub(crate) fn machine_differences(&self, other: &Environment) -> Vec<String> {
        let mut differences = Vec::new();
        let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "unknown".to_owned());
        if self.cpu_model != other.cpu_model {
            differences.push(format!(
                "CPU '{}' vs '{}'",
                text(&self.cpu_model),
                text(&other.cpu_model)
            ));
        }
        if self.cpu_cores != other.cpu_cores {
            differences.push(format!("{} vs {} cores", self.cpu_cores, other.cpu_cores));
        }
        if self.os != other.os {
            differences.push(format!("OS '{}' vs '{}'", self.os, other.os));
        }
        if self.target != other.target {
            differences.push(format!("target {} vs {}", self.target, other.target));
        }
        differences
    }
}

/// `model name` of the first CPU in /proc/cpuinfo (Linux), or `sysctl
/// machdep.cpu.brand_string` (macOS).
fn cpu_model() -> Option<String> {
    if let Ok(text) = std::fs::read_to_string("/proc/cpuinfo") {
        let model = text.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            matches!(
                key.trim(),
                "model name" | "Hardware" | "Processor" | "cpu model"
            )
            .then(|| value.trim().to_owned())
        });
        if model.is_some() {
            return model;
        }
    }
    command_output("sysctl", &["-n", "machdep.cpu.brand_string"])
}

/// E.g. `linux (Debian GNU/Linux 13 (trixie), kernel 6.1.0)`.
fn os_description() -> String {
    let mut details = Vec::new();
    if let Ok(text) = std::fs::read_to_string("/etc/os-release")
        && let Some(name) = text
            .lines()
            .find_map(|line| line.strip_prefix("PRETTY_NAME="))
    {
        details.push(name.trim_matches('"').to_owned());
    }
    if let Some(release) = kernel_release() {
        details.push(format!("kernel {release}"));
    }
    if details.is_empty() {
        std::env::consts::OS.to_owned()
    } else {
        format!("{} ({})", std::env::consts::OS, details.join(", "))
    }
}

#[cfg(unix)]
fn kernel_release() -> Option<String> {
    // SAFETY: uname fills the zeroed struct; its fields are NUL-terminated.
    unsafe {
        let mut name: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut name) != 0 {
            return None;
        }
        let release = std::ffi::CStr::from_ptr(name.release.as_ptr());
        Some(release.to_string_lossy().into_owned())
    }
}

#[cfg(not(unix))]
fn kernel_release() -> Option<String> {
    None
}

/// The commit CI names, or the working directory's checkout's.
fn git_commit() -> Option<String> {
    for variable in ["GITHUB_SHA", "BUILD_SOURCEVERSION", "GIT_COMMIT"] {
        if let Ok(value) = std::env::var(variable)
            && !value.trim().is_empty()
        {
            return Some(value.trim().to_owned());
        }
    }
    command_output("git", &["rev-parse", "HEAD"])
        .filter(|commit| commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The trimmed stdout of a command that succeeded, if any.
fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_is_described() {
        let environment = Environment::current(Some("suite 1.2.3".to_owned()));
        assert_eq!(environment.perfstress_version, env!("CARGO_PKG_VERSION"));
        assert!(
            environment.rustc_version.starts_with("rustc "),
            "{environment:?}"
        );
        assert!(!environment.target.is_empty() && environment.target != "unknown");
        assert!(environment.cpu_cores >= 1);
        assert!(environment.os.starts_with(std::env::consts::OS));
        assert_eq!(environment.suite.as_deref(), Some("suite 1.2.3"));
        assert!(environment.machine_differences(&environment).is_empty());
    }

    #[test]
    fn differences_are_named() {
        let here = Environment::current(None);
        let there = Environment {
            cpu_cores: here.cpu_cores + 6,
            cpu_model: Some("Imaginary CPU".to_owned()),
            ..here.clone()
        };
        let differences = here.machine_differences(&there);
        assert_eq!(differences.len(), 2, "{differences:?}");
        assert!(differences[0].contains("Imaginary CPU"));
    }
}
