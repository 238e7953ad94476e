"""Print, as JSON, what runs for a service, read with boto3 (independent of cargo-ecs): counts, the PRIMARY
deployment's task definition and image, running task ids and IPs, and target health states.

Usage: service_status.py CLUSTER SERVICE
"""
import json
import os
import sys

import boto3


def client(service):
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


def main(cluster, service):
    ecs, elb = client("ecs"), client("elbv2")
    svc = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    primary = next(d for d in svc["deployments"] if d["status"] == "PRIMARY")
    td = ecs.describe_task_definition(taskDefinition=primary["taskDefinition"])["taskDefinition"]
    arns = ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
    targets = []
    for lb in svc.get("loadBalancers", []):
        health = elb.describe_target_health(TargetGroupArn=lb["targetGroupArn"])["TargetHealthDescriptions"]
        targets += [[t["Target"]["Id"], t["TargetHealth"]["State"]] for t in health]
    print(json.dumps({
        "desired": svc["desiredCount"], "running": svc["runningCount"], "pending": svc["pendingCount"],
        "task-definition": primary["taskDefinition"], "revision": td["revision"],
        "image": td["containerDefinitions"][0]["image"],
        "tasks": sorted([t["taskArn"].rsplit("/", 1)[1], next(
            (d["value"] for a in t.get("attachments", []) for d in a.get("details", []) if d["name"] == "privateIPv4Address"),
            None)] for t in tasks),
        "targets": sorted(targets),
    }, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:])
