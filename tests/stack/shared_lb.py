"""What a cluster's shared load balancer serves, read with boto3 (independent of cargo-ecs's own readers).

Usage: shared_lb.py LOAD_BALANCER ZONE_NAME
Prints JSON: how many load balancers carry the name, their listeners (port, protocol, default action type), the
non-default rules ([port, priority, host, paths, target group name]), the target groups the rules and defaults
forward to, the load balancer's cargo-ecs user tags, and the zone's records that point at it.
"""
import json
import os
import sys

import boto3
from listing import every


def client(service):
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))


def values(condition):
    config = condition.get("HostHeaderConfig") or condition.get("PathPatternConfig") or {}
    return sorted(config.get("Values") or condition.get("Values") or [])


def main(name, zone):
    elb, r53 = client("elbv2"), client("route53")
    lbs = [lb for lb in every(elb, "describe_load_balancers", "LoadBalancers") if lb["LoadBalancerName"] == name]
    out = {"load-balancers": len(lbs), "listeners": [], "rules": [], "target-groups": [], "users": [], "records": []}
    if not lbs:
        print(json.dumps(out, sort_keys=True))
        return
    lb = lbs[0]
    tg_names = {t["TargetGroupArn"]: t["TargetGroupName"] for t in every(elb, "describe_target_groups", "TargetGroups")}
    forwarded = set()
    for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
        default = li["DefaultActions"][0]
        out["listeners"].append([li["Port"], li["Protocol"], default["Type"]])
        if default.get("TargetGroupArn"):
            forwarded.add(tg_names.get(default["TargetGroupArn"], default["TargetGroupArn"]))
        for rule in elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]:
            if rule["IsDefault"]:
                continue
            conditions = {c["Field"]: values(c) for c in rule["Conditions"]}
            target = tg_names.get(rule["Actions"][0].get("TargetGroupArn"), "?")
            forwarded.add(target)
            out["rules"].append([li["Port"], int(rule["Priority"]), (conditions.get("host-header") or [None])[0],
                                 conditions.get("path-pattern", []), target])
    out["listeners"].sort()
    out["rules"].sort()
    out["target-groups"] = sorted(forwarded)
    tags = elb.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
    out["users"] = sorted(t["Key"].split(":", 2)[2] for t in tags if t["Key"].startswith("cargo-ecs:user:"))
    zones = [z for z in r53.list_hosted_zones_by_name(DNSName=zone)["HostedZones"] if z["Name"] == zone.rstrip(".") + "."]
    if zones:
        dns = lb["DNSName"].lower().rstrip(".")
        for record in r53.list_resource_record_sets(HostedZoneId=zones[0]["Id"])["ResourceRecordSets"]:
            target = ((record.get("AliasTarget") or {}).get("DNSName") or "").lower().rstrip(".")
            values_ = [r["Value"].lower().rstrip(".") for r in record.get("ResourceRecords", [])]
            if target.removeprefix("dualstack.") == dns or dns in values_:
                out["records"].append(record["Name"].rstrip("."))
    out["records"].sort()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:3])
