"""Exit 0 when the local registry holds REPOSITORY@DIGEST (HEAD on the manifest), else 1. Usage: registry_has.py REPO DIGEST"""
import base64
import os
import sys
import urllib.error
import urllib.request

import boto3

ecr = boto3.client("ecr", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))
token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
request = urllib.request.Request(
    f'{os.environ["CARGO_ECS_REGISTRY_ENDPOINT"].rstrip("/")}/v2/{sys.argv[1]}/manifests/{sys.argv[2]}',
    method="HEAD",
    headers={"Authorization": "Basic " + token, "Accept": "application/vnd.oci.image.manifest.v1+json"},
)
try:
    urllib.request.urlopen(request, timeout=10)
except urllib.error.HTTPError:
    sys.exit(1)
