//! The library's error type. Every variant says what went wrong and, through [`Error::help`], what to do next.

use crate::aws::AwsError;
use crate::build::BuildError;
use crate::config::SettingError;
use crate::image::{ImageError, Platform};
use crate::init::InitError;
use crate::registry::RegistryError;
use crate::stack::PlanError;
use crate::stack::apply::ApplyError;

/// An error of any cargo-ecs operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more settings are invalid; nothing was done.
    #[error("{} invalid setting{}", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Settings(Vec<SettingError>),
    /// The Cargo workspace could not be read, or the package selection does not match it.
    #[error("{message}")]
    Workspace {
        /// What is wrong.
        message: String,
        /// What to do.
        help: Option<String>,
    },
    /// Compiling the service failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Building the image failed.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// ECR or the registry refused or failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The image would not run on the task's platform.
    #[error("the image is built for {}/{} but the task runs on {}/{}", .image.os, .image.architecture, .task.os, .task.architecture)]
    PlatformMismatch {
        /// What the image's config says.
        image: Platform,
        /// What the task definition's runtime platform is.
        task: Platform,
    },
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The plan cannot be made without the user; nothing was changed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A step of the apply failed; what was done is done, the rest was not started.
    #[error("{} failed: {}", .0.step, .0.error)]
    Apply(Box<ApplyError>),
    /// The deployment did not complete: rolled back, failed, or timed out.
    #[error("the deployment of {service} did not complete: {verdict}")]
    Rollout {
        /// The service.
        service: String,
        /// How it ended.
        verdict: String,
    },
    /// Another deploy of the service is applying (its in-progress marker is held).
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    /// A stop was asked for (Ctrl-C): the apply stopped at a safe point.
    #[error("deploy of {service} stopped at a safe point on request: {} step(s) done, {} not started", .done.len(), .remaining.len())]
    Interrupted {
        /// The service.
        service: String,
        /// Steps that finished.
        done: Vec<String>,
        /// Steps not started.
        remaining: Vec<String>,
    },
    /// Some of several services deployed together failed (each is reported in the summary).
    #[error("{} of {total} services failed: {}", .failed.len(), .failed.join(", "))]
    Services {
        /// The services that failed.
        failed: Vec<String>,
        /// How many were deployed.
        total: usize,
    },
    /// `cargo ecs init` refused or could not write the manifest.
    #[error(transparent)]
    Init(#[from] InitError),
    /// `cargo ecs run` could not run the service locally.
    #[error(transparent)]
    Run(#[from] crate::run::RunError),
}

impl Error {
    /// A workspace error with a hint.
    pub fn workspace(message: impl Into<String>, help: impl Into<String>) -> Self {
        Self::Workspace { message: message.into(), help: Some(help.into()) }
    }

    /// What the user can do about it.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Settings(_) => Some("fix the settings above; nothing was changed in AWS".to_owned()),
            Self::Workspace { help, .. } => help.clone(),
            Self::Build(error) => error.help(),
            Self::Init(error) => error.help(),
            Self::Aws(error) => error.help(),
            Self::Plan(error) => Some(format!("{}; nothing was changed", error.help())),
            Self::Apply(failed) => {
                let mut help = failed.error.help().map(|h| format!("{h}\n")).unwrap_or_default();
                help.push_str(&format!(
                    "done before it: {}; not started: {}. Run the deploy again: it starts from what exists",
                    if failed.applied.done.is_empty() { "nothing".to_owned() } else { failed.applied.done.join(", ") },
                    if failed.remaining.is_empty() { "nothing".to_owned() } else { failed.remaining.join(", ") },
                ));
                Some(help)
            }
            Self::Image(error) => error.help(),
            Self::Registry(error) => error.help(),
            Self::Rollout { .. } => Some(
                "the stopped tasks' reasons and last log lines are above; fix the cause and deploy again (the circuit breaker keeps the previous revision serving)".to_owned(),
            ),
            Self::PlatformMismatch { .. } => Some(
                "set `architecture` to the image's, or rebuild the image for the task's platform (a user Dockerfile must not pin another --platform)".to_owned(),
            ),
            Self::Run(error) => error.help(),
            Self::Lock(error) => error.help(),
            Self::Interrupted { done, remaining, .. } => Some(format!(
                "done: {}; not started: {}. Run the deploy again to finish: it starts from what exists",
                if done.is_empty() { "nothing".to_owned() } else { done.join(", ") },
                remaining.join(", ")
            )),
            Self::Services { .. } => Some(
                "the table above says why each failed; the others are deployed. Fix them and deploy again: services with nothing to change are skipped".to_owned(),
            ),
        }
    }

    /// Whether the error is the user's input (settings, flags, workspace) rather than a failure while working.
    #[must_use]
    pub fn is_input_error(&self) -> bool {
        match self {
            Self::Settings(_) | Self::Workspace { .. } | Self::Plan(_) => true,
            Self::Init(error) => error.is_input_error(),
            Self::Run(error) => error.is_input_error(),
            _ => false,
        }
    }
}

/// Result with the library's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
