//! Which target of which package is the perf executable.

use std::collections::HashMap;
use std::path::Path;

use cargo_metadata::{Metadata, Package, PackageId, Target, TargetKind as CargoKind};

use crate::{Failure, RunArgs, debug};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    Bench,
    Bin,
}

/// A target that can be the perf executable.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub package_name: String,
    pub package_id: PackageId,
    pub target_name: String,
    pub kind: TargetKind,
    pub src_path: String,
}

impl Candidate {
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            TargetKind::Bench => "bench",
            TargetKind::Bin => "bin",
        };
        format!(
            "{kind} `{}` of package `{}` ({})",
            self.target_name, self.package_name, self.src_path
        )
    }
}

pub const HOW_TO: &str = "\
to make one, as `cargo perfstress new NAME` does:
  1. in Cargo.toml: [[bench]] name = \"perf\" harness = false (and perfstress in [dependencies])
  2. benches/perf.rs: fn main() { perfstress::main() }
  3. a test: an impl of perfstress::PerfTest marked #[perfstress::test]";

/// The packages to look in: `--package NAME`, else the package of the
/// manifest found (the working directory's), else (a virtual workspace) every
/// member.
fn packages<'a>(
    metadata: &'a Metadata,
    manifest: &Path,
    args: &RunArgs,
) -> Result<Vec<&'a Package>, Failure> {
    let members = metadata.workspace_packages();
    if let Some(name) = &args.package {
        return match members.iter().find(|package| package.name.as_str() == name) {
            Some(package) => Ok(vec![package]),
            None => Err(Failure::usage(format!(
                "--package {name}: no such package in the workspace at {}; its members: {}",
                metadata.workspace_root,
                names(members.iter().map(|package| package.name.as_str()))
            ))),
        };
    }
    let manifest = manifest
        .canonicalize()
        .unwrap_or_else(|_| manifest.to_owned());
    let own = members.iter().find(|package| {
        package
            .manifest_path
            .as_std_path()
            .canonicalize()
            .is_ok_and(|path| path == manifest)
    });
    Ok(match own {
        Some(package) => vec![*package],
        None => {
            debug!(
                args.debug,
                "{} is a virtual workspace manifest: looking in every member",
                manifest.display()
            );
            members
        }
    })
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `harness` of the package's `[[bench]]` sections, by name (a bench without
/// a section, found in `benches/`, has libtest's harness).
fn bench_harnesses(package: &Package) -> HashMap<String, bool> {
    let Ok(text) = std::fs::read_to_string(&package.manifest_path) else {
        return HashMap::new();
    };
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return HashMap::new();
    };
    let Some(benches) = manifest.get("bench").and_then(|benches| benches.as_array()) else {
        return HashMap::new();
    };
    benches
        .iter()
        .filter_map(|bench| {
            let name = bench.get("name")?.as_str()?.to_owned();
            let harness = bench
                .get("harness")
                .and_then(|harness| harness.as_bool())
                .unwrap_or(true);
            Some((name, harness))
        })
        .collect()
}

fn kind(target: &Target) -> Option<TargetKind> {
    if target.kind.contains(&CargoKind::Bench) {
        Some(TargetKind::Bench)
    } else if target.kind.contains(&CargoKind::Bin) {
        Some(TargetKind::Bin)
    } else {
        None
    }
}

fn candidate(package: &Package, target: &Target, kind: TargetKind) -> Candidate {
    Candidate {
        package_name: package.name.to_string(),
        package_id: package.id.clone(),
        target_name: target.name.clone(),
        kind,
        src_path: target.src_path.to_string(),
    }
}

/// The one perf target of the packages in scope, or why there is none.
pub fn perf_target(
    metadata: &Metadata,
    manifest: &Path,
    args: &RunArgs,
) -> Result<Candidate, Failure> {
    let packages = packages(metadata, manifest, args)?;
    let mut found = Vec::new();
    let mut looked_at = Vec::new();
    for package in &packages {
        let harnesses = bench_harnesses(package);
        let uses_perfstress = package
            .dependencies
            .iter()
            .any(|dependency| dependency.name == "perfstress");
        debug!(
            args.debug,
            "package `{}` ({}): {}",
            package.name,
            package.manifest_path,
            if uses_perfstress {
                "depends on perfstress"
            } else {
                "does not depend on perfstress"
            }
        );
        let targets: Vec<_> = package
            .targets
            .iter()
            .filter_map(|target| Some((target, kind(target)?)))
            .collect();
        let has_perf_bench = targets.iter().any(|(target, kind)| {
            *kind == TargetKind::Bench
                && target.name == "perf"
                && harnesses.get("perf") == Some(&false)
        });
        for (target, kind) in targets {
            let this = candidate(package, target, kind);
            looked_at.push(this.clone());
            let harness = kind == TargetKind::Bench && harnesses.get(&target.name) != Some(&false);
            let verdict = if let Some(wanted) = &args.target {
                if &target.name == wanted {
                    Ok("named by --target")
                } else {
                    Err("not the --target")
                }
            } else if kind == TargetKind::Bench && target.name == "perf" {
                if harness {
                    Err("the `perf` bench, but with libtest's harness (add `harness = false`)")
                } else {
                    Ok("the package's `perf` bench")
                }
            } else if has_perf_bench {
                Err("the package's `perf` bench is its perf target")
            } else if !uses_perfstress {
                Err("its package does not depend on perfstress")
            } else if harness {
                Err("a bench with libtest's harness (not `harness = false`)")
            } else if kind == TargetKind::Bench {
                Ok("a `harness = false` bench of a package that depends on perfstress")
            } else {
                Ok("a bin of a package that depends on perfstress")
            };
            match verdict {
                Ok(why) => {
                    debug!(args.debug, "  {}: candidate: {why}", this.describe());
                    found.push(this);
                }
                Err(why) => debug!(args.debug, "  {}: not used: {why}", this.describe()),
            }
        }
    }
    let scope = match packages.as_slice() {
        [package] => format!("package `{}`", package.name),
        _ => format!("the workspace at {}", metadata.workspace_root),
    };
    match found.len() {
        1 => Ok(found.pop().expect("one candidate")),
        0 => match &args.target {
            Some(wanted) => Err(Failure::usage(format!(
                "--target {wanted}: {scope} has no bench or bin target of that name{}",
                if looked_at.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; its bench and bin targets: {}",
                        names(looked_at.iter().map(|target| target.target_name.as_str()))
                    )
                }
            ))),
            None => Err(Failure::usage(format!(
                "{scope} has no perf target{}\n{HOW_TO}",
                if args.debug {
                    ""
                } else {
                    " (--debug shows what was looked at)"
                }
            ))),
        },
        _ => {
            let list: String = found
                .iter()
                .map(|candidate| format!("\n  {}", candidate.describe()))
                .collect();
            let ask = if args.target.is_some() {
                "pick one with --package NAME"
            } else {
                "pick one with --target NAME (and --package NAME if two have the same name)"
            };
            Err(Failure::usage(format!(
                "{scope} has more than one perf target:{list}\n{ask}"
            )))
        }
    }
}
