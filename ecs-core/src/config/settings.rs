//! The resolved, validated settings of one service: what every later stage (build, plan, apply) reads.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

/// Everything needed to build and deploy one package, after layering, defaults and validation.
/// Field names are the setting names of `[package.metadata.ecs]` (kebab-case in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Settings {
    /// The Cargo package.
    pub package: String,
    /// The package's Cargo.toml.
    pub manifest_path: PathBuf,
    /// The environment overlay applied (`--env`), if any.
    pub environment: Option<String>,
    /// The binary target to ship.
    pub bin: String,
    /// ECS service name.
    pub service: String,
    /// ECS cluster name.
    pub cluster: String,
    /// ECR repository name.
    pub repository: String,
    /// Task definition family.
    pub family: String,
    /// Container name.
    pub container: String,
    /// CPU architecture of image and task.
    pub architecture: Architecture,
    /// Task CPU units (1024 = 1 vCPU).
    pub cpu: u32,
    /// Task memory, MiB.
    pub memory: u32,
    /// Container port.
    pub port: u16,
    /// Health check path.
    pub health_check_path: String,
    /// Seconds between health checks.
    pub health_check_interval: u32,
    /// Seconds before a health check times out.
    pub health_check_timeout: u32,
    /// Successes before healthy.
    pub healthy_threshold: u32,
    /// Failures before unhealthy.
    pub unhealthy_threshold: u32,
    /// Seconds of connection draining.
    pub deregistration_delay: u32,
    /// Seconds ECS ignores load balancer health checks of new tasks.
    pub health_check_grace_period: u32,
    /// Desired task count when the user set one; `None` means 1 on create and "keep what runs" on update.
    pub desired_count: Option<u32>,
    /// Run on Fargate Spot.
    pub spot: bool,
    /// Container environment.
    pub env: BTreeMap<String, String>,
    /// Container secrets: NAME to SSM parameter or Secrets Manager ARN.
    pub secrets: BTreeMap<String, String>,
    /// Extra tags for every resource.
    pub tags: BTreeMap<String, String>,
    /// Execution role name or ARN.
    pub execution_role: String,
    /// Task role name or ARN.
    pub task_role: Option<String>,
    /// CloudWatch Logs retention in days.
    pub log_retention_days: u32,
    /// AWS region, when set in settings or flags.
    pub region: Option<String>,
    /// VPC id; `None` means the default VPC.
    pub vpc: Option<String>,
    /// Subnet ids; empty means the VPC's subnets.
    pub subnets: Vec<String>,
    /// Whether tasks get public IPs.
    pub assign_public_ip: bool,
    /// The load balancer, or `None` when `load-balancer.enabled = false`.
    pub load_balancer: Option<LoadBalancer>,
    /// The DNS record, when `dns.zone` is set.
    pub dns: Option<Dns>,
    /// How the image is built.
    pub image: Image,
    /// How the binary is compiled.
    pub build: Build,
}

impl Settings {
    /// The desired count to create a service with.
    #[must_use]
    pub fn initial_desired_count(&self) -> u32 {
        self.desired_count.unwrap_or(1)
    }
}

/// CPU architecture of the image and of the Fargate task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Architecture {
    /// 64-bit ARM (Graviton).
    #[serde(rename = "arm64")]
    Arm64,
    /// 64-bit x86.
    #[serde(rename = "x86_64")]
    X86_64,
}

impl Architecture {
    /// The Rust target triple for this architecture and libc.
    #[must_use]
    pub fn rust_target(self, libc: Libc) -> &'static str {
        match (self, libc) {
            (Self::Arm64, Libc::Musl) => "aarch64-unknown-linux-musl",
            (Self::Arm64, Libc::Gnu) => "aarch64-unknown-linux-gnu",
            (Self::X86_64, Libc::Musl) => "x86_64-unknown-linux-musl",
            (Self::X86_64, Libc::Gnu) => "x86_64-unknown-linux-gnu",
        }
    }

    /// ECS `runtimePlatform.cpuArchitecture`.
    #[must_use]
    pub fn ecs_name(self) -> &'static str {
        match self {
            Self::Arm64 => "ARM64",
            Self::X86_64 => "X86_64",
        }
    }

    /// The OCI image config `architecture`.
    #[must_use]
    pub fn oci_name(self) -> &'static str {
        match self {
            Self::Arm64 => "arm64",
            Self::X86_64 => "amd64",
        }
    }
}

/// The load balancer in front of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LoadBalancer {
    /// Load balancer name.
    pub name: String,
    /// Target group name.
    pub target_group: String,
    /// Certificate ARN or domain to look one up by; `None` serves plain HTTP.
    pub certificate: Option<String>,
    /// Path prefix the service answers under on a shared load balancer (`/api`, without a trailing slash).
    pub path: Option<String>,
}

/// The Route 53 record pointing at the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Dns {
    /// Hosted zone name, without trailing dot.
    pub zone: String,
    /// Fully qualified record name, without trailing dot.
    pub name: String,
    /// Alias A record or CNAME.
    #[serde(rename = "type")]
    pub record_type: DnsType,
}

/// Kind of Route 53 record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsType {
    /// An alias A record to the load balancer (free, works at the zone apex).
    Alias,
    /// A CNAME to the load balancer's DNS name.
    Cname,
}

/// How the image is built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Image {
    /// Which builder.
    pub builder: ImageBuilder,
    /// The user's Dockerfile, an absolute path.
    pub dockerfile: Option<PathBuf>,
    /// Base image of the rendered Dockerfile.
    pub base: String,
    /// Which libc to link against.
    pub libc: Libc,
}

/// The image builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageBuilder {
    /// Daemonless: layers and manifest written directly.
    Oci,
    /// Through the Docker Engine API.
    Docker,
}

/// The C library the binary links against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Libc {
    /// Static musl: runs on `scratch`.
    Musl,
    /// Dynamic glibc: needs a base image that has it.
    Gnu,
}

/// How the binary is compiled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Build {
    /// Cargo profile.
    pub profile: String,
    /// Features to enable.
    pub features: Vec<String>,
    /// Disable default features.
    pub no_default_features: bool,
    /// Strip symbols from the binary.
    pub strip: bool,
}
