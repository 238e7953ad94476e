//! Runs cargo (or cargo-zigbuild) for one binary and one target, streaming its output to the reporter and
//! taking the binary's path from cargo's JSON messages.

use std::path::PathBuf;
use std::process::Stdio;

use cargo_metadata::Message;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::error::BuildError;
use super::toolchain::Linker;
use crate::report::Reporter;

/// One cargo build of one binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoBuild {
    /// The package's Cargo.toml.
    pub manifest_path: PathBuf,
    /// The package.
    pub package: String,
    /// The binary target.
    pub bin: String,
    /// The target triple.
    pub target: String,
    /// Cargo profile.
    pub profile: String,
    /// Features to enable.
    pub features: Vec<String>,
    /// Disable default features.
    pub no_default_features: bool,
    /// Strip symbols from the binary.
    pub strip: bool,
    /// How to link.
    pub linker: Linker,
}

impl CargoBuild {
    /// The program to run and its arguments.
    #[must_use]
    pub fn command_line(&self) -> (String, Vec<String>) {
        let (program, mut args) = match &self.linker {
            Linker::RustLld => {
                (std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()), vec!["build".to_owned()])
            }
            Linker::Zig { cargo_zigbuild } => (cargo_zigbuild.display().to_string(), vec!["zigbuild".to_owned()]),
        };
        args.extend(
            [
                "--manifest-path",
                &self.manifest_path.display().to_string(),
                "--package",
                &self.package,
                "--bin",
                &self.bin,
                "--target",
                &self.target,
                "--profile",
                &self.profile,
                "--message-format=json-render-diagnostics",
            ]
            .map(str::to_owned),
        );
        if !self.features.is_empty() {
            args.extend(["--features".to_owned(), self.features.join(",")]);
        }
        if self.no_default_features {
            args.push("--no-default-features".to_owned());
        }
        if self.strip {
            args.extend(["--config".to_owned(), format!("profile.{}.strip=\"symbols\"", self.profile)]);
        }
        (program, args)
    }

    /// Environment for the build: rust-lld as the target's linker, unless the user chose one.
    #[must_use]
    pub fn environment(&self) -> Vec<(String, String)> {
        let variable = format!("CARGO_TARGET_{}_LINKER", self.target.to_ascii_uppercase().replace('-', "_"));
        match self.linker {
            Linker::RustLld if std::env::var_os(&variable).is_none() => vec![(variable, "rust-lld".to_owned())],
            _ => Vec::new(),
        }
    }

    /// Runs the build; returns the path of the binary.
    ///
    /// # Errors
    /// cargo cannot start, fails, or names no executable.
    pub async fn run(&self, step: &str, reporter: &dyn Reporter) -> Result<PathBuf, BuildError> {
        let (program, args) = self.command_line();
        let mut child = Command::new(&program)
            .args(&args)
            .envs(self.environment())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| BuildError::Spawn { program: program.clone(), source })?;
        let stdout = child.stdout.take().map(BufReader::new);
        let stderr = child.stderr.take().map(BufReader::new);
        let bin = self.bin.clone();
        let read_messages = async move {
            let mut executable = None;
            let Some(mut lines) = stdout.map(AsyncBufReadExt::lines) else { return executable };
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(Message::CompilerArtifact(artifact)) = serde_json::from_str::<Message>(&line)
                    && artifact.target.name == bin
                    && let Some(path) = artifact.executable
                {
                    executable = Some(path.into_std_path_buf());
                }
            }
            executable
        };
        let read_output = async {
            let mut tail: Vec<String> = Vec::new();
            let Some(mut lines) = stderr.map(AsyncBufReadExt::lines) else { return tail };
            while let Ok(Some(line)) = lines.next_line().await {
                reporter.output(step, &line);
                tail.push(line);
                if tail.len() > 40 {
                    tail.remove(0);
                }
            }
            tail
        };
        let (executable, tail) = tokio::join!(read_messages, read_output);
        let status = child.wait().await.map_err(|source| BuildError::Spawn { program, source })?;
        if !status.success() {
            let text = tail.join("\n");
            let c_toolchain = looks_like_missing_c_toolchain(&text);
            return Err(BuildError::CargoFailed {
                bin: self.bin.clone(),
                target: self.target.clone(),
                status: status.to_string(),
                tail: text,
                c_toolchain,
            });
        }
        executable.ok_or_else(|| BuildError::NoExecutable { bin: self.bin.clone() })
    }
}

/// Whether cargo's output says a C compiler or C headers for the target were missing.
fn looks_like_missing_c_toolchain(output: &str) -> bool {
    ["failed to find tool", "aarch64-linux-musl-gcc", "x86_64-linux-musl-gcc", "cc-rs", "stdio.h", "assert.h"]
        .iter()
        .any(|needle| output.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(linker: Linker) -> CargoBuild {
        CargoBuild {
            manifest_path: PathBuf::from("/w/app/Cargo.toml"),
            package: "app".to_owned(),
            bin: "server".to_owned(),
            target: "aarch64-unknown-linux-musl".to_owned(),
            profile: "release".to_owned(),
            features: vec!["a".to_owned(), "b".to_owned()],
            no_default_features: true,
            strip: true,
            linker,
        }
    }

    #[test]
    fn a_pure_rust_build_uses_cargo_with_rust_lld() {
        let (program, args) = build(Linker::RustLld).command_line();
        assert!(program.ends_with("cargo"), "{program}");
        assert_eq!(&args[..3], ["build", "--manifest-path", "/w/app/Cargo.toml"]);
        let joined = args.join(" ");
        for part in [
            "--bin server",
            "--target aarch64-unknown-linux-musl",
            "--profile release",
            "--features a,b",
            "--no-default-features",
        ] {
            assert!(joined.contains(part), "{joined}");
        }
        assert!(joined.ends_with("--config profile.release.strip=\"symbols\""), "{joined}");
        if std::env::var_os("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER").is_none() {
            assert_eq!(
                build(Linker::RustLld).environment(),
                vec![("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER".to_owned(), "rust-lld".to_owned())]
            );
        }
    }

    #[test]
    fn a_build_with_c_code_uses_cargo_zigbuild() {
        let zig = build(Linker::Zig { cargo_zigbuild: PathBuf::from("/venv/bin/cargo-zigbuild") });
        let (program, args) = zig.command_line();
        assert_eq!(program, "/venv/bin/cargo-zigbuild");
        assert_eq!(args[0], "zigbuild");
        assert!(zig.environment().is_empty());
    }

    #[test]
    fn c_toolchain_failures_are_recognised() {
        assert!(looks_like_missing_c_toolchain(
            "error occurred: Failed to find tool. Is `aarch64-linux-musl-gcc` installed?"
        ));
        assert!(!looks_like_missing_c_toolchain("error[E0425]: cannot find value `x` in this scope"));
    }
}
