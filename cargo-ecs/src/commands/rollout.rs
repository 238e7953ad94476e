//! What `deploy` and `rollback` share once they follow a rollout: how often to look, how to show the outcome,
//! and the error when it did not complete.

use std::time::Duration;

use ecs_core::Error;
use ecs_core::stack::rollout::TaskLogs;
use ecs_core::watch::{WatchOptions, WatchOutcome};

/// Seconds between two looks at a rollout.
const WATCH_INTERVAL_SECS: u64 = 2;

/// Follow a rollout for at most `timeout`.
#[must_use]
pub fn watch_options(timeout: Duration) -> WatchOptions {
    WatchOptions { timeout, interval: Duration::from_secs(WATCH_INTERVAL_SECS) }
}

/// `rollout: VERDICT`, the diagnosis, and the last log lines of the tasks that stopped.
#[must_use]
pub fn render(rollout: &WatchOutcome, logs: &[TaskLogs]) -> String {
    let mut text = format!("rollout: {}\n", rollout.verdict);
    for line in rollout.diagnosis.iter().filter(|d| !d.is_empty()).flat_map(ecs_core::watch::Diagnosis::lines) {
        text.push_str(&format!("  {line}\n"));
    }
    for task in logs {
        text.push_str(&format!("  last log lines of task {}:\n", task.task));
        for line in &task.lines {
            text.push_str(&format!("    {line}\n"));
        }
    }
    text
}

/// The error for the first service whose rollout did not complete, if any.
///
/// # Errors
/// [`Error::Rollout`] naming the service and how its rollout ended.
pub fn check<'a>(rollouts: impl IntoIterator<Item = (&'a str, Option<&'a WatchOutcome>)>) -> ecs_core::Result<()> {
    match rollouts.into_iter().find(|(_, rollout)| rollout.is_some_and(|r| !r.verdict.is_success())) {
        Some((service, rollout)) => Err(Error::Rollout {
            service: service.to_owned(),
            verdict: rollout.map(|r| r.verdict.to_string()).unwrap_or_default(),
        }),
        None => Ok(()),
    }
}
