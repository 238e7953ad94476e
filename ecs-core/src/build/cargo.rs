//! Runs cargo (or cargo-zigbuild) for one target and one or more binaries of a workspace, streaming its output to
//! the reporter and taking the binaries' paths from cargo's JSON messages. Several services of a workspace build in
//! one invocation: cargo compiles their shared dependencies once and uses both cores for all of them.

use std::path::PathBuf;
use std::process::Stdio;

use cargo_metadata::Message;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::error::BuildError;
use super::toolchain::Linker;
use crate::report::Reporter;

/// One binary to build: a bin target of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The package's Cargo.toml (also tells apart bins of the same name in two packages).
    pub manifest_path: PathBuf,
    /// The package.
    pub package: String,
    /// The binary target.
    pub bin: String,
    /// Features of the package to enable.
    pub features: Vec<String>,
}

/// One cargo invocation building one or more binaries of a workspace for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoBuild {
    /// What to build (at least one unit; all of one workspace).
    pub units: Vec<Unit>,
    /// The target triple.
    pub target: String,
    /// Cargo profile.
    pub profile: String,
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
        let manifest = self.units.first().map(|u| u.manifest_path.display().to_string()).unwrap_or_default();
        args.extend(["--manifest-path".to_owned(), manifest]);
        for unit in &self.units {
            args.extend(["--package".to_owned(), unit.package.clone(), "--bin".to_owned(), unit.bin.clone()]);
        }
        args.extend(
            ["--target", &self.target, "--profile", &self.profile, "--message-format=json-render-diagnostics"]
                .map(str::to_owned),
        );
        if self.units.len() > 1 {
            args.push("--keep-going".to_owned());
        }
        args.extend(self.feature_args());
        if self.strip {
            args.extend(["--config".to_owned(), format!("profile.{}.strip=\"symbols\"", self.profile)]);
        }
        (program, args)
    }

    /// `--features` and `--no-default-features` as cargo takes them for these units (with several packages,
    /// `package/feature`): the same for `cargo build` and for the `cargo metadata` that reads the graph it builds.
    #[must_use]
    pub fn feature_args(&self) -> Vec<String> {
        let single = self.units.len() == 1;
        let mut features: Vec<String> = self
            .units
            .iter()
            .flat_map(|unit| {
                unit.features.iter().map(move |f| if single { f.clone() } else { format!("{}/{f}", unit.package) })
            })
            .collect();
        features.dedup();
        let mut args = Vec::new();
        if !features.is_empty() {
            args.extend(["--features".to_owned(), features.join(",")]);
        }
        if self.no_default_features {
            args.push("--no-default-features".to_owned());
        }
        args
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

    /// Runs the build; returns, in the order of `units`, each unit's binary or why it has none. With several
    /// units cargo runs with `--keep-going`: one service that does not compile does not stop the others.
    ///
    /// # Errors
    /// cargo cannot start.
    pub async fn run(
        &self,
        step: &str,
        reporter: &dyn Reporter,
    ) -> Result<Vec<Result<PathBuf, BuildError>>, BuildError> {
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
        let units = &self.units;
        let read_messages = async move {
            let mut executables: Vec<Option<PathBuf>> = vec![None; units.len()];
            let Some(mut lines) = stdout.map(AsyncBufReadExt::lines) else { return executables };
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(Message::CompilerArtifact(artifact)) = serde_json::from_str::<Message>(&line)
                    && let Some(path) = artifact.executable
                    && let Some(i) = units.iter().position(|u| {
                        u.bin == artifact.target.name
                            && same_file(&u.manifest_path, artifact.manifest_path.as_std_path())
                    })
                {
                    executables[i] = Some(path.into_std_path_buf());
                }
            }
            executables
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
        let (executables, tail) = tokio::join!(read_messages, read_output);
        let status = child.wait().await.map_err(|source| BuildError::Spawn { program, source })?;
        let failure = (!status.success()).then(|| (status.to_string(), tail.join("\n")));
        Ok(self
            .units
            .iter()
            .zip(executables)
            .map(|(unit, path)| match (path, &failure) {
                (Some(path), _) => Ok(path),
                (None, Some((status, text))) => Err(BuildError::CargoFailed {
                    bin: unit.bin.clone(),
                    target: self.target.clone(),
                    status: status.clone(),
                    tail: text.clone(),
                    c_toolchain: looks_like_missing_c_toolchain(text),
                }),
                (None, None) => Err(BuildError::NoExecutable { bin: unit.bin.clone() }),
            })
            .collect())
    }

    /// The binaries, for messages: `a, b`.
    #[must_use]
    pub fn bins(&self) -> String {
        self.units.iter().map(|u| u.bin.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Whether two paths name the same file (cargo reports canonical manifest paths).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b || std::fs::canonicalize(a).ok().is_some_and(|a| std::fs::canonicalize(b).is_ok_and(|b| a == b))
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
            units: vec![unit("app", "server", &["a", "b"])],
            target: "aarch64-unknown-linux-musl".to_owned(),
            profile: "release".to_owned(),
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

    fn unit(package: &str, bin: &str, features: &[&str]) -> Unit {
        Unit {
            manifest_path: PathBuf::from(format!("/w/{package}/Cargo.toml")),
            package: package.to_owned(),
            bin: bin.to_owned(),
            features: features.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    #[test]
    fn several_services_build_in_one_invocation_with_package_qualified_features() {
        let mut many = build(Linker::RustLld);
        many.units.push(unit("web", "web", &["tls"]));
        let joined = many.command_line().1.join(" ");
        assert!(joined.contains("--package app --bin server --package web --bin web"), "{joined}");
        assert!(joined.contains("--features app/a,app/b,web/tls"), "{joined}");
        assert!(joined.contains("--keep-going"), "{joined}");
        assert_eq!(many.bins(), "server, web");
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
