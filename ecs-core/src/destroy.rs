//! `cargo ecs destroy`: delete, in reverse dependency order, only what cargo-ecs created for one service.
//!
//! Observe (the deploy's read-only [`crate::stack::observe::observe`] plus a few reads of what is shared) →
//! [`teardown`] (pure: what to delete and what to keep, and why) → [`execute`] (one deletion after the other).
//! Only resources carrying the managed tag are deleted; the cluster and the load balancer only when no other
//! service uses them; the ECR repository only with `--purge-images`. Every deleter treats "already gone" as done,
//! so a second destroy finds nothing to delete and an interrupted one finishes on the next run.
//!
//! Task definitions: when the service is managed, or the family's latest ACTIVE revision carries the managed tag,
//! every ACTIVE revision of the family is deregistered (revisions cannot be deleted, only made INACTIVE).

use serde::Serialize;

use crate::aws::{self, Clients};
use crate::config::Settings;
use crate::error::Result;
use crate::registry::ecr;
use crate::report::Reporter;
use crate::stack::model::ListenerAction;
use crate::stack::observe::{Observation, observe};

/// One resource to delete, with what the deleter needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Deletion {
    /// The DNS record pointing at the load balancer.
    Record {
        /// Hosted zone id.
        zone_id: String,
        /// Record name.
        name: String,
    },
    /// The ECS service: scaled to 0, then deleted with force.
    Service {
        /// Cluster name.
        cluster: String,
        /// Service name.
        name: String,
    },
    /// One ACTIVE task definition revision, deregistered.
    TaskDefinition {
        /// Revision ARN.
        arn: String,
    },
    /// A listener of the load balancer.
    Listener {
        /// ARN.
        arn: String,
        /// Port.
        port: u16,
        /// Protocol.
        protocol: String,
    },
    /// A listener rule of the service, on a load balancer other services keep using.
    Rule {
        /// ARN.
        arn: String,
        /// Port of its listener.
        port: u16,
        /// What it matched.
        route: String,
    },
    /// A listener whose default action forwarded to the service (it was the catch-all): it gets the neutral
    /// default back (404, or the redirect to HTTPS on :80 when the load balancer serves HTTPS).
    ListenerDefault {
        /// ARN.
        arn: String,
        /// Port.
        port: u16,
        /// Protocol.
        protocol: String,
        /// The action it gets.
        action: ListenerAction,
    },
    /// The service's user tag on a load balancer other services keep using.
    UserTag {
        /// The load balancer's ARN.
        arn: String,
        /// Its name.
        name: String,
        /// The service.
        service: String,
    },
    /// The target group.
    TargetGroup {
        /// ARN.
        arn: String,
        /// Name.
        name: String,
    },
    /// The load balancer.
    LoadBalancer {
        /// ARN.
        arn: String,
        /// Name.
        name: String,
    },
    /// A security group.
    SecurityGroup {
        /// Group id.
        id: String,
        /// Group name.
        name: String,
    },
    /// The log group.
    LogGroup {
        /// Name.
        name: String,
    },
    /// An IAM role: its managed policies detached and its inline policy deleted first.
    Role {
        /// Role name.
        name: String,
        /// Attached managed policies.
        managed_policies: Vec<String>,
        /// Whether it has the cargo-ecs inline policy.
        inline_policy: bool,
    },
    /// The cluster.
    Cluster {
        /// Name.
        name: String,
    },
    /// The ECR repository, with its images (`--purge-images`).
    Repository {
        /// Name.
        name: String,
    },
}

impl Deletion {
    /// What it is, for people: `service api (cluster main)`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Record { name, .. } => format!("DNS record {name}"),
            Self::Service { cluster, name } => format!("service {name} (cluster {cluster})"),
            Self::TaskDefinition { arn } => {
                format!("task definition {}", arn.rsplit('/').next().unwrap_or(arn))
            }
            Self::Listener { port, protocol, .. } => format!("listener {protocol} :{port}"),
            Self::Rule { port, route, .. } => format!("listener rule :{port} {route}"),
            Self::ListenerDefault { port, protocol, .. } => format!("default action of listener {protocol} :{port}"),
            Self::UserTag { name, service, .. } => format!("user tag of {service} on load balancer {name}"),
            Self::TargetGroup { name, .. } => format!("target group {name}"),
            Self::LoadBalancer { name, .. } => format!("load balancer {name}"),
            Self::SecurityGroup { id, name } => format!("security group {name} ({id})"),
            Self::LogGroup { name } => format!("log group {name}"),
            Self::Role { name, .. } => format!("role {name}"),
            Self::Cluster { name } => format!("cluster {name}"),
            Self::Repository { name } => format!("ECR repository {name} and its images"),
        }
    }
}

/// A resource of the stack that stays, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Kept {
    /// What it is, e.g. `cluster main`.
    pub resource: String,
    /// Why it stays.
    pub reason: String,
}

/// The reason given for a resource without the managed tag.
pub const NOT_CREATED: &str = "not created by cargo-ecs";

/// What [`teardown`] reads besides the observed stack: who else uses the shared resources, the family's revisions,
/// the repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Surroundings {
    /// Services of the cluster other than this one that are not deleted.
    pub other_services: Vec<String>,
    /// ARNs of the family's ACTIVE task definition revisions.
    pub revisions: Vec<String>,
    /// Whether the family's latest ACTIVE revision carries the managed tag.
    pub revisions_managed: bool,
    /// The ECR repository: `Some(managed)` when it exists.
    pub repository: Option<bool>,
    /// `--purge-images`.
    pub purge_images: bool,
}

/// What a destroy deletes, in order, and what it keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Teardown {
    /// The service.
    pub service: String,
    /// To delete, in this order.
    pub delete: Vec<Deletion>,
    /// What stays.
    pub kept: Vec<Kept>,
}

impl Teardown {
    /// Whether there is nothing to delete.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty()
    }
}

/// Plans the teardown of the stack `settings` describe: pure, over what observe saw and `around`.
#[must_use]
pub fn teardown(observation: &Observation, settings: &Settings, around: &Surroundings) -> Teardown {
    let observed = &observation.observed;
    let mut delete = Vec::new();
    let mut kept = Vec::new();
    let mut keep = |resource: String, reason: &str| kept.push(Kept { resource, reason: reason.to_owned() });

    // The load balancer is shared: it goes only when it is ours and no other service uses it, by its user tags or
    // by a listener or rule forwarding elsewhere.
    let our_target_group = settings.load_balancer.as_ref().map(|lb| lb.target_group.as_str());
    let forwards_elsewhere = |action: &ListenerAction| match action {
        ListenerAction::Forward(target) if Some(target.as_str()) != our_target_group => Some(target.clone()),
        _ => None,
    };
    let mut lb_users: Vec<String> = observed.load_balancer.iter().flat_map(|lb| lb.state.users.clone()).collect();
    lb_users.retain(|u| *u != settings.service);
    lb_users.extend(observed.listeners.iter().filter_map(|l| forwards_elsewhere(&l.action)));
    lb_users.extend(observed.rules.iter().filter_map(|r| forwards_elsewhere(&r.action)));
    lb_users.sort();
    lb_users.dedup();
    let delete_lb = observed.load_balancer.as_ref().is_some_and(|lb| lb.managed) && lb_users.is_empty();

    // DNS record: only when it points at our load balancer.
    if let (Some(record), Some(zone)) = (&observed.record, &observation.lookups.zone) {
        let points_at_ours = observed.load_balancer.as_ref().is_some_and(|lb| {
            let ours = lb.state.dns_name.trim_end_matches('.').to_ascii_lowercase();
            record.target.trim_start_matches("dualstack.") == ours
        });
        if points_at_ours {
            delete.push(Deletion::Record { zone_id: zone.id.clone(), name: record.name.clone() });
        } else {
            keep(format!("DNS record {}", record.name), "it does not point at the service's load balancer");
        }
    }

    // Service, then its task definitions.
    let mut service_managed = false;
    if let Some(service) = &observed.service {
        if !service.managed {
            keep(format!("service {}", service.state.name), NOT_CREATED);
        } else if service.state.status == "DRAINING" {
            // Already being deleted; nothing more to ask of ECS.
            service_managed = true;
        } else {
            service_managed = true;
            delete.push(Deletion::Service { cluster: settings.cluster.clone(), name: service.state.name.clone() });
        }
    }
    if !around.revisions.is_empty() {
        if service_managed || around.revisions_managed {
            delete.extend(around.revisions.iter().map(|arn| Deletion::TaskDefinition { arn: arn.clone() }));
        } else {
            keep(
                format!("task definition family {} ({} revisions)", settings.family, around.revisions.len()),
                NOT_CREATED,
            );
        }
    }

    // Listeners (with their rules) when the load balancer goes; else only what routes to the service.
    if delete_lb {
        delete.extend(observed.listeners.iter().map(|l| Deletion::Listener {
            arn: l.arn.clone(),
            port: l.port,
            protocol: l.protocol.clone(),
        }));
    } else if let Some(tg) = our_target_group.filter(|_| observed.load_balancer.is_some()) {
        let ours = ListenerAction::Forward(tg.to_owned());
        delete.extend(observed.rules.iter().filter(|r| r.action == ours).map(|r| Deletion::Rule {
            arn: r.arn.clone(),
            port: r.port,
            route: r.route.as_ref().map_or_else(|| "(other conditions)".to_owned(), ToString::to_string),
        }));
        let serves_https = observed.listeners.iter().any(|l| l.protocol == "HTTPS");
        delete.extend(observed.listeners.iter().filter(|l| l.action == ours).map(|l| Deletion::ListenerDefault {
            arn: l.arn.clone(),
            port: l.port,
            protocol: l.protocol.clone(),
            action: if l.protocol == "HTTP" && serves_https {
                ListenerAction::RedirectToHttps
            } else {
                ListenerAction::NotFound
            },
        }));
        if let Some(lb) =
            observed.load_balancer.as_ref().filter(|lb| lb.managed && lb.state.users.contains(&settings.service))
        {
            delete.push(Deletion::UserTag {
                arn: lb.state.arn.clone(),
                name: lb.state.name.clone(),
                service: settings.service.clone(),
            });
        }
    }
    if let Some(tg) = &observed.target_group {
        if tg.managed {
            delete.push(Deletion::TargetGroup { arn: tg.state.arn.clone(), name: tg.state.name.clone() });
        } else {
            keep(format!("target group {}", tg.state.name), NOT_CREATED);
        }
    }
    if let Some(lb) = &observed.load_balancer {
        if delete_lb {
            delete.push(Deletion::LoadBalancer { arn: lb.state.arn.clone(), name: lb.state.name.clone() });
        } else if !lb.managed {
            keep(format!("load balancer {}", lb.state.name), NOT_CREATED);
        } else {
            keep(format!("load balancer {}", lb.state.name), &format!("it also serves {}", lb_users.join(", ")));
        }
    }

    // Security groups: the tasks' first (its rules name the load balancer's), then the load balancer's, which goes
    // with the load balancer only.
    if let Some(group) = &observed.service_security_group {
        if group.managed {
            delete.push(Deletion::SecurityGroup { id: group.state.id.clone(), name: group.state.name.clone() });
        } else {
            keep(format!("security group {}", group.state.name), NOT_CREATED);
        }
    }
    if let Some(group) = &observed.lb_security_group {
        if !group.managed {
            keep(format!("security group {}", group.state.name), NOT_CREATED);
        } else if delete_lb || observed.load_balancer.is_none() {
            delete.push(Deletion::SecurityGroup { id: group.state.id.clone(), name: group.state.name.clone() });
        } else {
            keep(format!("security group {}", group.state.name), "the kept load balancer uses it");
        }
    }

    if let Some(group) = &observed.log_group {
        if group.managed {
            delete.push(Deletion::LogGroup { name: group.state.name.clone() });
        } else {
            keep(format!("log group {}", group.state.name), NOT_CREATED);
        }
    }
    for role in [&observed.execution_role, &observed.task_role].into_iter().flatten() {
        if role.managed {
            delete.push(Deletion::Role {
                name: role.state.name.clone(),
                managed_policies: role.state.managed_policies.clone(),
                inline_policy: role.state.inline_policy.is_some(),
            });
        } else {
            keep(format!("role {}", role.state.name), NOT_CREATED);
        }
    }

    if let Some(cluster) = &observed.cluster {
        if !cluster.managed {
            keep(format!("cluster {}", cluster.state.name), NOT_CREATED);
        } else if !around.other_services.is_empty() {
            keep(
                format!("cluster {}", cluster.state.name),
                &format!("other services use it: {}", around.other_services.join(", ")),
            );
        } else {
            delete.push(Deletion::Cluster { name: cluster.state.name.clone() });
        }
    }

    match around.repository {
        Some(true) if around.purge_images => delete.push(Deletion::Repository { name: settings.repository.clone() }),
        Some(true) => keep(format!("ECR repository {}", settings.repository), "images stay unless --purge-images"),
        Some(false) => keep(format!("ECR repository {}", settings.repository), NOT_CREATED),
        None => {}
    }

    Teardown { service: settings.service.clone(), delete, kept }
}

/// Reads what exists for the service of `settings` and plans its teardown. Read-only.
///
/// # Errors
/// A failed AWS call, or a lookup observe needs that fails (no region, a certificate or zone that is gone).
pub async fn plan(settings: &Settings, clients: &Clients, purge_images: bool) -> Result<Teardown> {
    let (observation, other_services, revisions, revisions_managed, repository) = tokio::try_join!(
        async { observe(settings, clients).await },
        async { Ok(aws::ecs::other_services(&clients.ecs, &settings.cluster, &settings.service).await?) },
        async { Ok(aws::ecs_revisions::active_revisions(&clients.ecs, &settings.family).await?) },
        async { Ok(aws::ecs::task_definition_is_managed(&clients.ecs, &settings.family).await?) },
        async { Ok(ecr::find_repository(&clients.ecr, &settings.repository).await?.map(|r| r.info.managed)) },
    )?;
    let around = Surroundings {
        other_services,
        revisions: revisions.into_iter().map(|(_, arn)| arn).collect(),
        revisions_managed,
        repository,
        purge_images,
    };
    Ok(teardown(&observation, settings, &around))
}

/// What a destroy did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DestroyReport {
    /// The service.
    pub service: String,
    /// What was deleted, in order.
    pub deleted: Vec<Deletion>,
    /// What stays, and why.
    pub kept: Vec<Kept>,
}

/// Deletes what `teardown` lists, in order, one event pair per deletion. Stops at the first failure: what was
/// deleted stays deleted, and running the destroy again continues from what is left.
///
/// # Errors
/// The first deletion that fails.
pub async fn execute(teardown: Teardown, clients: &Clients, reporter: &dyn Reporter) -> Result<DestroyReport> {
    let mut report = DestroyReport { service: teardown.service, deleted: Vec::new(), kept: teardown.kept };
    for deletion in teardown.delete {
        let step = format!("delete {}", deletion.describe());
        reporter.begin(&step);
        delete(&deletion, clients).await?;
        reporter.end(&step, "deleted");
        report.deleted.push(deletion);
    }
    Ok(report)
}

/// One deletion.
async fn delete(deletion: &Deletion, clients: &Clients) -> Result<()> {
    match deletion {
        Deletion::Record { zone_id, name } => {
            aws::route53::delete_record(&clients.route53, zone_id, name).await?;
        }
        Deletion::Service { cluster, name } => aws::ecs::delete_service(&clients.ecs, cluster, name).await?,
        Deletion::TaskDefinition { arn } => aws::ecs::deregister_task_definition(&clients.ecs, arn).await?,
        Deletion::Listener { arn, .. } => aws::elb::delete_listener(&clients.elb, arn).await?,
        Deletion::Rule { arn, .. } => aws::elb_rules::delete_rule(&clients.elb, arn).await?,
        Deletion::ListenerDefault { arn, action, .. } => {
            aws::elb::set_default_action(&clients.elb, arn, action).await?;
        }
        Deletion::UserTag { arn, name, service } => {
            aws::elb::set_user_tag(&clients.elb, arn, name, service, false).await?;
        }
        Deletion::TargetGroup { arn, name } => aws::elb::delete_target_group(&clients.elb, arn, name).await?,
        Deletion::LoadBalancer { arn, name } => aws::elb::delete_load_balancer(&clients.elb, arn, name).await?,
        Deletion::SecurityGroup { id, name } => aws::ec2::delete_security_group(&clients.ec2, id, name).await?,
        Deletion::LogGroup { name } => aws::logs::delete_log_group(&clients.logs, name).await?,
        Deletion::Role { name, managed_policies, inline_policy } => {
            aws::iam::delete_role(&clients.iam, name, managed_policies, *inline_policy).await?;
        }
        Deletion::Cluster { name } => aws::ecs::delete_cluster(&clients.ecs, name).await?,
        Deletion::Repository { name } => ecr::delete_repository(&clients.ecr, name).await?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::config::{PackageInfo, Source, from_metadata, resolve};
    use crate::stack::Lookups;
    use crate::stack::model::*;
    use crate::stack::observed::Observed;

    fn settings() -> Settings {
        let package = PackageInfo::with_one_bin("app", "/w/app/Cargo.toml");
        let source = Source::PackageMetadata { file: package.manifest_path.clone() };
        let metadata = json!({
            "port": 8080, "cluster": "shared",
            "load-balancer": { "certificate": "*.example.com" }, "dns": { "zone": "example.com", "name": "api" }
        });
        let layers = from_metadata(&metadata, source.clone(), |_| source.clone()).expect("valid metadata");
        resolve(&package, None, &[layers.base], Path::new("/w/app")).expect("valid settings").settings
    }

    fn lookups() -> Lookups {
        Lookups {
            account: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            network: Network { vpc_id: "vpc-1".to_owned(), subnets: Vec::new() },
            certificate_arn: Some("arn:cert".to_owned()),
            zone: Some(HostedZone { id: "Z1".to_owned(), name: "example.com".to_owned(), private: false }),
        }
    }

    fn found<T>(state: T, managed: bool) -> Option<Found<T>> {
        Some(Found { state, managed })
    }

    fn group(id: &str, name: &str) -> SecurityGroupState {
        SecurityGroupState { id: id.to_owned(), name: name.to_owned(), vpc_id: "vpc-1".to_owned(), ingress: Vec::new() }
    }

    fn listener(arn: &str, port: u16, action: ListenerAction) -> ListenerState {
        ListenerState {
            arn: arn.to_owned(),
            port,
            protocol: if port == 443 { "HTTPS" } else { "HTTP" }.to_owned(),
            certificate_arn: None,
            certificates: Vec::new(),
            ssl_policy: None,
            action,
        }
    }

    /// What a deploy of [`settings`] leaves, every resource managed.
    fn deployed(s: &Settings) -> Observation {
        let lb = s.load_balancer.clone().expect("load balancer");
        let health_check = HealthCheck {
            path: "/".to_owned(),
            interval: 10,
            timeout: 5,
            healthy_threshold: 2,
            unhealthy_threshold: 3,
            matcher: "200-399".to_owned(),
        };
        let observed = Observed {
            execution_role: found(
                RoleState {
                    name: s.execution_role.clone(),
                    arn: format!("arn:aws:iam::1:role/{}", s.execution_role),
                    trusts_ecs_tasks: true,
                    managed_policies: vec![EXECUTION_ROLE_POLICY_ARN.to_owned()],
                    inline_policy: None,
                },
                true,
            ),
            task_role: None,
            log_group: found(LogGroupState { name: "/ecs/app".to_owned(), retention_days: Some(30) }, true),
            cluster: found(
                ClusterState {
                    name: "shared".to_owned(),
                    arn: "arn:cluster".to_owned(),
                    status: "ACTIVE".to_owned(),
                    capacity_providers: Vec::new(),
                },
                true,
            ),
            lb_security_group: found(group("sg-lb", &format!("{}-lb", lb.name)), true),
            service_security_group: found(group("sg-tasks", "app-tasks"), true),
            load_balancer: found(
                LoadBalancerState {
                    name: lb.name.clone(),
                    arn: "arn:lb".to_owned(),
                    dns_name: "App-123.us-east-1.elb.amazonaws.com".to_owned(),
                    canonical_hosted_zone_id: "ZLB".to_owned(),
                    scheme: "internet-facing".to_owned(),
                    kind: "application".to_owned(),
                    subnets: Vec::new(),
                    security_groups: vec!["sg-lb".to_owned()],
                    users: vec!["app".to_owned()],
                },
                true,
            ),
            target_group: found(
                TargetGroupState {
                    name: lb.target_group.clone(),
                    arn: "arn:tg".to_owned(),
                    vpc_id: "vpc-1".to_owned(),
                    port: 8080,
                    protocol: "HTTP".to_owned(),
                    target_type: "ip".to_owned(),
                    health_check,
                    deregistration_delay: 15,
                    load_balancers: vec!["arn:lb".to_owned()],
                },
                true,
            ),
            listeners: vec![
                listener("arn:l80", 80, ListenerAction::RedirectToHttps),
                listener("arn:l443", 443, ListenerAction::Forward(lb.target_group.clone())),
            ],
            rules: Vec::new(),
            task_definition: None,
            service: found(service_state(), true),
            record: Some(RecordState {
                name: "api.example.com".to_owned(),
                kind: RecordKind::Alias,
                target: "dualstack.app-123.us-east-1.elb.amazonaws.com".to_owned(),
            }),
        };
        Observation { lookups: lookups(), observed }
    }

    fn service_state() -> ServiceState {
        ServiceState {
            name: "app".to_owned(),
            arn: "arn:service".to_owned(),
            status: "ACTIVE".to_owned(),
            task_definition: "arn:td/app:2".to_owned(),
            desired_count: 1,
            running_count: 1,
            pending_count: 0,
            spot: false,
            subnets: Vec::new(),
            security_groups: Vec::new(),
            assign_public_ip: true,
            load_balancer: None,
            health_check_grace_period: None,
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            circuit_breaker: true,
            deployments: Vec::new(),
            events: Vec::new(),
        }
    }

    fn around() -> Surroundings {
        Surroundings {
            other_services: Vec::new(),
            revisions: vec![
                "arn:aws:ecs:us-east-1:1:task-definition/app:2".to_owned(),
                "arn:aws:ecs:us-east-1:1:task-definition/app:1".to_owned(),
            ],
            revisions_managed: true,
            repository: Some(true),
            purge_images: false,
        }
    }

    fn deleted(t: &Teardown) -> Vec<String> {
        t.delete.iter().map(Deletion::describe).collect()
    }

    fn kept(t: &Teardown) -> Vec<(String, String)> {
        t.kept.iter().map(|k| (k.resource.clone(), k.reason.clone())).collect()
    }

    #[test]
    fn a_managed_stack_goes_in_reverse_dependency_order_and_the_images_stay() {
        let s = settings();
        let t = teardown(&deployed(&s), &s, &around());
        assert_eq!(
            deleted(&t),
            [
                "DNS record api.example.com",
                "service app (cluster shared)",
                "task definition app:2",
                "task definition app:1",
                "listener HTTP :80",
                "listener HTTPS :443",
                "target group app",
                "load balancer shared",
                "security group app-tasks (sg-tasks)",
                "security group shared-lb (sg-lb)",
                "log group /ecs/app",
                "role app-execution",
                "cluster shared",
            ]
        );
        assert_eq!(kept(&t), [("ECR repository app".to_owned(), "images stay unless --purge-images".to_owned())]);
    }

    #[test]
    fn images_go_with_purge_images_and_only_from_a_managed_repository() {
        let s = settings();
        let purge = Surroundings { purge_images: true, ..around() };
        let t = teardown(&deployed(&s), &s, &purge);
        assert_eq!(t.delete.last(), Some(&Deletion::Repository { name: "app".to_owned() }));
        let theirs = Surroundings { repository: Some(false), ..purge };
        let t = teardown(&deployed(&s), &s, &theirs);
        assert!(!t.delete.iter().any(|d| matches!(d, Deletion::Repository { .. })));
        assert!(kept(&t).contains(&("ECR repository app".to_owned(), NOT_CREATED.to_owned())));
    }

    #[test]
    fn a_cluster_other_services_use_stays() {
        let s = settings();
        let t = teardown(&deployed(&s), &s, &Surroundings { other_services: vec!["web".to_owned()], ..around() });
        assert!(!t.delete.iter().any(|d| matches!(d, Deletion::Cluster { .. })));
        assert!(kept(&t).contains(&("cluster shared".to_owned(), "other services use it: web".to_owned())));
        assert!(t.delete.iter().any(|d| matches!(d, Deletion::Service { .. })), "the service still goes");
    }

    #[test]
    fn a_load_balancer_that_also_forwards_elsewhere_stays_with_its_listeners_and_group() {
        let s = settings();
        let mut o = deployed(&s);
        o.observed.listeners.push(listener("arn:l8080", 8080, ListenerAction::Forward("other".to_owned())));
        let t = teardown(&o, &s, &around());
        let names = deleted(&t);
        assert!(!names.iter().any(|d| d.starts_with("listener ") || d.starts_with("load balancer")), "{names:?}");
        assert!(!names.contains(&"security group shared-lb (sg-lb)".to_owned()), "{names:?}");
        assert!(kept(&t).contains(&("load balancer shared".to_owned(), "it also serves other".to_owned())));
        // The service was the catch-all of :443: that default goes back to a 404 before its target group goes.
        let reset = names.iter().position(|d| d == "default action of listener HTTPS :443").expect("reset");
        assert!(reset < names.iter().position(|d| d == "target group app").expect("target group"), "{names:?}");
        assert!(t.delete.contains(&Deletion::ListenerDefault {
            arn: "arn:l443".to_owned(),
            port: 443,
            protocol: "HTTPS".to_owned(),
            action: ListenerAction::NotFound
        }));
    }

    #[test]
    fn a_service_of_a_shared_load_balancer_takes_only_its_rule_and_its_user_tag() {
        let s = settings();
        let mut o = deployed(&s);
        o.observed.listeners[1].action = ListenerAction::NotFound;
        let route = |host: &str| Route::new(Some(host), None);
        let rule = |arn: &str, target: &str, host: &str| RuleState {
            arn: arn.to_owned(),
            port: 443,
            priority: 9900,
            route: route(host),
            action: ListenerAction::Forward(target.to_owned()),
        };
        o.observed.rules =
            vec![rule("arn:r-app", "app", "api.example.com"), rule("arn:r-web", "web", "web.example.com")];
        if let Some(lb) = &mut o.observed.load_balancer {
            lb.state.users = vec!["app".to_owned(), "web".to_owned()];
        }
        let t = teardown(&o, &s, &around());
        let names = deleted(&t);
        assert!(names.contains(&"listener rule :443 host api.example.com".to_owned()), "{names:?}");
        assert!(!names.iter().any(|d| d.contains("web.example.com") || d.starts_with("default action")), "{names:?}");
        assert!(names.contains(&"user tag of app on load balancer shared".to_owned()), "{names:?}");
        assert!(kept(&t).contains(&("load balancer shared".to_owned(), "it also serves web".to_owned())), "{t:?}");
        // Only the user tag of another service keeps it too.
        o.observed.rules.truncate(1);
        let t = teardown(&o, &s, &around());
        assert!(kept(&t).contains(&("load balancer shared".to_owned(), "it also serves web".to_owned())), "{t:?}");
        if let Some(lb) = &mut o.observed.load_balancer {
            lb.state.users = vec!["app".to_owned()];
        }
        let t = teardown(&o, &s, &around());
        assert!(deleted(&t).contains(&"load balancer shared".to_owned()), "{t:?}");
    }

    #[test]
    fn what_cargo_ecs_did_not_create_is_kept() {
        let s = settings();
        let mut o = deployed(&s);
        let observed = &mut o.observed;
        for managed in [
            observed.log_group.as_mut().map(|f| &mut f.managed),
            observed.service_security_group.as_mut().map(|f| &mut f.managed),
            observed.cluster.as_mut().map(|f| &mut f.managed),
            observed.execution_role.as_mut().map(|f| &mut f.managed),
            observed.service.as_mut().map(|f| &mut f.managed),
        ]
        .into_iter()
        .flatten()
        {
            *managed = false;
        }
        let t = teardown(&o, &s, &Surroundings { revisions_managed: false, ..around() });
        let names = deleted(&t);
        for gone in ["log group", "security group app-tasks", "cluster", "role", "service", "task definition"] {
            assert!(!names.iter().any(|d| d.starts_with(gone)), "{gone} deleted: {names:?}");
        }
        for resource in
            ["log group /ecs/app", "security group app-tasks", "cluster shared", "role app-execution", "service app"]
        {
            assert!(kept(&t).contains(&(resource.to_owned(), NOT_CREATED.to_owned())), "{resource}: {:?}", kept(&t));
        }
        // Revisions tagged as cargo-ecs's go even when the service is not.
        let t = teardown(&o, &s, &around());
        assert_eq!(t.delete.iter().filter(|d| matches!(d, Deletion::TaskDefinition { .. })).count(), 2);
    }

    #[test]
    fn a_record_pointing_elsewhere_stays() {
        let s = settings();
        let mut o = deployed(&s);
        if let Some(record) = o.observed.record.as_mut() {
            record.target = "somewhere.example.net".to_owned();
        }
        let t = teardown(&o, &s, &around());
        assert!(!t.delete.iter().any(|d| matches!(d, Deletion::Record { .. })));
        assert_eq!(t.kept[0].resource, "DNS record api.example.com");
    }

    #[test]
    fn nothing_left_means_nothing_to_delete() {
        let s = settings();
        let empty = Observation { lookups: lookups(), observed: Observed::default() };
        let t = teardown(&empty, &s, &Surroundings { repository: None, ..Surroundings::default() });
        assert!(t.is_empty() && t.kept.is_empty(), "{t:?}");
    }
}
