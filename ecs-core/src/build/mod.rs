//! Cross-compiles the service binary for the task's platform with the user's cargo, without emulation.
//!
//! Pure-Rust crates link with `rust-lld` (shipped with Rust). When the dependency graph compiles C code (ring,
//! aws-lc-sys, ...), a C cross compiler is needed: `cargo zigbuild` with zig, or a clear error saying how to get them.

mod c_code;
mod c_code_cache;
mod cargo;
mod error;
mod toolchain;

use std::path::PathBuf;

use cargo_metadata::MetadataCommand;
use serde::Serialize;

pub use c_code::c_code_packages;
pub use c_code_cache::CCodeCache;
pub use cargo::{CargoBuild, Unit};
pub use error::BuildError;
pub use toolchain::{Linker, find_on_path, target_installed, zig_available, zig_missing};

use crate::config::Settings;
use crate::report::{Reporter, human_size};

/// The compiled binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Artifact {
    /// Where cargo put it.
    pub binary: PathBuf,
    /// The target triple it was built for.
    pub target: String,
    /// How it was linked.
    pub linker: Linker,
    /// Its size in bytes.
    pub size: u64,
    /// Crates of the graph that compile C (why zig was used).
    pub c_crates: Vec<String>,
}

/// Compiles the `bin` of the package in `settings` for the task's platform.
///
/// # Errors
/// A missing target or toolchain (with the command that installs it), or cargo's own failure.
pub async fn compile(settings: &Settings, reporter: &dyn Reporter) -> Result<Artifact, BuildError> {
    compile_all(&[settings], reporter)
        .await
        .pop()
        .unwrap_or(Err(BuildError::NoExecutable { bin: settings.bin.clone() }))
}

/// Compiles the binaries of several services, in as few cargo invocations as their settings allow: one per
/// target, profile and build options. Returns each service's artifact or error, in the order given; a service
/// that does not compile does not stop the others.
pub async fn compile_all(all: &[&Settings], reporter: &dyn Reporter) -> Vec<Result<Artifact, BuildError>> {
    let mut results: Vec<Option<Result<Artifact, BuildError>>> = all.iter().map(|_| None).collect();
    let mut groups: Vec<(BuildKey, Vec<usize>)> = Vec::new();
    for (i, settings) in all.iter().enumerate() {
        let key = BuildKey::of(settings);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    for (key, members) in groups {
        let settings: Vec<&Settings> = members.iter().map(|&i| all[i]).collect();
        for (i, result) in members.into_iter().zip(compile_group(&key, &settings, reporter).await) {
            results[i] = Some(result);
        }
    }
    results.into_iter().map(|r| r.unwrap_or(Err(BuildError::NoExecutable { bin: String::new() }))).collect()
}

/// What must be equal for two services to build in one cargo invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BuildKey {
    target: String,
    profile: String,
    no_default_features: bool,
    strip: bool,
}

impl BuildKey {
    fn of(settings: &Settings) -> Self {
        Self {
            target: settings.architecture.rust_target(settings.image.libc).to_owned(),
            profile: settings.build.profile.clone(),
            no_default_features: settings.build.no_default_features,
            strip: settings.build.strip,
        }
    }
}

/// One cargo invocation for services that share a [`BuildKey`].
async fn compile_group(
    key: &BuildKey,
    all: &[&Settings],
    reporter: &dyn Reporter,
) -> Vec<Result<Artifact, BuildError>> {
    let fail = |error: BuildError| all.iter().map(|_| Err(error.clone())).collect();
    let target = key.target.clone();
    let mut build = CargoBuild {
        units: all
            .iter()
            .map(|s| Unit {
                manifest_path: s.manifest_path.clone(),
                package: s.package.clone(),
                bin: s.bin.clone(),
                features: s.build.features.clone(),
            })
            .collect(),
        target: target.clone(),
        profile: key.profile.clone(),
        no_default_features: key.no_default_features,
        strip: key.strip,
        linker: Linker::RustLld,
    };
    let c_crates = match c_crates(&build) {
        Ok(found) => found,
        Err(error) => return fail(error),
    };
    build.linker = match linker_for(&c_crates, &target) {
        Ok(linker) => linker,
        Err(error) => return fail(error),
    };
    let linker = build.linker.clone();
    let step = format!("compile {} for {target}", build.bins());
    reporter.begin(&step);
    let binaries = match build.run(&step, reporter).await {
        // The target's standard library is looked for only when cargo failed: a missing one is why, said plainly.
        Ok(binaries) if binaries.iter().any(Result::is_err) && !target_installed(&target) => {
            Err(BuildError::TargetMissing { target: target.clone() })
        }
        other => other,
    };
    let binaries = match binaries {
        Ok(binaries) => binaries,
        Err(error) => {
            reporter.end(&step, "failed");
            return fail(error);
        }
    };
    let how = match &linker {
        Linker::RustLld => "rust-lld".to_owned(),
        Linker::Zig { .. } => format!("zig, for {}", c_crates.join(", ")),
    };
    let results: Vec<Result<Artifact, BuildError>> = binaries
        .into_iter()
        .map(|binary| {
            binary.map(|binary| {
                let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or_default();
                Artifact { binary, target: target.clone(), linker: linker.clone(), size, c_crates: c_crates.clone() }
            })
        })
        .collect();
    let summary: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|a| format!("{} ({})", a.binary.display(), human_size(a.size)))
        .collect();
    let failed = results.iter().filter(|r| r.is_err()).count();
    let mut result = format!("{}, linked with {how}", summary.join(", "));
    if failed > 0 {
        result = format!("{failed} failed; {result}");
    }
    reporter.end(&step, &result);
    results
}

/// How to link a graph in which `c_crates` compile C: rust-lld when none does, else zig through cargo-zigbuild.
///
/// # Errors
/// zig or cargo-zigbuild missing, naming the crates that need them.
fn linker_for(c_crates: &[String], target: &str) -> Result<Linker, BuildError> {
    if c_crates.is_empty() {
        return Ok(Linker::RustLld);
    }
    let cargo_zigbuild = find_on_path("cargo-zigbuild");
    match (zig_missing(zig_available(), cargo_zigbuild.is_some()), cargo_zigbuild) {
        (None, Some(cargo_zigbuild)) => Ok(Linker::Zig { cargo_zigbuild }),
        (missing, _) => Err(BuildError::ZigMissing {
            crates: c_crates.join(", "),
            target: target.to_owned(),
            missing: missing.unwrap_or_default(),
        }),
    }
}

/// The crates of the build's graph, for its target and features, that compile C: remembered from the last build
/// while its lock file and path manifests are unchanged ([`CCodeCache`]), else read with one `cargo metadata` (the
/// packages are members of one workspace).
fn c_crates(build: &CargoBuild) -> Result<Vec<String>, BuildError> {
    let Some(first) = build.units.first() else { return Ok(Vec::new()) };
    let manifest = first.manifest_path.display().to_string();
    let features = build.feature_args();
    let packages: Vec<&str> = build.units.iter().map(|u| u.package.as_str()).collect();
    let key: Vec<&str> = [manifest.as_str(), build.target.as_str()]
        .into_iter()
        .chain(packages.iter().copied())
        .chain(features.iter().map(String::as_str))
        .collect();
    let cache = CCodeCache::for_user(&key);
    if let Some(found) = cache.read() {
        return Ok(found);
    }
    let mut options = vec!["--filter-platform".to_owned(), build.target.clone()];
    options.extend(features);
    let metadata = MetadataCommand::new()
        .manifest_path(&first.manifest_path)
        .other_options(options)
        .exec()
        .map_err(|e| BuildError::Metadata { manifest: first.manifest_path.clone(), message: e.to_string() })?;
    let mut crates: Vec<String> = packages
        .iter()
        .filter_map(|name| metadata.packages.iter().find(|p| p.name.as_str() == *name))
        .flat_map(|p| c_code_packages(&metadata, &p.id))
        .collect();
    crates.sort();
    crates.dedup();
    // What the graph was read from: the lock file, and the manifests of the packages that are not pinned by it.
    let inputs: Vec<PathBuf> = std::iter::once(metadata.workspace_root.join("Cargo.lock").into_std_path_buf())
        .chain(metadata.packages.iter().filter(|p| p.source.is_none()).map(|p| p.manifest_path.clone().into()))
        .collect();
    cache.write(&inputs, &crates);
    Ok(crates)
}
