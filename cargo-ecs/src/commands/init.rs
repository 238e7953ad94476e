//! `cargo ecs init`: add a commented `[package.metadata.ecs]` section to the selected package's Cargo.toml.

use ecs_core::config::{FlagSetting, SettingError, Source};
use ecs_core::init::{InitError, InitReport};
use ecs_core::workspace::{Selection, Workspace};
use ecs_core::{Error, Result};
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::output::{DIM, Printer};

/// What to run after `init`.
const NEXT: [&str; 2] = ["cargo ecs config --explain", "cargo ecs deploy"];

/// What `init` prints: the report and the next steps.
#[derive(Serialize)]
struct Initialized<'a> {
    #[serde(flatten)]
    report: &'a InitReport,
    next: [&'static str; 2],
}

/// Adds the section to the one selected package (`-p NAME`, or the package of the current directory). Its
/// settings are not resolved: a package without settings is what `init` is for. `--set port=N` sets the port.
///
/// # Errors
/// No single package selected, the package already has settings, the manifest cannot take the section, or the
/// file cannot be written.
pub async fn run(global: &GlobalArgs, printer: &Printer) -> Result<()> {
    let port = port_from_flags(&global.sets)?;
    let cwd = std::env::current_dir()
        .map_err(|e| Error::workspace(format!("the current directory cannot be read: {e}"), "cd into your package"))?;
    let workspace = Workspace::load(global.manifest_path.as_deref(), &cwd)?;
    if global.workspace || global.packages.len() > 1 {
        return Err(Error::workspace(
            "`cargo ecs init` adds settings to one package at a time",
            "name it with -p NAME, or run it in the package's directory",
        ));
    }
    let member = match global.packages.first() {
        Some(name) => {
            workspace.select(&Selection { packages: vec![name.clone()], workspace: false })?.into_iter().next()
        }
        None => workspace.members.iter().find(|m| same_file(&m.info.manifest_path, &workspace.manifest)),
    };
    let Some(member) = member else {
        return Err(virtual_root(&workspace));
    };
    let report = ecs_core::init::init(&member.info.manifest_path, &member.info.name, port).await?;
    printer.result(&Initialized { report: &report, next: NEXT }, render);
    Ok(())
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    let canonical = |p: &std::path::Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    canonical(a) == canonical(b)
}

/// The refusal at a virtual workspace root without -p, naming the members that have no settings yet.
fn virtual_root(workspace: &Workspace) -> Error {
    let error = InitError::VirtualManifest { file: workspace.manifest.clone() };
    let fresh: Vec<&str> =
        workspace.members.iter().filter(|m| m.ecs_metadata.is_null()).map(|m| m.info.name.as_str()).collect();
    let mut help = error.help().unwrap_or_default();
    if !fresh.is_empty() {
        help.push_str(&format!(" (members without settings: {})", fresh.join(", ")));
    }
    Error::Workspace { message: error.to_string(), help: Some(help) }
}

/// `--set port=N`; any other `--set` is refused, since `init` writes no other value.
fn port_from_flags(sets: &[String]) -> Result<Option<u16>> {
    let mut port = None;
    for set in sets {
        let flag = FlagSetting::parse_set(set).map_err(|e| Error::Settings(vec![e]))?;
        let source = Source::Flag { flag: flag.flag.clone() };
        if flag.path != "port" {
            let error = SettingError::new(&flag.path, Some(&source), "`cargo ecs init` sets only `port`")
                .help("uncomment or add the other settings in the section it writes");
            return Err(Error::Settings(vec![error]));
        }
        match flag.value.trim().parse::<u16>() {
            Ok(n) if n > 0 => port = Some(n),
            _ => {
                let error = SettingError::new("port", Some(&source), format!("`{}` is not a port", flag.value))
                    .help("a port from 1 to 65535, e.g. --set port=8080");
                return Err(Error::Settings(vec![error]));
            }
        }
    }
    Ok(port)
}

/// `PACKAGE: added [package.metadata.ecs] to FILE (line N)`, then the next steps.
fn render(initialized: &Initialized<'_>) -> String {
    let report = initialized.report;
    let port = report.port.map(|p| format!(", port {p}")).unwrap_or_default();
    let mut text = format!(
        "{}: added [package.metadata.ecs] to {} (line {}{port})\n",
        report.package,
        report.manifest_path.display(),
        report.line
    );
    text.push_str(&format!("{DIM}next: uncomment what you need, then{DIM:#}\n"));
    for step in initialized.next {
        text.push_str(&format!("  {step}\n"));
    }
    text
}
