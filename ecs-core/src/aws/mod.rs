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

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

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
        }
    }

    /// Clients for these options: [`sdk_config`], then [`Clients::new`].
    pub async fn from_options(options: &AwsOptions) -> Self {
        Self::new(&sdk_config(options).await)
    }
}

/// Builds the SDK configuration. Reads no network; credentials are resolved on first use.
pub async fn sdk_config(options: &AwsOptions) -> SdkConfig {
    let attempts = if options.max_attempts == 0 { AwsOptions::DEFAULT_MAX_ATTEMPTS } else { options.max_attempts };
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(attempts));
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
}
