//! The planner with plain data: settings in, plans out, no AWS.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::json;

use super::desired::{Lookups, desired};
use super::model::*;
use super::observed::Observed;
use super::plan::{Action, Kind, PlanError, plan};
use crate::config::{PackageInfo, Settings, Source, from_metadata, resolve};

pub(super) const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:aaaa";

pub(super) fn settings(package_ecs: &serde_json::Value) -> Settings {
    let package = PackageInfo::with_one_bin("app", "/w/app/Cargo.toml");
    let source = Source::PackageMetadata { file: package.manifest_path.clone() };
    let layers = from_metadata(package_ecs, source.clone(), |_| source.clone()).expect("valid metadata");
    resolve(&package, None, &[layers.base], Path::new("/w/app")).expect("valid settings").settings
}

pub(super) fn lookups(certificate: bool, zone: bool) -> Lookups {
    let subnet = |id: &str, az: &str| SubnetInfo { id: id.to_owned(), availability_zone: az.to_owned(), public: true };
    Lookups {
        account: "123456789012".to_owned(),
        region: "us-east-1".to_owned(),
        network: Network {
            vpc_id: "vpc-1".to_owned(),
            subnets: vec![subnet("subnet-a", "us-east-1a"), subnet("subnet-b", "us-east-1b")],
        },
        certificate_arn: certificate.then(|| "arn:aws:acm:us-east-1:123456789012:certificate/c".to_owned()),
        zone: zone.then(|| HostedZone { id: "Z1".to_owned(), name: "example.com".to_owned(), private: false }),
    }
}

pub(super) fn full_settings() -> Settings {
    settings(&json!({
        "port": 8080, "health-check-path": "/health", "assign-public-ip": true,
        "load-balancer": { "certificate": "*.example.com" }, "dns": { "zone": "example.com", "name": "api" }
    }))
}

pub(super) fn managed<T>(state: T) -> Found<T> {
    Found { state, managed: true }
}

/// What AWS holds after a deploy of `d` (as the AWS readers would report it).
pub(super) fn after_deploy(d: &super::desired::Desired) -> Observed {
    let role = |r: &RoleRef| match r {
        RoleRef::Managed(spec) => Some(managed(RoleState {
            name: spec.name.clone(),
            arn: spec.arn.clone(),
            trusts_ecs_tasks: true,
            managed_policies: spec.managed_policies.clone(),
            inline_policy: spec.inline_policy.clone(),
        })),
        RoleRef::External(_) => None,
    };
    let sg = |spec: &SecurityGroupSpec, id: &str| {
        managed(SecurityGroupState {
            id: id.to_owned(),
            name: spec.name.clone(),
            vpc_id: spec.vpc_id.clone(),
            ingress: spec.ingress.clone(),
        })
    };
    let lb = d.load_balancer.as_ref().map(|lb| {
        managed(LoadBalancerState {
            name: lb.name.clone(),
            arn: "arn:lb".to_owned(),
            dns_name: "App-123.us-east-1.elb.amazonaws.com".to_owned(),
            canonical_hosted_zone_id: "ZLB".to_owned(),
            scheme: "internet-facing".to_owned(),
            kind: "application".to_owned(),
            subnets: lb.subnets.clone(),
            security_groups: vec!["sg-lb".to_owned()],
            users: vec![lb.user.clone()],
        })
    });
    let td_arn = format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{}:3", d.task_definition.family);
    let mut td_spec = d.task_definition.clone();
    td_spec.tags.clear();
    Observed {
        execution_role: role(&d.execution_role),
        task_role: d.task_role.as_ref().and_then(role),
        log_group: Some(managed(LogGroupState {
            name: d.log_group.name.clone(),
            retention_days: Some(d.log_group.retention_days),
        })),
        cluster: Some(managed(ClusterState {
            name: d.cluster.name.clone(),
            arn: "arn:cluster".to_owned(),
            status: "ACTIVE".to_owned(),
            capacity_providers: d.cluster.capacity_providers.clone(),
        })),
        lb_security_group: d.lb_security_group.as_ref().map(|s| sg(s, "sg-lb")),
        service_security_group: Some(sg(&d.service_security_group, "sg-tasks")),
        load_balancer: lb,
        target_group: d.target_group.as_ref().map(|tg| {
            managed(TargetGroupState {
                name: tg.name.clone(),
                arn: "arn:tg".to_owned(),
                vpc_id: tg.vpc_id.clone(),
                port: tg.port,
                protocol: "HTTP".to_owned(),
                target_type: "ip".to_owned(),
                health_check: tg.health_check.clone(),
                deregistration_delay: tg.deregistration_delay,
                load_balancers: vec!["arn:lb".to_owned()],
            })
        }),
        listeners: d
            .listeners
            .iter()
            .map(|l| ListenerState {
                arn: format!("arn:listener/{}", l.port),
                port: l.port,
                protocol: l.protocol.clone(),
                certificate_arn: l.certificate_arn.clone(),
                certificates: l.certificate_arn.iter().cloned().collect(),
                ssl_policy: l.ssl_policy.clone(),
                action: l.action.clone(),
            })
            .collect(),
        rules: d
            .rule
            .iter()
            .map(|r| RuleState {
                arn: "arn:rule/1".to_owned(),
                port: r.port,
                priority: r.route.band(),
                route: Some(r.route.clone()),
                action: ListenerAction::Forward(r.target_group.clone()),
            })
            .collect(),
        task_definition: Some(TaskDefinitionState { arn: td_arn.clone(), revision: 3, spec: Some(td_spec) }),
        service: Some(managed(ServiceState {
            name: d.service.name.clone(),
            arn: "arn:service".to_owned(),
            status: "ACTIVE".to_owned(),
            task_definition: td_arn,
            desired_count: 1,
            running_count: 1,
            pending_count: 0,
            spot: d.service.spot,
            subnets: d.service.subnets.clone(),
            security_groups: d.service.security_groups.clone(),
            assign_public_ip: d.service.assign_public_ip,
            load_balancer: d.service.load_balancer.clone(),
            health_check_grace_period: d.service.health_check_grace_period,
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            circuit_breaker: true,
            deployments: Vec::new(),
            events: Vec::new(),
        })),
        record: d.record.as_ref().map(|r| RecordState {
            name: r.name.clone(),
            kind: r.kind,
            target: "app-123.us-east-1.elb.amazonaws.com".to_owned(),
        }),
    }
}

pub(super) fn kinds_and_actions(p: &super::plan::Plan) -> Vec<(Kind, Action)> {
    p.steps.iter().map(|s| (s.kind, s.action)).collect()
}

#[test]
fn a_first_deploy_creates_every_resource_in_dependency_order() {
    let d = desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::new());
    let p = plan(&d, &Observed::default(), false).expect("plan");
    use Kind::*;
    assert_eq!(
        kinds_and_actions(&p),
        [
            ExecutionRole,
            LogGroup,
            Cluster,
            LoadBalancerSecurityGroup,
            ServiceSecurityGroup,
            LoadBalancer,
            TargetGroup,
            Listener,
            Listener,
            ListenerRule,
            TaskDefinition,
            Service,
            DnsRecord
        ]
        .into_iter()
        .map(|k| (k, Action::Create))
        .collect::<Vec<_>>()
    );
    assert_eq!(p.step(TaskDefinition).map(|s| s.name.as_str()), Some("app:1"));
    let names: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"HTTP :80") && names.contains(&"HTTPS :443") && names.contains(&"api.example.com"),
        "{names:?}"
    );
    assert!(p.to_string().contains("+ target group app (create)"), "{p}");
}

#[test]
fn the_desired_stack_is_wired_as_the_seed_steps_and_least_privilege_want() {
    let d = desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::new());
    assert_eq!(
        d.lb_security_group.as_ref().map(|s| s.ingress.clone()),
        Some(vec![Ingress { port: 80, from: Peer::Anywhere }, Ingress { port: 443, from: Peer::Anywhere },])
    );
    assert_eq!(d.service_security_group.ingress, vec![Ingress { port: 8080, from: Peer::Group("app-lb".to_owned()) }]);
    assert_eq!(d.listeners[0].action, ListenerAction::RedirectToHttps);
    assert_eq!(d.listeners[1].ssl_policy.as_deref(), Some(TLS_POLICY));
    // With a DNS name the service is reached by a host-header rule on HTTPS; the defaults are the neutral ones.
    assert_eq!((&d.listeners[0].claim, &d.listeners[1].claim), (&Claim::Neutral, &Claim::Neutral));
    assert_eq!(d.listeners[1].action, ListenerAction::NotFound);
    let rule = d.rule.as_ref().expect("a rule");
    assert_eq!(
        (rule.port, rule.route.to_string(), rule.target_group.as_str()),
        (443, "host api.example.com".to_owned(), "app")
    );
    assert_eq!(d.task_definition.container.image, IMAGE);
    assert_eq!(d.task_definition.cpu_architecture, "ARM64");
    assert_eq!(d.task_definition.execution_role_arn, "arn:aws:iam::123456789012:role/app-execution");
    assert_eq!(d.service.load_balancer.as_ref().map(|l| (l.target_group.as_str(), l.port)), Some(("app", 8080)));
    assert_eq!(d.target_group.as_ref().map(|t| t.health_check.path.as_str()), Some("/health"));
    assert_eq!(d.service.tags.get(SERVICE_TAG).map(String::as_str), Some("app"));
    let no_lb = settings(&json!({ "load-balancer": { "enabled": false } }));
    let d = desired(&no_lb, &lookups(false, false), IMAGE, BTreeSet::new());
    assert!(d.load_balancer.is_none() && d.lb_security_group.is_none() && d.listeners.is_empty());
    assert_eq!(d.service_security_group.ingress, vec![Ingress { port: 80, from: Peer::Anywhere }]);
}

#[test]
fn nothing_changed_means_an_empty_plan() {
    let d = desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::new());
    let p = plan(&d, &after_deploy(&d), false).expect("plan");
    assert!(p.is_empty(), "{p}");
    assert!(p.to_string().starts_with("No changes: service app is up to date"), "{p}");
}

#[test]
fn a_memory_change_registers_one_revision_and_updates_the_service_only() {
    let before = desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::new());
    let mut s = full_settings();
    s.memory = 1024;
    let after = desired(&s, &lookups(true, true), IMAGE, BTreeSet::new());
    let p = plan(&after, &after_deploy(&before), false).expect("plan");
    let changed: Vec<(Kind, Action)> = p.changes().map(|s| (s.kind, s.action)).collect();
    assert_eq!(changed, vec![(Kind::TaskDefinition, Action::Create), (Kind::Service, Action::Update)]);
    let td = p.step(Kind::TaskDefinition).expect("td");
    assert_eq!(td.name, "app:4");
    assert_eq!(
        (td.changes[0].field.as_str(), td.changes[0].from.as_str(), td.changes[0].to.as_str()),
        ("memory", "512", "1024")
    );
    let service = p.step(Kind::Service).expect("service");
    assert_eq!(service.changes.len(), 1, "{service:?}");
    assert_eq!(service.changes[0].field, "task-definition");
}

#[test]
fn a_new_image_is_a_new_revision() {
    let before = desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::new());
    let after = desired(&full_settings(), &lookups(true, true), &IMAGE.replace("aaaa", "bbbb"), BTreeSet::new());
    let p = plan(&after, &after_deploy(&before), false).expect("plan");
    let td = p.step(Kind::TaskDefinition).expect("td");
    assert_eq!((td.action, td.changes[0].field.as_str()), (Action::Create, "container.image"));
}

#[test]
fn settings_changes_update_exactly_what_they_touch() {
    let before = desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::new());
    let mut s = full_settings();
    s.health_check_path = "/ready".to_owned();
    s.log_retention_days = 7;
    s.desired_count = Some(3);
    let p =
        plan(&desired(&s, &lookups(true, true), IMAGE, BTreeSet::new()), &after_deploy(&before), false).expect("plan");
    let changed: Vec<(Kind, Vec<String>)> =
        p.changes().map(|s| (s.kind, s.changes.iter().map(|c| c.field.clone()).collect())).collect();
    assert_eq!(
        changed,
        vec![
            (Kind::LogGroup, vec!["retention-days".to_owned()]),
            (Kind::TargetGroup, vec!["health-check".to_owned()]),
            (Kind::Service, vec!["desired-count".to_owned()]),
        ]
    );
}

#[test]
fn an_unset_desired_count_keeps_what_autoscaling_chose() {
    let d = desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::new());
    let mut observed = after_deploy(&d);
    if let Some(service) = &mut observed.service {
        service.state.desired_count = 7;
    }
    assert!(plan(&d, &observed, false).expect("plan").is_empty());
}

#[test]
fn force_starts_a_new_deployment_of_the_same_revision() {
    let d = desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::new());
    let p = plan(&d, &after_deploy(&d), true).expect("plan");
    let changed: Vec<Kind> = p.changes().map(|s| s.kind).collect();
    assert_eq!(changed, vec![Kind::Service]);
    assert!(p.step(Kind::Service).and_then(|s| s.note.clone()).is_some_and(|n| n.contains("--force")));
}

#[test]
fn what_cargo_ecs_did_not_create_is_not_touched_unless_named() {
    let d = desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::new());
    let mut observed = after_deploy(&d);
    if let Some(lb) = &mut observed.load_balancer {
        lb.managed = false;
    }
    let err = plan(&d, &observed, false).expect_err("refused");
    assert_eq!(err.to_string(), "load balancer `app` exists and was not created by cargo-ecs");
    assert!(err.help().contains("set `load-balancer.name` to another name"), "{}", err.help());
    let named =
        desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::from(["load-balancer.name".to_owned()]));
    assert!(plan(&named, &observed, false).is_ok());

    // A log group or cluster made by hand is used as it is, never changed.
    let mut observed = after_deploy(&d);
    if let Some(group) = &mut observed.log_group {
        group.managed = false;
        group.state.retention_days = None;
    }
    let p = plan(&d, &observed, false).expect("plan");
    assert!(p.is_empty(), "{p}");
    assert!(p.step(Kind::LogGroup).and_then(|s| s.note.clone()).is_some_and(|n| n.contains("used as it is")));
}

#[test]
fn what_aws_cannot_change_in_place_is_an_error_with_a_way_out() {
    let d = desired(&full_settings(), &lookups(true, true), IMAGE, BTreeSet::new());
    let mut observed = after_deploy(&d);
    if let Some(tg) = &mut observed.target_group {
        tg.state.port = 80;
    }
    let err = plan(&d, &observed, false).expect_err("replacement");
    assert!(matches!(err, PlanError::NeedsReplacement { ref field, .. } if field == "port"), "{err}");
    assert!(err.help().contains("load-balancer.target-group"));
}

#[test]
fn an_alb_needs_two_zones_and_tasks_need_a_way_to_the_registry() {
    let mut l = lookups(false, false);
    l.network.subnets.truncate(1);
    let err =
        plan(&desired(&full_settings(), &l, IMAGE, BTreeSet::new()), &Observed::default(), false).expect_err("zones");
    assert!(matches!(err, PlanError::TooFewZones { .. }));
    let private_ip = settings(&json!({}));
    let p = plan(&desired(&private_ip, &lookups(false, false), IMAGE, BTreeSet::new()), &Observed::default(), false)
        .expect("plan");
    assert!(p.warnings.iter().any(|w| w.contains("cannot pull the image from ECR")), "{:?}", p.warnings);
}

#[test]
fn a_role_given_as_an_arn_is_used_as_it_is() {
    let s = settings(&json!({ "execution-role": "arn:aws:iam::123456789012:role/existing" }));
    let d = desired(&s, &lookups(false, false), IMAGE, BTreeSet::new());
    assert_eq!(d.task_definition.execution_role_arn, "arn:aws:iam::123456789012:role/existing");
    let p = plan(&d, &Observed::default(), false).expect("plan");
    let role = p.step(Kind::ExecutionRole).expect("role step");
    assert_eq!(role.action, Action::Keep);
}

#[test]
fn secrets_reach_the_task_definition_and_the_execution_role_policy() {
    let s = settings(&json!({ "secrets": { "DB_PASSWORD": "/prod/db" } }));
    let d = desired(&s, &lookups(false, false), IMAGE, BTreeSet::new());
    assert_eq!(
        d.task_definition.container.secrets["DB_PASSWORD"],
        "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db"
    );
    let RoleRef::Managed(role) = &d.execution_role else { panic!("managed role") };
    assert!(role.inline_policy.as_deref().is_some_and(|p| p.contains("parameter/prod/db")), "{role:?}");
}
