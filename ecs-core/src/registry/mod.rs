//! ECR: the repository, the authorization token, and a registry client that pushes only missing blobs.
//!
//! The flow of a push: [`find_repository`] and [`authorization`] (the caller passes CARGO_ECS_REGISTRY_ENDPOINT),
//! which only read, then [`prepare_repository`] (creates it when missing; [`ensure_repository`] is both steps),
//! [`RegistryClient::new`], [`resolve_tag`], [`push`]. Tokens and passwords live only in [`Secret`].

pub mod client;
pub mod ecr;
pub mod error;
pub mod git;
pub mod push;
pub mod secret;
pub mod tag;

/// The ECR SDK, so callers build the [`aws_sdk_ecr::Client`] these functions take from the same version.
pub use aws_sdk_ecr;
pub use client::RegistryClient;
pub use ecr::{
    FoundRepository, RegistryAuth, RepositoryInfo, authorization, digest_reference, ensure_repository, find_repository,
    prepare_repository,
};
pub use error::{OciError, RegistryError};
pub use git::{GitState, git_state};
pub use push::{PushReport, push};
pub use secret::Secret;
pub use tag::{image_tag, resolve_tag};
