//! Reads the Cargo workspace (`cargo metadata --no-deps`) and selects the packages a command works on.

use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand, Package};
use serde_json::Value;

use crate::config::{PackageInfo, did_you_mean};
use crate::error::{Error, Result};

/// What cargo-ecs needs from the workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace root's Cargo.toml.
    pub root_manifest: PathBuf,
    /// `[workspace.metadata.ecs]`, or `Null`.
    pub ecs_metadata: Value,
    /// Every member package.
    pub members: Vec<Member>,
    /// The manifest the command was pointed at (`--manifest-path`, or found from the current directory).
    pub manifest: PathBuf,
}

/// A workspace member.
#[derive(Debug, Clone)]
pub struct Member {
    /// Name, manifest and binaries.
    pub info: PackageInfo,
    /// `[package.metadata.ecs]`, or `Null`.
    pub ecs_metadata: Value,
}

/// Which packages to work on, as the user said it.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `-p NAME`, repeatable.
    pub packages: Vec<String>,
    /// `--workspace`: every member with `[package.metadata.ecs]`.
    pub workspace: bool,
}

impl Workspace {
    /// Reads the workspace of `manifest_path`, or of the nearest Cargo.toml at or above `cwd`.
    ///
    /// # Errors
    /// No Cargo.toml, or cargo cannot read it.
    pub fn load(manifest_path: Option<&Path>, cwd: &Path) -> Result<Self> {
        let manifest = locate_manifest(manifest_path, cwd)?;
        let metadata = MetadataCommand::new().manifest_path(&manifest).no_deps().exec().map_err(|err| {
            Error::workspace(
                format!("cargo could not read {}: {}", manifest.display(), err.to_string().trim()),
                "run `cargo metadata --no-deps` to see the full error",
            )
        })?;
        Ok(Self::from_metadata(&metadata, manifest))
    }

    fn from_metadata(metadata: &Metadata, manifest: PathBuf) -> Self {
        let members = metadata
            .workspace_packages()
            .into_iter()
            .map(|package: &Package| Member {
                info: PackageInfo {
                    name: package.name.to_string(),
                    manifest_path: package.manifest_path.clone().into_std_path_buf(),
                    bins: package.targets.iter().filter(|t| t.is_bin()).map(|t| t.name.clone()).collect(),
                },
                ecs_metadata: package.metadata.get("ecs").cloned().unwrap_or(Value::Null),
            })
            .collect();
        Self {
            root_manifest: metadata.workspace_root.join("Cargo.toml").into_std_path_buf(),
            ecs_metadata: metadata.workspace_metadata.get("ecs").cloned().unwrap_or(Value::Null),
            members,
            manifest,
        }
    }

    /// The members a command works on.
    ///
    /// # Errors
    /// A `-p` name that is not a member, `--workspace` with no configured member, or an ambiguous default.
    pub fn select(&self, selection: &Selection) -> Result<Vec<&Member>> {
        let names: Vec<&str> = self.members.iter().map(|m| m.info.name.as_str()).collect();
        if !selection.packages.is_empty() {
            return selection
                .packages
                .iter()
                .map(|wanted| {
                    self.members.iter().find(|m| &m.info.name == wanted).ok_or_else(|| {
                        let help = did_you_mean(wanted, names.iter().copied()).map_or_else(
                            || format!("members: {}", names.join(", ")),
                            |s| format!("did you mean `{s}`?"),
                        );
                        Error::workspace(format!("package `{wanted}` is not a member of this workspace"), help)
                    })
                })
                .collect();
        }
        let configured: Vec<&Member> = self.members.iter().filter(|m| !m.ecs_metadata.is_null()).collect();
        if selection.workspace {
            if configured.is_empty() {
                return Err(Error::workspace(
                    format!(
                        "no member of the workspace at {} has [package.metadata.ecs]",
                        self.root_manifest.display()
                    ),
                    "add the section to the services you deploy (`cargo ecs init` in a member), or name them with -p",
                ));
            }
            return Ok(configured);
        }
        if let Some(member) = self.members.iter().find(|m| same_file(&m.info.manifest_path, &self.manifest)) {
            return Ok(vec![member]);
        }
        match configured.as_slice() {
            [only] => Ok(vec![*only]),
            _ => {
                let candidates = if configured.is_empty() {
                    names.clone()
                } else {
                    configured.iter().map(|m| m.info.name.as_str()).collect()
                };
                Err(Error::workspace(
                    format!("{} is a virtual workspace manifest: which package?", self.manifest.display()),
                    format!("name one with -p ({}) or use --workspace", candidates.join(", ")),
                ))
            }
        }
    }
}

fn locate_manifest(manifest_path: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    if let Some(path) = manifest_path {
        let path = cwd.join(path);
        if !path.is_file() {
            return Err(Error::workspace(
                format!("--manifest-path {} does not exist", path.display()),
                "point --manifest-path at a package's or workspace's Cargo.toml",
            ));
        }
        return Ok(path);
    }
    cwd.ancestors().map(|dir| dir.join("Cargo.toml")).find(|p| p.is_file()).ok_or_else(|| {
        Error::workspace(
            format!("no Cargo.toml in {} or any parent directory", cwd.display()),
            "run cargo ecs inside a Rust package, or pass --manifest-path",
        )
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
