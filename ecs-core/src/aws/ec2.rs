//! EC2: the VPC and subnets a service runs in (read, never changed), and the security groups cargo-ecs keeps.
//!
//! Security group rules are modelled as [`Ingress`]: one TCP port and one [`Peer`]. A rule AWS lists is read when
//! it is TCP on a single port from `0.0.0.0/0` or `::/0` (both [`Peer::Anywhere`]) or from a security group
//! ([`Peer::Group`] with its id, see [`name_group_peers`]); other rules (port ranges, other protocols, other CIDR
//! blocks, prefix lists) are not part of the model, are not read, and are never changed.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, ResourceType, RouteState, RouteTable, SecurityGroup, Tag,
    TagSpecification, UserIdGroupPair,
};

use super::{AwsError, AwsResult};
use crate::stack::model::{
    Found, Ingress, Network, Peer, SecurityGroupSpec, SecurityGroupState, SubnetInfo, Tags, is_managed,
};

/// All IPv4 addresses.
const ANYWHERE_V4: &str = "0.0.0.0/0";
/// All IPv6 addresses.
const ANYWHERE_V6: &str = "::/0";

// -------------------------------------------------------------------------------------------------------------
// Network

/// The VPC and subnets to run in: `vpc`, or the region's default VPC; `subnets`, or all subnets of the VPC. Each
/// subnet comes with its availability zone and whether it is public (see [`SubnetInfo::public`]), sorted by id.
///
/// # Errors
/// When a call fails (an unknown VPC or subnet id among them), when there is no default VPC and no `vpc` was
/// given, or when a given subnet is in another VPC.
pub async fn observe_network(
    client: &aws_sdk_ec2::Client,
    vpc: Option<&str>,
    subnets: &[String],
) -> AwsResult<Network> {
    let vpc_id = match vpc {
        Some(id) => find_vpc(client, id).await?,
        None => default_vpc(client).await?,
    };
    let listed = async {
        if subnets.is_empty() {
            describe_subnets(client, Vec::new(), vec![filter("vpc-id", &vpc_id)], &format!("subnets of {vpc_id}")).await
        } else {
            describe_subnets(client, subnets.to_vec(), Vec::new(), &format!("subnets {}", subnets.join(", "))).await
        }
    };
    let tables = async {
        client
            .describe_route_tables()
            .filters(filter("vpc-id", &vpc_id))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DescribeRouteTables", format!("route tables of {vpc_id}"), &e))
    };
    // Both need only the VPC: read them at the same time.
    let (listed, tables): (_, Vec<_>) = tokio::try_join!(listed, tables)?;
    let elsewhere: Vec<&aws_sdk_ec2::types::Subnet> =
        listed.iter().filter(|s| s.vpc_id() != Some(vpc_id.as_str())).collect();
    if !elsewhere.is_empty() {
        let ids: Vec<&str> = elsewhere.iter().map(|s| s.subnet_id().unwrap_or("?")).collect();
        let vpcs: BTreeSet<&str> = elsewhere.iter().map(|s| s.vpc_id().unwrap_or("no VPC")).collect();
        return Err(AwsError::other(
            "ec2:DescribeSubnets",
            format!("subnets {}", ids.join(", ")),
            format!(
                "they are in {}, not in {vpc_id}: set `subnets` to subnets of {vpc_id}, or `vpc` to theirs",
                vpcs.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let mut infos: Vec<SubnetInfo> = listed
        .iter()
        .filter_map(|s| {
            let id = s.subnet_id()?;
            Some(SubnetInfo {
                id: id.to_owned(),
                availability_zone: s.availability_zone().unwrap_or_default().to_owned(),
                public: subnet_is_public(id, &tables),
            })
        })
        .collect();
    infos.sort_by(|a, b| a.id.cmp(&b.id));
    infos.dedup_by(|a, b| a.id == b.id);
    Ok(Network { vpc_id, subnets: infos })
}

/// The id of VPC `id`, checked to exist.
async fn find_vpc(client: &aws_sdk_ec2::Client, id: &str) -> AwsResult<String> {
    const CALL: &str = "ec2:DescribeVpcs";
    let out = client
        .describe_vpcs()
        .vpc_ids(id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, format!("VPC {id}"), &e))?;
    out.vpcs()
        .iter()
        .find_map(|v| v.vpc_id().filter(|v| *v == id))
        .map(str::to_owned)
        .ok_or_else(|| AwsError::other(CALL, format!("VPC {id}"), "no such VPC in this region"))
}

/// The id of the region's default VPC.
async fn default_vpc(client: &aws_sdk_ec2::Client) -> AwsResult<String> {
    const CALL: &str = "ec2:DescribeVpcs";
    let vpcs = client
        .describe_vpcs()
        .filters(filter("is-default", "true"))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, "the default VPC", &e))?;
    vpcs.iter().filter(|v| v.is_default() == Some(true)).find_map(|v| v.vpc_id()).map(str::to_owned).ok_or_else(|| {
        let region = client.config().region().map_or_else(|| "this region".to_owned(), |r| format!("region {r}"));
        AwsError::other(
            CALL,
            "the default VPC",
            format!("there is no default VPC in {region}: set `vpc` and `subnets` to the network to run in"),
        )
    })
}

/// Subnets by id (`ids`) or by `filters`.
async fn describe_subnets(
    client: &aws_sdk_ec2::Client,
    ids: Vec<String>,
    filters: Vec<Filter>,
    resource: &str,
) -> AwsResult<Vec<aws_sdk_ec2::types::Subnet>> {
    client
        .describe_subnets()
        .set_subnet_ids((!ids.is_empty()).then_some(ids))
        .set_filters((!filters.is_empty()).then_some(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSubnets", resource, &e))
}

/// Whether `subnet_id`'s route table (its explicit association, else the VPC's main table, among `tables` of its
/// VPC) routes `0.0.0.0/0` to an internet gateway.
fn subnet_is_public(subnet_id: &str, tables: &[RouteTable]) -> bool {
    let associated = |table: &&RouteTable, main: bool| {
        table
            .associations()
            .iter()
            .any(|a| if main { a.main() == Some(true) } else { a.subnet_id() == Some(subnet_id) })
    };
    let table = tables.iter().find(|t| associated(t, false)).or_else(|| tables.iter().find(|t| associated(t, true)));
    table.is_some_and(|t| {
        t.routes().iter().any(|r| {
            r.destination_cidr_block() == Some(ANYWHERE_V4)
                && r.gateway_id().is_some_and(|g| g.starts_with("igw-"))
                && r.state() != Some(&RouteState::Blackhole)
        })
    })
}

// -------------------------------------------------------------------------------------------------------------
// Security groups: reading

/// Where one rule lets traffic come from, as AWS lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// An IPv4 CIDR block.
    V4(String),
    /// An IPv6 CIDR block.
    V6(String),
    /// A security group, by id.
    Group(String),
}

impl Source {
    /// The model's peer for it, when it has one.
    fn peer(&self) -> Option<Peer> {
        match self {
            Self::V4(cidr) if cidr == ANYWHERE_V4 => Some(Peer::Anywhere),
            Self::V6(cidr) if cidr == ANYWHERE_V6 => Some(Peer::Anywhere),
            Self::Group(id) => Some(Peer::Group(id.clone())),
            Self::V4(_) | Self::V6(_) => None,
        }
    }
}

/// One single-port TCP rule with one source, as AWS lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    port: u16,
    source: Source,
}

/// The group's single-port TCP ingress rules, one per source.
fn tcp_rules(group: &SecurityGroup) -> Vec<Rule> {
    let mut rules = Vec::new();
    for permission in group.ip_permissions() {
        if !matches!(permission.ip_protocol(), Some("tcp" | "6")) || permission.from_port() != permission.to_port() {
            continue;
        }
        let Some(port) = permission.from_port().and_then(|p| u16::try_from(p).ok()) else { continue };
        let sources = permission
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(|c| Source::V4(c.to_owned())))
            .chain(permission.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6().map(|c| Source::V6(c.to_owned()))))
            .chain(
                permission
                    .user_id_group_pairs()
                    .iter()
                    .filter_map(|p| p.group_id().map(|g| Source::Group(g.to_owned()))),
            );
        rules.extend(sources.map(|source| Rule { port, source }));
    }
    rules
}

/// The model of `group`: group peers carry ids.
fn group_state(group: &SecurityGroup) -> SecurityGroupState {
    let ingress: BTreeSet<Ingress> =
        tcp_rules(group).into_iter().filter_map(|r| Some(Ingress { port: r.port, from: r.source.peer()? })).collect();
    SecurityGroupState {
        id: group.group_id().unwrap_or_default().to_owned(),
        name: group.group_name().unwrap_or_default().to_owned(),
        vpc_id: group.vpc_id().unwrap_or_default().to_owned(),
        ingress: ingress.into_iter().collect(),
    }
}

/// The security group `name` in `vpc_id`, or `None`. Group peers carry the peer group's id: see
/// [`name_group_peers`].
///
/// # Errors
/// When the call fails.
pub async fn observe_security_group(
    client: &aws_sdk_ec2::Client,
    vpc_id: &str,
    name: &str,
) -> AwsResult<Option<Found<SecurityGroupState>>> {
    let groups = client
        .describe_security_groups()
        .filters(filter("vpc-id", vpc_id))
        .filters(filter("group-name", name))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", format!("security group {name}"), &e))?;
    Ok(groups
        .iter()
        .find(|g| g.group_name() == Some(name))
        .map(|g| Found { state: group_state(g), managed: is_managed(&tags_from_sdk(g.tags())) }))
}

/// `state` with each [`Peer::Group`] id found in `names_by_id` replaced by the group's name (ingress sorted again).
#[must_use]
pub fn name_group_peers(state: SecurityGroupState, names_by_id: &BTreeMap<String, String>) -> SecurityGroupState {
    let ingress: BTreeSet<Ingress> = state
        .ingress
        .into_iter()
        .map(|rule| match rule.from {
            Peer::Group(id) => {
                let from = Peer::Group(names_by_id.get(&id).cloned().unwrap_or(id));
                Ingress { port: rule.port, from }
            }
            Peer::Anywhere => rule,
        })
        .collect();
    SecurityGroupState { ingress: ingress.into_iter().collect(), ..state }
}

// -------------------------------------------------------------------------------------------------------------
// Security groups: writing

/// Creates the group with `spec.tags` (as given: the desired spec carries the managed tag) and authorizes
/// `spec.ingress`: [`Peer::Anywhere`] as `0.0.0.0/0` and `::/0`, [`Peer::Group`] names resolved through
/// `group_ids` (name → id; a peer that is already an id `sg-…` is used as is). Each rule has a description.
///
/// # Errors
/// When a call fails, or a peer group has no id in `group_ids`.
pub async fn create_security_group(
    client: &aws_sdk_ec2::Client,
    spec: &SecurityGroupSpec,
    group_ids: &BTreeMap<String, String>,
) -> AwsResult<SecurityGroupState> {
    const CALL: &str = "ec2:CreateSecurityGroup";
    let resource = format!("security group {}", spec.name);
    let permissions = authorizations(&spec.name, &spec.ingress, group_ids)?;
    let created = client
        .create_security_group()
        .group_name(&spec.name)
        .description(&spec.description)
        .vpc_id(&spec.vpc_id)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::SecurityGroup)
                .set_tags(Some(tags_to_sdk(&spec.tags)))
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, &resource, &e))?;
    let id = created.group_id().ok_or_else(|| AwsError::other(CALL, &resource, "the answer has no group id"))?;
    authorize(client, id, &spec.name, permissions).await?;
    Ok(SecurityGroupState {
        id: id.to_owned(),
        name: spec.name.clone(),
        vpc_id: spec.vpc_id.clone(),
        ingress: sorted(spec.ingress.iter().cloned()),
    })
}

/// Brings the group `state` (peers named as by [`name_group_peers`]) to `spec.ingress`: authorizes the rules it
/// lacks (as [`create_security_group`] does) and revokes the modelled TCP rules `spec` does not have, exactly as
/// AWS lists them. The description and tags of an existing group are left as they are.
///
/// # Errors
/// When a call fails, or a peer group has no id in `group_ids`.
pub async fn update_security_group(
    client: &aws_sdk_ec2::Client,
    spec: &SecurityGroupSpec,
    state: &SecurityGroupState,
    group_ids: &BTreeMap<String, String>,
) -> AwsResult<SecurityGroupState> {
    let missing: Vec<Ingress> = spec.ingress.iter().filter(|r| !state.ingress.contains(r)).cloned().collect();
    let extra: Vec<&Ingress> = state.ingress.iter().filter(|r| !spec.ingress.contains(r)).collect();
    authorize(client, &state.id, &state.name, authorizations(&state.name, &missing, group_ids)?).await?;
    if !extra.is_empty() {
        let resource = format!("security group {}", state.name);
        let out = client
            .describe_security_groups()
            .group_ids(&state.id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", &resource, &e))?;
        let listed = out.security_groups().iter().find(|g| g.group_id() == Some(state.id.as_str()));
        let revoke: Vec<IpPermission> = listed
            .map(tcp_rules)
            .unwrap_or_default()
            .into_iter()
            .filter(|rule| extra.iter().any(|e| is_rule_of(rule, e, group_ids)))
            .map(|rule| permission(rule.port, &[rule.source], None))
            .collect();
        if !revoke.is_empty() {
            client
                .revoke_security_group_ingress()
                .group_id(&state.id)
                .set_ip_permissions(Some(revoke))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:RevokeSecurityGroupIngress", &resource, &e))?;
        }
    }
    Ok(SecurityGroupState { ingress: sorted(spec.ingress.iter().cloned()), ..state.clone() })
}

/// Whether the listed `rule` is one that `ingress` (peer by name or id) stands for.
fn is_rule_of(rule: &Rule, ingress: &Ingress, group_ids: &BTreeMap<String, String>) -> bool {
    rule.port == ingress.port
        && match (rule.source.peer(), &ingress.from) {
            (Some(Peer::Anywhere), Peer::Anywhere) => true,
            (Some(Peer::Group(id)), Peer::Group(peer)) => *peer == id || group_ids.get(peer) == Some(&id),
            _ => false,
        }
}

/// The permissions that grant `ingress`, peer group names resolved through `group_ids` (`group`, the group they
/// are for, names it in errors).
fn authorizations(
    group: &str,
    ingress: &[Ingress],
    group_ids: &BTreeMap<String, String>,
) -> AwsResult<Vec<IpPermission>> {
    ingress
        .iter()
        .map(|rule| match &rule.from {
            Peer::Anywhere => Ok(permission(
                rule.port,
                &[Source::V4(ANYWHERE_V4.to_owned()), Source::V6(ANYWHERE_V6.to_owned())],
                Some(&format!("cargo-ecs: port {} from anywhere", rule.port)),
            )),
            Peer::Group(peer) => {
                let id = match group_ids.get(peer) {
                    Some(id) => id.clone(),
                    None if peer.starts_with("sg-") => peer.clone(),
                    None => {
                        return Err(AwsError::other(
                            "ec2:AuthorizeSecurityGroupIngress",
                            format!("security group {group}"),
                            format!("the id of peer security group {peer} is not known"),
                        ));
                    }
                };
                Ok(permission(
                    rule.port,
                    &[Source::Group(id)],
                    Some(&format!("cargo-ecs: port {} from {peer}", rule.port)),
                ))
            }
        })
        .collect()
}

/// A TCP permission on `port` from `sources`, each with `description` when given.
fn permission(port: u16, sources: &[Source], description: Option<&str>) -> IpPermission {
    let mut builder = IpPermission::builder().ip_protocol("tcp").from_port(i32::from(port)).to_port(i32::from(port));
    for source in sources {
        builder = match source {
            Source::V4(cidr) => builder
                .ip_ranges(IpRange::builder().cidr_ip(cidr).set_description(description.map(str::to_owned)).build()),
            Source::V6(cidr) => builder.ipv6_ranges(
                Ipv6Range::builder().cidr_ipv6(cidr).set_description(description.map(str::to_owned)).build(),
            ),
            Source::Group(id) => builder.user_id_group_pairs(
                UserIdGroupPair::builder().group_id(id).set_description(description.map(str::to_owned)).build(),
            ),
        };
    }
    builder.build()
}

/// Authorizes `permissions` (none: no call). Right after CreateSecurityGroup EC2 may not know the group yet
/// (eventual consistency, as the EC2 API reference describes): `InvalidGroup.NotFound` is retried for a few seconds.
async fn authorize(
    client: &aws_sdk_ec2::Client,
    id: &str,
    name: &str,
    permissions: Vec<IpPermission>,
) -> AwsResult<()> {
    if permissions.is_empty() {
        return Ok(());
    }
    let mut delay = std::time::Duration::from_millis(500);
    let mut attempt = 1;
    loop {
        let sent = client
            .authorize_security_group_ingress()
            .group_id(id)
            .set_ip_permissions(Some(permissions.clone()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:AuthorizeSecurityGroupIngress", format!("security group {name}"), &e));
        match sent {
            Err(error) if attempt < 6 && error.code.as_deref() == Some("InvalidGroup.NotFound") => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            // Some rules exist already: the call is all or nothing, so add them one source at a time. This is
            // how a retried call whose first answer was lost ends, or one that raced another deploy of a service
            // sharing the group.
            Err(error) if error.code.as_deref() == Some("InvalidPermission.Duplicate") && sources(&permissions) > 1 => {
                for single in split(&permissions) {
                    let sent = client
                        .authorize_security_group_ingress()
                        .group_id(id)
                        .ip_permissions(single)
                        .send()
                        .await
                        .map_err(|e| {
                            AwsError::from_sdk(
                                "ec2:AuthorizeSecurityGroupIngress",
                                format!("security group {name}"),
                                &e,
                            )
                        });
                    match sent {
                        Err(error) if error.code.as_deref() == Some("InvalidPermission.Duplicate") => {}
                        other => {
                            other?;
                        }
                    }
                }
                return Ok(());
            }
            Err(error) if error.code.as_deref() == Some("InvalidPermission.Duplicate") => return Ok(()),
            other => return other.map(|_| ()),
        }
    }
}

/// How many sources (address ranges, groups) `permissions` name in all.
fn sources(permissions: &[IpPermission]) -> usize {
    permissions.iter().map(|p| p.ip_ranges().len() + p.ipv6_ranges().len() + p.user_id_group_pairs().len()).sum()
}

/// `permissions` as one permission per source.
fn split(permissions: &[IpPermission]) -> Vec<IpPermission> {
    let mut singles = Vec::new();
    for p in permissions {
        let base = || {
            IpPermission::builder()
                .set_ip_protocol(p.ip_protocol().map(str::to_owned))
                .set_from_port(p.from_port())
                .set_to_port(p.to_port())
        };
        singles.extend(p.ip_ranges().iter().map(|r| base().ip_ranges(r.clone()).build()));
        singles.extend(p.ipv6_ranges().iter().map(|r| base().ipv6_ranges(r.clone()).build()));
        singles.extend(p.user_id_group_pairs().iter().map(|g| base().user_id_group_pairs(g.clone()).build()));
    }
    singles
}

// -------------------------------------------------------------------------------------------------------------
// Helpers

/// An EC2 filter with one value.
fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// Sorted, without duplicates.
fn sorted(ingress: impl IntoIterator<Item = Ingress>) -> Vec<Ingress> {
    ingress.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

/// EC2 tags as the model's.
fn tags_from_sdk(tags: &[Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect()
}

/// The model's tags as EC2's.
fn tags_to_sdk(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// Attempts of [`delete_security_group`] while AWS says the group is still in use (network interfaces of stopped
/// tasks and of a deleted load balancer linger for a while).
const DELETE_GROUP_ATTEMPTS: u32 = 8;

/// Deletes the security group `id` (`name` for messages), retrying with backoff while AWS answers
/// `DependencyViolation`. One already gone is success.
///
/// # Errors
/// When DeleteSecurityGroup fails otherwise, or the group is still in use after the last attempt.
pub async fn delete_security_group(client: &aws_sdk_ec2::Client, id: &str, name: &str) -> AwsResult<()> {
    let mut delay = std::time::Duration::from_secs(2);
    let mut attempt = 1;
    loop {
        let result = client
            .delete_security_group()
            .group_id(id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DeleteSecurityGroup", format!("security group {name}"), &e));
        match result {
            Ok(_) => return Ok(()),
            Err(error) if error.is_not_found() => return Ok(()),
            Err(error) if error.code.as_deref() == Some("DependencyViolation") && attempt < DELETE_GROUP_ATTEMPTS => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(15));
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{Route, RouteTableAssociation};

    use super::*;

    fn table(associations: &[(Option<&str>, bool)], routes: &[(&str, &str)]) -> RouteTable {
        let mut builder = RouteTable::builder();
        for (subnet, main) in associations {
            builder = builder.associations(
                RouteTableAssociation::builder().set_subnet_id(subnet.map(str::to_owned)).main(*main).build(),
            );
        }
        for (cidr, gateway) in routes {
            builder = builder.routes(Route::builder().destination_cidr_block(*cidr).gateway_id(*gateway).build());
        }
        builder.build()
    }

    #[test]
    fn a_subnet_uses_its_own_table_else_the_main_one() {
        let main_private = table(&[(None, true)], &[("10.0.0.0/16", "local")]);
        let public = table(&[(Some("subnet-a"), false)], &[("10.0.0.0/16", "local"), ("0.0.0.0/0", "igw-1")]);
        let tables = [main_private.clone(), public.clone()];
        assert!(subnet_is_public("subnet-a", &tables));
        assert!(!subnet_is_public("subnet-b", &tables));

        let main_public = table(&[(None, true)], &[("0.0.0.0/0", "igw-2")]);
        let private = table(&[(Some("subnet-c"), false)], &[("10.0.0.0/16", "local")]);
        let tables = [main_public, private];
        assert!(subnet_is_public("subnet-d", &tables), "no explicit association: the main table");
        assert!(!subnet_is_public("subnet-c", &tables), "the explicit association wins over the main table");
        assert!(!subnet_is_public("subnet-x", &[]), "no table at all");
    }

    #[test]
    fn only_a_default_route_to_an_internet_gateway_is_public() {
        let nat = table(&[(None, true)], &[("0.0.0.0/0", "nat-1")]);
        let partial = table(&[(None, true)], &[("1.2.3.0/24", "igw-1")]);
        assert!(!subnet_is_public("subnet-a", &[nat]));
        assert!(!subnet_is_public("subnet-a", &[partial]));
        let blackhole = RouteTable::builder()
            .associations(RouteTableAssociation::builder().main(true).build())
            .routes(
                Route::builder()
                    .destination_cidr_block("0.0.0.0/0")
                    .gateway_id("igw-gone")
                    .state(RouteState::Blackhole)
                    .build(),
            )
            .build();
        assert!(!subnet_is_public("subnet-a", &[blackhole]));
    }

    fn group(permissions: Vec<IpPermission>) -> SecurityGroup {
        SecurityGroup::builder()
            .group_id("sg-1")
            .group_name("svc")
            .vpc_id("vpc-1")
            .set_ip_permissions(Some(permissions))
            .build()
    }

    #[test]
    fn modelled_rules_are_read_and_the_rest_left_out() {
        let anywhere = permission(443, &[Source::V4(ANYWHERE_V4.into()), Source::V6(ANYWHERE_V6.into())], Some("d"));
        let v4_only = permission(80, &[Source::V4(ANYWHERE_V4.into())], None);
        let from_group = permission(8080, &[Source::Group("sg-lb".into())], None);
        let other_cidr = permission(22, &[Source::V4("10.0.0.0/8".into())], None);
        let range = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(1000)
            .to_port(2000)
            .ip_ranges(IpRange::builder().cidr_ip(ANYWHERE_V4).build());
        let udp = IpPermission::builder()
            .ip_protocol("udp")
            .from_port(53)
            .to_port(53)
            .ip_ranges(IpRange::builder().cidr_ip(ANYWHERE_V4).build());
        let state = group_state(&group(vec![anywhere, v4_only, from_group, other_cidr, range.build(), udp.build()]));
        assert_eq!(
            state.ingress,
            vec![
                Ingress { port: 80, from: Peer::Anywhere },
                Ingress { port: 443, from: Peer::Anywhere },
                Ingress { port: 8080, from: Peer::Group("sg-lb".into()) },
            ]
        );
        assert_eq!((state.id.as_str(), state.name.as_str(), state.vpc_id.as_str()), ("sg-1", "svc", "vpc-1"));
    }

    #[test]
    fn group_peers_get_names_where_known() {
        let state = SecurityGroupState {
            id: "sg-1".into(),
            name: "svc".into(),
            vpc_id: "vpc-1".into(),
            ingress: vec![
                Ingress { port: 80, from: Peer::Group("sg-zz".into()) },
                Ingress { port: 80, from: Peer::Group("sg-lb".into()) },
                Ingress { port: 80, from: Peer::Anywhere },
            ],
        };
        let names = BTreeMap::from([("sg-lb".to_owned(), "a-lb".to_owned())]);
        let named = name_group_peers(state, &names);
        assert_eq!(
            named.ingress,
            vec![
                Ingress { port: 80, from: Peer::Anywhere },
                Ingress { port: 80, from: Peer::Group("a-lb".into()) },
                Ingress { port: 80, from: Peer::Group("sg-zz".into()) },
            ]
        );
    }

    #[test]
    fn authorizations_resolve_names_and_cover_both_address_families() {
        let ids = BTreeMap::from([("lb".to_owned(), "sg-lb".to_owned())]);
        let ingress =
            [Ingress { port: 443, from: Peer::Anywhere }, Ingress { port: 80, from: Peer::Group("lb".into()) }];
        let permissions = authorizations("svc", &ingress, &ids).expect("resolved");
        assert_eq!(permissions[0].ip_ranges()[0].cidr_ip(), Some(ANYWHERE_V4));
        assert_eq!(permissions[0].ipv6_ranges()[0].cidr_ipv6(), Some(ANYWHERE_V6));
        assert!(permissions[0].ip_ranges()[0].description().is_some_and(|d| d.contains("anywhere")));
        assert_eq!(permissions[1].user_id_group_pairs()[0].group_id(), Some("sg-lb"));
        assert_eq!((permissions[1].from_port(), permissions[1].to_port()), (Some(80), Some(80)));

        let unknown = [Ingress { port: 80, from: Peer::Group("nope".into()) }];
        let error = authorizations("svc", &unknown, &ids).expect_err("unknown peer");
        assert!(error.message.contains("nope"), "{error}");
    }

    #[test]
    fn listed_rules_match_the_ingress_they_stand_for() {
        let ids = BTreeMap::from([("lb".to_owned(), "sg-lb".to_owned())]);
        let v6 = Rule { port: 80, source: Source::V6(ANYWHERE_V6.into()) };
        let group = Rule { port: 80, source: Source::Group("sg-lb".into()) };
        assert!(is_rule_of(&v6, &Ingress { port: 80, from: Peer::Anywhere }, &ids));
        assert!(!is_rule_of(&v6, &Ingress { port: 81, from: Peer::Anywhere }, &ids));
        assert!(is_rule_of(&group, &Ingress { port: 80, from: Peer::Group("lb".into()) }, &ids));
        assert!(is_rule_of(&group, &Ingress { port: 80, from: Peer::Group("sg-lb".into()) }, &ids));
        assert!(!is_rule_of(&group, &Ingress { port: 80, from: Peer::Anywhere }, &ids));
    }
}
