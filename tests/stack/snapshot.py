"""Print, as JSON, every AWS resource of the kinds cargo-ecs manages, read with boto3 from the local emulator.

Tests compare snapshots taken before and after a command to prove what it changed (or that it changed nothing).
It is an independent client: it shares no code with the tool it checks.
"""
import json
import os

import boto3


def client(service):
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))


def snapshot():
    ecs, elb, iam, logs = client("ecs"), client("elbv2"), client("iam"), client("logs")
    ecr, r53, ec2, acm = client("ecr"), client("route53"), client("ec2"), client("acm")
    out = {}
    cluster_arns = ecs.list_clusters()["clusterArns"]
    clusters = ecs.describe_clusters(clusters=cluster_arns)["clusters"] if cluster_arns else []
    out["ecs.clusters"] = sorted([c["clusterName"], sorted(c.get("capacityProviders", []))] for c in clusters)
    services = []
    for c in clusters:
        arns = ecs.list_services(cluster=c["clusterArn"])["serviceArns"]
        if arns:
            for s in ecs.describe_services(cluster=c["clusterArn"], services=arns)["services"]:
                services.append([c["clusterName"], s["serviceName"], s["taskDefinition"], s["desiredCount"]])
    out["ecs.services"] = sorted(services)
    out["ecs.task-definitions"] = sorted(ecs.list_task_definitions()["taskDefinitionArns"])
    lbs = elb.describe_load_balancers()["LoadBalancers"]
    out["elbv2.load-balancers"] = sorted([lb["LoadBalancerName"], lb["Scheme"]] for lb in lbs)
    out["elbv2.target-groups"] = sorted([tg["TargetGroupName"], tg.get("HealthCheckPath")] for tg in elb.describe_target_groups()["TargetGroups"])
    listeners = []
    for lb in lbs:
        for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            listeners.append([lb["LoadBalancerName"], li["Port"], li["Protocol"]])
    out["elbv2.listeners"] = sorted(listeners)
    roles = iam.list_roles()["Roles"]
    out["iam.roles"] = sorted(
        [r["RoleName"], sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"])]
        for r in roles
    )
    out["logs.groups"] = sorted([g["logGroupName"], g.get("retentionInDays")] for g in logs.describe_log_groups()["logGroups"])
    out["ecr.repositories"] = sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
    zones = r53.list_hosted_zones()["HostedZones"]
    records = []
    for z in zones:
        for rr in r53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]:
            if rr["Type"] not in ("SOA", "NS"):
                records.append([z["Name"], rr["Name"], rr["Type"]])
    out["route53.zones"] = sorted(z["Name"] for z in zones)
    out["route53.records"] = sorted(records)
    groups = ec2.describe_security_groups()["SecurityGroups"]
    out["ec2.security-groups"] = sorted([g["GroupName"], g["VpcId"]] for g in groups if g["GroupName"] != "default")
    out["acm.certificates"] = sorted(c["DomainName"] for c in acm.list_certificates()["CertificateSummaryList"])
    return out


if __name__ == "__main__":
    print(json.dumps(snapshot(), indent=1, sort_keys=True))
