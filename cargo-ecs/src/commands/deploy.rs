//! `cargo ecs plan` and `cargo ecs deploy`: one code path; `plan` stops before changing anything.

use ecs_core::Result;
use ecs_core::aws::Clients;
use ecs_core::config::Resolved;
use ecs_core::deploy::{DeployOptions, DeployReport, deploy};
use ecs_core::publish::PublishOptions;
use ecs_core::report::{Reporter, human_size};

use super::aws_options;
use crate::cli::GlobalArgs;
use crate::output::Printer;

/// Plans or deploys every selected package, in order.
///
/// # Errors
/// The first failure.
pub async fn run(
    global: &GlobalArgs,
    resolved: &[Resolved],
    force: bool,
    dry_run: bool,
    reporter: &dyn Reporter,
    printer: &Printer,
) -> Result<()> {
    let options = DeployOptions {
        force,
        dry_run,
        publish: PublishOptions { registry_endpoint: std::env::var("CARGO_ECS_REGISTRY_ENDPOINT").ok() },
    };
    let mut reports = Vec::new();
    for r in resolved {
        let clients = Clients::from_options(&aws_options(global, &r.settings)).await;
        reports.push(deploy(r, &clients, &options, reporter).await?);
    }
    printer.result(&reports, |all| all.iter().map(|r| render(r, dry_run)).collect::<Vec<_>>().join("\n"));
    Ok(())
}

fn render(report: &DeployReport, dry_run: bool) -> String {
    let mut text = report.plan.to_string();
    text.push_str(&format!("image: {}\n", report.image));
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
    }
    if let Some(url) = &report.url {
        text.push_str(&format!("url: {url}\n"));
    }
    text
}
