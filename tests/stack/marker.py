"""The deploy in-progress marker (a log group, see ecs-core/src/lock.rs), made or read with boto3.

Usage: marker.py hold CLUSTER SERVICE HOST PID EXPIRES_EPOCH   (make it as another deploy would)
       marker.py show CLUSTER SERVICE                          (prints its tags as JSON, or null)
"""
import json
import os
import sys

import boto3


def main(args):
    logs = boto3.client("logs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))
    name = f"/cargo-ecs/deploying/{args[1]}/{args[2]}"
    if args[0] == "hold":
        host, pid, expires = args[3:6]
        logs.create_log_group(logGroupName=name, tags={
            "cargo-ecs:managed": "true", "cargo-ecs:deploy-owner": f"ci@{host} pid {pid}",
            "cargo-ecs:deploy-host": host, "cargo-ecs:deploy-pid": pid, "cargo-ecs:deploy-expires": expires})
        return
    groups = [g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name]
    if not groups:
        print("null")
        return
    arn = groups[0]["arn"].removesuffix(":*")
    print(json.dumps(logs.list_tags_for_resource(resourceArn=arn)["tags"], sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
