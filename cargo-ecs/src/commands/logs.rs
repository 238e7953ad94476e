//! `cargo ecs logs`: the service's CloudWatch log lines, each prefixed with its task's short id; `--follow`
//! keeps reading every 2 s until interrupted.

use std::time::Duration;

use ecs_core::Result;
use ecs_core::aws::Clients;
use ecs_core::config::Resolved;
use ecs_core::logs::{Cursor, LogLine, LogQuery, ServiceLogs, logs, short_task};

use super::aws_options;
use crate::cli::{GlobalArgs, LogsArgs};
use crate::output::Printer;

/// Seconds between two reads of `--follow`.
const FOLLOW_INTERVAL_SECS: u64 = 2;

/// Prints the log lines of every selected package; with `--follow`, new lines as they come until Ctrl-C.
///
/// # Errors
/// A failed CloudWatch Logs call.
pub async fn run(global: &GlobalArgs, resolved: &[Resolved], args: &LogsArgs, printer: &Printer) -> Result<()> {
    let many = resolved.len() > 1;
    let mut followed = Vec::with_capacity(resolved.len());
    let mut reports = Vec::with_capacity(resolved.len());
    for r in resolved {
        let clients = Clients::from_options(&aws_options(global, &r.settings)).await;
        let query = LogQuery::since(args.since, args.task.clone());
        let mut report = logs(&r.settings, &clients, &query).await?;
        let mut cursor = Cursor::new(query.start);
        report.lines = cursor.fresh(std::mem::take(&mut report.lines));
        reports.push(report);
        followed.push((r, clients, cursor));
    }
    printer.result(&reports, |all| all.iter().map(|l| render(l, many)).collect());
    if !args.follow {
        return Ok(());
    }
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(FOLLOW_INTERVAL_SECS)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        for (r, clients, cursor) in &mut followed {
            let query = LogQuery { start: cursor.start(), task: args.task.clone() };
            let mut report = logs(&r.settings, clients, &query).await?;
            report.lines = cursor.fresh(std::mem::take(&mut report.lines));
            if !report.lines.is_empty() {
                printer.result(&report, |l| render(l, many));
            }
        }
    }
}

/// The lines for people: `TASK  TIME  MESSAGE`, or why there are none.
fn render(logs: &ServiceLogs, many: bool) -> String {
    if let Some(message) = logs.no_streams_message() {
        return format!("{message}\n");
    }
    logs.lines.iter().map(|line| format_line(line, many.then_some(logs.service.as_str()))).collect()
}

fn format_line(line: &LogLine, service: Option<&str>) -> String {
    let service = service.map(|s| format!("{s} ")).unwrap_or_default();
    format!("{service}{} {} {}\n", short_task(&line.task), ecs_core::time::rfc3339_millis(line.timestamp), line.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_utc() {
        assert_eq!(ecs_core::time::rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(ecs_core::time::rfc3339_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(ecs_core::time::rfc3339_millis(1_767_225_599_999), "2025-12-31T23:59:59.999Z");
    }

    #[test]
    fn each_line_starts_with_the_short_task_id() {
        let line = LogLine {
            timestamp: 0,
            task: "0123456789abcdef".to_owned(),
            stream: "ecs/web/0123456789abcdef".to_owned(),
            message: "hello".to_owned(),
            event_id: "1".to_owned(),
        };
        assert_eq!(format_line(&line, None), "01234567 1970-01-01T00:00:00.000Z hello\n");
        assert_eq!(format_line(&line, Some("web")), "web 01234567 1970-01-01T00:00:00.000Z hello\n");
    }
}
