//! Elastic Load Balancing v2: the internet-facing Application Load Balancer, its target group and listeners, and
//! the target health the deploy watcher reads.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersError;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::DescribeTargetGroupsError;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, IpAddressType, Listener, LoadBalancer,
    LoadBalancerSchemeEnum, LoadBalancerTypeEnum, Matcher, ProtocolEnum, RedirectActionConfig,
    RedirectActionStatusCodeEnum, Tag, TagDescription, TargetDescription, TargetGroup, TargetGroupAttribute,
    TargetTypeEnum,
};
use serde::Serialize;

use super::{AwsError, AwsResult};
use crate::stack::model::{
    Found, HealthCheck, ListenerAction, ListenerSpec, ListenerState, LoadBalancerSpec, LoadBalancerState, Tags,
    TargetGroupSpec, TargetGroupState, is_managed, user_tag, users,
};

/// The target group attribute holding the deregistration delay.
const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";
/// AWS's deregistration delay when the attribute is not listed.
const DEFAULT_DEREGISTRATION_DELAY: u32 = 300;

// -------------------------------------------------------------------------------------------------------------
// Load balancer

/// The load balancer `name`, or `None`.
///
/// # Errors
/// When a call fails.
pub async fn observe_load_balancer(client: &Client, name: &str) -> AwsResult<Option<Found<LoadBalancerState>>> {
    let resource = format!("load balancer {name}");
    let out = match client.describe_load_balancers().names(name).send().await {
        Ok(out) => out,
        Err(e)
            if e.as_service_error().is_some_and(DescribeLoadBalancersError::is_load_balancer_not_found_exception) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(AwsError::from_sdk("elbv2:DescribeLoadBalancers", resource, &e)),
    };
    let Some(lb) = out.load_balancers().iter().find(|lb| lb.load_balancer_name() == Some(name)) else {
        return Ok(None);
    };
    let mut state = load_balancer_state("elbv2:DescribeLoadBalancers", &resource, lb)?;
    let tags = tags_of(client, &state.arn, &resource).await?;
    state.users = users(&tags);
    Ok(Some(Found { state, managed: is_managed(&tags) }))
}

/// Creates the internet-facing application load balancer (IPv4) in `spec.subnets` with security group
/// `security_group_id` and `spec.tags` (as given: the desired spec carries the managed tag).
///
/// # Errors
/// When the call fails.
pub async fn create_load_balancer(
    client: &Client,
    spec: &LoadBalancerSpec,
    security_group_id: &str,
) -> AwsResult<LoadBalancerState> {
    const CALL: &str = "elbv2:CreateLoadBalancer";
    let resource = format!("load balancer {}", spec.name);
    let out = client
        .create_load_balancer()
        .name(&spec.name)
        .set_subnets(Some(spec.subnets.clone()))
        .security_groups(security_group_id)
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .r#type(LoadBalancerTypeEnum::Application)
        .ip_address_type(IpAddressType::Ipv4)
        .set_tags(Some(tags_to_sdk(&spec.tags)))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, &resource, &e))?;
    let lb = out.load_balancers().first().ok_or_else(|| missing(CALL, &resource, "load balancer"))?;
    let mut state = load_balancer_state(CALL, &resource, lb)?;
    state.users = users(&spec.tags);
    Ok(state)
}

/// Sets the subnets and the security group of the load balancer `state` to `spec`'s, each only when it differs,
/// and adds the deploying service's user tag when it is missing.
///
/// # Errors
/// When a call fails.
pub async fn update_load_balancer(
    client: &Client,
    spec: &LoadBalancerSpec,
    state: &LoadBalancerState,
    security_group_id: &str,
) -> AwsResult<LoadBalancerState> {
    let resource = format!("load balancer {}", spec.name);
    let mut updated = state.clone();
    let subnets = sorted(spec.subnets.iter().cloned());
    if subnets != state.subnets {
        client
            .set_subnets()
            .load_balancer_arn(&state.arn)
            .set_subnets(Some(subnets.clone()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2:SetSubnets", &resource, &e))?;
        updated.subnets = subnets;
    }
    if state.security_groups != [security_group_id] {
        client
            .set_security_groups()
            .load_balancer_arn(&state.arn)
            .security_groups(security_group_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2:SetSecurityGroups", &resource, &e))?;
        updated.security_groups = vec![security_group_id.to_owned()];
    }
    if !state.users.contains(&spec.user) {
        set_user_tag(client, &state.arn, &spec.name, &spec.user, true).await?;
        updated.users.push(spec.user.clone());
        updated.users.sort();
    }
    Ok(updated)
}

/// Adds (`present`) or removes the user tag of `service` on the load balancer `arn` (`name` for messages).
///
/// # Errors
/// When AddTags or RemoveTags fails.
pub async fn set_user_tag(client: &Client, arn: &str, name: &str, service: &str, present: bool) -> AwsResult<()> {
    let resource = format!("load balancer {name}");
    let key = user_tag(service);
    if present {
        let tag = Tag::builder().key(&key).value("true").build();
        client
            .add_tags()
            .resource_arns(arn)
            .tags(tag)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2:AddTags", &resource, &e))?;
    } else {
        client
            .remove_tags()
            .resource_arns(arn)
            .tag_keys(&key)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2:RemoveTags", &resource, &e))?;
    }
    Ok(())
}

/// The model of `lb`.
fn load_balancer_state(call: &'static str, resource: &str, lb: &LoadBalancer) -> AwsResult<LoadBalancerState> {
    Ok(LoadBalancerState {
        name: lb.load_balancer_name().unwrap_or_default().to_owned(),
        arn: lb.load_balancer_arn().ok_or_else(|| missing(call, resource, "load balancer ARN"))?.to_owned(),
        dns_name: lb.dns_name().unwrap_or_default().to_owned(),
        canonical_hosted_zone_id: lb.canonical_hosted_zone_id().unwrap_or_default().to_owned(),
        scheme: lb.scheme().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        kind: lb.r#type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
        subnets: sorted(lb.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_owned))),
        security_groups: sorted(lb.security_groups().iter().cloned()),
        users: Vec::new(),
    })
}

// -------------------------------------------------------------------------------------------------------------
// Target group

/// The target group `name` with its deregistration delay, or `None`.
///
/// # Errors
/// When a call fails.
pub async fn observe_target_group(client: &Client, name: &str) -> AwsResult<Option<Found<TargetGroupState>>> {
    const CALL: &str = "elbv2:DescribeTargetGroups";
    let resource = format!("target group {name}");
    let out = match client.describe_target_groups().names(name).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(DescribeTargetGroupsError::is_target_group_not_found_exception) => {
            return Ok(None);
        }
        Err(e) => return Err(AwsError::from_sdk(CALL, resource, &e)),
    };
    let Some(group) = out.target_groups().iter().find(|g| g.target_group_name() == Some(name)) else {
        return Ok(None);
    };
    let arn = group.target_group_arn().ok_or_else(|| missing(CALL, &resource, "target group ARN"))?;
    let attributes = client
        .describe_target_group_attributes()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("elbv2:DescribeTargetGroupAttributes", &resource, &e))?;
    let delay = attributes
        .attributes()
        .iter()
        .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
        .and_then(|a| a.value()?.parse().ok())
        .unwrap_or(DEFAULT_DEREGISTRATION_DELAY);
    let state = target_group_state(CALL, &resource, group, delay)?;
    let managed = is_managed(&tags_of(client, &state.arn, &resource).await?);
    Ok(Some(Found { state, managed }))
}

/// Creates the HTTP target group (target type `ip`) with `spec`'s health check and `spec.tags` (as given), then
/// sets its deregistration delay.
///
/// # Errors
/// When a call fails.
pub async fn create_target_group(client: &Client, spec: &TargetGroupSpec) -> AwsResult<TargetGroupState> {
    const CALL: &str = "elbv2:CreateTargetGroup";
    let resource = format!("target group {}", spec.name);
    let check = &spec.health_check;
    let out = client
        .create_target_group()
        .name(&spec.name)
        .protocol(ProtocolEnum::Http)
        .port(i32::from(spec.port))
        .vpc_id(&spec.vpc_id)
        .target_type(TargetTypeEnum::Ip)
        .health_check_enabled(true)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_path(&check.path)
        .health_check_interval_seconds(int(check.interval))
        .health_check_timeout_seconds(int(check.timeout))
        .healthy_threshold_count(int(check.healthy_threshold))
        .unhealthy_threshold_count(int(check.unhealthy_threshold))
        .matcher(Matcher::builder().http_code(&check.matcher).build())
        .set_tags(Some(tags_to_sdk(&spec.tags)))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, &resource, &e))?;
    let group = out.target_groups().first().ok_or_else(|| missing(CALL, &resource, "target group"))?;
    let state = target_group_state(CALL, &resource, group, spec.deregistration_delay)?;
    set_deregistration_delay(client, &state.arn, &resource, spec.deregistration_delay).await?;
    Ok(state)
}

/// Brings the target group `state` to `spec`: the health check (ModifyTargetGroup) and the deregistration delay
/// (ModifyTargetGroupAttributes), each only when it differs. Port, protocol and VPC cannot change in place.
///
/// # Errors
/// When a call fails.
pub async fn update_target_group(
    client: &Client,
    spec: &TargetGroupSpec,
    state: &TargetGroupState,
) -> AwsResult<TargetGroupState> {
    let resource = format!("target group {}", spec.name);
    let mut updated = state.clone();
    if spec.health_check != state.health_check {
        let check = &spec.health_check;
        client
            .modify_target_group()
            .target_group_arn(&state.arn)
            .health_check_enabled(true)
            .health_check_protocol(ProtocolEnum::Http)
            .health_check_path(&check.path)
            .health_check_interval_seconds(int(check.interval))
            .health_check_timeout_seconds(int(check.timeout))
            .healthy_threshold_count(int(check.healthy_threshold))
            .unhealthy_threshold_count(int(check.unhealthy_threshold))
            .matcher(Matcher::builder().http_code(&check.matcher).build())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2:ModifyTargetGroup", &resource, &e))?;
        updated.health_check = check.clone();
    }
    if spec.deregistration_delay != state.deregistration_delay {
        set_deregistration_delay(client, &state.arn, &resource, spec.deregistration_delay).await?;
        updated.deregistration_delay = spec.deregistration_delay;
    }
    Ok(updated)
}

async fn set_deregistration_delay(client: &Client, arn: &str, resource: &str, seconds: u32) -> AwsResult<()> {
    client
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(TargetGroupAttribute::builder().key(DEREGISTRATION_DELAY).value(seconds.to_string()).build())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("elbv2:ModifyTargetGroupAttributes", resource, &e))?;
    Ok(())
}

/// The model of `group`.
fn target_group_state(
    call: &'static str,
    resource: &str,
    group: &TargetGroup,
    deregistration_delay: u32,
) -> AwsResult<TargetGroupState> {
    let count = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok()).unwrap_or_default();
    Ok(TargetGroupState {
        name: group.target_group_name().unwrap_or_default().to_owned(),
        arn: group.target_group_arn().ok_or_else(|| missing(call, resource, "target group ARN"))?.to_owned(),
        vpc_id: group.vpc_id().unwrap_or_default().to_owned(),
        port: group.port().and_then(|p| u16::try_from(p).ok()).unwrap_or_default(),
        protocol: group.protocol().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        target_type: group.target_type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
        health_check: HealthCheck {
            path: group.health_check_path().unwrap_or_default().to_owned(),
            interval: count(group.health_check_interval_seconds()),
            timeout: count(group.health_check_timeout_seconds()),
            healthy_threshold: count(group.healthy_threshold_count()),
            unhealthy_threshold: count(group.unhealthy_threshold_count()),
            matcher: group.matcher().and_then(Matcher::http_code).unwrap_or_default().to_owned(),
        },
        deregistration_delay,
        load_balancers: sorted(group.load_balancer_arns().iter().cloned()),
    })
}

// -------------------------------------------------------------------------------------------------------------
// Listeners

/// The listeners of load balancer `lb_arn`, sorted by port. A forward action names its target group by
/// `target_group_names_by_arn` where known, else by ARN. A default action cargo-ecs does not make (fixed
/// response, authentication, weighted forwards, another redirect) is reported as a `Forward` whose text is a
/// description in parentheses, e.g. `(fixed-response)`: no target group name or ARN looks like that, so any
/// listener spec differs from it.
///
/// # Errors
/// When the call fails.
pub async fn observe_listeners(
    client: &Client,
    lb_arn: &str,
    target_group_names_by_arn: &BTreeMap<String, String>,
) -> AwsResult<Vec<ListenerState>> {
    let listeners = client
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("elbv2:DescribeListeners", format!("listeners of {lb_arn}"), &e))?;
    let mut states = listeners
        .iter()
        .map(|l| listener_state("elbv2:DescribeListeners", lb_arn, l, target_group_names_by_arn))
        .collect::<AwsResult<Vec<_>>>()?;
    let certificates = futures_util::future::try_join_all(states.iter().map(|l| async move {
        if l.protocol == "HTTPS" { listener_certificates(client, &l.arn).await } else { Ok(Vec::new()) }
    }))
    .await?;
    for (state, certificates) in states.iter_mut().zip(certificates) {
        state.certificates = certificates;
    }
    states.sort_by(|a, b| (a.port, &a.arn).cmp(&(b.port, &b.arn)));
    Ok(states)
}

/// Every certificate of the HTTPS listener `arn`, the default one included, sorted.
async fn listener_certificates(client: &Client, arn: &str) -> AwsResult<Vec<String>> {
    let out = client
        .describe_listener_certificates()
        .listener_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("elbv2:DescribeListenerCertificates", format!("listener {arn}"), &e))?;
    Ok(sorted(out.certificates().iter().filter_map(|c| c.certificate_arn().map(str::to_owned))))
}

/// Adds `certificate_arn` to the certificates of the HTTPS listener `arn`, served by SNI beside the default one.
///
/// # Errors
/// When AddListenerCertificates fails.
pub async fn add_listener_certificate(client: &Client, arn: &str, certificate_arn: &str) -> AwsResult<()> {
    client
        .add_listener_certificates()
        .listener_arn(arn)
        .certificates(Certificate::builder().certificate_arn(certificate_arn).build())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("elbv2:AddListenerCertificates", format!("listener {arn}"), &e))?;
    Ok(())
}

/// Creates a listener on `lb_arn` as `spec` says; a forward action goes to `target_group_arn`.
///
/// # Errors
/// When the call fails, or a forward action has no `target_group_arn`.
pub async fn create_listener(
    client: &Client,
    lb_arn: &str,
    spec: &ListenerSpec,
    target_group_arn: Option<&str>,
) -> AwsResult<ListenerState> {
    const CALL: &str = "elbv2:CreateListener";
    let resource = format!("listener {} {} of {lb_arn}", spec.protocol, spec.port);
    let out = client
        .create_listener()
        .load_balancer_arn(lb_arn)
        .port(i32::from(spec.port))
        .protocol(ProtocolEnum::from(spec.protocol.as_str()))
        .set_certificates(certificates(spec))
        .set_ssl_policy(spec.ssl_policy.clone())
        .default_actions(action(CALL, &resource, &spec.action, target_group_arn)?)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, &resource, &e))?;
    let listener = out.listeners().first().ok_or_else(|| missing(CALL, &resource, "listener"))?;
    let mut state = listener_state(CALL, &resource, listener, &forward_names(spec, target_group_arn))?;
    state.certificates = spec.certificate_arn.iter().cloned().collect();
    Ok(state)
}

/// What a listener update changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenerChanges {
    /// The protocol (and with it the default certificate).
    pub protocol: bool,
    /// The default action.
    pub action: bool,
}

/// Sets listener `listener_arn`'s protocol, TLS policy and, when `changes` says so, its default certificate and
/// default action to `spec`'s; a forward action goes to `target_group_arn`.
///
/// # Errors
/// When the call fails, or a forward action has no `target_group_arn`.
pub async fn modify_listener(
    client: &Client,
    listener_arn: &str,
    spec: &ListenerSpec,
    target_group_arn: Option<&str>,
    changes: ListenerChanges,
) -> AwsResult<ListenerState> {
    const CALL: &str = "elbv2:ModifyListener";
    let resource = format!("listener {listener_arn}");
    let default_actions =
        if changes.action { Some(vec![action(CALL, &resource, &spec.action, target_group_arn)?]) } else { None };
    let out = client
        .modify_listener()
        .listener_arn(listener_arn)
        .port(i32::from(spec.port))
        .protocol(ProtocolEnum::from(spec.protocol.as_str()))
        .set_certificates(certificates(spec).filter(|_| changes.protocol))
        .set_ssl_policy(spec.ssl_policy.clone())
        .set_default_actions(default_actions)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, &resource, &e))?;
    let listener = out.listeners().first().ok_or_else(|| missing(CALL, &resource, "listener"))?;
    listener_state(CALL, &resource, listener, &forward_names(spec, target_group_arn))
}

/// Sets the default action of listener `arn` to `wanted` (no forward: a 404 or the redirect to HTTPS).
///
/// # Errors
/// When ModifyListener fails, or `wanted` is a forward.
pub async fn set_default_action(client: &Client, arn: &str, wanted: &ListenerAction) -> AwsResult<()> {
    const CALL: &str = "elbv2:ModifyListener";
    let resource = format!("listener {arn}");
    let default = action(CALL, &resource, wanted, None)?;
    client
        .modify_listener()
        .listener_arn(arn)
        .default_actions(default)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, &resource, &e))?;
    Ok(())
}

/// The certificate list of a listener spec.
fn certificates(spec: &ListenerSpec) -> Option<Vec<Certificate>> {
    spec.certificate_arn.as_ref().map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
}

/// The body of the 404 a shared load balancer answers when no service's rule matches.
const NOT_FOUND_BODY: &str = "no service of this load balancer answers this host and path\n";

/// The SDK action of a listener's default action or a rule's action.
pub(super) fn action(
    call: &'static str,
    resource: &str,
    wanted: &ListenerAction,
    target_group_arn: Option<&str>,
) -> AwsResult<Action> {
    Ok(match wanted {
        ListenerAction::Forward(name) => {
            let arn = target_group_arn.ok_or_else(|| {
                AwsError::other(call, resource, format!("no target group ARN given to forward to target group {name}"))
            })?;
            Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(arn).build()
        }
        ListenerAction::RedirectToHttps => Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .host("#{host}")
                    .path("/#{path}")
                    .query("#{query}")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build(),
        ListenerAction::NotFound => Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(
                FixedResponseActionConfig::builder()
                    .status_code("404")
                    .content_type("text/plain")
                    .message_body(NOT_FOUND_BODY)
                    .build(),
            )
            .build(),
        ListenerAction::Other(what) => {
            return Err(AwsError::other(call, resource, format!("cargo-ecs does not write actions like {what}")));
        }
    })
}

/// `target_group_arn` → the name `spec` forwards to, to read a written listener back by name.
fn forward_names(spec: &ListenerSpec, target_group_arn: Option<&str>) -> BTreeMap<String, String> {
    match (&spec.action, target_group_arn) {
        (ListenerAction::Forward(name), Some(arn)) => BTreeMap::from([(arn.to_owned(), name.clone())]),
        _ => BTreeMap::new(),
    }
}

/// The model of `listener`.
fn listener_state(
    call: &'static str,
    resource: &str,
    listener: &Listener,
    names_by_arn: &BTreeMap<String, String>,
) -> AwsResult<ListenerState> {
    let certificates = listener.certificates();
    let default = certificates.iter().find(|c| c.is_default() == Some(true)).or_else(|| certificates.first());
    Ok(ListenerState {
        arn: listener.listener_arn().ok_or_else(|| missing(call, resource, "listener ARN"))?.to_owned(),
        port: listener.port().and_then(|p| u16::try_from(p).ok()).unwrap_or_default(),
        protocol: listener.protocol().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        certificate_arn: default.and_then(Certificate::certificate_arn).map(str::to_owned),
        certificates: Vec::new(),
        ssl_policy: listener.ssl_policy().map(str::to_owned),
        action: listener_action(listener.default_actions(), names_by_arn),
    })
}

/// The model of a listener's default actions (see [`observe_listeners`] for those it has no variant for).
pub(super) fn listener_action(actions: &[Action], names_by_arn: &BTreeMap<String, String>) -> ListenerAction {
    let other = |what: &str| ListenerAction::Other(format!("({what})"));
    let [action] = actions else {
        let kinds: Vec<&str> = actions.iter().map(|a| a.r#type().map_or("?", ActionTypeEnum::as_str)).collect();
        return other(&kinds.join(", then "));
    };
    match action.r#type() {
        Some(ActionTypeEnum::Forward) => {
            let mut arns: Vec<&str> = action.target_group_arn().into_iter().collect();
            if let Some(config) = action.forward_config() {
                arns.extend(config.target_groups().iter().filter_map(|t| t.target_group_arn()));
            }
            arns.sort_unstable();
            arns.dedup();
            match arns.as_slice() {
                [arn] => ListenerAction::Forward(names_by_arn.get(*arn).cloned().unwrap_or_else(|| (*arn).to_owned())),
                _ => other(&format!("forward to {} target groups", arns.len())),
            }
        }
        Some(ActionTypeEnum::Redirect) => redirect_action(action.redirect_config()).unwrap_or_else(|what| other(&what)),
        Some(ActionTypeEnum::FixedResponse)
            if action.fixed_response_config().and_then(|c| c.status_code()) == Some("404") =>
        {
            ListenerAction::NotFound
        }
        Some(kind) => other(kind.as_str()),
        None => other("?"),
    }
}

/// The redirect cargo-ecs writes, read back; any other redirect as its description.
fn redirect_action(config: Option<&RedirectActionConfig>) -> Result<ListenerAction, String> {
    let part = |get: fn(&RedirectActionConfig) -> Option<&str>, default: &'static str| {
        config.and_then(get).unwrap_or(default).to_owned()
    };
    let url = format!(
        "{}://{}:{}{}?{}",
        part(RedirectActionConfig::protocol, "#{protocol}"),
        part(RedirectActionConfig::host, "#{host}"),
        part(RedirectActionConfig::port, "#{port}"),
        part(RedirectActionConfig::path, "/#{path}"),
        part(RedirectActionConfig::query, "#{query}"),
    );
    let code = config.and_then(RedirectActionConfig::status_code).map_or("?", RedirectActionStatusCodeEnum::as_str);
    if url == "HTTPS://#{host}:443/#{path}?#{query}" && code == RedirectActionStatusCodeEnum::Http301.as_str() {
        Ok(ListenerAction::RedirectToHttps)
    } else {
        Err(format!("redirect {code} to {url}"))
    }
}

// -------------------------------------------------------------------------------------------------------------
// Target health

/// One registered target and its health (DescribeTargetHealth).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TargetHealthInfo {
    /// Target id: the task's IP address (target type `ip`).
    pub id: String,
    /// Port.
    pub port: Option<u16>,
    /// `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable`.
    pub state: String,
    /// Why, e.g. `Target.ResponseCodeMismatch`.
    pub reason: Option<String>,
    /// AWS's explanation, e.g. "Health checks failed with these codes: [404]".
    pub description: Option<String>,
}

/// The targets of `target_group_arn` and their health, sorted by id and port.
///
/// # Errors
/// When the call fails.
pub async fn target_health(client: &Client, target_group_arn: &str) -> AwsResult<Vec<TargetHealthInfo>> {
    let out = client.describe_target_health().target_group_arn(target_group_arn).send().await.map_err(|e| {
        AwsError::from_sdk("elbv2:DescribeTargetHealth", format!("target group {target_group_arn}"), &e)
    })?;
    let mut targets: Vec<TargetHealthInfo> = out
        .target_health_descriptions()
        .iter()
        .map(|d| {
            let health = d.target_health();
            TargetHealthInfo {
                id: d.target().and_then(|t| t.id()).unwrap_or_default().to_owned(),
                port: d.target().and_then(TargetDescription::port).and_then(|p| u16::try_from(p).ok()),
                state: health.and_then(|h| h.state()).map(|s| s.as_str().to_owned()).unwrap_or_default(),
                reason: health.and_then(|h| h.reason()).map(|r| r.as_str().to_owned()),
                description: health.and_then(|h| h.description()).map(str::to_owned),
            }
        })
        .collect();
    targets.sort_by(|a, b| (&a.id, a.port).cmp(&(&b.id, b.port)));
    Ok(targets)
}

// -------------------------------------------------------------------------------------------------------------
// Helpers

/// The tags of resource `arn` (DescribeTags).
async fn tags_of(client: &Client, arn: &str, resource: &str) -> AwsResult<Tags> {
    let out = client
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("elbv2:DescribeTags", resource, &e))?;
    Ok(out
        .tag_descriptions()
        .iter()
        .filter(|d| d.resource_arn() == Some(arn))
        .flat_map(TagDescription::tags)
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect())
}

/// The model's tags as ELBv2's.
fn tags_to_sdk(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// An answer that lacks `what`.
fn missing(call: &'static str, resource: &str, what: &str) -> AwsError {
    AwsError::other(call, resource, format!("the answer has no {what}"))
}

/// A setting (validated to fit) as the SDK's integer.
fn int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Sorted, without duplicates.
fn sorted(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut items: Vec<String> = items.into_iter().collect();
    items.sort();
    items.dedup();
    items
}

// -------------------------------------------------------------------------------------------------------------
// Deleting (`cargo ecs destroy`): what is already gone counts as done.

/// `Ok(())` when the call succeeded or AWS said the resource does not exist.
fn gone_is_ok<T>(result: AwsResult<T>) -> AwsResult<()> {
    match result {
        Ok(_) => Ok(()),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
}

/// Deletes the listener `arn`. One already gone is success.
///
/// # Errors
/// When DeleteListener fails otherwise.
pub async fn delete_listener(client: &Client, arn: &str) -> AwsResult<()> {
    gone_is_ok(
        client
            .delete_listener()
            .listener_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2:DeleteListener", format!("listener {arn}"), &e)),
    )
}

/// Deletes the target group `arn` (`name` for messages), retrying a few times while AWS still sees it in use by
/// a listener just deleted. One already gone is success.
///
/// # Errors
/// When DeleteTargetGroup fails otherwise.
pub async fn delete_target_group(client: &Client, arn: &str, name: &str) -> AwsResult<()> {
    let mut attempt: u64 = 1;
    loop {
        let result = client
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2:DeleteTargetGroup", format!("target group {name}"), &e));
        match result {
            Err(error) if error.code.as_deref() == Some("ResourceInUse") && attempt < 5 => {
                tokio::time::sleep(std::time::Duration::from_secs(2 * attempt)).await;
                attempt += 1;
            }
            other => return gone_is_ok(other),
        }
    }
}

/// Deletes the load balancer `arn` (`name` for messages), with its listeners. One already gone is success.
///
/// # Errors
/// When DeleteLoadBalancer fails otherwise.
pub async fn delete_load_balancer(client: &Client, arn: &str, name: &str) -> AwsResult<()> {
    gone_is_ok(
        client
            .delete_load_balancer()
            .load_balancer_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2:DeleteLoadBalancer", format!("load balancer {name}"), &e)),
    )
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticloadbalancingv2::types::{ForwardActionConfig, TargetGroupTuple};

    use super::*;

    fn names() -> BTreeMap<String, String> {
        BTreeMap::from([("arn:tg/web".to_owned(), "web".to_owned())])
    }

    fn spec(action: ListenerAction) -> ListenerSpec {
        ListenerSpec {
            port: 80,
            protocol: "HTTP".into(),
            certificate_arn: None,
            ssl_policy: None,
            action,
            claim: crate::stack::model::Claim::Owned,
        }
    }

    #[test]
    fn written_actions_read_back_as_their_spec() {
        for wanted in [ListenerAction::Forward("web".into()), ListenerAction::RedirectToHttps, ListenerAction::NotFound]
        {
            let written = action("c", "r", &spec(wanted.clone()).action, Some("arn:tg/web")).expect("action");
            assert_eq!(listener_action(&[written], &names()), wanted);
        }
        assert!(action("c", "r", &ListenerAction::Forward("web".into()), None).is_err(), "no ARN to forward to");
        assert!(action("c", "r", &ListenerAction::Other("(x)".into()), None).is_err(), "only what cargo-ecs makes");
    }

    #[test]
    fn forwards_name_known_groups_and_keep_unknown_arns() {
        let plain = Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn("arn:tg/other").build();
        assert_eq!(listener_action(&[plain], &names()), ListenerAction::Forward("arn:tg/other".into()));
        let config = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(TargetGroupTuple::builder().target_group_arn("arn:tg/web").weight(1).build())
                    .build(),
            )
            .build();
        assert_eq!(listener_action(&[config], &names()), ListenerAction::Forward("web".into()));
    }

    #[test]
    fn other_actions_differ_from_any_spec() {
        let weighted = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(TargetGroupTuple::builder().target_group_arn("arn:tg/web").build())
                    .target_groups(TargetGroupTuple::builder().target_group_arn("arn:tg/b").build())
                    .build(),
            )
            .build();
        let fixed = Action::builder().r#type(ActionTypeEnum::FixedResponse).build();
        let temporary = Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .status_code(RedirectActionStatusCodeEnum::Http302)
                    .build(),
            )
            .build();
        let elsewhere = Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .host("example.com")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build();
        let auth = Action::builder().r#type(ActionTypeEnum::AuthenticateOidc).build();
        let forward = Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn("arn:tg/web").build();
        let cases = [
            (vec![weighted], "(forward to 2 target groups)"),
            (vec![fixed], "(fixed-response)"),
            (vec![temporary], "(redirect HTTP_302 to HTTPS://#{host}:443/#{path}?#{query})"),
            (vec![elsewhere], "(redirect HTTP_301 to HTTPS://example.com:443/#{path}?#{query})"),
            (vec![auth, forward], "(authenticate-oidc, then forward)"),
            (vec![], "()"),
        ];
        for (actions, text) in cases {
            assert_eq!(listener_action(&actions, &names()), ListenerAction::Other(text.to_owned()));
        }
    }

    #[test]
    fn the_default_certificate_is_the_listeners() {
        let listener = Listener::builder()
            .listener_arn("arn:l")
            .port(443)
            .protocol(ProtocolEnum::Https)
            .certificates(Certificate::builder().certificate_arn("arn:c/extra").is_default(false).build())
            .certificates(Certificate::builder().certificate_arn("arn:c/main").is_default(true).build())
            .ssl_policy("policy")
            .build();
        let state = listener_state("c", "r", &listener, &names()).expect("state");
        assert_eq!(state.certificate_arn.as_deref(), Some("arn:c/main"));
        assert_eq!((state.port, state.protocol.as_str(), state.ssl_policy.as_deref()), (443, "HTTPS", Some("policy")));
    }
}
