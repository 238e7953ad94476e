//! Reads everything the planner needs from AWS, read-only and concurrently: first what the desired stack depends
//! on (account, network, certificate, hosted zone), then every resource of the stack.
//! Anything the plan needs that is missing (a certificate, a zone, a VPC) is an error here, before any change.

use std::collections::BTreeMap;

use serde::Serialize;

use super::desired::Lookups;
use super::model::{Found, SecurityGroupState};
use super::names;
use super::observed::Observed;
use crate::aws::{self, Clients};
use crate::config::Settings;
use crate::error::{Error, Result};

/// What observe found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Observation {
    /// Inputs of the desired stack.
    pub lookups: Lookups,
    /// The resources as they are.
    pub observed: Observed,
}

/// Reads the lookups and the current state of the stack `settings` describe.
///
/// # Errors
/// A failed AWS call, no region, or a missing certificate / hosted zone.
pub async fn observe(settings: &Settings, clients: &Clients) -> Result<Observation> {
    let lookups = lookups(settings, clients).await?;
    let observed = resources(settings, clients, &lookups).await?;
    Ok(Observation { lookups, observed })
}

/// The account, region, network, certificate and zone.
///
/// # Errors
/// As [`observe`].
pub async fn lookups(settings: &Settings, clients: &Clients) -> Result<Lookups> {
    if clients.region.is_empty() {
        return Err(Error::workspace(
            "no AWS region is configured",
            "set `region` in [package.metadata.ecs], pass --region, or set AWS_REGION",
        ));
    }
    let certificate = settings.load_balancer.as_ref().and_then(|lb| lb.certificate.clone());
    // Services deployed together mostly share these: each is read once for all of them.
    let shared = &clients.shared;
    let (vpc, subnets) = (settings.vpc.as_deref(), &settings.subnets);
    let (account, network, certificate_arn, zone) = tokio::try_join!(
        shared.read("sts account", || aws::sts::account_id(&clients.sts)),
        shared.read(format!("ec2 network {vpc:?} {subnets:?}"), || {
            aws::ec2::observe_network(&clients.ec2, vpc, subnets)
        }),
        async {
            match &certificate {
                Some(wanted) => {
                    let key = format!("acm certificate {wanted}");
                    shared.read(key, || aws::acm::find_certificate(&clients.acm, wanted)).await
                }
                None => Ok(None),
            }
        },
        async {
            match &settings.dns {
                Some(dns) => {
                    let key = format!("route53 zone {}", dns.zone);
                    shared.read(key, || aws::route53::find_zone(&clients.route53, &dns.zone)).await
                }
                None => Ok(None),
            }
        },
    )?;
    if let (Some(wanted), None) = (&certificate, &certificate_arn) {
        return Err(Error::workspace(
            format!(
                "no ISSUED ACM certificate in {} matches `load-balancer.certificate` = \"{wanted}\"",
                clients.region
            ),
            "request one in ACM (with DNS validation) in the service's region, or set the certificate's ARN",
        ));
    }
    if let (Some(dns), None) = (&settings.dns, &zone) {
        return Err(Error::workspace(
            format!("no Route 53 hosted zone named {} (`dns.zone`)", dns.zone),
            "create the hosted zone, or correct `dns.zone`",
        ));
    }
    Ok(Lookups { account, region: clients.region.clone(), network, certificate_arn, zone })
}

/// Every resource of the stack, as it is now.
async fn resources(settings: &Settings, clients: &Clients, lookups: &Lookups) -> Result<Observed> {
    let shared = &clients.shared;
    let vpc = lookups.network.vpc_id.as_str();
    let lb = settings.load_balancer.as_ref();
    let lb_sg_name = names::lb_security_group(settings);
    let service_sg_name = names::service_security_group(settings);
    let log_group_name = names::log_group(settings);
    let role = |name: Option<&String>| {
        let name = name.filter(|n| !n.starts_with("arn:")).cloned();
        async move {
            match name {
                Some(name) => aws::iam::observe_role(&clients.iam, &name).await,
                None => Ok(None),
            }
        }
    };
    let (
        execution_role,
        task_role,
        log_group,
        cluster,
        lb_sg,
        service_sg,
        load_balancer,
        target_group,
        task_definition,
        record,
        service,
    ) = tokio::try_join!(
        role(Some(&settings.execution_role)),
        role(settings.task_role.as_ref()),
        aws::logs::observe_log_group(&clients.logs, &log_group_name),
        // The cluster, the load balancer and its security group are shared by the services of a cluster.
        shared.read(format!("ecs cluster {}", settings.cluster), || {
            aws::ecs::observe_cluster(&clients.ecs, &settings.cluster)
        }),
        async {
            match &lb_sg_name {
                Some(name) => {
                    let key = format!("ec2 security group {vpc} {name}");
                    shared.read(key, || aws::ec2::observe_security_group(&clients.ec2, vpc, name)).await
                }
                None => Ok(None),
            }
        },
        aws::ec2::observe_security_group(&clients.ec2, vpc, &service_sg_name),
        async {
            match lb {
                Some(lb) => {
                    let key = format!("elbv2 load balancer {}", lb.name);
                    shared.read(key, || aws::elb::observe_load_balancer(&clients.elb, &lb.name)).await
                }
                None => Ok(None),
            }
        },
        async {
            match lb {
                Some(lb) => aws::elb::observe_target_group(&clients.elb, &lb.target_group).await,
                None => Ok(None),
            }
        },
        aws::ecs::observe_task_definition(&clients.ecs, &settings.family),
        async {
            match (&settings.dns, &lookups.zone) {
                (Some(dns), Some(zone)) => aws::route53::observe_record(&clients.route53, &zone.id, &dns.name).await,
                _ => Ok(None),
            }
        },
        // Described now, named once the groups it refers to are known.
        aws::ecs::describe_service(&clients.ecs, &settings.cluster, &settings.service),
    )?;
    let group_names: BTreeMap<String, String> =
        [&lb_sg, &service_sg].into_iter().flatten().map(|g| (g.state.id.clone(), g.state.name.clone())).collect();
    let name_peers = |group: Option<Found<SecurityGroupState>>| {
        group.map(|g| Found { state: aws::ec2::name_group_peers(g.state, &group_names), managed: g.managed })
    };
    let target_group_names: BTreeMap<String, String> =
        target_group.iter().map(|t| (t.state.arn.clone(), t.state.name.clone())).collect();
    let listeners = match &load_balancer {
        Some(found) => aws::elb::observe_listeners(&clients.elb, &found.state.arn, &target_group_names).await?,
        None => Vec::new(),
    };
    let rules = aws::elb_rules::observe_rules(&clients.elb, &listeners, &target_group_names).await?;
    let names = aws::ecs::NameMap { security_groups: group_names.clone(), target_groups: target_group_names };
    let service = service.map(|service| aws::ecs::found_service(&service, &names));
    Ok(Observed {
        execution_role,
        task_role,
        log_group,
        cluster,
        lb_security_group: name_peers(lb_sg),
        service_security_group: name_peers(service_sg),
        load_balancer,
        target_group,
        listeners,
        rules,
        task_definition,
        service,
        record,
    })
}
