//! Carries out a [`Plan`] in dependency order. Names in the specs are resolved to the ids and ARNs of what
//! exists or was just created; every step is reported, and the first failure stops the apply, saying what was done.

use std::collections::BTreeMap;

use serde::Serialize;

use super::desired::Desired;
use super::model::{LoadBalancerState, RoleRef, SecurityGroupSpec};
use super::observed::Observed;
use super::plan::{Action, Kind, Plan, Step};
use crate::aws::{self, AwsError, AwsResult, Clients};
use crate::report::Reporter;

/// What an apply did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Applied {
    /// The steps carried out (creates and updates), in order.
    pub done: Vec<String>,
    /// The task definition the service runs now.
    pub task_definition: Option<String>,
    /// The deployment the service update or create started, to watch.
    pub deployment: Option<String>,
    /// The load balancer's DNS name.
    pub load_balancer_dns: Option<String>,
    /// The target group's ARN.
    pub target_group: Option<String>,
}

/// An apply stopped by a failed step, with what it had done.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct ApplyError {
    /// The failure.
    pub error: AwsError,
    /// The step that failed.
    pub step: String,
    /// What was done before it.
    pub applied: Applied,
    /// The steps not carried out.
    pub remaining: Vec<String>,
}

/// Ids and ARNs known so far, by the names the specs use.
#[derive(Debug, Default)]
struct Resolved {
    security_groups: BTreeMap<String, String>,
    load_balancer: Option<LoadBalancerState>,
    target_group: Option<String>,
    listeners: BTreeMap<u16, String>,
    task_definition: Option<String>,
}

impl Resolved {
    fn from_observed(observed: &Observed) -> Self {
        Self {
            security_groups: [&observed.lb_security_group, &observed.service_security_group]
                .into_iter()
                .flatten()
                .map(|g| (g.state.name.clone(), g.state.id.clone()))
                .collect(),
            load_balancer: observed.load_balancer.as_ref().map(|f| f.state.clone()),
            target_group: observed.target_group.as_ref().map(|f| f.state.arn.clone()),
            listeners: observed.listeners.iter().map(|l| (l.port, l.arn.clone())).collect(),
            task_definition: observed.task_definition.as_ref().map(|t| t.arn.clone()),
        }
    }

    fn group(&self, name: &str) -> AwsResult<String> {
        self.security_groups.get(name).cloned().ok_or_else(|| missing("security group", name))
    }

    fn ids(&self, desired: &Desired) -> AwsResult<aws::ecs::ResolvedIds> {
        let security_groups = desired
            .service
            .security_groups
            .iter()
            .map(|n| self.group(n).map(|id| (n.clone(), id)))
            .collect::<AwsResult<_>>()?;
        Ok(aws::ecs::ResolvedIds { security_groups, target_group: self.target_group.clone() })
    }
}

fn missing(what: &str, name: &str) -> AwsError {
    AwsError::other("apply", format!("{what} {name}"), "was neither found nor created earlier in this deploy")
}

/// Applies `plan`. `force` starts a new deployment of an unchanged service.
///
/// # Errors
/// The first failed step, with what was done and what remains.
pub async fn apply(
    plan: &Plan,
    desired: &Desired,
    observed: &Observed,
    clients: &Clients,
    force: bool,
    reporter: &dyn Reporter,
) -> Result<Applied, Box<ApplyError>> {
    let mut resolved = Resolved::from_observed(observed);
    let mut applied = Applied::default();
    let todo: Vec<&Step> = plan.steps.iter().filter(|s| s.action != Action::Keep).collect();
    for (index, step) in todo.iter().enumerate() {
        let label = format!("{} {} {}", verb(step), step.kind.label(), step.name);
        reporter.begin(&label);
        match apply_step(step, desired, observed, clients, force, &mut resolved, &mut applied).await {
            Ok(result) => {
                reporter.end(&label, &result);
                applied.done.push(label);
            }
            Err(error) => {
                reporter.end(&label, "failed");
                let remaining =
                    todo[index + 1..].iter().map(|s| format!("{} {} {}", verb(s), s.kind.label(), s.name)).collect();
                return Err(Box::new(ApplyError { error, step: label, applied, remaining }));
            }
        }
    }
    applied.task_definition = applied.task_definition.or(resolved.task_definition);
    applied.load_balancer_dns = resolved.load_balancer.map(|lb| lb.dns_name);
    applied.target_group = resolved.target_group;
    Ok(applied)
}

fn verb(step: &Step) -> &'static str {
    match (step.action, step.kind) {
        (Action::Create, Kind::TaskDefinition) => "register",
        (Action::Create, _) => "create",
        _ => "update",
    }
}

async fn apply_step(
    step: &Step,
    desired: &Desired,
    observed: &Observed,
    clients: &Clients,
    force: bool,
    resolved: &mut Resolved,
    applied: &mut Applied,
) -> AwsResult<String> {
    let create = step.action == Action::Create;
    match step.kind {
        Kind::ExecutionRole | Kind::TaskRole => {
            let (role, found) = if step.kind == Kind::ExecutionRole {
                (Some(&desired.execution_role), &observed.execution_role)
            } else {
                (desired.task_role.as_ref(), &observed.task_role)
            };
            let Some(RoleRef::Managed(spec)) = role else { return Ok("used as it is".to_owned()) };
            match found {
                Some(found) if !create => aws::iam::update_role(&clients.iam, spec, &found.state).await?,
                _ => aws::iam::create_role(&clients.iam, spec).await?,
            };
            Ok(spec.arn.clone())
        }
        Kind::LogGroup => {
            if create {
                aws::logs::create_log_group(&clients.logs, &desired.log_group).await?;
            } else {
                aws::logs::update_log_group(&clients.logs, &desired.log_group).await?;
            }
            Ok(format!("retention {} days", desired.log_group.retention_days))
        }
        Kind::Cluster => {
            if create {
                aws::ecs::create_cluster(&clients.ecs, &desired.cluster).await?;
            } else {
                aws::ecs::update_cluster(&clients.ecs, &desired.cluster).await?;
            }
            Ok(desired.cluster.capacity_providers.join(", "))
        }
        Kind::LoadBalancerSecurityGroup | Kind::ServiceSecurityGroup => {
            let (spec, found) = if step.kind == Kind::ServiceSecurityGroup {
                (&desired.service_security_group, &observed.service_security_group)
            } else {
                let spec = desired.lb_security_group.as_ref().ok_or_else(|| missing("security group", &step.name))?;
                (spec, &observed.lb_security_group)
            };
            security_group(clients, spec, found.as_ref().filter(|_| !create).map(|f| &f.state), resolved).await
        }
        Kind::LoadBalancer => {
            let spec = desired.load_balancer.as_ref().ok_or_else(|| missing("load balancer", &step.name))?;
            let group = resolved.group(&spec.security_group)?;
            let state = match (&observed.load_balancer, create) {
                (Some(found), false) => {
                    aws::elb::update_load_balancer(&clients.elb, spec, &found.state, &group).await?
                }
                _ => aws::elb::create_load_balancer(&clients.elb, spec, &group).await?,
            };
            let dns = state.dns_name.clone();
            resolved.load_balancer = Some(state);
            Ok(dns)
        }
        Kind::TargetGroup => {
            let spec = desired.target_group.as_ref().ok_or_else(|| missing("target group", &step.name))?;
            let state = match (&observed.target_group, create) {
                (Some(found), false) => aws::elb::update_target_group(&clients.elb, spec, &found.state).await?,
                _ => aws::elb::create_target_group(&clients.elb, spec).await?,
            };
            resolved.target_group = Some(state.arn.clone());
            Ok(format!("health check {}", spec.health_check.path))
        }
        Kind::Listener => {
            let spec = desired
                .listeners
                .iter()
                .find(|l| step.name == format!("{} :{}", l.protocol, l.port))
                .ok_or_else(|| missing("listener", &step.name))?;
            let lb = resolved.load_balancer.as_ref().ok_or_else(|| missing("load balancer", &step.name))?;
            let target = resolved.target_group.clone();
            match resolved.listeners.get(&spec.port).filter(|_| !create) {
                Some(arn) => aws::elb::modify_listener(&clients.elb, arn, spec, target.as_deref()).await?,
                None => {
                    let state = aws::elb::create_listener(&clients.elb, &lb.arn, spec, target.as_deref()).await?;
                    resolved.listeners.insert(spec.port, state.arn.clone());
                    state
                }
            };
            Ok(match &spec.action {
                super::model::ListenerAction::Forward(target) => format!("forwards to {target}"),
                super::model::ListenerAction::RedirectToHttps => "redirects to HTTPS".to_owned(),
            })
        }
        Kind::TaskDefinition => {
            let state = aws::ecs::register_task_definition(&clients.ecs, &desired.task_definition).await?;
            resolved.task_definition = Some(state.arn.clone());
            applied.task_definition = Some(state.arn.clone());
            Ok(format!("revision {}", state.revision))
        }
        Kind::Service => {
            let task_definition =
                resolved.task_definition.clone().ok_or_else(|| missing("task definition", &desired.service.family))?;
            let ids = resolved.ids(desired)?;
            let state = match (&observed.service, create) {
                (Some(_), false) => {
                    aws::ecs::update_service(&clients.ecs, &desired.service, &task_definition, &ids, force).await?
                }
                _ => aws::ecs::create_service(&clients.ecs, &desired.service, &task_definition, &ids).await?,
            };
            applied.deployment = state.deployments.first().map(|d| d.id.clone());
            Ok(format!("deployment {}", applied.deployment.as_deref().unwrap_or("started")))
        }
        Kind::DnsRecord => {
            let spec = desired.record.as_ref().ok_or_else(|| missing("DNS record", &step.name))?;
            let lb = resolved.load_balancer.as_ref().ok_or_else(|| missing("load balancer", &spec.load_balancer))?;
            aws::route53::upsert_record(&clients.route53, spec, &lb.dns_name, &lb.canonical_hosted_zone_id).await?;
            Ok(format!("{} -> {}", spec.name, lb.dns_name))
        }
    }
}

async fn security_group(
    clients: &Clients,
    spec: &SecurityGroupSpec,
    existing: Option<&super::model::SecurityGroupState>,
    resolved: &mut Resolved,
) -> AwsResult<String> {
    let state = match existing {
        Some(state) => aws::ec2::update_security_group(&clients.ec2, spec, state, &resolved.security_groups).await?,
        None => aws::ec2::create_security_group(&clients.ec2, spec, &resolved.security_groups).await?,
    };
    resolved.security_groups.insert(state.name.clone(), state.id.clone());
    Ok(state.id)
}
