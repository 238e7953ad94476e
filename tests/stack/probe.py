"""Make one small change in the emulator (create or delete an ECS cluster), for tests that check a check."""
import os
import sys

import boto3

ecs = boto3.client("ecs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))
action, name = sys.argv[1], sys.argv[2]
if action == "create-cluster":
    ecs.create_cluster(clusterName=name)
elif action == "delete-cluster":
    ecs.delete_cluster(cluster=name)
else:
    sys.exit(f"unknown action {action}")
