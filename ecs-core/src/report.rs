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
    /// An event of one service among several worked on at once (`deploy --workspace`).
    Service {
        /// The service.
        service: String,
        /// What happened.
        inner: Box<Event>,
    },
    /// One service among several is done.
    ServiceDone {
        /// The service.
        service: String,
        /// Whether it succeeded.
        ok: bool,
        /// One line on the outcome, e.g. `3 changes, rollout completed`.
        summary: String,
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

/// Tags every event with the service it belongs to, for a [`Reporter`] that shows several services at once.
pub struct Scoped<'a> {
    service: String,
    inner: &'a dyn Reporter,
}

impl<'a> Scoped<'a> {
    /// Events of `service`, sent on to `inner`.
    #[must_use]
    pub fn new(service: &str, inner: &'a dyn Reporter) -> Self {
        Self { service: service.to_owned(), inner }
    }

    /// Reports that the service is done.
    pub fn done(&self, ok: bool, summary: &str) {
        self.inner.report(Event::ServiceDone { service: self.service.clone(), ok, summary: summary.to_owned() });
    }
}

impl Reporter for Scoped<'_> {
    fn report(&self, event: Event) {
        self.inner.report(Event::Service { service: self.service.clone(), inner: Box::new(event) });
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
    fn scoped_events_name_their_service() {
        let recorder = Recorder::default();
        let scoped = Scoped::new("api", &recorder);
        scoped.begin("observe");
        scoped.done(true, "no changes");
        let events = recorder.events();
        assert_eq!(
            events[0],
            Event::Service { service: "api".to_owned(), inner: Box::new(Event::Begin { step: "observe".to_owned() }) }
        );
        assert_eq!(
            serde_json::to_string(&events[1]).expect("json"),
            r#"{"event":"service-done","service":"api","ok":true,"summary":"no changes"}"#
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(800), "800 B");
        assert_eq!(human_size(12_345), "12.3 KB");
        assert_eq!(human_size(1_500_000), "1.5 MB");
        assert_eq!(human_size(2_000_000_000), "2.0 GB");
    }
}
