"""Print, as JSON, every AWS resource of the kinds cargo-ecs manages, read with boto3 from the local emulator.

Tests compare snapshots taken before and after a command to prove what it changed (or that it changed nothing).
It is an independent client: it shares no code with the tool it checks.
"""
import json
import os

import boto3
from listing import every


def client(service):
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))


def snapshot():
    ecs, elb, iam, logs = client("ecs"), client("elbv2"), client("iam"), client("logs")
    ecr, r53, ec2, acm = client("ecr"), client("route53"), client("ec2"), client("acm")
    out = {}
    cluster_arns = every(ecs, "list_clusters", "clusterArns")
    clusters = [c for i in range(0, len(cluster_arns), 100) for c in ecs.describe_clusters(clusters=cluster_arns[i : i + 100])["clusters"]]
    out["ecs.clusters"] = sorted([c["clusterName"], sorted(c.get("capacityProviders", []))] for c in clusters)
    services = []
    for c in clusters:
        arns = every(ecs, "list_services", "serviceArns", cluster=c["clusterArn"])
        for i in range(0, len(arns), 10):
            for s in ecs.describe_services(cluster=c["clusterArn"], services=arns[i : i + 10])["services"]:
                services.append([c["clusterName"], s["serviceName"], s["taskDefinition"], s["desiredCount"]])
    out["ecs.services"] = sorted(services)
    out["ecs.task-definitions"] = sorted(every(ecs, "list_task_definitions", "taskDefinitionArns"))
    lbs = every(elb, "describe_load_balancers", "LoadBalancers")
    out["elbv2.load-balancers"] = sorted([lb["LoadBalancerName"], lb["Scheme"]] for lb in lbs)
    out["elbv2.target-groups"] = sorted([tg["TargetGroupName"], tg.get("HealthCheckPath")] for tg in every(elb, "describe_target_groups", "TargetGroups"))
    listeners = []
    for lb in lbs:
        for li in every(elb, "describe_listeners", "Listeners", LoadBalancerArn=lb["LoadBalancerArn"]):
            listeners.append([lb["LoadBalancerName"], li["Port"], li["Protocol"]])
    out["elbv2.listeners"] = sorted(listeners)
    roles = every(iam, "list_roles", "Roles")
    out["iam.roles"] = sorted(
        [r["RoleName"], sorted(p["PolicyArn"] for p in every(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=r["RoleName"]))]
        for r in roles
    )
    out["logs.groups"] = sorted([g["logGroupName"], g.get("retentionInDays")] for g in every(logs, "describe_log_groups", "logGroups"))
    out["ecr.repositories"] = sorted(r["repositoryName"] for r in every(ecr, "describe_repositories", "repositories"))
    zones = every(r53, "list_hosted_zones", "HostedZones")
    records = []
    for z in zones:
        for rr in every(r53, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=z["Id"]):
            if rr["Type"] not in ("SOA", "NS"):
                records.append([z["Name"], rr["Name"], rr["Type"]])
    out["route53.zones"] = sorted(z["Name"] for z in zones)
    out["route53.records"] = sorted(records)
    groups = every(ec2, "describe_security_groups", "SecurityGroups")
    out["ec2.security-groups"] = sorted([g["GroupName"], g["VpcId"]] for g in groups if g["GroupName"] != "default")
    out["acm.certificates"] = sorted(c["DomainName"] for c in every(acm, "list_certificates", "CertificateSummaryList"))
    return out


if __name__ == "__main__":
    print(json.dumps(snapshot(), indent=1, sort_keys=True))
