//! ECS task definition revisions of a family, and pointing a service at one (rollback).

use aws_sdk_ecs::types::{SortOrder, TaskDefinitionStatus};

use super::ecs::{NameMap, service_state_from};
use super::{AwsError, AwsResult};
use crate::stack::model::ServiceState;

/// The family's ACTIVE revisions, newest first, as (revision, ARN).
///
/// # Errors
/// A failed ListTaskDefinitions.
pub async fn active_revisions(client: &aws_sdk_ecs::Client, family: &str) -> AwsResult<Vec<(i32, String)>> {
    let mut pages = client
        .list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .sort(SortOrder::Desc)
        .into_paginator()
        .send();
    let mut revisions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ecs:ListTaskDefinitions", format!("family {family}"), &e))?;
        for arn in page.task_definition_arns() {
            if let Some((name, revision)) = arn.rsplit('/').next().and_then(|tail| tail.rsplit_once(':'))
                && name == family
                && let Ok(revision) = revision.parse::<i32>()
            {
                revisions.push((revision, arn.clone()));
            }
        }
    }
    revisions.sort_by_key(|r| std::cmp::Reverse(r.0));
    Ok(revisions)
}

/// Points `service` at the task definition `arn`, changing nothing else; returns the service as it is then.
///
/// # Errors
/// A failed UpdateService, or an answer without the service.
pub async fn set_task_definition(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    arn: &str,
) -> AwsResult<ServiceState> {
    let output = client
        .update_service()
        .cluster(cluster)
        .service(service)
        .task_definition(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:UpdateService", format!("service {service}"), &e))?;
    let described = output.service().ok_or_else(|| {
        AwsError::other("ecs:UpdateService", format!("service {service}"), "the answer holds no service")
    })?;
    Ok(service_state_from(described, &NameMap::default()))
}
