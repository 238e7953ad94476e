"""Write log lines for a service's task as its awslogs driver would, with boto3 (independent of cargo-ecs):
the group, stream prefix and container come from the service's task definition; the stream is
PREFIX/CONTAINER/TASK_ID. Creates the stream when it is missing. Prints the group and the stream.

Usage: put_logs.py CLUSTER SERVICE TASK_ID MESSAGE...   (one event per MESSAGE, 1 ms apart, ending now)
"""
import json
import os
import sys
import time

import boto3


def client(service):
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


def main(cluster, service, task_id, *messages):
    ecs, logs = client("ecs"), client("logs")
    svc = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    container = td["containerDefinitions"][0]
    options = container["logConfiguration"]["options"]
    group = options["awslogs-group"]
    stream = f'{options["awslogs-stream-prefix"]}/{container["name"]}/{task_id}'
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    now = int(time.time() * 1000)
    events = [{"timestamp": now - len(messages) + i, "message": m} for i, m in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    print(json.dumps({"group": group, "stream": stream}))


if __name__ == "__main__":
    main(*sys.argv[1:])
