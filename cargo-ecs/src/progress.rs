//! Renders the library's progress events: indicatif spinners and bars on a terminal, plain lines otherwise,
//! JSON lines with `--output json` (on stderr, so stdout stays one JSON document).

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ecs_core::report::{Event, Reporter};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::DIM;

/// How much to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Only warnings.
    Quiet,
    /// Steps and their results; tool output as a live line on a terminal.
    Normal,
    /// Everything, tool output included.
    Verbose,
}

/// The binary's [`Reporter`].
pub struct Progress {
    mode: Mode,
    detail: Detail,
}

enum Mode {
    Bars { multi: MultiProgress, bars: Mutex<HashMap<String, ProgressBar>> },
    Lines { started: Mutex<HashMap<String, Instant>> },
    Json,
}

impl Progress {
    /// A renderer for this terminal: bars when stderr is a terminal, else lines; JSON when asked.
    #[must_use]
    pub fn new(json: bool, detail: Detail) -> Self {
        let mode = if json {
            Mode::Json
        } else if std::io::stderr().is_terminal() {
            Mode::Bars { multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), bars: Mutex::default() }
        } else {
            Mode::Lines { started: Mutex::default() }
        };
        Self { mode, detail }
    }

    fn line(&self, text: &str) {
        match &self.mode {
            Mode::Bars { multi, .. } => {
                let _ = multi.println(text);
            }
            _ => {
                let _ = writeln!(anstream::stderr(), "{text}");
            }
        }
    }
}

impl Progress {
    /// An event of one service among several: a line per step when not on a terminal, else one live line per
    /// service showing its current step.
    fn service_event(&self, service: &str, inner: Event) {
        match &self.mode {
            Mode::Bars { multi, bars } => {
                let Ok(mut bars) = bars.lock() else { return };
                let key = format!("service {service}");
                let bar = bars.entry(key).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(spinner_style());
                    bar.set_prefix(service.to_owned());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
                match inner {
                    Event::Begin { step } => bar.set_message(format!("{step} ...")),
                    Event::End { step, result } => bar.set_message(format!("{step}: {result}")),
                    Event::Output { line, .. } if self.detail == Detail::Verbose => {
                        let _ = multi.println(format!("    {service}: {line}"));
                    }
                    Event::Warning { message } => {
                        let _ = multi.println(format!("warning: {service}: {message}"));
                    }
                    _ => {}
                }
            }
            _ => self.report(prefixed(service, inner)),
        }
    }

    /// One service among several is done: its live line becomes its outcome.
    fn service_done(&self, service: &str, ok: bool, summary: &str) {
        let mark = if ok { "✓" } else { "✗" };
        match &self.mode {
            Mode::Bars { multi, bars } => {
                let Ok(mut bars) = bars.lock() else { return };
                if let Some(bar) = bars.remove(&format!("service {service}")) {
                    let took = seconds(bar.elapsed());
                    bar.finish_and_clear();
                    multi.remove(&bar);
                    let _ = multi.println(format!("{mark} {service}: {summary}{took}"));
                }
            }
            _ => self.line(&format!("{mark} {service}: {summary}")),
        }
    }
}

/// `inner` with its step (or warning) named after `service`: `api: create target group api`.
fn prefixed(service: &str, inner: Event) -> Event {
    let name = |step: String| format!("{service}: {step}");
    match inner {
        Event::Begin { step } => Event::Begin { step: name(step) },
        Event::Output { step, line } => Event::Output { step: name(step), line },
        Event::Bytes { step, done, total } => Event::Bytes { step: name(step), done, total },
        Event::End { step, result } => Event::End { step: name(step), result },
        Event::Warning { message } => Event::Warning { message: name(message) },
        other => other,
    }
}

impl Reporter for Progress {
    fn report(&self, event: Event) {
        if !matches!(self.mode, Mode::Json) {
            match event {
                Event::Service { service, inner } => {
                    if matches!(*inner, Event::Warning { .. }) || self.detail != Detail::Quiet {
                        self.service_event(&service, *inner);
                    }
                    return;
                }
                Event::ServiceDone { service, ok, summary } => {
                    if self.detail != Detail::Quiet {
                        self.service_done(&service, ok, &summary);
                    }
                    return;
                }
                _ => {}
            }
        }
        if let Event::Warning { message } = &event {
            if matches!(self.mode, Mode::Json) {
                let _ = writeln!(anstream::stderr(), "{}", serde_json::to_string(&event).unwrap_or_default());
            } else {
                self.line(&format!("warning: {message}"));
            }
            return;
        }
        if self.detail == Detail::Quiet {
            return;
        }
        match &self.mode {
            Mode::Json => {
                let _ = writeln!(anstream::stderr(), "{}", serde_json::to_string(&event).unwrap_or_default());
            }
            Mode::Lines { started } => match event {
                Event::Begin { step } => {
                    if let Ok(mut started) = started.lock() {
                        started.insert(step.clone(), Instant::now());
                    }
                    self.line(&format!("{step} ..."));
                }
                Event::Output { line, .. } => self.line(&format!("    {DIM}{line}{DIM:#}")),
                Event::Bytes { .. } | Event::Warning { .. } | Event::Service { .. } | Event::ServiceDone { .. } => {}
                Event::End { step, result } => {
                    let took = started.lock().ok().and_then(|mut s| s.remove(&step)).map(|t| t.elapsed());
                    self.line(&format!("{step}: {result}{}", took.map(seconds).unwrap_or_default()));
                }
            },
            Mode::Bars { multi, bars } => {
                let Ok(mut bars) = bars.lock() else { return };
                match event {
                    Event::Begin { step } => {
                        let bar = multi.add(ProgressBar::new_spinner());
                        bar.set_style(spinner_style());
                        bar.set_prefix(step.clone());
                        bar.enable_steady_tick(Duration::from_millis(120));
                        bars.insert(step, bar);
                    }
                    Event::Output { step, line } => {
                        if self.detail == Detail::Verbose {
                            let _ = multi.println(format!("    {line}"));
                        }
                        if let Some(bar) = bars.get(&step) {
                            bar.set_message(line);
                        }
                    }
                    Event::Bytes { step, done, total } => {
                        if let Some(bar) = bars.get(&step) {
                            if let Some(total) = total {
                                bar.set_style(bytes_style());
                                bar.set_length(total);
                            }
                            bar.set_position(done);
                        }
                    }
                    Event::End { step, result } => {
                        if let Some(bar) = bars.remove(&step) {
                            let took = seconds(bar.elapsed());
                            bar.finish_and_clear();
                            multi.remove(&bar);
                            let _ = multi.println(format!("✓ {step}: {result}{took}"));
                        }
                    }
                    Event::Warning { .. } | Event::Service { .. } | Event::ServiceDone { .. } => {}
                }
            }
        }
    }
}

fn seconds(took: Duration) -> String {
    format!(" {DIM}({:.1}s){DIM:#}", took.as_secs_f64())
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {wide_msg:.dim}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}
