//! How the library tells the user what it is doing without printing: it sends [`Event`]s to a [`Reporter`]
//! that the binary renders (indicatif bars on a terminal, plain lines otherwise, or JSON lines).

use std::sync::Mutex;

use serde::Serialize;

/// Something that happened while working. `step` names a unit of work, e.g. `compile hello` or
/// `push layer sha256:1a2b…`; every `Begin` is followed by one `End` (or the error that stopped the command).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A step starts.
    Begin {
        /// The step.
        step: String,
    },
    /// A line of output of a tool the step runs (cargo, a Docker build).
    Output {
        /// The step.
        step: String,
        /// The line, without its newline.
        line: String,
    },
    /// Bytes done in a step that moves data, for progress bars.
    Bytes {
        /// The step.
        step: String,
        /// Bytes done so far.
        done: u64,
        /// Bytes in all, when known.
        total: Option<u64>,
    },
    /// A step ended.
    End {
        /// The step.
        step: String,
        /// One line on the result, e.g. `3.1 MB in 2 layers, 1 uploaded`.
        result: String,
    },
    /// Something the user should know that does not stop the work.
    Warning {
        /// The message.
        message: String,
    },
}

/// Receives progress. Implementations must be cheap and must not block for long.
pub trait Reporter: Send + Sync {
    /// Handles one event.
    fn report(&self, event: Event);

    /// Reports the start of `step`.
    fn begin(&self, step: &str) {
        self.report(Event::Begin { step: step.to_owned() });
    }

    /// Reports a line of tool output for `step`.
    fn output(&self, step: &str, line: &str) {
        self.report(Event::Output { step: step.to_owned(), line: line.to_owned() });
    }

    /// Reports bytes done in `step`.
    fn bytes(&self, step: &str, done: u64, total: Option<u64>) {
        self.report(Event::Bytes { step: step.to_owned(), done, total });
    }

    /// Reports the end of `step`.
    fn end(&self, step: &str, result: &str) {
        self.report(Event::End { step: step.to_owned(), result: result.to_owned() });
    }

    /// Reports a warning.
    fn warn(&self, message: &str) {
        self.report(Event::Warning { message: message.to_owned() });
    }
}

/// `1.5 MB`, `12 KB`, `800 B` (decimal units, as registries count).
#[must_use]
pub fn human_size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // Display only.
    let value = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} KB", value / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", value / 1e6),
        _ => format!("{:.1} GB", value / 1e9),
    }
}

/// Drops every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {
    fn report(&self, _event: Event) {}
}

/// Keeps every event, for tests.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    /// The events so far.
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl Reporter for Recorder {
    fn report(&self, event: Event) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(800), "800 B");
        assert_eq!(human_size(12_345), "12.3 KB");
        assert_eq!(human_size(1_500_000), "1.5 MB");
        assert_eq!(human_size(2_000_000_000), "2.0 GB");
    }
}
