//! Cross-compiles the service binary for the task's platform with the user's cargo, without emulation.
//!
//! Pure-Rust crates link with `rust-lld` (shipped with Rust). When the dependency graph compiles C code (ring,
//! aws-lc-sys, ...), a C cross compiler is needed: `cargo zigbuild` with zig, or a clear error saying how to get them.

mod c_code;
mod cargo;
mod error;
mod toolchain;

use std::path::PathBuf;

use cargo_metadata::MetadataCommand;
use serde::Serialize;

pub use c_code::c_code_packages;
pub use cargo::CargoBuild;
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
    let target = settings.architecture.rust_target(settings.image.libc).to_owned();
    if !target_installed(&target) {
        return Err(BuildError::TargetMissing { target });
    }
    let c_crates = c_crates(settings, &target)?;
    let linker = if c_crates.is_empty() {
        Linker::RustLld
    } else {
        let cargo_zigbuild = find_on_path("cargo-zigbuild");
        match (zig_missing(zig_available(), cargo_zigbuild.is_some()), cargo_zigbuild) {
            (None, Some(cargo_zigbuild)) => Linker::Zig { cargo_zigbuild },
            (missing, _) => {
                return Err(BuildError::ZigMissing {
                    crates: c_crates.join(", "),
                    target,
                    missing: missing.unwrap_or_default(),
                });
            }
        }
    };
    let step = format!("compile {} for {target}", settings.bin);
    reporter.begin(&step);
    let build = CargoBuild {
        manifest_path: settings.manifest_path.clone(),
        package: settings.package.clone(),
        bin: settings.bin.clone(),
        target: target.clone(),
        profile: settings.build.profile.clone(),
        features: settings.build.features.clone(),
        no_default_features: settings.build.no_default_features,
        strip: settings.build.strip,
        linker: linker.clone(),
    };
    let binary = build.run(&step, reporter).await?;
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or_default();
    let how = match &linker {
        Linker::RustLld => "rust-lld".to_owned(),
        Linker::Zig { .. } => format!("zig, for {}", c_crates.join(", ")),
    };
    reporter.end(&step, &format!("{} ({}, linked with {how})", binary.display(), human_size(size)));
    Ok(Artifact { binary, target, linker, size, c_crates })
}

/// The crates of the package's graph, for `target`, that compile C code.
fn c_crates(settings: &Settings, target: &str) -> Result<Vec<String>, BuildError> {
    let metadata = MetadataCommand::new()
        .manifest_path(&settings.manifest_path)
        .other_options(vec!["--filter-platform".to_owned(), target.to_owned()])
        .exec()
        .map_err(|e| BuildError::Metadata { manifest: settings.manifest_path.clone(), message: e.to_string() })?;
    let Some(root) = metadata.packages.iter().find(|p| p.name.as_str() == settings.package).map(|p| p.id.clone())
    else {
        return Ok(Vec::new());
    };
    Ok(c_code_packages(&metadata, &root))
}
