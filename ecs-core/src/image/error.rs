//! What can go wrong while building an image, with the file or host involved and, through [`ImageError::help`],
//! what to do next.

use std::io;
use std::path::PathBuf;

use super::Platform;

/// An error of either image builder.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The compiled binary cannot be read.
    #[error("cannot read the binary {}: {source}", path.display())]
    Binary {
        /// The binary.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The oci builder was given a base image other than `scratch`.
    #[error("the oci builder builds on `scratch` only, not on base image `{base}`")]
    UnsupportedBase {
        /// The base image asked for.
        base: String,
    },
    /// The oci builder was given a Dockerfile.
    #[error("the oci builder does not read Dockerfiles, but image.dockerfile is {}", path.display())]
    DockerfileNeedsDocker {
        /// The Dockerfile.
        path: PathBuf,
    },
    /// `SOURCE_DATE_EPOCH` is set but is not a number of seconds.
    #[error("SOURCE_DATE_EPOCH is {value:?}, not a number of seconds since 1970-01-01")]
    SourceDateEpoch {
        /// Its value.
        value: String,
    },
    /// Writing a layer or the build context failed.
    #[error("cannot write the {what}: {source}")]
    Write {
        /// What was being written, e.g. `binary layer`.
        what: String,
        /// Why.
        source: io::Error,
    },
    /// A file of the build context cannot be read.
    #[error("cannot read {} for the build context: {source}", path.display())]
    Context {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A template cannot be rendered.
    #[error("cannot render the template {name}: {message}")]
    Template {
        /// The template, e.g. `templates/Dockerfile`.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The Docker Engine does not answer.
    #[error(
        "the Docker Engine at {host} does not answer ({}): {source}",
        match docker_host { Some(value) => format!("DOCKER_HOST={value}"), None => "DOCKER_HOST is not set".to_owned() }
    )]
    DockerUnavailable {
        /// The address tried.
        host: String,
        /// The value of `DOCKER_HOST`, when set.
        docker_host: Option<String>,
        /// Whether a user Dockerfile is configured (so the oci builder is not a drop-in alternative).
        dockerfile: bool,
        /// Why.
        source: bollard::errors::Error,
    },
    /// A Docker Engine API call failed.
    #[error("the Docker Engine at {host} failed to {action}: {source}")]
    Docker {
        /// The engine's address.
        host: String,
        /// What was asked, e.g. `export image sha256:…`.
        action: String,
        /// Why.
        source: bollard::errors::Error,
    },
    /// The Docker build reported an error.
    #[error("docker build failed{}: {message}", step.as_ref().map(|s| format!(" at `{s}`")).unwrap_or_default())]
    BuildFailed {
        /// The engine's message.
        message: String,
        /// The last step line before the error (`Step 3/7 : COPY …`).
        step: Option<String>,
        /// The user's Dockerfile, when one was used.
        dockerfile: Option<PathBuf>,
    },
    /// The image the engine exported cannot be read as a docker-archive.
    #[error("the image exported by the Docker Engine is not a valid docker-archive: {message}")]
    Archive {
        /// What is wrong.
        message: String,
    },
    /// The built image is for another platform than asked.
    #[error(
        "the image is for {}/{}, but {}/{} was asked for",
        found.os, found.architecture, expected.os, expected.architecture
    )]
    PlatformMismatch {
        /// The platform asked for.
        expected: Platform,
        /// The platform the image config states.
        found: Platform,
    },
}

impl ImageError {
    /// What the user can do about it.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        let help = match self {
            Self::Binary { .. } => "build the binary first (`cargo ecs build` compiles it), then run again".to_owned(),
            Self::UnsupportedBase { .. } => {
                "use base = \"scratch\" with the oci builder, or set image.builder = \"docker\" \
                 (or --set image.builder=docker) to build on another base image"
                    .to_owned()
            }
            Self::DockerfileNeedsDocker { .. } => {
                "set image.builder = \"docker\" (or --set image.builder=docker), or remove image.dockerfile".to_owned()
            }
            Self::SourceDateEpoch { .. } => {
                "set SOURCE_DATE_EPOCH to whole seconds since 1970 (e.g. `git log -1 --format=%ct`), or unset it"
                    .to_owned()
            }
            Self::Write { .. } | Self::Context { .. } => {
                "check that the files exist and are readable, and that there is free memory and disk space".to_owned()
            }
            Self::Template { .. } => "fix the template: placeholders are {{base}}, {{port}} and {{bin}}".to_owned(),
            Self::DockerUnavailable { dockerfile, .. } => {
                let oci = if *dockerfile {
                    "or build without Docker: remove image.dockerfile and set image.builder = \"oci\" \
                     (or --set image.builder=oci)"
                } else {
                    "or build without Docker: set image.builder = \"oci\" (or --set image.builder=oci)"
                };
                format!("start the Docker Engine, or point DOCKER_HOST at a running one; {oci}")
            }
            Self::Docker { .. } => {
                "check the Docker Engine's log; `docker version` shows whether it is healthy".to_owned()
            }
            Self::BuildFailed { message, .. } if message.contains("does not match the specified platform") => {
                "the Docker Engine's classic builder gives an instruction that directly follows `FROM scratch` the \
                 engine's own platform unless it is a COPY or ADD: put a COPY right after `FROM scratch`, before \
                 ARG, ENV, USER, LABEL or EXPOSE"
                    .to_owned()
            }
            Self::BuildFailed { dockerfile: Some(path), .. } => {
                format!("fix {} at the step shown; the lines above are Docker's output", path.display())
            }
            Self::BuildFailed { dockerfile: None, .. } => {
                "the built-in Dockerfile failed: a base image other than scratch must be available to the engine \
                 (no registry pull may be possible), or set image.builder = \"oci\""
                    .to_owned()
            }
            Self::Archive { .. } => {
                "the Docker Engine may be too old or too new; try image.builder = \"oci\"".to_owned()
            }
            Self::PlatformMismatch { expected, .. } => format!(
                "build on a base image made for {}/{}, or the task fails with `exec format error`; on `FROM scratch`, \
                 start with a COPY or ADD: the engine's classic builder gives a leading ARG, ENV, LABEL, USER or \
                 EXPOSE its own platform",
                expected.os, expected.architecture
            ),
        };
        Some(help)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_engine_names_docker_host_and_suggests_the_oci_builder() {
        let error = ImageError::DockerUnavailable {
            host: "unix:///nowhere/docker.sock".to_owned(),
            docker_host: Some("unix:///nowhere/docker.sock".to_owned()),
            dockerfile: false,
            source: bollard::errors::Error::SocketNotFoundError("/nowhere/docker.sock".to_owned()),
        };
        let message = error.to_string();
        assert!(message.contains("DOCKER_HOST=unix:///nowhere/docker.sock"), "{message}");
        let help = error.help().expect("help");
        assert!(help.contains("image.builder = \"oci\"") && help.contains("--set image.builder=oci"), "{help}");
    }

    #[test]
    fn a_platform_mismatch_names_both_platforms() {
        let platform = |a: &str| Platform { os: "linux".to_owned(), architecture: a.to_owned() };
        let error = ImageError::PlatformMismatch { expected: platform("arm64"), found: platform("amd64") };
        assert_eq!(error.to_string(), "the image is for linux/amd64, but linux/arm64 was asked for");
        assert!(error.help().expect("help").contains("linux/arm64"));
    }
}
