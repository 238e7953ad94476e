//! `cargo ecs rollback`: back to the previous task definition revision (or `--to N`), then watch like deploy.

use ecs_core::aws::Clients;
use ecs_core::config::Resolved;
use ecs_core::report::Reporter;
use ecs_core::rollback::{RollbackReport, rollback};
use ecs_core::watch::WatchOptions;
use ecs_core::{Error, Result};

use super::aws_options;
use crate::cli::{GlobalArgs, RollbackArgs};
use crate::output::Printer;

/// Seconds between two looks at the rollout.
const WATCH_INTERVAL_SECS: u64 = 2;

/// Rolls every selected package back, in order.
///
/// # Errors
/// The first failure, or a rollout that did not complete.
pub async fn run(
    global: &GlobalArgs,
    resolved: &[Resolved],
    args: &RollbackArgs,
    reporter: &dyn Reporter,
    printer: &Printer,
) -> Result<()> {
    let wait = (!args.no_wait).then_some(WatchOptions {
        timeout: args.timeout,
        interval: std::time::Duration::from_secs(WATCH_INTERVAL_SECS),
    });
    let to = args.to.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    let mut reports = Vec::new();
    for r in resolved {
        let clients = Clients::from_options(&aws_options(global, &r.settings)).await;
        reports.push(rollback(r, &clients, to, wait, reporter).await?);
    }
    printer.result(&reports, |all| all.iter().map(render).collect::<Vec<_>>().join("\n"));
    match reports.iter().find(|r| !r.succeeded()) {
        Some(failed) => Err(Error::Rollout {
            service: failed.service.clone(),
            verdict: failed.rollout.as_ref().map(|r| r.verdict.to_string()).unwrap_or_default(),
        }),
        None => Ok(()),
    }
}

fn render(report: &RollbackReport) -> String {
    let mut text = format!("{}: rolled back from {} to {}\n", report.service, report.from, report.to);
    if let Some(rollout) = &report.rollout {
        text.push_str(&format!("rollout: {}\n", rollout.verdict));
        for line in rollout.diagnosis.iter().flat_map(ecs_core::watch::Diagnosis::lines) {
            text.push_str(&format!("  {line}\n"));
        }
    }
    text
}
