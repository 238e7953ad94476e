//! The thin AWS wrappers for the network side of a stack (`ecs_core::aws::{ec2, elb, acm, route53, sts}`)
//! against the local stack's moto, whose shims make ELBv2, EC2 and Route 53 behave as AWS documents.
//!
//! Run with the stack's environment loaded (`set -a; . .stack/env; set +a`, as `scripts/test` does). Every test
//! uses names of its own, so they run in parallel and beside other users of the same moto.

use std::collections::BTreeMap;

use cargo_ecs_tests::{aws_clients, unique_name};
use ecs_core::aws::elb::ListenerChanges;
use ecs_core::aws::{Clients, acm, ec2, elb, route53, sts};
use ecs_core::stack::model::{
    Claim, HealthCheck, Ingress, ListenerAction, ListenerSpec, LoadBalancerSpec, MANAGED_TAG, Network, Peer,
    RecordKind, RecordSpec, RecordState, SERVICE_TAG, SecurityGroupSpec, SecurityGroupState, TLS_POLICY, Tags,
    TargetGroupSpec,
};

/// A DNS domain no other test uses.
fn unique_domain() -> String {
    format!("{}.cargo-ecs.test", unique_name("z"))
}

fn managed_tags(service: &str) -> Tags {
    BTreeMap::from([(MANAGED_TAG.to_owned(), "true".to_owned()), (SERVICE_TAG.to_owned(), service.to_owned())])
}

async fn default_network(clients: &Clients) -> Network {
    ec2::observe_network(&clients.ec2, None, &[]).await.expect("default network")
}

fn lb_group_spec(name: &str, vpc_id: &str, ports: &[u16]) -> SecurityGroupSpec {
    SecurityGroupSpec {
        name: name.to_owned(),
        description: format!("cargo-ecs: load balancer {name}"),
        vpc_id: vpc_id.to_owned(),
        ingress: ports.iter().map(|&port| Ingress { port, from: Peer::Anywhere }).collect(),
        tags: managed_tags(name),
    }
}

/// The raw TCP rules of a group: (port, CIDR or group id), sorted.
async fn raw_rules(clients: &Clients, group_id: &str) -> Vec<(i32, String)> {
    let out = clients.ec2.describe_security_groups().group_ids(group_id).send().await.expect("describe group");
    let mut rules: Vec<(i32, String)> = out.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            let port = p.from_port().unwrap_or(-1);
            p.ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip().map(str::to_owned))
                .chain(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6().map(str::to_owned)))
                .chain(p.user_id_group_pairs().iter().filter_map(|g| g.group_id().map(str::to_owned)))
                .map(move |source| (port, source))
        })
        .collect();
    rules.sort();
    rules
}

#[tokio::test]
async fn sts_names_the_account() {
    let clients = aws_clients().await;
    assert_eq!(sts::account_id(&clients.sts).await.expect("GetCallerIdentity"), "123456789012");
}

#[tokio::test]
async fn the_default_network_and_chosen_subnets_are_found() {
    let clients = aws_clients().await;
    let network = default_network(&clients).await;
    assert!(network.vpc_id.starts_with("vpc-"), "{network:?}");
    assert_eq!(network.subnets.len(), 6, "moto's default VPC has a subnet per zone: {network:?}");
    let ids: Vec<&str> = network.subnets.iter().map(|s| s.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "sorted by id");
    assert!(network.subnets.iter().all(|s| s.availability_zone.starts_with("us-east-1")), "{network:?}");

    // Chosen subnets: only those, in the VPC named or the default one.
    let chosen = vec![network.subnets[3].id.clone(), network.subnets[1].id.clone()];
    let picked = ec2::observe_network(&clients.ec2, None, &chosen).await.expect("chosen subnets");
    assert_eq!(picked.subnets, vec![network.subnets[1].clone(), network.subnets[3].clone()]);
    let named = ec2::observe_network(&clients.ec2, Some(&network.vpc_id), &chosen).await.expect("named VPC");
    assert_eq!(named, picked);

    // A subnet of another VPC is refused, by id.
    let other = clients.ec2.create_vpc().cidr_block("10.77.0.0/16").send().await.expect("CreateVpc");
    let other_vpc = other.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_owned();
    let subnet =
        clients.ec2.create_subnet().vpc_id(&other_vpc).cidr_block("10.77.1.0/24").send().await.expect("CreateSubnet");
    let foreign = subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_owned();
    let error = ec2::observe_network(&clients.ec2, None, &[chosen[0].clone(), foreign.clone()])
        .await
        .expect_err("a subnet of another VPC");
    assert!(error.to_string().contains(&foreign) && error.to_string().contains(&other_vpc), "{error}");
    assert!(!error.to_string().contains(&chosen[0]), "names only the wrong ones: {error}");

    // An unknown VPC is AWS's error.
    let error = ec2::observe_network(&clients.ec2, Some("vpc-00000000000000000"), &[]).await.expect_err("unknown VPC");
    assert_eq!(error.code.as_deref(), Some("InvalidVpcID.NotFound"), "{error}");

    clients.ec2.delete_subnet().subnet_id(&foreign).send().await.expect("DeleteSubnet");
    clients.ec2.delete_vpc().vpc_id(&other_vpc).send().await.expect("DeleteVpc");
}

#[tokio::test]
async fn subnets_are_public_when_their_route_table_reaches_an_internet_gateway() {
    let clients = aws_clients().await;
    let ec2c = &clients.ec2;
    let vpc = ec2c.create_vpc().cidr_block("10.78.0.0/16").send().await.expect("CreateVpc");
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_owned();
    let mut subnets = Vec::new();
    for (i, zone) in ["us-east-1a", "us-east-1b", "us-east-1c"].iter().enumerate() {
        let out = ec2c
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("10.78.{i}.0/24"))
            .availability_zone(*zone)
            .send()
            .await
            .expect("CreateSubnet");
        subnets.push(out.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_owned());
    }
    let (explicit_public, on_main, explicit_private) = (&subnets[0], &subnets[1], &subnets[2]);
    let igw = ec2c.create_internet_gateway().send().await.expect("CreateInternetGateway");
    let igw_id = igw.internet_gateway().and_then(|g| g.internet_gateway_id()).expect("igw id").to_owned();
    ec2c.attach_internet_gateway().internet_gateway_id(&igw_id).vpc_id(&vpc_id).send().await.expect("attach");
    let mut tables = Vec::new();
    for _ in 0..2 {
        let out = ec2c.create_route_table().vpc_id(&vpc_id).send().await.expect("CreateRouteTable");
        tables.push(out.route_table().and_then(|t| t.route_table_id()).expect("table id").to_owned());
    }
    let (public_table, private_table) = (&tables[0], &tables[1]);
    ec2c.create_route()
        .route_table_id(public_table)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw_id)
        .send()
        .await
        .expect("default route");
    let mut associations = Vec::new();
    for (table, subnet) in [(public_table, explicit_public), (private_table, explicit_private)] {
        let out = ec2c.associate_route_table().route_table_id(table).subnet_id(subnet).send().await.expect("associate");
        associations.push(out.association_id().expect("association id").to_owned());
    }

    let public_of = |network: &Network| -> Vec<(String, bool)> {
        network.subnets.iter().map(|s| (s.id.clone(), s.public)).collect()
    };
    let mut expected =
        vec![(explicit_public.clone(), true), (on_main.clone(), false), (explicit_private.clone(), false)];
    expected.sort();
    let network = ec2::observe_network(ec2c, Some(&vpc_id), &[]).await.expect("network");
    assert_eq!(public_of(&network), expected);
    let zones: Vec<&str> = network.subnets.iter().map(|s| s.availability_zone.as_str()).collect();
    assert!(zones.iter().all(|z| z.starts_with("us-east-1")), "{zones:?}");

    // The main table gets the internet route: the subnet without its own table becomes public, the one with a
    // private table of its own does not.
    let listed = ec2c.describe_route_tables().send().await.expect("DescribeRouteTables");
    let main = listed
        .route_tables()
        .iter()
        .find(|t| t.vpc_id() == Some(&vpc_id) && t.associations().iter().any(|a| a.main() == Some(true)))
        .and_then(|t| t.route_table_id())
        .expect("main table")
        .to_owned();
    ec2c.create_route()
        .route_table_id(&main)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw_id)
        .send()
        .await
        .expect("main default route");
    for entry in &mut expected {
        entry.1 = entry.0 != *explicit_private;
    }
    let network = ec2::observe_network(ec2c, Some(&vpc_id), &[]).await.expect("network again");
    assert_eq!(public_of(&network), expected);

    for association in &associations {
        ec2c.disassociate_route_table().association_id(association).send().await.expect("DisassociateRouteTable");
    }
    for subnet in &subnets {
        ec2c.delete_subnet().subnet_id(subnet).send().await.expect("DeleteSubnet");
    }
    for table in &tables {
        ec2c.delete_route_table().route_table_id(table).send().await.expect("DeleteRouteTable");
    }
    ec2c.detach_internet_gateway().internet_gateway_id(&igw_id).vpc_id(&vpc_id).send().await.expect("detach");
    ec2c.delete_internet_gateway().internet_gateway_id(&igw_id).send().await.expect("DeleteInternetGateway");
    ec2c.delete_vpc().vpc_id(&vpc_id).send().await.expect("DeleteVpc");
}

#[tokio::test]
async fn security_groups_are_created_observed_and_updated_rule_by_rule() {
    let clients = aws_clients().await;
    let network = default_network(&clients).await;
    let vpc = network.vpc_id.as_str();
    assert!(ec2::observe_security_group(&clients.ec2, vpc, &unique_name("none")).await.expect("describe").is_none());

    // The load balancer's group: 80 and 443 from anywhere.
    let lb_name = unique_name("lb-sg");
    let lb_spec = lb_group_spec(&lb_name, vpc, &[80, 443]);
    let created = ec2::create_security_group(&clients.ec2, &lb_spec, &BTreeMap::new()).await.expect("create LB group");
    assert!(created.id.starts_with("sg-"));
    let expected = SecurityGroupState {
        id: created.id.clone(),
        name: lb_name.clone(),
        vpc_id: vpc.to_owned(),
        ingress: lb_spec.ingress.clone(),
    };
    assert_eq!(created, expected);
    let found = ec2::observe_security_group(&clients.ec2, vpc, &lb_name).await.expect("observe").expect("exists");
    assert!(found.managed);
    assert_eq!(found.state, expected);
    let both = |port: i32| [(port, "0.0.0.0/0".to_owned()), (port, "::/0".to_owned())];
    assert_eq!(raw_rules(&clients, &created.id).await, [both(80), both(443)].concat(), "both address families");

    // The service's group: the container port from the load balancer's group, by name.
    let svc_name = unique_name("svc-sg");
    let svc_spec = SecurityGroupSpec {
        name: svc_name.clone(),
        description: "cargo-ecs: service".to_owned(),
        vpc_id: vpc.to_owned(),
        ingress: vec![Ingress { port: 8080, from: Peer::Group(lb_name.clone()) }],
        tags: managed_tags(&svc_name),
    };
    let ids = BTreeMap::from([(lb_name.clone(), created.id.clone())]);
    let names = BTreeMap::from([(created.id.clone(), lb_name.clone())]);
    let svc = ec2::create_security_group(&clients.ec2, &svc_spec, &ids).await.expect("create service group");
    assert_eq!(svc.ingress, svc_spec.ingress);
    let found = ec2::observe_security_group(&clients.ec2, vpc, &svc_name).await.expect("observe").expect("exists");
    assert_eq!(found.state.ingress, vec![Ingress { port: 8080, from: Peer::Group(created.id.clone()) }], "ids");
    let named = ec2::name_group_peers(found.state, &names);
    assert_eq!(named, svc);
    assert_eq!(raw_rules(&clients, &svc.id).await, vec![(8080, created.id.clone())]);

    // An update adds 8443, revokes 80 (both families) and leaves 443 alone.
    let observed = ec2::observe_security_group(&clients.ec2, vpc, &lb_name).await.expect("observe").expect("exists");
    let new_spec = lb_group_spec(&lb_name, vpc, &[443, 8443]);
    let updated =
        ec2::update_security_group(&clients.ec2, &new_spec, &observed.state, &ids).await.expect("update LB group");
    assert_eq!(updated.ingress, new_spec.ingress);
    assert_eq!(raw_rules(&clients, &created.id).await, [both(443), both(8443)].concat());
    let again = ec2::observe_security_group(&clients.ec2, vpc, &lb_name).await.expect("observe").expect("exists");
    assert_eq!(again.state, updated);
    // Nothing to change: no call fails on a duplicate rule, nothing moves.
    let same = ec2::update_security_group(&clients.ec2, &new_spec, &again.state, &ids).await.expect("no-op update");
    assert_eq!(same, updated);
    assert_eq!(raw_rules(&clients, &created.id).await, [both(443), both(8443)].concat());

    // The service group moves to port 9090 from the load balancer group, by name as observed and named.
    let observed = ec2::observe_security_group(&clients.ec2, vpc, &svc_name).await.expect("observe").expect("exists");
    let moved =
        SecurityGroupSpec { ingress: vec![Ingress { port: 9090, from: Peer::Group(lb_name.clone()) }], ..svc_spec };
    let updated =
        ec2::update_security_group(&clients.ec2, &moved, &ec2::name_group_peers(observed.state, &names), &ids)
            .await
            .expect("update service group");
    assert_eq!(updated.ingress, moved.ingress);
    assert_eq!(raw_rules(&clients, &svc.id).await, vec![(9090, created.id.clone())]);

    // A group cargo-ecs did not create is observed as not managed.
    let theirs = unique_name("theirs");
    clients
        .ec2
        .create_security_group()
        .group_name(&theirs)
        .description("not ours")
        .vpc_id(vpc)
        .send()
        .await
        .expect("CreateSecurityGroup");
    let found = ec2::observe_security_group(&clients.ec2, vpc, &theirs).await.expect("observe").expect("exists");
    assert!(!found.managed);
    assert!(found.state.ingress.is_empty());

    let theirs_id = found.state.id;
    for id in [&svc.id, &created.id, &theirs_id] {
        clients.ec2.delete_security_group().group_id(id).send().await.expect("DeleteSecurityGroup");
    }
}

/// A certificate for `domain` (and `sans`), ISSUED at once on the stack.
async fn certificate(clients: &Clients, domain: &str, sans: &[&str]) -> String {
    let mut request = clients.acm.request_certificate().domain_name(domain);
    for san in sans {
        request = request.subject_alternative_names(*san);
    }
    let out = request.send().await.expect("RequestCertificate");
    out.certificate_arn().expect("certificate ARN").to_owned()
}

fn health_check(path: &str, interval: u32) -> HealthCheck {
    HealthCheck {
        path: path.to_owned(),
        interval,
        timeout: 5,
        healthy_threshold: 2,
        unhealthy_threshold: 3,
        matcher: "200-399".to_owned(),
    }
}

/// Two subnets of the default network in different zones, sorted.
fn two_subnets(network: &Network, skip: usize) -> Vec<String> {
    let mut subnets: Vec<String> = network.subnets.iter().skip(skip).take(2).map(|s| s.id.clone()).collect();
    subnets.sort();
    subnets
}

#[tokio::test]
async fn load_balancer_target_group_and_listeners_are_created_observed_and_updated() {
    let clients = aws_clients().await;
    let network = default_network(&clients).await;
    let vpc = network.vpc_id.as_str();
    let name = unique_name("alb");
    let group_spec = lb_group_spec(&name, vpc, &[80, 443]);
    let group = ec2::create_security_group(&clients.ec2, &group_spec, &BTreeMap::new()).await.expect("group");
    let domain = unique_domain();
    let certificate_arn = certificate(&clients, &format!("*.{domain}"), &[]).await;

    assert!(elb::observe_load_balancer(&clients.elb, &unique_name("none")).await.expect("describe").is_none());
    assert!(elb::observe_target_group(&clients.elb, &unique_name("none")).await.expect("describe").is_none());

    // Load balancer.
    let lb_spec = LoadBalancerSpec {
        name: name.clone(),
        subnets: two_subnets(&network, 0),
        security_group: name.clone(),
        tags: managed_tags(&name),
        user: name.clone(),
    };
    let lb = elb::create_load_balancer(&clients.elb, &lb_spec, &group.id).await.expect("create load balancer");
    assert_eq!(
        (lb.name.as_str(), lb.scheme.as_str(), lb.kind.as_str()),
        (name.as_str(), "internet-facing", "application")
    );
    assert_eq!(lb.subnets, lb_spec.subnets);
    assert_eq!(lb.security_groups, vec![group.id.clone()]);
    assert!(lb.arn.starts_with("arn:aws:elasticloadbalancing:us-east-1:"), "{lb:?}");
    assert!(!lb.dns_name.is_empty() && !lb.canonical_hosted_zone_id.is_empty(), "{lb:?}");
    let found = elb::observe_load_balancer(&clients.elb, &name).await.expect("observe").expect("exists");
    assert!(found.managed);
    assert_eq!(found.state, lb);

    // Target group.
    let tg_spec = TargetGroupSpec {
        name: name.clone(),
        vpc_id: vpc.to_owned(),
        port: 8080,
        health_check: health_check("/", 10),
        deregistration_delay: 15,
        tags: managed_tags(&name),
    };
    let tg = elb::create_target_group(&clients.elb, &tg_spec).await.expect("create target group");
    assert_eq!((tg.protocol.as_str(), tg.target_type.as_str(), tg.port), ("HTTP", "ip", 8080));
    assert_eq!((&tg.health_check, tg.deregistration_delay), (&tg_spec.health_check, 15));
    let found = elb::observe_target_group(&clients.elb, &name).await.expect("observe").expect("exists");
    assert!(found.managed);
    assert_eq!(found.state, tg);

    // Listeners: HTTPS forwards, HTTP redirects to it.
    let https = ListenerSpec {
        port: 443,
        protocol: "HTTPS".to_owned(),
        certificate_arn: Some(certificate_arn.clone()),
        ssl_policy: Some(TLS_POLICY.to_owned()),
        action: ListenerAction::Forward(name.clone()),
        claim: Claim::Owned,
    };
    let http = ListenerSpec {
        port: 80,
        protocol: "HTTP".to_owned(),
        certificate_arn: None,
        ssl_policy: None,
        action: ListenerAction::RedirectToHttps,
        claim: Claim::Owned,
    };
    let created_https = elb::create_listener(&clients.elb, &lb.arn, &https, Some(&tg.arn)).await.expect("HTTPS");
    let created_http = elb::create_listener(&clients.elb, &lb.arn, &http, None).await.expect("HTTP");
    let names = BTreeMap::from([(tg.arn.clone(), name.clone())]);
    let listeners = elb::observe_listeners(&clients.elb, &lb.arn, &names).await.expect("listeners");
    assert_eq!(listeners, vec![created_http.clone(), created_https.clone()]);
    for (state, spec) in listeners.iter().zip([&http, &https]) {
        let as_spec = (state.port, &state.protocol, &state.certificate_arn, &state.action);
        assert_eq!(as_spec, (spec.port, &spec.protocol, &spec.certificate_arn, &spec.action));
    }
    // Only HTTPS listeners have a TLS policy on AWS. moto 5.2.5 gives every new listener one
    // (ELBSecurityPolicy-2016-08, HTTP included) and no shim restores AWS's answer yet: assert the HTTPS one only.
    assert_eq!(listeners[1].ssl_policy.as_deref(), Some(TLS_POLICY));
    let unnamed = elb::observe_listeners(&clients.elb, &lb.arn, &BTreeMap::new()).await.expect("listeners");
    assert_eq!(unnamed[1].action, ListenerAction::Forward(tg.arn.clone()), "an unknown target group by ARN");
    let error = elb::create_listener(&clients.elb, &lb.arn, &ListenerSpec { port: 8443, ..https.clone() }, None)
        .await
        .expect_err("a forward needs the target group's ARN");
    assert!(error.to_string().contains(&name), "{error}");

    // The target group attaches to the load balancer through the listener.
    let found = elb::observe_target_group(&clients.elb, &name).await.expect("observe").expect("exists");
    assert_eq!(found.state.load_balancers, vec![lb.arn.clone()]);

    // A health check change and a longer drain.
    let changed = TargetGroupSpec { health_check: health_check("/health", 30), deregistration_delay: 60, ..tg_spec };
    let updated = elb::update_target_group(&clients.elb, &changed, &found.state).await.expect("update target group");
    assert_eq!((&updated.health_check, updated.deregistration_delay), (&changed.health_check, 60));
    let found = elb::observe_target_group(&clients.elb, &name).await.expect("observe").expect("exists");
    assert_eq!(found.state, updated);

    // The HTTP listener now forwards too.
    let forward_http = ListenerSpec { action: ListenerAction::Forward(name.clone()), ..http };
    let modified = elb::modify_listener(
        &clients.elb,
        &created_http.arn,
        &forward_http,
        Some(&tg.arn),
        ListenerChanges { action: true, ..ListenerChanges::default() },
    )
    .await
    .expect("modify");
    assert_eq!((modified.arn.as_str(), &modified.action), (created_http.arn.as_str(), &forward_http.action));
    let listeners = elb::observe_listeners(&clients.elb, &lb.arn, &names).await.expect("listeners");
    assert_eq!(listeners, vec![modified, created_https]);

    // Other subnets, and the same security group: only SetSubnets.
    let moved = LoadBalancerSpec { subnets: two_subnets(&network, 2), ..lb_spec };
    let updated = elb::update_load_balancer(&clients.elb, &moved, &lb, &group.id).await.expect("update LB");
    assert_eq!((&updated.subnets, &updated.security_groups), (&moved.subnets, &lb.security_groups));
    let found = elb::observe_load_balancer(&clients.elb, &name).await.expect("observe").expect("exists");
    assert_eq!(found.state, updated);

    // No targets registered: an empty health report.
    assert!(elb::target_health(&clients.elb, &tg.arn).await.expect("target health").is_empty());

    clients.elb.delete_load_balancer().load_balancer_arn(&lb.arn).send().await.expect("DeleteLoadBalancer");
    clients.elb.delete_target_group().target_group_arn(&tg.arn).send().await.expect("DeleteTargetGroup");
    clients.acm.delete_certificate().certificate_arn(&certificate_arn).send().await.expect("DeleteCertificate");
    clients.ec2.delete_security_group().group_id(&group.id).send().await.expect("DeleteSecurityGroup");
}

#[tokio::test]
async fn certificates_are_found_by_domain_or_arn() {
    let clients = aws_clients().await;
    let domain = unique_domain();
    let wildcard = certificate(&clients, &format!("*.{domain}"), &[]).await;
    let exact = certificate(&clients, &format!("api.{domain}"), &[]).await;

    let find = |wanted: String| {
        let acm = clients.acm.clone();
        async move { acm::find_certificate(&acm, &wanted).await.expect("find certificate") }
    };
    assert_eq!(find(format!("*.{domain}")).await, Some(wildcard.clone()), "a wildcard setting, a wildcard certificate");
    assert_eq!(find(format!("web.{domain}")).await, Some(wildcard.clone()), "covered by the wildcard");
    assert_eq!(find(format!("API.{domain}.")).await, Some(exact.clone()), "the exact one beats the wildcard");
    assert_eq!(find(format!("a.b.{domain}")).await, None, "a wildcard covers one label");
    // Finding a certificate by one of its subject alternative names is covered by the unit tests only: moto 5.2.5's
    // ListCertificates has no SubjectAlternativeNameSummaries (it sends DescribeCertificate's
    // SubjectAlternativeNames), so on the stack only the domain name can match.
    assert_eq!(find(format!("*.other-{domain}")).await, None);
    assert_eq!(find(exact.clone()).await, Some(exact.clone()), "an ARN, ISSUED");
    let prefix = exact.split_once("certificate/").map(|(p, _)| p).expect("certificate ARN");
    let gone = format!("{prefix}certificate/00000000-0000-0000-0000-000000000000");
    assert_eq!(find(gone).await, None, "an ARN that does not exist");

    for arn in [&wildcard, &exact] {
        clients.acm.delete_certificate().certificate_arn(arn).send().await.expect("DeleteCertificate");
    }
    assert_eq!(find(format!("*.{domain}")).await, None, "deleted");
}

#[tokio::test]
async fn zones_are_found_and_records_point_at_the_load_balancer() {
    let clients = aws_clients().await;
    let domain = unique_domain();
    let created = clients
        .route53
        .create_hosted_zone()
        .name(&domain)
        .caller_reference(unique_name("ref"))
        .send()
        .await
        .expect("CreateHostedZone");
    let zone_id = created.hosted_zone().map(|z| z.id().trim_start_matches("/hostedzone/")).expect("zone").to_owned();

    let zone = route53::find_zone(&clients.route53, &domain).await.expect("find zone").expect("zone exists");
    assert_eq!((zone.id.as_str(), zone.name.as_str(), zone.private), (zone_id.as_str(), domain.as_str(), false));
    let dotted = route53::find_zone(&clients.route53, &format!("{}.", domain.to_uppercase())).await.expect("find");
    assert_eq!(dotted, Some(zone.clone()), "trailing dot and case do not matter");
    assert_eq!(route53::find_zone(&clients.route53, &format!("x{domain}")).await.expect("find"), None);

    // A real load balancer to point at.
    let network = default_network(&clients).await;
    let name = unique_name("dns");
    let group =
        ec2::create_security_group(&clients.ec2, &lb_group_spec(&name, &network.vpc_id, &[80]), &BTreeMap::new())
            .await
            .expect("group");
    let lb_spec = LoadBalancerSpec {
        name: name.clone(),
        subnets: two_subnets(&network, 0),
        security_group: name.clone(),
        tags: managed_tags(&name),
        user: name.clone(),
    };
    let lb = elb::create_load_balancer(&clients.elb, &lb_spec, &group.id).await.expect("load balancer");

    let record_name = format!("api.{domain}");
    assert_eq!(route53::observe_record(&clients.route53, &zone.id, &record_name).await.expect("observe"), None);
    let alias = RecordSpec {
        zone_id: zone.id.clone(),
        name: record_name.clone(),
        kind: RecordKind::Alias,
        load_balancer: name,
    };
    let upsert = |spec: RecordSpec| {
        let (r53, dns, hz) = (clients.route53.clone(), lb.dns_name.clone(), lb.canonical_hosted_zone_id.clone());
        async move { route53::upsert_record(&r53, &spec, &dns, &hz).await.expect("upsert") }
    };
    let observe =
        || async { route53::observe_record(&clients.route53, &zone.id, &record_name).await.expect("observe") };
    let target = lb.dns_name.to_lowercase();
    let state = |kind| Some(RecordState { name: record_name.clone(), kind, target: target.clone() });

    upsert(alias.clone()).await;
    assert_eq!(observe().await, state(RecordKind::Alias));
    upsert(alias.clone()).await;
    assert_eq!(observe().await, state(RecordKind::Alias), "an UPSERT again changes nothing");

    // What Route 53 holds: the alias A record to dualstack.<lb> with target health evaluated, and nothing else.
    let types_at = || async {
        let out = clients
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(&zone.id)
            .send()
            .await
            .expect("ListResourceRecordSets");
        out.resource_record_sets()
            .iter()
            .filter(|r| r.name().trim_end_matches('.') == record_name)
            .cloned()
            .collect::<Vec<_>>()
    };
    let sets = types_at().await;
    assert_eq!(sets.len(), 1, "{sets:?}");
    let alias_target = sets[0].alias_target().expect("alias target");
    assert_eq!(sets[0].r#type().as_str(), "A");
    assert_eq!(alias_target.dns_name().trim_end_matches('.'), format!("dualstack.{}", lb.dns_name));
    assert_eq!(alias_target.hosted_zone_id(), lb.canonical_hosted_zone_id);
    assert!(alias_target.evaluate_target_health());

    // Switch to a CNAME, in one change batch: the A record goes.
    upsert(RecordSpec { kind: RecordKind::Cname, ..alias.clone() }).await;
    assert_eq!(observe().await, state(RecordKind::Cname));
    let sets = types_at().await;
    assert_eq!(sets.iter().map(|r| r.r#type().as_str().to_owned()).collect::<Vec<_>>(), ["CNAME"], "{sets:?}");
    assert_eq!(sets[0].ttl(), Some(60));
    // And back.
    upsert(alias).await;
    assert_eq!(observe().await, state(RecordKind::Alias));
    assert_eq!(types_at().await.len(), 1);

    assert!(route53::delete_record(&clients.route53, &zone.id, &record_name).await.expect("delete"));
    assert_eq!(observe().await, None);
    assert!(!route53::delete_record(&clients.route53, &zone.id, &record_name).await.expect("delete again"));

    clients.elb.delete_load_balancer().load_balancer_arn(&lb.arn).send().await.expect("DeleteLoadBalancer");
    clients.route53.delete_hosted_zone().id(&zone.id).send().await.expect("DeleteHostedZone");
    clients.ec2.delete_security_group().group_id(&group.id).send().await.expect("DeleteSecurityGroup");
}
