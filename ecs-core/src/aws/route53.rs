//! Route 53: the hosted zone, and the record that points the service's name at the load balancer.
//!
//! Names are compared lower case, without the trailing dot, with Route 53's octal escapes (`\052` for `*`)
//! decoded. Only simple records (no set identifier) are read and written.

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, HostedZoneConfig, ResourceRecord, ResourceRecordSet, RrType,
};

use super::{AwsError, AwsResult};
use crate::stack::model::{HostedZone, RecordKind, RecordSpec, RecordState};

/// TTL of a CNAME record cargo-ecs writes.
const CNAME_TTL: i64 = 60;

/// The hosted zone named `name` (with or without the trailing dot), or `None`. A public zone is preferred over a
/// private one of the same name.
///
/// # Errors
/// When a call fails.
pub async fn find_zone(client: &Client, name: &str) -> AwsResult<Option<HostedZone>> {
    let wanted = normalize_name(name);
    let mut zones = Vec::new();
    let mut next: Option<(String, Option<String>)> = Some((format!("{wanted}."), None));
    while let Some((dns_name, zone_id)) = next.take() {
        let out =
            client.list_hosted_zones_by_name().dns_name(dns_name).set_hosted_zone_id(zone_id).send().await.map_err(
                |e| AwsError::from_sdk("route53:ListHostedZonesByName", format!("hosted zone {wanted}"), &e),
            )?;
        let mut past = false;
        for zone in out.hosted_zones() {
            if normalize_name(zone.name()) == wanted {
                zones.push(HostedZone {
                    id: zone.id().trim_start_matches("/hostedzone/").to_owned(),
                    name: wanted.clone(),
                    private: zone.config().is_some_and(HostedZoneConfig::private_zone),
                });
            } else {
                past = true;
            }
        }
        // Zones come sorted by name: later pages only matter while they still start at this name.
        if out.is_truncated()
            && !past
            && let Some(dns_name) = out.next_dns_name().filter(|n| normalize_name(n) == wanted)
        {
            next = Some((dns_name.to_owned(), out.next_hosted_zone_id().map(str::to_owned)));
        }
    }
    Ok(zones.iter().find(|z| !z.private).or_else(|| zones.first()).cloned())
}

/// The record `name` in zone `zone_id` that cargo-ecs would write: an `A` record with an alias target
/// ([`RecordKind::Alias`]) or a `CNAME`; `None` when there is neither (other types are not read).
///
/// # Errors
/// When the call fails.
pub async fn observe_record(client: &Client, zone_id: &str, name: &str) -> AwsResult<Option<RecordState>> {
    Ok(find_record(client, zone_id, name).await?.and_then(|set| record_state(&set)))
}

/// Points `spec.name` at the load balancer (UPSERT): an alias `A` record to `dualstack.<lb_dns_name>` in
/// `lb_zone_id` evaluating target health, or a `CNAME` to `lb_dns_name` with a TTL of 60 s. When the name holds the
/// other kind of record (switching between alias and CNAME, which cannot coexist), it is deleted in the same
/// change batch, so the switch is atomic.
///
/// # Errors
/// When a call fails.
pub async fn upsert_record(client: &Client, spec: &RecordSpec, lb_dns_name: &str, lb_zone_id: &str) -> AwsResult<()> {
    const CALL: &str = "route53:ChangeResourceRecordSets";
    let resource = format!("record {}", spec.name);
    let target = lb_dns_name.trim_end_matches('.');
    let record = match spec.kind {
        RecordKind::Alias => ResourceRecordSet::builder().r#type(RrType::A).alias_target(
            AliasTarget::builder()
                .hosted_zone_id(lb_zone_id)
                .dns_name(format!("dualstack.{target}"))
                .evaluate_target_health(true)
                .build()
                .map_err(|e| AwsError::other(CALL, &resource, e.to_string()))?,
        ),
        RecordKind::Cname => ResourceRecordSet::builder().r#type(RrType::Cname).ttl(CNAME_TTL).resource_records(
            ResourceRecord::builder()
                .value(target)
                .build()
                .map_err(|e| AwsError::other(CALL, &resource, e.to_string()))?,
        ),
    }
    .name(&spec.name)
    .build()
    .map_err(|e| AwsError::other(CALL, &resource, e.to_string()))?;
    let mut changes = Vec::new();
    if let Some(existing) = find_record(client, &spec.zone_id, &spec.name).await?
        && existing.r#type() != record.r#type()
    {
        changes.push((ChangeAction::Delete, existing));
    }
    changes.push((ChangeAction::Upsert, record));
    change(client, &spec.zone_id, &resource, changes).await
}

/// Deletes the record `name` in zone `zone_id` that [`observe_record`] reports, exactly as Route 53 lists it.
/// Returns whether there was one.
///
/// # Errors
/// When a call fails.
pub async fn delete_record(client: &Client, zone_id: &str, name: &str) -> AwsResult<bool> {
    let Some(existing) = find_record(client, zone_id, name).await? else { return Ok(false) };
    change(client, zone_id, &format!("record {name}"), vec![(ChangeAction::Delete, existing)]).await?;
    Ok(true)
}

/// Sends one change batch.
async fn change(
    client: &Client,
    zone_id: &str,
    resource: &str,
    changes: Vec<(ChangeAction, ResourceRecordSet)>,
) -> AwsResult<()> {
    const CALL: &str = "route53:ChangeResourceRecordSets";
    let changes = changes
        .into_iter()
        .map(|(action, set)| Change::builder().action(action).resource_record_set(set).build())
        .collect::<Result<Vec<_>, _>>()
        .and_then(|changes| ChangeBatch::builder().comment("cargo-ecs").set_changes(Some(changes)).build())
        .map_err(|e| AwsError::other(CALL, resource, e.to_string()))?;
    client
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(changes)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, resource, &e))?;
    Ok(())
}

/// The simple alias `A` or `CNAME` record named `name`, as Route 53 lists it.
async fn find_record(client: &Client, zone_id: &str, name: &str) -> AwsResult<Option<ResourceRecordSet>> {
    let wanted = normalize_name(name);
    let mut start = Some((format!("{wanted}."), None::<RrType>, None::<String>));
    while let Some((start_name, start_type, start_id)) = start.take() {
        let out = client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(start_name)
            .set_start_record_type(start_type)
            .set_start_record_identifier(start_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("route53:ListResourceRecordSets", format!("record {wanted}"), &e))?;
        for set in out.resource_record_sets() {
            if normalize_name(set.name()) != wanted {
                // Sorted by name: the records of this name are all listed.
                return Ok(None);
            }
            if set.set_identifier().is_none() && record_state(set).is_some() {
                return Ok(Some(set.clone()));
            }
        }
        if out.is_truncated()
            && let Some(next) = out.next_record_name().filter(|n| normalize_name(n) == wanted)
        {
            start = Some((
                next.to_owned(),
                out.next_record_type().cloned(),
                out.next_record_identifier().map(str::to_owned),
            ));
        }
    }
    Ok(None)
}

/// The model of a simple alias `A` or `CNAME` record.
fn record_state(set: &ResourceRecordSet) -> Option<RecordState> {
    let (kind, target) = match (set.r#type(), set.alias_target()) {
        (RrType::A, Some(alias)) => (RecordKind::Alias, alias.dns_name()),
        (RrType::Cname, None) => (RecordKind::Cname, set.resource_records().first()?.value()),
        _ => return None,
    };
    Some(RecordState { name: normalize_name(set.name()), kind, target: normalize_target(target) })
}

/// A record's target as the model keeps it: lower case, no trailing dot, no `dualstack.` prefix.
fn normalize_target(target: &str) -> String {
    let target = normalize_name(target);
    target.strip_prefix("dualstack.").map(str::to_owned).unwrap_or(target)
}

/// A name as the model keeps it: lower case, no trailing dot, octal escapes (`\052`) decoded.
fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(digits) = chars.as_str().get(..3)
            && digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
            && let Ok(code) = u32::from_str_radix(digits, 8)
            && let Some(decoded) = char::from_u32(code)
        {
            out.push(decoded);
            chars.nth(2);
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_lose_case_trailing_dot_and_dualstack() {
        assert_eq!(
            normalize_target("dualstack.My-LB-1.us-east-1.elb.amazonaws.com."),
            "my-lb-1.us-east-1.elb.amazonaws.com"
        );
        assert_eq!(normalize_target("my-lb-1.us-east-1.elb.amazonaws.com"), "my-lb-1.us-east-1.elb.amazonaws.com");
        assert_eq!(normalize_target("DUALSTACK.x.example.com."), "x.example.com");
        assert_eq!(normalize_target("a.dualstack.example.com"), "a.dualstack.example.com", "only a leading prefix");
    }

    #[test]
    fn names_decode_escapes() {
        assert_eq!(normalize_name("\\052.Example.com."), "*.example.com");
        assert_eq!(normalize_name("api.example.com"), "api.example.com");
        assert_eq!(normalize_name("a\\05"), "a\\05", "an incomplete escape stays");
        assert_eq!(normalize_name("a\\+12b"), "a\\+12b", "digits only");
    }

    #[test]
    fn alias_and_cname_records_are_read_and_others_not() {
        let alias = ResourceRecordSet::builder()
            .name("API.example.com.")
            .r#type(RrType::A)
            .alias_target(
                AliasTarget::builder()
                    .hosted_zone_id("Z1")
                    .dns_name("dualstack.lb-1.us-east-1.elb.amazonaws.com.")
                    .evaluate_target_health(true)
                    .build()
                    .expect("alias"),
            )
            .build()
            .expect("record");
        assert_eq!(
            record_state(&alias),
            Some(RecordState {
                name: "api.example.com".into(),
                kind: RecordKind::Alias,
                target: "lb-1.us-east-1.elb.amazonaws.com".into()
            })
        );
        let cname = ResourceRecordSet::builder()
            .name("api.example.com.")
            .r#type(RrType::Cname)
            .ttl(60)
            .resource_records(ResourceRecord::builder().value("LB-1.elb.amazonaws.com").build().expect("value"))
            .build()
            .expect("record");
        assert_eq!(
            record_state(&cname).map(|r| (r.kind, r.target)),
            Some((RecordKind::Cname, "lb-1.elb.amazonaws.com".into()))
        );
        let plain_a = ResourceRecordSet::builder()
            .name("api.example.com.")
            .r#type(RrType::A)
            .ttl(60)
            .resource_records(ResourceRecord::builder().value("192.0.2.1").build().expect("value"))
            .build()
            .expect("record");
        assert_eq!(record_state(&plain_a), None);
    }
}
