//! `status` of one service: its counts, deployments (with the image each revision runs), tasks, target health,
//! last events and URL, and whether the deployed image is what a build of the working tree gives.
//!
//! Read-only. The service is read first: a service that does not exist is an error before anything is built.
//! The image is then built (to know the working tree's digest) while the rest is read.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::aws::ecs::{NameMap, TaskInfo};
use crate::aws::elb::TargetHealthInfo;
use crate::aws::{self, AwsError, Clients};
use crate::config::{Resolved, Settings};
use crate::error::{Error, Result};
use crate::publish::build_image;
use crate::report::Reporter;
use crate::stack::model::{Deployment, ServiceEvent, ServiceState};
use crate::stack::names;

/// How many service events a status shows, newest first.
pub const STATUS_EVENTS: usize = 5;

/// What runs for one service.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceStatus {
    /// The package.
    pub package: String,
    /// The service name.
    pub service: String,
    /// The cluster name.
    pub cluster: String,
    /// The region.
    pub region: String,
    /// The service's status: `ACTIVE` or `DRAINING`.
    pub status: String,
    /// Tasks the service wants.
    pub desired: u32,
    /// Tasks running.
    pub running: u32,
    /// Tasks starting.
    pub pending: u32,
    /// Deployments, the PRIMARY first.
    pub deployments: Vec<DeploymentStatus>,
    /// Tasks meant to run (pending or running), newest first.
    pub tasks: Vec<TaskStatus>,
    /// Targets behind the load balancer and their health (empty without a load balancer).
    pub targets: Vec<TargetHealthInfo>,
    /// The last [`STATUS_EVENTS`] service events, newest first.
    pub events: Vec<ServiceEvent>,
    /// Where the service answers, when it has a load balancer.
    pub url: Option<String>,
    /// The deployed image against a build of the working tree.
    pub working_tree: TreeCheck,
    /// When this was read, in seconds since the epoch (ages are relative to it).
    pub read_at: i64,
}

impl ServiceStatus {
    /// The PRIMARY deployment (the one the service converges to), when there is one.
    #[must_use]
    pub fn primary(&self) -> Option<&DeploymentStatus> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }
}

/// One deployment of the service.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeploymentStatus {
    /// `ecs-svc/…`.
    pub id: String,
    /// `PRIMARY`, `ACTIVE`.
    pub status: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// `FAMILY:REVISION`.
    pub revision: String,
    /// The image that revision runs (its first container's), when it could be read.
    pub image: Option<String>,
    /// The image's digest (`sha256:…`) when the image is referenced by digest.
    pub digest: Option<String>,
    /// `IN_PROGRESS`, `COMPLETED`, `FAILED`.
    pub rollout_state: Option<String>,
    /// Why.
    pub rollout_state_reason: Option<String>,
    /// Desired tasks.
    pub desired: i32,
    /// Running tasks.
    pub running: i32,
    /// Pending tasks.
    pub pending: i32,
    /// Tasks that failed to start or stay up.
    pub failed: i32,
    /// Seconds since the epoch.
    pub created_at: Option<i64>,
    /// Seconds since it was created.
    pub age: Option<u64>,
}

/// One task of the service.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TaskStatus {
    /// Task id.
    pub id: String,
    /// `FAMILY:REVISION` it runs.
    pub revision: String,
    /// The deployment that started it.
    pub deployment: Option<String>,
    /// `PROVISIONING`, `PENDING`, `RUNNING`, ...
    pub last_status: String,
    /// Container health check: `HEALTHY`, `UNHEALTHY`, `UNKNOWN`.
    pub health: Option<String>,
    /// Private IPv4 address.
    pub private_ip: Option<String>,
    /// Its target's health behind the load balancer (the target whose id is its IP).
    pub target: Option<String>,
    /// Seconds since the epoch.
    pub started_at: Option<i64>,
    /// Seconds since it started.
    pub age: Option<u64>,
}

/// The deployed image against a build of the working tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TreeCheck {
    /// The digest a build of the working tree gives.
    pub digest: String,
    /// The PRIMARY deployment's image digest.
    pub deployed: Option<String>,
    /// Whether they are the same image.
    pub up_to_date: bool,
}

impl TreeCheck {
    /// Compares the PRIMARY deployment's image with the working tree's digest.
    #[must_use]
    pub fn new(deployed_image: Option<&str>, tree_digest: &str) -> Self {
        let deployed = deployed_image.and_then(image_digest).map(str::to_owned);
        Self { up_to_date: deployed.as_deref() == Some(tree_digest), digest: tree_digest.to_owned(), deployed }
    }

    /// "up to date" or "differs from the working tree".
    #[must_use]
    pub fn verdict(&self) -> &'static str {
        if self.up_to_date { "up to date" } else { "differs from the working tree" }
    }
}

/// Reads the status of the service `resolved` describes, and builds its image to compare digests.
///
/// # Errors
/// The service (or its cluster) does not exist, an AWS call failed, or the image could not be built.
pub async fn status(resolved: &Resolved, clients: &Clients, build_reporter: &dyn Reporter) -> Result<ServiceStatus> {
    let settings = &resolved.settings;
    let ecs = &clients.ecs;
    let service = aws::ecs::observe_service(ecs, &settings.cluster, &settings.service, &NameMap::default())
        .await?
        .ok_or_else(|| not_deployed(settings))?
        .state;
    let target_group = service.load_balancer.as_ref().map(|lb| lb.target_group.clone());
    let (built, read) = tokio::join!(build_image(settings, build_reporter), async {
        tokio::try_join!(
            aws::ecs::running_tasks(ecs, &settings.cluster, &settings.service),
            async {
                match &target_group {
                    Some(arn) if arn.starts_with("arn:") => aws::elb::target_health(&clients.elb, arn).await,
                    _ => Ok(Vec::new()),
                }
            },
            deployment_images(clients, &service.deployments),
            load_balancer_dns(settings, clients),
        )
    });
    let (tasks, targets, images, dns) = read?;
    let built = built?;
    let read = Read { service, tasks, targets, images, load_balancer_dns: dns };
    Ok(assemble(settings, &clients.region, read, built.image.digest(), now()))
}

/// The error for a service that does not exist: deploy it first.
fn not_deployed(settings: &Settings) -> Error {
    Error::Aws(AwsError {
        call: "ecs:DescribeServices",
        resource: format!("service {}", settings.service),
        code: Some("ServiceNotFoundException".to_owned()),
        message: format!(
            "service {} does not exist in cluster {}: run `cargo ecs deploy` to create it",
            settings.service, settings.cluster
        ),
        unreachable: false,
    })
}

/// The image of each deployment's task definition, in the deployments' order (`None` where it has none).
async fn deployment_images(clients: &Clients, deployments: &[Deployment]) -> Result<Vec<Option<String>>, AwsError> {
    let mut images = Vec::with_capacity(deployments.len());
    for deployment in deployments {
        // DescribeTaskDefinition takes an ARN as well as a family; a revision of another shape has no image here.
        let revision = aws::ecs::observe_task_definition(&clients.ecs, &deployment.task_definition).await?;
        images.push(revision.and_then(|r| r.spec).map(|spec| spec.container.image));
    }
    Ok(images)
}

/// The load balancer's DNS name, when the service has one and it exists.
async fn load_balancer_dns(settings: &Settings, clients: &Clients) -> Result<Option<String>, AwsError> {
    match &settings.load_balancer {
        Some(lb) => Ok(aws::elb::observe_load_balancer(&clients.elb, &lb.name).await?.map(|f| f.state.dns_name)),
        None => Ok(None),
    }
}

/// Seconds since the epoch.
fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// What [`status`] read from AWS.
struct Read {
    service: ServiceState,
    tasks: Vec<TaskInfo>,
    targets: Vec<TargetHealthInfo>,
    /// The image of each deployment, in the service's order of deployments.
    images: Vec<Option<String>>,
    load_balancer_dns: Option<String>,
}

/// The status from what was read. Pure.
fn assemble(settings: &Settings, region: &str, read: Read, tree_digest: &str, now: i64) -> ServiceStatus {
    let Read { service, tasks, targets, images, load_balancer_dns } = read;
    let deployments: Vec<DeploymentStatus> = service
        .deployments
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let image = images.get(i).cloned().flatten();
            DeploymentStatus {
                revision: revision(&d.task_definition),
                digest: image.as_deref().and_then(image_digest).map(str::to_owned),
                image,
                id: d.id,
                status: d.status,
                task_definition: d.task_definition,
                rollout_state: d.rollout_state,
                rollout_state_reason: d.rollout_state_reason,
                desired: d.desired,
                running: d.running,
                pending: d.pending,
                failed: d.failed,
                age: age(now, d.created_at),
                created_at: d.created_at,
            }
        })
        .collect();
    let tasks = tasks
        .into_iter()
        .map(|t| TaskStatus {
            revision: revision(&t.task_definition),
            target: t
                .private_ip
                .as_ref()
                .and_then(|ip| targets.iter().find(|target| &target.id == ip))
                .map(|target| target.state.clone()),
            age: age(now, t.started_at),
            id: t.id,
            deployment: t.started_by,
            last_status: t.last_status,
            health: t.health,
            private_ip: t.private_ip,
            started_at: t.started_at,
        })
        .collect();
    let primary_image = deployments.iter().find(|d| d.status == "PRIMARY").and_then(|d| d.image.as_deref());
    let working_tree = TreeCheck::new(primary_image, tree_digest);
    let mut events = service.events;
    events.truncate(STATUS_EVENTS);
    ServiceStatus {
        package: settings.package.clone(),
        service: service.name,
        cluster: settings.cluster.clone(),
        region: region.to_owned(),
        status: service.status,
        desired: service.desired_count,
        running: service.running_count,
        pending: service.pending_count,
        deployments,
        tasks,
        targets,
        events,
        url: names::url(settings, load_balancer_dns.as_deref()),
        working_tree,
        read_at: now,
    }
}

/// The digest of an image referenced by digest (`repo@sha256:…` gives `sha256:…`); `None` for a tag.
#[must_use]
pub fn image_digest(image: &str) -> Option<&str> {
    image.rsplit_once('@').map(|(_, digest)| digest).filter(|d| d.contains(':'))
}

/// `FAMILY:REVISION` of a task definition ARN (`…:task-definition/web:3` gives `web:3`); anything else as is.
#[must_use]
pub fn revision(task_definition: &str) -> String {
    task_definition.rsplit_once('/').map_or(task_definition, |(_, name)| name).to_owned()
}

/// Seconds from `since` to `now` (0 when `since` is in the future).
#[must_use]
pub fn age(now: i64, since: Option<i64>) -> Option<u64> {
    since.map(|since| u64::try_from(now.saturating_sub(since)).unwrap_or(0))
}

/// An age for people: `42s`, `5m`, `2h 5m`, `3d 4h`.
#[must_use]
pub fn format_age(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3_600 => format!("{}m", seconds / 60),
        3_600..86_400 => match (seconds % 3_600) / 60 {
            0 => format!("{}h", seconds / 3_600),
            minutes => format!("{}h {minutes}m", seconds / 3_600),
        },
        _ => match (seconds % 86_400) / 3_600 {
            0 => format!("{}d", seconds / 86_400),
            hours => format!("{}d {hours}h", seconds / 86_400),
        },
    }
}

/// A digest for people: the algorithm and the first 12 hex digits (`sha256:0123456789ab`).
#[must_use]
pub fn short_digest(digest: &str) -> &str {
    match digest.split_once(':') {
        Some((algorithm, hex)) if hex.len() > 12 => &digest[..algorithm.len() + 1 + 12],
        _ => digest,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{PackageInfo, Source, from_metadata, resolve};
    use crate::stack::model::ServiceLoadBalancer;

    const TREE: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const OTHER: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:";

    fn settings() -> Settings {
        let package = PackageInfo::with_one_bin("web", "/w/web/Cargo.toml");
        let source = Source::PackageMetadata { file: package.manifest_path.clone() };
        let metadata = serde_json::json!({ "port": 8080 });
        let layers = from_metadata(&metadata, source.clone(), |_| source.clone()).expect("valid metadata");
        resolve(&package, None, &[layers.base], Path::new("/w/web")).expect("valid settings").settings
    }

    fn deployment(id: &str, status: &str, revision: u32, created: i64) -> Deployment {
        Deployment {
            id: id.to_owned(),
            status: status.to_owned(),
            task_definition: format!("{TD}{revision}"),
            desired: 1,
            running: 1,
            pending: 0,
            failed: 0,
            rollout_state: Some("COMPLETED".to_owned()),
            rollout_state_reason: None,
            created_at: Some(created),
        }
    }

    fn service() -> ServiceState {
        ServiceState {
            name: "web".to_owned(),
            arn: "arn:service/web".to_owned(),
            status: "ACTIVE".to_owned(),
            task_definition: format!("{TD}2"),
            desired_count: 2,
            running_count: 1,
            pending_count: 1,
            spot: false,
            subnets: Vec::new(),
            security_groups: Vec::new(),
            assign_public_ip: true,
            load_balancer: Some(ServiceLoadBalancer {
                target_group: "arn:tg".to_owned(),
                container: "web".to_owned(),
                port: 8080,
            }),
            health_check_grace_period: None,
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            circuit_breaker: true,
            deployments: vec![deployment("ecs-svc/2", "PRIMARY", 2, 900), deployment("ecs-svc/1", "ACTIVE", 1, 100)],
            events: (0..8)
                .map(|i| ServiceEvent { id: format!("e{i}"), created_at: Some(1000 - i), message: format!("m{i}") })
                .collect(),
        }
    }

    fn task(id: &str, ip: &str) -> TaskInfo {
        TaskInfo {
            id: id.to_owned(),
            task_definition: format!("{TD}2"),
            last_status: "RUNNING".to_owned(),
            desired_status: "RUNNING".to_owned(),
            health: None,
            started_by: Some("ecs-svc/2".to_owned()),
            private_ip: Some(ip.to_owned()),
            stopped_reason: None,
            stop_code: None,
            containers: Vec::new(),
            started_at: Some(940),
            stopped_at: None,
        }
    }

    fn target(id: &str, state: &str) -> TargetHealthInfo {
        TargetHealthInfo {
            id: id.to_owned(),
            port: Some(8080),
            state: state.to_owned(),
            reason: None,
            description: None,
        }
    }

    #[test]
    fn digests_revisions_and_ages_read_well() {
        assert_eq!(image_digest(&format!("1.dkr.ecr/web@{TREE}")), Some(TREE));
        assert_eq!(image_digest("1.dkr.ecr/web:latest"), None);
        assert_eq!(image_digest("host:5000/web@latest"), None);
        assert_eq!(revision(&format!("{TD}7")), "web:7");
        assert_eq!(revision("web:7"), "web:7");
        assert_eq!(age(100, Some(40)), Some(60));
        assert_eq!(age(100, Some(140)), Some(0), "a clock ahead is no negative age");
        assert_eq!(age(100, None), None);
        let ages = [0, 59, 60, 3_599, 3_600, 3_660, 86_399, 86_400, 90_000];
        let text: Vec<String> = ages.into_iter().map(format_age).collect();
        assert_eq!(text, ["0s", "59s", "1m", "59m", "1h", "1h 1m", "23h 59m", "1d", "1d 1h"]);
        assert_eq!(short_digest(TREE), "sha256:111111111111");
        assert_eq!(short_digest("sha256:12"), "sha256:12");
    }

    #[test]
    fn the_tree_check_compares_with_the_deployed_digest() {
        let same = TreeCheck::new(Some(&format!("repo@{TREE}")), TREE);
        assert!(same.up_to_date);
        assert_eq!(same.verdict(), "up to date");
        let other = TreeCheck::new(Some(&format!("repo@{OTHER}")), TREE);
        assert!(!other.up_to_date);
        assert_eq!(other.deployed.as_deref(), Some(OTHER));
        assert_eq!(other.verdict(), "differs from the working tree");
        assert!(!TreeCheck::new(Some("repo:latest"), TREE).up_to_date, "a tag is never known to match");
        assert!(!TreeCheck::new(None, TREE).up_to_date);
    }

    #[test]
    fn the_status_joins_tasks_targets_images_and_the_primary_digest() {
        let settings = settings();
        let read = Read {
            service: service(),
            tasks: vec![task("aaaa", "10.0.0.7"), task("bbbb", "10.0.0.8")],
            targets: vec![target("10.0.0.7", "healthy")],
            images: vec![Some(format!("repo@{TREE}")), Some(format!("repo@{OTHER}"))],
            load_balancer_dns: Some("web-123.elb.amazonaws.com".to_owned()),
        };
        let status = assemble(&settings, "us-east-1", read, TREE, 1000);
        assert_eq!((status.desired, status.running, status.pending), (2, 1, 1));
        assert_eq!(status.primary().map(|d| d.revision.as_str()), Some("web:2"));
        assert_eq!(status.deployments[0].digest.as_deref(), Some(TREE));
        assert_eq!(status.deployments[1].digest.as_deref(), Some(OTHER));
        assert_eq!(status.deployments[0].age, Some(100));
        assert!(status.working_tree.up_to_date);
        assert_eq!(status.tasks[0].target.as_deref(), Some("healthy"));
        assert_eq!(status.tasks[1].target, None);
        assert_eq!(status.tasks[0].age, Some(60));
        assert_eq!(status.events.len(), STATUS_EVENTS);
        assert_eq!(status.events[0].id, "e0");
        assert_eq!(status.url.as_deref(), Some("http://web-123.elb.amazonaws.com"));
        let json = serde_json::to_value(&status).expect("JSON");
        assert_eq!(json["working-tree"]["up-to-date"], true);
        assert_eq!(json["deployments"][0]["rollout-state"], "COMPLETED");

        let read = Read {
            service: service(),
            tasks: Vec::new(),
            targets: Vec::new(),
            images: vec![Some(format!("repo@{OTHER}")), None],
            load_balancer_dns: None,
        };
        let stale = assemble(&settings, "us-east-1", read, TREE, 1000);
        assert!(!stale.working_tree.up_to_date);
        assert_eq!(stale.url, None, "no load balancer DNS yet");
    }
}
