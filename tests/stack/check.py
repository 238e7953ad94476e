"""Smoke check of the local test stack; run by ``scripts/stack up`` at the end.

Runs with the stack venv's python (boto3 comes with moto) and the stack's
environment (``eval "$(scripts/stack env)"``). Prints one line per check and
exits non-zero when any check fails. Leaves no AWS state behind.

    eval "$(scripts/stack env)" && "$CARGO_ECS_STACK_PYTHON" tests/stack/check.py
"""

from __future__ import annotations

import base64
import http.client
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlparse

import boto3

BINFMT = "/proc/sys/fs/binfmt_misc/qemu-aarch64"
EXEC_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def client(service: str):  # noqa: ANN201 - boto3 clients are untyped
    # Endpoint, credentials and region come from the environment
    # (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ..., AWS_REGION).
    return boto3.client(service, region_name=os.environ.get("AWS_REGION", "us-east-1"))


def ecr_credentials() -> tuple[str, str]:
    data = client("ecr").get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return user, password


def check_sts() -> str:
    ident = client("sts").get_caller_identity()
    return f"account {ident['Account']}, {ident['Arn']}"


def registry_get_v2(auth: str | None) -> int:
    url = os.environ["CARGO_ECS_REGISTRY_ENDPOINT"].rstrip("/") + "/v2/"
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def check_ecr_registry_login() -> str:
    user, password = ecr_credentials()
    anonymous = registry_get_v2(None)
    if anonymous != 401:
        raise AssertionError(f"GET /v2/ without auth gave {anonymous}, want 401")
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    authed = registry_get_v2(f"Basic {basic}")
    if authed != 200:
        raise AssertionError(f"GET /v2/ with the ECR token gave {authed}, want 200")
    return f"token user {user!r}: GET /v2/ 401 anonymous, 200 with Basic auth"


def check_iam_managed_policy() -> str:
    policy = client("iam").get_policy(PolicyArn=EXEC_ROLE_POLICY)["Policy"]
    return f"{policy['PolicyName']} exists"


def check_acm() -> str:
    acm = client("acm")
    arn = acm.request_certificate(
        DomainName="stack-check.cargo-ecs.test", ValidationMethod="DNS"
    )["CertificateArn"]
    try:
        status = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
    finally:
        acm.delete_certificate(CertificateArn=arn)
    if status != "ISSUED":
        raise AssertionError(f"requested certificate is {status}, want ISSUED")
    return "requested certificate ISSUED at once (deleted again)"


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


def check_docker() -> str:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    url = urlparse(host)
    if url.scheme == "unix":
        conn: http.client.HTTPConnection = _UnixHTTPConnection(url.path, timeout=10)
    elif url.scheme in ("tcp", "http"):
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 2375, timeout=10)
    else:
        raise AssertionError(f"unsupported DOCKER_HOST {host}")
    conn.request("GET", "/_ping")
    response = conn.getresponse()
    body = response.read().decode()
    api = response.getheader("Api-Version")
    if response.status != 200 or body != "OK":
        raise AssertionError(f"/_ping gave {response.status} {body!r}")
    return f"{host} /_ping OK (API {api})"


def check_binfmt() -> str:
    try:
        with open(BINFMT, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError as err:
        raise AssertionError(f"{BINFMT} missing") from err
    if not lines or lines[0] != "enabled":
        raise AssertionError(f"{BINFMT} says {lines[:1]}")
    interpreter = next((ln.split(" ", 1)[1] for ln in lines if ln.startswith("interpreter ")), "?")
    flags = next((ln.split(" ", 1)[1] for ln in lines if ln.startswith("flags:")), "")
    return f"qemu-aarch64 enabled ({interpreter}, flags {flags.strip() or '-'})"


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("sts GetCallerIdentity", check_sts),
    ("ecr token -> registry login", check_ecr_registry_login),
    ("iam AWS managed policy", check_iam_managed_policy),
    ("acm RequestCertificate", check_acm),
    ("docker engine", check_docker),
    ("binfmt arm64", check_binfmt),
]


def main() -> int:
    failed = 0
    for name, check in CHECKS:
        start = time.monotonic()
        try:
            detail = check()
            status = "ok  "
        except Exception as err:  # noqa: BLE001 - report every failure, go on
            detail = f"{type(err).__name__}: {err}"
            status = "FAIL"
            failed += 1
        print(f"  check {status} {name:<28} {detail} ({time.monotonic() - start:.2f}s)", flush=True)
    if failed:
        print(f"  check: {failed} of {len(CHECKS)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
