//! `cargo ecs status`: what runs for each selected service; `--watch` refreshes until interrupted.

use std::io::IsTerminal as _;
use std::time::Duration;

use ecs_core::Result;
use ecs_core::aws::Clients;
use ecs_core::config::Resolved;
use ecs_core::report::{Reporter, Silent};
use ecs_core::status::{ServiceStatus, format_age, short_digest, status};

use super::aws_options;
use crate::cli::{GlobalArgs, StatusArgs};
use crate::output::Printer;

/// Seconds between two refreshes of `--watch`.
const WATCH_INTERVAL_SECS: u64 = 5;
/// Clears a terminal and puts the cursor top left.
const CLEAR_SCREEN: &str = "\x1b[2J\x1b[H";

/// Prints the status of every selected package; with `--watch`, again every few seconds until Ctrl-C.
///
/// # Errors
/// The first failure: a service that does not exist, an AWS call, the build of the image.
pub async fn run(
    global: &GlobalArgs,
    resolved: &[Resolved],
    args: &StatusArgs,
    reporter: &dyn Reporter,
    printer: &Printer,
) -> Result<()> {
    let mut clients = Vec::with_capacity(resolved.len());
    for r in resolved {
        clients.push(Clients::from_options(&aws_options(global, &r.settings)).await);
    }
    let redraw = args.watch && !printer.json() && std::io::stdout().is_terminal();
    let mut first = true;
    loop {
        // The build's progress shows once; refreshes build quietly.
        let build_reporter: &dyn Reporter = if first { reporter } else { &Silent };
        let mut statuses = Vec::with_capacity(resolved.len());
        for (r, clients) in resolved.iter().zip(&clients) {
            statuses.push(status(r, clients, build_reporter).await?);
        }
        printer.result(&statuses, |all| {
            let text = all.iter().map(render).collect::<Vec<_>>().join("\n");
            match (redraw, args.watch) {
                (true, _) => format!("{CLEAR_SCREEN}{text}"),
                (false, true) => format!("{text}\n"),
                (false, false) => text,
            }
        });
        if !args.watch {
            return Ok(());
        }
        first = false;
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(WATCH_INTERVAL_SECS)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// The status for people.
fn render(status: &ServiceStatus) -> String {
    let mut text =
        format!("service {} in cluster {} ({}): {}\n", status.service, status.cluster, status.region, status.status);
    text.push_str(&format!(
        "  tasks: {} desired, {} running, {} pending\n",
        status.desired, status.running, status.pending
    ));
    let tree = &status.working_tree;
    match &tree.deployed {
        Some(deployed) if tree.up_to_date => {
            text.push_str(&format!("  image: {} ({})\n", tree.verdict(), short_digest(deployed)));
        }
        Some(deployed) => text.push_str(&format!(
            "  image: {} (deployed {}, working tree {})\n",
            tree.verdict(),
            short_digest(deployed),
            short_digest(&tree.digest)
        )),
        None => text.push_str(&format!(
            "  image: {} (no deployed digest, working tree {})\n",
            tree.verdict(),
            short_digest(&tree.digest)
        )),
    }
    if let Some(url) = &status.url {
        text.push_str(&format!("  url: {url}\n"));
    }
    text.push_str("deployments:\n");
    for d in &status.deployments {
        text.push_str(&format!(
            "  {:<8} {:<20} {:<20} {:<12} {}/{} running, {} pending{}  {}\n",
            d.status,
            d.revision,
            d.digest.as_deref().map_or("-", short_digest),
            d.rollout_state.as_deref().unwrap_or("-"),
            d.running,
            d.desired,
            d.pending,
            if d.failed > 0 { format!(", {} failed", d.failed) } else { String::new() },
            ago(d.age),
        ));
        if let Some(reason) =
            d.rollout_state_reason.as_deref().filter(|_| d.rollout_state.as_deref() != Some("COMPLETED"))
        {
            text.push_str(&format!("           {reason}\n"));
        }
    }
    if status.tasks.is_empty() {
        text.push_str("tasks: none\n");
    } else {
        text.push_str("tasks:\n");
        for t in &status.tasks {
            text.push_str(&format!(
                "  {:<32} {:<20} {:<12} health {:<9} {:<15} target {:<10} {}\n",
                t.id,
                t.revision,
                t.last_status,
                t.health.as_deref().unwrap_or("-"),
                t.private_ip.as_deref().unwrap_or("-"),
                t.target.as_deref().unwrap_or("-"),
                ago(t.age),
            ));
        }
    }
    if !status.targets.is_empty() {
        text.push_str("targets:\n");
        for target in &status.targets {
            let port = target.port.map(|p| format!(":{p}")).unwrap_or_default();
            let why = target.description.as_deref().or(target.reason.as_deref()).map(|d| format!(" ({d})"));
            text.push_str(&format!("  {}{port} {}{}\n", target.id, target.state, why.unwrap_or_default()));
        }
    }
    if !status.events.is_empty() {
        text.push_str("events:\n");
        for event in &status.events {
            let age = ecs_core::status::age(status.read_at, event.created_at);
            text.push_str(&format!("  {:>8}  {}\n", ago(age), event.message));
        }
    }
    text
}

/// `5m ago`, or `-`.
fn ago(age: Option<u64>) -> String {
    age.map_or_else(|| "-".to_owned(), |a| format!("{} ago", format_age(a)))
}
