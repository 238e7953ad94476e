"""Read or reset the emulator's call log (GET /_shim/calls). Usage: calls.py reset | calls.py mutating | calls.py all
`mutating` prints the JSON list of the mutating calls since the last reset, as "service:Operation"; `all` every
call, read-only ones too."""
import json
import os
import sys
import urllib.request

endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
if sys.argv[1] == "reset":
    urllib.request.urlopen(urllib.request.Request(endpoint + "/_shim/calls/reset", data=b"{}", method="POST"), timeout=10).read()
else:
    calls = json.loads(urllib.request.urlopen(endpoint + "/_shim/calls", timeout=10).read())["calls"]
    every = sys.argv[1] == "all"
    print(json.dumps([f'{c["service"]}:{c["operation"]}' for c in calls if every or c["mutating"]]))
