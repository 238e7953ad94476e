//! Container images: the seam both builders (`oci`, `docker`) stand behind, and the image they produce.
//!
//! Every builder ends with the same thing, an [`OciImage`]: content-addressed blobs (layers, config, manifest)
//! that the registry client pushes, skipping blobs the registry already has. One push path serves both builders.

pub mod context;
pub mod docker;
pub mod error;
pub mod files;
pub mod layer;
pub mod oci;

use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

pub use error::ImageError;

use crate::config::ImageBuilder;
use crate::report::Reporter;

/// Media type of an OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of a gzip-compressed layer.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A content-addressed blob: its bytes, their `sha256:` digest, size and media type.
#[derive(Clone, PartialEq, Eq)]
pub struct Blob {
    /// Media type, e.g. [`LAYER_MEDIA_TYPE`].
    pub media_type: String,
    /// `sha256:<64 hex>` of `data`.
    pub digest: String,
    /// The bytes.
    pub data: Vec<u8>,
}

impl Blob {
    /// A blob of `data`, its digest computed.
    #[must_use]
    pub fn new(media_type: &str, data: Vec<u8>) -> Self {
        Self { media_type: media_type.to_owned(), digest: sha256_digest(&data), data }
    }

    /// Size in bytes.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }

    /// The OCI descriptor of this blob.
    #[must_use]
    pub fn descriptor(&self) -> serde_json::Value {
        serde_json::json!({ "mediaType": self.media_type, "digest": self.digest, "size": self.size() })
    }
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blob")
            .field("media_type", &self.media_type)
            .field("digest", &self.digest)
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

/// `sha256:` followed by the lower-case hex SHA-256 of `data`.
#[must_use]
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// OS and architecture of an image, as the OCI config states them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Platform {
    /// Always `linux` here.
    pub os: String,
    /// `arm64` or `amd64`.
    pub architecture: String,
}

/// An image ready to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciImage {
    /// Layers, base first, each a gzip-compressed tar.
    pub layers: Vec<Blob>,
    /// The image config (JSON).
    pub config: Blob,
    /// The manifest (JSON) naming the config and the layers; its digest is the image's digest.
    pub manifest: Blob,
    /// What the config says the image runs on.
    pub platform: Platform,
}

impl OciImage {
    /// The image digest (the manifest's), which task definitions reference as `repo@sha256:…`.
    #[must_use]
    pub fn digest(&self) -> &str {
        &self.manifest.digest
    }

    /// Layers and config: every blob the manifest refers to.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        self.layers.iter().chain(std::iter::once(&self.config))
    }

    /// Total size of the compressed layers.
    #[must_use]
    pub fn layers_size(&self) -> u64 {
        self.layers.iter().map(Blob::size).sum()
    }
}

/// What a builder needs to make the image of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInput {
    /// The compiled binary.
    pub binary: PathBuf,
    /// Its name in the image: `/usr/local/bin/<bin_name>`.
    pub bin_name: String,
    /// The port to expose.
    pub port: u16,
    /// The platform to build for.
    pub platform: Platform,
    /// Base image (`scratch` for the oci builder).
    pub base: String,
    /// The user's Dockerfile (docker builder only), and the directory that is its build context.
    pub dockerfile: Option<PathBuf>,
    /// The package's directory (build context of a user Dockerfile).
    pub context_dir: PathBuf,
}

/// Builds the image of `input` with `builder`: [`oci::build`] (daemonless) or [`docker::build`] (Docker Engine).
///
/// # Errors
/// What the builder reports; [`ImageError::help`] says what to do.
pub async fn build(input: &ImageInput, builder: ImageBuilder, reporter: &dyn Reporter) -> Result<OciImage, ImageError> {
    match builder {
        ImageBuilder::Oci => oci::build(input, reporter).await,
        ImageBuilder::Docker => docker::build(input, reporter).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_of_the_bytes() {
        let blob = Blob::new(LAYER_MEDIA_TYPE, b"hello".to_vec());
        assert_eq!(blob.digest, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(blob.descriptor()["size"], 5);
        assert!(!format!("{blob:?}").contains("104"), "Debug must not dump the bytes");
    }
}
