//! What AWS must hold for one service: a pure function of its settings, the image, and what observe looked up
//! (account, region, network, certificate, hosted zone).

use std::collections::BTreeSet;

use serde::Serialize;

use super::model::{
    Claim, ClusterSpec, ContainerSpec, EXECUTION_ROLE_POLICY_ARN, HealthCheck, HostedZone, Ingress, ListenerAction,
    ListenerSpec, LoadBalancerSpec, LogGroupSpec, MANAGED_TAG, Network, Peer, RecordKind, RecordSpec, RoleRef,
    RoleSpec, Route, RuleSpec, SERVICE_TAG, SecurityGroupSpec, ServiceLoadBalancer, ServiceSpec, TLS_POLICY, Tags,
    TargetGroupSpec, TaskDefinitionSpec, user_tag,
};
use super::names;
use crate::config::{DnsType, Settings};

/// What observe looked up that the desired stack depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Lookups {
    /// The AWS account id.
    pub account: String,
    /// The region.
    pub region: String,
    /// The VPC and subnets.
    pub network: Network,
    /// The certificate's ARN, when `load-balancer.certificate` is set.
    pub certificate_arn: Option<String>,
    /// The hosted zone, when `dns.zone` is set.
    pub zone: Option<HostedZone>,
}

/// Every resource of the service's stack as it should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Desired {
    /// The service's name.
    pub service_name: String,
    /// Settings keys the user set (not defaults): a resource they name may be used even if cargo-ecs did not
    /// create it.
    pub named: BTreeSet<String>,
    /// Execution role.
    pub execution_role: RoleRef,
    /// Task role.
    pub task_role: Option<RoleRef>,
    /// Log group.
    pub log_group: LogGroupSpec,
    /// Cluster.
    pub cluster: ClusterSpec,
    /// VPC and subnets.
    pub network: Network,
    /// The load balancer's security group.
    pub lb_security_group: Option<SecurityGroupSpec>,
    /// The tasks' security group.
    pub service_security_group: SecurityGroupSpec,
    /// Load balancer.
    pub load_balancer: Option<LoadBalancerSpec>,
    /// Target group.
    pub target_group: Option<TargetGroupSpec>,
    /// Listeners, by port.
    pub listeners: Vec<ListenerSpec>,
    /// The listener rule of the service's route; `None` for the load balancer's catch-all.
    pub rule: Option<RuleSpec>,
    /// Task definition.
    pub task_definition: TaskDefinitionSpec,
    /// Service.
    pub service: ServiceSpec,
    /// DNS record.
    pub record: Option<RecordSpec>,
}

/// Capacity providers of every cluster cargo-ecs creates.
pub const CAPACITY_PROVIDERS: [&str; 2] = ["FARGATE", "FARGATE_SPOT"];
/// HTTP codes the target group's health check accepts.
pub const HEALTHY_CODES: &str = "200-399";

/// The desired stack for `settings`, running `image` (`repository@sha256:…`).
/// `named` lists the settings keys the user set (see [`Desired::named`]).
#[must_use]
pub fn desired(settings: &Settings, lookups: &Lookups, image: &str, named: BTreeSet<String>) -> Desired {
    let tags = tags(settings);
    let lb = settings.load_balancer.as_ref();
    let lb_sg_name = names::lb_security_group(settings);
    let service_sg_name = names::service_security_group(settings);
    let vpc_id = lookups.network.vpc_id.clone();
    let subnets: Vec<String> = lookups.network.subnets.iter().map(|s| s.id.clone()).collect();
    let log_group = names::log_group(settings);

    let lb_security_group = lb_sg_name.as_ref().map(|name| {
        let mut ingress = vec![Ingress { port: 80, from: Peer::Anywhere }];
        if lb.is_some_and(|lb| lb.certificate.is_some()) {
            ingress.push(Ingress { port: 443, from: Peer::Anywhere });
        }
        SecurityGroupSpec {
            name: name.clone(),
            description: format!("cargo-ecs: load balancer of {}", settings.service),
            vpc_id: vpc_id.clone(),
            ingress,
            tags: tags.clone(),
        }
    });
    let service_peer = lb_sg_name.clone().map_or(Peer::Anywhere, Peer::Group);
    let service_security_group = SecurityGroupSpec {
        name: service_sg_name.clone(),
        description: format!("cargo-ecs: tasks of {}", settings.service),
        vpc_id: vpc_id.clone(),
        ingress: vec![Ingress { port: settings.port, from: service_peer }],
        tags: tags.clone(),
    };
    let load_balancer = lb.map(|lb| {
        let mut tags = tags.clone();
        tags.insert(user_tag(&settings.service), "true".to_owned());
        LoadBalancerSpec {
            name: lb.name.clone(),
            subnets: subnets.clone(),
            security_group: lb_sg_name.clone().unwrap_or_default(),
            tags,
            user: settings.service.clone(),
        }
    });
    let target_group = lb.map(|lb| TargetGroupSpec {
        name: lb.target_group.clone(),
        vpc_id: vpc_id.clone(),
        port: settings.port,
        health_check: HealthCheck {
            path: settings.health_check_path.clone(),
            interval: settings.health_check_interval,
            timeout: settings.health_check_timeout,
            healthy_threshold: settings.healthy_threshold,
            unhealthy_threshold: settings.unhealthy_threshold,
            matcher: HEALTHY_CODES.to_owned(),
        },
        deregistration_delay: settings.deregistration_delay,
        tags: tags.clone(),
    });
    let route = lb.and_then(|lb| Route::new(settings.dns.as_ref().map(|d| d.name.as_str()), lb.path.as_deref()));
    let listeners = lb
        .map(|lb| listeners(&lb.target_group, lookups.certificate_arn.as_deref(), route.is_none()))
        .unwrap_or_default();
    let rule = match (lb, route) {
        (Some(lb), Some(route)) => Some(RuleSpec {
            port: if lookups.certificate_arn.is_some() { 443 } else { 80 },
            route,
            target_group: lb.target_group.clone(),
            tags: tags.clone(),
        }),
        _ => None,
    };
    let execution_role = role(&settings.execution_role, lookups, true, &settings.secrets, &tags);
    let task_role = settings.task_role.as_ref().map(|r| role(r, lookups, false, &settings.secrets, &tags));
    let task_definition = TaskDefinitionSpec {
        family: settings.family.clone(),
        cpu: settings.cpu,
        memory: settings.memory,
        cpu_architecture: settings.architecture.ecs_name().to_owned(),
        execution_role_arn: execution_role.arn().to_owned(),
        task_role_arn: task_role.as_ref().map(|r| r.arn().to_owned()),
        container: ContainerSpec {
            name: settings.container.clone(),
            image: image.to_owned(),
            port: settings.port,
            environment: settings.env.clone(),
            secrets: settings.secrets.iter().map(|(k, v)| (k.clone(), secret_arn(v, lookups))).collect(),
            log_group: log_group.clone(),
            log_region: lookups.region.clone(),
            log_stream_prefix: names::LOG_STREAM_PREFIX.to_owned(),
        },
        tags: tags.clone(),
    };
    let service = ServiceSpec {
        name: settings.service.clone(),
        cluster: settings.cluster.clone(),
        family: settings.family.clone(),
        desired_count: settings.desired_count,
        spot: settings.spot,
        subnets,
        security_groups: vec![service_sg_name],
        assign_public_ip: settings.assign_public_ip,
        load_balancer: lb.map(|lb| ServiceLoadBalancer {
            target_group: lb.target_group.clone(),
            container: settings.container.clone(),
            port: settings.port,
        }),
        health_check_grace_period: lb.map(|_| settings.health_check_grace_period),
        minimum_healthy_percent: 100,
        maximum_percent: 200,
        circuit_breaker: true,
        tags: tags.clone(),
    };
    let record = match (&settings.dns, &lookups.zone, lb) {
        (Some(dns), Some(zone), Some(lb)) => Some(RecordSpec {
            zone_id: zone.id.clone(),
            name: dns.name.clone(),
            kind: match dns.record_type {
                DnsType::Alias => RecordKind::Alias,
                DnsType::Cname => RecordKind::Cname,
            },
            load_balancer: lb.name.clone(),
        }),
        _ => None,
    };
    Desired {
        service_name: settings.service.clone(),
        named,
        execution_role,
        task_role,
        log_group: LogGroupSpec { name: log_group, retention_days: settings.log_retention_days, tags: tags.clone() },
        cluster: ClusterSpec {
            name: settings.cluster.clone(),
            capacity_providers: CAPACITY_PROVIDERS.map(str::to_owned).to_vec(),
            tags,
        },
        network: lookups.network.clone(),
        lb_security_group,
        service_security_group,
        load_balancer,
        target_group,
        listeners,
        rule,
        task_definition,
        service,
        record,
    }
}

/// HTTPS on 443 and HTTP on 80 redirecting to it, or HTTP on 80 alone when there is no certificate. The catch-all
/// service (no route) owns the default action of the listener it serves on: a forward to its target group. A
/// service with a route leaves the default to the catch-all, or to a 404 when there is none.
fn listeners(target_group: &str, certificate_arn: Option<&str>, catch_all: bool) -> Vec<ListenerSpec> {
    let (action, claim) = if catch_all {
        (ListenerAction::Forward(target_group.to_owned()), Claim::Owned)
    } else {
        (ListenerAction::NotFound, Claim::Neutral)
    };
    let http = |action, claim| ListenerSpec {
        port: 80,
        protocol: "HTTP".to_owned(),
        certificate_arn: None,
        ssl_policy: None,
        action,
        claim,
    };
    match certificate_arn {
        Some(arn) => vec![
            http(ListenerAction::RedirectToHttps, claim),
            ListenerSpec {
                port: 443,
                protocol: "HTTPS".to_owned(),
                certificate_arn: Some(arn.to_owned()),
                ssl_policy: Some(TLS_POLICY.to_owned()),
                action,
                claim,
            },
        ],
        None => vec![http(action, claim)],
    }
}

/// The execution role reads exactly the configured secrets; a task role gets no policy from cargo-ecs.
fn role(
    name_or_arn: &str,
    lookups: &Lookups,
    execution: bool,
    secrets: &std::collections::BTreeMap<String, String>,
    tags: &Tags,
) -> RoleRef {
    if name_or_arn.starts_with("arn:") {
        return RoleRef::External(name_or_arn.to_owned());
    }
    let resources: Vec<String> = secrets.values().map(|s| secret_arn(s, lookups)).collect();
    RoleRef::Managed(RoleSpec {
        name: name_or_arn.to_owned(),
        arn: format!("arn:aws:iam::{}:role/{name_or_arn}", lookups.account),
        managed_policies: if execution { vec![EXECUTION_ROLE_POLICY_ARN.to_owned()] } else { Vec::new() },
        inline_policy: if execution { crate::aws::iam::secrets_policy(&resources) } else { None },
        tags: tags.clone(),
    })
}

/// A secret setting as ECS's `valueFrom` wants it: ARNs as given, an SSM parameter name as its ARN.
fn secret_arn(value: &str, lookups: &Lookups) -> String {
    if value.starts_with("arn:") {
        value.to_owned()
    } else {
        format!("arn:aws:ssm:{}:{}:parameter/{}", lookups.region, lookups.account, value.trim_start_matches('/'))
    }
}

/// The user's tags, plus the managed tag and the service tag.
fn tags(settings: &Settings) -> Tags {
    let mut tags = settings.tags.clone();
    tags.insert(MANAGED_TAG.to_owned(), "true".to_owned());
    tags.insert(SERVICE_TAG.to_owned(), settings.service.clone());
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_references_become_arns() {
        let lookups = Lookups {
            account: "123456789012".to_owned(),
            region: "eu-west-1".to_owned(),
            network: Network { vpc_id: "vpc-1".to_owned(), subnets: Vec::new() },
            certificate_arn: None,
            zone: None,
        };
        assert_eq!(secret_arn("/prod/db", &lookups), "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db");
        assert_eq!(secret_arn("db", &lookups), "arn:aws:ssm:eu-west-1:123456789012:parameter/db");
        let sm = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::";
        assert_eq!(secret_arn(sm, &lookups), sm);
    }
}
