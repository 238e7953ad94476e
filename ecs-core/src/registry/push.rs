//! Pushes an [`OciImage`]: every blob the registry lacks (and only those, a few at a time), then the manifest
//! under each tag.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use futures_util::{StreamExt as _, TryStreamExt as _, stream};
use serde::Serialize;

use super::client::{RegistryClient, short_digest};
use super::error::RegistryError;
use crate::image::{Blob, OciImage};
use crate::report::{Reporter, human_size};

/// Blobs checked or uploaded at the same time.
pub const MAX_CONCURRENT_UPLOADS: usize = 4;
/// Attempts of a request that failed for a transient reason (no answer, 429, 5xx), first one included.
const ATTEMPTS: u32 = 3;
/// Wait before the second attempt; doubled before each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PushReport {
    /// The image digest (its manifest's).
    pub digest: String,
    /// Blobs (layers, config) uploaded.
    pub blobs_uploaded: usize,
    /// Bytes of the uploaded blobs.
    pub bytes_uploaded: u64,
    /// Blobs the registry already had.
    pub blobs_skipped: usize,
    /// Tags the manifest is under (empty: pushed by digest only).
    pub tags: Vec<String>,
}

/// Pushes `image` to `repository`: checks every blob and uploads those the registry lacks, at most
/// [`MAX_CONCURRENT_UPLOADS`] at once, then puts the manifest under each of `tags` (by digest when none). A tag that
/// already names this image is left as is. Each blob is one step of `reporter` (`push layer sha256:…`), with bytes.
///
/// # Errors
/// The first failure of the registry (after retries of transient ones); blobs already uploaded stay.
pub async fn push(
    client: &RegistryClient,
    repository: &str,
    image: &OciImage,
    tags: &[String],
    reporter: &dyn Reporter,
) -> Result<PushReport, RegistryError> {
    let mut seen = BTreeSet::new();
    let blobs: Vec<(&str, &Blob)> = image
        .layers
        .iter()
        .map(|blob| ("layer", blob))
        .chain([("config", &image.config)])
        .filter(|(_, blob)| seen.insert(blob.digest.as_str()))
        .collect();
    let uploaded: Vec<Option<u64>> = stream::iter(blobs)
        .map(|(kind, blob)| push_blob(client, repository, kind, blob, reporter))
        .buffer_unordered(MAX_CONCURRENT_UPLOADS)
        .try_collect()
        .await?;
    let tags = put_manifest(client, repository, &image.manifest, tags, reporter).await?;
    Ok(PushReport {
        digest: image.digest().to_owned(),
        blobs_uploaded: uploaded.iter().flatten().count(),
        bytes_uploaded: uploaded.iter().flatten().sum(),
        blobs_skipped: uploaded.iter().filter(|u| u.is_none()).count(),
        tags,
    })
}

/// Uploads `blob` unless the registry has it; the bytes uploaded, `None` when skipped.
async fn push_blob(
    client: &RegistryClient,
    repository: &str,
    kind: &str,
    blob: &Blob,
    reporter: &dyn Reporter,
) -> Result<Option<u64>, RegistryError> {
    let step = format!("push {kind} {}", short_digest(&blob.digest));
    reporter.begin(&step);
    if retrying(&step, reporter, || client.blob_exists(repository, &blob.digest)).await? {
        reporter.end(&step, &format!("{} already in the registry", human_size(blob.size())));
        return Ok(None);
    }
    reporter.bytes(&step, 0, Some(blob.size()));
    retrying(&step, reporter, || client.upload_blob(repository, blob)).await?;
    reporter.bytes(&step, blob.size(), Some(blob.size()));
    reporter.end(&step, &format!("{} uploaded", human_size(blob.size())));
    Ok(Some(blob.size()))
}

/// Puts the manifest under each tag that does not already name it (by digest when there are no tags).
async fn put_manifest(
    client: &RegistryClient,
    repository: &str,
    manifest: &Blob,
    tags: &[String],
    reporter: &dyn Reporter,
) -> Result<Vec<String>, RegistryError> {
    let step = format!("push manifest {}", short_digest(&manifest.digest));
    reporter.begin(&step);
    let references = if tags.is_empty() { vec![manifest.digest.clone()] } else { tags.to_vec() };
    let mut put = Vec::new();
    for reference in &references {
        let existing = retrying(&step, reporter, || client.manifest_digest(repository, reference)).await?;
        if existing.as_deref() != Some(manifest.digest.as_str()) {
            retrying(&step, reporter, || client.put_manifest(repository, reference, manifest)).await?;
            put.push(reference.as_str());
        }
    }
    let result = match (tags.is_empty(), put.is_empty()) {
        (true, _) => "pushed by digest".to_owned(),
        (false, true) => format!("already tagged {}", tags.join(", ")),
        (false, false) => format!("tagged {}", put.join(", ")),
    };
    reporter.end(&step, &result);
    Ok(tags.to_vec())
}

/// Runs `attempt` until it succeeds, fails for good, or [`ATTEMPTS`] are spent, warning before each retry.
async fn retrying<T, F, Fut>(step: &str, reporter: &dyn Reporter, mut attempt: F) -> Result<T, RegistryError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RegistryError>>,
{
    let mut backoff = FIRST_BACKOFF;
    for _ in 1..ATTEMPTS {
        match attempt().await {
            Err(error) if error.is_transient() => {
                reporter.warn(&format!("{step}: {error}; trying again in {} ms", backoff.as_millis()));
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            done => return done,
        }
    }
    attempt().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn transient_errors_are_retried_and_warned() {
        let recorder = crate::report::Recorder::default();
        let mut calls = 0;
        let result = retrying("step", &recorder, || {
            calls += 1;
            let n = calls;
            async move {
                if n < ATTEMPTS {
                    Err(RegistryError::Unreachable { registry: "r".into(), call: "c".into(), message: "reset".into() })
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(result.ok(), Some(ATTEMPTS));
        assert_eq!(recorder.events().len(), (ATTEMPTS - 1) as usize, "one warning per retry");
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let recorder = crate::report::Recorder::default();
        let mut calls = 0;
        let result: Result<(), _> = retrying("step", &recorder, || {
            calls += 1;
            async { Err(RegistryError::Token { reason: "bad".into() }) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls, 1);
        assert!(recorder.events().is_empty());
    }
}
