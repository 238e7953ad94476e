//! `cargo ecs run`: build the image and run it with the local Docker Engine until Ctrl-C.

use ecs_core::config::Resolved;
use ecs_core::report::Reporter;
use ecs_core::run::{Network, RunOptions, RunReport, run as run_locally};
use ecs_core::{Error, Result};

use crate::cli::RunArgs;
use crate::output::Printer;

/// Runs the selected package (one at a time: they would share the engine and ports).
///
/// # Errors
/// More than one package selected, and whatever the run reports.
pub async fn run(resolved: &[Resolved], args: &RunArgs, reporter: &dyn Reporter, printer: &Printer) -> Result<()> {
    let [r] = resolved else {
        return Err(Error::workspace(
            format!("`cargo ecs run` runs one service, but {} are selected", resolved.len()),
            "pick one with -p NAME",
        ));
    };
    let options = RunOptions {
        host_port: args.port,
        host_network: false,
        health_timeout: Some(args.timeout),
        local_env: std::env::vars().collect(),
    };
    let stop_after = args.stop_after;
    let stop = async move {
        match stop_after {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    };
    let report = run_locally(&r.settings, &options, stop, reporter).await?;
    printer.result(&report, render);
    Ok(())
}

fn render(report: &RunReport) -> String {
    let network = match report.network {
        Network::Host => "host network".to_owned(),
        Network::Published(port) => format!("published on 127.0.0.1:{port}"),
    };
    let health = match &report.health {
        Some(h) if h.passed => format!("health check {} passed", h.url),
        Some(h) => format!("health check {} failed: {}", h.url, h.last),
        None => "health check not finished".to_owned(),
    };
    format!(
        "{}: ran {} ({}{}) at {} ({network}); {health}; {}, container removed\n",
        report.service,
        report.digest,
        report.platform,
        if report.emulated { ", qemu emulation" } else { "" },
        report.url,
        report.ended,
    )
}
