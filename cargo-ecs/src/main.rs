//! `cargo ecs`: ship a Rust web service to AWS Fargate. This binary parses arguments, runs the library and prints.

mod cli;
mod commands;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::CargoCli;
use crate::output::Printer;
use crate::progress::{Detail, Progress};

/// Exit code for a failure while working.
const EXIT_FAILURE: u8 = 1;
/// Exit code for invalid input: flags, settings, workspace.
const EXIT_INVALID_INPUT: u8 = 2;
/// Exit code after a stop on Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let args = arguments();
    let CargoCli::Ecs(mut cli) = match CargoCli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(EXIT_INVALID_INPUT));
        }
    };
    cli.global.collect_repeated(&args);
    let printer = Printer::new(&cli.global);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            printer.warn(&format!("cannot start the async runtime: {error}"));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let detail = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Detail::Quiet,
        (false, 0) => Detail::Normal,
        (false, _) => Detail::Verbose,
    };
    let progress = Progress::new(printer.json(), detail);
    match runtime.block_on(commands::run(&cli, &printer, &progress)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            printer.error(&error);
            ExitCode::from(match &error {
                ecs_core::Error::Interrupted { .. } => EXIT_INTERRUPTED,
                error if error.is_input_error() => EXIT_INVALID_INPUT,
                _ => EXIT_FAILURE,
            })
        }
    }
}

/// The process arguments, with `ecs` inserted when the binary is run directly as `cargo-ecs <command>`.
fn arguments() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_none_or(|first| first != "ecs") {
        args.insert(1.min(args.len()), "ecs".into());
    }
    args
}
