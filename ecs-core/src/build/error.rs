//! What can go wrong while compiling, each with what to do about it.

use std::path::PathBuf;

/// A failed cross-compilation.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Rust standard library for the target is not installed.
    #[error("the Rust target {target} is not installed")]
    TargetMissing {
        /// The target triple.
        target: String,
    },
    /// Crates with C code need a C cross compiler, and zig / cargo-zigbuild are missing.
    #[error("{crates} compile C code for {target}, which needs zig and cargo-zigbuild; {missing} not found")]
    ZigMissing {
        /// The crates that compile C, comma-separated.
        crates: String,
        /// The target triple.
        target: String,
        /// What is missing: `zig`, `cargo-zigbuild`, or both.
        missing: String,
    },
    /// A program could not be started.
    #[error("could not run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// cargo reported a failure.
    #[error("cargo failed to build `{bin}` for {target} ({status})\n{tail}")]
    CargoFailed {
        /// The binary.
        bin: String,
        /// The target triple.
        target: String,
        /// The exit status.
        status: String,
        /// The last lines cargo printed.
        tail: String,
        /// Whether the failure looks like a missing C cross compiler.
        c_toolchain: bool,
    },
    /// cargo succeeded but did not name the binary.
    #[error("cargo built `{bin}` but reported no executable for it")]
    NoExecutable {
        /// The binary.
        bin: String,
    },
    /// The workspace's dependency graph could not be read.
    #[error("cannot read the dependency graph of {manifest}: {message}")]
    Metadata {
        /// The manifest.
        manifest: PathBuf,
        /// cargo's message.
        message: String,
    },
}

/// A build error is reported for every service of a failed cargo invocation; `std::io::Error` is not `Clone`, so
/// the copy of a spawn failure keeps its kind and message.
impl Clone for BuildError {
    fn clone(&self) -> Self {
        match self {
            Self::TargetMissing { target } => Self::TargetMissing { target: target.clone() },
            Self::ZigMissing { crates, target, missing } => {
                Self::ZigMissing { crates: crates.clone(), target: target.clone(), missing: missing.clone() }
            }
            Self::Spawn { program, source } => {
                Self::Spawn { program: program.clone(), source: std::io::Error::new(source.kind(), source.to_string()) }
            }
            Self::CargoFailed { bin, target, status, tail, c_toolchain } => Self::CargoFailed {
                bin: bin.clone(),
                target: target.clone(),
                status: status.clone(),
                tail: tail.clone(),
                c_toolchain: *c_toolchain,
            },
            Self::NoExecutable { bin } => Self::NoExecutable { bin: bin.clone() },
            Self::Metadata { manifest, message } => {
                Self::Metadata { manifest: manifest.clone(), message: message.clone() }
            }
        }
    }
}

impl BuildError {
    /// What the user can do next.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::TargetMissing { target } => Some(format!("run: rustup target add {target}")),
            Self::ZigMissing { .. } => Some(
                "install both from PyPI: `pip install ziglang cargo-zigbuild` (or `cargo install cargo-zigbuild` and zig from your package manager)"
                    .to_owned(),
            ),
            Self::Spawn { program, .. } => Some(format!("check that {program} is installed and on PATH")),
            Self::CargoFailed { c_toolchain: true, .. } => Some(
                "this looks like C code that needs a cross compiler: install zig and cargo-zigbuild (`pip install ziglang cargo-zigbuild`)"
                    .to_owned(),
            ),
            Self::CargoFailed { .. } => Some("fix the build error above; `cargo build` shows the same".to_owned()),
            Self::NoExecutable { .. } | Self::Metadata { .. } => None,
        }
    }
}
