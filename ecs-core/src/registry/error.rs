//! What can go wrong between cargo-ecs, ECR and the registry, each with the context to act on it and, through
//! [`RegistryError::help`], what to do next. No variant ever holds a token or a password.

use std::fmt;

use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use serde::Deserialize;

/// An error of the ECR API or of the registry (OCI distribution API).
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    /// An ECR API call failed: `ecr:CALL of repository NAME failed[ after N attempts]: MESSAGE`.
    #[error(
        "ecr:{call} of {} failed{}: {message}",
        if repository.is_empty() { "the registry's login".to_owned() } else { format!("repository {repository}") },
        crate::aws::attempts_note(code.as_deref(), *unreachable)
    )]
    Aws {
        /// The API operation, e.g. `CreateRepository`.
        call: &'static str,
        /// The repository it was about (empty for account-wide calls).
        repository: String,
        /// The AWS error code, when AWS answered.
        code: Option<String>,
        /// AWS's message, or why no answer came.
        message: String,
        /// No answer came: network, endpoint or timeout.
        unreachable: bool,
    },
    /// ECR's authorization token could not be used. Never contains the token.
    #[error("ECR's authorization token is unusable: {reason}")]
    Token {
        /// What is wrong with it.
        reason: String,
    },
    /// The registry base URL is not a usable URL.
    #[error("registry endpoint `{endpoint}` is not usable: {reason}")]
    Endpoint {
        /// The endpoint as given.
        endpoint: String,
        /// Why it is not usable.
        reason: String,
    },
    /// The registry refused the credentials (HTTP 401) or the permission (HTTP 403).
    #[error("registry {registry} refused the credentials (HTTP {status} on {call}{})", InRepository(.repository))]
    AuthRefused {
        /// `host[:port]` of the registry.
        registry: String,
        /// The request, e.g. `ping`.
        call: String,
        /// The repository (empty for `ping`).
        repository: String,
        /// 401 or 403.
        status: u16,
    },
    /// No HTTP answer from the registry.
    #[error("cannot reach registry {registry} ({call}): {message}")]
    Unreachable {
        /// `host[:port]` of the registry.
        registry: String,
        /// The request.
        call: String,
        /// What the connection said.
        message: String,
    },
    /// The registry answered with an unexpected status.
    #[error("{call} in `{repository}` on {registry} failed: HTTP {status}{}", ErrorBody(.errors, .body))]
    Http {
        /// `host[:port]` of the registry.
        registry: String,
        /// The request, e.g. `upload blob sha256:1a2b3c4d5e6f`.
        call: String,
        /// The repository.
        repository: String,
        /// The HTTP status.
        status: u16,
        /// The OCI error list of the body, when it had one.
        errors: Vec<OciError>,
        /// The body, shortened, when it had no OCI error list.
        body: String,
    },
    /// The registry answered in a way the OCI distribution API does not allow.
    #[error("{call} in `{repository}` on {registry}: {message}")]
    Protocol {
        /// `host[:port]` of the registry.
        registry: String,
        /// The request.
        call: String,
        /// The repository.
        repository: String,
        /// What was wrong with the answer.
        message: String,
    },
    /// The registry stored the manifest under another digest than the one cargo-ecs computed.
    #[error("registry {registry} stored the manifest `{repository}:{reference}` as {actual}, expected {expected}")]
    DigestMismatch {
        /// `host[:port]` of the registry.
        registry: String,
        /// The repository.
        repository: String,
        /// The tag or digest it was put under.
        reference: String,
        /// The digest cargo-ecs computed.
        expected: String,
        /// The digest the registry answered.
        actual: String,
    },
}

/// One entry of an OCI distribution error body: `{"errors":[{"code":"…","message":"…","detail":…}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OciError {
    /// E.g. `NAME_UNKNOWN`, `BLOB_UNKNOWN`, `UNAUTHORIZED`, `TAG_INVALID`.
    pub code: String,
    /// The registry's message.
    #[serde(default)]
    pub message: String,
}

/// The OCI error list of a response body; empty when the body is not one.
#[must_use]
pub fn parse_error_body(body: &str) -> Vec<OciError> {
    #[derive(Deserialize)]
    struct Body {
        errors: Vec<OciError>,
    }
    serde_json::from_str::<Body>(body).map(|b| b.errors).unwrap_or_default()
}

/// Most characters of a non-OCI error body kept in an error.
const BODY_SHOWN: usize = 300;

/// `body` cut to a size fit for an error line, on one line.
#[must_use]
pub(crate) fn shorten_body(body: &str) -> String {
    let line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(BODY_SHOWN) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}

struct InRepository<'a>(&'a str);

impl fmt::Display for InRepository<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { Ok(()) } else { write!(f, " in `{}`", self.0) }
    }
}

struct ErrorBody<'a>(&'a [OciError], &'a str);

impl fmt::Display for ErrorBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            if error.message.is_empty() {
                write!(f, "{sep}{}", error.code)?;
            } else {
                write!(f, "{sep}{}: {}", error.code, error.message)?;
            }
        }
        if self.0.is_empty() && !self.1.is_empty() {
            write!(f, ": {}", self.1)?;
        }
        Ok(())
    }
}

impl RegistryError {
    /// An ECR API error, with AWS's code and message (or why AWS did not answer).
    pub fn aws<E, R>(call: &'static str, repository: &str, error: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let unreachable = matches!(error, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_));
        let message = match (error.code(), error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => DisplayErrorContext(error).to_string(),
        };
        Self::Aws {
            call,
            repository: repository.to_owned(),
            code: error.code().map(str::to_owned),
            message,
            unreachable,
        }
    }

    /// Whether trying the same request again may succeed: no answer, throttling, or a server error.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Http { status, .. } => *status == 429 || (500..=599).contains(status),
            _ => false,
        }
    }

    /// What the user can do about it.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Aws { unreachable: true, .. } => Some(
                "check that AWS answers: the network, and the endpoint (--endpoint-url / AWS_ENDPOINT_URL) if set"
                    .to_owned(),
            ),
            Self::Aws { call, code: Some(code), .. } if is_credentials_code(code) => {
                Some(format!("check the AWS credentials (--profile / AWS_PROFILE) and that they allow ecr:{call}"))
            }
            Self::Aws { call, code: Some(code), .. } if crate::aws::is_throttling_code(code) => {
                Some(crate::aws::throttling_help(&format!("ecr:{call}")))
            }
            Self::Aws { .. } => None,
            Self::Token { .. } => Some("run the command again for a fresh token; check the AWS credentials".to_owned()),
            Self::Endpoint { .. } => Some(
                "set CARGO_ECS_REGISTRY_ENDPOINT to a base URL such as http://127.0.0.1:5050, or unset it to push to \
                 the registry ECR names"
                    .to_owned(),
            ),
            Self::AuthRefused { status: 403, .. } => Some(
                "the AWS identity needs ecr:BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart, \
                 CompleteLayerUpload and PutImage on the repository"
                    .to_owned(),
            ),
            Self::AuthRefused { .. } => Some(
                "check the AWS credentials (--profile / AWS_PROFILE): the registry password is ECR's token for them; \
                 if CARGO_ECS_REGISTRY_ENDPOINT is set, it must name the registry that accepts that token"
                    .to_owned(),
            ),
            Self::Unreachable { .. } => {
                Some("is the registry up? check the network, and CARGO_ECS_REGISTRY_ENDPOINT if it is set".to_owned())
            }
            Self::Http { .. } => self.http_help(),
            Self::Protocol { .. } => Some(
                "the endpoint does not answer like an OCI registry: check CARGO_ECS_REGISTRY_ENDPOINT if it is set"
                    .to_owned(),
            ),
            Self::DigestMismatch { .. } => {
                Some("the registry rewrote the manifest; please report this as a cargo-ecs bug".to_owned())
            }
        }
    }

    fn http_help(&self) -> Option<String> {
        let Self::Http { status, errors, .. } = self else { return None };
        let has = |code: &str| errors.iter().any(|e| e.code == code);
        let help = if has("NAME_UNKNOWN") {
            "the repository does not exist in this registry: create it first (push does)"
        } else if has("TAG_INVALID") {
            "the tag is taken and the repository's tags are immutable: push under another tag"
        } else if has("DENIED") {
            "the AWS identity is not allowed to push to this repository: check its ECR permissions"
        } else if has("MANIFEST_INVALID") || has("MANIFEST_BLOB_UNKNOWN") || has("BLOB_UNKNOWN") {
            "the registry rejected the image as inconsistent; please report this as a cargo-ecs bug"
        } else if *status == 413 {
            "the registry refused the size of the request"
        } else if *status == 429 || *status >= 500 {
            "the registry is busy or failing: try again in a moment"
        } else {
            return None;
        };
        Some(help.to_owned())
    }
}

fn is_credentials_code(code: &str) -> bool {
    code.starts_with("AccessDenied")
        || matches!(
            code,
            "UnrecognizedClientException"
                | "InvalidSignatureException"
                | "ExpiredTokenException"
                | "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_error_bodies_are_parsed() {
        let body = r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"x"}},{"code":"DENIED"}]}"#;
        let errors = parse_error_body(body);
        assert_eq!(
            errors,
            vec![
                OciError { code: "NAME_UNKNOWN".into(), message: "repository name not known to registry".into() },
                OciError { code: "DENIED".into(), message: String::new() },
            ]
        );
        assert!(parse_error_body("<html>502 Bad Gateway</html>").is_empty());
        assert!(parse_error_body("").is_empty());
        assert!(parse_error_body(r#"{"message":"other shape"}"#).is_empty());
    }

    #[test]
    fn http_errors_name_call_repository_status_and_codes() {
        let error = RegistryError::Http {
            registry: "127.0.0.1:5050".into(),
            call: "put manifest latest".into(),
            repository: "hello".into(),
            status: 404,
            errors: parse_error_body(r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}"#),
            body: String::new(),
        };
        assert_eq!(
            error.to_string(),
            "put manifest latest in `hello` on 127.0.0.1:5050 failed: HTTP 404: NAME_UNKNOWN: repository name not known"
        );
        assert!(error.help().is_some_and(|h| h.contains("does not exist")));
        assert!(!error.is_transient());

        let error = RegistryError::Http {
            registry: "r".into(),
            call: "upload blob".into(),
            repository: "hello".into(),
            status: 503,
            errors: Vec::new(),
            body: shorten_body("<html>\n  Service   Unavailable\n</html>"),
        };
        assert!(error.to_string().ends_with("HTTP 503: <html> Service Unavailable </html>"), "{error}");
        assert!(error.is_transient());
    }

    #[test]
    fn long_bodies_are_shortened() {
        let body = "x".repeat(1000);
        let short = shorten_body(&body);
        assert_eq!(short.chars().count(), BODY_SHOWN + 1);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn auth_errors_point_at_credentials_and_the_endpoint() {
        let error = RegistryError::AuthRefused {
            registry: "127.0.0.1:5050".into(),
            call: "ping".into(),
            repository: String::new(),
            status: 401,
        };
        assert_eq!(error.to_string(), "registry 127.0.0.1:5050 refused the credentials (HTTP 401 on ping)");
        let denied = RegistryError::AuthRefused {
            registry: "r".into(),
            call: "upload blob sha256:1a2b".into(),
            repository: "hello".into(),
            status: 403,
        };
        assert_eq!(
            denied.to_string(),
            "registry r refused the credentials (HTTP 403 on upload blob sha256:1a2b in `hello`)"
        );
        assert!(denied.help().is_some_and(|h| h.contains("PutImage")));
        let help = error.help().unwrap_or_default();
        assert!(help.contains("CARGO_ECS_REGISTRY_ENDPOINT") && help.contains("credentials"), "{help}");
        let unreachable = RegistryError::Unreachable {
            registry: "127.0.0.1:1".into(),
            call: "ping".into(),
            message: "connection refused".into(),
        };
        assert!(unreachable.help().is_some_and(|h| h.contains("registry up")));
        assert!(unreachable.is_transient());
    }

    #[test]
    fn ecr_errors_name_the_call_the_repository_and_the_attempts_of_a_retried_call() {
        let aws = |call, repository: &str, code: &str, unreachable| RegistryError::Aws {
            call,
            repository: repository.to_owned(),
            code: Some(code.to_owned()),
            message: format!("{code}: Rate exceeded"),
            unreachable,
        };
        let attempts = crate::aws::attempts_note(Some("ThrottlingException"), false);
        assert!(attempts.starts_with(" after ") && attempts.ends_with(" attempts"), "{attempts}");
        let throttled = aws("GetAuthorizationToken", "", "ThrottlingException", false);
        assert_eq!(
            throttled.to_string(),
            format!(
                "ecr:GetAuthorizationToken of the registry's login failed{attempts}: ThrottlingException: Rate exceeded"
            )
        );
        assert!(throttled.help().is_some_and(|h| h.contains("AWS kept throttling ecr:GetAuthorizationToken")));
        let denied = aws("CreateRepository", "hello", "AccessDeniedException", false);
        assert_eq!(
            denied.to_string(),
            "ecr:CreateRepository of repository hello failed: AccessDeniedException: Rate exceeded"
        );
        assert!(denied.help().is_some_and(|h| h.contains("allow ecr:CreateRepository")));
    }
}
