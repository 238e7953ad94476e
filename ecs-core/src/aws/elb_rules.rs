//! Elastic Load Balancing v2 listener rules: how services share one load balancer, each reached by its host name
//! and/or path prefix. Priorities are chosen by the planner; a priority another deploy took meanwhile is replaced
//! by the next free one of the same band.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::operation::create_rule::CreateRuleError;
use aws_sdk_elasticloadbalancingv2::operation::delete_rule::DeleteRuleError;
use aws_sdk_elasticloadbalancingv2::types::{
    HostHeaderConditionConfig, PathPatternConditionConfig, Rule, RuleCondition, RulePriorityPair, Tag,
};

use super::elb::{action, listener_action};
use super::{AwsError, AwsResult};
use crate::stack::model::{ListenerAction, ListenerState, Route, RuleSpec, RuleState};
use crate::stack::plan::free_priority;

/// How often a create retries with another priority when a concurrent deploy took the one planned.
const PRIORITY_ATTEMPTS: usize = 5;

/// The rules of `listeners` (default rules excluded), sorted by port and priority. A forward names its target group
/// by `target_group_names_by_arn` where known, else by ARN.
///
/// # Errors
/// When DescribeRules fails.
pub async fn observe_rules(
    client: &Client,
    listeners: &[ListenerState],
    target_group_names_by_arn: &BTreeMap<String, String>,
) -> AwsResult<Vec<RuleState>> {
    let per_listener = futures_util::future::try_join_all(
        listeners.iter().map(|l| listener_rules(client, &l.arn, l.port, target_group_names_by_arn)),
    )
    .await?;
    let mut rules: Vec<RuleState> = per_listener.into_iter().flatten().collect();
    rules.sort_by(|a, b| (a.port, a.priority, &a.arn).cmp(&(b.port, b.priority, &b.arn)));
    Ok(rules)
}

/// The non-default rules of one listener.
async fn listener_rules(
    client: &Client,
    listener_arn: &str,
    port: u16,
    names: &BTreeMap<String, String>,
) -> AwsResult<Vec<RuleState>> {
    let mut rules = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out =
            client.describe_rules().listener_arn(listener_arn).set_marker(marker.take()).send().await.map_err(|e| {
                AwsError::from_sdk("elbv2:DescribeRules", format!("rules of listener {listener_arn}"), &e)
            })?;
        rules.extend(out.rules().iter().filter_map(|r| rule_state(r, port, names)));
        match out.next_marker() {
            Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
            _ => return Ok(rules),
        }
    }
}

/// The model of a rule; `None` for the default rule.
fn rule_state(rule: &Rule, port: u16, names: &BTreeMap<String, String>) -> Option<RuleState> {
    if rule.is_default() == Some(true) {
        return None;
    }
    let priority = rule.priority()?.parse().ok()?;
    Some(RuleState {
        arn: rule.rule_arn()?.to_owned(),
        port,
        priority,
        route: route(rule.conditions()),
        action: listener_action(rule.actions(), names),
    })
}

/// The route of a rule's conditions, when they are one host header and/or one path-pattern condition.
fn route(conditions: &[RuleCondition]) -> Option<Route> {
    let mut host = None;
    let mut paths = None;
    for condition in conditions {
        match condition.field()? {
            "host-header" => {
                let values =
                    condition.host_header_config().map_or(condition.values(), HostHeaderConditionConfig::values);
                let [value] = values else { return None };
                host = Some(value.to_ascii_lowercase());
            }
            "path-pattern" => {
                let values =
                    condition.path_pattern_config().map_or(condition.values(), PathPatternConditionConfig::values);
                let mut values = values.to_vec();
                values.sort();
                paths = Some(values);
            }
            _ => return None,
        }
    }
    let route = Route { host, paths: paths.unwrap_or_default() };
    (route.host.is_some() || !route.paths.is_empty()).then_some(route)
}

/// The conditions of a route.
fn conditions(route: &Route) -> Vec<RuleCondition> {
    let mut conditions = Vec::new();
    if let Some(host) = &route.host {
        conditions.push(
            RuleCondition::builder()
                .field("host-header")
                .host_header_config(HostHeaderConditionConfig::builder().values(host).build())
                .build(),
        );
    }
    if !route.paths.is_empty() {
        conditions.push(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    PathPatternConditionConfig::builder().set_values(Some(route.paths.clone())).build(),
                )
                .build(),
        );
    }
    conditions
}

/// Creates the rule `spec` on listener `listener_arn` at `priority`, forwarding to `target_group_arn`. When a
/// concurrent deploy took that priority, the next free one of the route's band is used. Returns the rule's ARN
/// and priority.
///
/// # Errors
/// When CreateRule fails otherwise, or every attempt met a taken priority.
pub async fn create_rule(
    client: &Client,
    listener_arn: &str,
    spec: &RuleSpec,
    target_group_arn: &str,
    priority: u32,
) -> AwsResult<(String, u32)> {
    const CALL: &str = "elbv2:CreateRule";
    let resource = format!("rule {} on listener {listener_arn}", spec.route);
    let forward = action(CALL, &resource, &ListenerAction::Forward(spec.target_group.clone()), Some(target_group_arn))?;
    let tags: Vec<Tag> = spec.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    let mut priority = priority;
    for attempt in 1..=PRIORITY_ATTEMPTS {
        let result = client
            .create_rule()
            .listener_arn(listener_arn)
            .priority(i32::try_from(priority).unwrap_or(i32::MAX))
            .set_conditions(Some(conditions(&spec.route)))
            .actions(forward.clone())
            .set_tags(Some(tags.clone()))
            .send()
            .await;
        match result {
            Ok(out) => {
                let arn = out.rules().first().and_then(Rule::rule_arn).unwrap_or_default().to_owned();
                return Ok((arn, priority));
            }
            Err(e)
                if attempt < PRIORITY_ATTEMPTS
                    && e.as_service_error().is_some_and(CreateRuleError::is_priority_in_use_exception) =>
            {
                let taken: Vec<u32> = listener_rules(client, listener_arn, spec.port, &BTreeMap::new())
                    .await?
                    .iter()
                    .map(|r| r.priority)
                    .collect();
                priority = free_priority(spec.route.band(), &taken, &spec.target_group);
            }
            Err(e) => return Err(AwsError::from_sdk(CALL, &resource, &e)),
        }
    }
    Err(AwsError::other(
        CALL,
        &resource,
        format!("every priority tried was taken by concurrent deploys ({PRIORITY_ATTEMPTS} attempts)"),
    ))
}

/// Sets the conditions and the forward of rule `arn` to `spec`'s.
///
/// # Errors
/// When ModifyRule fails.
pub async fn modify_rule(client: &Client, arn: &str, spec: &RuleSpec, target_group_arn: &str) -> AwsResult<()> {
    const CALL: &str = "elbv2:ModifyRule";
    let resource = format!("rule {arn}");
    let forward = action(CALL, &resource, &ListenerAction::Forward(spec.target_group.clone()), Some(target_group_arn))?;
    client
        .modify_rule()
        .rule_arn(arn)
        .set_conditions(Some(conditions(&spec.route)))
        .actions(forward)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, &resource, &e))?;
    Ok(())
}

/// Moves rule `arn` to `priority`.
///
/// # Errors
/// When SetRulePriorities fails.
pub async fn set_rule_priority(client: &Client, arn: &str, priority: u32) -> AwsResult<()> {
    let pair = RulePriorityPair::builder().rule_arn(arn).priority(i32::try_from(priority).unwrap_or(i32::MAX)).build();
    client
        .set_rule_priorities()
        .rule_priorities(pair)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("elbv2:SetRulePriorities", format!("rule {arn}"), &e))?;
    Ok(())
}

/// Deletes rule `arn`. One already gone is success.
///
/// # Errors
/// When DeleteRule fails otherwise.
pub async fn delete_rule(client: &Client, arn: &str) -> AwsResult<()> {
    match client.delete_rule().rule_arn(arn).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(DeleteRuleError::is_rule_not_found_exception) => Ok(()),
        Err(e) => Err(AwsError::from_sdk("elbv2:DeleteRule", format!("rule {arn}"), &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_read_back_as_written() {
        for route in [
            Route::new(Some("api.example.com"), None),
            Route::new(None, Some("/api")),
            Route::new(Some("Api.Example.com"), Some("/v1/admin")),
        ] {
            let route = route.expect("a route");
            assert_eq!(super::route(&conditions(&route)), Some(route.clone()), "{route}");
        }
    }

    #[test]
    fn rules_with_other_conditions_have_no_route() {
        let method = RuleCondition::builder().field("http-request-method").build();
        assert_eq!(route(&[method]), None);
        let two_hosts = RuleCondition::builder()
            .field("host-header")
            .host_header_config(HostHeaderConditionConfig::builder().values("a.example").values("b.example").build())
            .build();
        assert_eq!(route(&[two_hosts]), None);
        assert_eq!(route(&[]), None);
    }

    #[test]
    fn the_default_rule_is_not_listed() {
        let default = Rule::builder().rule_arn("arn:r").priority("default").is_default(true).build();
        assert_eq!(rule_state(&default, 443, &BTreeMap::new()), None);
        let rule = Rule::builder().rule_arn("arn:r2").priority("9901").is_default(false).build();
        let state = rule_state(&rule, 443, &BTreeMap::new()).expect("a rule");
        assert_eq!(state.priority, 9901);
    }
}
