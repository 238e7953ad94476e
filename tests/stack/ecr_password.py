"""Print the registry password that moto's ECR GetAuthorizationToken hands out (for `docker login` in tests)."""
import base64
import os

import boto3

ecr = boto3.client("ecr", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))
token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
print(base64.b64decode(token).decode().split(":", 1)[1])
