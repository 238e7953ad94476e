//! `cargo ecs rollback`: point the service back at the previous ACTIVE task definition revision (or a chosen one),
//! then follow the rollout like a deploy.

use serde::Serialize;

use crate::aws::{self, Clients};
use crate::config::Resolved;
use crate::error::{Error, Result};
use crate::report::Reporter;
use crate::stack::names;
use crate::stack::rollout::{RolloutTarget, TaskLogs, follow};
use crate::watch::{WatchOptions, WatchOutcome};

/// What a rollback did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RollbackReport {
    /// The service.
    pub service: String,
    /// The revision it ran.
    pub from: String,
    /// The revision it runs now.
    pub to: String,
    /// How the rollout ended, when it was followed.
    pub rollout: Option<WatchOutcome>,
    /// The last log lines of the tasks that stopped, when the rollout failed.
    pub logs: Vec<TaskLogs>,
}

/// The revision to go back to: `to` when given (it must be ACTIVE), else the newest ACTIVE revision older than
/// `current`. `revisions` are (revision, ARN), any order.
///
/// # Errors
/// When there is no such revision, with the revisions there are.
pub fn choose(family: &str, current: i32, to: Option<i32>, revisions: &[(i32, String)]) -> Result<(i32, String)> {
    let listed = || {
        let mut numbers: Vec<i32> = revisions.iter().map(|(r, _)| *r).collect();
        numbers.sort_unstable();
        numbers.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
    };
    let found = match to {
        Some(wanted) => revisions.iter().find(|(r, _)| *r == wanted),
        None => revisions.iter().filter(|(r, _)| *r < current).max_by_key(|(r, _)| *r),
    };
    found.cloned().ok_or_else(|| match to {
        Some(wanted) => Error::workspace(
            format!("{family}:{wanted} is not an ACTIVE revision of the task definition family"),
            format!("active revisions: {}", listed()),
        ),
        None => Error::workspace(
            format!("{family}:{current} has no earlier ACTIVE revision to go back to"),
            format!("active revisions: {}; choose one with --to", listed()),
        ),
    })
}

/// Rolls the service of `resolved` back; follows the rollout when `wait` is set.
///
/// # Errors
/// A service that does not exist, no revision to go back to, AWS errors.
pub async fn rollback(
    resolved: &Resolved,
    clients: &Clients,
    to: Option<i32>,
    wait: Option<WatchOptions>,
    reporter: &dyn Reporter,
) -> Result<RollbackReport> {
    let settings = &resolved.settings;
    let names_map = aws::ecs::NameMap::default();
    let service = aws::ecs::observe_service(&clients.ecs, &settings.cluster, &settings.service, &names_map)
        .await?
        .ok_or_else(|| {
            Error::workspace(
                format!("service {} does not exist in cluster {}", settings.service, settings.cluster),
                "there is nothing to roll back: deploy it first with `cargo ecs deploy`",
            )
        })?
        .state;
    let current = revision_of(&service.task_definition).unwrap_or(0);
    let family = family_of(&service.task_definition).unwrap_or(&settings.family).to_owned();
    let revisions = aws::ecs_revisions::active_revisions(&clients.ecs, &family).await?;
    let (revision, arn) = choose(&family, current, to, &revisions)?;
    let step = format!("roll {} back to {family}:{revision}", settings.service);
    reporter.begin(&step);
    let updated =
        aws::ecs_revisions::set_task_definition(&clients.ecs, &settings.cluster, &settings.service, &arn).await?;
    reporter.end(&step, &format!("from {family}:{current}"));
    let mut report = RollbackReport {
        service: settings.service.clone(),
        from: format!("{family}:{current}"),
        to: format!("{family}:{revision}"),
        rollout: None,
        logs: Vec::new(),
    };
    if let (Some(options), Some(deployment)) = (wait, updated.deployments.first()) {
        let target = RolloutTarget {
            cluster: settings.cluster.clone(),
            service: settings.service.clone(),
            target_group: service
                .load_balancer
                .as_ref()
                .map(|l| l.target_group.clone())
                .filter(|t| t.starts_with("arn:")),
            log_group: names::log_group(settings),
            log_stream_prefix: names::LOG_STREAM_PREFIX.to_owned(),
            container: settings.container.clone(),
        };
        let (outcome, logs) = follow(clients, &target, &deployment.id, &options, reporter).await?;
        report.rollout = Some(outcome);
        report.logs = logs;
    }
    Ok(report)
}

/// `7` of `arn:aws:ecs:…:task-definition/family:7`.
fn revision_of(arn: &str) -> Option<i32> {
    arn.rsplit(':').next()?.parse().ok()
}

/// `family` of `arn:aws:ecs:…:task-definition/family:7`.
fn family_of(arn: &str) -> Option<&str> {
    arn.rsplit('/').next()?.rsplit_once(':').map(|(family, _)| family)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revisions(numbers: &[i32]) -> Vec<(i32, String)> {
        numbers.iter().map(|r| (*r, format!("arn:aws:ecs:us-east-1:1:task-definition/app:{r}"))).collect()
    }

    #[test]
    fn the_previous_active_revision_is_the_default() {
        assert_eq!(choose("app", 5, None, &revisions(&[5, 4, 2])).map(|c| c.0).ok(), Some(4));
        assert_eq!(
            choose("app", 3, None, &revisions(&[5, 1])).map(|c| c.0).ok(),
            Some(1),
            "an older one, skipping deregistered"
        );
        let err = choose("app", 1, None, &revisions(&[1, 2])).expect_err("nothing older");
        assert_eq!(err.to_string(), "app:1 has no earlier ACTIVE revision to go back to");
        assert_eq!(err.help().as_deref(), Some("active revisions: 1, 2; choose one with --to"));
    }

    #[test]
    fn a_chosen_revision_must_be_active() {
        assert_eq!(choose("app", 5, Some(2), &revisions(&[5, 2])).map(|c| c.0).ok(), Some(2));
        assert_eq!(choose("app", 2, Some(5), &revisions(&[5, 2])).map(|c| c.0).ok(), Some(5), "forward too");
        let err = choose("app", 5, Some(3), &revisions(&[5, 2])).expect_err("inactive");
        assert!(err.to_string().contains("app:3 is not an ACTIVE revision"), "{err}");
    }

    #[test]
    fn arns_split_into_family_and_revision() {
        let arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/my-app:12";
        assert_eq!((family_of(arn), revision_of(arn)), (Some("my-app"), Some(12)));
    }
}
