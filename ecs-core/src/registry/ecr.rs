//! ECR's side of a push: the repository (created with safe settings when missing, otherwise used as is), the
//! registry credentials from GetAuthorizationToken, and image references.

use std::collections::BTreeMap;

use aws_sdk_ecr::operation::create_repository::CreateRepositoryError;
use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesError;
use aws_sdk_ecr::operation::get_lifecycle_policy::GetLifecyclePolicyError;
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Repository, Tag};
use base64::Engine as _;
use serde::Serialize;

use super::error::RegistryError;
use super::secret::Secret;

/// Tag key marking what cargo-ecs created; only resources carrying it are ever changed by cargo-ecs.
pub const MANAGED_TAG_KEY: &str = crate::publish::MANAGED_TAG;
/// Value of [`MANAGED_TAG_KEY`].
pub const MANAGED_TAG_VALUE: &str = "true";
/// Images a repository created by cargo-ecs keeps: ECR expires older ones so that a repository every deploy
/// pushes to stops growing, while the last 30 images stay available to roll back to.
pub const LIFECYCLE_KEEP_IMAGES: u32 = 30;

/// An ECR repository ready to push to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RepositoryInfo {
    /// Repository name, also its name in the registry API (`/v2/<name>/…`).
    pub name: String,
    /// `<account>.dkr.ecr.<region>.amazonaws.com/<name>`: what task definitions reference.
    pub uri: String,
    /// The repository ARN.
    pub arn: String,
    /// The account that owns it.
    pub registry_id: String,
    /// Whether this call created it.
    pub created: bool,
    /// Whether it carries cargo-ecs's managed tag.
    pub managed: bool,
    /// Whether this call gave it the lifecycle policy (on creation, or a managed repository that lacked it).
    pub lifecycle_policy_added: bool,
}

impl RepositoryInfo {
    /// `<uri>@sha256:…`, the immutable reference to an image of this repository.
    #[must_use]
    pub fn digest_reference(&self, digest: &str) -> String {
        digest_reference(&self.uri, digest)
    }
}

/// Credentials and address of the registry to push to.
#[derive(Debug, Clone)]
pub struct RegistryAuth {
    /// Base URL (`scheme://host[:port]`, no path): CARGO_ECS_REGISTRY_ENDPOINT, else ECR's proxy endpoint.
    pub endpoint: String,
    /// User name (ECR: `AWS`).
    pub username: String,
    /// Password (ECR: a 12-hour token).
    pub password: Secret,
}

/// A repository as a push finds it, before anything is changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRepository {
    /// The repository (`managed` read from its tags; `created` and `lifecycle_policy_added` false).
    pub info: RepositoryInfo,
    /// Whether it has a lifecycle policy.
    pub has_lifecycle_policy: bool,
}

/// Reads the repository `name` as a push needs it: whether it exists, whether it carries the managed tag and
/// whether it has a lifecycle policy (read at the same time as the tags). Read-only; `None` when it does not exist.
///
/// # Errors
/// When an ECR call fails.
pub async fn find_repository(
    client: &aws_sdk_ecr::Client,
    name: &str,
) -> Result<Option<FoundRepository>, RegistryError> {
    let Some(repository) = describe(client, name).await? else { return Ok(None) };
    let mut info = info("DescribeRepositories", name, &repository)?;
    let (tags, policy) = tokio::join!(
        client.list_tags_for_resource().resource_arn(&info.arn).send(),
        client.get_lifecycle_policy().repository_name(name).send(),
    );
    let tags = tags.map_err(|e| RegistryError::aws("ListTagsForResource", name, &e))?;
    info.managed = tags.tags().iter().any(|t| t.key() == MANAGED_TAG_KEY && t.value() == MANAGED_TAG_VALUE);
    let has_lifecycle_policy = match policy {
        Ok(_) => true,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(GetLifecyclePolicyError::is_lifecycle_policy_not_found_exception) =>
        {
            false
        }
        Err(error) => return Err(RegistryError::aws("GetLifecyclePolicy", name, &error)),
    };
    Ok(Some(FoundRepository { info, has_lifecycle_policy }))
}

/// Makes the repository `name` ready to push to, from what [`find_repository`] found: creates it when missing
/// (scan on push, immutable tags, tagged `cargo-ecs:managed = "true"` plus `tags`, with a lifecycle policy keeping
/// the last [`LIFECYCLE_KEEP_IMAGES`]); an existing one is used as is, except that a managed one without a
/// lifecycle policy gets it.
///
/// # Errors
/// When an ECR call fails.
pub async fn prepare_repository(
    client: &aws_sdk_ecr::Client,
    name: &str,
    tags: &BTreeMap<String, String>,
    found: Option<FoundRepository>,
) -> Result<RepositoryInfo, RegistryError> {
    if let Some(found) = found {
        return adopt(client, name, found).await;
    }
    let created = client
        .create_repository()
        .repository_name(name)
        .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(true).build())
        .image_tag_mutability(ImageTagMutability::Immutable)
        .set_tags(Some(repository_tags(tags)?))
        .send()
        .await;
    match created {
        Ok(output) => {
            let repository = output.repository().ok_or_else(|| missing("CreateRepository", name, "repository"))?;
            put_lifecycle_policy(client, name).await?;
            let info = info("CreateRepository", name, repository)?;
            Ok(RepositoryInfo { created: true, managed: true, lifecycle_policy_added: true, ..info })
        }
        // Another run created it in between: use it like any existing repository.
        Err(error)
            if error.as_service_error().is_some_and(CreateRepositoryError::is_repository_already_exists_exception) =>
        {
            match find_repository(client, name).await? {
                Some(found) => adopt(client, name, found).await,
                None => Err(RegistryError::aws("CreateRepository", name, &error)),
            }
        }
        Err(error) => Err(RegistryError::aws("CreateRepository", name, &error)),
    }
}

/// [`find_repository`], then [`prepare_repository`]: the repository `name`, created when missing.
///
/// # Errors
/// When an ECR call fails.
pub async fn ensure_repository(
    client: &aws_sdk_ecr::Client,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<RepositoryInfo, RegistryError> {
    let found = find_repository(client, name).await?;
    prepare_repository(client, name, tags, found).await
}

/// The repository, or `None` when it does not exist.
async fn describe(client: &aws_sdk_ecr::Client, name: &str) -> Result<Option<Repository>, RegistryError> {
    match client.describe_repositories().repository_names(name).send().await {
        Ok(output) => Ok(output.repositories().iter().find(|r| r.repository_name() == Some(name)).cloned()),
        Err(error)
            if error.as_service_error().is_some_and(DescribeRepositoriesError::is_repository_not_found_exception) =>
        {
            Ok(None)
        }
        Err(error) => Err(RegistryError::aws("DescribeRepositories", name, &error)),
    }
}

/// An existing repository: never modified, except a managed one that lacks the lifecycle policy.
async fn adopt(
    client: &aws_sdk_ecr::Client,
    name: &str,
    found: FoundRepository,
) -> Result<RepositoryInfo, RegistryError> {
    let mut info = found.info;
    if info.managed && !found.has_lifecycle_policy {
        put_lifecycle_policy(client, name).await?;
        info.lifecycle_policy_added = true;
    }
    Ok(info)
}

async fn put_lifecycle_policy(client: &aws_sdk_ecr::Client, name: &str) -> Result<(), RegistryError> {
    client
        .put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(lifecycle_policy())
        .send()
        .await
        .map_err(|e| RegistryError::aws("PutLifecyclePolicy", name, &e))?;
    Ok(())
}

/// The lifecycle policy of repositories cargo-ecs creates: expire all but the newest [`LIFECYCLE_KEEP_IMAGES`].
#[must_use]
pub fn lifecycle_policy() -> String {
    serde_json::json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("cargo-ecs: keep the last {LIFECYCLE_KEEP_IMAGES} images"),
            "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": LIFECYCLE_KEEP_IMAGES },
            "action": { "type": "expire" },
        }]
    })
    .to_string()
}

/// The managed tag plus `tags` (the managed tag wins over a user tag of the same key).
fn repository_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, RegistryError> {
    let mut all = tags.clone();
    all.insert(MANAGED_TAG_KEY.to_owned(), MANAGED_TAG_VALUE.to_owned());
    all.into_iter()
        .map(|(key, value)| {
            Tag::builder().key(key).value(value).build().map_err(|e| RegistryError::Aws {
                call: "CreateRepository",
                repository: String::new(),
                code: None,
                message: format!("invalid tag: {e}"),
                unreachable: false,
            })
        })
        .collect()
}

/// The repository as found (not created, not managed, no policy added: the caller knows better).
fn info(call: &'static str, name: &str, repository: &Repository) -> Result<RepositoryInfo, RegistryError> {
    let arn = repository.repository_arn().ok_or_else(|| missing(call, name, "repositoryArn"))?;
    Ok(RepositoryInfo {
        name: name.to_owned(),
        uri: repository_uri(repository).ok_or_else(|| missing(call, name, "repositoryUri"))?,
        arn: arn.to_owned(),
        registry_id: repository.registry_id().or_else(|| arn_part(arn, 4)).unwrap_or_default().to_owned(),
        created: false,
        managed: false,
        lifecycle_policy_added: false,
    })
}

fn missing(call: &'static str, name: &str, field: &str) -> RegistryError {
    RegistryError::Aws {
        call,
        repository: name.to_owned(),
        code: None,
        message: format!("the answer has no {field}"),
        unreachable: false,
    }
}

/// The repository's URI, `<account>.dkr.ecr.<region>.amazonaws.com/<name>`: its `repositoryUri`, else built from
/// its ARN.
#[must_use]
pub fn repository_uri(repository: &Repository) -> Option<String> {
    if let Some(uri) = repository.repository_uri().filter(|u| !u.is_empty()) {
        return Some(uri.to_owned());
    }
    let arn = repository.repository_arn()?;
    let (partition, region, account) = (arn_part(arn, 1)?, arn_part(arn, 3)?, arn_part(arn, 4)?);
    let name = arn.split_once(":repository/")?.1;
    let domain = if partition == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" };
    Some(format!("{account}.dkr.ecr.{region}.{domain}/{name}"))
}

fn arn_part(arn: &str, index: usize) -> Option<&str> {
    arn.split(':').nth(index).filter(|p| !p.is_empty())
}

/// `<uri>@<digest>`.
#[must_use]
pub fn digest_reference(uri: &str, digest: &str) -> String {
    format!("{uri}@{digest}")
}

/// `<uri>:<tag>`.
#[must_use]
pub fn tag_reference(uri: &str, tag: &str) -> String {
    format!("{uri}:{tag}")
}

/// The registry's credentials from GetAuthorizationToken, and where to send them: `override_endpoint`
/// (the caller passes CARGO_ECS_REGISTRY_ENDPOINT's value) when given, else the token's proxy endpoint.
///
/// # Errors
/// When the call fails, the token is malformed, or the endpoint is not a usable URL.
pub async fn authorization(
    client: &aws_sdk_ecr::Client,
    override_endpoint: Option<&str>,
) -> Result<RegistryAuth, RegistryError> {
    let output = client
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| RegistryError::aws("GetAuthorizationToken", "", &e))?;
    let data = output.authorization_data().first().ok_or_else(|| RegistryError::Token {
        reason: "GetAuthorizationToken returned no authorization data".into(),
    })?;
    let token = Secret::new(
        data.authorization_token()
            .ok_or_else(|| RegistryError::Token { reason: "the answer has no authorizationToken".into() })?,
    );
    let (username, password) = decode_token(&token)?;
    let endpoint = match override_endpoint {
        Some(endpoint) => endpoint,
        None => data
            .proxy_endpoint()
            .ok_or_else(|| RegistryError::Token { reason: "the answer has no proxyEndpoint".into() })?,
    };
    Ok(RegistryAuth { endpoint: normalize_endpoint(endpoint)?, username, password })
}

/// Splits an ECR token, base64 of `user:password`, into the user and the password.
///
/// # Errors
/// When it is not base64 of UTF-8 text with a colon; the error never contains the token.
pub fn decode_token(token: &Secret) -> Result<(String, Secret), RegistryError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.expose().trim())
        .map_err(|_| RegistryError::Token { reason: "it is not base64".into() })?;
    let text = String::from_utf8(bytes).map_err(|_| RegistryError::Token { reason: "it is not UTF-8 text".into() })?;
    let (user, password) =
        text.split_once(':').ok_or_else(|| RegistryError::Token { reason: "it is not `user:password`".into() })?;
    if user.is_empty() {
        return Err(RegistryError::Token { reason: "its user name is empty".into() });
    }
    Ok((user.to_owned(), Secret::new(password)))
}

/// `scheme://host[:port]` of a registry endpoint given as a URL or as `host[:port]` (then HTTPS).
///
/// # Errors
/// When it is not an HTTP(S) URL of a host, carries credentials, or has a path other than `/`.
pub fn normalize_endpoint(endpoint: &str) -> Result<String, RegistryError> {
    let trimmed = endpoint.trim();
    let with_scheme = if trimmed.contains("://") { trimmed.to_owned() } else { format!("https://{trimmed}") };
    let url = reqwest::Url::parse(&with_scheme)
        .map_err(|e| RegistryError::Endpoint { endpoint: trimmed.to_owned(), reason: e.to_string() })?;
    let fail = |shown: String, reason: &str| Err(RegistryError::Endpoint { endpoint: shown, reason: reason.into() });
    if !url.username().is_empty() || url.password().is_some() {
        let host = url.host_str().unwrap_or_default();
        return fail(format!("{}://****@{host}", url.scheme()), "it must not carry credentials");
    }
    if !matches!(url.scheme(), "http" | "https") {
        return fail(trimmed.to_owned(), "the scheme must be http or https");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return fail(trimmed.to_owned(), "it names no host");
    }
    if url.path() != "/" || url.query().is_some() {
        return fail(trimmed.to_owned(), "give only scheme, host and port: the registry API is at /v2/ under it");
    }
    Ok(url.origin().ascii_serialization())
}

/// Deletes the repository `name` with every image in it. One already gone is success.
///
/// # Errors
/// When DeleteRepository fails otherwise.
pub async fn delete_repository(client: &aws_sdk_ecr::Client, name: &str) -> Result<(), RegistryError> {
    match client.delete_repository().repository_name(name).force(true).send().await {
        Ok(_) => Ok(()),
        Err(error)
            if error.as_service_error().is_some_and(
                aws_sdk_ecr::operation::delete_repository::DeleteRepositoryError::is_repository_not_found_exception,
            ) =>
        {
            Ok(())
        }
        Err(error) => Err(RegistryError::aws("DeleteRepository", name, &error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> Secret {
        Secret::new(base64::engine::general_purpose::STANDARD.encode(text))
    }

    #[test]
    fn tokens_decode_to_user_and_password() {
        let (user, password) = decode_token(&b64("AWS:123456789012-auth-token")).expect("decodes");
        assert_eq!(user, "AWS");
        assert_eq!(password.expose(), "123456789012-auth-token");
        let (_, password) = decode_token(&b64("AWS:pass:with:colons")).expect("decodes");
        assert_eq!(password.expose(), "pass:with:colons", "only the first colon separates");
    }

    #[test]
    fn credentials_never_show_in_debug() {
        let (username, password) = decode_token(&b64("AWS:123456789012-auth-token")).expect("decodes");
        let auth = RegistryAuth { endpoint: "http://127.0.0.1:5050".into(), username, password };
        let shown = format!("{auth:?} {auth:#?}");
        assert!(!shown.contains("auth-token") && shown.contains("****") && shown.contains("AWS"), "{shown}");
    }

    #[test]
    fn bad_tokens_are_errors_that_do_not_show_them() {
        for token in [Secret::new("not base64 !!! secret-part"), b64("no-colon-secret-part"), b64(":secret-part")] {
            let error = decode_token(&token).expect_err("must fail");
            assert!(matches!(error, RegistryError::Token { .. }), "{error:?}");
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("secret-part") && !shown.contains(token.expose()), "{shown}");
        }
    }

    #[test]
    fn endpoints_are_normalized() {
        let ok = |e: &str| normalize_endpoint(e).expect("valid");
        assert_eq!(ok("http://127.0.0.1:5050"), "http://127.0.0.1:5050");
        assert_eq!(ok("http://127.0.0.1:5050/"), "http://127.0.0.1:5050");
        assert_eq!(ok(" https://1.dkr.ecr.us-east-1.amazonaws.com "), "https://1.dkr.ecr.us-east-1.amazonaws.com");
        assert_eq!(ok("1.dkr.ecr.eu-west-3.amazonaws.com"), "https://1.dkr.ecr.eu-west-3.amazonaws.com");
        assert_eq!(ok("localhost:5050"), "https://localhost:5050");
        assert!(normalize_endpoint("ftp://host").is_err());
        assert!(normalize_endpoint("http://host/v2/").is_err());
        let error = normalize_endpoint("http://AWS:sekrit@127.0.0.1:5050").expect_err("credentials");
        assert!(!error.to_string().contains("sekrit"), "{error}");
        assert!(error.help().is_some_and(|h| h.contains("CARGO_ECS_REGISTRY_ENDPOINT")));
    }

    #[test]
    fn references_come_from_the_repository() {
        let builder = Repository::builder()
            .repository_arn("arn:aws:ecr:eu-west-3:123456789012:repository/team/hello")
            .repository_name("team/hello");
        let repository = builder.clone().build();
        assert_eq!(
            repository_uri(&repository).as_deref(),
            Some("123456789012.dkr.ecr.eu-west-3.amazonaws.com/team/hello")
        );
        let with_uri = builder.repository_uri("1.dkr.ecr.us-east-1.amazonaws.com/x").build();
        assert_eq!(repository_uri(&with_uri).as_deref(), Some("1.dkr.ecr.us-east-1.amazonaws.com/x"));
        assert_eq!(digest_reference("u/x", "sha256:ab"), "u/x@sha256:ab");
        assert_eq!(tag_reference("u/x", "v1"), "u/x:v1");
    }

    #[test]
    fn the_lifecycle_policy_keeps_the_last_images() {
        let policy: serde_json::Value = serde_json::from_str(&lifecycle_policy()).expect("JSON");
        assert_eq!(policy["rules"][0]["selection"]["countNumber"], LIFECYCLE_KEEP_IMAGES);
        assert_eq!(policy["rules"][0]["selection"]["countType"], "imageCountMoreThan");
        assert_eq!(policy["rules"][0]["action"]["type"], "expire");
    }

    #[test]
    fn the_managed_tag_is_always_set() {
        let tags = repository_tags(&BTreeMap::from([("team".to_owned(), "web".to_owned())])).expect("tags");
        let pairs: Vec<(&str, &str)> = tags.iter().map(|t| (t.key(), t.value())).collect();
        assert_eq!(pairs, [(MANAGED_TAG_KEY, MANAGED_TAG_VALUE), ("team", "web")]);
    }
}
