//! An invalid setting: which one, where it was set, what is wrong, and what is allowed.

use std::fmt;

use serde::Serialize;

use super::source::Source;

/// A setting that cannot be used, with everything a user needs to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingError {
    /// Dotted path of the setting, e.g. `load-balancer.name`.
    pub key: String,
    /// Where the offending value was set (`None` when the problem is that a value is missing).
    pub source: Option<Source>,
    /// What is wrong.
    pub message: String,
    /// What is allowed, or what to do next.
    pub help: Option<String>,
}

impl SettingError {
    /// A new error about `key` set in `source`.
    pub fn new(key: impl Into<String>, source: Option<&Source>, message: impl Into<String>) -> Self {
        Self { key: key.into(), source: source.cloned(), message: message.into(), help: None }
    }

    /// Adds what is allowed or what to do.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.key)?;
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}
