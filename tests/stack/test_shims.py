"""Tests of the moto shims (tests/stack/shims/), against a moto of their own.

Runs with the stack venv's python (stdlib unittest; boto3 comes with moto)::

    .stack/venv/bin/python -B -m unittest tests/stack/test_shims.py

Starts tests/stack/moto_server.py on a free loopback port (4620 or the next
free one; CARGO_ECS_SHIM_TEST_PORT to choose), never the shared stack's moto,
and stops it at the end. Each test starts from POST /moto-api/reset.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "moto_server.py")
REGION = "us-east-1"

_proc: subprocess.Popen[bytes] | None = None
_log: Any = None
ENDPOINT = ""


def _free_port() -> int:
    wanted = os.environ.get("CARGO_ECS_SHIM_TEST_PORT")
    candidates = [int(wanted)] if wanted else list(range(4620, 4640))
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port among {candidates}")


def setUpModule() -> None:  # noqa: N802 - unittest's name
    global _proc, _log, ENDPOINT
    port = _free_port()
    ENDPOINT = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "CARGO_ECS_SHIM_"))}
    env["MOTO_PORT"] = str(port)
    _log = tempfile.TemporaryFile()
    _proc = subprocess.Popen(
        [sys.executable, LAUNCHER, "--host", "127.0.0.1", "--port", str(port)],
        stdout=_log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(ENDPOINT + "/moto-api/", timeout=1).read()
            return
        except (urllib.error.URLError, OSError):
            pass
        if _proc.poll() is not None or time.monotonic() > deadline:
            _log.seek(0)
            tail = _log.read().decode(errors="replace")[-2000:]
            tearDownModule()
            raise RuntimeError(f"moto launcher did not come up on {ENDPOINT}:\n{tail}")
        time.sleep(0.1)


def tearDownModule() -> None:  # noqa: N802
    global _proc
    if _proc is not None and _proc.poll() is None:
        _proc.terminate()
        try:
            _proc.wait(10)
        except subprocess.TimeoutExpired:
            _proc.kill()
            _proc.wait(5)
    _proc = None
    if _log is not None:
        _log.close()


def call(path: str, data: dict[str, Any] | None = None, method: str = "POST") -> tuple[int, Any]:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(ENDPOINT + path, data=body if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def client(service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


class ShimTestCase(unittest.TestCase):
    rollout_seconds = 0.6

    def setUp(self) -> None:
        status, _ = call("/moto-api/reset", {})
        self.assertEqual(status, 200)
        status, _ = call("/_shim/config", {"rollout_seconds": self.rollout_seconds})
        self.assertEqual(status, 200)
        self.ecs, self.ec2, self.elb = client("ecs"), client("ec2"), client("elbv2")

    def assertClientError(self, code: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ClientError:  # noqa: N802
        with self.assertRaises(ClientError) as ctx:
            fn(*args, **kwargs)
        self.assertEqual(ctx.exception.response["Error"]["Code"], code, ctx.exception.response["Error"])
        return ctx.exception


class EcsFixture(ShimTestCase):
    """A VPC, a cluster with FARGATE/FARGATE_SPOT, a target group, task definitions."""

    def setUp(self) -> None:
        super().setUp()
        self.vpc = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])["Subnets"]
        self.subnets = sorted(s["SubnetId"] for s in subnets)[:2]
        self.sg = self.ec2.create_security_group(GroupName="svc", Description="svc", VpcId=self.vpc)["GroupId"]
        self.ecs.create_cluster(clusterName="c", capacityProviders=["FARGATE", "FARGATE_SPOT"])
        self.tg = self.elb.create_target_group(
            Name="web", Protocol="HTTP", Port=8080, VpcId=self.vpc, TargetType="ip", HealthCheckPath="/health"
        )["TargetGroups"][0]["TargetGroupArn"]
        self.td1 = self.task_definition("app:1")

    def task_definition(self, image: str) -> str:
        return self.ecs.register_task_definition(
            family="web",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "app", "image": image, "portMappings": [{"containerPort": 8080}]}],
        )["taskDefinition"]["taskDefinitionArn"]

    def create_service(self, **overrides: Any) -> dict[str, Any]:
        args: dict[str, Any] = {
            "cluster": "c",
            "serviceName": "web",
            "taskDefinition": self.td1,
            "desiredCount": 2,
            "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
            },
            "healthCheckGracePeriodSeconds": 30,
            "enableExecuteCommand": True,
            "propagateTags": "SERVICE",
            "networkConfiguration": {
                "awsvpcConfiguration": {"subnets": self.subnets, "securityGroups": [self.sg], "assignPublicIp": "DISABLED"}
            },
            "loadBalancers": [{"targetGroupArn": self.tg, "containerName": "app", "containerPort": 8080}],
        }
        for key, value in overrides.items():  # None: leave the parameter out
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
        return self.ecs.create_service(**args)["service"]

    def service(self) -> dict[str, Any]:
        return self.ecs.describe_services(cluster="c", services=["web"])["services"][0]

    def targets(self) -> list[tuple[str, int, str, str | None]]:
        found = self.elb.describe_target_health(TargetGroupArn=self.tg)["TargetHealthDescriptions"]
        return sorted(
            (t["Target"]["Id"], t["Target"]["Port"], t["TargetHealth"]["State"], t["TargetHealth"].get("Reason"))
            for t in found
        )

    def poll(self, done: Callable[[dict[str, Any]], bool], timeout: float, watch: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """DescribeServices until done(service); watch(service) sees every answer."""
        deadline = time.monotonic() + timeout
        while True:
            svc = self.service()
            if watch:
                watch(svc)
            if done(svc):
                return svc
            if time.monotonic() > deadline:
                self.fail(f"service not done in {timeout}s: {json.dumps(svc, default=str, indent=1)[:3000]}")
            time.sleep(0.03)

    @staticmethod
    def steady(svc: dict[str, Any]) -> bool:
        deployments = svc["deployments"]
        return len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED"

    def messages(self, svc: dict[str, Any]) -> list[str]:
        return [e["message"] for e in svc["events"]]

    def running_tasks(self) -> list[dict[str, Any]]:
        arns = self.ecs.list_tasks(cluster="c", serviceName="web")["taskArns"]
        return self.ecs.describe_tasks(cluster="c", tasks=arns)["tasks"] if arns else []


# ---------------------------------------------------------------------------
# ECS
# ---------------------------------------------------------------------------


class TestEcsClusterAndTaskDefinition(ShimTestCase):
    def test_create_cluster_returns_existing_unchanged(self) -> None:
        ecs = self.ecs
        first = ecs.create_cluster(clusterName="c", capacityProviders=["FARGATE", "FARGATE_SPOT"])["cluster"]
        again = ecs.create_cluster(clusterName="c")["cluster"]
        self.assertEqual(again["clusterArn"], first["clusterArn"])
        self.assertEqual(again["capacityProviders"], ["FARGATE", "FARGATE_SPOT"])
        described = ecs.describe_clusters(clusters=["c"])["clusters"][0]
        self.assertEqual(described["capacityProviders"], ["FARGATE", "FARGATE_SPOT"])
        ecs.delete_cluster(cluster="c")  # an INACTIVE cluster is replaced
        self.assertEqual(ecs.create_cluster(clusterName="c")["cluster"].get("capacityProviders", []), [])

    def test_register_task_definition_checks_fargate_sizes(self) -> None:
        def register(cpu: str, memory: str, compat: list[str]) -> dict[str, Any]:
            return self.ecs.register_task_definition(
                family="f",
                requiresCompatibilities=compat,
                networkMode="awsvpc",
                cpu=cpu,
                memory=memory,
                containerDefinitions=[{"name": "app", "image": "i"}],
            )["taskDefinition"]

        for cpu, memory in [("256", "512"), ("512", "4096"), ("4096", "30720"), ("8192", "20480"), ("16384", "122880")]:
            register(cpu, memory, ["FARGATE"])
        td = register("1 vCPU", "2 GB", ["FARGATE"])
        self.assertEqual((td["cpu"], td["memory"]), ("1024", "2048"))
        for cpu, memory in [("256", "4096"), ("512", "512"), ("1024", "1024"), ("8192", "18432"), ("300", "1024")]:
            err = self.assertClientError("ClientException", register, cpu, memory, ["FARGATE"])
            self.assertIn("No Fargate configuration exists for given values", str(err))
        register("256", "4096", ["EC2"])  # only Fargate has the table


class TestEcsCreateService(EcsFixture):
    def test_keeps_what_moto_drops(self) -> None:
        svc = self.create_service()
        for seen in (svc, self.service()):
            self.assertNotIn("launchType", seen)
            self.assertEqual(seen["capacityProviderStrategy"], [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}])
            self.assertEqual(
                seen["deploymentConfiguration"],
                {
                    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                    "maximumPercent": 200,
                    "minimumHealthyPercent": 100,
                },
            )
            self.assertEqual(seen["healthCheckGracePeriodSeconds"], 30)
            self.assertIs(seen["enableExecuteCommand"], True)
            self.assertEqual(seen["propagateTags"], "SERVICE")
            self.assertEqual(seen["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"], [self.sg])
            self.assertEqual(seen["platformVersion"], "LATEST")
            [deployment] = seen["deployments"]
            self.assertEqual(deployment["status"], "PRIMARY")
            self.assertEqual(deployment["rolloutState"], "IN_PROGRESS")
            self.assertRegex(deployment["id"], r"^ecs-svc/\d+$")
            self.assertEqual(deployment["rolloutStateReason"], f"ECS deployment {deployment['id']} in progress.")
            self.assertEqual(deployment["capacityProviderStrategy"], seen["capacityProviderStrategy"])
            self.assertNotIn("launchType", deployment)

    def test_defaults_and_launch_type(self) -> None:
        svc = self.create_service(
            capacityProviderStrategy=None,
            launchType="FARGATE",
            deploymentConfiguration=None,
            enableExecuteCommand=None,
            healthCheckGracePeriodSeconds=None,
            propagateTags=None,
            networkConfiguration={"awsvpcConfiguration": {"subnets": self.subnets[:1]}},  # no security group
        )
        self.assertEqual(svc["launchType"], "FARGATE")
        self.assertNotIn("capacityProviderStrategy", svc)
        self.assertEqual(
            svc["deploymentConfiguration"],
            {"deploymentCircuitBreaker": {"enable": False, "rollback": False}, "maximumPercent": 200, "minimumHealthyPercent": 100},
        )
        self.assertIs(svc["enableExecuteCommand"], False)
        self.assertNotIn("healthCheckGracePeriodSeconds", svc)
        self.assertEqual(svc["propagateTags"], "NONE")
        self.poll(lambda s: s["runningCount"] == 2, 5)
        default_sg = self.ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [self.vpc]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"][0]["GroupId"]
        for task in self.running_tasks():
            self.assertEqual(task["launchType"], "FARGATE")
            eni = next(d["value"] for d in task["attachments"][0]["details"] if d["name"] == "networkInterfaceId")
            groups = self.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Groups"]
            self.assertEqual([g["GroupId"] for g in groups], [default_sg])

    def test_cluster_default_strategy_and_both_given(self) -> None:
        self.ecs.put_cluster_capacity_providers(
            cluster="c",
            capacityProviders=["FARGATE", "FARGATE_SPOT"],
            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 1}],
        )
        svc = self.create_service(capacityProviderStrategy=None)
        self.assertNotIn("launchType", svc)
        self.assertEqual(svc["capacityProviderStrategy"], [{"capacityProvider": "FARGATE", "weight": 1, "base": 1}])
        err = self.assertClientError("InvalidParameterException", self.create_service, serviceName="other", launchType="FARGATE")
        self.assertIn("Specifying both a launch type and capacity provider strategy is not supported", str(err))

    def test_not_idempotent_unless_same_client_token(self) -> None:
        first = self.create_service(clientToken="token-1")
        err = self.assertClientError("InvalidParameterException", self.create_service)
        self.assertIn("Creation of service was not idempotent.", str(err))
        self.assertClientError("InvalidParameterException", self.create_service, clientToken="token-2", desiredCount=5)
        again = self.create_service(clientToken="token-1")
        self.assertEqual(again["deployments"][0]["id"], first["deployments"][0]["id"])
        self.assertEqual(len(self.ecs.list_services(cluster="c")["serviceArns"]), 1)
        # once deleted, the name is free again
        self.ecs.delete_service(cluster="c", service="web", force=True)
        self.assertEqual(self.create_service(clientToken="token-3")["status"], "ACTIVE")


class TestEcsRollouts(EcsFixture):
    rollout_seconds = 1.6  # draining lasts T/4 = 0.4 s: long enough to be seen by polling

    def test_create_then_update(self) -> None:
        t0 = time.monotonic()
        self.create_service()
        seen_pending = []

        def watch_create(svc: dict[str, Any]) -> None:
            seen_pending.append(svc["pendingCount"])

        svc = self.poll(self.steady, 10, watch_create)
        self.assertLess(time.monotonic() - t0, 1.6 * 1.5)
        self.assertIn(2, seen_pending)
        [first] = svc["deployments"]
        self.assertEqual((svc["runningCount"], svc["pendingCount"]), (2, 0))
        self.assertEqual((first["runningCount"], first["pendingCount"], first["desiredCount"]), (2, 0, 2))
        self.assertEqual(first["rolloutStateReason"], f"ECS deployment {first['id']} completed.")
        messages = self.messages(svc)
        self.assertEqual(messages[0], f"(service web) (deployment {first['id']}) deployment completed.")
        self.assertEqual(messages[1], "(service web) has reached a steady state.")
        self.assertEqual(messages[2], f"(service web) registered 2 targets in (target-group {self.tg})")
        self.assertRegex(messages[3], r"^\(service web\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$")
        times = [e["createdAt"] for e in svc["events"]]
        self.assertEqual(times, sorted(times, reverse=True))

        tasks = self.running_tasks()
        self.assertEqual(len(tasks), 2)
        ips = []
        for task in tasks:
            self.assertEqual((task["lastStatus"], task["desiredStatus"]), ("RUNNING", "RUNNING"))
            self.assertEqual(task["taskDefinitionArn"], self.td1)
            self.assertEqual(task["startedBy"], first["id"])
            self.assertEqual(task["group"], "service:web")
            self.assertEqual(task["capacityProviderName"], "FARGATE_SPOT")
            self.assertIn(task["healthStatus"], ("UNKNOWN", "HEALTHY"))
            self.assertIs(task["enableExecuteCommand"], True)
            [attachment] = task["attachments"]
            self.assertEqual(attachment["type"], "ElasticNetworkInterface")
            details = {d["name"]: d["value"] for d in attachment["details"]}
            self.assertIn(details["subnetId"], self.subnets)
            ips.append(details["privateIPv4Address"])
            self.assertEqual(task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"], details["privateIPv4Address"])
        self.assertEqual(self.targets(), sorted((ip, 8080, "healthy", None) for ip in ips))
        cluster = self.ecs.describe_clusters(clusters=["c"])["clusters"][0]
        self.assertEqual((cluster["runningTasksCount"], cluster["pendingTasksCount"]), (2, 0))

        # a new task definition: a new PRIMARY deployment, the old one ACTIVE, then drained and gone
        td2 = self.task_definition("app:2")
        updated = self.ecs.update_service(cluster="c", service="web", taskDefinition=td2)["service"]
        self.assertEqual(updated["desiredCount"], 2)
        self.assertEqual(updated["taskDefinition"], td2)
        new, old = updated["deployments"]
        self.assertEqual((new["status"], new["taskDefinition"], new["rolloutState"]), ("PRIMARY", td2, "IN_PROGRESS"))
        self.assertNotEqual(new["id"], first["id"])
        self.assertRegex(new["id"], r"^ecs-svc/\d+$")
        self.assertEqual((old["id"], old["status"], old["taskDefinition"]), (first["id"], "ACTIVE", self.td1))
        self.assertGreaterEqual(new["createdAt"], first["createdAt"])

        states: set[str] = set()
        counts: set[tuple[int, int, int, int]] = set()

        def watch_update(svc: dict[str, Any]) -> None:
            for _ip, _port, state, _reason in self.targets():
                states.add(state)
            if len(svc["deployments"]) == 2:
                n, o = svc["deployments"]
                counts.add((n["runningCount"], n["pendingCount"], o["runningCount"], o["pendingCount"]))
                self.assertEqual(svc["runningCount"], n["runningCount"] + o["runningCount"])
                self.assertEqual(svc["pendingCount"], n["pendingCount"] + o["pendingCount"])

        svc = self.poll(self.steady, 10, watch_update)
        self.assertEqual(svc["deployments"][0]["id"], new["id"])
        self.assertEqual(svc["taskDefinition"], td2)
        self.assertTrue({"initial", "healthy", "draining"} <= states, states)
        self.assertIn((0, 2, 2, 0), counts)  # new pending, old running
        self.assertIn((2, 0, 0, 0), counts)  # old ran down to 0, still listed
        messages = self.messages(svc)
        self.assertEqual(messages[0], f"(service web) (deployment {new['id']}) deployment completed.")
        self.assertEqual(messages[1], "(service web) has reached a steady state.")
        self.assertRegex(messages[2], r"^\(service web\) has stopped 2 running tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$")
        self.assertIn(f"(service web) deregistered 2 targets in (target-group {self.tg})", messages[3:5])
        self.assertIn("(service web) has begun draining connections on 2 tasks.", messages[3:5])

        running = self.running_tasks()
        self.assertEqual({t["taskDefinitionArn"] for t in running}, {td2})
        self.assertEqual({t["startedBy"] for t in running}, {new["id"]})
        stopped_arns = self.ecs.list_tasks(cluster="c", serviceName="web", desiredStatus="STOPPED")["taskArns"]
        stopped = self.ecs.describe_tasks(cluster="c", tasks=stopped_arns)["tasks"]
        self.assertEqual(len(stopped), 2)
        for task in stopped:
            self.assertEqual((task["lastStatus"], task["desiredStatus"], task["taskDefinitionArn"]), ("STOPPED", "STOPPED", self.td1))
            self.assertEqual(task["stoppedReason"], f"Scaling activity initiated by (deployment {new['id']})")
            self.assertEqual(task["stopCode"], "ServiceSchedulerInitiated")
        self.assertEqual(len(self.targets()), 2)

    def test_desired_count_only_and_force_new_deployment(self) -> None:
        self.create_service(desiredCount=1)
        first = self.poll(self.steady, 10)["deployments"][0]
        svc = self.ecs.update_service(cluster="c", service="web", desiredCount=3)["service"]
        self.assertEqual([d["id"] for d in svc["deployments"]], [first["id"]])
        self.assertEqual(svc["deployments"][0]["desiredCount"], 3)
        svc = self.poll(lambda s: s["runningCount"] == 3 and "has reached a steady state." in s["events"][0]["message"], 10)
        self.assertEqual(svc["deployments"][0]["rolloutState"], "COMPLETED")
        self.assertRegex(svc["events"][2]["message"], r"^\(service web\) has started 2 tasks: ")

        # no desiredCount: it stays 3
        svc = self.ecs.update_service(cluster="c", service="web", forceNewDeployment=True)["service"]
        self.assertEqual(svc["desiredCount"], 3)
        self.assertEqual(len(svc["deployments"]), 2)
        self.assertEqual(svc["deployments"][0]["taskDefinition"], self.td1)
        self.assertEqual(svc["deployments"][0]["desiredCount"], 3)
        svc = self.poll(self.steady, 10)
        self.assertNotEqual(svc["deployments"][0]["id"], first["id"])
        self.assertEqual((svc["desiredCount"], svc["runningCount"]), (3, 3))

        # the same task definition, no force: no deployment
        svc = self.ecs.update_service(cluster="c", service="web", taskDefinition=self.td1)["service"]
        self.assertEqual(len(svc["deployments"]), 1)

    def test_stopped_task_is_replaced(self) -> None:
        self.create_service(desiredCount=1)
        self.poll(self.steady, 10)
        [task] = self.running_tasks()
        self.ecs.stop_task(cluster="c", task=task["taskArn"], reason="operator")
        svc = self.poll(lambda s: s["runningCount"] == 1 and self.running_tasks()[0]["taskArn"] != task["taskArn"], 10)
        self.assertEqual(len(svc["deployments"]), 1)
        [stopped] = self.ecs.describe_tasks(cluster="c", tasks=[task["taskArn"]])["tasks"]
        self.assertEqual((stopped["lastStatus"], stopped["stoppedReason"], stopped["stopCode"]), ("STOPPED", "operator", "UserInitiated"))


class TestEcsScriptedFailures(EcsFixture):
    rollout_seconds = 1.0

    def steady_service(self, desired: int = 1) -> dict[str, Any]:
        self.create_service(desiredCount=desired)
        return self.poll(self.steady, 10)["deployments"][0]

    def test_fail_with_circuit_breaker_rolls_back(self) -> None:
        good = self.steady_service()
        status, answer = call(
            "/_shim/ecs/next-rollout",
            {"cluster": "c", "service": "web", "outcome": "fail", "stopped_reason": "Essential container in task exited", "exit_code": 1},
        )
        self.assertEqual(status, 200, answer)
        td2 = self.task_definition("app:broken")
        bad = self.ecs.update_service(cluster="c", service="web", taskDefinition=td2)["service"]["deployments"][0]
        seen: dict[str, Any] = {}

        def watch(svc: dict[str, Any]) -> None:
            for d in svc["deployments"]:
                if d["id"] == bad["id"] and d["rolloutState"] == "FAILED":
                    seen["failed"] = d
                if d["status"] == "PRIMARY" and d["id"] not in (good["id"], bad["id"]):
                    seen.setdefault("rollback", d)

        svc = self.poll(lambda s: self.steady(s) and s["deployments"][0]["id"] != bad["id"], 15, watch)
        self.assertEqual(seen["failed"]["rolloutStateReason"], "ECS deployment circuit breaker: tasks failed to start.")
        self.assertEqual(seen["failed"]["status"], "ACTIVE")
        self.assertGreaterEqual(seen["failed"]["failedTasks"], 3)
        rollback = seen["rollback"]
        self.assertEqual(rollback["taskDefinition"], self.td1)
        self.assertEqual(
            rollback["rolloutStateReason"],
            f"ECS deployment circuit breaker: rolling back to deploymentId {good['id']}.",
        )
        [final] = svc["deployments"]
        self.assertEqual((final["id"], final["rolloutState"], final["taskDefinition"]), (rollback["id"], "COMPLETED", self.td1))
        self.assertEqual(svc["taskDefinition"], self.td1)
        messages = self.messages(svc)
        self.assertIn(f"(service web) (deployment {bad['id']}) deployment failed: tasks failed to start.", messages)
        self.assertIn(f"(service web) rolling back to deployment {good['id']}.", messages)
        self.assertLess(
            messages.index(f"(service web) rolling back to deployment {good['id']}."),
            messages.index(f"(service web) (deployment {bad['id']}) deployment failed: tasks failed to start."),
        )
        self.assertEqual(messages[0], f"(service web) (deployment {rollback['id']}) deployment completed.")

        stopped_arns = self.ecs.list_tasks(cluster="c", serviceName="web", desiredStatus="STOPPED")["taskArns"]
        crashed = [t for t in self.ecs.describe_tasks(cluster="c", tasks=stopped_arns)["tasks"] if t["taskDefinitionArn"] == td2]
        self.assertGreaterEqual(len(crashed), 3)
        for task in crashed:
            self.assertEqual((task["lastStatus"], task["desiredStatus"]), ("STOPPED", "STOPPED"))
            self.assertEqual(task["stoppedReason"], "Essential container in task exited")
            self.assertEqual(task["stopCode"], "EssentialContainerExited")
            self.assertEqual(task["containers"][0]["exitCode"], 1)
            self.assertEqual(task["startedBy"], bad["id"])
        # the script was used up: the next deployment succeeds
        self.assertEqual(call("/_shim", method="GET")[1]["scripted"], [])

    def test_fail_without_rollback_stays_failed(self) -> None:
        self.create_service(
            desiredCount=1,
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}},
        )
        good = self.poll(self.steady, 10)["deployments"][0]
        call("/_shim/ecs/next-rollout", {"service": "web", "cluster": "c", "outcome": "fail", "exit_code": 2, "reason": "OOM"})
        self.ecs.update_service(cluster="c", service="web", taskDefinition=self.task_definition("app:2"))
        svc = self.poll(lambda s: s["deployments"][0]["rolloutState"] == "FAILED", 10)
        primary, old = svc["deployments"]
        self.assertEqual((primary["status"], old["id"], old["runningCount"]), ("PRIMARY", good["id"], 1))
        time.sleep(0.5)
        self.assertEqual(len(self.service()["deployments"]), 2)  # no rollback, old tasks keep serving
        stopped = self.ecs.list_tasks(cluster="c", serviceName="web", desiredStatus="STOPPED")["taskArns"]
        task = self.ecs.describe_tasks(cluster="c", tasks=stopped[:1])["tasks"][0]
        self.assertEqual((task["containers"][0]["exitCode"], task["containers"][0]["reason"]), (2, "OOM"))

    def test_never_steady(self) -> None:
        good = self.steady_service()
        call("/_shim/ecs/next-rollout", {"cluster": "c", "service": "web", "outcome": "never-steady"})
        self.ecs.update_service(cluster="c", service="web", forceNewDeployment=True)
        time.sleep(2.5 * self.rollout_seconds)
        svc = self.service()
        new, old = svc["deployments"]
        self.assertEqual((new["rolloutState"], new["pendingCount"], new["runningCount"]), ("IN_PROGRESS", 1, 0))
        self.assertEqual((old["id"], old["runningCount"]), (good["id"], 1))
        self.assertEqual((svc["runningCount"], svc["pendingCount"]), (1, 1))
        self.assertEqual([state for _ip, _port, state, _r in self.targets()], ["healthy"])
        pending = [t for t in self.running_tasks() if t["lastStatus"] == "PENDING"]
        self.assertEqual([t["startedBy"] for t in pending], [new["id"]])

    def test_unhealthy_targets_and_replaced_tasks(self) -> None:
        self.steady_service()
        call("/_shim/ecs/next-rollout", {"cluster": "c", "service": "web", "outcome": "unhealthy"})
        self.ecs.update_service(
            cluster="c",
            service="web",
            forceNewDeployment=True,
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": False, "rollback": False}},
        )
        unhealthy: list[tuple[str, int, str, str | None]] = []
        deadline = time.monotonic() + 10
        while not unhealthy and time.monotonic() < deadline:
            unhealthy = [t for t in self.targets() if t[2] == "unhealthy"]
            time.sleep(0.03)
        self.assertTrue(unhealthy)
        self.assertEqual(unhealthy[0][3], "Target.ResponseCodeMismatch")
        description = self.elb.describe_target_health(
            TargetGroupArn=self.tg, Targets=[{"Id": unhealthy[0][0], "Port": 8080}]
        )["TargetHealthDescriptions"]
        self.assertEqual(description[0]["TargetHealth"]["Description"], "Health checks failed with these codes: [404]")
        svc = self.poll(lambda s: s["deployments"][0]["failedTasks"] >= 2, 10)
        self.assertEqual(svc["deployments"][0]["rolloutState"], "IN_PROGRESS")  # no circuit breaker: it keeps trying
        self.assertTrue(
            any("is unhealthy in (target-group" in m and "due to (reason Health checks failed with these codes: [404])." in m for m in self.messages(svc))
        )
        stopped = self.ecs.list_tasks(cluster="c", serviceName="web", desiredStatus="STOPPED")["taskArns"]
        reasons = {t["stoppedReason"] for t in self.ecs.describe_tasks(cluster="c", tasks=stopped)["tasks"]}
        self.assertIn(f"Task failed ELB health checks in (target-group {self.tg})", reasons)


class TestControlEndpoint(ShimTestCase):
    def test_api(self) -> None:
        status, body = call("/_shim", method="GET")
        self.assertEqual(status, 200)
        self.assertIn("ecs-service-rollouts", body["shims"])
        self.assertEqual(body["rollout_seconds"], self.rollout_seconds)
        self.assertEqual(call("/_shim/ecs/next-rollout", {"service": "s", "outcome": "explode"})[0], 400)
        self.assertEqual(call("/_shim/ecs/next-rollout", {"cluster": "c"})[0], 400)
        self.assertEqual(call("/_shim/ecs/next-rollout", {"service": "s", "outcom": "fail"})[0], 400)
        self.assertEqual(call("/_shim/config", {"rollout_seconds": -1})[0], 400)
        self.assertEqual(call("/_shim/nope", {})[0], 404)
        self.assertEqual(call("/_shim/reset", method="GET")[0], 405)
        status, body = call("/_shim/ecs/next-rollout", {"cluster": "arn:aws:ecs:us-east-1:1:cluster/c", "service": "s", "outcome": "fail"})
        self.assertEqual((status, body["scripted"]["cluster"], body["scripted"]["outcome"]), (200, "c", "fail"))
        self.assertEqual(len(call("/_shim", method="GET")[1]["scripted"]), 1)
        self.assertEqual(call("/_shim/reset", {})[0], 200)
        status, body = call("/_shim", method="GET")
        self.assertEqual(body["scripted"], [])
        self.assertNotEqual(body["rollout_seconds"], self.rollout_seconds)  # back to the default
        call("/_shim/ecs/next-rollout", {"service": "s", "outcome": "fail"})
        call("/moto-api/reset", {})
        self.assertEqual(call("/_shim", method="GET")[1]["scripted"], [])


    def test_call_log_tells_reads_from_mutations(self) -> None:
        self.assertEqual(call("/_shim/calls/reset", {})[0], 200)
        ecs = client("ecs")
        ecs.list_clusters()
        ecs.create_cluster(clusterName="calls-probe")
        ecs.describe_clusters(clusters=["calls-probe"])
        client("route53").list_hosted_zones()
        logged = call("/_shim/calls", method="GET")[1]["calls"]
        seen = [(c["service"], c["operation"], c["mutating"]) for c in logged]
        self.assertEqual(seen[:3], [("ecs", "ListClusters", False), ("ecs", "CreateCluster", True), ("ecs", "DescribeClusters", False)])
        self.assertEqual((seen[3][0], seen[3][2]), ("route53", False))
        self.assertTrue(seen[3][1].startswith("GET /"), seen[3])
        call("/moto-api/reset", {})
        self.assertEqual(call("/_shim/calls", method="GET")[1]["calls"], [])


# ---------------------------------------------------------------------------
# ELBv2, EC2, Route 53, CloudWatch Logs
# ---------------------------------------------------------------------------


class TestElbv2(ShimTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.vpc = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        self.subnets = [s["SubnetId"] for s in self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])["Subnets"]][:2]

    def test_create_load_balancer_is_idempotent(self) -> None:
        first = self.elb.create_load_balancer(Name="lb", Subnets=self.subnets)["LoadBalancers"][0]
        self.assertEqual(first["Scheme"], "internet-facing")
        again = self.elb.create_load_balancer(Name="lb", Subnets=self.subnets, Scheme="internet-facing", Type="application")
        self.assertEqual(again["LoadBalancers"][0]["LoadBalancerArn"], first["LoadBalancerArn"])
        self.assertEqual(len(self.elb.describe_load_balancers()["LoadBalancers"]), 1)
        self.assertClientError("DuplicateLoadBalancerName", self.elb.create_load_balancer, Name="lb", Subnets=self.subnets, Scheme="internal")
        self.assertClientError("DuplicateLoadBalancerName", self.elb.create_load_balancer, Name="lb", Subnets=self.subnets, Type="network")

    def test_create_listener_is_idempotent_per_port(self) -> None:
        lb = self.elb.create_load_balancer(Name="lb-ports", Subnets=self.subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        not_found = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
        first = self.elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=not_found)["Listeners"][0]
        again = self.elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=not_found)["Listeners"][0]
        self.assertEqual(again["ListenerArn"], first["ListenerArn"])
        redirect = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]
        self.assertClientError("DuplicateListener", self.elb.create_listener, LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=redirect)
        self.assertEqual(len(self.elb.describe_listeners(LoadBalancerArn=lb)["Listeners"]), 1)
        self.elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=8080, DefaultActions=redirect)
        self.assertEqual(len(self.elb.describe_listeners(LoadBalancerArn=lb)["Listeners"]), 2)

    def test_a_load_balancer_takes_fifty_tags(self) -> None:
        lb = self.elb.create_load_balancer(Name="lb-tags", Subnets=self.subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        for i in range(0, 50, 10):
            self.elb.add_tags(ResourceArns=[lb], Tags=[{"Key": f"k{j}", "Value": "v"} for j in range(i, i + 10)])
        self.elb.add_tags(ResourceArns=[lb], Tags=[{"Key": "k0", "Value": "again"}])
        self.assertEqual(len(self.elb.describe_tags(ResourceArns=[lb])["TagDescriptions"][0]["Tags"]), 50)
        self.assertClientError("TooManyTags", self.elb.add_tags, ResourceArns=[lb], Tags=[{"Key": "k50", "Value": "v"}])

    def test_http_listeners_have_no_tls_policy(self) -> None:
        lb = self.elb.create_load_balancer(Name="lb-tls", Subnets=self.subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        action = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]
        http = self.elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=action)["Listeners"][0]
        self.assertNotIn("SslPolicy", http)
        read = self.elb.describe_listeners(ListenerArns=[http["ListenerArn"]])["Listeners"][0]
        self.assertNotIn("SslPolicy", read)

    def test_create_target_group_is_idempotent(self) -> None:
        args = {"Name": "tg", "Protocol": "HTTP", "Port": 8080, "VpcId": self.vpc, "TargetType": "ip", "HealthCheckPath": "/health"}
        first = self.elb.create_target_group(**args)["TargetGroups"][0]
        again = self.elb.create_target_group(**args)["TargetGroups"][0]
        self.assertEqual(again["TargetGroupArn"], first["TargetGroupArn"])
        self.assertEqual(len(self.elb.describe_target_groups()["TargetGroups"]), 1)
        self.assertClientError("DuplicateTargetGroupName", self.elb.create_target_group, **{**args, "Port": 80})
        self.assertClientError("DuplicateTargetGroupName", self.elb.create_target_group, **{**args, "HealthCheckPath": "/"})
        self.assertClientError("DuplicateTargetGroupName", self.elb.create_target_group, **{**args, "TargetType": "instance"})

    def test_https_listener_needs_certificate(self) -> None:
        lb = self.elb.create_load_balancer(Name="lb", Subnets=self.subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        action = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
        err = self.assertClientError(
            "ValidationError", self.elb.create_listener, LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=action
        )
        self.assertIn("A certificate must be specified for HTTPS listeners", str(err))
        self.elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=action)

    def test_registered_targets_still_reported(self) -> None:
        tg = self.elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=self.vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        self.elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "172.31.0.9", "Port": 80}])
        [health] = self.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        self.assertEqual(health["Target"]["Id"], "172.31.0.9")


class TestEc2Route53Logs(ShimTestCase):
    def test_the_default_vpc_routes_to_an_internet_gateway(self) -> None:
        vpc = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        gateways = self.ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
        self.assertEqual(len(gateways), 1)
        main = self.ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
        )["RouteTables"][0]
        routes = {r.get("DestinationCidrBlock"): r.get("GatewayId") for r in main["Routes"]}
        self.assertEqual(routes.get("0.0.0.0/0"), gateways[0]["InternetGatewayId"])

    def test_duplicate_ingress_rule_whatever_the_description(self) -> None:
        vpc = self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        alb = self.ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
        svc = self.ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)["GroupId"]

        def from_group(description: str) -> dict[str, Any]:
            return {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": alb, "Description": description}]}

        def from_cidr(description: str) -> dict[str, Any]:
            return {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": description}]}

        for perm in (from_group, from_cidr):
            self.ec2.authorize_security_group_ingress(GroupId=svc, IpPermissions=[perm("first")])
            self.assertClientError("InvalidPermission.Duplicate", self.ec2.authorize_security_group_ingress, GroupId=svc, IpPermissions=[perm("other")])
            self.assertClientError("InvalidPermission.Duplicate", self.ec2.authorize_security_group_ingress, GroupId=svc, IpPermissions=[perm("first")])
        rules = self.ec2.describe_security_groups(GroupIds=[svc])["SecurityGroups"][0]["IpPermissions"]
        self.assertEqual(sorted(r["FromPort"] for r in rules), [443, 8080])
        self.ec2.authorize_security_group_ingress(GroupId=svc, IpPermissions=[{**from_group("x"), "FromPort": 9090, "ToPort": 9090}])
        self.ec2.revoke_security_group_ingress(GroupId=svc, IpPermissions=[from_group("whatever")])

    def test_route53(self) -> None:
        r53 = client("route53")
        zone = r53.create_hosted_zone(Name="example.test", CallerReference="ref-1")["HostedZone"]["Id"]
        self.assertClientError("HostedZoneAlreadyExists", r53.create_hosted_zone, Name="other.test", CallerReference="ref-1")
        self.assertEqual(len(r53.list_hosted_zones()["HostedZones"]), 1)

        def change(action: str, value: str, name: str = "www.example.test") -> Any:
            return r53.change_resource_record_sets(
                HostedZoneId=zone,
                ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": {"Name": name, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": value}]}}]},
            )

        change("CREATE", "10.0.0.1")
        err = self.assertClientError("InvalidChangeBatch", change, "CREATE", "10.0.0.2", "WWW.example.test.")
        self.assertIn("Tried to create resource record set [name='WWW.example.test.', type='A'] but it already exists", str(err))
        self.assertClientError("InvalidChangeBatch", change, "CREATE", "10.0.0.1")
        change("UPSERT", "10.0.0.3")
        records = [r for r in r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"] if r["Type"] == "A"]
        self.assertEqual([r["ResourceRecords"] for r in records], [[{"Value": "10.0.0.3"}]])
        # DELETE then CREATE in one batch replaces
        r53.change_resource_record_sets(
            HostedZoneId=zone,
            ChangeBatch={
                "Changes": [
                    {"Action": "DELETE", "ResourceRecordSet": {"Name": "www.example.test", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.3"}]}},
                    {"Action": "CREATE", "ResourceRecordSet": {"Name": "www.example.test", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.4"}]}},
                ]
            },
        )

    def test_logs_retention_values(self) -> None:
        logs = client("logs")
        logs.create_log_group(logGroupName="/ecs/web")
        for days in (13, 0, 4000):
            err = self.assertClientError("InvalidParameterException", logs.put_retention_policy, logGroupName="/ecs/web", retentionInDays=days)
            self.assertIn(f"Value '{days}' at 'retentionInDays' failed to satisfy constraint", str(err))
        for days in (1, 14, 400, 3653):
            logs.put_retention_policy(logGroupName="/ecs/web", retentionInDays=days)
        self.assertEqual(logs.describe_log_groups()["logGroups"][0]["retentionInDays"], 3653)


if __name__ == "__main__":
    unittest.main()
