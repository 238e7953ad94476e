//! An AWS call that failed, named by the call and the resource, with what to do about the common causes.

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

/// A failed AWS call.
#[derive(Debug, thiserror::Error)]
#[error("{call} of {resource} failed: {message}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct AwsError {
    /// The API call, e.g. `elbv2:CreateLoadBalancer`.
    pub call: &'static str,
    /// The resource it was about, e.g. `load balancer hello`.
    pub resource: String,
    /// AWS's error code, e.g. `AccessDenied`.
    pub code: Option<String>,
    /// AWS's message, or what went wrong before an answer came.
    pub message: String,
    /// No answer came (connection refused, timeout, DNS).
    pub unreachable: bool,
}

impl AwsError {
    /// Maps an SDK error of `call` about `resource`.
    pub fn from_sdk<E, R>(call: &'static str, resource: impl Into<String>, error: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let (code, message, unreachable) = match error {
            SdkError::ServiceError(service) => {
                let e = service.err();
                (e.code().map(str::to_owned), e.message().unwrap_or("no message").to_owned(), false)
            }
            SdkError::DispatchFailure(failure) => (None, describe_chain(error), !failure.is_user()),
            SdkError::TimeoutError(_) => (None, "no answer in time".to_owned(), true),
            _ => (error.code().map(str::to_owned), describe_chain(error), false),
        };
        Self { call, resource: resource.into(), code, message, unreachable }
    }

    /// A failure that is not an SDK error (a missing field in an answer, ...).
    pub fn other(call: &'static str, resource: impl Into<String>, message: impl Into<String>) -> Self {
        Self { call, resource: resource.into(), code: None, message: message.into(), unreachable: false }
    }

    /// Whether AWS said the resource does not exist (the codes the services use for it).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.code.as_deref().is_some_and(|c| {
            c.contains("NotFound")
                || c.contains("NoSuch")
                || c == "ResourceNotFoundException"
                || c == "InvalidGroup.NotFound"
        })
    }

    /// What the user can do next.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        if self.unreachable {
            return Some("check the network and the endpoint (--endpoint-url / AWS_ENDPOINT_URL)".to_owned());
        }
        match self.code.as_deref() {
            Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => {
                Some(format!("the credentials in use may not call {}; grant it, or use another --profile", self.call))
            }
            Some("ExpiredToken" | "ExpiredTokenException" | "InvalidClientTokenId" | "UnrecognizedClientException") => {
                Some("the AWS credentials are invalid or expired: sign in again (e.g. aws sso login)".to_owned())
            }
            Some(c) if c.contains("Throttl") || c == "TooManyRequestsException" || c == "RequestLimitExceeded" => {
                Some("AWS throttled the calls even after retries: try again in a minute".to_owned())
            }
            Some(c) if c.contains("LimitExceeded") => {
                Some("an account quota is reached: raise it in Service Quotas, or delete unused resources".to_owned())
            }
            _ => None,
        }
    }
}

/// The error and its sources, joined.
fn describe_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Result of an AWS call.
pub type AwsResult<T> = Result<T, AwsError>;
