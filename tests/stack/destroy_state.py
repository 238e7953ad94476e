"""What is left of a service's stack, read with boto3 (independent of cargo-ecs), for the destroy tests.

Usage: destroy_state.py create-unmanaged NAME          (an untagged log group /ecs/NAME and security group NAME)
       destroy_state.py state CLUSTER SERVICE REPOSITORY UNMANAGED [ZONE RECORD]
"""
import json
import os
import sys

import boto3


def client(service):
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))


def default_vpc(ec2):
    return ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]


def log_group_exists(logs, name):
    return any(g["logGroupName"] == name for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"])


def group_exists(ec2, name):
    return bool(ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])["SecurityGroups"])


def named(call, key, **by_name):
    """The resources a Describe call returns for the names given, [] when AWS says one does not exist (asking by
    name, not listing: a list is paged, and the shared emulator holds many resources of other tests)."""
    try:
        return call(**by_name)[key]
    except Exception as err:  # noqa: BLE001 - botocore's ClientError for "not found", of whichever service
        code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
        if "NotFound" in code or "NoSuchEntity" in code:
            return []
        raise


def main(args):
    ecs, elb, iam, logs, ec2, r53, ecr = (client(s) for s in ("ecs", "elbv2", "iam", "logs", "ec2", "route53", "ecr"))
    if args[0] == "create-unmanaged":
        name = args[1]
        logs.create_log_group(logGroupName=f"/ecs/{name}")
        ec2.create_security_group(GroupName=name, Description="not cargo-ecs's", VpcId=default_vpc(ec2))
        return
    cluster, service, repository, unmanaged = args[1:5]
    out = {}
    clusters = ecs.describe_clusters(clusters=[cluster])["clusters"]
    out["cluster"] = clusters[0]["status"] if clusters else None
    services = ecs.describe_services(cluster=cluster, services=[service])["services"] if out["cluster"] == "ACTIVE" else []
    out["service"] = services[0]["status"] if services else None
    out["active-revisions"] = len(ecs.list_task_definitions(familyPrefix=service, status="ACTIVE")["taskDefinitionArns"])
    groups = named(elb.describe_target_groups, "TargetGroups", Names=[service])
    out["target-group"] = bool(groups)
    # The load balancer is the cluster's, shared by its services; "rules" counts those forwarding to this service.
    lbs = named(elb.describe_load_balancers, "LoadBalancers", Names=[cluster])
    out["load-balancer"] = bool(lbs)
    tg_arns = {t["TargetGroupArn"] for t in groups}
    out["rules"] = sum(1 for lb in lbs for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
                       for r in elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]
                       if not r["IsDefault"] and any(a.get("TargetGroupArn") in tg_arns for a in r["Actions"]))
    out["security-groups"] = sorted(n for n in (f"{cluster}-lb", f"{service}-tasks") if group_exists(ec2, n))
    out["role"] = bool(named(lambda **k: {"Role": [iam.get_role(**k)["Role"]]}, "Role", RoleName=f"{service}-execution"))
    out["log-group"] = log_group_exists(logs, f"/ecs/{service}")
    out["repository"] = bool(named(ecr.describe_repositories, "repositories", repositoryNames=[repository]))
    out["unmanaged"] = {"log-group": log_group_exists(logs, f"/ecs/{unmanaged}"), "security-group": group_exists(ec2, unmanaged)}
    if len(args) > 6:
        zone, record = args[5], args[6]
        zones = [z for z in r53.list_hosted_zones_by_name(DNSName=zone)["HostedZones"] if z["Name"] == zone.rstrip(".") + "."]
        sets = r53.list_resource_record_sets(HostedZoneId=zones[0]["Id"])["ResourceRecordSets"] if zones else []
        out["record"] = any(s["Name"].rstrip(".") == record.rstrip(".") for s in sets)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
