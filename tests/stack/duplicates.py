"""Count, with boto3, the AWS resources of one service by name and by tag, and report duplicates and missing ones.

    duplicates.py SERVICE STEPS_JSON
    duplicates.py --many '{"SERVICE": STEPS, ...}'

STEPS_JSON is the JSON list of the plan's steps (``[{"kind": ..., "name": ...}, ...]``, as ``cargo ecs plan
--output json`` prints them under ``plan.steps``): the names the tool uses for each resource. Prints JSON::

    {"counts": {"load-balancer fz5": 1, ...}, "duplicates": ["..."], "missing": ["..."]}

or, with ``--many``, one such object per service (AWS is listed once for all of them).

A duplicate is a second resource where AWS state should hold one: a second load balancer, target group,
security group, role, log group, cluster or ACTIVE service of the same name (the name-unique ones catch an
emulator that lets a name repeat), more resources tagged ``cargo-ecs:service=SERVICE`` of a kind than the plan
names, two listeners on one port, two rules of one listener forwarding to the service's target group (or with
the same conditions), two record sets of one name and type (or an A and a CNAME of one name). Task definition
revisions are not resources of their own here: a revision registered again is allowed.

It shares no code with cargo-ecs: an independent reading of AWS state, for the crash and fault tests.
"""
import collections
import json
import os
import sys

import boto3
from listing import every

SERVICE_TAG = "cargo-ecs:service"


def client(service):
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))


class Aws:
    """The clients, and the listings every service's count reads (read once)."""

    def __init__(self):
        self.ecs, self.elb, self.iam, self.logs, self.r53, self.ec2 = (
            client(s) for s in ("ecs", "elbv2", "iam", "logs", "route53", "ec2")
        )
        self.roles = [r for page in self.iam.get_paginator("list_roles").paginate() for r in page["Roles"]]
        arns = every(self.ecs, "list_clusters", "clusterArns")
        self.clusters = []
        for i in range(0, len(arns), 100):
            self.clusters += self.ecs.describe_clusters(clusters=arns[i : i + 100])["clusters"]
        self.groups = every(self.ec2, "describe_security_groups", "SecurityGroups")
        self.lbs = [lb for page in self.elb.get_paginator("describe_load_balancers").paginate() for lb in page["LoadBalancers"]]
        self.tgs = [tg for page in self.elb.get_paginator("describe_target_groups").paginate() for tg in page["TargetGroups"]]
        self.tags = {}
        arns = [lb["LoadBalancerArn"] for lb in self.lbs] + [tg["TargetGroupArn"] for tg in self.tgs]
        for i in range(0, len(arns), 20):
            for description in self.elb.describe_tags(ResourceArns=arns[i : i + 20])["TagDescriptions"]:
                self.tags[description["ResourceArn"]] = description.get("Tags", [])
        self.zones = every(self.r53, "list_hosted_zones", "HostedZones")


def main(service, steps, aws=None):
    aws = aws or Aws()
    ecs, elb, logs, r53 = aws.ecs, aws.elb, aws.logs, aws.r53
    names = collections.defaultdict(list)
    for step in steps:
        names[step["kind"]].append(step["name"])
    counts, duplicates, missing = {}, [], []

    def count(kind, name, n):
        counts[f"{kind} {name}"] = n
        if n > 1:
            duplicates.append(f"{n} x {kind} {name}")
        elif n == 0:
            missing.append(f"{kind} {name}")

    for kind in ("execution-role", "task-role"):
        for name in names[kind]:
            count(kind, name, sum(1 for r in aws.roles if r["RoleName"] == name))
    for name in names["log-group"]:
        groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        count("log-group", name, sum(1 for g in groups if g["logGroupName"] == name))
    for name in names["cluster"]:
        count("cluster", name, sum(1 for c in aws.clusters if c["clusterName"] == name and c["status"] == "ACTIVE"))
    for name in names["service"]:
        cluster = (names["cluster"] or [name])[0]
        arns = every(ecs, "list_services", "serviceArns", cluster=cluster)
        described = [d for i in range(0, len(arns), 10) for d in ecs.describe_services(cluster=cluster, services=arns[i : i + 10])["services"]]
        count("service", name, sum(1 for s in described if s["serviceName"] == name and s["status"] == "ACTIVE"))

    groups = aws.groups
    for kind in ("load-balancer-security-group", "service-security-group"):
        for name in names[kind]:
            count(kind, name, sum(1 for g in groups if g["GroupName"] == name))
    tagged_groups = [g for g in groups if {"Key": SERVICE_TAG, "Value": service} in g.get("Tags", [])]
    wanted = len(names["load-balancer-security-group"]) + len(names["service-security-group"])
    if len(tagged_groups) > wanted:
        duplicates.append(f"{len(tagged_groups)} security groups tagged for {service}: {sorted(g['GroupName'] for g in tagged_groups)}")

    lbs, tgs = aws.lbs, aws.tgs
    for name in names["load-balancer"]:
        count("load-balancer", name, sum(1 for lb in lbs if lb["LoadBalancerName"] == name))
    for name in names["target-group"]:
        count("target-group", name, sum(1 for tg in tgs if tg["TargetGroupName"] == name))
    for kind, resources, arn_key in (("load-balancer", lbs, "LoadBalancerArn"), ("target-group", tgs, "TargetGroupArn")):
        tagged = [r[arn_key] for r in resources if {"Key": SERVICE_TAG, "Value": service} in aws.tags.get(r[arn_key], [])]
        if len(tagged) > len(names[kind]):
            duplicates.append(f"{len(tagged)} {kind}s tagged for {service}: {tagged}")

    service_tgs = {tg["TargetGroupArn"] for tg in tgs if tg["TargetGroupName"] in names["target-group"]}
    forwarding_rules = 0
    for lb in (lb for lb in lbs if lb["LoadBalancerName"] in names["load-balancer"]):
        listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        ports = collections.Counter(li["Port"] for li in listeners)
        for name in names["listener"]:
            port = int(name.rsplit(":", 1)[1])
            count("listener", f"{name} on {lb['LoadBalancerName']}", ports.get(port, 0))
        for li in listeners:
            rules = [r for r in elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"] if not r.get("IsDefault")]
            to_service = [r for r in rules if forwards_to(r, service_tgs)]
            forwarding_rules += len(to_service)
            if len(to_service) > 1:
                duplicates.append(f"{len(to_service)} rules of listener :{li['Port']} forward to {service}'s target group")
            same = collections.Counter(json.dumps(conditions(r), sort_keys=True) for r in rules)
            duplicates.extend(f"{n} rules of listener :{li['Port']} with conditions {c}" for c, n in same.items() if n > 1)
    counts["listener rules forwarding to the service"] = forwarding_rules
    if names["listener-rule"] and forwarding_rules == 0:
        missing.append(f"listener-rule {names['listener-rule']}")

    zones = aws.zones
    for name in names["dns-record"]:
        fqdn = name.rstrip(".") + "."
        zone = max((z for z in zones if fqdn.endswith("." + z["Name"]) or fqdn == z["Name"]), key=lambda z: len(z["Name"]), default=None)
        if zone is None:
            missing.append(f"hosted zone of {name}")
            continue
        records = [r for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone["Id"]) for r in page["ResourceRecordSets"]]
        types = collections.Counter(r["Type"] for r in records if r["Name"].lower() == fqdn.lower())
        # One A (alias) or one CNAME record: two of a type, or both types, is a duplicate.
        count("dns-record", name, types.get("A", 0) + types.get("CNAME", 0))
    return {"counts": counts, "duplicates": duplicates, "missing": missing}


def forwards_to(rule, target_groups):
    for action in rule.get("Actions", []):
        arns = {action.get("TargetGroupArn")} | {t["TargetGroupArn"] for t in action.get("ForwardConfig", {}).get("TargetGroups", [])}
        if arns & target_groups:
            return True
    return False


def conditions(rule):
    return sorted(json.dumps(c, sort_keys=True) for c in rule.get("Conditions", []))


if __name__ == "__main__":
    if sys.argv[1] == "--many":
        aws = Aws()
        result = {service: main(service, steps, aws) for service, steps in json.loads(sys.argv[2]).items()}
    else:
        result = main(sys.argv[1], json.loads(sys.argv[2]))
    print(json.dumps(result, indent=1, sort_keys=True))
