"""Tests of tests/stack/fault_proxy.py against a fake upstream (no emulator needed, a few seconds).

    $CARGO_ECS_STACK_PYTHON -B -m unittest tests/stack/test_fault_proxy.py

The throttling answers are also parsed by botocore (the stack venv has it), so each protocol's answer is known
to be read as that service's throttling error code by a real AWS client.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fault_proxy  # noqa: E402

AUTH = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"


class Upstream(BaseHTTPRequestHandler):
    """Answers 200 with what it received, and remembers every request."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, bytes]] = []
    lock = threading.Lock()

    def log_message(self, format, *args):  # noqa: A002
        pass

    def _any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with Upstream.lock:
            Upstream.seen.append((self.command, self.path, body))
        answer = json.dumps({"path": self.path, "body": body.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-upstream", "yes")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_DELETE = _any


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
        cls.upstream.daemon_threads = True
        threading.Thread(target=cls.upstream.serve_forever, daemon=True).start()
        cls.upstream_url = f"http://127.0.0.1:{cls.upstream.server_address[1]}"
        cls.proxy = fault_proxy.ProxyServer(0, fault_proxy.State(fault_proxy.Config(), cls.upstream_url))
        threading.Thread(target=cls.proxy.serve_forever, daemon=True).start()
        cls.port = cls.proxy.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.proxy.shutdown()
        cls.proxy.server_close()
        cls.upstream.shutdown()
        cls.upstream.server_close()

    def setUp(self):
        with Upstream.lock:
            Upstream.seen.clear()
        self.configure()

    # -- helpers ----------------------------------------------------------------------------------------------

    def configure(self, **config):
        status, _, body = self.request("POST", "/_faults/config", json.dumps(config).encode(), signed=None)
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def faults(self):
        return json.loads(self.request("GET", "/_faults", signed=None)[2])

    def request(self, method, path, body=b"", headers=None, signed="elasticloadbalancing"):
        """(status, headers, body), or None when the connection was closed unanswered."""
        headers = dict(headers or {})
        if signed:
            headers["Authorization"] = AUTH.format(service=signed)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, http.client.IncompleteRead):
            return None
        finally:
            connection.close()

    def query(self, action="DescribeLoadBalancers", service="elasticloadbalancing"):
        form = f"Action={action}&Version=2015-12-01".encode()
        return self.request(
            "POST", "/", form, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, signed=service
        )

    def json_call(self, target="AmazonEC2ContainerServiceV20141113.DescribeServices", service="ecs"):
        return self.request("POST", "/", b"{}", {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}, signed=service)

    def upstream_count(self):
        with Upstream.lock:
            return len(Upstream.seen)

    def outcomes(self, n, **config):
        """The fault each of n eligible decisions gets under config (the proxy's own rule)."""
        c = fault_proxy.Config(**config)
        return [c.decide(i) for i in range(n)]

    # -- tests ------------------------------------------------------------------------------------------------

    def test_without_faults_every_request_is_forwarded_unchanged(self):
        status, headers, body = self.query()
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("x-upstream"), "yes")
        self.assertIn("Action=DescribeLoadBalancers", json.loads(body)["body"])
        report = self.faults()
        self.assertEqual((report["requests"], report["forwarded"], report["total_injected"]), (1, 1, 0))

    def test_the_same_seed_gives_the_same_faults_and_another_seed_others(self):
        config = {"seed": 42, "throttle": 0.1, "error_5xx": 0.05, "drop": 0.05, "slow": 0.05, "delay": 0.0}
        first = self.outcomes(400, **config)
        self.assertEqual(first, self.outcomes(400, **config))
        self.assertNotEqual(first, self.outcomes(400, **{**config, "seed": 43}))
        throttled = first.count("throttle")
        self.assertTrue(20 <= throttled <= 60, f"about 10 % of 400: {throttled}")
        # The proxy applies exactly that sequence, in arrival order.
        self.configure(seed=42, throttle=0.1, error_5xx=0.05)
        statuses = []
        for _ in range(60):
            answer = self.query()
            statuses.append(answer[0])
        expected = self.outcomes(60, seed=42, throttle=0.1, error_5xx=0.05)
        self.assertEqual(
            [{400: "throttle", 500: "5xx", 503: "5xx", 200: None}[s] for s in statuses], expected, statuses
        )
        report = self.faults()
        self.assertEqual(report["injected"]["throttle"], expected.count("throttle"))
        self.assertEqual(report["injected"]["5xx"], expected.count("5xx"))
        self.assertEqual(report["forwarded"], expected.count(None))
        self.assertEqual(self.upstream_count(), expected.count(None))

    def test_throttling_answers_in_each_protocol_and_never_reaches_upstream(self):
        self.configure(throttle=1.0)
        status, _, body = self.query("CreateTargetGroup")
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>Throttling</Code>", body)
        self.assertIn(b"<ErrorResponse>", body)
        status, _, body = self.json_call()
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "ThrottlingException")
        status, _, body = self.query("DescribeSecurityGroups", service="ec2")
        self.assertEqual(status, 503)
        self.assertIn(b"<Response><Errors><Error><Code>RequestLimitExceeded</Code>", body)
        status, _, body = self.request("GET", "/2013-04-01/hostedzone", signed="route53")
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>Throttling</Code>", body)
        self.assertEqual(self.upstream_count(), 0)
        report = self.faults()
        self.assertEqual(report["injected"]["throttle"], 4)
        self.assertEqual(
            sorted(report["by_call"]),
            [
                "ec2:DescribeSecurityGroups",
                "ecs:DescribeServices",
                "elasticloadbalancing:CreateTargetGroup",
                "route53:GET /2013-04-01/hostedzone",
            ],
        )

    def test_a_real_aws_client_reads_each_throttling_answer_as_throttling(self):
        try:
            import boto3
            from botocore.config import Config as BotoConfig
        except ImportError:  # pragma: no cover - the stack venv has boto3
            self.fail("run with the stack's python ($CARGO_ECS_STACK_PYTHON), which has boto3")
        self.configure(throttle=1.0)
        url = f"http://127.0.0.1:{self.port}"
        config = BotoConfig(retries={"max_attempts": 1, "mode": "standard"})
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        calls = [
            ("elbv2", lambda c: c.describe_load_balancers(), "Throttling"),
            ("iam", lambda c: c.get_role(RoleName="x"), "Throttling"),
            ("sts", lambda c: c.get_caller_identity(), "Throttling"),
            ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded"),
            ("route53", lambda c: c.list_hosted_zones(), "Throttling"),
            ("ecs", lambda c: c.list_clusters(), "ThrottlingException"),
            ("logs", lambda c: c.describe_log_groups(), "ThrottlingException"),
            ("ecr", lambda c: c.get_authorization_token(), "ThrottlingException"),
            ("acm", lambda c: c.list_certificates(), "ThrottlingException"),
        ]
        for service, call, code in calls:
            client = session.client(service, endpoint_url=url, config=config)
            with self.subTest(service=service):
                with self.assertRaises(client.exceptions.ClientError) as raised:
                    call(client)
                self.assertEqual(raised.exception.response["Error"]["Code"], code)
        self.assertEqual(self.upstream_count(), 0)

    def test_5xx_answers_500_or_503_and_is_not_forwarded(self):
        self.configure(error_5xx=1.0)
        statuses = {self.query()[0] for _ in range(4)}
        self.assertEqual(statuses, {500, 503})
        status, _, body = self.json_call()
        self.assertIn(status, (500, 503))
        self.assertIn(json.loads(body)["__type"], ("InternalFailure", "ServiceUnavailableException"))
        self.assertEqual(self.upstream_count(), 0)
        self.assertEqual(self.faults()["injected"]["5xx"], 5)

    def test_drop_closes_the_connection_before_forwarding(self):
        self.configure(drop=1.0)
        self.assertIsNone(self.query())
        self.assertEqual(self.upstream_count(), 0)
        self.assertEqual(self.faults()["injected"]["drop"], 1)

    def test_lose_carries_the_call_out_then_closes_the_connection(self):
        self.configure(lose=1.0)
        self.assertIsNone(self.query("CreateLoadBalancer"))
        self.assertEqual(self.upstream_count(), 1)
        report = self.faults()
        self.assertEqual((report["injected"]["lose"], report["forwarded"]), (1, 1))

    def test_slow_answers_after_the_delay(self):
        self.configure(slow=1.0, delay=0.3)
        started = time.monotonic()
        status, _, _ = self.query()
        self.assertEqual(status, 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(self.faults()["injected"]["slow"], 1)

    def test_control_paths_and_unsigned_requests_are_never_faulted(self):
        self.configure(throttle=0.5, error_5xx=0.5)
        for path in ("/_shim", "/_shim/calls", "/moto-api/reset", "/moto-api/data.json"):
            for method in ("GET", "POST"):
                # Signed or not, the emulator's control paths pass.
                status, headers, _ = self.request(method, path, b"{}", signed="ecs")
                self.assertEqual((status, headers.get("x-upstream")), (200, "yes"), path)
        status, _, _ = self.request("POST", "/", b"Action=DescribeLoadBalancers", signed=None)
        self.assertEqual(status, 200)
        report = self.faults()
        self.assertEqual(report["total_injected"], 0)
        self.assertEqual(report["requests"], 0, "control paths and unsigned requests are not AWS calls")
        self.assertEqual(self.upstream_count(), 9)

    def test_only_limits_faults_to_a_service_or_a_call(self):
        self.configure(throttle=1.0, only=["elasticloadbalancing:CreateTargetGroup", "iam"])
        self.assertEqual(self.query("CreateTargetGroup")[0], 400)
        self.assertEqual(self.query("DescribeTargetGroups")[0], 200)
        self.assertEqual(self.query("GetRole", service="iam")[0], 400)
        self.assertEqual(self.json_call()[0], 200)
        report = self.faults()
        self.assertEqual((report["requests"], report["eligible"], report["injected"]["throttle"]), (4, 2, 2))

    def test_the_control_endpoint_resets_and_rejects_bad_config(self):
        self.configure(throttle=1.0)
        self.query()
        status, _, body = self.request("POST", "/_faults/reset", signed=None)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["requests"], 0)
        self.assertEqual(json.loads(body)["config"]["throttle"], 1.0, "reset keeps the configuration")
        status, _, body = self.request("POST", "/_faults/config", json.dumps({"throttle": 0.8, "drop": 0.5}).encode(), signed=None)
        self.assertEqual(status, 400, body)
        status, _, body = self.request("POST", "/_faults/config", json.dumps({"thrott": 0.1}).encode(), signed=None)
        self.assertEqual(status, 400, body)

    def test_the_command_line_prints_where_it_listens_and_refuses_a_remote_upstream(self):
        self.assertEqual(fault_proxy.main(["--upstream", "http://example.com:80"]), 2)
        self.assertEqual(fault_proxy.main(["--throttle", "1.5"]), 2)
        import subprocess

        process = subprocess.Popen(
            [sys.executable, "-B", fault_proxy.__file__, "--upstream", self.upstream_url, "--throttle", "1", "--only", "ecs"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            line = process.stdout.readline()
            self.assertRegex(line, r"^listening on http://127\.0\.0\.1:\d+$")
            port = int(line.rsplit(":", 1)[1])
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/_faults")
            report = json.loads(connection.getresponse().read())
            connection.close()
            self.assertEqual(report["config"]["only"], ["ecs"])
            self.assertEqual(report["config"]["throttle"], 1.0)
        finally:
            process.terminate()
            process.wait(10)
            process.stdout.close()


if __name__ == "__main__":
    unittest.main()
