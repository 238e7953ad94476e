//! `cargo ecs plan` and `cargo ecs deploy`: one code path; `plan` stops before changing anything.

use ecs_core::Result;
use ecs_core::aws::Clients;
use ecs_core::config::Resolved;
use ecs_core::deploy::{DeployOptions, DeployReport, deploy};
use ecs_core::publish::PublishOptions;
use ecs_core::report::{Reporter, human_size};

use super::{aws_options, rollout};
use crate::cli::GlobalArgs;
use crate::output::Printer;

/// Plans or deploys every selected package, in order.
///
/// # Errors
/// The first failure.
pub async fn run(
    global: &GlobalArgs,
    resolved: &[Resolved],
    mode: Mode,
    reporter: &dyn Reporter,
    printer: &Printer,
) -> Result<()> {
    let dry_run = matches!(mode, Mode::Plan);
    let options = DeployOptions {
        force: matches!(mode, Mode::Deploy { force: true, .. }),
        dry_run,
        publish: PublishOptions { registry_endpoint: std::env::var("CARGO_ECS_REGISTRY_ENDPOINT").ok() },
        wait: match mode {
            Mode::Deploy { wait: Some(timeout), .. } => Some(rollout::watch_options(timeout)),
            _ => None,
        },
    };
    let mut reports = Vec::new();
    for r in resolved {
        let clients = Clients::from_options(&aws_options(global, &r.settings)).await;
        reports.push(deploy(r, &clients, &options, reporter).await?);
    }
    printer.result(&reports, |all| all.iter().map(|r| render(r, dry_run)).collect::<Vec<_>>().join("\n"));
    rollout::check(reports.iter().map(|r| (r.service.as_str(), r.rollout.as_ref())))
}

/// What the command does.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// `cargo ecs plan`: change nothing.
    Plan,
    /// `cargo ecs deploy`.
    Deploy {
        /// `--force`.
        force: bool,
        /// Follow the rollout this long; `None` with `--no-wait`.
        wait: Option<std::time::Duration>,
    },
}

fn render(report: &DeployReport, dry_run: bool) -> String {
    let mut text = report.plan.to_string();
    text.push_str(&format!("image: {}\n", report.image));
    if dry_run {
        let cost = &report.cost;
        text.push_str(&format!("estimated cost: ${:.2} a month ({})\n", cost.total, cost.basis));
        for line in &cost.lines {
            text.push_str(&format!("  ${:>8.2}  {}\n", line.monthly, line.item));
        }
        for alternative in &cost.alternatives {
            text.push_str(&format!("  (${:.2} for {})\n", alternative.monthly, alternative.item));
        }
    }
    if !dry_run {
        if report.plan.is_empty() {
            text.push_str("Nothing to do: no change was made and nothing was pushed.\n");
        }
        if let Some(pushed) = &report.pushed {
            text.push_str(&format!(
                "pushed: {} blob(s), {}; {} already in the registry\n",
                pushed.push.blobs_uploaded,
                human_size(pushed.push.bytes_uploaded),
                pushed.push.blobs_skipped
            ));
        }
        if let Some(applied) = &report.applied {
            text.push_str(&format!("applied: {} change(s)\n", applied.done.len()));
        }
        if let Some(outcome) = &report.rollout {
            text.push_str(&rollout::render(outcome, &report.logs));
        }
    }
    if let Some(url) = &report.url {
        text.push_str(&format!("url: {url}\n"));
    }
    text
}
