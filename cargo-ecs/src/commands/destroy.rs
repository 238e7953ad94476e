//! `cargo ecs destroy`: show what would be deleted, ask (or `--yes`), then delete it in reverse dependency order.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use ecs_core::aws::Clients;
use ecs_core::config::Resolved;
use ecs_core::destroy::{DestroyReport, Teardown, execute, plan};
use ecs_core::report::Reporter;
use ecs_core::{Error, Result};
use serde::Serialize;

use super::aws_options;
use crate::cli::{DestroyArgs, GlobalArgs};
use crate::output::Printer;

/// What one destroy reports: the teardown it planned, and what it did (nothing when there was nothing to do).
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct Outcome {
    service: String,
    teardown: Teardown,
    destroyed: Option<DestroyReport>,
}

/// Destroys every selected package's stack, in order.
///
/// # Errors
/// A refusal (no `--yes` without a terminal, or the user said no), or the first deletion that fails.
pub async fn run(
    global: &GlobalArgs,
    resolved: &[Resolved],
    args: &DestroyArgs,
    reporter: &dyn Reporter,
    printer: &Printer,
) -> Result<()> {
    let mut outcomes = Vec::new();
    for r in resolved {
        // Clients of their own for each service: the reads they share (`Clients::shared`) are kept for the life of
        // the clients, and the previous service's destroy has changed what the next one must read afresh (the
        // load balancer's users, the cluster's services).
        let clients = Clients::from_options(&aws_options(global, &r.settings)).await;
        let teardown = plan(&r.settings, &clients, args.purge_images).await?;
        let mut outcome = Outcome { service: r.settings.service.clone(), teardown, destroyed: None };
        if !outcome.teardown.is_empty() {
            if !args.yes {
                confirm(&outcome.teardown)?;
            }
            outcome.destroyed = Some(execute(outcome.teardown.clone(), &clients, reporter).await?);
        }
        outcomes.push(outcome);
    }
    printer.result(&outcomes, |all| all.iter().map(render).collect::<Vec<_>>().join("\n"));
    Ok(())
}

/// Shows the list on stderr and asks on a terminal; refuses without one.
fn confirm(teardown: &Teardown) -> Result<()> {
    let n = teardown.delete.len();
    let mut err = anstream::stderr();
    let _ = err.write_all(list(teardown).as_bytes());
    if !std::io::stdin().is_terminal() {
        return Err(Error::workspace(
            format!("destroy of {} needs confirmation, and standard input is not a terminal", teardown.service),
            "pass --yes to delete without asking; nothing was changed",
        ));
    }
    let _ = write!(err, "Delete these {n} resources? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::workspace(format!("destroy of {} cancelled", teardown.service), "nothing was changed"))
    }
}

/// The teardown as text: what goes, in order, and what stays.
fn list(teardown: &Teardown) -> String {
    let mut text = format!("Destroy service {}:\n", teardown.service);
    for deletion in &teardown.delete {
        text.push_str(&format!("  - {} (delete)\n", deletion.describe()));
    }
    for kept in &teardown.kept {
        text.push_str(&format!("  = {} (kept: {})\n", kept.resource, kept.reason));
    }
    text
}

fn render(outcome: &Outcome) -> String {
    match &outcome.destroyed {
        None => {
            let mut text = format!("{}: nothing to delete\n", outcome.service);
            for kept in &outcome.teardown.kept {
                text.push_str(&format!("  = {} (kept: {})\n", kept.resource, kept.reason));
            }
            text
        }
        Some(report) => {
            let mut text = format!("{}: deleted {} resources\n", report.service, report.deleted.len());
            for deletion in &report.deleted {
                text.push_str(&format!("  - {}\n", deletion.describe()));
            }
            for kept in &report.kept {
                text.push_str(&format!("  = {} (kept: {})\n", kept.resource, kept.reason));
            }
            text
        }
    }
}
