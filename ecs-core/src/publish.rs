//! Build and push one service's image: compile, make the image, check its platform against the task's,
//! ensure the ECR repository, and push only what the registry lacks. `push` and `deploy` both stand on this.

use serde::Serialize;

use crate::aws::Clients;
use crate::build::{Artifact, compile};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::image::{ImageInput, OciImage, Platform};
use crate::registry::{
    FoundRepository, PushReport, RegistryAuth, RegistryClient, RepositoryInfo, authorization, find_repository,
    git_state, prepare_repository, push, resolve_tag,
};
use crate::report::Reporter;

/// Tag every resource cargo-ecs creates carries, so that it only ever changes or deletes its own.
pub const MANAGED_TAG: &str = "cargo-ecs:managed";

/// A built image and what it was built from.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    /// The compiled binary.
    pub artifact: Artifact,
    /// The image.
    pub image: OciImage,
}

/// Where an image went.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Published {
    /// The package.
    pub package: String,
    /// `repository-uri@sha256:…`: what the task definition references.
    pub image: String,
    /// The image digest.
    pub digest: String,
    /// The binary's size.
    pub binary_size: u64,
    /// The compressed size of all layers.
    pub image_size: u64,
    /// Digest and compressed size of each layer, base first.
    pub layers: Vec<(String, u64)>,
    /// Digest and size of the image config.
    pub config: (String, u64),
    /// What went over the wire.
    pub push: PushReport,
    /// Whether this push created the ECR repository.
    pub repository_created: bool,
}

/// How to reach the registry.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// Push here instead of the host ECR's token names (`CARGO_ECS_REGISTRY_ENDPOINT`, for emulators).
    pub registry_endpoint: Option<String>,
}

/// Compiles the binary and builds the image, then checks that the image runs on the task's platform.
///
/// # Errors
/// Build and image errors, and an image whose platform differs from the task's.
pub async fn build_image(settings: &Settings, reporter: &dyn Reporter) -> Result<BuiltImage> {
    let artifact = compile(settings, reporter).await?;
    image_of(settings, artifact, reporter).await
}

/// Builds the image of a binary already compiled (by [`crate::build::compile_all`] for several services), then
/// checks that the image runs on the task's platform.
///
/// # Errors
/// Image errors, and an image whose platform differs from the task's.
pub async fn image_of(settings: &Settings, artifact: Artifact, reporter: &dyn Reporter) -> Result<BuiltImage> {
    let input = ImageInput {
        binary: artifact.binary.clone(),
        bin_name: settings.bin.clone(),
        port: settings.port,
        platform: task_platform(settings),
        base: settings.image.base.clone(),
        dockerfile: settings.image.dockerfile.clone(),
        context_dir: settings.manifest_path.parent().map(std::path::Path::to_path_buf).unwrap_or_default(),
    };
    let image = crate::image::build(&input, settings.image.builder, reporter).await?;
    check_platform(&image.platform, &input.platform)?;
    Ok(BuiltImage { artifact, image })
}

/// Builds the image and pushes it to the service's ECR repository, creating the repository when missing.
///
/// # Errors
/// Build, image, ECR and registry errors.
pub async fn publish(
    settings: &Settings,
    clients: &Clients,
    options: &PublishOptions,
    reporter: &dyn Reporter,
) -> Result<Published> {
    let built = build_image(settings, reporter).await?;
    push_built(settings, clients, options, &built, reporter).await
}

/// Pushes an image built by [`build_image`] to the service's ECR repository, creating the repository when missing:
/// [`prepare_push`], then [`PushTarget::push`].
///
/// # Errors
/// ECR and registry errors.
pub async fn push_built(
    settings: &Settings,
    clients: &Clients,
    options: &PublishOptions,
    built: &BuiltImage,
    reporter: &dyn Reporter,
) -> Result<Published> {
    prepare_push(settings, clients, options).await?.push(settings, clients, built, reporter).await
}

/// What a push reads before it changes anything: the repository as it is and the registry's login.
#[derive(Debug, Clone)]
pub struct PushTarget {
    found: Option<FoundRepository>,
    auth: RegistryAuth,
}

/// Reads what the push of `settings`' image needs, changing nothing: the repository and, at the same time, the
/// registry's login (asked for once for every service of the command: a token is valid for 12 hours and for
/// every repository of the account).
///
/// # Errors
/// ECR errors, and an unusable token or registry endpoint.
pub async fn prepare_push(settings: &Settings, clients: &Clients, options: &PublishOptions) -> Result<PushTarget> {
    let endpoint = options.registry_endpoint.as_deref();
    let (found, auth) = tokio::try_join!(
        find_repository(&clients.ecr, &settings.repository),
        clients.shared.read(format!("ecr authorization {endpoint:?}"), || authorization(&clients.ecr, endpoint)),
    )?;
    Ok(PushTarget { found, auth })
}

impl PushTarget {
    /// Creates the repository when it was missing (or gives a managed one its lifecycle policy), then pushes the
    /// blobs the registry lacks and the manifest.
    ///
    /// # Errors
    /// ECR and registry errors.
    pub async fn push(
        self,
        settings: &Settings,
        clients: &Clients,
        built: &BuiltImage,
        reporter: &dyn Reporter,
    ) -> Result<Published> {
        let step = format!("ECR repository {}", settings.repository);
        reporter.begin(&step);
        let repository = prepare_repository(&clients.ecr, &settings.repository, &settings.tags, self.found).await?;
        reporter.end(&step, if repository.created { "created" } else { "exists" });
        let pushed = push_image(settings, &self.auth, &repository, &built.image, reporter).await?;
        Ok(Published {
            package: settings.package.clone(),
            image: repository.digest_reference(&pushed.digest),
            digest: pushed.digest.clone(),
            binary_size: built.artifact.size,
            image_size: built.image.layers_size(),
            layers: built.image.layers.iter().map(|l| (l.digest.clone(), l.size())).collect(),
            config: (built.image.config.digest.clone(), built.image.config.size()),
            push: pushed,
            repository_created: repository.created,
        })
    }
}

async fn push_image(
    settings: &Settings,
    auth: &RegistryAuth,
    repository: &RepositoryInfo,
    image: &OciImage,
    reporter: &dyn Reporter,
) -> Result<PushReport> {
    let client = RegistryClient::new(auth)?;
    let dir = settings.manifest_path.parent().unwrap_or_else(|| std::path::Path::new("."));
    let tag = resolve_tag(&client, &repository.name, git_state(dir).await, image.digest()).await?;
    Ok(push(&client, &repository.name, image, &[tag], reporter).await?)
}

/// The platform a task of these settings runs on.
#[must_use]
pub fn task_platform(settings: &Settings) -> Platform {
    Platform { os: "linux".to_owned(), architecture: settings.architecture.oci_name().to_owned() }
}

/// Refuses an image that would not run on the task's platform ("exec format error" on Fargate).
///
/// # Errors
/// [`Error::PlatformMismatch`].
pub fn check_platform(image: &Platform, task: &Platform) -> Result<()> {
    if image == task { Ok(()) } else { Err(Error::PlatformMismatch { image: image.clone(), task: task.clone() }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(architecture: &str) -> Platform {
        Platform { os: "linux".to_owned(), architecture: architecture.to_owned() }
    }

    #[test]
    fn an_image_for_another_architecture_is_refused() {
        assert!(check_platform(&platform("arm64"), &platform("arm64")).is_ok());
        let err = check_platform(&platform("amd64"), &platform("arm64")).expect_err("mismatch");
        assert_eq!(err.to_string(), "the image is built for linux/amd64 but the task runs on linux/arm64");
        assert!(err.help().is_some_and(|h| h.contains("architecture")));
    }
}
