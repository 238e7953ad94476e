"""Script the next rollout of a service in the emulator (POST /_shim/ecs/next-rollout).
Usage: script_rollout.py CLUSTER SERVICE OUTCOME [STOPPED_REASON]   (OUTCOME: ok, fail, never-steady, unhealthy)"""
import json
import os
import sys
import urllib.request

cluster, service, outcome = sys.argv[1:4]
body = {"cluster": cluster, "service": service, "outcome": outcome}
if len(sys.argv) > 4:
    body.update({"stopped_reason": sys.argv[4], "exit_code": 1})
request = urllib.request.Request(
    os.environ["AWS_ENDPOINT_URL"].rstrip("/") + "/_shim/ecs/next-rollout", data=json.dumps(body).encode(), method="POST"
)
print(urllib.request.urlopen(request, timeout=10).read().decode())
