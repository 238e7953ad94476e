"""Read or reset the emulator's call log (GET /_shim/calls). Usage: calls.py reset | calls.py mutating
`mutating` prints the JSON list of the mutating calls since the last reset, as "service:Operation"."""
import json
import os
import sys
import urllib.request

endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
if sys.argv[1] == "reset":
    urllib.request.urlopen(urllib.request.Request(endpoint + "/_shim/calls/reset", data=b"{}", method="POST"), timeout=10).read()
else:
    calls = json.loads(urllib.request.urlopen(endpoint + "/_shim/calls", timeout=10).read())["calls"]
    print(json.dumps([f'{c["service"]}:{c["operation"]}' for c in calls if c["mutating"]]))
