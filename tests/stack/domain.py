"""Create (idempotently) a public hosted zone and an ISSUED wildcard ACM certificate for it, as a user would
have before deploying with `load-balancer.certificate` and `[dns]`. Prints the certificate ARN.

Usage: domain.py ZONE_NAME
"""
import os
import sys
import uuid

import boto3


def client(service):
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))


zone = sys.argv[1].rstrip(".")
r53, acm = client("route53"), client("acm")
if not [z for z in r53.list_hosted_zones_by_name(DNSName=zone)["HostedZones"] if z["Name"] == zone + "."]:
    r53.create_hosted_zone(Name=zone, CallerReference=str(uuid.uuid4()))
wanted = f"*.{zone}"
existing = [c for c in acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"] if c["DomainName"] == wanted]
arn = existing[0]["CertificateArn"] if existing else acm.request_certificate(DomainName=wanted, ValidationMethod="DNS")["CertificateArn"]
print(arn)
