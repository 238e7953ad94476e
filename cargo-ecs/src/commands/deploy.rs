//! `cargo ecs plan` and `cargo ecs deploy`: one code path; `plan` stops before changing anything.

use ecs_core::aws::{AwsOptions, Clients};
use ecs_core::config::{Resolved, Settings};
use ecs_core::deploy::{DeployOptions, DeployReport, deploy};
use ecs_core::fleet::{Outcome, deploy_all, failures};
use ecs_core::publish::PublishOptions;
use ecs_core::report::{Reporter, human_size};
use ecs_core::{Error, Result};
use serde::Serialize;

use super::{aws_options, rollout};
use crate::cli::GlobalArgs;
use crate::output::Printer;

/// Plans or deploys the selected packages: one alone as it is, several concurrently (one cargo invocation, one live
/// line per service, a summary table at the end).
///
/// # Errors
/// The failure of a single service; with several, which of them failed (the others are deployed).
pub async fn run(
    global: &GlobalArgs,
    resolved: &[Resolved],
    mode: Mode,
    reporter: &dyn Reporter,
    printer: &Printer,
) -> Result<()> {
    let dry_run = matches!(mode, Mode::Plan);
    // Ctrl-C: the apply finishes the steps under way, starts no other, and says what remains; a second Ctrl-C
    // quits at once.
    let interrupts = tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            ecs_core::interrupt::request();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    let result = run_selected(global, resolved, mode, dry_run, reporter, printer).await;
    interrupts.abort();
    result
}

async fn run_selected(
    global: &GlobalArgs,
    resolved: &[Resolved],
    mode: Mode,
    dry_run: bool,
    reporter: &dyn Reporter,
    printer: &Printer,
) -> Result<()> {
    let options = DeployOptions {
        force: matches!(mode, Mode::Deploy { force: true, .. }),
        dry_run,
        publish: PublishOptions { registry_endpoint: std::env::var("CARGO_ECS_REGISTRY_ENDPOINT").ok() },
        wait: match mode {
            Mode::Deploy { wait: Some(timeout), .. } => Some(rollout::watch_options(timeout)),
            _ => None,
        },
    };
    if let [one] = resolved {
        let clients = Clients::from_options(&aws_options(global, &one.settings)).await;
        let report = deploy(one, &clients, &options, None, reporter).await?;
        printer.result(&[&report], |all| all.iter().map(|r| render(r, dry_run)).collect::<Vec<_>>().join("\n"));
        return rollout::check([(report.service.as_str(), report.rollout.as_ref())]);
    }
    // One set of clients per distinct AWS options (region): building them loads credentials and TLS roots.
    let mut by_options: Vec<(AwsOptions, Clients)> = Vec::new();
    for r in resolved {
        let options = aws_options(global, &r.settings);
        if !by_options.iter().any(|(o, _)| *o == options) {
            let clients = Clients::from_options(&options).await;
            by_options.push((options, clients));
        }
    }
    let clients = |settings: &Settings| {
        let options = aws_options(global, settings);
        let found = by_options.iter().find(|(o, _)| *o == options).map(|(_, c)| c.clone());
        async move {
            match found {
                Some(clients) => clients,
                None => Clients::from_options(&options).await,
            }
        }
    };
    let outcomes = deploy_all(resolved, clients, &options, reporter).await;
    let results: Vec<ServiceResult> = outcomes.iter().map(ServiceResult::from).collect();
    printer.result(&results, |_| render_all(&outcomes, dry_run));
    failures(&outcomes).map_or(Ok(()), Err)
}

/// One service's outcome as `--output json` shows it.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ServiceResult<'a> {
    service: &'a str,
    ok: bool,
    seconds: f64,
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a DeployReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<String>,
}

impl<'a> From<&'a Outcome> for ServiceResult<'a> {
    fn from(outcome: &'a Outcome) -> Self {
        Self {
            service: &outcome.service,
            ok: outcome.succeeded(),
            seconds: outcome.seconds,
            summary: outcome.summary(),
            report: outcome.result.as_ref().ok(),
            error: outcome.result.as_ref().err().map(ToString::to_string),
            help: outcome.result.as_ref().err().and_then(Error::help),
        }
    }
}

/// Each service's plan when planning; then a table: service, result, time, URL; then each failure in full.
fn render_all(outcomes: &[Outcome], dry_run: bool) -> String {
    let mut text = String::new();
    if dry_run {
        for report in outcomes.iter().filter_map(|o| o.result.as_ref().ok()) {
            text.push_str(&render(report, true));
            text.push('\n');
        }
    }
    let width = outcomes.iter().map(|o| o.service.len()).max().unwrap_or(0).max("SERVICE".len());
    text.push_str(&format!("{:width$}  {:<6}  {:>6}  {:<44}  URL\n", "SERVICE", "RESULT", "TIME", "WHAT"));
    for outcome in outcomes {
        let result = if outcome.succeeded() { "ok" } else { "FAILED" };
        let url = outcome.result.as_ref().ok().and_then(|r| r.url.clone()).unwrap_or_default();
        let mut what = outcome.summary();
        if what.chars().count() > 44 {
            what = format!("{}…", what.chars().take(43).collect::<String>());
        }
        text.push_str(&format!(
            "{:width$}  {result:<6}  {:>5.1}s  {what:<44}  {url}\n",
            outcome.service, outcome.seconds
        ));
    }
    for outcome in outcomes.iter().filter(|o| !o.succeeded()) {
        text.push_str(&format!("\n{}:\n", outcome.service));
        match &outcome.result {
            Err(error) => {
                text.push_str(&format!("  error: {error}\n"));
                if let Some(help) = error.help() {
                    text.push_str(&format!("  help: {help}\n"));
                }
            }
            Ok(report) => {
                if let Some(rollout) = &report.rollout {
                    text.push_str(&rollout::render(rollout, &report.logs));
                }
            }
        }
    }
    text
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
