//! The pure heart of the watch: what one look at the service means for the deployment being followed.
//!
//! Everything here works on plain data ([`Snapshot`]), so every rule is unit-tested without AWS. The rules follow
//! the ECS documentation of rolling updates and the deployment circuit breaker:
//!
//! - a deployment is done when its `rolloutState` is `COMPLETED` (the service reached a steady state on it);
//! - the circuit breaker marks a failing deployment `FAILED` ("ECS deployment circuit breaker: tasks failed to
//!   start."); with rollback on, it starts a new `PRIMARY` deployment of the last completed deployment's task
//!   definition ("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/…"), which then completes
//!   and replaces the failed one. A rollback that completes is **not** a successful deploy;
//! - a deployment that is no longer listed ended: its fate is read from the service events ("(service S)
//!   (deployment D) deployment failed: …" / "… deployment completed.").

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;

use crate::stack::model::{Deployment, ServiceEvent, ServiceState};

/// `rolloutState` of a deployment that is done.
pub const ROLLOUT_COMPLETED: &str = "COMPLETED";
/// `rolloutState` of a deployment the circuit breaker stopped.
pub const ROLLOUT_FAILED: &str = "FAILED";
/// `rolloutState` of a deployment under way.
pub const ROLLOUT_IN_PROGRESS: &str = "IN_PROGRESS";
/// `status` of the deployment the service is moving to.
pub const PRIMARY: &str = "PRIMARY";

/// How the circuit breaker's rollback deployments start their `rolloutStateReason`.
const ROLLBACK_REASON_PREFIX: &str = "ECS deployment circuit breaker: rolling back";
/// How stops the scheduler makes on purpose (replacing old tasks, scaling in) start their `stoppedReason`;
/// they are not failures.
const SCALING_STOP_PREFIX: &str = "Scaling activity initiated by";
/// Stopped tasks a diagnosis lists at most.
pub const MAX_STOPPED_IN_DIAGNOSIS: usize = 5;

/// One look at the service and what runs for it, taken at `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Snapshot {
    /// DescribeServices: deployments (primary first) and events (newest first).
    pub service: ServiceState,
    /// The service's tasks that are meant to run (ListTasks `desiredStatus` RUNNING, then DescribeTasks).
    pub tasks: Vec<TaskView>,
    /// The service's recently stopped tasks (ListTasks `desiredStatus` STOPPED), most recent first when known.
    pub stopped: Vec<TaskView>,
    /// The target group's targets (DescribeTargetHealth); empty without a load balancer.
    pub targets: Vec<TargetView>,
    /// When the snapshot was taken, seconds since the epoch.
    pub now: i64,
}

/// A task, as far as following a rollout needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TaskView {
    /// Task id (the last part of the task ARN).
    pub id: String,
    /// `PROVISIONING`, `PENDING`, `ACTIVATING`, `RUNNING`, ..., `STOPPED`.
    pub last_status: String,
    /// Container health: `HEALTHY`, `UNHEALTHY`, `UNKNOWN`.
    pub health: Option<String>,
    /// Why it stopped, e.g. "Essential container in task exited".
    pub stopped_reason: Option<String>,
    /// Its containers, with exit codes once they stopped.
    pub containers: Vec<ContainerExit>,
    /// The deployment that started it (`startedBy`, `ecs-svc/…`).
    pub deployment: Option<String>,
}

/// A container of a task and how it exited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ContainerExit {
    /// Container name.
    pub name: String,
    /// Exit code, once it exited.
    pub exit_code: Option<i32>,
    /// Why it stopped, e.g. "CannotPullContainerError: …".
    pub reason: Option<String>,
}

/// A load balancer target (DescribeTargetHealth).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TargetView {
    /// Target id: the task's IP address for `ip` target groups.
    pub id: String,
    /// Port.
    pub port: Option<u16>,
    /// `initial`, `healthy`, `unhealthy`, `unhealthy.draining`, `unused`, `draining`, `unavailable`.
    pub state: String,
    /// Reason code, e.g. `Target.ResponseCodeMismatch`.
    pub reason: Option<String>,
    /// Description, e.g. "Health checks failed with these codes: [404]".
    pub description: Option<String>,
}

/// Where a rollout under way stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Progress {
    /// Running tasks of the watched deployment.
    pub running: u32,
    /// Pending tasks of the watched deployment.
    pub pending: u32,
    /// Tasks the watched deployment wants.
    pub desired: u32,
    /// Tasks of the watched deployment that failed so far (the circuit breaker counts them).
    pub failed: u32,
    /// Healthy targets in the target group.
    pub healthy_targets: u32,
    /// Targets in the target group that are not draining.
    pub total_targets: u32,
    /// What the rollout is doing, e.g. "starting tasks".
    pub phase: String,
}

impl fmt::Display for Progress {
    /// `2/3 running, 1 pending, targets 2/3 healthy: starting tasks` (targets only when there are some, failed
    /// tasks only when some failed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} running, {} pending", self.running, self.desired, self.pending)?;
        if self.failed > 0 {
            write!(f, ", {} failed", self.failed)?;
        }
        if self.total_targets > 0 {
            write!(f, ", targets {}/{} healthy", self.healthy_targets, self.total_targets)?;
        }
        if !self.phase.is_empty() {
            write!(f, ": {}", self.phase)?;
        }
        Ok(())
    }
}

/// What a snapshot means for the watched deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case", rename_all_fields = "kebab-case")]
pub enum Verdict {
    /// Still rolling out.
    InProgress(Progress),
    /// The deployment reached a steady state: the new tasks run and pass their health checks.
    Completed,
    /// The circuit breaker failed the deployment and rolled the service back: the new version does not run.
    RolledBack {
        /// Why it failed, e.g. "ECS deployment circuit breaker: tasks failed to start."
        reason: String,
        /// The task definition the service went back to.
        to_task_definition: String,
    },
    /// The deployment failed and nothing rolled it back, or it ended without completing.
    Failed {
        /// Why.
        reason: String,
    },
    /// The deployment was still under way when the time was up.
    TimedOut {
        /// Seconds waited.
        waited_secs: i64,
        /// Where it stood.
        progress: Progress,
    },
}

impl Verdict {
    /// Whether the rollout is over (any verdict but [`Verdict::InProgress`]).
    #[must_use]
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::InProgress(_))
    }

    /// Whether the deploy succeeded: only [`Verdict::Completed`].
    #[must_use]
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Completed)
    }
}

impl fmt::Display for Verdict {
    /// One line: `completed`, `rolled back to hello:6: ECS deployment circuit breaker: …`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InProgress(progress) => write!(f, "in progress: {progress}"),
            Self::Completed => f.write_str("completed"),
            Self::RolledBack { reason, to_task_definition } => {
                write!(f, "failed and rolled back to {}: {reason}", short_task_definition(to_task_definition))
            }
            Self::Failed { reason } => write!(f, "failed: {reason}"),
            Self::TimedOut { waited_secs, progress } => write!(f, "timed out after {waited_secs} s: {progress}"),
        }
    }
}

/// What a user needs to see when a rollout fails or times out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Diagnosis {
    /// Tasks that stopped for a reason other than the scheduler replacing them, at most
    /// [`MAX_STOPPED_IN_DIAGNOSIS`], in the snapshot's order.
    pub stopped: Vec<StoppedTask>,
    /// Targets the load balancer finds unhealthy or unavailable.
    pub unhealthy_targets: Vec<UnhealthyTarget>,
    /// Tasks meant to run that have not started yet (ids).
    pub pending_tasks: Vec<String>,
}

/// A task that stopped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct StoppedTask {
    /// Task id.
    pub id: String,
    /// `stoppedReason`.
    pub reason: String,
    /// Its containers' exit codes and reasons (containers with neither are left out).
    pub containers: Vec<ContainerExit>,
    /// The deployment that started it.
    pub deployment: Option<String>,
}

/// A target the load balancer does not send traffic to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct UnhealthyTarget {
    /// Target id (the task's IP address).
    pub id: String,
    /// Port.
    pub port: Option<u16>,
    /// State: `unhealthy`, `unavailable`, ...
    pub state: String,
    /// Reason code, e.g. `Target.ResponseCodeMismatch`.
    pub reason: Option<String>,
    /// Description, e.g. "Health checks failed with these codes: [404]".
    pub description: Option<String>,
}

impl Diagnosis {
    /// Whether there is nothing to show.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.stopped.is_empty() && self.unhealthy_targets.is_empty() && self.pending_tasks.is_empty()
    }

    /// The diagnosis as lines for a human, e.g.
    /// `stopped task 1a2b…: Essential container in task exited (container web: exit code 1)`; tasks that stopped
    /// the same way share one line.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        // Tasks that stopped the same way share a line: a crash loop reads as one cause.
        let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
        for task in &self.stopped {
            let mut cause = task.reason.clone();
            let containers: Vec<String> = task.containers.iter().map(describe_container).collect();
            if !containers.is_empty() {
                cause.push_str(&format!(" ({})", containers.join("; ")));
            }
            match groups.iter_mut().find(|(c, _)| *c == cause) {
                Some((_, ids)) => ids.push(&task.id),
                None => groups.push((cause, vec![&task.id])),
            }
        }
        for (cause, ids) in groups {
            match ids.as_slice() {
                [id] => lines.push(format!("stopped task {id}: {cause}")),
                _ => lines.push(format!("{} stopped tasks ({}): {cause}", ids.len(), ids.join(", "))),
            }
        }
        for target in &self.unhealthy_targets {
            let address = match target.port {
                Some(port) => format!("{}:{port}", target.id),
                None => target.id.clone(),
            };
            let why: Vec<&str> =
                [target.reason.as_deref(), target.description.as_deref()].into_iter().flatten().collect();
            let mut line = format!("target {address} {}", target.state);
            if !why.is_empty() {
                line.push_str(&format!(": {}", why.join(": ")));
            }
            lines.push(line);
        }
        if !self.pending_tasks.is_empty() {
            lines.push(format!(
                "{} task(s) still PENDING: {} (pulling the image? no route from the subnets to ECR?)",
                self.pending_tasks.len(),
                self.pending_tasks.join(" ")
            ));
        }
        lines
    }
}

/// `container web: exit code 1: reason`.
fn describe_container(container: &ContainerExit) -> String {
    let mut text = format!("container {}", container.name);
    if let Some(code) = container.exit_code {
        text.push_str(&format!(": exit code {code}"));
    }
    if let Some(reason) = &container.reason {
        text.push_str(&format!(": {reason}"));
    }
    text
}

/// `family:revision` of a task definition ARN (the ARN itself when it has no `/`).
#[must_use]
pub fn short_task_definition(arn: &str) -> &str {
    arn.rsplit_once('/').map_or(arn, |(_, name)| name)
}

/// What `snapshot` means for deployment `deployment_id`, watched since `started` (seconds since the epoch, on the
/// same clock as [`Snapshot::now`]) with a limit of `timeout_secs` (0 or less: no limit).
///
/// An empty `deployment_id` means the apply made no deployment (nothing changed): a steady service is
/// [`Verdict::Completed`] at once; a service still rolling out follows its `PRIMARY` deployment.
#[must_use]
pub fn assess(deployment_id: &str, snapshot: &Snapshot, started: i64, timeout_secs: i64) -> Verdict {
    let service = &snapshot.service;
    if service.status != "ACTIVE" {
        return Verdict::Failed { reason: format!("service {} is {}, not ACTIVE", service.name, service.status) };
    }
    let watched_id = if deployment_id.is_empty() {
        if is_steady(service) {
            return Verdict::Completed;
        }
        match service.deployments.iter().find(|d| d.status == PRIMARY) {
            Some(primary) => primary.id.as_str(),
            None => return Verdict::Failed { reason: format!("service {} has no PRIMARY deployment", service.name) },
        }
    } else {
        deployment_id
    };

    let verdict = match service.deployments.iter().find(|d| d.id == watched_id) {
        Some(watched) => assess_listed(watched, snapshot),
        None => assess_gone(watched_id, service),
    };
    match verdict {
        Verdict::InProgress(progress) => {
            let waited = snapshot.now - started;
            if timeout_secs > 0 && waited >= timeout_secs {
                Verdict::TimedOut { waited_secs: waited, progress }
            } else {
                Verdict::InProgress(progress)
            }
        }
        other => other,
    }
}

/// One PRIMARY deployment, COMPLETED (or without a rollout state, with every task running), and nothing pending.
fn is_steady(service: &ServiceState) -> bool {
    match service.deployments.as_slice() {
        [only] => {
            only.status == PRIMARY
                && match only.rollout_state.as_deref() {
                    Some(state) => state == ROLLOUT_COMPLETED,
                    None => only.running == only.desired && only.pending == 0,
                }
        }
        _ => false,
    }
}

/// The watched deployment is among the service's deployments.
fn assess_listed(watched: &Deployment, snapshot: &Snapshot) -> Verdict {
    let service = &snapshot.service;
    let newer_primary = service.deployments.iter().find(|d| d.status == PRIMARY && d.id != watched.id);
    let rollout = watched.rollout_state.as_deref();
    let failure_reason =
        || watched.rollout_state_reason.clone().unwrap_or_else(|| format!("deployment {} failed", watched.id));

    if rollout == Some(ROLLOUT_COMPLETED) {
        return Verdict::Completed;
    }
    if let Some(primary) = newer_primary {
        let rollback = is_rollback(primary) || mentions_rollback(service, watched.created_at);
        if rollout == Some(ROLLOUT_FAILED) || rollback {
            let reason = if rollout == Some(ROLLOUT_FAILED) {
                failure_reason()
            } else {
                failed_event(service, &watched.id)
                    .or_else(|| primary.rollout_state_reason.clone())
                    .unwrap_or_else(failure_reason)
            };
            return Verdict::RolledBack { reason, to_task_definition: primary.task_definition.clone() };
        }
        return Verdict::Failed {
            reason: format!(
                "deployment {} was replaced by deployment {} ({}) before it completed: another update of the \
                 service",
                watched.id,
                primary.id,
                short_task_definition(&primary.task_definition)
            ),
        };
    }
    if rollout == Some(ROLLOUT_FAILED) {
        return Verdict::Failed { reason: failure_reason() };
    }
    if rollout.is_none() && service.deployments.len() == 1 && watched.running == watched.desired && watched.pending == 0
    {
        // No rollout state (not the ECS deployment controller's): steady when it alone runs all its tasks.
        return Verdict::Completed;
    }
    Verdict::InProgress(progress(watched, snapshot))
}

/// The watched deployment is no longer listed: it completed and was replaced later, or it failed and the rollback
/// replaced it; the service events say which.
fn assess_gone(watched_id: &str, service: &ServiceState) -> Verdict {
    if let Some(reason) = failed_event(service, watched_id) {
        let to_task_definition = primary_task_definition(service);
        return Verdict::RolledBack { reason, to_task_definition };
    }
    if has_event(service, &format!("(deployment {watched_id}) deployment completed")) {
        return Verdict::Completed;
    }
    if let Some(primary) = service.deployments.iter().find(|d| d.status == PRIMARY && is_rollback(d)) {
        return Verdict::RolledBack {
            reason: format!(
                "deployment {watched_id} failed: {}",
                primary.rollout_state_reason.as_deref().unwrap_or("")
            ),
            to_task_definition: primary.task_definition.clone(),
        };
    }
    Verdict::Failed {
        reason: format!(
            "deployment {watched_id} is no longer among the service's deployments (now {}), and no event says it \
             completed",
            describe_deployments(service)
        ),
    }
}

/// A deployment the circuit breaker started to roll back.
fn is_rollback(deployment: &Deployment) -> bool {
    deployment.rollout_state_reason.as_deref().is_some_and(|r| r.starts_with(ROLLBACK_REASON_PREFIX))
}

/// An event since `since` says the service is rolling back ("(service S) rolling back to deployment ecs-svc/…").
fn mentions_rollback(service: &ServiceState, since: Option<i64>) -> bool {
    service.events.iter().any(|event| {
        event.message.contains(") rolling back to deployment ")
            && match (since, event.created_at) {
                (Some(since), Some(at)) => at >= since,
                _ => true,
            }
    })
}

/// The event saying `deployment` failed, e.g. "(service S) (deployment D) deployment failed: tasks failed to
/// start.", as a reason: "deployment failed: tasks failed to start."
fn failed_event(service: &ServiceState, deployment: &str) -> Option<String> {
    let needle = format!("(deployment {deployment}) ");
    service.events.iter().find_map(|event| {
        let (_, rest) = event.message.split_once(&needle)?;
        rest.starts_with("deployment failed").then(|| rest.to_owned())
    })
}

fn has_event(service: &ServiceState, needle: &str) -> bool {
    service.events.iter().any(|event| event.message.contains(needle))
}

fn primary_task_definition(service: &ServiceState) -> String {
    service
        .deployments
        .iter()
        .find(|d| d.status == PRIMARY)
        .map_or_else(|| service.task_definition.clone(), |d| d.task_definition.clone())
}

fn describe_deployments(service: &ServiceState) -> String {
    if service.deployments.is_empty() {
        return "none".to_owned();
    }
    let items: Vec<String> = service
        .deployments
        .iter()
        .map(|d| format!("{} {} {}", d.id, d.status, short_task_definition(&d.task_definition)))
        .collect();
    items.join(", ")
}

/// Counts and phase of the watched deployment, which is under way.
fn progress(watched: &Deployment, snapshot: &Snapshot) -> Progress {
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    let live_targets: Vec<&TargetView> =
        snapshot.targets.iter().filter(|t| !matches!(t.state.as_str(), "draining" | "unused")).collect();
    let healthy_targets = live_targets.iter().filter(|t| t.state == "healthy").count();
    let old_tasks = snapshot
        .service
        .deployments
        .iter()
        .filter(|d| d.id != watched.id)
        .map(|d| count(d.running) + count(d.pending))
        .sum::<u32>();
    let phase = if watched.pending > 0 || watched.running < watched.desired {
        "starting tasks".to_owned()
    } else if live_targets.iter().any(|t| t.state != "healthy") {
        "waiting for load balancer health checks".to_owned()
    } else if old_tasks > 0 {
        format!("{old_tasks} old task(s) still running")
    } else {
        "waiting for a steady state".to_owned()
    };
    Progress {
        running: count(watched.running),
        pending: count(watched.pending),
        desired: count(watched.desired),
        failed: count(watched.failed),
        healthy_targets: u32::try_from(healthy_targets).unwrap_or(u32::MAX),
        total_targets: u32::try_from(live_targets.len()).unwrap_or(u32::MAX),
        phase,
    }
}

/// The service's events not in `seen`, oldest first (DescribeServices lists them newest first).
#[must_use]
pub fn new_events<'a>(seen: &HashSet<String>, service: &'a ServiceState) -> Vec<&'a ServiceEvent> {
    let mut fresh: Vec<&ServiceEvent> = Vec::new();
    for event in service.events.iter().rev() {
        if !seen.contains(&event.id) && !fresh.iter().any(|e| e.id == event.id) {
            fresh.push(event);
        }
    }
    fresh
}

/// Why tasks stopped and which targets fail their health checks: what to show when a rollout fails or times
/// out. Stops the scheduler made on purpose ("Scaling activity initiated by …") are left out.
#[must_use]
pub fn diagnose(snapshot: &Snapshot) -> Diagnosis {
    let stopped = snapshot
        .stopped
        .iter()
        .chain(snapshot.tasks.iter().filter(|t| t.last_status == "STOPPED"))
        .filter_map(|task| {
            let reason = task.stopped_reason.as_deref().unwrap_or("");
            if reason.starts_with(SCALING_STOP_PREFIX) {
                return None;
            }
            let containers: Vec<ContainerExit> =
                task.containers.iter().filter(|c| c.exit_code.is_some() || c.reason.is_some()).cloned().collect();
            if reason.is_empty() && containers.is_empty() {
                return None;
            }
            Some(StoppedTask {
                id: task.id.clone(),
                reason: if reason.is_empty() { "stopped (no reason given)".to_owned() } else { reason.to_owned() },
                containers,
                deployment: task.deployment.clone(),
            })
        })
        .fold(Vec::<StoppedTask>::new(), |mut acc, task| {
            if acc.len() < MAX_STOPPED_IN_DIAGNOSIS && !acc.iter().any(|t| t.id == task.id) {
                acc.push(task);
            }
            acc
        });
    let unhealthy_targets = snapshot
        .targets
        .iter()
        .filter(|t| matches!(t.state.as_str(), "unhealthy" | "unhealthy.draining" | "unavailable"))
        .map(|t| UnhealthyTarget {
            id: t.id.clone(),
            port: t.port,
            state: t.state.clone(),
            reason: t.reason.clone(),
            description: t.description.clone(),
        })
        .collect();
    let pending_tasks = snapshot
        .tasks
        .iter()
        .filter(|t| matches!(t.last_status.as_str(), "PROVISIONING" | "PENDING" | "ACTIVATING"))
        .map(|t| t.id.clone())
        .collect();
    Diagnosis { stopped, unhealthy_targets, pending_tasks }
}
