//! Command-line interface: `cargo ecs <command>` (also `cargo-ecs ecs <command>` and `cargo-ecs <command>`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Entry point as cargo calls a subcommand: `cargo-ecs ecs ARGS`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", styles = clap::builder::styling::Styles::styled())]
pub enum CargoCli {
    /// Ship this Rust crate to AWS Fargate behind an HTTPS load balancer.
    Ecs(EcsCli),
}

/// Ship a Rust web service to AWS Fargate behind an HTTPS load balancer, in one command.
///
/// Settings live in [package.metadata.ecs] and [workspace.metadata.ecs] of Cargo.toml;
/// see `cargo ecs config --explain` for every setting and where its value comes from.
#[derive(Debug, Args)]
#[command(version, about, long_about)]
pub struct EcsCli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes; they may stand before or after the command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to Cargo.toml (default: the nearest one at or above the current directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Package(s) to work on (repeatable).
    #[arg(short = 'p', long = "package", global = true, value_name = "NAME")]
    pub packages: Vec<String>,
    /// Work on every workspace member that has [package.metadata.ecs].
    #[arg(long, global = true, conflicts_with = "packages")]
    pub workspace: bool,
    /// Apply the environment overlay [..ecs.environments.NAME].
    #[arg(long = "env", global = true, value_name = "NAME", env = "CARGO_ECS_ENVIRONMENT")]
    pub environment: Option<String>,
    /// Set any setting for this run, e.g. --set memory=1024 --set env.RUST_LOG=debug (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// AWS profile (else AWS_PROFILE, else the default profile).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region; overrides the `region` setting.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS request to this URL (else AWS_ENDPOINT_URL), e.g. a local emulator.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// More detail (repeatable).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors and results.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to use colours.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorWhen,
    /// Output format of results.
    #[arg(long, global = true, value_name = "FORMAT", default_value = "text")]
    pub output: OutputFormat,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// When writing to a terminal (and NO_COLOR is unset).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// One JSON document on stdout, for scripts.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build, push and deploy: create or update everything the service needs, then watch the rollout.
    Deploy(DeployArgs),
    /// Show what `deploy` would change, without changing anything.
    Plan,
    /// Show what runs: deployments, tasks, target health, events, URL.
    Status(StatusArgs),
    /// Cross-compile the binary and build the container image.
    Build,
    /// Build the image and push it to ECR.
    Push,
    /// Print the resolved settings.
    Config(ConfigArgs),
    /// Print the service's logs from CloudWatch.
    Logs(LogsArgs),
    /// Go back to the previous task definition revision.
    Rollback(RollbackArgs),
    /// Delete what cargo-ecs created for the service.
    Destroy(DestroyArgs),
    /// Add a commented [package.metadata.ecs] section to Cargo.toml.
    Init,
    /// Build the image and run it locally with the Docker Engine.
    Run(RunArgs),
}

/// Options of `deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Start a new deployment even when nothing changed.
    #[arg(long)]
    pub force: bool,
    /// Return once the changes are applied, without watching the rollout.
    #[arg(long)]
    pub no_wait: bool,
    /// Give up watching after this long, e.g. 10m or 90s.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// Options of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Refresh in place until interrupted.
    #[arg(long)]
    pub watch: bool,
}

/// Options of `config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Show each value with the layer and file it came from.
    #[arg(long)]
    pub explain: bool,
}

/// Options of `logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// How far back to start, e.g. 10m, 2h.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub since: Duration,
    /// Keep printing new lines.
    #[arg(short, long)]
    pub follow: bool,
    /// Only this task's lines.
    #[arg(long, value_name = "ID")]
    pub task: Option<String>,
}

/// Options of `rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Roll back to this task definition revision instead of the previous one.
    #[arg(long, value_name = "REVISION")]
    pub to: Option<u32>,
    /// Return once the service points at the revision, without watching the rollout.
    #[arg(long)]
    pub no_wait: bool,
    /// Give up watching after this long, e.g. 10m or 90s.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Publish the container port on this port of 127.0.0.1 (default: the same as `port`).
    #[arg(long, value_name = "HOST_PORT")]
    pub port: Option<u16>,
    /// How long the health probe waits for a 2xx or 3xx answer, e.g. 90s.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Stop cleanly after this long (for tests and scripts), counted from the container's start.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, hide = true)]
    pub stop_after: Option<Duration>,
}

/// Options of `destroy`.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
    /// Also delete the service's images from ECR.
    #[arg(long)]
    pub purge_images: bool,
}

impl GlobalArgs {
    /// Restores every occurrence of the repeatable global flags (`--set`, `-p/--package`) from the raw
    /// arguments, in order. clap keeps the values of only one command level when a global flag is given both
    /// before and after the subcommand (`cargo ecs --set a=1 deploy --set b=2`), which would silently drop some.
    pub fn collect_repeated(&mut self, args: &[std::ffi::OsString]) {
        let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        self.sets = occurrences(&args, "--set", None);
        self.packages = occurrences(&args, "--package", Some("-p"));
    }
}

/// The values of every `LONG VALUE`, `LONG=VALUE`, `SHORT VALUE` and `SHORTVALUE` in `args`, in order,
/// up to a `--` that ends the options.
fn occurrences(args: &[String], long: &str, short: Option<&str>) -> Vec<String> {
    let mut values = Vec::new();
    let mut iter = args.iter().take_while(|a| a.as_str() != "--");
    while let Some(arg) = iter.next() {
        if arg == long || short.is_some_and(|s| arg == s) {
            if let Some(value) = iter.next() {
                values.push(value.clone());
            }
        } else if let Some(value) = arg.strip_prefix(long).and_then(|rest| rest.strip_prefix('=')) {
            values.push(value.to_owned());
        } else if let Some(value) =
            short.and_then(|s| arg.strip_prefix(s)).filter(|v| !v.is_empty() && !arg.starts_with("--"))
        {
            values.push(value.trim_start_matches('=').to_owned());
        }
    }
    values
}

/// Parses durations such as `90s`, `10m`, `2h`, `1d` (a bare number is seconds).
///
/// # Errors
/// A message for clap.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("\"{text}\" is not a duration such as 90s, 10m or 2h"))?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "d" => number * 86_400,
        other => return Err(format!("unknown unit \"{other}\": use s, m, h or d")),
    };
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        CargoCli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_before_or_after_the_command() {
        let CargoCli::Ecs(cli) = CargoCli::parse_from([
            "cargo-ecs",
            "ecs",
            "--env",
            "prod",
            "config",
            "--explain",
            "-p",
            "api",
            "--set",
            "cpu=512",
        ]);
        assert_eq!(cli.global.environment.as_deref(), Some("prod"));
        assert_eq!(cli.global.packages, vec!["api"]);
        assert_eq!(cli.global.sets, vec!["cpu=512"]);
        assert!(matches!(cli.command, Command::Config(ConfigArgs { explain: true })));
    }

    #[test]
    fn repeated_global_flags_keep_every_occurrence_before_and_after_the_command() {
        let raw: Vec<std::ffi::OsString> = [
            "cargo-ecs",
            "ecs",
            "--set",
            "memory=1024",
            "-p",
            "a",
            "deploy",
            "--set=port=9000",
            "-pb",
            "--package",
            "c",
            "--set",
            "x=1",
        ]
        .iter()
        .map(Into::into)
        .collect();
        let CargoCli::Ecs(mut cli) = CargoCli::parse_from(&raw);
        cli.global.collect_repeated(&raw);
        assert_eq!(cli.global.sets, vec!["memory=1024", "port=9000", "x=1"]);
        assert_eq!(cli.global.packages, vec!["a", "b", "c"]);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
