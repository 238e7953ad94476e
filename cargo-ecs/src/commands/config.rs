//! `cargo ecs config`: the resolved settings, and with `--explain` where each value came from.

use std::fmt::Write as _;

use ecs_core::Result;
use ecs_core::config::{Explained, Resolved, Settings};
use serde::Serialize;

use crate::cli::ConfigArgs;
use crate::output::{DIM, Printer};

/// Prints the settings of every selected package.
///
/// # Errors
/// None today; kept for symmetry with the other commands.
pub fn run(resolved: &[Resolved], args: &ConfigArgs, printer: &Printer) -> Result<()> {
    if args.explain {
        let explained: Vec<PackageExplain<'_>> =
            resolved.iter().map(|r| PackageExplain { package: &r.settings.package, settings: &r.explain }).collect();
        printer.result(&explained, |all| all.iter().map(render_explain).collect::<Vec<_>>().join("\n"));
    } else {
        let settings: Vec<&Settings> = resolved.iter().map(|r| &r.settings).collect();
        printer.result(&settings, |all| all.iter().map(|s| render_settings(s)).collect::<Vec<_>>().join("\n"));
    }
    Ok(())
}

/// `--explain` output of one package.
#[derive(Serialize)]
struct PackageExplain<'a> {
    package: &'a str,
    settings: &'a [Explained],
}

fn header(settings_package: &str, manifest: &std::path::Path, environment: Option<&str>) -> String {
    let env = environment.map(|e| format!(", environment `{e}`")).unwrap_or_default();
    format!("{DIM}# package `{settings_package}` ({}){env}{DIM:#}\n", manifest.display())
}

fn render_settings(settings: &Settings) -> String {
    let mut text = header(&settings.package, &settings.manifest_path, settings.environment.as_deref());
    match toml::to_string(settings) {
        Ok(body) => text.push_str(&body),
        Err(e) => {
            let _ = writeln!(text, "(cannot render as TOML: {e})");
        }
    }
    text
}

fn render_explain(package: &PackageExplain<'_>) -> String {
    let mut text = format!("{DIM}# package `{}`{DIM:#}\n", package.package);
    let rows: Vec<(String, String, String)> = package
        .settings
        .iter()
        .map(|e| {
            let value = if e.value.is_null() { "(unset)".to_owned() } else { e.value.to_string() };
            (e.key.clone(), value, e.source.to_string())
        })
        .collect();
    let key_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let value_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).min(40);
    for (key, value, source) in rows {
        let _ = writeln!(text, "{key:key_width$}  {value:value_width$}  {DIM}{source}{DIM:#}");
    }
    text
}
