//! The resources of one service's stack as plain data: what the settings ask for (`*Spec`) and what AWS has
//! (`*State`). Specs come from [`super::desired`]; states from the thin readers in `crate::aws`. Both are compared
//! by the pure planner, so every field here is one the planner reads; nothing here talks to AWS.
//!
//! References between resources are by name in specs (a security group, a target group) because the ids of
//! resources not created yet are unknown when planning; the apply step resolves names to ids.

use std::collections::BTreeMap;

use serde::Serialize;

/// Tags on a resource.
pub type Tags = BTreeMap<String, String>;

/// A resource that exists, and whether cargo-ecs created it (it carries [`MANAGED_TAG`] = "true").
/// cargo-ecs changes or deletes only what it manages, unless the user named the resource in the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found<T> {
    /// What AWS says.
    pub state: T,
    /// Whether it carries the managed tag.
    pub managed: bool,
}

/// The tag that marks what cargo-ecs created.
pub const MANAGED_TAG: &str = crate::publish::MANAGED_TAG;
/// The tag naming the service a resource belongs to (on a shared resource: the service that created it).
pub const SERVICE_TAG: &str = "cargo-ecs:service";
/// Prefix of the tags that count the services using a shared load balancer: `cargo-ecs:user:SERVICE` = `true`.
/// A deploy adds its tag, a destroy removes it; the load balancer goes when no other service's tag is left.
pub const USER_TAG_PREFIX: &str = "cargo-ecs:user:";

/// The user tag of `service` on a shared resource.
#[must_use]
pub fn user_tag(service: &str) -> String {
    format!("{USER_TAG_PREFIX}{service}")
}

/// The services named by the user tags among `tags`, sorted.
#[must_use]
pub fn users(tags: &Tags) -> Vec<String> {
    tags.keys().filter_map(|k| k.strip_prefix(USER_TAG_PREFIX)).map(str::to_owned).collect()
}

/// Whether `tags` mark a resource as cargo-ecs's.
#[must_use]
pub fn is_managed(tags: &Tags) -> bool {
    tags.get(MANAGED_TAG).is_some_and(|v| v == "true")
}

// ---------------------------------------------------------------------------------------------------------------
// IAM

/// The trust policy principal of task roles.
pub const ECS_TASKS_PRINCIPAL: &str = "ecs-tasks.amazonaws.com";
/// The AWS managed policy every task execution role needs (pull from ECR, write logs).
pub const EXECUTION_ROLE_POLICY_ARN: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
/// Name of the inline policy that lets the execution role read exactly the configured secrets.
pub const SECRETS_POLICY_NAME: &str = "cargo-ecs-secrets";

/// An IAM role cargo-ecs creates or keeps in shape, trusted by `ecs-tasks.amazonaws.com`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RoleSpec {
    /// Role name.
    pub name: String,
    /// `arn:aws:iam::ACCOUNT:role/NAME` (known before creation: IAM ARNs are deterministic).
    pub arn: String,
    /// Managed policies to attach, sorted.
    pub managed_policies: Vec<String>,
    /// The inline policy document ([`SECRETS_POLICY_NAME`]) as canonical JSON, or `None` for no inline policy.
    pub inline_policy: Option<String>,
    /// Tags for a new role.
    pub tags: Tags,
}

/// An IAM role as it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RoleState {
    /// Role name.
    pub name: String,
    /// Role ARN.
    pub arn: String,
    /// Whether its trust policy lets `ecs-tasks.amazonaws.com` assume it.
    pub trusts_ecs_tasks: bool,
    /// Attached managed policy ARNs, sorted.
    pub managed_policies: Vec<String>,
    /// The [`SECRETS_POLICY_NAME`] inline policy as canonical JSON, if present.
    pub inline_policy: Option<String>,
}

/// A role the task uses: one cargo-ecs manages by name, or an ARN the user gave, used as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleRef {
    /// Created when missing, kept in shape.
    Managed(RoleSpec),
    /// The user's role ARN; never modified.
    External(String),
}

impl RoleRef {
    /// The ARN the task definition references.
    #[must_use]
    pub fn arn(&self) -> &str {
        match self {
            Self::Managed(spec) => &spec.arn,
            Self::External(arn) => arn,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// CloudWatch Logs

/// The service's log group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LogGroupSpec {
    /// `/ecs/SERVICE`.
    pub name: String,
    /// Retention in days.
    pub retention_days: u32,
    /// Tags for a new group.
    pub tags: Tags,
}

/// A log group as it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LogGroupState {
    /// Name.
    pub name: String,
    /// Retention in days; `None` = never expire.
    pub retention_days: Option<u32>,
}

// ---------------------------------------------------------------------------------------------------------------
// ECS cluster

/// The cluster, with the Fargate capacity providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClusterSpec {
    /// Name.
    pub name: String,
    /// `FARGATE` and `FARGATE_SPOT`.
    pub capacity_providers: Vec<String>,
    /// Tags for a new cluster.
    pub tags: Tags,
}

/// A cluster as it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClusterState {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// `ACTIVE`, `INACTIVE`, ...
    pub status: String,
    /// Capacity providers, sorted.
    pub capacity_providers: Vec<String>,
}

// ---------------------------------------------------------------------------------------------------------------
// Network

/// The VPC and subnets the service runs in (read, never created).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Network {
    /// VPC id.
    pub vpc_id: String,
    /// Subnet ids, sorted.
    pub subnets: Vec<SubnetInfo>,
}

/// One subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SubnetInfo {
    /// Subnet id.
    pub id: String,
    /// Availability zone.
    pub availability_zone: String,
    /// Whether its route table sends 0.0.0.0/0 to an internet gateway (a task there needs a public IP to pull).
    pub public: bool,
}

/// Who may connect, on one TCP port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Peer {
    /// `0.0.0.0/0` and `::/0`.
    Anywhere,
    /// Members of the security group with this name (in the same VPC).
    Group(String),
}

/// One ingress rule: a TCP port and who may reach it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Ingress {
    /// TCP port.
    pub port: u16,
    /// Who.
    pub from: Peer,
}

/// A security group cargo-ecs creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SecurityGroupSpec {
    /// Group name (unique in the VPC).
    pub name: String,
    /// Description (fixed at creation).
    pub description: String,
    /// VPC id.
    pub vpc_id: String,
    /// Ingress rules, sorted. Egress stays AWS's default (all).
    pub ingress: Vec<Ingress>,
    /// Tags for a new group.
    pub tags: Tags,
}

/// A security group as it exists. Group peers are resolved to names where the group is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SecurityGroupState {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: String,
    /// VPC id.
    pub vpc_id: String,
    /// TCP ingress rules, sorted; a group peer carries the peer group's *name* when it is in the same VPC, else
    /// its id.
    pub ingress: Vec<Ingress>,
}

// ---------------------------------------------------------------------------------------------------------------
// Load balancing

/// The internet-facing Application Load Balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LoadBalancerSpec {
    /// Name (at most 32 characters).
    pub name: String,
    /// Subnet ids (one per availability zone at least two), sorted.
    pub subnets: Vec<String>,
    /// The security group, by name.
    pub security_group: String,
    /// Tags for a new load balancer (the creating service's user tag among them).
    pub tags: Tags,
    /// The service deploying: its user tag is added to an existing load balancer.
    pub user: String,
}

/// A load balancer as it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LoadBalancerState {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// DNS name, e.g. `NAME-123.us-east-1.elb.amazonaws.com`.
    pub dns_name: String,
    /// The load balancer's canonical hosted zone id (for alias records).
    pub canonical_hosted_zone_id: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    /// `application`, `network`, ...
    pub kind: String,
    /// Subnet ids, sorted.
    pub subnets: Vec<String>,
    /// Security group ids, sorted.
    pub security_groups: Vec<String>,
    /// Services counted as its users by their user tags, sorted.
    pub users: Vec<String>,
}

/// Health check of a target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct HealthCheck {
    /// HTTP path.
    pub path: String,
    /// Seconds between checks.
    pub interval: u32,
    /// Seconds before a check fails.
    pub timeout: u32,
    /// Successes before healthy.
    pub healthy_threshold: u32,
    /// Failures before unhealthy.
    pub unhealthy_threshold: u32,
    /// HTTP codes that count as healthy, e.g. `200-399`.
    pub matcher: String,
}

/// The target group the service registers its tasks in (HTTP, target type `ip`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TargetGroupSpec {
    /// Name (at most 32 characters).
    pub name: String,
    /// VPC id.
    pub vpc_id: String,
    /// The container port.
    pub port: u16,
    /// Health check.
    pub health_check: HealthCheck,
    /// Seconds of connection draining.
    pub deregistration_delay: u32,
    /// Tags for a new target group.
    pub tags: Tags,
}

/// A target group as it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TargetGroupState {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// VPC id.
    pub vpc_id: String,
    /// Port.
    pub port: u16,
    /// `HTTP`, ...
    pub protocol: String,
    /// `ip`, `instance`, ...
    pub target_type: String,
    /// Health check.
    pub health_check: HealthCheck,
    /// Seconds of connection draining (the target group attribute).
    pub deregistration_delay: u32,
    /// ARNs of the load balancers it is attached to.
    pub load_balancers: Vec<String>,
}

/// What a listener or rule does with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListenerAction {
    /// Forward to the target group with this name (state: its ARN when the name is not known).
    Forward(String),
    /// Redirect to HTTPS on 443 (HTTP 301).
    RedirectToHttps,
    /// Answer 404 (a shared load balancer's default when no service is its catch-all).
    NotFound,
    /// An action cargo-ecs does not make (authentication, weighted forwards, other responses), described.
    Other(String),
}

impl ListenerAction {
    /// What it does, in words: `forward to api`, `redirect to HTTPS`, `answer 404`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Forward(target) => format!("forward to {target}"),
            Self::RedirectToHttps => "redirect to HTTPS".to_owned(),
            Self::NotFound => "answer 404".to_owned(),
            Self::Other(what) => what.clone(),
        }
    }
}

/// Whose a listener's default action is. Services of a cluster share its load balancer: the one service without a
/// routing rule claims the default action; the others only fill in a neutral default and never take it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Claim {
    /// The service is the load balancer's catch-all: the default action must be this one.
    Owned,
    /// The service routes by rule: the action is set on a new listener, replaces a forward to the service's own
    /// target group (it was the catch-all before) or a weaker neutral default (404 → redirect), nothing else.
    Neutral,
}

/// A listener of the load balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ListenerSpec {
    /// 80 or 443.
    pub port: u16,
    /// `HTTP` or `HTTPS`.
    pub protocol: String,
    /// The service's certificate ARN (HTTPS): the default certificate of a new listener, else added to the
    /// listener's certificates (served by SNI).
    pub certificate_arn: Option<String>,
    /// The TLS policy (HTTPS).
    pub ssl_policy: Option<String>,
    /// The default action.
    pub action: ListenerAction,
    /// Whether the service owns the default action.
    pub claim: Claim,
}

/// A listener as it exists; a forward action names the target group by name when it is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ListenerState {
    /// ARN.
    pub arn: String,
    /// Port.
    pub port: u16,
    /// Protocol.
    pub protocol: String,
    /// Default certificate ARN.
    pub certificate_arn: Option<String>,
    /// Every certificate of the listener, the default one included, sorted (HTTPS).
    pub certificates: Vec<String>,
    /// TLS policy.
    pub ssl_policy: Option<String>,
    /// The default action (a forward to an unknown target group carries its ARN).
    pub action: ListenerAction,
}

/// What a listener rule matches: the service's host name, its path prefix, or both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Route {
    /// Host header value (the service's DNS name).
    pub host: Option<String>,
    /// Path patterns: `PREFIX` and `PREFIX/*`.
    pub paths: Vec<String>,
}

impl Route {
    /// The route of a host name and/or a path prefix; `None` when there is neither (the service is the
    /// catch-all).
    #[must_use]
    pub fn new(host: Option<&str>, prefix: Option<&str>) -> Option<Self> {
        if host.is_none() && prefix.is_none() {
            return None;
        }
        let paths = prefix.map(|p| vec![p.to_owned(), format!("{p}/*")]).unwrap_or_default();
        Some(Self { host: host.map(str::to_ascii_lowercase), paths })
    }

    /// How specific the route is: more specific routes are evaluated first (a lower priority number), so that
    /// `/api/admin` wins over `/api` and a host and path rule over the host alone, whatever order they were
    /// created in.
    #[must_use]
    pub fn specificity(&self) -> u32 {
        let segments = self.paths.first().map_or(0, |p| p.split('/').filter(|s| !s.is_empty()).count());
        let segments = u32::try_from(segments).unwrap_or(u32::MAX).min(40);
        2 * segments + u32::from(self.host.is_some())
    }

    /// The band of priorities for this route: `band..band + RULES_PER_BAND`.
    #[must_use]
    pub fn band(&self) -> u32 {
        (100 - self.specificity().min(99)) * RULES_PER_BAND
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.host, self.paths.first()) {
            (Some(host), Some(path)) => write!(f, "host {host} path {path}"),
            (Some(host), None) => write!(f, "host {host}"),
            (None, Some(path)) => write!(f, "path {path}"),
            (None, None) => write!(f, "everything"),
        }
    }
}

/// Priorities per band of equally specific routes (services of one specificity on one listener).
pub const RULES_PER_BAND: u32 = 100;

/// The listener rule that sends the service's route to its target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RuleSpec {
    /// The listener's port.
    pub port: u16,
    /// What it matches.
    pub route: Route,
    /// The target group it forwards to, by name.
    pub target_group: String,
    /// Tags for a new rule.
    pub tags: Tags,
}

/// A listener rule as it exists (default rules excluded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RuleState {
    /// ARN.
    pub arn: String,
    /// The listener's port.
    pub port: u16,
    /// Priority.
    pub priority: u32,
    /// What it matches (host-header and path-pattern conditions; `None` when it has others).
    pub route: Option<Route>,
    /// Its action (a forward names the target group by name when known, else by ARN).
    pub action: ListenerAction,
}

/// The TLS policy of HTTPS listeners: TLS 1.3 and 1.2 with forward secrecy only (AWS's recommended policy).
pub const TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06";

// ---------------------------------------------------------------------------------------------------------------
// Task definition

/// The container of the task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ContainerSpec {
    /// Container name.
    pub name: String,
    /// `repository-uri@sha256:…`.
    pub image: String,
    /// Container port (TCP).
    pub port: u16,
    /// Environment, sorted.
    pub environment: BTreeMap<String, String>,
    /// Secrets: NAME to SSM parameter or Secrets Manager ARN (`valueFrom`), sorted.
    pub secrets: BTreeMap<String, String>,
    /// awslogs: the log group.
    pub log_group: String,
    /// awslogs: the region.
    pub log_region: String,
    /// awslogs: the stream prefix.
    pub log_stream_prefix: String,
}

/// A Fargate task definition revision, normalised: registering an equal one again is a no-op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TaskDefinitionSpec {
    /// Family.
    pub family: String,
    /// CPU units.
    pub cpu: u32,
    /// Memory, MiB.
    pub memory: u32,
    /// `ARM64` or `X86_64`.
    pub cpu_architecture: String,
    /// Execution role ARN.
    pub execution_role_arn: String,
    /// Task role ARN.
    pub task_role_arn: Option<String>,
    /// The one container.
    pub container: ContainerSpec,
    /// Tags for a new revision.
    pub tags: Tags,
}

/// The latest ACTIVE revision of the family, read back into the same normalised shape. `spec` is `None` when the
/// revision has a shape cargo-ecs does not make (several containers, another network mode, EC2 only, ...): then
/// any desired spec differs from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TaskDefinitionState {
    /// `family:revision` ARN.
    pub arn: String,
    /// Revision number.
    pub revision: i32,
    /// The revision, normalised (tags excluded).
    pub spec: Option<TaskDefinitionSpec>,
}

// ---------------------------------------------------------------------------------------------------------------
// Service

/// The ECS service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceSpec {
    /// Service name.
    pub name: String,
    /// Cluster name.
    pub cluster: String,
    /// The family: the service runs its newest revision (resolved to an ARN when applying).
    pub family: String,
    /// The count the user set; `None` keeps what runs (autoscaling's), 1 on create.
    pub desired_count: Option<u32>,
    /// FARGATE_SPOT with one FARGATE task as base; else launch type FARGATE.
    pub spot: bool,
    /// Subnet ids, sorted.
    pub subnets: Vec<String>,
    /// Security groups, by name.
    pub security_groups: Vec<String>,
    /// Give tasks public IPs.
    pub assign_public_ip: bool,
    /// Target group name, container name and port, when behind the load balancer.
    pub load_balancer: Option<ServiceLoadBalancer>,
    /// Seconds ECS ignores failing load balancer health checks of new tasks.
    pub health_check_grace_period: Option<u32>,
    /// Minimum healthy percent during a deployment (100).
    pub minimum_healthy_percent: u32,
    /// Maximum percent during a deployment (200).
    pub maximum_percent: u32,
    /// Deployment circuit breaker with rollback (always on).
    pub circuit_breaker: bool,
    /// Tags for a new service.
    pub tags: Tags,
}

/// How a service is attached to its target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceLoadBalancer {
    /// Target group, by name (state: by name when known, else ARN).
    pub target_group: String,
    /// Container name.
    pub container: String,
    /// Container port.
    pub port: u16,
}

/// One deployment of a service (DescribeServices `deployments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Deployment {
    /// `ecs-svc/…`.
    pub id: String,
    /// `PRIMARY`, `ACTIVE`, `INACTIVE`.
    pub status: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// Desired tasks.
    pub desired: i32,
    /// Running tasks.
    pub running: i32,
    /// Pending tasks.
    pub pending: i32,
    /// Failed tasks.
    pub failed: i32,
    /// `IN_PROGRESS`, `COMPLETED`, `FAILED`.
    pub rollout_state: Option<String>,
    /// Why.
    pub rollout_state_reason: Option<String>,
    /// Seconds since the epoch.
    pub created_at: Option<i64>,
}

/// A service event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceEvent {
    /// Event id.
    pub id: String,
    /// Seconds since the epoch.
    pub created_at: Option<i64>,
    /// Message.
    pub message: String,
}

/// A service as it exists. Security groups and target group are resolved to names where known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceState {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// `ACTIVE`, `DRAINING`, `INACTIVE`.
    pub status: String,
    /// Task definition ARN the service runs (the primary deployment's).
    pub task_definition: String,
    /// Desired count.
    pub desired_count: u32,
    /// Running count.
    pub running_count: u32,
    /// Pending count.
    pub pending_count: u32,
    /// Runs on FARGATE_SPOT (a capacity provider strategy that includes it).
    pub spot: bool,
    /// Subnet ids, sorted.
    pub subnets: Vec<String>,
    /// Security groups (names where known, else ids), sorted.
    pub security_groups: Vec<String>,
    /// Public IPs.
    pub assign_public_ip: bool,
    /// Load balancer attachment.
    pub load_balancer: Option<ServiceLoadBalancer>,
    /// Grace period.
    pub health_check_grace_period: Option<u32>,
    /// Minimum healthy percent.
    pub minimum_healthy_percent: u32,
    /// Maximum percent.
    pub maximum_percent: u32,
    /// Circuit breaker with rollback on.
    pub circuit_breaker: bool,
    /// Deployments, primary first.
    pub deployments: Vec<Deployment>,
    /// Events, newest first.
    pub events: Vec<ServiceEvent>,
}

// ---------------------------------------------------------------------------------------------------------------
// DNS

/// Kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordKind {
    /// Alias A record to the load balancer.
    Alias,
    /// CNAME to the load balancer's DNS name.
    Cname,
}

/// The record pointing at the load balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RecordSpec {
    /// Hosted zone id.
    pub zone_id: String,
    /// Fully qualified name, without the trailing dot.
    pub name: String,
    /// Alias or CNAME.
    pub kind: RecordKind,
    /// The load balancer, by name (its DNS name and zone are resolved when applying).
    pub load_balancer: String,
}

/// A record as it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RecordState {
    /// Name, without the trailing dot.
    pub name: String,
    /// `A` with an alias target, or `CNAME`.
    pub kind: RecordKind,
    /// The alias target's or CNAME's DNS name, lower case, without the trailing dot.
    pub target: String,
}

/// A hosted zone found by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostedZone {
    /// Zone id (without `/hostedzone/`).
    pub id: String,
    /// Name, without the trailing dot.
    pub name: String,
    /// Private zone.
    pub private: bool,
}
