//! A small client of the OCI distribution API: ping, blob existence, monolithic blob upload, manifest put and
//! fetch. Basic auth on every request to the registry's own origin (ECR accepts it); never to another host.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, LOCATION};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};

use super::ecr::RegistryAuth;
use super::error::{RegistryError, parse_error_body, shorten_body};
use super::secret::Secret;
use crate::image::{Blob, MANIFEST_MEDIA_TYPE, sha256_digest};

/// The manifest media types cargo-ecs reads back (OCI and Docker, single image or index).
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";
/// The header in which registries state a manifest's or blob's digest.
const DIGEST_HEADER: &str = "Docker-Content-Digest";
/// Time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed between two reads of an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// A registry endpoint with its credentials.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    http: reqwest::Client,
    base: Url,
    registry: String,
    username: String,
    password: Secret,
}

impl RegistryClient {
    /// A client of `auth.endpoint` that logs in as `auth.username`.
    ///
    /// # Errors
    /// When the endpoint is not a URL, or the HTTP client cannot be set up.
    pub fn new(auth: &RegistryAuth) -> Result<Self, RegistryError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("cargo-ecs/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            // A redirect to another host (blob storage) must not carry the credentials, and HEAD of a blob that
            // redirects already says the blob exists: follow none.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| RegistryError::Endpoint { endpoint: auth.endpoint.clone(), reason: error_chain(&e) })?;
        Self::with_http(http, auth)
    }

    /// A client that sends through `http` (for custom timeouts or proxies).
    ///
    /// # Errors
    /// When the endpoint is not a URL with a host.
    pub fn with_http(http: reqwest::Client, auth: &RegistryAuth) -> Result<Self, RegistryError> {
        let endpoint_error =
            |reason: &str| RegistryError::Endpoint { endpoint: auth.endpoint.clone(), reason: reason.to_owned() };
        let base = Url::parse(&auth.endpoint).map_err(|e| endpoint_error(&e.to_string()))?;
        let host = base.host_str().ok_or_else(|| endpoint_error("it names no host"))?;
        let registry = match base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Self { http, base, registry, username: auth.username.clone(), password: auth.password.clone() })
    }

    /// `host[:port]` of the registry, as errors name it.
    #[must_use]
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Checks that the registry answers and accepts the credentials (`GET /v2/`).
    ///
    /// # Errors
    /// [`RegistryError::AuthRefused`] when it refuses them, [`RegistryError::Unreachable`] when it does not answer.
    pub async fn ping(&self) -> Result<(), RegistryError> {
        let url = self.url("/v2/")?;
        self.send("ping", "", self.request(Method::GET, url), &[StatusCode::OK]).await?;
        Ok(())
    }

    /// Whether the repository already has the blob (`HEAD /v2/<name>/blobs/<digest>`).
    ///
    /// # Errors
    /// When the registry fails or refuses.
    pub async fn blob_exists(&self, repository: &str, digest: &str) -> Result<bool, RegistryError> {
        let url = self.url(&format!("/v2/{repository}/blobs/{digest}"))?;
        let call = format!("check blob {}", short_digest(digest));
        let found = [StatusCode::OK, StatusCode::TEMPORARY_REDIRECT, StatusCode::FOUND];
        let accept = [found.as_slice(), &[StatusCode::NOT_FOUND]].concat();
        let response = self.send(&call, repository, self.request(Method::HEAD, url), &accept).await?;
        Ok(found.contains(&response.status()))
    }

    /// Uploads a blob in one request: `POST /v2/<name>/blobs/uploads/`, then `PUT <Location>?digest=<digest>`
    /// with the whole body (ECR mishandles chunked uploads).
    ///
    /// # Errors
    /// When the registry fails, refuses, or answers without a usable `Location`.
    pub async fn upload_blob(&self, repository: &str, blob: &Blob) -> Result<(), RegistryError> {
        let short = short_digest(&blob.digest);
        let call = format!("start upload of blob {short}");
        let url = self.url(&format!("/v2/{repository}/blobs/uploads/"))?;
        let started = self.send(&call, repository, self.request(Method::POST, url), &[StatusCode::ACCEPTED]).await?;
        let location = header(started.headers(), LOCATION.as_str())
            .ok_or_else(|| self.protocol(&call, repository, "the answer has no Location header"))?;
        let url = upload_url(&self.base, &location, &blob.digest)
            .map_err(|e| self.protocol(&call, repository, &format!("unusable Location `{location}`: {e}")))?;
        // The body is copied once: reqwest owns what it sends.
        let put =
            self.request(Method::PUT, url).header(CONTENT_TYPE, "application/octet-stream").body(blob.data.clone());
        let call = format!("upload blob {short}");
        self.send(&call, repository, put, &[StatusCode::CREATED]).await?;
        Ok(())
    }

    /// Puts `manifest` under `reference` (a tag or its digest) and checks the digest the registry answers.
    ///
    /// # Errors
    /// When the registry fails or refuses (a taken immutable tag: `TAG_INVALID`), or states another digest.
    pub async fn put_manifest(&self, repository: &str, reference: &str, manifest: &Blob) -> Result<(), RegistryError> {
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"))?;
        let put = self.request(Method::PUT, url).header(CONTENT_TYPE, &manifest.media_type).body(manifest.data.clone());
        let call = format!("put manifest {reference}");
        let response = self.send(&call, repository, put, &[StatusCode::CREATED]).await?;
        match header(response.headers(), DIGEST_HEADER) {
            Some(actual) if actual != manifest.digest => Err(RegistryError::DigestMismatch {
                registry: self.registry.clone(),
                repository: repository.to_owned(),
                reference: reference.to_owned(),
                expected: manifest.digest.clone(),
                actual,
            }),
            _ => Ok(()),
        }
    }

    /// The digest of the manifest at `reference` (tag or digest), or `None` when there is none (`HEAD`).
    ///
    /// # Errors
    /// When the registry fails or refuses.
    pub async fn manifest_digest(&self, repository: &str, reference: &str) -> Result<Option<String>, RegistryError> {
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"))?;
        let call = format!("check manifest {reference}");
        let head = self.request(Method::HEAD, url).header(ACCEPT, MANIFEST_ACCEPT);
        let response = self.send(&call, repository, head, &[StatusCode::OK, StatusCode::NOT_FOUND]).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        match header(response.headers(), DIGEST_HEADER) {
            Some(digest) => Ok(Some(digest)),
            // The header is a SHOULD: without it, hash the manifest itself.
            None => Ok(self.manifest(repository, reference).await?.map(|m| m.digest)),
        }
    }

    /// The manifest at `reference` (tag or digest), its digest computed from its bytes, or `None` when there is
    /// none (`GET`). Fetched by digest, the bytes are checked against it.
    ///
    /// # Errors
    /// When the registry fails or refuses, or the bytes do not match the digest asked for.
    pub async fn manifest(&self, repository: &str, reference: &str) -> Result<Option<Blob>, RegistryError> {
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"))?;
        let call = format!("get manifest {reference}");
        let get = self.request(Method::GET, url).header(ACCEPT, MANIFEST_ACCEPT);
        let response = self.send(&call, repository, get, &[StatusCode::OK, StatusCode::NOT_FOUND]).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let media_type =
            header(response.headers(), CONTENT_TYPE.as_str()).unwrap_or_else(|| MANIFEST_MEDIA_TYPE.into());
        let data = response.bytes().await.map_err(|e| self.unreachable(&call, &e))?.to_vec();
        let blob = Blob { media_type, digest: sha256_digest(&data), data };
        if reference.starts_with("sha256:") && blob.digest != reference {
            return Err(RegistryError::DigestMismatch {
                registry: self.registry.clone(),
                repository: repository.to_owned(),
                reference: reference.to_owned(),
                expected: reference.to_owned(),
                actual: blob.digest,
            });
        }
        Ok(Some(blob))
    }

    /// A request to `url`, with the credentials when `url` is on the registry's own origin.
    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let same_origin = url.origin() == self.base.origin();
        let request = self.http.request(method, url);
        if same_origin { request.basic_auth(&self.username, Some(self.password.expose())) } else { request }
    }

    /// Sends `request`; a status outside `expected` becomes the matching error, naming `call` and `repository`.
    async fn send(
        &self,
        call: &str,
        repository: &str,
        request: RequestBuilder,
        expected: &[StatusCode],
    ) -> Result<Response, RegistryError> {
        let response = request.send().await.map_err(|e| self.unreachable(call, &e))?;
        let status = response.status();
        if expected.contains(&status) {
            return Ok(response);
        }
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(RegistryError::AuthRefused {
                registry: self.registry.clone(),
                call: call.to_owned(),
                repository: repository.to_owned(),
                status: status.as_u16(),
            });
        }
        // Never echo the password, should a registry put it in an error body.
        let body = response.text().await.unwrap_or_default().replace(self.password.expose(), Secret::REDACTED);
        let errors = parse_error_body(&body);
        Err(RegistryError::Http {
            registry: self.registry.clone(),
            call: call.to_owned(),
            repository: repository.to_owned(),
            status: status.as_u16(),
            body: if errors.is_empty() { shorten_body(&body) } else { String::new() },
            errors,
        })
    }

    fn url(&self, path: &str) -> Result<Url, RegistryError> {
        self.base
            .join(path)
            .map_err(|e| RegistryError::Endpoint { endpoint: self.base.to_string(), reason: e.to_string() })
    }

    fn unreachable(&self, call: &str, error: &reqwest::Error) -> RegistryError {
        RegistryError::Unreachable {
            registry: self.registry.clone(),
            call: call.to_owned(),
            message: error_chain(error),
        }
    }

    fn protocol(&self, call: &str, repository: &str, message: &str) -> RegistryError {
        RegistryError::Protocol {
            registry: self.registry.clone(),
            call: call.to_owned(),
            repository: repository.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// Where to `PUT` the blob: the upload's `Location` (absolute, or relative to the registry) with `digest` added to
/// the query parameters it already has (registries keep upload state there).
fn upload_url(base: &Url, location: &str, digest: &str) -> Result<Url, String> {
    let mut url = base.join(location).map_err(|e| e.to_string())?;
    url.query_pairs_mut().append_pair("digest", digest);
    Ok(url)
}

/// `sha256:` and the first 12 hex digits, as steps and errors name blobs.
#[must_use]
pub fn short_digest(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The error and its sources on one line, e.g. `error sending request …: Connection refused (os error 111)`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    fn base() -> Url {
        Url::parse("http://127.0.0.1:5050").expect("url")
    }

    #[test]
    fn relative_locations_join_the_registry() {
        let url = upload_url(&base(), "/v2/hello/blobs/uploads/abc-123", DIGEST).expect("url");
        assert_eq!(
            url.as_str(),
            format!("http://127.0.0.1:5050/v2/hello/blobs/uploads/abc-123?digest=sha256%3A{}", &DIGEST[7..])
        );
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(query, [("digest".to_owned(), DIGEST.to_owned())]);
    }

    #[test]
    fn absolute_locations_are_kept_with_their_query() {
        let location = "https://1.dkr.ecr.us-east-1.amazonaws.com/v2/team/hello/blobs/uploads/u-1?_state=a%2Bb%3D&x=1";
        let url = upload_url(&base(), location, DIGEST).expect("url");
        assert_eq!(url.host_str(), Some("1.dkr.ecr.us-east-1.amazonaws.com"));
        assert_eq!(url.path(), "/v2/team/hello/blobs/uploads/u-1");
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            query,
            [
                ("_state".to_owned(), "a+b=".to_owned()),
                ("x".to_owned(), "1".to_owned()),
                ("digest".to_owned(), DIGEST.to_owned())
            ]
        );
    }

    #[test]
    fn relative_locations_with_a_query_keep_it() {
        let url = upload_url(&base(), "/v2/hello/blobs/uploads/u?_state=s", DIGEST).expect("url");
        assert_eq!(
            url.query(),
            Some("_state=s&digest=sha256%3A2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
    }

    #[test]
    fn credentials_go_only_to_the_registry() {
        let auth = RegistryAuth {
            endpoint: "http://127.0.0.1:5050".into(),
            username: "AWS".into(),
            password: Secret::new("pw-123"),
        };
        let client = RegistryClient::new(&auth).expect("client");
        assert_eq!(client.registry(), "127.0.0.1:5050");
        let own = client.request(Method::GET, base().join("/v2/").expect("url")).build().expect("request");
        assert!(own.headers().contains_key(reqwest::header::AUTHORIZATION));
        let other = Url::parse("https://storage.example.com/blob").expect("url");
        let foreign = client.request(Method::GET, other).build().expect("request");
        assert!(!foreign.headers().contains_key(reqwest::header::AUTHORIZATION));
        assert!(!format!("{client:?}").contains("pw-123"));
    }

    #[test]
    fn short_digests_keep_twelve_hex_digits() {
        assert_eq!(short_digest(DIGEST), "sha256:2cf24dba5fb0");
        assert_eq!(short_digest("sha256:ab"), "sha256:ab");
    }
}
