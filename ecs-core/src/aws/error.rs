//! An AWS call that failed, named by the call and the resource, with what to do about the common causes.

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

/// A failed AWS call. Its message names the call and the resource; when the SDK retried the call (throttling,
/// an internal error of AWS, no answer) it also says how many attempts were made (see [`super::retry_config`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{call} of {resource} failed{}: {message}{}",
    attempts_note(code.as_deref(), *unreachable),
    code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
)]
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

    /// Whether AWS throttled the call (the codes the SDK retries as throttling, see `aws-runtime`'s
    /// `THROTTLING_ERRORS`, but `LimitExceededException`, which CloudWatch Logs and ECS also use for quotas).
    /// Such an error is final only once the retries are used up.
    #[must_use]
    pub fn is_throttling(&self) -> bool {
        self.code.as_deref().is_some_and(is_throttling_code)
    }

    /// Whether the SDK retried the call before giving up: throttled, an internal error of AWS (HTTP 5xx), or no
    /// answer. Other errors end a call at its first attempt.
    #[must_use]
    pub fn retried(&self) -> bool {
        was_retried(self.code.as_deref(), self.unreachable)
    }

    /// What the user can do next.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        if self.unreachable {
            return Some("check the network and the endpoint (--endpoint-url / AWS_ENDPOINT_URL)".to_owned());
        }
        if self.is_throttling() {
            return Some(throttling_help(self.call));
        }
        match self.code.as_deref() {
            Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => {
                Some(format!("the credentials in use may not call {}; grant it, or use another --profile", self.call))
            }
            Some("ExpiredToken" | "ExpiredTokenException" | "InvalidClientTokenId" | "UnrecognizedClientException") => {
                Some("the AWS credentials are invalid or expired: sign in again (e.g. aws sso login)".to_owned())
            }
            Some(c) if SERVER_CODES.contains(&c) => Some(format!(
                "AWS failed on its side ({c}) every time: run the command again in a few minutes (it carries on \
                 from what exists); see https://health.aws.amazon.com/health/status"
            )),
            Some(c) if c.contains("LimitExceeded") => {
                Some("an account quota is reached: raise it in Service Quotas, or delete unused resources".to_owned())
            }
            _ => None,
        }
    }
}

/// Whether `code` says AWS throttled the call: the codes the SDK retries as throttling, but
/// `LimitExceededException`, which CloudWatch Logs and ECS also use for quotas.
pub(crate) fn is_throttling_code(code: &str) -> bool {
    code != "LimitExceededException" && THROTTLING_CODES.contains(&code)
}

/// Whether the SDK retried a call that ended with `code` (or with no answer) before giving up.
pub(crate) fn was_retried(code: Option<&str>, unreachable: bool) -> bool {
    unreachable || code.is_some_and(|c| THROTTLING_CODES.contains(&c) || SERVER_CODES.contains(&c))
}

/// ` after N attempts` for an error the SDK retried (see [`was_retried`]), else nothing.
pub(crate) fn attempts_note(code: Option<&str>, unreachable: bool) -> String {
    if was_retried(code, unreachable) { format!(" after {} attempts", super::max_attempts()) } else { String::new() }
}

/// What to do when AWS kept throttling `call` (`elbv2:CreateTargetGroup`) through every retry.
pub(crate) fn throttling_help(call: &str) -> String {
    let service = call.split(':').next().unwrap_or(call);
    format!(
        "AWS kept throttling {call} through every retry: wait a minute, then run the command again (it carries on \
         from what exists); if it keeps happening, something else in this account calls {service} heavily (look in \
         CloudTrail), or ask for a higher rate in Service Quotas"
    )
}

/// The error codes the SDK retries as throttling (`aws-runtime`'s `THROTTLING_ERRORS`).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// The codes AWS services answer HTTP 500 and 503 with; the SDK retries those (by status) as transient.
const SERVER_CODES: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServiceError",
    "ServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "Unavailable",
    "RequestTimeout",
    "RequestTimeoutException",
];

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

#[cfg(test)]
mod tests {
    use aws_sdk_sts::error::{ErrorMetadata, SdkError};
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;

    use super::*;

    fn service_error(code: &str, message: &str) -> SdkError<GetCallerIdentityError, ()> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        SdkError::service_error(GetCallerIdentityError::generic(meta), ())
    }

    #[test]
    fn a_throttled_call_names_the_call_the_resource_and_the_attempts_and_says_what_to_do() {
        let error = AwsError::from_sdk(
            "elbv2:CreateTargetGroup",
            "target group web",
            &service_error("Throttling", "Rate exceeded"),
        );
        assert!(error.is_throttling() && error.retried());
        assert_eq!(
            error.to_string(),
            format!(
                "elbv2:CreateTargetGroup of target group web failed after {} attempts: Rate exceeded (Throttling)",
                crate::aws::max_attempts()
            )
        );
        let help = error.help().expect("help");
        assert!(help.contains("AWS kept throttling elbv2:CreateTargetGroup"), "{help}");
        assert!(help.contains("run the command again") && help.contains("elbv2 heavily"), "{help}");
        for code in
            ["ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "PriorRequestNotComplete"]
        {
            let error = AwsError::from_sdk("ecs:CreateService", "service web", &service_error(code, "slow down"));
            assert!(error.is_throttling(), "{code}");
            assert!(error.to_string().contains(" attempts: slow down"), "{error}");
        }
    }

    #[test]
    fn an_internal_error_of_aws_says_it_was_retried_and_what_to_do() {
        let error =
            AwsError::from_sdk("ecs:CreateService", "service web", &service_error("ServiceUnavailable", "Busy"));
        assert!(error.retried() && !error.is_throttling());
        assert!(error.to_string().starts_with("ecs:CreateService of service web failed after "), "{error}");
        assert!(error.help().is_some_and(|h| h.contains("failed on its side (ServiceUnavailable)")));
    }

    #[test]
    fn an_error_that_is_not_retried_reads_as_before() {
        let error = AwsError::from_sdk(
            "iam:CreateRole",
            "role web-execution",
            &service_error("AccessDenied", "User is not allowed"),
        );
        assert!(!error.retried());
        assert_eq!(
            error.to_string(),
            "iam:CreateRole of role web-execution failed: User is not allowed (AccessDenied)"
        );
        assert!(error.help().is_some_and(|h| h.contains("may not call iam:CreateRole")));
        let quota = AwsError::from_sdk(
            "logs:CreateLogGroup",
            "log group /ecs/web",
            &service_error("LimitExceededException", "Resource limit exceeded."),
        );
        assert!(!quota.is_throttling(), "a quota in CloudWatch Logs, not a rate");
        assert!(quota.help().is_some_and(|h| h.contains("Service Quotas")));
        let other = AwsError::other("ecs:DescribeServices", "service web", "the answer has no deployments");
        assert_eq!(other.to_string(), "ecs:DescribeServices of service web failed: the answer has no deployments");
    }

    #[test]
    fn no_answer_says_it_was_retried() {
        let error = AwsError {
            call: "sts:GetCallerIdentity",
            resource: "the caller's identity".to_owned(),
            code: None,
            message: "dispatch failure: connection refused".to_owned(),
            unreachable: true,
        };
        assert!(error.to_string().contains("failed after "), "{error}");
        assert!(error.help().is_some_and(|h| h.contains("AWS_ENDPOINT_URL")));
    }
}
