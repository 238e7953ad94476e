//! The one place that turns the user's AWS options into an SDK configuration; every client is built from it.

pub mod acm;
pub mod ec2;
pub mod ecs;
pub mod ecs_revisions;
pub mod elb;
pub mod elb_rules;
mod error;
pub mod iam;
pub mod logs;
pub mod route53;
pub mod sts;

pub use error::{AwsError, AwsResult};
pub(crate) use error::{attempts_note, is_throttling_code, throttling_help};

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::shared::Shared;

/// How to reach AWS, from flags and settings. Unset fields fall back to the SDK's usual chain
/// (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, `~/.aws/config`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// `--profile`.
    pub profile: Option<String>,
    /// `--region` or the `region` setting.
    pub region: Option<String>,
    /// `--endpoint-url`: send every request there (emulators).
    pub endpoint_url: Option<String>,
    /// Attempts per request, first one included.
    pub max_attempts: u32,
}

impl AwsOptions {
    /// Default attempts per call: adaptive retry absorbs throttling without hammering the API.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
    /// Base of the jittered exponential backoff after a throttled attempt (the SDK's default).
    pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
    /// Longest wait before any retry, the adaptive rate limiter's waits included (the SDK's default is 20 s).
    pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
    /// An attempt with no complete answer in this time is cut, and counts as a transient failure (retried).
    pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
}

/// The retry budget of every call, shared by all clients. What the SDK does with it:
///
/// - **What is retried**: throttling errors (`Throttling`, `ThrottlingException`, `RequestLimitExceeded`, ...),
///   HTTP 500/502/503/504, timeouts and connection errors. Any other error ends the call at once.
/// - **Adaptive**: on the first throttling error the client turns on a rate limiter for that service (per
///   process), which then spaces out every call to it, first attempts included, and speeds up again as calls
///   succeed.
/// - **Attempts**: at most `max_attempts` per call (5 by default: 4 retries).
/// - **Waits**: jittered exponential from [`AwsOptions::INITIAL_BACKOFF`], each capped at
///   [`AwsOptions::MAX_BACKOFF`]; so a call gives up after at most 4 × 2 s = 8 s of waiting. The cap is what
///   bounds adaptive retry: at a command-line tool's low call rate the rate limiter's bucket never holds the 5
///   tokens a retry costs, so it asks for 8 s or more before every throttled retry and the cap decides the wait.
///   Measured through `tests/stack/fault_proxy.py`: with the SDK's 20 s cap a deploy in which 2 calls were
///   throttled took 42 s instead of 1 s; with 2 s, two deploys with 13 of their 81 calls throttled take 27 s.
///   Brief bursts of throttling are over in 2 s; under throttling that lasts, the deploy stops with a clear
///   error, and running it again carries on from what exists.
/// - **Quota**: the SDK's retry token bucket, per service and process: 500 tokens, a retry costs 5 (10 after a
///   timeout), so at most 100 retries per service and run; when it is empty a call fails at its first error
///   instead of piling more load on a struggling API.
#[must_use]
pub fn retry_config(max_attempts: u32) -> RetryConfig {
    let attempts = if max_attempts == 0 { AwsOptions::DEFAULT_MAX_ATTEMPTS } else { max_attempts };
    RetryConfig::adaptive()
        .with_max_attempts(attempts)
        .with_initial_backoff(AwsOptions::INITIAL_BACKOFF)
        .with_max_backoff(AwsOptions::MAX_BACKOFF)
}

/// The attempts per call of the configuration built last ([`sdk_config`]), for error messages.
static MAX_ATTEMPTS: AtomicU32 = AtomicU32::new(AwsOptions::DEFAULT_MAX_ATTEMPTS);

/// How many attempts a call gets before its error is final.
pub(crate) fn max_attempts() -> u32 {
    MAX_ATTEMPTS.load(Ordering::Relaxed)
}

/// One client per AWS service cargo-ecs talks to, all from the same configuration.
#[derive(Debug, Clone)]
pub struct Clients {
    /// AWS Certificate Manager.
    pub acm: aws_sdk_acm::Client,
    /// EC2 (VPCs, subnets, security groups).
    pub ec2: aws_sdk_ec2::Client,
    /// Amazon ECR.
    pub ecr: aws_sdk_ecr::Client,
    /// Amazon ECS.
    pub ecs: aws_sdk_ecs::Client,
    /// Elastic Load Balancing v2.
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// Route 53.
    pub route53: aws_sdk_route53::Client,
    /// STS (who am I).
    pub sts: aws_sdk_sts::Client,
    /// The region every client talks to (empty when none is configured).
    pub region: String,
    /// Reads and creates the services of one command share (see [`Shared`]): one per set of clients, which is
    /// one account, region and endpoint, so nothing is shared across them. Clones share it.
    pub shared: Arc<Shared>,
}

impl Clients {
    /// Clients for `config`.
    #[must_use]
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            acm: aws_sdk_acm::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
            ecr: aws_sdk_ecr::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            route53: aws_sdk_route53::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            region: config.region().map(ToString::to_string).unwrap_or_default(),
            shared: Arc::new(Shared::new()),
        }
    }

    /// Clients for these options: [`sdk_config`], then [`Clients::new`].
    pub async fn from_options(options: &AwsOptions) -> Self {
        Self::new(&sdk_config(options).await)
    }
}

/// Builds the SDK configuration. Reads no network; credentials are resolved on first use.
pub async fn sdk_config(options: &AwsOptions) -> SdkConfig {
    let retry = retry_config(options.max_attempts);
    MAX_ATTEMPTS.store(retry.max_attempts(), Ordering::Relaxed);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(TimeoutConfig::builder().operation_attempt_timeout(AwsOptions::ATTEMPT_TIMEOUT).build());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn flags_override_the_environment() {
        let config = sdk_config(&AwsOptions {
            region: Some("eu-west-3".to_owned()),
            endpoint_url: Some("http://127.0.0.1:1".to_owned()),
            ..AwsOptions::default()
        })
        .await;
        assert_eq!(config.region().map(ToString::to_string).as_deref(), Some("eu-west-3"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:1"));
        assert_eq!(config.retry_config().map(RetryConfig::max_attempts), Some(AwsOptions::DEFAULT_MAX_ATTEMPTS));
    }

    #[tokio::test]
    async fn retries_are_adaptive_and_bounded() {
        let config = sdk_config(&AwsOptions { region: Some("us-east-1".to_owned()), ..AwsOptions::default() }).await;
        let retry = config.retry_config().expect("retry config");
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Adaptive);
        assert_eq!(retry.max_attempts(), 5);
        assert_eq!(retry.initial_backoff(), AwsOptions::INITIAL_BACKOFF);
        assert_eq!(retry.max_backoff(), AwsOptions::MAX_BACKOFF);
        // The longest a call waits between its attempts before its error is final.
        let worst = AwsOptions::MAX_BACKOFF * (retry.max_attempts() - 1);
        assert!(worst <= Duration::from_secs(8), "{worst:?}");
        let timeouts = config.timeout_config().expect("timeouts");
        assert_eq!(timeouts.operation_attempt_timeout(), Some(AwsOptions::ATTEMPT_TIMEOUT));
        assert_eq!(max_attempts(), 5);
        assert_eq!(retry_config(2).max_attempts(), 2);
    }

    /// A fake STS on 127.0.0.1 that throttles the first `throttled` calls (as AWS does, in the query protocol),
    /// then answers GetCallerIdentity. Returns its URL and the number of calls it received.
    async fn throttling_sts(throttled: usize) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = calls.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0_u8; 4096];
                    loop {
                        // One request: headers, then Content-Length bytes of body.
                        let (head, length) = loop {
                            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                                let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                                let length = head
                                    .lines()
                                    .find_map(|l| l.strip_prefix("content-length:"))
                                    .and_then(|v| v.trim().parse::<usize>().ok())
                                    .unwrap_or(0);
                                break (end + 4, length);
                            }
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                        };
                        while buffer.len() < head + length {
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buffer.drain(..head + length);
                        let n = counter.fetch_add(1, Ordering::SeqCst);
                        let (status, body) = if n < throttled {
                            (
                                "400 Bad Request",
                                "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
                                 <Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>",
                            )
                        } else {
                            (
                                "200 OK",
                                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                                 <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/t</Arn>\
                                 <UserId>AIDATEST</UserId><Account>123456789012</Account></GetCallerIdentityResult>\
                                 <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\
                                 </GetCallerIdentityResponse>",
                            )
                        };
                        let answer = format!(
                            "HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if socket.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (url, calls)
    }

    /// STS built from [`sdk_config`] as the tool builds it, but with millisecond waits (the retry mode and the
    /// attempts are the tool's) and a retry partition of its own, so tests do not share a rate limiter.
    async fn sts_client(url: &str, partition: &'static str) -> aws_sdk_sts::Client {
        let config = sdk_config(&AwsOptions {
            region: Some("us-east-1".to_owned()),
            endpoint_url: Some(url.to_owned()),
            ..AwsOptions::default()
        })
        .await;
        let retry = config
            .retry_config()
            .expect("retry config")
            .clone()
            .with_initial_backoff(Duration::from_millis(1))
            .with_max_backoff(Duration::from_millis(20));
        let conf = aws_sdk_sts::config::Builder::from(&config)
            .retry_config(retry)
            .retry_partition(aws_sdk_sts::config::retry::RetryPartition::new(partition))
            .credentials_provider(aws_sdk_sts::config::Credentials::new("AKIDTEST", "test-secret", None, None, "test"))
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    #[tokio::test]
    async fn a_throttled_call_is_retried_until_it_succeeds() {
        let (url, calls) = throttling_sts(3).await;
        let sts = sts_client(&url, "cargo-ecs-test-throttled-then-ok").await;
        let identity = sts.get_caller_identity().send().await.expect("succeeds on the 4th attempt");
        assert_eq!(identity.account(), Some("123456789012"));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_call_throttled_on_every_attempt_fails_naming_the_call_and_the_attempts() {
        let (url, calls) = throttling_sts(usize::MAX).await;
        let sts = sts_client(&url, "cargo-ecs-test-always-throttled").await;
        let error = sts.get_caller_identity().send().await.expect_err("throttled to the end");
        assert_eq!(calls.load(Ordering::SeqCst), AwsOptions::DEFAULT_MAX_ATTEMPTS as usize);
        let error = AwsError::from_sdk("sts:GetCallerIdentity", "the caller's identity", &error);
        assert!(error.is_throttling(), "{error:?}");
        assert_eq!(
            error.to_string(),
            "sts:GetCallerIdentity of the caller's identity failed after 5 attempts: Rate exceeded (Throttling)"
        );
        assert!(error.help().is_some_and(|h| h.contains("sts:GetCallerIdentity")));
    }
}
