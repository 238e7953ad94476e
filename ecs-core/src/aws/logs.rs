//! CloudWatch Logs: the service's log group, and the last lines of a task's stream for diagnosing a deployment.
//! Typed calls in, crate model out, no decisions.

use super::AwsResult;
use super::ecs::{SdkResultExt as _, gone_is_ok, missing, none_if_not_found, with_managed_tag};
use crate::stack::model::{Found, LogGroupSpec, LogGroupState, Tags, is_managed};

/// The log group `name` with its retention, and whether it is managed; `None` when it does not exist.
///
/// # Errors
/// When DescribeLogGroups or ListTagsForResource fails.
pub async fn observe_log_group(
    client: &aws_sdk_cloudwatchlogs::Client,
    name: &str,
) -> AwsResult<Option<Found<LogGroupState>>> {
    const CALL: &str = "logs:DescribeLogGroups";
    let what = format!("log group {name}");
    let mut next_token = None;
    // The name is a prefix of other groups' names too (`/ecs/api`, `/ecs/api-prod`): page until it shows.
    let group = loop {
        let output = client
            .describe_log_groups()
            .log_group_name_prefix(name)
            .set_next_token(next_token)
            .send()
            .await
            .or_aws(CALL, &what)?;
        if let Some(group) = output.log_groups().iter().find(|g| g.log_group_name() == Some(name)) {
            break group.clone();
        }
        next_token = output.next_token().map(str::to_owned);
        if next_token.is_none() {
            return Ok(None);
        }
    };
    // ListTagsForResource wants the ARN without the `:*` that `arn` carries.
    let arn = group
        .log_group_arn()
        .map(str::to_owned)
        .or_else(|| group.arn().map(|arn| arn.trim_end_matches(":*").to_owned()))
        .ok_or_else(|| missing(CALL, &what, "logGroupArn"))?;
    let tags =
        client.list_tags_for_resource().resource_arn(arn).send().await.or_aws("logs:ListTagsForResource", &what)?;
    let tags: Tags = tags.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    let state = LogGroupState {
        name: name.to_owned(),
        retention_days: group.retention_in_days().and_then(|d| u32::try_from(d).ok()),
    };
    Ok(Some(Found { state, managed: is_managed(&tags) }))
}

/// Creates the log group, tagged, with the spec's retention.
///
/// # Errors
/// When CreateLogGroup or PutRetentionPolicy fails.
pub async fn create_log_group(
    client: &aws_sdk_cloudwatchlogs::Client,
    spec: &LogGroupSpec,
) -> AwsResult<LogGroupState> {
    client
        .create_log_group()
        .log_group_name(&spec.name)
        .set_tags(Some(with_managed_tag(&spec.tags).into_iter().collect()))
        .send()
        .await
        .or_aws("logs:CreateLogGroup", &format!("log group {}", spec.name))?;
    update_log_group(client, spec).await
}

/// Sets the spec's retention on the log group.
///
/// # Errors
/// When PutRetentionPolicy fails (CloudWatch accepts only some day counts).
pub async fn update_log_group(
    client: &aws_sdk_cloudwatchlogs::Client,
    spec: &LogGroupSpec,
) -> AwsResult<LogGroupState> {
    client
        .put_retention_policy()
        .log_group_name(&spec.name)
        .retention_in_days(i32::try_from(spec.retention_days).unwrap_or(i32::MAX))
        .send()
        .await
        .or_aws("logs:PutRetentionPolicy", &format!("log group {}", spec.name))?;
    Ok(LogGroupState { name: spec.name.clone(), retention_days: Some(spec.retention_days) })
}

/// The stream the awslogs driver writes a task's container to: `PREFIX/CONTAINER/TASK_ID`.
#[must_use]
pub fn task_log_stream(stream_prefix: &str, container: &str, task_id: &str) -> String {
    format!("{stream_prefix}/{container}/{task_id}")
}

/// The last `limit` lines of `stream` in `group` (see [`task_log_stream`]), oldest first and newest last,
/// without trailing line ends. A stream (or group) that does not exist yet has no lines.
///
/// # Errors
/// When GetLogEvents fails otherwise.
pub async fn recent_log_lines(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    limit: u32,
) -> AwsResult<Vec<String>> {
    let got = client
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .start_from_head(false)
        .limit(i32::try_from(limit.clamp(1, 10_000)).unwrap_or(10_000))
        .send()
        .await
        .or_aws("logs:GetLogEvents", &format!("log stream {stream} of {group}"));
    let Some(output) = none_if_not_found(got)? else { return Ok(Vec::new()) };
    let mut events: Vec<_> = output.events().iter().collect();
    events.sort_by_key(|e| e.timestamp());
    Ok(events.into_iter().filter_map(|e| e.message()).map(|m| m.trim_end_matches(['\n', '\r']).to_owned()).collect())
}

/// Deletes the log group `name` with its streams. One already gone is success.
///
/// # Errors
/// When DeleteLogGroup fails otherwise.
pub async fn delete_log_group(client: &aws_sdk_cloudwatchlogs::Client, name: &str) -> AwsResult<()> {
    gone_is_ok(
        client
            .delete_log_group()
            .log_group_name(name)
            .send()
            .await
            .or_aws("logs:DeleteLogGroup", &format!("log group {name}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_writes_to_prefix_container_task_id() {
        assert_eq!(task_log_stream("ecs", "api", "0f1e2d3c"), "ecs/api/0f1e2d3c");
    }
}
