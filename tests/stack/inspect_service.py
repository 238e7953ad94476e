"""Print, as JSON, how a deployed service is wired, read with boto3 (independent of cargo-ecs):
listeners -> target group -> service -> task definition -> image, plus roles, log group, security groups, DNS.

Usage: inspect_service.py CLUSTER SERVICE [ZONE_NAME RECORD_NAME]
"""
import json
import os
import sys

import boto3
from listing import every


def client(service):
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))


def main(cluster, service, zone=None, record=None):
    ecs, elb, iam, logs, ec2, r53 = (client(s) for s in ("ecs", "elbv2", "iam", "logs", "ec2", "route53"))
    out = {}
    services = ecs.describe_services(cluster=cluster, services=[service])["services"]
    svc = next((s for s in services if s["status"] == "ACTIVE"), None)
    if svc is None:
        print(json.dumps({"service": None}))
        return
    net = svc["networkConfiguration"]["awsvpcConfiguration"]
    out["service"] = {
        "task-definition": svc["taskDefinition"],
        "desired-count": svc["desiredCount"],
        "launch-type": svc.get("launchType"),
        "capacity-provider-strategy": svc.get("capacityProviderStrategy", []),
        "assign-public-ip": net.get("assignPublicIp"),
        "security-groups": sorted(net.get("securityGroups", [])),
        "circuit-breaker": svc.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker"),
        "deployments": [[d["status"], d["taskDefinition"], d.get("rolloutState")] for d in svc["deployments"]],
        "load-balancers": svc.get("loadBalancers", []),
    }
    family = svc["taskDefinition"].rsplit("/", 1)[1].split(":")[0]
    out["task-definition-revisions"] = len(ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"])
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    container = td["containerDefinitions"][0]
    out["task-definition"] = {
        "cpu": td.get("cpu"), "memory": td.get("memory"), "network-mode": td.get("networkMode"),
        "compatibilities": td.get("requiresCompatibilities"), "runtime-platform": td.get("runtimePlatform"),
        "execution-role": td.get("executionRoleArn"), "image": container["image"],
        "port": container["portMappings"][0]["containerPort"], "log": container.get("logConfiguration"),
        "environment": sorted((e["name"], e["value"]) for e in container.get("environment", [])),
    }
    groups = ec2.describe_security_groups(GroupIds=out["service"]["security-groups"])["SecurityGroups"] if out["service"]["security-groups"] else []
    out["service-security-groups"] = [
        {"name": g["GroupName"], "ingress": sorted(
            [p.get("FromPort"), [r["CidrIp"] for r in p.get("IpRanges", [])] + [u["GroupId"] for u in p.get("UserIdGroupPairs", [])]]
            for p in g["IpPermissions"])}
        for g in groups
    ]
    if svc.get("loadBalancers"):
        tg_arn = svc["loadBalancers"][0]["targetGroupArn"]
        tg = elb.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"][0]
        out["target-group"] = {"name": tg["TargetGroupName"], "port": tg["Port"], "protocol": tg["Protocol"],
                               "target-type": tg["TargetType"], "health-check-path": tg.get("HealthCheckPath"),
                               "load-balancers": tg.get("LoadBalancerArns", [])}
        lb = elb.describe_load_balancers(LoadBalancerArns=tg["LoadBalancerArns"][:1])["LoadBalancers"][0] if tg.get("LoadBalancerArns") else None
        if lb is None:
            lbs = every(elb, "describe_load_balancers", "LoadBalancers")
            lb = next((l for l in lbs if any(
                a.get("TargetGroupArn") == tg_arn for li in elb.describe_listeners(LoadBalancerArn=l["LoadBalancerArn"])["Listeners"] for a in li["DefaultActions"])), None)
        if lb is not None:
            out["load-balancer"] = {"name": lb["LoadBalancerName"], "scheme": lb["Scheme"], "type": lb["Type"],
                                    "dns-name": lb["DNSName"], "security-groups": lb.get("SecurityGroups", [])}
            out["listeners"] = sorted(
                [li["Port"], li["Protocol"], li.get("SslPolicy"), [c["CertificateArn"] for c in li.get("Certificates", [])],
                 [[a["Type"], a.get("TargetGroupArn"), (a.get("RedirectConfig") or {}).get("Protocol")] for a in li["DefaultActions"]]]
                for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"])
            # Every non-default rule of the load balancer: [port, priority, {field: values}, [[type, target group]]].
            out["rules"] = sorted(
                [li["Port"], int(r["Priority"]),
                 {c["Field"]: (c.get("HostHeaderConfig") or c.get("PathPatternConfig") or {}).get("Values", c.get("Values"))
                  for c in r["Conditions"]},
                 [[a["Type"], a.get("TargetGroupArn")] for a in r["Actions"]]]
                for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
                for r in elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"] if not r["IsDefault"])
    role_name = out["task-definition"]["execution-role"].rsplit("/", 1)[1]
    out["execution-role"] = sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"])
    group = (out["task-definition"]["log"] or {}).get("options", {}).get("awslogs-group")
    found = [g for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] if g["logGroupName"] == group] if group else []
    out["log-group"] = {"name": group, "retention": found[0].get("retentionInDays") if found else None, "exists": bool(found)}
    if zone and record:
        zones = [z for z in r53.list_hosted_zones_by_name(DNSName=zone)["HostedZones"] if z["Name"] == zone.rstrip(".") + "."]
        sets = r53.list_resource_record_sets(HostedZoneId=zones[0]["Id"])["ResourceRecordSets"] if zones else []
        hit = [s for s in sets if s["Name"].rstrip(".") == record.rstrip(".")]
        out["record"] = [{"type": s["Type"], "alias": (s.get("AliasTarget") or {}).get("DNSName"),
                          "values": [r["Value"] for r in s.get("ResourceRecords", [])]} for s in hit]
    print(json.dumps(out, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    main(*sys.argv[1:])
