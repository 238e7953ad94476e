//! Settings: the schema of `[package.metadata.ecs]`, its layers, defaults, validation and `--explain`.
//!
//! Layers, later wins: built-in defaults, `[workspace.metadata.ecs]`, `[package.metadata.ecs]`, the workspace's
//! environment overlay, the package's environment overlay, `CARGO_ECS_*` variables, command-line flags.

mod error;
mod layers;
mod names;
mod resolve;
pub mod schema;
mod settings;
mod source;
pub mod units;
pub mod validate;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub use error::SettingError;
pub use layers::{FlagSetting, Layer, MetadataLayers, from_metadata};
pub use resolve::{Explained, PackageInfo, Resolved, resolve};
pub use schema::did_you_mean;
pub use settings::{Architecture, Build, Dns, DnsType, Image, ImageBuilder, Libc, LoadBalancer, Settings};
pub use source::Source;

use crate::error::{Error, Result};
use crate::workspace::{Selection, Workspace};

/// Everything that decides the settings besides the Cargo.toml files.
#[derive(Debug, Clone, Default)]
pub struct LoadRequest {
    /// `--manifest-path`.
    pub manifest_path: Option<PathBuf>,
    /// `-p` / `--workspace`.
    pub selection: Selection,
    /// `--env NAME`.
    pub environment: Option<String>,
    /// The process environment (only `CARGO_ECS_*` is read).
    pub env_vars: BTreeMap<String, String>,
    /// Settings given as flags, in order.
    pub flags: Vec<FlagSetting>,
    /// The current directory.
    pub cwd: PathBuf,
}

/// Reads the workspace and resolves the settings of every selected package.
///
/// # Errors
/// Workspace problems, or every invalid setting of every selected package.
pub fn load(request: &LoadRequest) -> Result<Vec<Resolved>> {
    let workspace = Workspace::load(request.manifest_path.as_deref(), &request.cwd)?;
    resolve_workspace(&workspace, request)
}

/// Resolves the settings of the selected packages of an already-read workspace.
///
/// # Errors
/// As [`load`].
pub fn resolve_workspace(workspace: &Workspace, request: &LoadRequest) -> Result<Vec<Resolved>> {
    let members = workspace.select(&request.selection)?;
    let mut errors = Vec::new();
    let root = workspace.root_manifest.clone();
    let workspace_layers = metadata_layers(
        &workspace.ecs_metadata,
        Source::WorkspaceMetadata { file: root.clone() },
        |name| Source::WorkspaceEnvironment { name: name.to_owned(), file: root.clone() },
        &mut errors,
    );
    let env_layers = layers::from_env_vars(&request.env_vars).map_err(|e| errors.extend(e)).unwrap_or_default();
    let flag_layers = layers::from_flags(&request.flags).map_err(|e| errors.extend(e)).unwrap_or_default();
    let mut resolved = Vec::new();
    for member in members {
        let file = member.info.manifest_path.clone();
        let package_layers = metadata_layers(
            &member.ecs_metadata,
            Source::PackageMetadata { file: file.clone() },
            |name| Source::PackageEnvironment { name: name.to_owned(), file: file.clone() },
            &mut errors,
        );
        let mut stack: Vec<Layer> = Vec::new();
        stack.extend(workspace_layers.iter().map(|l| l.base.clone()));
        stack.extend(package_layers.iter().map(|l| l.base.clone()));
        if let Some(environment) = &request.environment {
            let overlays = [&workspace_layers, &package_layers];
            let found: Vec<Layer> =
                overlays.iter().filter_map(|l| l.as_ref()?.environments.get(environment).cloned()).collect();
            if found.is_empty() && errors.is_empty() {
                errors.push(unknown_environment(environment, &member.info, &overlays));
            }
            stack.extend(found);
        }
        stack.extend(env_layers.iter().cloned());
        stack.extend(flag_layers.iter().cloned());
        if !errors.is_empty() {
            continue;
        }
        match resolve(&member.info, request.environment.as_deref(), &stack, &request.cwd) {
            Ok(r) => resolved.push(r),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(resolved) } else { Err(Error::Settings(dedup(errors))) }
}

fn metadata_layers(
    table: &serde_json::Value,
    source: Source,
    overlay_source: impl Fn(&str) -> Source,
    errors: &mut Vec<SettingError>,
) -> Option<MetadataLayers> {
    if table.is_null() {
        return None;
    }
    from_metadata(table, source, overlay_source).map_err(|e| errors.extend(e)).ok()
}

fn unknown_environment(name: &str, package: &PackageInfo, overlays: &[&Option<MetadataLayers>]) -> SettingError {
    let defined: BTreeSet<&str> =
        overlays.iter().filter_map(|l| l.as_ref()).flat_map(|l| l.environments.keys().map(String::as_str)).collect();
    let mut err = SettingError::new(
        "environments",
        Some(&Source::Flag { flag: format!("--env {name}") }),
        format!("environment `{name}` is not defined for package `{}`", package.name),
    );
    err = match did_you_mean(name, defined.iter().copied()) {
        Some(s) => err.help(format!("did you mean `{s}`?")),
        None if defined.is_empty() => err.help(format!(
            "define it, even empty, as [package.metadata.ecs.environments.{name}] in {} or under [workspace.metadata.ecs]",
            package.manifest_path.display()
        )),
        None => err.help(format!("defined environments: {}", defined.into_iter().collect::<Vec<_>>().join(", "))),
    };
    err
}

/// Errors from the workspace table repeat once per package: keep the first of each.
fn dedup(errors: Vec<SettingError>) -> Vec<SettingError> {
    let mut seen = Vec::new();
    for e in errors {
        if !seen.contains(&e) {
            seen.push(e);
        }
    }
    seen
}
