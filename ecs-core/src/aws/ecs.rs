//! Amazon ECS: the cluster, task definition revisions, the service and its tasks.
//!
//! Typed calls in, crate model out, no decisions: readers return the `*State` types of [`crate::stack::model`],
//! writers take its `*Spec` types; what to change is the planner's business. The helpers the IAM and CloudWatch
//! Logs wrappers share (error mapping, the managed tag) live here too.

use std::collections::BTreeMap;

/// The SDK, for callers that name its types (a described `Service` for [`service_state_from`], ...).
pub use aws_sdk_ecs;
use aws_sdk_ecs::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, Cluster, ClusterField, Compatibility,
    ContainerDefinition, CpuArchitecture, DeploymentCircuitBreaker, DeploymentConfiguration, DesiredStatus,
    KeyValuePair, LaunchType, LoadBalancer, LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode, OsFamily,
    PortMapping, PropagateTags, RuntimePlatform, Secret, Service, ServiceField, Tag, Task, TaskDefinition,
    TaskDefinitionField, TransportProtocol,
};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{AwsError, AwsResult};
use crate::stack::model::{
    self, ClusterSpec, ClusterState, ContainerSpec, Found, MANAGED_TAG, ServiceEvent, ServiceLoadBalancer, ServiceSpec,
    ServiceState, Tags, TaskDefinitionSpec, TaskDefinitionState, is_managed,
};

// ---------------------------------------------------------------------------------------------------------------
// Shared by the thin wrappers (ecs, iam, logs)

/// Maps a failed SDK call to [`AwsError`], named by the call and the resource: the one place that does it.
pub(crate) trait SdkResultExt<T> {
    /// The result, its error mapped with [`AwsError::from_sdk`].
    fn or_aws(self, call: &'static str, resource: &str) -> AwsResult<T>;
}

impl<T, E, R> SdkResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn or_aws(self, call: &'static str, resource: &str) -> AwsResult<T> {
        self.map_err(|error| AwsError::from_sdk(call, resource, &error))
    }
}

/// `Ok(None)` when AWS said the resource does not exist.
pub(crate) fn none_if_not_found<T>(result: AwsResult<T>) -> AwsResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// An answer that lacks a field AWS documents as always present.
pub(crate) fn missing(call: &'static str, resource: &str, field: &str) -> AwsError {
    AwsError::other(call, resource, format!("the answer has no {field}"))
}

/// A request the SDK refused to build (a required field left empty).
pub(crate) fn invalid_request(call: &'static str, resource: &str, error: &BuildError) -> AwsError {
    AwsError::other(call, resource, format!("invalid request: {error}"))
}

/// `tags` plus [`MANAGED_TAG`] = "true": whatever the spec carries, what cargo-ecs creates is marked as its own.
pub(crate) fn with_managed_tag(tags: &Tags) -> Tags {
    let mut all = tags.clone();
    all.insert(MANAGED_TAG.to_owned(), "true".to_owned());
    all
}

/// Seconds since the epoch.
fn epoch_seconds(time: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<i64> {
    time.map(aws_sdk_ecs::primitives::DateTime::secs)
}

/// A count AWS reports as `i32`, never negative in practice.
fn count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

/// A count for the API (at most 5000 after validation).
fn api_count(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn tag_list(tags: &Tags) -> Vec<Tag> {
    with_managed_tag(tags).into_iter().map(|(key, value)| Tag::builder().key(key).value(value).build()).collect()
}

fn tag_map(tags: &[Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Cluster

/// The cluster `name`; `None` when it does not exist or is INACTIVE (deleted).
///
/// # Errors
/// When DescribeClusters fails.
pub async fn observe_cluster(client: &aws_sdk_ecs::Client, name: &str) -> AwsResult<Option<Found<ClusterState>>> {
    let what = format!("cluster {name}");
    let output = client
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Tags)
        .send()
        .await
        .or_aws("ecs:DescribeClusters", &what)?;
    Ok(active_cluster(output.clusters(), name)
        .map(|cluster| Found { state: cluster_state(cluster), managed: is_managed(&tag_map(cluster.tags())) }))
}

/// Creates the cluster with the spec's capacity providers, FARGATE as its default strategy, and the tags.
///
/// # Errors
/// When CreateCluster fails.
pub async fn create_cluster(client: &aws_sdk_ecs::Client, spec: &ClusterSpec) -> AwsResult<ClusterState> {
    const CALL: &str = "ecs:CreateCluster";
    let what = format!("cluster {}", spec.name);
    let output = client
        .create_cluster()
        .cluster_name(&spec.name)
        .set_capacity_providers(Some(spec.capacity_providers.clone()))
        .set_default_capacity_provider_strategy(Some(fargate_default_strategy(CALL, &what)?))
        .set_tags(Some(tag_list(&spec.tags)))
        .send()
        .await
        .or_aws(CALL, &what)?;
    output.cluster().map(cluster_state).ok_or_else(|| missing(CALL, &what, "cluster"))
}

/// Adds the spec's capacity providers the cluster lacks, keeping the ones it has and its default strategy (FARGATE
/// when it has none). Reads the cluster first: PutClusterCapacityProviders replaces both lists. A cluster that
/// has every provider already is returned as is.
///
/// # Errors
/// When a call fails, or the cluster does not exist.
pub async fn update_cluster(client: &aws_sdk_ecs::Client, spec: &ClusterSpec) -> AwsResult<ClusterState> {
    const CALL: &str = "ecs:PutClusterCapacityProviders";
    let what = format!("cluster {}", spec.name);
    let described =
        client.describe_clusters().clusters(&spec.name).send().await.or_aws("ecs:DescribeClusters", &what)?;
    let cluster = active_cluster(described.clusters(), &spec.name)
        .ok_or_else(|| AwsError::other("ecs:DescribeClusters", &what, "the cluster does not exist"))?;
    let mut providers = cluster.capacity_providers().to_vec();
    for provider in &spec.capacity_providers {
        if !providers.contains(provider) {
            providers.push(provider.clone());
        }
    }
    if providers.len() == cluster.capacity_providers().len() {
        return Ok(cluster_state(cluster));
    }
    let strategy = if cluster.default_capacity_provider_strategy().is_empty() {
        fargate_default_strategy(CALL, &what)?
    } else {
        cluster.default_capacity_provider_strategy().to_vec()
    };
    let output = client
        .put_cluster_capacity_providers()
        .cluster(&spec.name)
        .set_capacity_providers(Some(providers))
        .set_default_capacity_provider_strategy(Some(strategy))
        .send()
        .await
        .or_aws(CALL, &what)?;
    output.cluster().map(cluster_state).ok_or_else(|| missing(CALL, &what, "cluster"))
}

fn active_cluster<'a>(clusters: &'a [Cluster], name: &str) -> Option<&'a Cluster> {
    clusters.iter().find(|c| c.cluster_name() == Some(name) && c.status().is_some_and(|s| s != "INACTIVE"))
}

fn cluster_state(cluster: &Cluster) -> ClusterState {
    let mut capacity_providers = cluster.capacity_providers().to_vec();
    capacity_providers.sort();
    ClusterState {
        name: cluster.cluster_name().unwrap_or_default().to_owned(),
        arn: cluster.cluster_arn().unwrap_or_default().to_owned(),
        status: cluster.status().unwrap_or_default().to_owned(),
        capacity_providers,
    }
}

fn fargate_default_strategy(call: &'static str, what: &str) -> AwsResult<Vec<CapacityProviderStrategyItem>> {
    Ok(vec![strategy_item("FARGATE", 1, 0).map_err(|e| invalid_request(call, what, &e))?])
}

fn strategy_item(provider: &str, weight: i32, base: i32) -> Result<CapacityProviderStrategyItem, BuildError> {
    CapacityProviderStrategyItem::builder().capacity_provider(provider).weight(weight).base(base).build()
}

// ---------------------------------------------------------------------------------------------------------------
// Task definition

/// The latest ACTIVE revision of `family`, normalised (see [`task_definition_spec`]); `None` when the family has
/// no active revision.
///
/// # Errors
/// When DescribeTaskDefinition fails otherwise.
pub async fn observe_task_definition(
    client: &aws_sdk_ecs::Client,
    family: &str,
) -> AwsResult<Option<TaskDefinitionState>> {
    const CALL: &str = "ecs:DescribeTaskDefinition";
    let what = format!("task definition family {family}");
    let described = client
        .describe_task_definition()
        .task_definition(family)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .or_aws(CALL, &what);
    let output = match described {
        // ECS's answer for a family with no (active) revision.
        Err(error)
            if error.code.as_deref() == Some("ClientException")
                && error.message.contains("Unable to describe task definition") =>
        {
            return Ok(None);
        }
        other => other?,
    };
    let definition = output.task_definition().ok_or_else(|| missing(CALL, &what, "taskDefinition"))?;
    task_definition_state(CALL, &what, definition).map(Some)
}

/// Registers a new revision of the spec: FARGATE, awsvpc, Linux on the spec's architecture, the one essential
/// container with its TCP port, environment, secrets (`valueFrom`) and awslogs, tagged.
///
/// # Errors
/// When RegisterTaskDefinition fails.
pub async fn register_task_definition(
    client: &aws_sdk_ecs::Client,
    spec: &TaskDefinitionSpec,
) -> AwsResult<TaskDefinitionState> {
    const CALL: &str = "ecs:RegisterTaskDefinition";
    let what = format!("task definition family {}", spec.family);
    let invalid = |e: BuildError| invalid_request(CALL, &what, &e);
    let c = &spec.container;
    let environment: Vec<KeyValuePair> =
        c.environment.iter().map(|(name, value)| KeyValuePair::builder().name(name).value(value).build()).collect();
    let secrets = c
        .secrets
        .iter()
        .map(|(name, from)| Secret::builder().name(name).value_from(from).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let logs = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &c.log_group)
        .options("awslogs-region", &c.log_region)
        .options("awslogs-stream-prefix", &c.log_stream_prefix)
        .build()
        .map_err(invalid)?;
    let container = ContainerDefinition::builder()
        .name(&c.name)
        .image(&c.image)
        .essential(true)
        .port_mappings(
            PortMapping::builder().container_port(i32::from(c.port)).protocol(TransportProtocol::Tcp).build(),
        )
        .set_environment((!environment.is_empty()).then_some(environment))
        .set_secrets((!secrets.is_empty()).then_some(secrets))
        .log_configuration(logs)
        .build();
    let output = client
        .register_task_definition()
        .family(&spec.family)
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .runtime_platform(
            RuntimePlatform::builder()
                .cpu_architecture(CpuArchitecture::from(spec.cpu_architecture.as_str()))
                .operating_system_family(OsFamily::Linux)
                .build(),
        )
        .cpu(spec.cpu.to_string())
        .memory(spec.memory.to_string())
        .execution_role_arn(&spec.execution_role_arn)
        .set_task_role_arn(spec.task_role_arn.clone())
        .container_definitions(container)
        .set_tags(Some(tag_list(&spec.tags)))
        .send()
        .await
        .or_aws(CALL, &what)?;
    let definition = output.task_definition().ok_or_else(|| missing(CALL, &what, "taskDefinition"))?;
    task_definition_state(CALL, &what, definition)
}

fn task_definition_state(
    call: &'static str,
    what: &str,
    definition: &TaskDefinition,
) -> AwsResult<TaskDefinitionState> {
    Ok(TaskDefinitionState {
        arn: definition.task_definition_arn().ok_or_else(|| missing(call, what, "taskDefinitionArn"))?.to_owned(),
        revision: definition.revision(),
        spec: task_definition_spec(definition),
    })
}

/// A described revision in the shape [`register_task_definition`] registers, so that registering an unchanged
/// spec would be a no-op: environment and secrets as maps, cpu and memory parsed ("1 vCPU" and "1 GB" forms
/// too), the architecture X86_64 when the revision names none, tags left out. `None` when the revision has
/// another shape: not exactly one container, not awsvpc, not FARGATE-compatible, not exactly one TCP port
/// mapping, no awslogs, a non-essential container, a command or entry point, another OS than Linux.
#[must_use]
pub fn task_definition_spec(definition: &TaskDefinition) -> Option<TaskDefinitionSpec> {
    let [container] = definition.container_definitions() else { return None };
    if definition.network_mode() != Some(&NetworkMode::Awsvpc)
        || !definition.requires_compatibilities().contains(&Compatibility::Fargate)
    {
        return None;
    }
    let platform = definition.runtime_platform();
    if platform.and_then(RuntimePlatform::operating_system_family).is_some_and(|os| *os != OsFamily::Linux) {
        return None;
    }
    let cpu_architecture =
        platform.and_then(RuntimePlatform::cpu_architecture).map_or("X86_64", CpuArchitecture::as_str).to_owned();
    if container.essential() == Some(false) || !container.command().is_empty() || !container.entry_point().is_empty() {
        return None;
    }
    let [port] = container.port_mappings() else { return None };
    if port.protocol().is_some_and(|p| *p != TransportProtocol::Tcp) {
        return None;
    }
    let logs = container.log_configuration()?;
    if *logs.log_driver() != LogDriver::Awslogs {
        return None;
    }
    let options = logs.options()?;
    let option = |key: &str| options.get(key).cloned();
    Some(TaskDefinitionSpec {
        family: definition.family()?.to_owned(),
        cpu: parse_cpu_units(definition.cpu()?)?,
        memory: parse_memory_mib(definition.memory()?)?,
        cpu_architecture,
        execution_role_arn: definition.execution_role_arn()?.to_owned(),
        task_role_arn: definition.task_role_arn().map(str::to_owned),
        container: ContainerSpec {
            name: container.name()?.to_owned(),
            image: container.image()?.to_owned(),
            port: u16::try_from(port.container_port()?).ok()?,
            environment: container
                .environment()
                .iter()
                .filter_map(|kv| Some((kv.name()?.to_owned(), kv.value().unwrap_or_default().to_owned())))
                .collect(),
            secrets: container.secrets().iter().map(|s| (s.name().to_owned(), s.value_from().to_owned())).collect(),
            log_group: option("awslogs-group")?,
            log_region: option("awslogs-region")?,
            log_stream_prefix: option("awslogs-stream-prefix")?,
        },
        tags: Tags::new(),
    })
}

/// Task CPU as ECS reports it: units ("512"), or vCPU ("0.5 vCPU", "1 vcpu").
fn parse_cpu_units(text: &str) -> Option<u32> {
    parse_scaled(text, &[("vcpu", 1024.0)])
}

/// Task memory as ECS reports it: MiB ("1024"), or "1 GB" / "512 MiB" / "512 MB".
fn parse_memory_mib(text: &str) -> Option<u32> {
    parse_scaled(text, &[("gib", 1024.0), ("gb", 1024.0), ("mib", 1.0), ("mb", 1.0)])
}

/// A number, optionally followed by one of `units` (case-insensitive) that multiplies it.
fn parse_scaled(text: &str, units: &[(&str, f64)]) -> Option<u32> {
    let text = text.trim().to_ascii_lowercase();
    if let Ok(value) = text.parse::<u32>() {
        return Some(value);
    }
    let (number, factor) =
        units.iter().find_map(|(unit, factor)| text.strip_suffix(unit).map(|number| (number.trim(), *factor)))?;
    let value: f64 = number.parse().ok()?;
    let scaled = (value * factor).round();
    // Integral, finite and in range: the cast is exact.
    (scaled.is_finite() && scaled >= 0.0 && scaled <= f64::from(u32::MAX)).then_some(scaled as u32)
}

// ---------------------------------------------------------------------------------------------------------------
// Service

/// Names for the ids and ARNs a described service carries, so that its state names security groups and the
/// target group as the spec does. Ids missing from the maps stay ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameMap {
    /// Security group id to name.
    pub security_groups: BTreeMap<String, String>,
    /// Target group ARN to name.
    pub target_groups: BTreeMap<String, String>,
}

/// What a service spec's names stand for in AWS, resolved by the apply step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedIds {
    /// Security group name to id, for every name of [`ServiceSpec::security_groups`].
    pub security_groups: BTreeMap<String, String>,
    /// The target group's ARN, when the spec has a load balancer.
    pub target_group: Option<String>,
}

impl ResolvedIds {
    /// The reverse mapping, for reading back what was written: ids to the spec's names.
    #[must_use]
    pub fn names(&self, spec: &ServiceSpec) -> NameMap {
        NameMap {
            security_groups: self.security_groups.iter().map(|(name, id)| (id.clone(), name.clone())).collect(),
            target_groups: match (&self.target_group, &spec.load_balancer) {
                (Some(arn), Some(lb)) => BTreeMap::from([(arn.clone(), lb.target_group.clone())]),
                _ => BTreeMap::new(),
            },
        }
    }
}

/// The service `name` of `cluster`; `None` when it (or the cluster) does not exist or is INACTIVE.
///
/// # Errors
/// When DescribeServices fails otherwise.
pub async fn observe_service(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    name: &str,
    names: &NameMap,
) -> AwsResult<Option<Found<ServiceState>>> {
    Ok(describe_service(client, cluster, name).await?.map(|service| found_service(&service, names)))
}

/// The service `name` of `cluster` as ECS describes it, with its tags; `None` when it (or the cluster) does not
/// exist or is INACTIVE. [`found_service`] turns it into the model once the names it refers to are known.
///
/// # Errors
/// When DescribeServices fails.
pub async fn describe_service(client: &aws_sdk_ecs::Client, cluster: &str, name: &str) -> AwsResult<Option<Service>> {
    let what = format!("service {name}");
    let described = client
        .describe_services()
        .cluster(cluster)
        .services(name)
        .include(ServiceField::Tags)
        .send()
        .await
        .or_aws("ecs:DescribeServices", &what);
    let Some(output) = none_if_not_found(described)? else { return Ok(None) };
    Ok(output
        .services()
        .iter()
        .find(|s| s.service_name() == Some(name) && s.status().is_some_and(|status| status != "INACTIVE"))
        .cloned())
}

/// A described service as the model, named through `names`, and whether it carries the managed tag.
#[must_use]
pub fn found_service(service: &Service, names: &NameMap) -> Found<ServiceState> {
    Found { state: service_state_from(service, names), managed: is_managed(&tag_map(service.tags())) }
}

/// Events kept in a [`ServiceState`], newest first.
pub const SERVICE_EVENTS: usize = 20;

/// A described service as the crate's model: security groups and target group named through `names`,
/// deployments primary first, the newest [`SERVICE_EVENTS`] events first. Pure: the watch loop reuses it.
#[must_use]
pub fn service_state_from(service: &Service, names: &NameMap) -> ServiceState {
    let mut deployments: Vec<model::Deployment> = service
        .deployments()
        .iter()
        .map(|d| model::Deployment {
            id: d.id().unwrap_or_default().to_owned(),
            status: d.status().unwrap_or_default().to_owned(),
            task_definition: d.task_definition().unwrap_or_default().to_owned(),
            desired: d.desired_count(),
            running: d.running_count(),
            pending: d.pending_count(),
            failed: d.failed_tasks(),
            rollout_state: d.rollout_state().map(|s| s.as_str().to_owned()),
            rollout_state_reason: d.rollout_state_reason().map(str::to_owned),
            created_at: epoch_seconds(d.created_at()),
        })
        .collect();
    deployments.sort_by_key(|d| (d.status != "PRIMARY", std::cmp::Reverse(d.created_at)));
    let mut events: Vec<ServiceEvent> = service
        .events()
        .iter()
        .map(|e| ServiceEvent {
            id: e.id().unwrap_or_default().to_owned(),
            created_at: epoch_seconds(e.created_at()),
            message: e.message().unwrap_or_default().to_owned(),
        })
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.created_at));
    events.truncate(SERVICE_EVENTS);

    let network = service.network_configuration().and_then(NetworkConfiguration::awsvpc_configuration);
    let mut subnets = network.map(|n| n.subnets().to_vec()).unwrap_or_default();
    subnets.sort();
    let mut security_groups: Vec<String> = network
        .map(|n| n.security_groups().iter().map(|id| names.security_groups.get(id).unwrap_or(id).clone()).collect())
        .unwrap_or_default();
    security_groups.sort();
    let deployment = service.deployment_configuration();
    let breaker = deployment.and_then(DeploymentConfiguration::deployment_circuit_breaker);
    ServiceState {
        name: service.service_name().unwrap_or_default().to_owned(),
        arn: service.service_arn().unwrap_or_default().to_owned(),
        status: service.status().unwrap_or_default().to_owned(),
        task_definition: deployments
            .first()
            .filter(|d| d.status == "PRIMARY")
            .map(|d| d.task_definition.clone())
            .or_else(|| service.task_definition().map(str::to_owned))
            .unwrap_or_default(),
        desired_count: count(service.desired_count()),
        running_count: count(service.running_count()),
        pending_count: count(service.pending_count()),
        spot: service.capacity_provider_strategy().iter().any(|s| s.capacity_provider() == "FARGATE_SPOT"),
        subnets,
        security_groups,
        assign_public_ip: network.and_then(AwsVpcConfiguration::assign_public_ip) == Some(&AssignPublicIp::Enabled),
        load_balancer: service.load_balancers().first().map(|lb| ServiceLoadBalancer {
            target_group: lb
                .target_group_arn()
                .map(|arn| names.target_groups.get(arn).map_or(arn, String::as_str))
                .or_else(|| lb.load_balancer_name())
                .unwrap_or_default()
                .to_owned(),
            container: lb.container_name().unwrap_or_default().to_owned(),
            port: lb.container_port().and_then(|p| u16::try_from(p).ok()).unwrap_or_default(),
        }),
        health_check_grace_period: service.health_check_grace_period_seconds().map(count),
        minimum_healthy_percent: deployment
            .and_then(DeploymentConfiguration::minimum_healthy_percent)
            .map_or(100, count),
        maximum_percent: deployment.and_then(DeploymentConfiguration::maximum_percent).map_or(200, count),
        circuit_breaker: breaker.is_some_and(|b| b.enable() && b.rollback()),
        deployments,
        events,
    }
}

/// Creates the service: FARGATE (or FARGATE_SPOT with one FARGATE task as base), awsvpc, the load balancer,
/// the deployment configuration, `spec.desired_count` or 1 task, tags propagated from the service, and a client
/// token derived from the inputs, so that a retried create is idempotent.
///
/// # Errors
/// When a name has no id in `ids`, or CreateService fails.
pub async fn create_service(
    client: &aws_sdk_ecs::Client,
    spec: &ServiceSpec,
    task_definition_arn: &str,
    ids: &ResolvedIds,
) -> AwsResult<ServiceState> {
    const CALL: &str = "ecs:CreateService";
    let what = format!("service {}", spec.name);
    let parts = ServiceParts::new(CALL, &what, spec, ids)?;
    let request = client
        .create_service()
        .cluster(&spec.cluster)
        .service_name(&spec.name)
        .task_definition(task_definition_arn)
        .desired_count(api_count(spec.desired_count.unwrap_or(1)))
        .network_configuration(parts.network)
        .set_load_balancers((!parts.load_balancers.is_empty()).then_some(parts.load_balancers))
        .set_health_check_grace_period_seconds(parts.grace_period)
        .deployment_configuration(parts.deployment)
        .propagate_tags(PropagateTags::Service)
        .enable_ecs_managed_tags(true)
        .set_tags(Some(tag_list(&spec.tags)))
        .client_token(client_token(spec, task_definition_arn, ids));
    let request = if parts.strategy.is_empty() {
        request.launch_type(LaunchType::Fargate)
    } else {
        request.set_capacity_provider_strategy(Some(parts.strategy))
    };
    let output = request.send().await.or_aws(CALL, &what)?;
    let service = output.service().ok_or_else(|| missing(CALL, &what, "service"))?;
    Ok(service_state_from(service, &ids.names(spec)))
}

/// Updates the service to the spec and `task_definition_arn`: network, load balancer (an empty list removes
/// one), capacity (the spot strategy, or an empty strategy: back to the FARGATE launch type), deployment
/// configuration. Sends `desiredCount` only when the spec sets it, so autoscaling's count stays otherwise.
///
/// # Errors
/// When a name has no id in `ids`, or UpdateService fails.
pub async fn update_service(
    client: &aws_sdk_ecs::Client,
    spec: &ServiceSpec,
    task_definition_arn: &str,
    ids: &ResolvedIds,
    force_new_deployment: bool,
) -> AwsResult<ServiceState> {
    const CALL: &str = "ecs:UpdateService";
    let what = format!("service {}", spec.name);
    let parts = ServiceParts::new(CALL, &what, spec, ids)?;
    let output = client
        .update_service()
        .cluster(&spec.cluster)
        .service(&spec.name)
        .task_definition(task_definition_arn)
        .set_desired_count(spec.desired_count.map(api_count))
        .set_capacity_provider_strategy(Some(parts.strategy))
        .network_configuration(parts.network)
        .set_load_balancers(Some(parts.load_balancers))
        .set_health_check_grace_period_seconds(parts.grace_period)
        .deployment_configuration(parts.deployment)
        .propagate_tags(PropagateTags::Service)
        .enable_ecs_managed_tags(true)
        .force_new_deployment(force_new_deployment)
        .send()
        .await
        .or_aws(CALL, &what)?;
    let service = output.service().ok_or_else(|| missing(CALL, &what, "service"))?;
    Ok(service_state_from(service, &ids.names(spec)))
}

/// What CreateService and UpdateService both send, from the spec and the resolved ids.
struct ServiceParts {
    network: NetworkConfiguration,
    load_balancers: Vec<LoadBalancer>,
    grace_period: Option<i32>,
    deployment: DeploymentConfiguration,
    /// Empty: launch type FARGATE.
    strategy: Vec<CapacityProviderStrategyItem>,
}

impl ServiceParts {
    fn new(call: &'static str, what: &str, spec: &ServiceSpec, ids: &ResolvedIds) -> AwsResult<Self> {
        let invalid = |e: BuildError| invalid_request(call, what, &e);
        let security_groups = spec
            .security_groups
            .iter()
            .map(|name| {
                ids.security_groups.get(name).cloned().ok_or_else(|| {
                    AwsError::other(call, what, format!("security group {name} has no id (it was not resolved)"))
                })
            })
            .collect::<AwsResult<Vec<_>>>()?;
        let awsvpc = AwsVpcConfiguration::builder()
            .set_subnets(Some(spec.subnets.clone()))
            .set_security_groups(Some(security_groups))
            .assign_public_ip(if spec.assign_public_ip { AssignPublicIp::Enabled } else { AssignPublicIp::Disabled })
            .build()
            .map_err(invalid)?;
        let load_balancers = match &spec.load_balancer {
            Some(lb) => {
                let arn = ids.target_group.as_deref().ok_or_else(|| {
                    AwsError::other(
                        call,
                        what,
                        format!("target group {} has no ARN (it was not resolved)", lb.target_group),
                    )
                })?;
                vec![
                    LoadBalancer::builder()
                        .target_group_arn(arn)
                        .container_name(&lb.container)
                        .container_port(i32::from(lb.port))
                        .build(),
                ]
            }
            None => Vec::new(),
        };
        let strategy = if spec.spot {
            vec![
                strategy_item("FARGATE_SPOT", 1, 0).map_err(invalid)?,
                strategy_item("FARGATE", 0, 1).map_err(invalid)?,
            ]
        } else {
            Vec::new()
        };
        Ok(Self {
            network: NetworkConfiguration::builder().awsvpc_configuration(awsvpc).build(),
            grace_period: spec.load_balancer.as_ref().and(spec.health_check_grace_period).map(api_count),
            load_balancers,
            deployment: DeploymentConfiguration::builder()
                .deployment_circuit_breaker(
                    DeploymentCircuitBreaker::builder()
                        .enable(spec.circuit_breaker)
                        .rollback(spec.circuit_breaker)
                        .build(),
                )
                .minimum_healthy_percent(api_count(spec.minimum_healthy_percent))
                .maximum_percent(api_count(spec.maximum_percent))
                .build(),
            strategy,
        })
    }
}

/// CreateService's idempotency token (at most 36 characters): the same inputs give the same token.
fn client_token(spec: &ServiceSpec, task_definition_arn: &str, ids: &ResolvedIds) -> String {
    let mut hash = Sha256::new();
    hash.update(serde_json::to_vec(spec).unwrap_or_default());
    hash.update([0]);
    hash.update(task_definition_arn.as_bytes());
    for (name, id) in &ids.security_groups {
        hash.update([0]);
        hash.update(name.as_bytes());
        hash.update([1]);
        hash.update(id.as_bytes());
    }
    hash.update([0]);
    hash.update(ids.target_group.as_deref().unwrap_or_default().as_bytes());
    let digest = hex::encode(hash.finalize());
    format!("cargo-ecs-{}", &digest[..26])
}

// ---------------------------------------------------------------------------------------------------------------
// Tasks

/// A task of the service, for diagnosing a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TaskInfo {
    /// Task id (the last part of its ARN).
    pub id: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// `PROVISIONING`, `PENDING`, `RUNNING`, `STOPPED`, ...
    pub last_status: String,
    /// `RUNNING` or `STOPPED`.
    pub desired_status: String,
    /// `HEALTHY`, `UNHEALTHY`, `UNKNOWN` (container health checks).
    pub health: Option<String>,
    /// Who started it: the deployment id (`ecs-svc/…`) for a service's task.
    pub started_by: Option<String>,
    /// Private IPv4 address of its network interface.
    pub private_ip: Option<String>,
    /// Why it stopped.
    pub stopped_reason: Option<String>,
    /// `EssentialContainerExited`, `TaskFailedToStart`, ...
    pub stop_code: Option<String>,
    /// Each container: name, exit code, reason.
    pub containers: Vec<(String, Option<i32>, Option<String>)>,
    /// Seconds since the epoch.
    pub started_at: Option<i64>,
    /// Seconds since the epoch.
    pub stopped_at: Option<i64>,
}

/// The service's stopped tasks (ECS keeps them about an hour), newest first, at most `limit`; only those
/// the deployment `since_deployment` started when given. An unknown cluster or service has none.
///
/// # Errors
/// When ListTasks or DescribeTasks fails otherwise.
pub async fn stopped_tasks(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    since_deployment: Option<&str>,
    limit: usize,
) -> AwsResult<Vec<TaskInfo>> {
    let mut tasks = service_tasks(client, cluster, service, DesiredStatus::Stopped).await?;
    tasks.retain(|t| since_deployment.is_none_or(|d| t.started_by.as_deref() == Some(d)));
    tasks.sort_by_key(|t| std::cmp::Reverse(t.stopped_at));
    tasks.truncate(limit);
    Ok(tasks)
}

/// The service's tasks that are meant to run (pending or running), newest first. An unknown cluster or
/// service has none.
///
/// # Errors
/// When ListTasks or DescribeTasks fails otherwise.
pub async fn running_tasks(client: &aws_sdk_ecs::Client, cluster: &str, service: &str) -> AwsResult<Vec<TaskInfo>> {
    let mut tasks = service_tasks(client, cluster, service, DesiredStatus::Running).await?;
    tasks.sort_by(|a, b| b.started_at.cmp(&a.started_at).then_with(|| a.id.cmp(&b.id)));
    Ok(tasks)
}

async fn service_tasks(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    status: DesiredStatus,
) -> AwsResult<Vec<TaskInfo>> {
    let what = format!("tasks of service {service}");
    let mut arns = Vec::new();
    let mut next_token = None;
    loop {
        let listed = client
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(status.clone())
            .set_next_token(next_token)
            .send()
            .await
            .or_aws("ecs:ListTasks", &what);
        let Some(output) = none_if_not_found(listed)? else { return Ok(Vec::new()) };
        arns.extend_from_slice(output.task_arns());
        next_token = output.next_token().map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    let mut tasks = Vec::with_capacity(arns.len());
    // DescribeTasks takes at most 100 tasks.
    for chunk in arns.chunks(100) {
        let output = client
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .or_aws("ecs:DescribeTasks", &what)?;
        tasks.extend(output.tasks().iter().map(task_info));
    }
    Ok(tasks)
}

/// A described task as [`TaskInfo`].
#[must_use]
pub fn task_info(task: &Task) -> TaskInfo {
    let arn = task.task_arn().unwrap_or_default();
    let private_ip = task
        .attachments()
        .iter()
        .flat_map(aws_sdk_ecs::types::Attachment::details)
        .find(|d| d.name() == Some("privateIPv4Address"))
        .and_then(KeyValuePair::value)
        .or_else(|| {
            task.containers()
                .iter()
                .flat_map(aws_sdk_ecs::types::Container::network_interfaces)
                .find_map(aws_sdk_ecs::types::NetworkInterface::private_ipv4_address)
        })
        .map(str::to_owned);
    TaskInfo {
        id: arn.rsplit('/').next().unwrap_or(arn).to_owned(),
        task_definition: task.task_definition_arn().unwrap_or_default().to_owned(),
        last_status: task.last_status().unwrap_or_default().to_owned(),
        desired_status: task.desired_status().unwrap_or_default().to_owned(),
        health: task.health_status().map(|h| h.as_str().to_owned()),
        started_by: task.started_by().map(str::to_owned),
        private_ip,
        stopped_reason: task.stopped_reason().map(str::to_owned),
        stop_code: task.stop_code().map(|c| c.as_str().to_owned()),
        containers: task
            .containers()
            .iter()
            .map(|c| (c.name().unwrap_or_default().to_owned(), c.exit_code(), c.reason().map(str::to_owned)))
            .collect(),
        started_at: epoch_seconds(task.started_at()),
        stopped_at: epoch_seconds(task.stopped_at()),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Deleting (`cargo ecs destroy`): "already gone" counts as done, so a second or an interrupted destroy converges.

/// `Ok(())` when the call succeeded or AWS said the resource does not exist (any more).
pub(crate) fn gone_is_ok<T>(result: AwsResult<T>) -> AwsResult<()> {
    none_if_not_found(result).map(|_| ())
}

/// Whether ECS said the service is gone: not found, or INACTIVE (deleted).
fn service_is_gone(error: &AwsError) -> bool {
    error.is_not_found() || error.code.as_deref() == Some("ServiceNotActiveException")
}

/// The names of the services of `cluster` other than `except` that are not INACTIVE (deleted), sorted; none when
/// the cluster does not exist.
///
/// # Errors
/// When ListServices or DescribeServices fails otherwise.
pub async fn other_services(client: &aws_sdk_ecs::Client, cluster: &str, except: &str) -> AwsResult<Vec<String>> {
    let what = format!("cluster {cluster}");
    let listed: AwsResult<Vec<String>> = client
        .list_services()
        .cluster(cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:ListServices", what.as_str(), &e));
    let Some(arns) = none_if_not_found(listed)? else { return Ok(Vec::new()) };
    let mut names = Vec::new();
    for chunk in arns.chunks(10) {
        let output = client
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .send()
            .await
            .or_aws("ecs:DescribeServices", &what)?;
        names.extend(
            output
                .services()
                .iter()
                .filter(|s| s.status().is_some_and(|status| status != "INACTIVE"))
                .filter_map(|s| s.service_name())
                .filter(|name| *name != except)
                .map(str::to_owned),
        );
    }
    names.sort();
    Ok(names)
}

/// Whether the family's latest ACTIVE revision carries [`MANAGED_TAG`]; `false` when it has none.
///
/// # Errors
/// When DescribeTaskDefinition fails otherwise.
pub async fn task_definition_is_managed(client: &aws_sdk_ecs::Client, family: &str) -> AwsResult<bool> {
    let described = client
        .describe_task_definition()
        .task_definition(family)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .or_aws("ecs:DescribeTaskDefinition", &format!("task definition family {family}"));
    match described {
        Ok(output) => Ok(is_managed(&tag_map(output.tags()))),
        Err(error)
            if error.code.as_deref() == Some("ClientException")
                && error.message.contains("Unable to describe task definition") =>
        {
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

/// Scales the service to 0, then deletes it with force. A service already gone is success.
///
/// # Errors
/// When UpdateService or DeleteService fails otherwise.
pub async fn delete_service(client: &aws_sdk_ecs::Client, cluster: &str, name: &str) -> AwsResult<()> {
    let what = format!("service {name}");
    let scaled = client
        .update_service()
        .cluster(cluster)
        .service(name)
        .desired_count(0)
        .send()
        .await
        .or_aws("ecs:UpdateService", &what);
    match scaled {
        Err(error) if service_is_gone(&error) => return Ok(()),
        other => other.map(|_| ())?,
    }
    match client
        .delete_service()
        .cluster(cluster)
        .service(name)
        .force(true)
        .send()
        .await
        .or_aws("ecs:DeleteService", &what)
    {
        Err(error) if service_is_gone(&error) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Deregisters the task definition revision `arn`. One already gone is success.
///
/// # Errors
/// When DeregisterTaskDefinition fails otherwise.
pub async fn deregister_task_definition(client: &aws_sdk_ecs::Client, arn: &str) -> AwsResult<()> {
    gone_is_ok(
        client
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .or_aws("ecs:DeregisterTaskDefinition", &format!("task definition {arn}")),
    )
}

/// Deletes the cluster `name`. One already gone is success.
///
/// # Errors
/// When DeleteCluster fails otherwise (it still has services or tasks, ...).
pub async fn delete_cluster(client: &aws_sdk_ecs::Client, name: &str) -> AwsResult<()> {
    gone_is_ok(
        client.delete_cluster().cluster(name).send().await.or_aws("ecs:DeleteCluster", &format!("cluster {name}")),
    )
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::primitives::DateTime;
    use aws_sdk_ecs::types::{
        Deployment, DeploymentRolloutState, HealthStatus, ServiceEvent as SdkEvent, TaskStopCode,
    };

    use super::*;

    fn container_spec() -> ContainerSpec {
        ContainerSpec {
            name: "api".to_owned(),
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:abc".to_owned(),
            port: 8080,
            environment: BTreeMap::from([("A".to_owned(), "1".to_owned()), ("RUST_LOG".to_owned(), "info".to_owned())]),
            secrets: BTreeMap::from([(
                "DB".to_owned(),
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf".to_owned(),
            )]),
            log_group: "/ecs/api".to_owned(),
            log_region: "us-east-1".to_owned(),
            log_stream_prefix: "ecs".to_owned(),
        }
    }

    fn spec() -> TaskDefinitionSpec {
        TaskDefinitionSpec {
            family: "api".to_owned(),
            cpu: 512,
            memory: 1024,
            cpu_architecture: "ARM64".to_owned(),
            execution_role_arn: "arn:aws:iam::123456789012:role/api-execution".to_owned(),
            task_role_arn: None,
            container: container_spec(),
            tags: Tags::new(),
        }
    }

    /// The container as DescribeTaskDefinition returns it for what `register_task_definition` sent: environment
    /// in another order, hostPort filled in, AWS's defaults added.
    fn described_container() -> aws_sdk_ecs::types::builders::ContainerDefinitionBuilder {
        ContainerDefinition::builder()
            .name("api")
            .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:abc")
            .cpu(0)
            .essential(true)
            .port_mappings(
                PortMapping::builder().container_port(8080).host_port(8080).protocol(TransportProtocol::Tcp).build(),
            )
            .environment(KeyValuePair::builder().name("RUST_LOG").value("info").build())
            .environment(KeyValuePair::builder().name("A").value("1").build())
            .secrets(
                Secret::builder()
                    .name("DB")
                    .value_from("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf")
                    .build()
                    .expect("secret"),
            )
            .log_configuration(
                LogConfiguration::builder()
                    .log_driver(LogDriver::Awslogs)
                    .options("awslogs-group", "/ecs/api")
                    .options("awslogs-region", "us-east-1")
                    .options("awslogs-stream-prefix", "ecs")
                    .build()
                    .expect("log configuration"),
            )
    }

    fn described() -> aws_sdk_ecs::types::builders::TaskDefinitionBuilder {
        TaskDefinition::builder()
            .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/api:3")
            .family("api")
            .revision(3)
            .container_definitions(described_container().build())
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .compatibilities(Compatibility::Ec2)
            .compatibilities(Compatibility::Fargate)
            .runtime_platform(
                RuntimePlatform::builder()
                    .cpu_architecture(CpuArchitecture::Arm64)
                    .operating_system_family(OsFamily::Linux)
                    .build(),
            )
            .cpu("512")
            .memory("1024")
            .execution_role_arn("arn:aws:iam::123456789012:role/api-execution")
    }

    #[test]
    fn a_described_revision_normalises_to_the_spec_it_was_registered_from() {
        assert_eq!(task_definition_spec(&described().build()), Some(spec()));
        let state = task_definition_state("call", "what", &described().build()).expect("state");
        assert_eq!(state.revision, 3);
        assert_eq!(state.arn, "arn:aws:ecs:us-east-1:123456789012:task-definition/api:3");
        assert_eq!(state.spec, Some(spec()));
    }

    #[test]
    fn sizes_in_vcpu_and_gb_and_a_missing_architecture_normalise() {
        let definition = described().cpu("0.5 vCPU").memory("1 GB").set_runtime_platform(None).build();
        let normalised = task_definition_spec(&definition).expect("normalised");
        assert_eq!((normalised.cpu, normalised.memory), (512, 1024));
        assert_eq!(normalised.cpu_architecture, "X86_64");
        let role = described().task_role_arn("arn:aws:iam::123456789012:role/app").build();
        assert_eq!(
            task_definition_spec(&role).and_then(|s| s.task_role_arn).as_deref(),
            Some("arn:aws:iam::123456789012:role/app")
        );
    }

    #[test]
    fn units_parse_in_every_form_ecs_accepts() {
        assert_eq!(parse_cpu_units("256"), Some(256));
        assert_eq!(parse_cpu_units("1 vCPU"), Some(1024));
        assert_eq!(parse_cpu_units("0.25 vcpu"), Some(256));
        assert_eq!(parse_cpu_units("2vCPU"), Some(2048));
        assert_eq!(parse_memory_mib("512"), Some(512));
        assert_eq!(parse_memory_mib("1 GB"), Some(1024));
        assert_eq!(parse_memory_mib("0.5GB"), Some(512));
        assert_eq!(parse_memory_mib("3 GiB"), Some(3072));
        assert_eq!(parse_memory_mib("512 MiB"), Some(512));
        assert_eq!(parse_cpu_units("much"), None);
        assert_eq!(parse_cpu_units("-1 vCPU"), None);
        assert_eq!(parse_memory_mib("1 TB"), None);
    }

    #[test]
    fn revisions_of_another_shape_have_no_spec() {
        let other_shapes = [
            described().container_definitions(described_container().name("sidecar").build()).build(),
            described().set_container_definitions(Some(Vec::new())).build(),
            described().network_mode(NetworkMode::Bridge).build(),
            described().set_requires_compatibilities(Some(vec![Compatibility::Ec2])).build(),
            described()
                .set_container_definitions(Some(vec![described_container().set_port_mappings(None).build()]))
                .build(),
            described()
                .set_container_definitions(Some(vec![
                    described_container().port_mappings(PortMapping::builder().container_port(9000).build()).build(),
                ]))
                .build(),
            described()
                .set_container_definitions(Some(vec![
                    described_container()
                        .set_port_mappings(Some(vec![
                            PortMapping::builder().container_port(8080).protocol(TransportProtocol::Udp).build(),
                        ]))
                        .build(),
                ]))
                .build(),
            described()
                .set_container_definitions(Some(vec![described_container().set_log_configuration(None).build()]))
                .build(),
            described()
                .set_container_definitions(Some(vec![
                    described_container()
                        .log_configuration(
                            LogConfiguration::builder().log_driver(LogDriver::Splunk).build().expect("log"),
                        )
                        .build(),
                ]))
                .build(),
            described().set_container_definitions(Some(vec![described_container().command("sh").build()])).build(),
            described()
                .runtime_platform(
                    RuntimePlatform::builder().operating_system_family(OsFamily::WindowsServer2022Core).build(),
                )
                .build(),
            described().set_cpu(None).build(),
            described().memory("lots").build(),
        ];
        for (i, definition) in other_shapes.iter().enumerate() {
            assert_eq!(task_definition_spec(definition), None, "shape {i}");
        }
    }

    fn service_spec() -> ServiceSpec {
        ServiceSpec {
            name: "api".to_owned(),
            cluster: "apps".to_owned(),
            family: "api".to_owned(),
            desired_count: None,
            spot: true,
            subnets: vec!["subnet-a".to_owned(), "subnet-b".to_owned()],
            security_groups: vec!["api-service".to_owned()],
            assign_public_ip: false,
            load_balancer: Some(ServiceLoadBalancer {
                target_group: "api".to_owned(),
                container: "api".to_owned(),
                port: 8080,
            }),
            health_check_grace_period: Some(10),
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            circuit_breaker: true,
            tags: Tags::new(),
        }
    }

    const TG_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef";

    fn ids() -> ResolvedIds {
        ResolvedIds {
            security_groups: BTreeMap::from([("api-service".to_owned(), "sg-1".to_owned())]),
            target_group: Some(TG_ARN.to_owned()),
        }
    }

    fn deployment(id: &str, status: &str, revision: u32, created: i64) -> Deployment {
        Deployment::builder()
            .id(id)
            .status(status)
            .task_definition(format!("arn:aws:ecs:us-east-1:123456789012:task-definition/api:{revision}"))
            .desired_count(2)
            .running_count(1)
            .pending_count(1)
            .failed_tasks(0)
            .rollout_state(DeploymentRolloutState::InProgress)
            .rollout_state_reason("ECS deployment in progress.")
            .created_at(DateTime::from_secs(created))
            .build()
    }

    fn event(id: &str, at: i64) -> SdkEvent {
        SdkEvent::builder().id(id).created_at(DateTime::from_secs(at)).message(format!("event {id}")).build()
    }

    fn described_service() -> Service {
        let mut builder = Service::builder()
            .service_name("api")
            .service_arn("arn:aws:ecs:us-east-1:123456789012:service/apps/api")
            .status("ACTIVE")
            .task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/api:7")
            .desired_count(2)
            .running_count(1)
            .pending_count(-1)
            .capacity_provider_strategy(strategy_item("FARGATE_SPOT", 1, 0).expect("item"))
            .capacity_provider_strategy(strategy_item("FARGATE", 0, 1).expect("item"))
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .subnets("subnet-b")
                            .subnets("subnet-a")
                            .security_groups("sg-unknown")
                            .security_groups("sg-1")
                            .assign_public_ip(AssignPublicIp::Disabled)
                            .build()
                            .expect("awsvpc"),
                    )
                    .build(),
            )
            .load_balancers(
                LoadBalancer::builder().target_group_arn(TG_ARN).container_name("api").container_port(8080).build(),
            )
            .health_check_grace_period_seconds(10)
            .deployment_configuration(
                DeploymentConfiguration::builder()
                    .deployment_circuit_breaker(DeploymentCircuitBreaker::builder().enable(true).rollback(true).build())
                    .minimum_healthy_percent(50)
                    .maximum_percent(150)
                    .build(),
            )
            .deployments(deployment("ecs-svc/1", "ACTIVE", 6, 100))
            .deployments(deployment("ecs-svc/2", "PRIMARY", 7, 200));
        for i in 0..25 {
            builder = builder.events(event(&format!("e{i:02}"), 1000 + i));
        }
        builder.build()
    }

    #[test]
    fn a_described_service_reads_as_the_model_names_it() {
        let names = NameMap {
            security_groups: BTreeMap::from([("sg-1".to_owned(), "api-service".to_owned())]),
            target_groups: BTreeMap::from([(TG_ARN.to_owned(), "api".to_owned())]),
        };
        let state = service_state_from(&described_service(), &names);
        assert_eq!(state.name, "api");
        assert_eq!(state.status, "ACTIVE");
        assert_eq!(state.task_definition, "arn:aws:ecs:us-east-1:123456789012:task-definition/api:7");
        assert_eq!((state.desired_count, state.running_count, state.pending_count), (2, 1, 0));
        assert!(state.spot);
        assert_eq!(state.subnets, ["subnet-a", "subnet-b"]);
        assert_eq!(state.security_groups, ["api-service", "sg-unknown"]);
        assert!(!state.assign_public_ip);
        assert_eq!(state.load_balancer, service_spec().load_balancer);
        assert_eq!(state.health_check_grace_period, Some(10));
        assert_eq!((state.minimum_healthy_percent, state.maximum_percent), (50, 150));
        assert!(state.circuit_breaker);
        let ids: Vec<&str> = state.deployments.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["ecs-svc/2", "ecs-svc/1"]);
        assert_eq!(state.deployments[0].rollout_state.as_deref(), Some("IN_PROGRESS"));
        assert_eq!(state.deployments[0].created_at, Some(200));
        assert_eq!(state.events.len(), SERVICE_EVENTS);
        assert_eq!(state.events[0].id, "e24");
        assert_eq!(state.events[SERVICE_EVENTS - 1].id, "e05");
        assert_eq!(state.events[0].message, "event e24");
    }

    #[test]
    fn unknown_ids_stay_ids_and_absent_settings_read_as_ecs_defaults() {
        let state = service_state_from(&described_service(), &NameMap::default());
        assert_eq!(state.security_groups, ["sg-1", "sg-unknown"]);
        assert_eq!(state.load_balancer.map(|lb| lb.target_group).as_deref(), Some(TG_ARN));
        let bare = Service::builder()
            .service_name("api")
            .status("ACTIVE")
            .task_definition("td:1")
            .launch_type(LaunchType::Fargate)
            .build();
        let state = service_state_from(&bare, &NameMap::default());
        assert!(!state.spot);
        assert_eq!(state.task_definition, "td:1");
        assert_eq!((state.minimum_healthy_percent, state.maximum_percent), (100, 200));
        assert!(!state.circuit_breaker);
        assert_eq!(state.load_balancer, None);
        assert!(state.deployments.is_empty() && state.events.is_empty());
    }

    #[test]
    fn resolved_ids_name_what_they_resolved() {
        let names = ids().names(&service_spec());
        assert_eq!(names.security_groups.get("sg-1").map(String::as_str), Some("api-service"));
        assert_eq!(names.target_groups.get(TG_ARN).map(String::as_str), Some("api"));
        let state = service_state_from(&described_service(), &names);
        assert_eq!(state.load_balancer, service_spec().load_balancer);
    }

    #[test]
    fn the_request_carries_what_the_spec_governs() {
        let parts = ServiceParts::new("call", "what", &service_spec(), &ids()).expect("parts");
        let awsvpc = parts.network.awsvpc_configuration().expect("awsvpc");
        assert_eq!(awsvpc.security_groups(), ["sg-1"]);
        assert_eq!(awsvpc.assign_public_ip(), Some(&AssignPublicIp::Disabled));
        assert_eq!(parts.load_balancers[0].target_group_arn(), Some(TG_ARN));
        assert_eq!(parts.grace_period, Some(10));
        let strategy: Vec<(&str, i32, i32)> =
            parts.strategy.iter().map(|s| (s.capacity_provider(), s.weight(), s.base())).collect();
        assert_eq!(strategy, [("FARGATE_SPOT", 1, 0), ("FARGATE", 0, 1)]);
        let breaker = parts.deployment.deployment_circuit_breaker().expect("breaker");
        assert!(breaker.enable() && breaker.rollback());

        let plain = ServiceSpec { spot: false, load_balancer: None, ..service_spec() };
        let parts = ServiceParts::new("call", "what", &plain, &ids()).expect("parts");
        assert!(parts.strategy.is_empty() && parts.load_balancers.is_empty());
        assert_eq!(parts.grace_period, None, "a grace period only with a load balancer");

        let unresolved = ResolvedIds { security_groups: BTreeMap::new(), target_group: None };
        let error = ServiceParts::new("ecs:CreateService", "service api", &service_spec(), &unresolved)
            .err()
            .expect("an unresolved name is an error");
        assert!(error.message.contains("api-service"), "{error}");
    }

    #[test]
    fn the_client_token_is_deterministic_and_follows_the_inputs() {
        let token = client_token(&service_spec(), "td:1", &ids());
        assert_eq!(token, client_token(&service_spec(), "td:1", &ids()));
        assert!(token.len() <= 36 && token.is_ascii(), "{token}");
        assert_ne!(token, client_token(&service_spec(), "td:2", &ids()));
        let other = ServiceSpec { desired_count: Some(3), ..service_spec() };
        assert_ne!(token, client_token(&other, "td:1", &ids()));
    }

    #[test]
    fn a_described_task_reads_as_task_info() {
        let task = Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:123456789012:task/apps/0123abcd")
            .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/api:7")
            .last_status("STOPPED")
            .desired_status("STOPPED")
            .health_status(HealthStatus::from("UNKNOWN"))
            .started_by("ecs-svc/2")
            .stopped_reason("Essential container in task exited")
            .stop_code(TaskStopCode::EssentialContainerExited)
            .attachments(
                aws_sdk_ecs::types::Attachment::builder()
                    .r#type("ElasticNetworkInterface")
                    .details(KeyValuePair::builder().name("subnetId").value("subnet-a").build())
                    .details(KeyValuePair::builder().name("privateIPv4Address").value("10.0.0.7").build())
                    .build(),
            )
            .containers(aws_sdk_ecs::types::Container::builder().name("api").exit_code(1).reason("boom").build())
            .started_at(DateTime::from_secs(50))
            .stopped_at(DateTime::from_secs(60))
            .build();
        let info = task_info(&task);
        assert_eq!(info.id, "0123abcd");
        assert_eq!(info.private_ip.as_deref(), Some("10.0.0.7"));
        assert_eq!(info.stop_code.as_deref(), Some("EssentialContainerExited"));
        assert_eq!(info.health.as_deref(), Some("UNKNOWN"));
        assert_eq!(info.containers, [("api".to_owned(), Some(1), Some("boom".to_owned()))]);
        assert_eq!((info.started_at, info.stopped_at), (Some(50), Some(60)));
        let json = serde_json::to_value(&info).expect("JSON");
        assert_eq!(json["stopped-reason"], "Essential container in task exited");
    }

    #[test]
    fn the_managed_tag_is_always_added() {
        let tags = with_managed_tag(&Tags::from([("team".to_owned(), "a".to_owned())]));
        assert!(is_managed(&tags));
        assert_eq!(tags.get("team").map(String::as_str), Some("a"));
        let overridden = with_managed_tag(&Tags::from([(MANAGED_TAG.to_owned(), "false".to_owned())]));
        assert!(is_managed(&overridden));
    }
}
