//! The polling loop: take a [`Snapshot`] every interval, report new service events and progress, stop on a final
//! [`Verdict`], and say why when the rollout failed or timed out.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;

use super::state::{Diagnosis, PRIMARY, Snapshot, Verdict, assess, diagnose, new_events, short_task_definition};
use crate::aws::AwsError;
use crate::report::Reporter;
use crate::stack::model::ServiceEvent;

/// The future a [`SnapshotSource`] returns.
pub type SnapshotFuture<'a> = Pin<Box<dyn Future<Output = Result<Snapshot, AwsError>> + Send + 'a>>;

/// Where snapshots come from: the AWS readers in the binary, scripted data in tests.
pub trait SnapshotSource: Send + Sync {
    /// The service, its tasks and targets, now.
    fn snapshot(&self) -> SnapshotFuture<'_>;
}

/// How long and how often to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchOptions {
    /// Give up after this long ([`Verdict::TimedOut`]); zero waits for ever.
    pub timeout: Duration,
    /// Time between two snapshots.
    pub interval: Duration,
}

impl WatchOptions {
    /// Default time between snapshots.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(3);
    /// Default limit: ten minutes, several times a healthy Fargate rollout with cargo-ecs's health check settings.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self { timeout: Self::DEFAULT_TIMEOUT, interval: Self::DEFAULT_INTERVAL }
    }
}

/// How a watched rollout ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct WatchOutcome {
    /// The final verdict (never [`Verdict::InProgress`]).
    pub verdict: Verdict,
    /// Stopped tasks and unhealthy targets when the rollout did not complete; pending tasks too when it timed out.
    pub diagnosis: Option<Diagnosis>,
    /// The service events reported while watching, oldest first.
    pub events_seen: Vec<ServiceEvent>,
}

/// Failed reads in a row that are retried on the next tick; one more ends the watch with the error.
pub const MAX_CONSECUTIVE_ERRORS: u32 = 3;

/// Follows deployment `deployment_id` (empty: the apply made none) until it completes, fails or times out.
///
/// Reports a step `rollout SERVICE`: one `output` line per new service event, in order, and one whenever the
/// progress (`2/3 running, 1 pending, targets 2/3 healthy: starting tasks`) changes; on failure or timeout the
/// diagnosis lines; then `end` with the verdict. Events older than the watched deployment are not reported.
///
/// # Errors
/// The source's error when [`MAX_CONSECUTIVE_ERRORS`] reads in a row failed and the next one fails too, or at
/// once when the error is not transient (access denied, service not found, invalid request).
pub async fn watch(
    source: &dyn SnapshotSource,
    deployment_id: &str,
    options: WatchOptions,
    reporter: &dyn Reporter,
) -> Result<WatchOutcome, AwsError> {
    let deadline = (!options.timeout.is_zero()).then(|| tokio::time::Instant::now() + options.timeout);
    let timeout_secs = i64::try_from(options.timeout.as_secs()).unwrap_or(i64::MAX);
    let mut seen: HashSet<String> = HashSet::new();
    let mut events_seen: Vec<ServiceEvent> = Vec::new();
    let mut errors = 0u32;
    let mut started: Option<(i64, String)> = None;
    let mut last_line = String::new();
    loop {
        let snapshot = match source.snapshot().await {
            Ok(snapshot) => {
                errors = 0;
                snapshot
            }
            Err(error) if is_transient(&error) && errors < MAX_CONSECUTIVE_ERRORS => {
                errors += 1;
                reporter.warn(&format!(
                    "could not read the rollout ({error}); retrying ({errors}/{MAX_CONSECUTIVE_ERRORS})"
                ));
                tokio::time::sleep(options.interval).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        let (since, step) = match &started {
            Some(started) => started.clone(),
            None => {
                let step = format!("rollout {}", snapshot.service.name);
                reporter.begin(&step);
                // Events are listed newest first: from the newest one that predates the rollout on, all do.
                let baseline = event_baseline(deployment_id, &snapshot);
                let events = &snapshot.service.events;
                if let Some(first_old) = events.iter().position(|event| {
                    event.created_at.is_some_and(|at| is_history(at, &event.message, baseline, deployment_id))
                }) {
                    seen.extend(events[first_old..].iter().map(|event| event.id.clone()));
                }
                started = Some((snapshot.now, step.clone()));
                (snapshot.now, step)
            }
        };

        let fresh: Vec<ServiceEvent> = new_events(&seen, &snapshot.service).into_iter().cloned().collect();
        for event in fresh {
            reporter.output(&step, &event.message);
            seen.insert(event.id.clone());
            events_seen.push(event);
        }

        let mut verdict = assess(deployment_id, &snapshot, since, timeout_secs);
        if let Verdict::InProgress(progress) = &verdict
            && deadline.is_some_and(|d| tokio::time::Instant::now() >= d)
        {
            // The snapshots' clock did not reach the limit, ours did.
            let waited_secs = snapshot.now.saturating_sub(since).max(timeout_secs);
            verdict = Verdict::TimedOut { waited_secs, progress: progress.clone() };
        }
        match verdict {
            Verdict::InProgress(progress) => {
                let line = progress.to_string();
                if line != last_line {
                    reporter.output(&step, &line);
                    last_line = line;
                }
                tokio::time::sleep(options.interval).await;
            }
            verdict => {
                let diagnosis = (!verdict.is_success()).then(|| {
                    let mut diagnosis = diagnose(&snapshot);
                    if !matches!(verdict, Verdict::TimedOut { .. }) {
                        // Tasks just started (a rollback's) are no clue; stuck ones are, when time ran out.
                        diagnosis.pending_tasks.clear();
                    }
                    diagnosis
                });
                if let Some(diagnosis) = &diagnosis {
                    for line in diagnosis.lines() {
                        reporter.output(&step, &line);
                    }
                }
                reporter.end(&step, &end_line(&verdict, &snapshot, deployment_id));
                return Ok(WatchOutcome { verdict, diagnosis, events_seen });
            }
        }
    }
}

/// Events before this time (seconds since the epoch) predate the rollout: the watched deployment's creation, or,
/// when it is not listed, the oldest listed deployment's; the snapshot's time when there is no deployment to watch.
fn event_baseline(deployment_id: &str, snapshot: &Snapshot) -> i64 {
    let deployments = &snapshot.service.deployments;
    if deployment_id.is_empty() {
        return snapshot.now;
    }
    deployments
        .iter()
        .find(|d| d.id == deployment_id)
        .and_then(|d| d.created_at)
        .or_else(|| deployments.iter().filter_map(|d| d.created_at).min())
        .unwrap_or(snapshot.now)
}

/// Whether an event listed when the watch starts predates the rollout: older than `baseline`, or, in the very second
/// the watched deployment was made (times are whole seconds), the end of the deployment before it: a steady state,
/// or another deployment completing or failing (no deployment gets that far within the second it was made).
fn is_history(at: i64, message: &str, baseline: i64, deployment_id: &str) -> bool {
    if at != baseline {
        return at < baseline;
    }
    if deployment_id.is_empty() {
        return false;
    }
    let other_deployment = message.split_once("(deployment ").is_some_and(|(_, rest)| {
        !rest.starts_with(deployment_id)
            && (rest.contains(") deployment completed") || rest.contains(") deployment failed"))
    });
    other_deployment || message.ends_with(") has reached a steady state.")
}

/// The step's result line: the verdict, with what runs when it completed.
fn end_line(verdict: &Verdict, snapshot: &Snapshot, deployment_id: &str) -> String {
    match verdict {
        Verdict::Completed => {
            let deployment = snapshot
                .service
                .deployments
                .iter()
                .find(|d| d.id == deployment_id)
                .or_else(|| snapshot.service.deployments.iter().find(|d| d.status == PRIMARY));
            match deployment {
                Some(d) => format!(
                    "completed: {} running {}/{}",
                    short_task_definition(&d.task_definition),
                    d.running,
                    d.desired
                ),
                None => "completed".to_owned(),
            }
        }
        other => other.to_string(),
    }
}

/// Whether a failed read may succeed on the next tick: not when AWS refused the request itself (permissions,
/// credentials, a missing service or cluster, an invalid parameter).
fn is_transient(error: &AwsError) -> bool {
    if error.unreachable {
        return true;
    }
    if error.is_not_found() {
        return false;
    }
    !matches!(
        error.code.as_deref(),
        Some(
            "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "ExpiredToken"
                | "ExpiredTokenException"
                | "InvalidClientTokenId"
                | "UnrecognizedClientException"
                | "ClientException"
                | "InvalidParameterException"
                | "ValidationError"
                | "ValidationException"
        )
    )
}
