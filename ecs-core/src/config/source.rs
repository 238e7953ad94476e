//! Where a setting's value came from: the layer, and the file and table when it was written in one.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// One layer of settings. Later layers win; the order of the variants is the order of precedence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "layer", rename_all = "kebab-case")]
pub enum Source {
    /// Built in; `from` names what a derived default was computed from.
    Default {
        /// What the default was derived from, e.g. "service".
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
    },
    /// `[workspace.metadata.ecs]` of the workspace's root Cargo.toml.
    WorkspaceMetadata {
        /// The workspace's root Cargo.toml.
        file: PathBuf,
    },
    /// `[package.metadata.ecs]` of the package's Cargo.toml.
    PackageMetadata {
        /// The package's Cargo.toml.
        file: PathBuf,
    },
    /// `[workspace.metadata.ecs.environments.NAME]`.
    WorkspaceEnvironment {
        /// The environment's name.
        name: String,
        /// The workspace's root Cargo.toml.
        file: PathBuf,
    },
    /// `[package.metadata.ecs.environments.NAME]`.
    PackageEnvironment {
        /// The environment's name.
        name: String,
        /// The package's Cargo.toml.
        file: PathBuf,
    },
    /// A `CARGO_ECS_*` environment variable.
    EnvVar {
        /// The variable's name.
        name: String,
    },
    /// A command-line flag.
    Flag {
        /// The flag as given, e.g. `--region` or `--set cpu=512`.
        flag: String,
    },
}

impl Source {
    /// The Cargo.toml this value was written in, if any.
    #[must_use]
    pub fn file(&self) -> Option<&PathBuf> {
        match self {
            Self::WorkspaceMetadata { file }
            | Self::PackageMetadata { file }
            | Self::WorkspaceEnvironment { file, .. }
            | Self::PackageEnvironment { file, .. } => Some(file),
            Self::Default { .. } | Self::EnvVar { .. } | Self::Flag { .. } => None,
        }
    }

    /// The TOML table header this value sits under, e.g. `[package.metadata.ecs.environments.prod]`.
    #[must_use]
    pub fn table(&self) -> Option<String> {
        match self {
            Self::WorkspaceMetadata { .. } => Some("[workspace.metadata.ecs]".to_owned()),
            Self::PackageMetadata { .. } => Some("[package.metadata.ecs]".to_owned()),
            Self::WorkspaceEnvironment { name, .. } => Some(format!("[workspace.metadata.ecs.environments.{name}]")),
            Self::PackageEnvironment { name, .. } => Some(format!("[package.metadata.ecs.environments.{name}]")),
            Self::Default { .. } | Self::EnvVar { .. } | Self::Flag { .. } => None,
        }
    }

    /// Short name of the layer, as `config --explain` prints it.
    #[must_use]
    pub fn layer_name(&self) -> String {
        match self {
            Self::Default { from: None } => "default".to_owned(),
            Self::Default { from: Some(from) } => format!("default (from {from})"),
            Self::WorkspaceMetadata { .. } => "workspace metadata".to_owned(),
            Self::PackageMetadata { .. } => "package metadata".to_owned(),
            Self::WorkspaceEnvironment { name, .. } => format!("workspace environment `{name}`"),
            Self::PackageEnvironment { name, .. } => format!("package environment `{name}`"),
            Self::EnvVar { name } => format!("environment variable {name}"),
            Self::Flag { flag } => format!("flag {flag}"),
        }
    }
}

/// `layer` alone, or `layer in FILE [table]`.
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.layer_name())?;
        if let (Some(file), Some(table)) = (self.file(), self.table()) {
            write!(f, " in {} {table}", file.display())?;
        }
        Ok(())
    }
}
