//! One module per command; each turns parsed arguments into library calls and hands results to the printer.

mod build;
mod config;
mod deploy;
mod destroy;
mod init;
mod logs;
mod push;
mod rollback;
mod rollout;
mod run;
mod status;

use std::collections::BTreeMap;

use ecs_core::aws::AwsOptions;
use ecs_core::config::{FlagSetting, LoadRequest, Resolved};
use ecs_core::report::Reporter;
use ecs_core::workspace::Selection;
use ecs_core::{Error, Result};

use crate::cli::{Command, EcsCli, GlobalArgs};
use crate::output::Printer;

/// Runs the command the user asked for.
///
/// # Errors
/// Whatever the command reports.
pub async fn run(cli: &EcsCli, printer: &Printer, reporter: &dyn Reporter) -> Result<()> {
    match &cli.command {
        Command::Config(args) => config::run(&load_settings(&cli.global)?, args, printer),
        Command::Build => build::run(&load_settings(&cli.global)?, reporter, printer).await,
        Command::Push => push::run(&cli.global, &load_settings(&cli.global)?, reporter, printer).await,
        Command::Rollback(args) => {
            rollback::run(&cli.global, &load_settings(&cli.global)?, args, reporter, printer).await
        }
        Command::Plan => {
            deploy::run(&cli.global, &load_settings(&cli.global)?, deploy::Mode::Plan, reporter, printer).await
        }
        Command::Deploy(args) => {
            let mode = deploy::Mode::Deploy { force: args.force, wait: (!args.no_wait).then_some(args.timeout) };
            deploy::run(&cli.global, &load_settings(&cli.global)?, mode, reporter, printer).await
        }
        Command::Init => init::run(&cli.global, printer).await,
        Command::Status(args) => status::run(&cli.global, &load_settings(&cli.global)?, args, reporter, printer).await,
        Command::Logs(args) => logs::run(&cli.global, &load_settings(&cli.global)?, args, printer).await,
        Command::Run(args) => run::run(&load_settings(&cli.global)?, args, reporter, printer).await,
        Command::Destroy(args) => {
            destroy::run(&cli.global, &load_settings(&cli.global)?, args, reporter, printer).await
        }
    }
}

/// How to reach AWS for one service: the flags, else the service's `region` setting, else the SDK's chain.
#[must_use]
pub fn aws_options(global: &GlobalArgs, settings: &ecs_core::config::Settings) -> AwsOptions {
    AwsOptions {
        profile: global.profile.clone(),
        region: settings.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
        max_attempts: 0,
    }
}

/// Resolves the settings of the selected packages from the files, the environment and the flags.
///
/// # Errors
/// Workspace errors and invalid settings.
pub fn load_settings(global: &GlobalArgs) -> Result<Vec<Resolved>> {
    let mut flags = Vec::new();
    if let Some(region) = &global.region {
        flags.push(FlagSetting { flag: "--region".to_owned(), path: "region".to_owned(), value: region.clone() });
    }
    for set in &global.sets {
        flags.push(FlagSetting::parse_set(set).map_err(|e| Error::Settings(vec![e]))?);
    }
    let env_vars: BTreeMap<String, String> = std::env::vars().collect();
    let cwd = std::env::current_dir()
        .map_err(|e| Error::workspace(format!("the current directory cannot be read: {e}"), "cd into your package"))?;
    ecs_core::config::load(&LoadRequest {
        manifest_path: global.manifest_path.clone(),
        selection: Selection { packages: global.packages.clone(), workspace: global.workspace },
        environment: global.environment.clone(),
        env_vars,
        flags,
        cwd,
    })
}
