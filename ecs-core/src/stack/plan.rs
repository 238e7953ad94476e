//! The plan: what a deploy must do to turn what exists into what the settings ask for. A pure function of
//! [`Desired`] and [`Observed`], so `plan` (the dry run), no-op detection and diffs are all the same code.

use std::fmt;

use serde::Serialize;

use super::desired::Desired;
use super::model::{
    Claim, Found, ListenerAction, ListenerSpec, ListenerState, RULES_PER_BAND, RoleRef, RoleSpec, RoleState, RuleSpec,
    RuleState,
};
use super::observed::Observed;

/// A kind of resource, in the order a deploy creates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The task execution role.
    ExecutionRole,
    /// The task role.
    TaskRole,
    /// The log group.
    LogGroup,
    /// The cluster.
    Cluster,
    /// The load balancer's security group.
    LoadBalancerSecurityGroup,
    /// The tasks' security group.
    ServiceSecurityGroup,
    /// The load balancer.
    LoadBalancer,
    /// The target group.
    TargetGroup,
    /// A listener.
    Listener,
    /// The listener rule that routes the service's host name or path to it.
    ListenerRule,
    /// The task definition.
    TaskDefinition,
    /// The service.
    Service,
    /// The DNS record.
    DnsRecord,
}

impl Kind {
    /// How people call it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::ExecutionRole => "execution role",
            Self::TaskRole => "task role",
            Self::LogGroup => "log group",
            Self::Cluster => "cluster",
            Self::LoadBalancerSecurityGroup => "load balancer security group",
            Self::ServiceSecurityGroup => "task security group",
            Self::LoadBalancer => "load balancer",
            Self::TargetGroup => "target group",
            Self::Listener => "listener",
            Self::ListenerRule => "listener rule",
            Self::TaskDefinition => "task definition",
            Self::Service => "service",
            Self::DnsRecord => "DNS record",
        }
    }
}

/// What to do with one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Create it (for a task definition: register a new revision).
    Create,
    /// Change it in place.
    Update,
    /// Delete it (a listener rule of the service that is no longer wanted).
    Delete,
    /// Nothing to do.
    Keep,
}

/// One field that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The field.
    pub field: String,
    /// Its value now (JSON).
    pub from: String,
    /// Its value after the deploy (JSON).
    pub to: String,
}

/// What happens to one resource, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The kind.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// The action.
    pub action: Action,
    /// For an update: what changes.
    pub changes: Vec<Change>,
    /// Why, when it is not obvious (e.g. "not created by cargo-ecs: used as it is").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The ARN of the existing resource acted on, where the name does not find it (listener rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// A listener rule's priority: the one it gets (create) or moves to (update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
}

/// Everything a deploy will do, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The service.
    pub service: String,
    /// One step per resource, in dependency order.
    pub steps: Vec<Step>,
    /// Things that will not stop the deploy but may stop the service from working.
    pub warnings: Vec<String>,
}

impl Plan {
    /// Steps that change something.
    pub fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action != Action::Keep)
    }

    /// Whether the deploy has nothing to do.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes().next().is_none()
    }

    /// The step for a kind (the first, for listeners).
    #[must_use]
    pub fn step(&self, kind: Kind) -> Option<&Step> {
        self.steps.iter().find(|s| s.kind == kind)
    }
}

/// A plan that cannot be made without the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A resource with the name cargo-ecs would use exists and was not created by cargo-ecs.
    #[error("{} `{name}` exists and was not created by cargo-ecs", .kind.label())]
    NotManaged {
        /// The kind.
        kind: Kind,
        /// Its name.
        name: String,
        /// The setting that names it.
        setting: &'static str,
    },
    /// A change AWS cannot make in place.
    #[error("{} `{name}` has {field} {from}, which cannot be changed to {to} in place", .kind.label())]
    NeedsReplacement {
        /// The kind.
        kind: Kind,
        /// Its name.
        name: String,
        /// The field.
        field: String,
        /// Its value now.
        from: String,
        /// The value wanted.
        to: String,
        /// The setting that names it.
        setting: &'static str,
    },
    /// Another service of the shared load balancer is its catch-all already.
    #[error(
        "load balancer `{load_balancer}` already sends every request no rule matches to {other}; only one service of a load balancer can have no route"
    )]
    CatchAllTaken {
        /// The load balancer.
        load_balancer: String,
        /// The other target group (name or ARN).
        other: String,
    },
    /// A rule of another service matches the same requests.
    #[error("listener :{port} of load balancer `{load_balancer}` already routes {route} to {other}")]
    RouteTaken {
        /// The load balancer.
        load_balancer: String,
        /// The listener's port.
        port: u16,
        /// The route.
        route: String,
        /// Where it goes now (target group name or ARN).
        other: String,
    },
    /// An Application Load Balancer needs subnets in two availability zones.
    #[error("the load balancer needs subnets in at least two availability zones; found {found}")]
    TooFewZones {
        /// The zones found.
        found: String,
    },
}

impl PlanError {
    /// What to do.
    #[must_use]
    pub fn help(&self) -> String {
        match self {
            Self::NotManaged { setting, name, .. } => format!(
                "cargo-ecs changes only what it created: set `{setting}` to another name, or to \"{name}\" explicitly to let cargo-ecs use and update this one"
            ),
            Self::NeedsReplacement { setting, .. } => format!(
                "delete it (cargo ecs destroy removes what cargo-ecs created), or set `{setting}` to a new name"
            ),
            Self::CatchAllTaken { .. } => {
                "give this service a route: set `dns.name` (a host name) or `load-balancer.path` \
                 (a path prefix), or put it on its own load balancer with `load-balancer.name`"
                    .to_owned()
            }
            Self::RouteTaken { .. } => {
                "choose another `dns.name` or `load-balancer.path`, or destroy the service that has this route"
                    .to_owned()
            }
            Self::TooFewZones { .. } => {
                "set `subnets` to subnets in two or more availability zones (or `vpc` to a VPC that has them)"
                    .to_owned()
            }
        }
    }
}

/// The plan from `observed` to `desired`. `force` starts a new deployment of the service even when nothing changed.
///
/// # Errors
/// A resource in the way that cargo-ecs did not create, a change AWS cannot make in place, too few zones.
pub fn plan(desired: &Desired, observed: &Observed, force: bool) -> Result<Plan, PlanError> {
    let mut steps = Vec::new();
    let mut warnings = Vec::new();
    let named = |setting: &str| desired.named.contains(setting);

    steps.push(role_step(
        Kind::ExecutionRole,
        &desired.execution_role,
        observed.execution_role.as_ref(),
        "execution-role",
        &named,
    )?);
    if let Some(task_role) = &desired.task_role {
        steps.push(role_step(Kind::TaskRole, task_role, observed.task_role.as_ref(), "task-role", &named)?);
    }
    let log_group = &desired.log_group;
    steps.push(shared_step(Kind::LogGroup, &log_group.name, observed.log_group.as_ref(), |s| {
        let mut c = Vec::new();
        field(&mut c, "retention-days", &s.retention_days, &Some(log_group.retention_days));
        c
    }));
    let cluster = &desired.cluster;
    steps.push(shared_step(Kind::Cluster, &cluster.name, observed.cluster.as_ref(), |s| {
        let missing: Vec<&String> =
            cluster.capacity_providers.iter().filter(|p| !s.capacity_providers.contains(p)).collect();
        let mut c = Vec::new();
        if !missing.is_empty() {
            let mut to = s.capacity_providers.clone();
            to.extend(missing.into_iter().cloned());
            field(&mut c, "capacity-providers", &s.capacity_providers, &to);
        }
        c
    }));
    if let Some(Found { state, managed: false }) = &observed.cluster
        && desired.service.spot
        && !state.capacity_providers.iter().any(|p| p == "FARGATE_SPOT")
    {
        warnings.push(format!(
            "cluster `{}` was not created by cargo-ecs and lacks the FARGATE_SPOT capacity provider that `spot = true` needs",
            state.name
        ));
    }
    if let Some(sg) = &desired.lb_security_group {
        steps.push(step(
            Kind::LoadBalancerSecurityGroup,
            &sg.name,
            "load-balancer.name",
            false,
            observed.lb_security_group.as_ref(),
            |s| {
                // Shared by the services of the load balancer: ports others opened stay open.
                let mut wanted = s.ingress.clone();
                wanted.extend(sg.ingress.iter().filter(|r| !s.ingress.contains(r)).cloned());
                wanted.sort();
                let mut c = Vec::new();
                field(&mut c, "ingress", &s.ingress, &wanted);
                c
            },
        )?);
    }
    let sg = &desired.service_security_group;
    steps.push(step(
        Kind::ServiceSecurityGroup,
        &sg.name,
        "service",
        false,
        observed.service_security_group.as_ref(),
        |s| {
            let mut c = Vec::new();
            field(&mut c, "ingress", &s.ingress, &sg.ingress);
            c
        },
    )?);
    let lb_created = match &desired.load_balancer {
        Some(lb) => {
            let zones: std::collections::BTreeSet<&str> =
                desired.network.subnets.iter().map(|s| s.availability_zone.as_str()).collect();
            if zones.len() < 2 {
                return Err(PlanError::TooFewZones { found: zones.into_iter().collect::<Vec<_>>().join(", ") });
            }
            let found = observed.load_balancer.as_ref();
            if let Some(found) = found
                && (found.state.scheme != "internet-facing" || found.state.kind != "application")
            {
                return Err(PlanError::NeedsReplacement {
                    kind: Kind::LoadBalancer,
                    name: lb.name.clone(),
                    field: "type".to_owned(),
                    from: format!("{} {}", found.state.scheme, found.state.kind),
                    to: "internet-facing application".to_owned(),
                    setting: "load-balancer.name",
                });
            }
            let lb_sg_id = observed.lb_security_group.as_ref().map(|f| f.state.id.clone());
            let lb_step =
                step(Kind::LoadBalancer, &lb.name, "load-balancer.name", named("load-balancer.name"), found, |s| {
                    let mut c = Vec::new();
                    field(&mut c, "subnets", &s.subnets, &lb.subnets);
                    let wanted = vec![lb_sg_id.clone().unwrap_or_else(|| format!("(new group {})", lb.security_group))];
                    field(&mut c, "security-groups", &s.security_groups, &wanted);
                    if found.is_some_and(|f| f.managed) && !s.users.contains(&lb.user) {
                        let mut users = s.users.clone();
                        users.push(lb.user.clone());
                        users.sort();
                        field(&mut c, "users", &s.users, &users);
                    }
                    c
                })?;
            let created = lb_step.action == Action::Create;
            steps.push(lb_step);
            created
        }
        None => false,
    };
    if let Some(tg) = &desired.target_group {
        if let Some(found) = &observed.target_group {
            let s = &found.state;
            let fixed = [
                ("port", s.port.to_string(), tg.port.to_string()),
                ("protocol", s.protocol.clone(), "HTTP".to_owned()),
                ("target-type", s.target_type.clone(), "ip".to_owned()),
                ("vpc", s.vpc_id.clone(), tg.vpc_id.clone()),
            ];
            if let Some((field, from, to)) = fixed.into_iter().find(|(_, from, to)| from != to) {
                return Err(PlanError::NeedsReplacement {
                    kind: Kind::TargetGroup,
                    name: tg.name.clone(),
                    field: field.to_owned(),
                    from,
                    to,
                    setting: "load-balancer.target-group",
                });
            }
        }
        steps.push(step(
            Kind::TargetGroup,
            &tg.name,
            "load-balancer.target-group",
            named("load-balancer.target-group"),
            observed.target_group.as_ref(),
            |s| {
                let mut c = Vec::new();
                field(&mut c, "health-check", &s.health_check, &tg.health_check);
                field(&mut c, "deregistration-delay", &s.deregistration_delay, &tg.deregistration_delay);
                c
            },
        )?);
    }
    let listeners = if lb_created { &[][..] } else { &observed.listeners[..] };
    let rules = if lb_created { &[][..] } else { &observed.rules[..] };
    if let (Some(lb), Some(tg)) = (&desired.load_balancer, &desired.target_group) {
        let catch_all = desired.rule.is_none();
        if catch_all
            && let Some(other) = listeners.iter().find_map(|l| match &l.action {
                ListenerAction::Forward(other) if *other != tg.name => Some(other.clone()),
                _ => None,
            })
        {
            return Err(PlanError::CatchAllTaken { load_balancer: lb.name.clone(), other });
        }
        for listener in &desired.listeners {
            let existing = listeners.iter().find(|l| l.port == listener.port);
            steps.push(listener_step(listener, existing, &tg.name));
        }
        steps.extend(rule_steps(desired.rule.as_ref(), rules, &tg.name, &lb.name)?);
    }
    let task_definition_step = task_definition_step(desired, observed);
    let new_revision = task_definition_step.action == Action::Create;
    steps.push(task_definition_step);
    steps.push(service_step(desired, observed, new_revision, force, &named)?);
    if let Some(record) = &desired.record {
        let target = match (&observed.load_balancer, lb_created) {
            (Some(found), false) => found.state.dns_name.to_ascii_lowercase(),
            _ => format!("(new load balancer {})", record.load_balancer),
        };
        let kind = record.kind;
        let step = match &observed.record {
            None => new_step(Kind::DnsRecord, &record.name, Action::Create, Vec::new()),
            Some(s) => {
                let mut c = Vec::new();
                field(&mut c, "type", &s.kind, &kind);
                field(&mut c, "target", &s.target, &target);
                let action = if c.is_empty() { Action::Keep } else { Action::Update };
                new_step(Kind::DnsRecord, &record.name, action, c)
            }
        };
        steps.push(step);
    }
    if !desired.service.assign_public_ip && desired.network.subnets.iter().all(|s| s.public) {
        warnings.push(
            "the tasks get no public IP, yet their subnets route to the internet only through an internet gateway: \
             they cannot pull the image from ECR. Set `assign-public-ip = true`, or use private subnets with a NAT \
             gateway or ECR VPC endpoints"
                .to_owned(),
        );
    }
    Ok(Plan { service: desired.service_name.clone(), steps, warnings })
}

/// The one pattern every managed resource follows: absent → create; present but not ours and not named by the
/// user → refuse; present → update exactly the fields that differ, or keep.
fn step<S>(
    kind: Kind,
    name: &str,
    setting: &'static str,
    named: bool,
    found: Option<&Found<S>>,
    changes: impl FnOnce(&S) -> Vec<Change>,
) -> Result<Step, PlanError> {
    match found {
        None => Ok(new_step(kind, name, Action::Create, Vec::new())),
        Some(found) if !found.managed && !named => Err(PlanError::NotManaged { kind, name: name.to_owned(), setting }),
        Some(found) => {
            let c = changes(&found.state);
            let action = if c.is_empty() { Action::Keep } else { Action::Update };
            Ok(new_step(kind, name, action, c))
        }
    }
}

/// Resources a service may share with what the user made (log group, cluster): one that cargo-ecs did not
/// create is used as it is, never changed.
fn shared_step<S>(kind: Kind, name: &str, found: Option<&Found<S>>, changes: impl FnOnce(&S) -> Vec<Change>) -> Step {
    match found {
        Some(found) if !found.managed => {
            let mut s = new_step(kind, name, Action::Keep, Vec::new());
            s.note = Some("not created by cargo-ecs: used as it is".to_owned());
            s
        }
        other => step(kind, name, "", true, other, changes)
            .unwrap_or_else(|_| new_step(kind, name, Action::Keep, Vec::new())),
    }
}

fn role_step(
    kind: Kind,
    role: &RoleRef,
    found: Option<&Found<RoleState>>,
    setting: &'static str,
    named: &dyn Fn(&str) -> bool,
) -> Result<Step, PlanError> {
    match role {
        RoleRef::External(arn) => {
            let mut s = new_step(kind, arn, Action::Keep, Vec::new());
            s.note = Some("given as an ARN: used as it is".to_owned());
            Ok(s)
        }
        RoleRef::Managed(spec) => step(kind, &spec.name, setting, named(setting), found, |s| role_changes(spec, s)),
    }
}

fn role_changes(spec: &RoleSpec, state: &RoleState) -> Vec<Change> {
    let mut c = Vec::new();
    field(&mut c, "trusts-ecs-tasks", &state.trusts_ecs_tasks, &true);
    field(&mut c, "managed-policies", &state.managed_policies, &spec.managed_policies);
    field(&mut c, "secrets-policy", &state.inline_policy, &spec.inline_policy);
    c
}

fn listener_step(spec: &ListenerSpec, existing: Option<&ListenerState>, target_group: &str) -> Step {
    let name = format!("{} :{}", spec.protocol, spec.port);
    let Some(s) = existing else { return new_step(Kind::Listener, &name, Action::Create, Vec::new()) };
    let mut c = Vec::new();
    field(&mut c, "protocol", &s.protocol, &spec.protocol);
    if let Some(certificate) = &spec.certificate_arn
        && !s.certificates.contains(certificate)
    {
        let mut all = s.certificates.clone();
        all.push(certificate.clone());
        all.sort();
        field(&mut c, "certificates", &s.certificates, &all);
    }
    field(&mut c, "tls-policy", &s.ssl_policy, &spec.ssl_policy);
    if default_action_changes(spec, &s.action, target_group) {
        field(&mut c, "action", &s.action.describe(), &spec.action.describe());
    }
    let action = if c.is_empty() { Action::Keep } else { Action::Update };
    new_step(Kind::Listener, &name, action, c)
}

/// Whether the listener's default action `now` must become the spec's. An owned default is enforced; a neutral one
/// replaces only what no service owns: a stale forward to the service's own target group, or a 404 where a redirect
/// to HTTPS is wanted. Another service's forward and actions cargo-ecs does not make are left alone.
fn default_action_changes(spec: &ListenerSpec, now: &ListenerAction, target_group: &str) -> bool {
    if *now == spec.action {
        return false;
    }
    match spec.claim {
        Claim::Owned => true,
        Claim::Neutral => match now {
            ListenerAction::Forward(tg) => tg == target_group,
            ListenerAction::NotFound => spec.action == ListenerAction::RedirectToHttps,
            ListenerAction::RedirectToHttps | ListenerAction::Other(_) => false,
        },
    }
}

/// The steps of the service's listener rules: its rule created, kept, or changed in place (conditions, and the
/// priority when it left its band), and any other rule forwarding to its target group deleted (a route that moved
/// to another listener, a duplicate).
fn rule_steps(
    wanted: Option<&RuleSpec>,
    rules: &[RuleState],
    target_group: &str,
    load_balancer: &str,
) -> Result<Vec<Step>, PlanError> {
    let forward = ListenerAction::Forward(target_group.to_owned());
    let ours: Vec<&RuleState> = rules.iter().filter(|r| r.action == forward).collect();
    let mut steps = Vec::new();
    let mut kept = None;
    if let Some(spec) = wanted {
        if let Some(other) =
            rules.iter().find(|r| r.port == spec.port && r.action != forward && r.route.as_ref() == Some(&spec.route))
        {
            return Err(PlanError::RouteTaken {
                load_balancer: load_balancer.to_owned(),
                port: spec.port,
                route: spec.route.to_string(),
                other: other.action.describe(),
            });
        }
        let name = format!(":{} {}", spec.port, spec.route);
        let existing = ours
            .iter()
            .find(|r| r.port == spec.port && r.route.as_ref() == Some(&spec.route))
            .or_else(|| ours.iter().find(|r| r.port == spec.port));
        let on_listener: Vec<u32> = rules.iter().filter(|r| r.port == spec.port).map(|r| r.priority).collect();
        let band = spec.route.band();
        let mut step = match existing {
            None => {
                let mut s = new_step(Kind::ListenerRule, &name, Action::Create, Vec::new());
                s.priority = Some(free_priority(band, &on_listener, target_group));
                s
            }
            Some(rule) => {
                let mut c = Vec::new();
                field(&mut c, "route", &rule.route, &Some(&spec.route));
                let mut s = new_step(Kind::ListenerRule, &name, Action::Keep, Vec::new());
                if !(band..band + RULES_PER_BAND).contains(&rule.priority) {
                    let priority = free_priority(band, &on_listener, target_group);
                    field(&mut c, "priority", &rule.priority, &priority);
                    s.priority = Some(priority);
                }
                s.action = if c.is_empty() { Action::Keep } else { Action::Update };
                s.changes = c;
                s.arn = Some(rule.arn.clone());
                kept = Some(rule.arn.clone());
                s
            }
        };
        if step.action == Action::Keep {
            step.note = Some(format!("priority {}", existing.map_or(0, |r| r.priority)));
        }
        steps.push(step);
    }
    for stale in ours.into_iter().filter(|r| Some(&r.arn) != kept.as_ref()) {
        let route = stale.route.as_ref().map_or_else(|| "other conditions".to_owned(), ToString::to_string);
        let mut s = new_step(Kind::ListenerRule, &format!(":{} {route}", stale.port), Action::Delete, Vec::new());
        s.arn = Some(stale.arn.clone());
        steps.push(s);
    }
    Ok(steps)
}

/// A priority of `band` that no rule of the listener has, for the rule forwarding to `target_group`: the search
/// starts at a slot derived from the target group's name and goes up, wrapping within the band (a full band
/// spills past its end). Routes of one band never overlap, so their order within it does not matter; starting
/// from different slots keeps services deployed at the same time from all asking for the same priority.
#[must_use]
pub fn free_priority(band: u32, taken: &[u32], target_group: &str) -> u32 {
    let start = fnv1a(target_group) % RULES_PER_BAND;
    (0..RULES_PER_BAND)
        .map(|i| band + (start + i) % RULES_PER_BAND)
        .chain(band + RULES_PER_BAND..)
        .find(|p| !taken.contains(p))
        .unwrap_or(band)
}

/// FNV-1a, 32 bits: a hash that stays the same across Rust versions and runs.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193))
}

fn task_definition_step(desired: &Desired, observed: &Observed) -> Step {
    let spec = &desired.task_definition;
    let family = &spec.family;
    let Some(latest) = &observed.task_definition else {
        return new_step(Kind::TaskDefinition, &format!("{family}:1"), Action::Create, Vec::new());
    };
    let next = format!("{family}:{}", latest.revision + 1);
    let Some(current) = &latest.spec else {
        let mut s = new_step(Kind::TaskDefinition, &next, Action::Create, Vec::new());
        s.note = Some(format!("revision {} has a shape cargo-ecs does not make", latest.revision));
        return s;
    };
    let mut c = Vec::new();
    field(&mut c, "cpu", &current.cpu, &spec.cpu);
    field(&mut c, "memory", &current.memory, &spec.memory);
    field(&mut c, "cpu-architecture", &current.cpu_architecture, &spec.cpu_architecture);
    field(&mut c, "execution-role", &current.execution_role_arn, &spec.execution_role_arn);
    field(&mut c, "task-role", &current.task_role_arn, &spec.task_role_arn);
    let (now, want) = (&current.container, &spec.container);
    field(&mut c, "container.name", &now.name, &want.name);
    field(&mut c, "container.image", &now.image, &want.image);
    field(&mut c, "container.port", &now.port, &want.port);
    field(&mut c, "container.environment", &now.environment, &want.environment);
    field(&mut c, "container.secrets", &now.secrets, &want.secrets);
    field(
        &mut c,
        "container.logs",
        &(&now.log_group, &now.log_region, &now.log_stream_prefix),
        &(&want.log_group, &want.log_region, &want.log_stream_prefix),
    );
    if c.is_empty() {
        new_step(Kind::TaskDefinition, &format!("{family}:{}", latest.revision), Action::Keep, c)
    } else {
        new_step(Kind::TaskDefinition, &next, Action::Create, c)
    }
}

fn service_step(
    desired: &Desired,
    observed: &Observed,
    new_revision: bool,
    force: bool,
    named: &dyn Fn(&str) -> bool,
) -> Result<Step, PlanError> {
    let spec = &desired.service;
    let latest = observed.task_definition.as_ref().map(|t| t.arn.clone());
    let mut step = step(Kind::Service, &spec.name, "service", named("service"), observed.service.as_ref(), |s| {
        let mut c = Vec::new();
        let wanted_revision =
            if new_revision { format!("{} (new revision)", spec.family) } else { latest.clone().unwrap_or_default() };
        field(&mut c, "task-definition", &s.task_definition, &wanted_revision);
        if let Some(count) = spec.desired_count {
            field(&mut c, "desired-count", &s.desired_count, &count);
        }
        field(&mut c, "spot", &s.spot, &spec.spot);
        field(&mut c, "subnets", &s.subnets, &spec.subnets);
        field(&mut c, "security-groups", &s.security_groups, &spec.security_groups);
        field(&mut c, "assign-public-ip", &s.assign_public_ip, &spec.assign_public_ip);
        field(&mut c, "load-balancer", &s.load_balancer, &spec.load_balancer);
        field(&mut c, "health-check-grace-period", &s.health_check_grace_period, &spec.health_check_grace_period);
        field(&mut c, "minimum-healthy-percent", &s.minimum_healthy_percent, &spec.minimum_healthy_percent);
        field(&mut c, "maximum-percent", &s.maximum_percent, &spec.maximum_percent);
        field(&mut c, "circuit-breaker", &s.circuit_breaker, &spec.circuit_breaker);
        c
    })?;
    if force && step.action == Action::Keep {
        step.action = Action::Update;
        step.note = Some("--force: a new deployment of the same revision".to_owned());
    }
    Ok(step)
}

fn new_step(kind: Kind, name: &str, action: Action, changes: Vec<Change>) -> Step {
    Step { kind, name: name.to_owned(), action, changes, note: None, arn: None, priority: None }
}

/// Records a change of `name` when `from` and `to` differ, both shown as JSON.
fn field<A: Serialize + ?Sized, B: Serialize + ?Sized>(changes: &mut Vec<Change>, name: &str, from: &A, to: &B) {
    let (from, to) = (json(from), json(to));
    if from != to {
        changes.push(Change { field: name.to_owned(), from, to });
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            writeln!(
                f,
                "No changes: service {} is up to date ({} resources checked).",
                self.service,
                self.steps.len()
            )?;
        } else {
            writeln!(f, "Plan for service {}:", self.service)?;
        }
        for step in &self.steps {
            let sign = match step.action {
                Action::Create => "+",
                Action::Update => "~",
                Action::Delete => "-",
                Action::Keep => "=",
            };
            let verb = match (step.action, step.kind) {
                (Action::Create, Kind::TaskDefinition) => "register",
                (Action::Create, _) => "create",
                (Action::Update, _) => "update",
                (Action::Delete, _) => "delete",
                (Action::Keep, _) => "unchanged",
            };
            write!(f, "  {sign} {} {} ({verb})", step.kind.label(), step.name)?;
            if let (Some(priority), Action::Create | Action::Update) = (step.priority, step.action) {
                write!(f, " at priority {priority}")?;
            }
            if let Some(note) = &step.note {
                write!(f, ": {note}")?;
            }
            writeln!(f)?;
            for change in &step.changes {
                writeln!(f, "      {}: {} -> {}", change.field, change.from, change.to)?;
            }
        }
        let count = |a: Action| self.steps.iter().filter(|s| s.action == a).count();
        if !self.is_empty() {
            write!(f, "{} to create, {} to update, ", count(Action::Create), count(Action::Update))?;
            if count(Action::Delete) > 0 {
                write!(f, "{} to delete, ", count(Action::Delete))?;
            }
            writeln!(f, "{} unchanged.", count(Action::Keep))?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        Ok(())
    }
}
