//! Which tag an image is pushed under. Repositories cargo-ecs creates have immutable tags, so a tag that already
//! names another image is never reused.

use super::client::RegistryClient;
use super::error::RegistryError;
use super::git::GitState;

/// The preferred tag of an image: the git commit (12 hex) plus `-dirty` when the tree has changes; outside a git
/// repository, `sha-` and the first 12 hex digits of the image digest.
#[must_use]
pub fn image_tag(git: Option<GitState>, digest: &str) -> String {
    match git {
        Some(state) if state.dirty => format!("{}-dirty", state.short_commit()),
        Some(state) => state.short_commit().to_owned(),
        None => format!("sha-{}", digest_hex(digest, 12)),
    }
}

/// The tag to push `digest` under, given the image the preferred `tag` names now (`existing`, `None` when it is
/// free): the tag itself when free or already naming this image, else `<tag>-<first 8 hex of digest>`.
#[must_use]
pub fn free_tag(tag: &str, digest: &str, existing: Option<&str>) -> String {
    match existing {
        Some(other) if other != digest => format!("{tag}-{}", digest_hex(digest, 8)),
        _ => tag.to_owned(),
    }
}

/// [`image_tag`], made free in the repository with [`free_tag`] by asking the registry what the tag names.
///
/// # Errors
/// When the registry fails or refuses.
pub async fn resolve_tag(
    client: &RegistryClient,
    repository: &str,
    git: Option<GitState>,
    digest: &str,
) -> Result<String, RegistryError> {
    let preferred = image_tag(git, digest);
    let existing = client.manifest_digest(repository, &preferred).await?;
    let tag = free_tag(&preferred, digest, existing.as_deref());
    if tag == preferred {
        return Ok(tag);
    }
    // The suffixed tag too may be taken (8 hex digits shared): then the whole digest tells the images apart.
    match client.manifest_digest(repository, &tag).await? {
        Some(other) if other != digest => Ok(format!("{preferred}-{}", digest_hex(digest, 64))),
        _ => Ok(tag),
    }
}

/// The first `n` hex digits of a `sha256:…` digest.
fn digest_hex(digest: &str, n: usize) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, hex)| hex);
    hex.get(..n).unwrap_or(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    const OTHER: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    fn git(dirty: bool) -> Option<GitState> {
        Some(GitState { commit: COMMIT.to_owned(), dirty })
    }

    #[test]
    fn tags_come_from_git_or_the_digest() {
        assert_eq!(image_tag(git(false), DIGEST), "0123456789ab");
        assert_eq!(image_tag(git(true), DIGEST), "0123456789ab-dirty");
        assert_eq!(image_tag(None, DIGEST), "sha-2cf24dba5fb0");
    }

    #[test]
    fn a_tag_naming_another_image_gets_the_digest() {
        assert_eq!(free_tag("0123456789ab", DIGEST, None), "0123456789ab");
        assert_eq!(free_tag("0123456789ab", DIGEST, Some(DIGEST)), "0123456789ab");
        assert_eq!(free_tag("0123456789ab", DIGEST, Some(OTHER)), "0123456789ab-2cf24dba");
        assert_eq!(free_tag("0123456789ab-dirty", DIGEST, Some(OTHER)), "0123456789ab-dirty-2cf24dba");
    }

    #[test]
    fn tags_are_valid_oci_tags() {
        let valid = |t: &str| {
            t.len() <= 128
                && t.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                && t.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        };
        for tag in [image_tag(git(true), DIGEST), image_tag(None, DIGEST), free_tag("x-dirty", DIGEST, Some(OTHER))] {
            assert!(valid(&tag), "{tag}");
        }
    }
}
