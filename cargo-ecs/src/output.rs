//! The only place that writes to the terminal: results as text or JSON on stdout, messages and errors on stderr.

use std::fmt::Write as _;
use std::io::Write as _;

use anstyle::{AnsiColor, Style};
use ecs_core::Error;
use ecs_core::config::SettingError;
use serde::Serialize;

use crate::cli::{ColorWhen, GlobalArgs, OutputFormat};

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARN: Style = AnsiColor::Yellow.on_default().bold();
const HELP: Style = AnsiColor::Cyan.on_default().bold();
const KEY: Style = Style::new().bold();
/// Dimmed text, for sources and secondary detail.
pub const DIM: Style = Style::new().dimmed();

/// Prints results and messages the way the user asked (`--output`, `-q`, `-v`, `--color`).
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    format: OutputFormat,
    quiet: bool,
}

impl Printer {
    /// A printer for these flags; also sets the process-wide colour choice.
    #[must_use]
    pub fn new(global: &GlobalArgs) -> Self {
        let choice = match global.color {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
        Self { format: global.output, quiet: global.quiet }
    }

    /// Whether results go out as JSON.
    #[must_use]
    pub fn json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Prints a result: `value` as JSON, or the text `render` makes of it.
    pub fn result<T: Serialize>(&self, value: &T, render: impl FnOnce(&T) -> String) {
        let text = match self.format {
            OutputFormat::Json => {
                serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")) + "\n"
            }
            OutputFormat::Text => render(value),
        };
        let mut out = anstream::stdout();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// A warning on stderr (not with `-q`).
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(anstream::stderr(), "{WARN}warning{WARN:#}: {message}");
        }
    }

    /// Prints an error: text on stderr; with `--output json` also `{"error": ...}` on stdout.
    pub fn error(&self, error: &Error) {
        let mut text = format!("{ERROR}error{ERROR:#}: {error}\n");
        if let Error::Settings(errors) = error {
            for setting in errors {
                text.push_str(&render_setting_error(setting));
            }
        }
        if let Some(help) = error.help() {
            let _ = writeln!(text, "{HELP}help{HELP:#}: {help}");
        }
        let _ = anstream::stderr().write_all(text.as_bytes());
        if self.json() {
            let body = serde_json::json!({ "error": {
                "message": error.to_string(),
                "help": error.help(),
                "settings": match error { Error::Settings(errors) => serde_json::to_value(errors).unwrap_or_default(), _ => serde_json::Value::Null },
            }});
            let _ = writeln!(anstream::stdout(), "{}", serde_json::to_string_pretty(&body).unwrap_or_default());
        }
    }
}

fn render_setting_error(error: &SettingError) -> String {
    let mut text = format!("  {KEY}{}{KEY:#}: {}\n", error.key, error.message);
    if let Some(source) = &error.source {
        let _ = writeln!(text, "    {DIM}set by {source}{DIM:#}");
    }
    if let Some(help) = &error.help {
        let _ = writeln!(text, "    {HELP}help{HELP:#}: {help}");
    }
    text
}
