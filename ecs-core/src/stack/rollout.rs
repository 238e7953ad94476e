//! The rollout of a deploy seen through the real AWS readers: snapshots for the watch loop, and the last log
//! lines of stopped tasks for the diagnosis when a rollout fails.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::aws::{self, AwsError, Clients};
use crate::error::Result;
use crate::report::Reporter;
use crate::watch::{
    ContainerExit, Snapshot, SnapshotFuture, SnapshotSource, TargetView, TaskView, WatchOptions, WatchOutcome, watch,
};

/// How many stopped tasks a snapshot lists (the diagnosis shows the newest).
const STOPPED_TASKS: usize = 5;
/// How many log lines to show per stopped task.
pub const LOG_LINES: u32 = 10;

/// Reads a service's state, tasks and target health.
pub struct AwsRollout<'a> {
    /// Clients.
    pub clients: &'a Clients,
    /// Cluster name.
    pub cluster: String,
    /// Service name.
    pub service: String,
    /// The service's target group ARN, when it has one.
    pub target_group: Option<String>,
    /// Names of security groups and target groups, so the state names them as the spec does.
    pub names: aws::ecs::NameMap,
}

impl AwsRollout<'_> {
    async fn read(&self) -> Result<Snapshot, AwsError> {
        let ecs = &self.clients.ecs;
        let service = aws::ecs::observe_service(ecs, &self.cluster, &self.service, &self.names)
            .await?
            .ok_or_else(|| {
                AwsError::other("ecs:DescribeServices", format!("service {}", self.service), "the service is gone")
            })?
            .state;
        let (running, stopped, targets) = tokio::try_join!(
            aws::ecs::running_tasks(ecs, &self.cluster, &self.service),
            aws::ecs::stopped_tasks(ecs, &self.cluster, &self.service, None, STOPPED_TASKS),
            async {
                match &self.target_group {
                    Some(arn) => aws::elb::target_health(&self.clients.elb, arn).await,
                    None => Ok(Vec::new()),
                }
            },
        )?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Ok(Snapshot {
            service,
            tasks: running.iter().map(task_view).collect(),
            stopped: stopped.iter().map(task_view).collect(),
            targets: targets
                .into_iter()
                .map(|t| TargetView {
                    id: t.id,
                    port: t.port,
                    state: t.state,
                    reason: t.reason,
                    description: t.description,
                })
                .collect(),
            now: i64::try_from(now).unwrap_or(i64::MAX),
        })
    }
}

impl SnapshotSource for AwsRollout<'_> {
    fn snapshot(&self) -> SnapshotFuture<'_> {
        Box::pin(self.read())
    }
}

fn task_view(task: &aws::ecs::TaskInfo) -> TaskView {
    TaskView {
        id: task.id.clone(),
        last_status: task.last_status.clone(),
        health: task.health.clone(),
        stopped_reason: task.stopped_reason.clone(),
        containers: task
            .containers
            .iter()
            .map(|(name, exit_code, reason)| ContainerExit {
                name: name.clone(),
                exit_code: *exit_code,
                reason: reason.clone(),
            })
            .collect(),
        deployment: task.started_by.clone(),
    }
}

/// The last log lines of each task, by task id (tasks whose stream has no lines are left out).
///
/// # Errors
/// A failed CloudWatch Logs call.
pub async fn last_log_lines(
    clients: &Clients,
    log_group: &str,
    stream_prefix: &str,
    container: &str,
    task_ids: &[String],
) -> Result<BTreeMap<String, Vec<String>>, AwsError> {
    let mut lines = BTreeMap::new();
    for id in task_ids {
        let stream = aws::logs::task_log_stream(stream_prefix, container, id);
        let found = aws::logs::recent_log_lines(&clients.logs, log_group, &stream, LOG_LINES).await?;
        if !found.is_empty() {
            lines.insert(id.clone(), found);
        }
    }
    Ok(lines)
}

/// Log lines of one stopped task, for the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TaskLogs {
    /// Task id.
    pub task: String,
    /// Its last lines, oldest first.
    pub lines: Vec<String>,
}

/// The service a rollout is followed on, and where its tasks log.
#[derive(Debug, Clone)]
pub struct RolloutTarget {
    /// Cluster name.
    pub cluster: String,
    /// Service name.
    pub service: String,
    /// The target group ARN, when the service has one.
    pub target_group: Option<String>,
    /// The log group.
    pub log_group: String,
    /// The awslogs stream prefix.
    pub log_stream_prefix: String,
    /// The container name.
    pub container: String,
}

/// Watches `deployment` until it completes, fails or times out; on failure, fetches the stopped tasks' last log
/// lines for the diagnosis.
///
/// # Errors
/// AWS errors that persist past the watch's retries.
pub async fn follow(
    clients: &Clients,
    target: &RolloutTarget,
    deployment: &str,
    options: &WatchOptions,
    reporter: &dyn Reporter,
) -> Result<(WatchOutcome, Vec<TaskLogs>)> {
    let source = AwsRollout {
        clients,
        cluster: target.cluster.clone(),
        service: target.service.clone(),
        target_group: target.target_group.clone(),
        names: aws::ecs::NameMap::default(),
    };
    let outcome = watch(&source, deployment, *options, reporter).await?;
    let mut logs = Vec::new();
    if !outcome.verdict.is_success()
        && let Some(diagnosis) = &outcome.diagnosis
    {
        let ids: Vec<String> = diagnosis.stopped.iter().map(|t| t.id.clone()).collect();
        let found =
            last_log_lines(clients, &target.log_group, &target.log_stream_prefix, &target.container, &ids).await?;
        logs = found.into_iter().map(|(task, lines)| TaskLogs { task, lines }).collect();
    }
    Ok((outcome, logs))
}
