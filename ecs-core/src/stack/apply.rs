//! Carries out a [`Plan`] in dependency order. Names in the specs are resolved to the ids and ARNs of what
//! exists or was just created; every step is reported, and the first failure stops the apply, saying what was done.

use std::collections::BTreeMap;

use serde::Serialize;

use super::desired::Desired;
use super::model::{
    Ingress, ListenerSpec, ListenerState, LoadBalancerState, RoleRef, SecurityGroupSpec, SecurityGroupState,
};
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
    /// Set when a stop was asked for (Ctrl-C): the steps not started. What is in `done` finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Vec<String>>,
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

/// What one step produced, merged into [`Resolved`] once its wave is done.
#[derive(Debug)]
enum Output {
    /// Nothing later steps need.
    Nothing,
    /// A security group's id, by name.
    SecurityGroup(String, String),
    /// The load balancer.
    LoadBalancer(LoadBalancerState),
    /// The target group's ARN.
    TargetGroup(String),
    /// A listener's ARN, by port.
    Listener(u16, String),
    /// The task definition revision registered.
    TaskDefinition(String),
    /// The deployment a service create or update started.
    Deployment(Option<String>),
}

impl Resolved {
    fn merge(&mut self, output: Output, applied: &mut Applied) {
        match output {
            Output::Nothing => {}
            Output::SecurityGroup(name, id) => {
                self.security_groups.insert(name, id);
            }
            Output::LoadBalancer(state) => self.load_balancer = Some(state),
            Output::TargetGroup(arn) => self.target_group = Some(arn),
            Output::Listener(port, arn) => {
                self.listeners.insert(port, arn);
            }
            Output::TaskDefinition(arn) => {
                self.task_definition = Some(arn.clone());
                applied.task_definition = Some(arn);
            }
            Output::Deployment(id) => applied.deployment = id,
        }
    }
}

/// The wave a kind of step runs in: steps of one wave depend only on earlier waves, and run concurrently.
fn wave(kind: Kind) -> u8 {
    match kind {
        Kind::ExecutionRole
        | Kind::TaskRole
        | Kind::LogGroup
        | Kind::Cluster
        | Kind::LoadBalancerSecurityGroup
        | Kind::TargetGroup => 0,
        // The task group opens to the load balancer's group; the load balancer sits in it; the task definition
        // names the roles.
        Kind::ServiceSecurityGroup | Kind::LoadBalancer | Kind::TaskDefinition => 1,
        Kind::Listener => 2,
        // A service can be created only with a target group some listener or rule forwards to.
        Kind::ListenerRule => 3,
        Kind::Service => 4,
        Kind::DnsRecord => 5,
    }
}

fn label(step: &Step) -> String {
    format!("{} {} {}", verb(step), step.kind.label(), step.name)
}

/// Applies `plan`, wave after wave, the steps of a wave concurrently. `force` starts a new deployment of an
/// unchanged service.
///
/// # Errors
/// The first failed step, with what was done and what remains (a wave finishes before the apply stops).
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
    for current in 0..=wave(Kind::DnsRecord) {
        let steps: Vec<&Step> = todo.iter().copied().filter(|s| wave(s.kind) == current).collect();
        // A safe point: every step started has finished; stop here when asked to.
        if crate::interrupt::requested() && !steps.is_empty() {
            reporter.warn("stop requested: the steps under way finished; no other starts");
            applied.interrupted = Some(todo.iter().filter(|s| wave(s.kind) >= current).map(|s| label(s)).collect());
            return Ok(applied);
        }
        let results = futures_util::future::join_all(steps.iter().map(|step| {
            let resolved = &resolved;
            async move {
                let label = label(step);
                reporter.begin(&label);
                let result = apply_step(step, desired, observed, clients, force, resolved).await;
                reporter.end(&label, result.as_ref().map_or("failed", |(text, _)| text.as_str()));
                (label, result)
            }
        }))
        .await;
        let mut failure = None;
        for (label, result) in results {
            match result {
                Ok((_, output)) => {
                    resolved.merge(output, &mut applied);
                    applied.done.push(label);
                }
                Err(error) => failure = failure.or(Some((label, error))),
            }
        }
        if let Some((step, error)) = failure {
            let remaining = todo.iter().filter(|s| wave(s.kind) > current).map(|s| label(s)).collect();
            return Err(Box::new(ApplyError { error, step, applied, remaining }));
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
        (Action::Delete, _) => "delete",
        _ => "update",
    }
}

/// The rules of `a` and `b`, sorted, once each.
fn union(a: &[Ingress], b: &[Ingress]) -> Vec<Ingress> {
    let all: std::collections::BTreeSet<Ingress> = a.iter().chain(b).cloned().collect();
    all.into_iter().collect()
}

/// Creates the security group with its ingress (`true`), or when it exists already (created by a concurrent deploy
/// of another service of the load balancer, or by this deploy before it was killed) reads it back (`false`: its
/// ingress is as that deploy left it).
async fn create_security_group(
    client: &aws_sdk_ec2::Client,
    spec: &SecurityGroupSpec,
    groups: &BTreeMap<String, String>,
) -> AwsResult<(SecurityGroupState, bool)> {
    match aws::ec2::create_security_group(client, spec, groups).await {
        Ok(state) => Ok((state, true)),
        Err(error) if error.code.as_deref() == Some("InvalidGroup.Duplicate") => {
            let names: BTreeMap<String, String> = groups.iter().map(|(name, id)| (id.clone(), name.clone())).collect();
            let found = aws::ec2::observe_security_group(client, &spec.vpc_id, &spec.name)
                .await?
                .filter(|f| f.managed)
                .ok_or(error)?;
            Ok((aws::ec2::name_group_peers(found.state, &names), false))
        }
        Err(error) => Err(error),
    }
}

/// Creates the listener, or when the load balancer has one on the port already (a concurrent deploy of another
/// service of it), reads that one back to use it.
async fn create_listener(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    lb_arn: &str,
    spec: &ListenerSpec,
    target: Option<&str>,
) -> AwsResult<ListenerState> {
    match aws::elb::create_listener(client, lb_arn, spec, target).await {
        Err(error) if error.code.as_deref() == Some("DuplicateListener") => {
            aws::elb::observe_listeners(client, lb_arn, &BTreeMap::new())
                .await?
                .into_iter()
                .find(|l| l.port == spec.port)
                .ok_or(error)
        }
        other => other,
    }
}

async fn apply_step(
    step: &Step,
    desired: &Desired,
    observed: &Observed,
    clients: &Clients,
    force: bool,
    resolved: &Resolved,
) -> AwsResult<(String, Output)> {
    let create = step.action == Action::Create;
    match step.kind {
        Kind::ExecutionRole | Kind::TaskRole => {
            let (role, found) = if step.kind == Kind::ExecutionRole {
                (Some(&desired.execution_role), &observed.execution_role)
            } else {
                (desired.task_role.as_ref(), &observed.task_role)
            };
            let Some(RoleRef::Managed(spec)) = role else { return Ok(("used as it is".to_owned(), Output::Nothing)) };
            match found {
                Some(found) if !create => aws::iam::update_role(&clients.iam, spec, &found.state).await?,
                _ => match aws::iam::create_role(&clients.iam, spec).await {
                    Ok(state) => state,
                    // Created by this deploy's call whose answer was lost, or by a concurrent deploy: use it.
                    Err(error) if error.code.as_deref() == Some("EntityAlreadyExists") => {
                        let found = aws::iam::observe_role(&clients.iam, &spec.name)
                            .await?
                            .filter(|f| f.managed)
                            .ok_or(error)?;
                        aws::iam::update_role(&clients.iam, spec, &found.state).await?
                    }
                    Err(error) => return Err(error),
                },
            };
            Ok((spec.arn.clone(), Output::Nothing))
        }
        Kind::LogGroup => {
            if create {
                match aws::logs::create_log_group(&clients.logs, &desired.log_group).await {
                    Ok(_) => {}
                    // Created by a call whose answer was lost: set its retention.
                    Err(error) if error.code.as_deref() == Some("ResourceAlreadyExistsException") => {
                        aws::logs::update_log_group(&clients.logs, &desired.log_group).await?;
                    }
                    Err(error) => return Err(error),
                }
            } else {
                aws::logs::update_log_group(&clients.logs, &desired.log_group).await?;
            }
            Ok((format!("retention {} days", desired.log_group.retention_days), Output::Nothing))
        }
        Kind::Cluster => {
            let spec = &desired.cluster;
            if create {
                // Services of the cluster deployed together create it once: the others add what they need to it.
                let (created, ran) = clients
                    .shared
                    .once(format!("create ecs cluster {}", spec.name), || aws::ecs::create_cluster(&clients.ecs, spec))
                    .await;
                let state = created?;
                if !ran && !spec.capacity_providers.iter().all(|p| state.capacity_providers.contains(p)) {
                    aws::ecs::update_cluster(&clients.ecs, spec).await?;
                }
            } else {
                aws::ecs::update_cluster(&clients.ecs, spec).await?;
            }
            Ok((spec.capacity_providers.join(", "), Output::Nothing))
        }
        Kind::LoadBalancerSecurityGroup | Kind::ServiceSecurityGroup => {
            let (spec, found) = if step.kind == Kind::ServiceSecurityGroup {
                (&desired.service_security_group, &observed.service_security_group)
            } else {
                let spec = desired.lb_security_group.as_ref().ok_or_else(|| missing("security group", &step.name))?;
                (spec, &observed.lb_security_group)
            };
            let groups = &resolved.security_groups;
            let state = match found.as_ref().filter(|_| !create) {
                Some(found) => found.state.clone(),
                None => {
                    // The services of a load balancer deployed together create its group once; the others open
                    // the ports they need that it lacks.
                    let key = format!("create ec2 security group {} {}", spec.vpc_id, spec.name);
                    let (created, ran) =
                        clients.shared.once(key, || create_security_group(&clients.ec2, spec, groups)).await;
                    let (state, fresh) = created?;
                    if ran && fresh {
                        return Ok((state.id.clone(), Output::SecurityGroup(state.name, state.id)));
                    }
                    state
                }
            };
            // The load balancer's group is shared: keep the ports other services opened.
            let mut spec = spec.clone();
            if step.kind == Kind::LoadBalancerSecurityGroup {
                spec.ingress = union(&state.ingress, &spec.ingress);
            }
            let state = aws::ec2::update_security_group(&clients.ec2, &spec, &state, groups).await?;
            Ok((state.id.clone(), Output::SecurityGroup(state.name, state.id)))
        }
        Kind::LoadBalancer => {
            let spec = desired.load_balancer.as_ref().ok_or_else(|| missing("load balancer", &step.name))?;
            let group = resolved.group(&spec.security_group)?;
            let state = match (&observed.load_balancer, create) {
                (Some(found), false) => {
                    aws::elb::update_load_balancer(&clients.elb, spec, &found.state, &group).await?
                }
                _ => {
                    // The services of a load balancer deployed together create it once; the others add their user
                    // tag to it. CreateLoadBalancer also answers with the existing one when another process
                    // created it, without this service's tags: the creator adds its user tag either way.
                    let key = format!("create elbv2 load balancer {}", spec.name);
                    let (created, ran) = clients
                        .shared
                        .once(key, || async {
                            let state = aws::elb::create_load_balancer(&clients.elb, spec, &group).await?;
                            aws::elb::set_user_tag(&clients.elb, &state.arn, &spec.name, &spec.user, true).await?;
                            Ok(state)
                        })
                        .await;
                    let state = created?;
                    if ran { state } else { aws::elb::update_load_balancer(&clients.elb, spec, &state, &group).await? }
                }
            };
            Ok((state.dns_name.clone(), Output::LoadBalancer(state)))
        }
        Kind::TargetGroup => {
            let spec = desired.target_group.as_ref().ok_or_else(|| missing("target group", &step.name))?;
            let state = match (&observed.target_group, create) {
                (Some(found), false) => aws::elb::update_target_group(&clients.elb, spec, &found.state).await?,
                _ => aws::elb::create_target_group(&clients.elb, spec).await?,
            };
            Ok((format!("health check {}", spec.health_check.path), Output::TargetGroup(state.arn)))
        }
        Kind::Listener => {
            let spec = desired
                .listeners
                .iter()
                .find(|l| step.name == format!("{} :{}", l.protocol, l.port))
                .ok_or_else(|| missing("listener", &step.name))?;
            let lb = resolved.load_balancer.as_ref().ok_or_else(|| missing("load balancer", &step.name))?;
            let target = resolved.target_group.as_deref();
            let Some(arn) = resolved.listeners.get(&spec.port).filter(|_| !create) else {
                // The services of a load balancer deployed together create each listener once; another process's
                // deploy may have created it too. Either way one listener exists, with its default action the
                // catch-all's or a neutral one: this service only adds its certificate to it when it lacks it.
                let key = format!("create elbv2 listener {} {}", lb.arn, spec.port);
                let (created, _) =
                    clients.shared.once(key, || create_listener(&clients.elb, &lb.arn, spec, target)).await;
                let state = created?;
                if let Some(certificate) = spec.certificate_arn.as_ref().filter(|c| !state.certificates.contains(c)) {
                    aws::elb::add_listener_certificate(&clients.elb, &state.arn, certificate).await?;
                }
                return Ok((
                    format!("default action: {}", state.action.describe()),
                    Output::Listener(spec.port, state.arn),
                ));
            };
            let changed = |field: &str| step.changes.iter().any(|c| c.field == field);
            let changes = aws::elb::ListenerChanges { protocol: changed("protocol"), action: changed("action") };
            if changes.protocol || changes.action || changed("tls-policy") {
                aws::elb::modify_listener(&clients.elb, arn, spec, target, changes).await?;
            }
            if let (true, Some(certificate)) = (changed("certificates"), &spec.certificate_arn) {
                aws::elb::add_listener_certificate(&clients.elb, arn, certificate).await?;
            }
            let text = if changes.action {
                format!("default action: {}", spec.action.describe())
            } else {
                "default action kept".to_owned()
            };
            Ok((text, Output::Listener(spec.port, arn.clone())))
        }
        Kind::ListenerRule => {
            if step.action == Action::Delete {
                let arn = step.arn.as_deref().ok_or_else(|| missing("listener rule", &step.name))?;
                aws::elb_rules::delete_rule(&clients.elb, arn).await?;
                return Ok(("deleted".to_owned(), Output::Nothing));
            }
            let spec = desired.rule.as_ref().ok_or_else(|| missing("listener rule", &step.name))?;
            let listener = resolved.listeners.get(&spec.port).ok_or_else(|| missing("listener", &step.name))?;
            let target = resolved.target_group.as_deref().ok_or_else(|| missing("target group", &spec.target_group))?;
            match (step.action, step.arn.as_deref()) {
                (Action::Update, Some(arn)) => {
                    if step.changes.iter().any(|c| c.field == "route") {
                        aws::elb_rules::modify_rule(&clients.elb, arn, spec, target).await?;
                    }
                    if let Some(priority) = step.priority {
                        aws::elb_rules::set_rule_priority(&clients.elb, arn, priority).await?;
                    }
                    Ok((format!("forwards {} to {}", spec.route, spec.target_group), Output::Nothing))
                }
                _ => {
                    let planned = step.priority.unwrap_or_else(|| spec.route.band());
                    let (_, priority) =
                        aws::elb_rules::create_rule(&clients.elb, listener, spec, target, planned).await?;
                    Ok((format!("priority {priority}, forwards to {}", spec.target_group), Output::Nothing))
                }
            }
        }
        Kind::TaskDefinition => {
            let state = aws::ecs::register_task_definition(&clients.ecs, &desired.task_definition).await?;
            Ok((format!("revision {}", state.revision), Output::TaskDefinition(state.arn)))
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
            let deployment = state.deployments.first().map(|d| d.id.clone());
            Ok((format!("deployment {}", deployment.as_deref().unwrap_or("started")), Output::Deployment(deployment)))
        }
        Kind::DnsRecord => {
            let spec = desired.record.as_ref().ok_or_else(|| missing("DNS record", &step.name))?;
            let lb = resolved.load_balancer.as_ref().ok_or_else(|| missing("load balancer", &spec.load_balancer))?;
            aws::route53::upsert_record(&clients.route53, spec, &lb.dns_name, &lb.canonical_hosted_zone_id).await?;
            Ok((format!("{} -> {}", spec.name, lb.dns_name), Output::Nothing))
        }
    }
}
