//! `cargo ecs rollback`: back to the previous task definition revision (or `--to N`), then watch like deploy.

use ecs_core::Result;
use ecs_core::aws::Clients;
use ecs_core::config::Resolved;
use ecs_core::report::Reporter;
use ecs_core::rollback::{RollbackReport, rollback};

use super::{aws_options, rollout};
use crate::cli::{GlobalArgs, RollbackArgs};
use crate::output::Printer;

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
    let wait = (!args.no_wait).then(|| rollout::watch_options(args.timeout));
    let to = args.to.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    let mut reports = Vec::new();
    for r in resolved {
        let clients = Clients::from_options(&aws_options(global, &r.settings)).await;
        reports.push(rollback(r, &clients, to, wait, reporter).await?);
    }
    printer.result(&reports, |all| all.iter().map(render).collect::<Vec<_>>().join("\n"));
    rollout::check(reports.iter().map(|r| (r.service.as_str(), r.rollout.as_ref())))
}

fn render(report: &RollbackReport) -> String {
    let mut text = format!("{}: rolled back from {} to {}\n", report.service, report.from, report.to);
    if let Some(outcome) = &report.rollout {
        text.push_str(&rollout::render(outcome, &report.logs));
    }
    text
}
