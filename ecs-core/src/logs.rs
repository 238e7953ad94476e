//! `logs` of one service: the lines its tasks wrote to CloudWatch Logs (the group `/ecs/SERVICE`, one stream
//! `ecs/CONTAINER/TASK_ID` per task), from a start time, all tasks or one, oldest first.
//!
//! Following is the caller's loop: read from [`Cursor::start`] every few seconds and keep what
//! [`Cursor::fresh`] returns (an event read twice at the boundary is dropped).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use serde::Serialize;

use crate::aws::{self, AwsError, Clients};
use crate::config::Settings;
use crate::error::Result;
use crate::stack::names;

/// At most this many stream names per FilterLogEvents (the API's limit).
const STREAMS_PER_CALL: usize = 100;

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// Lines from this time on, in milliseconds since the epoch.
    pub start: i64,
    /// Only this task's lines: its id, the start of its id, or its ARN.
    pub task: Option<String>,
}

impl LogQuery {
    /// Lines of the last `since`, of every task or of `task`.
    #[must_use]
    pub fn since(since: Duration, task: Option<String>) -> Self {
        Self { start: start_time(now_millis(), since), task }
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LogLine {
    /// When it was written, in milliseconds since the epoch.
    pub timestamp: i64,
    /// The task that wrote it (the last part of its stream's name).
    pub task: String,
    /// The stream.
    pub stream: String,
    /// The line, without its line end.
    pub message: String,
    /// CloudWatch's event id, to drop an event read twice.
    #[serde(skip)]
    pub event_id: String,
}

/// The lines of one service.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceLogs {
    /// The service.
    pub service: String,
    /// The log group.
    pub group: String,
    /// The task asked for, as given.
    pub task: Option<String>,
    /// Whether the group has a stream (of the task, when asked for one): `false` before any task wrote a line,
    /// or when the group does not exist.
    pub streams: bool,
    /// The lines, oldest first.
    pub lines: Vec<LogLine>,
}

impl ServiceLogs {
    /// Why there are no lines, when there is no stream to read.
    #[must_use]
    pub fn no_streams_message(&self) -> Option<String> {
        if self.streams {
            return None;
        }
        Some(match &self.task {
            Some(task) => format!("no log stream for task {task} in {} (yet)", self.group),
            None => format!(
                "no log streams in {} yet: tasks of {} write there once they start (`cargo ecs status` shows them)",
                self.group, self.service
            ),
        })
    }
}

/// Reads the service's log lines as `query` says.
///
/// # Errors
/// A failed CloudWatch Logs call.
pub async fn logs(settings: &Settings, clients: &Clients, query: &LogQuery) -> Result<ServiceLogs> {
    let group = names::log_group(settings);
    let task = query.task.as_deref().map(task_id);
    let prefix = match task {
        Some(id) => aws::logs::task_log_stream(names::LOG_STREAM_PREFIX, &settings.container, id),
        None => format!("{}/{}/", names::LOG_STREAM_PREFIX, settings.container),
    };
    let mut report = ServiceLogs {
        service: settings.service.clone(),
        group: group.clone(),
        task: query.task.clone(),
        streams: false,
        lines: Vec::new(),
    };
    let streams = stream_names(&clients.logs, &group, &prefix).await?;
    if streams.is_empty() {
        return Ok(report);
    }
    report.streams = true;
    let mut events = Vec::new();
    for chunk in streams.chunks(STREAMS_PER_CALL) {
        events.extend(filter_events(&clients.logs, &group, chunk, query.start).await?);
    }
    report.lines = lines(events);
    Ok(report)
}

/// The names of the group's streams that start with `prefix`; none when the group does not exist.
async fn stream_names(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    prefix: &str,
) -> Result<Vec<String>, AwsError> {
    let what = format!("log streams of {group}");
    let mut names = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let described = client
            .describe_log_streams()
            .log_group_name(group)
            .log_stream_name_prefix(prefix)
            .set_next_token(next_token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:DescribeLogStreams", &what, &e));
        let output = match described {
            Ok(output) => output,
            Err(error) if error.is_not_found() => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        names.extend(output.log_streams().iter().filter_map(|s| s.log_stream_name().map(str::to_owned)));
        let token = output.next_token().map(str::to_owned);
        if token.is_none() || token == next_token {
            break;
        }
        next_token = token;
    }
    Ok(names)
}

/// Every event of `streams` from `start` on, all pages.
async fn filter_events(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    streams: &[String],
    start: i64,
) -> Result<Vec<FilteredLogEvent>, AwsError> {
    let what = format!("log group {group}");
    let mut events = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let filtered = client
            .filter_log_events()
            .log_group_name(group)
            .set_log_stream_names(Some(streams.to_vec()))
            .start_time(start)
            .set_next_token(next_token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:FilterLogEvents", &what, &e));
        let output = match filtered {
            Ok(output) => output,
            // The group was deleted since its streams were listed.
            Err(error) if error.is_not_found() => return Ok(events),
            Err(error) => return Err(error),
        };
        events.extend_from_slice(output.events());
        let token = output.next_token().map(str::to_owned);
        if token.is_none() || token == next_token {
            break;
        }
        next_token = token;
    }
    Ok(events)
}

/// Events as lines, oldest first (ties in stream and event order). Pure.
fn lines(events: Vec<FilteredLogEvent>) -> Vec<LogLine> {
    let mut lines: Vec<LogLine> = events
        .into_iter()
        .map(|e| {
            let stream = e.log_stream_name.unwrap_or_default();
            LogLine {
                timestamp: e.timestamp.unwrap_or_default(),
                task: task_of_stream(&stream).to_owned(),
                message: e.message.unwrap_or_default().trim_end_matches(['\n', '\r']).to_owned(),
                event_id: e.event_id.unwrap_or_default(),
                stream,
            }
        })
        .collect();
    lines.sort_by(|a, b| (a.timestamp, &a.stream, &a.event_id).cmp(&(b.timestamp, &b.stream, &b.event_id)));
    lines.dedup_by(|a, b| !a.event_id.is_empty() && a.event_id == b.event_id && a.stream == b.stream);
    lines
}

/// Milliseconds since the epoch.
#[must_use]
pub fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `now` (ms) minus `since`, not before the epoch.
#[must_use]
pub fn start_time(now: i64, since: Duration) -> i64 {
    now.saturating_sub(i64::try_from(since.as_millis()).unwrap_or(i64::MAX)).max(0)
}

/// The task id in a stream name `PREFIX/CONTAINER/TASK_ID` (the whole name when it has no `/`).
#[must_use]
pub fn task_of_stream(stream: &str) -> &str {
    stream.rsplit('/').next().unwrap_or(stream)
}

/// A task id as given: a task ARN (`…:task/CLUSTER/ID`) gives its id; an id (or its start) stays as it is.
#[must_use]
pub fn task_id(task: &str) -> &str {
    task.trim().rsplit('/').next().unwrap_or(task)
}

/// The short form of a task id that prefixes each line: its first 8 characters.
#[must_use]
pub fn short_task(id: &str) -> &str {
    id.char_indices().nth(8).map_or(id, |(end, _)| &id[..end])
}

/// Where a follow loop is: the next read's start time and the events already shown at that time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    start: i64,
    seen: BTreeSet<(String, String)>,
}

impl Cursor {
    /// A cursor that starts at `start` (ms since the epoch).
    #[must_use]
    pub fn new(start: i64) -> Self {
        Self { start, seen: BTreeSet::new() }
    }

    /// Where the next read starts: the newest timestamp shown, so a line written in the same millisecond after
    /// the last read is not lost.
    #[must_use]
    pub fn start(&self) -> i64 {
        self.start
    }

    /// The lines of `read` not shown yet (oldest first), and moves the cursor past them.
    pub fn fresh(&mut self, read: Vec<LogLine>) -> Vec<LogLine> {
        let mut fresh = Vec::new();
        for line in read {
            if line.timestamp < self.start {
                continue;
            }
            let key = (line.stream.clone(), line.event_id.clone());
            if line.timestamp == self.start && self.seen.contains(&key) {
                continue;
            }
            if line.timestamp > self.start {
                self.start = line.timestamp;
                self.seen.clear();
            }
            self.seen.insert(key);
            fresh.push(line);
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(stream: &str, id: &str, at: i64, message: &str) -> FilteredLogEvent {
        FilteredLogEvent::builder().log_stream_name(stream).event_id(id).timestamp(at).message(message).build()
    }

    fn line(stream: &str, id: &str, at: i64) -> LogLine {
        LogLine {
            timestamp: at,
            task: task_of_stream(stream).to_owned(),
            stream: stream.to_owned(),
            message: id.to_owned(),
            event_id: id.to_owned(),
        }
    }

    #[test]
    fn ids_and_times_read_well() {
        assert_eq!(task_of_stream("ecs/web/0123456789abcdef"), "0123456789abcdef");
        assert_eq!(task_of_stream("plain"), "plain");
        assert_eq!(task_id("arn:aws:ecs:us-east-1:123456789012:task/apps/0123abcd"), "0123abcd");
        assert_eq!(task_id(" 0123abcd "), "0123abcd");
        assert_eq!(short_task("0123456789abcdef"), "01234567");
        assert_eq!(short_task("0123"), "0123");
        assert_eq!(start_time(600_000, Duration::from_secs(60)), 540_000);
        assert_eq!(start_time(1_000, Duration::from_secs(3_600)), 0);
    }

    #[test]
    fn events_become_lines_oldest_first_without_line_ends_or_repeats() {
        let events = vec![
            event("ecs/web/bbbb", "2", 20, "second\n"),
            event("ecs/web/aaaa", "1", 10, "first\r\n"),
            event("ecs/web/bbbb", "2", 20, "second\n"),
            event("ecs/web/aaaa", "3", 20, "third"),
        ];
        let read = lines(events);
        let shown: Vec<(&str, &str)> = read.iter().map(|l| (l.task.as_str(), l.message.as_str())).collect();
        assert_eq!(shown, [("aaaa", "first"), ("aaaa", "third"), ("bbbb", "second")]);
        let json = serde_json::to_value(&read[0]).expect("JSON");
        assert_eq!(
            json,
            serde_json::json!({ "timestamp": 10, "task": "aaaa", "stream": "ecs/web/aaaa", "message": "first" })
        );
    }

    #[test]
    fn a_cursor_shows_each_event_once() {
        let mut cursor = Cursor::new(5);
        let first = cursor.fresh(vec![line("s/a", "1", 4), line("s/a", "2", 10), line("s/b", "3", 10)]);
        assert_eq!(first.iter().map(|l| l.event_id.as_str()).collect::<Vec<_>>(), ["2", "3"]);
        assert_eq!(cursor.start(), 10);
        let again = cursor.fresh(vec![line("s/a", "2", 10), line("s/b", "3", 10), line("s/b", "4", 10)]);
        assert_eq!(again.iter().map(|l| l.event_id.as_str()).collect::<Vec<_>>(), ["4"]);
        let later = cursor.fresh(vec![line("s/b", "4", 10), line("s/a", "5", 12)]);
        assert_eq!(later.iter().map(|l| l.event_id.as_str()).collect::<Vec<_>>(), ["5"]);
        assert_eq!(cursor.start(), 12);
    }

    #[test]
    fn no_stream_says_why() {
        let logs = |task: Option<&str>, streams| ServiceLogs {
            service: "web".to_owned(),
            group: "/ecs/web".to_owned(),
            task: task.map(str::to_owned),
            streams,
            lines: Vec::new(),
        };
        assert_eq!(logs(None, true).no_streams_message(), None);
        assert!(
            logs(None, false).no_streams_message().is_some_and(|m| m.starts_with("no log streams in /ecs/web yet"))
        );
        assert!(logs(Some("abcd"), false).no_streams_message().is_some_and(|m| m.contains("task abcd")));
    }
}
