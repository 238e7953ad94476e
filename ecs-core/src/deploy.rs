//! `plan` and `deploy` of one service: observe and build at the same time, plan, and, for a deploy, push the
//! image when a new revision needs it, apply the plan, and follow the rollout.
//!
//! Nothing is changed before the plan exists: settings, certificate, zone, network, resources in the way and
//! changes AWS cannot make are all found first. A deploy with nothing to change makes no mutating call.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::aws::Clients;
use crate::build::Artifact;
use crate::config::{Resolved, Source};
use crate::cost::{CostEstimate, Prices, estimate};
use crate::error::{Error, Result};
use crate::lock;
use crate::publish::{BuiltImage, PublishOptions, Published, build_image, image_of, prepare_push};
use crate::report::Reporter;
use crate::stack::apply::{Applied, apply};
use crate::stack::observe::{Observation, observe};
use crate::stack::rollout::{RolloutTarget, TaskLogs, follow};
use crate::stack::{Action, Kind, Plan, desired, names, plan};
use crate::watch::{WatchOptions, WatchOutcome};

/// How to deploy.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// Start a new deployment even when nothing changed (`--force`).
    pub force: bool,
    /// Only plan (`cargo ecs plan`): build the image to know its digest, change nothing.
    pub dry_run: bool,
    /// Registry override for the push.
    pub publish: PublishOptions,
    /// Follow the rollout until it completes, fails or times out; `None` returns after the apply (`--no-wait`).
    pub wait: Option<WatchOptions>,
}

/// What a plan or deploy did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeployReport {
    /// The service.
    pub service: String,
    /// The region.
    pub region: String,
    /// The image the task definition references (`repository@sha256:…`).
    pub image: String,
    /// The plan.
    pub plan: Plan,
    /// What the service will cost per month, from the dated price table.
    pub cost: CostEstimate,
    /// The push, when the plan needed the image in ECR.
    pub pushed: Option<Published>,
    /// What the apply did (deploy only).
    pub applied: Option<Applied>,
    /// Where the service answers, when it has a load balancer.
    pub url: Option<String>,
    /// How the rollout ended, when it was followed.
    pub rollout: Option<WatchOutcome>,
    /// The last log lines of the tasks that stopped, when the rollout failed.
    pub logs: Vec<TaskLogs>,
}

/// Seconds an in-progress marker outlives the rollout timeout: time enough for the push and the apply.
const LOCK_MARGIN_SECS: u64 = 900;

/// Plans (and unless `dry_run`, applies) the stack of one service. `compiled` is its binary when it was compiled
/// already (with other services, in one cargo invocation); else it is compiled while AWS is observed.
///
/// # Errors
/// Anything that stops the plan (no change was made then), a failed push or apply step.
pub async fn deploy(
    resolved: &Resolved,
    clients: &Clients,
    options: &DeployOptions,
    compiled: Option<Artifact>,
    reporter: &dyn Reporter,
) -> Result<DeployReport> {
    let settings = &resolved.settings;
    let observe_step = format!("observe {} in {}", settings.service, clients.region);
    reporter.begin(&observe_step);
    let build = async {
        match compiled {
            Some(artifact) => image_of(settings, artifact, reporter).await,
            None => build_image(settings, reporter).await,
        }
    };
    let (observation, built) = tokio::join!(observe(settings, clients), build);
    let observation: Observation = observation?;
    reporter.end(&observe_step, &format!("account {}", observation.lookups.account));
    let built: BuiltImage = built?;
    let image = format!("{}@{}", repository_uri(&observation, settings, &clients.region), built.image.digest());
    let named: BTreeSet<String> = resolved
        .explain
        .iter()
        .filter(|e| !matches!(e.source, Source::Default { .. }))
        .map(|e| e.key.clone())
        .collect();
    let desired = desired(settings, &observation.lookups, &image, named);
    let plan = plan(&desired, &observation.observed, options.force)?;
    for warning in &plan.warnings {
        reporter.warn(warning);
    }
    let mut report = DeployReport {
        service: settings.service.clone(),
        region: clients.region.clone(),
        image,
        url: names::url(settings, observed_dns(&observation)),
        cost: estimate(settings, zones(&observation), &Prices::shipped()),
        plan,
        pushed: None,
        applied: None,
        rollout: None,
        logs: Vec::new(),
    };
    if options.dry_run || report.plan.is_empty() {
        return Ok(report);
    }
    // Only one deploy of a service applies at a time: take its in-progress marker before the first change, and
    // meanwhile read what the push needs (the repository, the registry's login).
    let ttl = options.wait.as_ref().map_or(0, |w| w.timeout.as_secs()) + LOCK_MARGIN_SECS;
    let arn_prefix = format!("arn:aws:logs:{}:{}:log-group:", clients.region, observation.lookups.account);
    let needs_image = report.plan.step(Kind::TaskDefinition).is_some_and(|s| s.action == Action::Create);
    let (lock, push_target) = tokio::join!(
        lock::acquire(&clients.logs, &arn_prefix, &settings.cluster, &settings.service, ttl, options.force),
        async {
            if needs_image { prepare_push(settings, clients, &options.publish).await.map(Some) } else { Ok(None) }
        },
    );
    let lock = lock?;
    if let Some(reason) = &lock.took_over {
        reporter.warn(&format!("took over the deploy marker of {}: {reason}", settings.service));
    }
    let changed = async {
        if let Some(target) = push_target? {
            let pushed = target.push(settings, clients, &built, reporter).await?;
            report.image = pushed.image.clone();
            report.pushed = Some(pushed);
        }
        apply(&report.plan, &desired, &observation.observed, clients, options.force, reporter)
            .await
            .map_err(Error::Apply)
    }
    .await;
    let released = lock::release(&clients.logs, &lock).await;
    let applied = changed?;
    released?;
    if let Some(remaining) = applied.interrupted {
        return Err(Error::Interrupted { service: settings.service.clone(), done: applied.done, remaining });
    }
    report.url = names::url(settings, applied.load_balancer_dns.as_deref().or_else(|| observed_dns(&observation)));
    if let (Some(options), Some(deployment)) = (&options.wait, &applied.deployment) {
        let container = &desired.task_definition.container;
        let target = RolloutTarget {
            cluster: desired.service.cluster.clone(),
            service: desired.service.name.clone(),
            target_group: applied.target_group.clone(),
            log_group: container.log_group.clone(),
            log_stream_prefix: container.log_stream_prefix.clone(),
            container: container.name.clone(),
        };
        // Ctrl-C while following stops the following, not the deployment: ECS carries on.
        tokio::select! {
            followed = follow(clients, &target, deployment, options, reporter) => {
                let (rollout, logs) = followed?;
                report.rollout = Some(rollout);
                report.logs = logs;
            }
            () = crate::interrupt::wait() => {
                reporter.warn(&format!(
                    "stopped following the rollout of {} on request; ECS goes on with it (cargo ecs status shows it)",
                    settings.service
                ));
            }
        }
    }
    report.applied = Some(applied);
    Ok(report)
}

/// The DNS name of the load balancer as it exists.
fn observed_dns(observation: &Observation) -> Option<&str> {
    observation.observed.load_balancer.as_ref().map(|f| f.state.dns_name.as_str())
}

/// Availability zones of the service's subnets.
fn zones(observation: &Observation) -> usize {
    let zones: BTreeSet<&str> =
        observation.lookups.network.subnets.iter().map(|s| s.availability_zone.as_str()).collect();
    zones.len()
}

/// The repository's URI: as ECR names it when it exists, else the URI ECR will give it.
fn repository_uri(observation: &Observation, settings: &crate::config::Settings, region: &str) -> String {
    format!("{}.dkr.ecr.{region}.amazonaws.com/{}", observation.lookups.account, settings.repository)
}
