"""ECS shims: clusters, services, service deployments (rollouts), tasks, task definitions.

The rollout shim (:class:`EcsServiceRollouts`) is a small scheduler simulation
kept on moto's own Service objects (attribute ``_shim_sim``), so moto's
``POST /moto-api/reset`` drops it with everything else. It is driven by wall
clock time: nothing runs in the background; every read that can show the
service's state (DescribeServices, DescribeClusters, ListTasks, DescribeTasks,
ELBv2 DescribeTargetHealth) first advances the simulation to "now", replaying
every step that fell due since the last read at the time it fell due. So the
events, counts and timestamps are the same however often (or rarely) clients
poll.

Timeline of one task, ``T`` being the deployment's rollout time
(``CARGO_ECS_SHIM_ROLLOUT_SECONDS``, default 2 s; ``POST /_shim/config`` or a
scripted rollout can change it)::

    launch ──T/4──► RUNNING (targets registered: initial) ──T/4──► ready (targets healthy)
    scheduler stop: desiredStatus STOPPED, targets draining ──T/4──► STOPPED

A new PRIMARY deployment launches its tasks at once; when all of them are
ready, the older deployments' tasks drain and stop, and T/4 after the last one
stopped the older deployments disappear and the PRIMARY is COMPLETED: about T
for an update, 3T/4 for a new service.
"""

from __future__ import annotations

import copy
import datetime
import math
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2 import ec2_backends
from moto.ecs.exceptions import (
    ECSException,
    EcsClientException,
    InvalidParameterException,
)
from moto.ecs.models import EC2ContainerServiceBackend, Service, Task, ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

from . import texts
from .base import Shim, patch

# One lock for every ECS shim: werkzeug serves requests on threads, and a
# simulation step touches services, tasks, ENIs and cluster counters.
LOCK = threading.RLock()

DEFAULT_ROLLOUT_SECONDS = float(os.environ.get("CARGO_ECS_SHIM_ROLLOUT_SECONDS", "2"))
OUTCOMES = ("ok", "fail", "never-steady", "unhealthy")
MAX_EVENTS = 100  # DescribeServices shows the 100 most recent events
MAX_STOPPED_TASKS = 100  # stopped tasks kept per service (AWS keeps them ~1 hour)
MAX_STEPS = 5000  # simulation steps per read, a guard against tiny rollout times


def _dt(t: float) -> datetime.datetime:
    """moto stores naive UTC datetimes."""
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).replace(tzinfo=None)


def _new_deployment_id() -> str:
    return f"ecs-svc/{mock_random.randint(10**18, 2**63 - 1)}"


# ---------------------------------------------------------------------------
# State of the shims' own: configuration and scripted rollouts
# (cleared by POST /_shim/reset and POST /moto-api/reset).
# ---------------------------------------------------------------------------


@dataclass
class Script:
    """What the next deployment of one service does (POST /_shim/ecs/next-rollout)."""

    outcome: str = "ok"
    stopped_reason: str = texts.STOPPED_ESSENTIAL
    exit_code: int = 1
    container_reason: str | None = None
    http_code: int = 404
    rollout_seconds: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        outcome = data.get("outcome", "ok")
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        seconds = data.get("rollout_seconds")
        if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
            raise ValueError("rollout_seconds must be a positive number")
        return cls(
            outcome=outcome,
            stopped_reason=str(data.get("stopped_reason") or texts.STOPPED_ESSENTIAL),
            exit_code=int(data.get("exit_code", 1)),
            container_reason=data.get("reason"),
            http_code=int(data.get("http_code", 404)),
            rollout_seconds=None if seconds is None else float(seconds),
        )


@dataclass
class ShimState:
    rollout_seconds: float = DEFAULT_ROLLOUT_SECONDS
    # (cluster name, service name) -> script for that service's next deployment
    scripts: dict[tuple[str, str], Script] = field(default_factory=dict)


STATE = ShimState()


def reset_state() -> None:
    with LOCK:
        STATE.rollout_seconds = DEFAULT_ROLLOUT_SECONDS
        STATE.scripts.clear()


def script_next_rollout(data: dict[str, Any]) -> dict[str, Any]:
    """POST /_shim/ecs/next-rollout; raises ValueError on a bad request."""
    allowed = {"cluster", "service", "outcome", "stopped_reason", "exit_code", "reason", "http_code", "rollout_seconds"}
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))} (known: {', '.join(sorted(allowed))})")
    cluster = str(data.get("cluster") or "default").split("/")[-1]
    service = data.get("service")
    if not service:
        raise ValueError("'service' is required")
    script = Script.from_json(data)
    with LOCK:
        STATE.scripts[(cluster, str(service).split("/")[-1])] = script
    return {"cluster": cluster, "service": str(service).split("/")[-1], **script.__dict__}


def _take_script(cluster: str, service: str) -> Script:
    return STATE.scripts.pop((cluster, service), None) or Script()


# ---------------------------------------------------------------------------
# Model objects of the simulation
# ---------------------------------------------------------------------------


class SimTask(Task):
    """A service task. A moto Task (ListTasks/DescribeTasks/StopTask serialize
    and find it as any other), but with a lifecycle driven by its plan instead
    of moto's state manager, an ENI with an address from its subnet, and the
    fields DescribeTasks has on AWS."""

    def __init__(self, sim: ServiceSim, deployment: SimDeployment, t: float, index: int) -> None:
        # Task.__init__ is not called: it builds an ENI from a random address
        # and needs securityGroups; everything serialized is set here.
        backend, service = sim.backend, sim.service
        self.id = mock_random.uuid4().hex
        self._backend = backend
        self._account_id = backend.account_id
        self.region_name = backend.region_name
        self.cluster_name = service.cluster_name
        self.cluster_arn = service.cluster_arn
        self.sim, self.deployment = sim, deployment
        self._status = "PENDING"
        self.desired_status = "RUNNING"
        self.task_definition_arn = deployment.task_definition
        self.started_by = deployment.id
        self.group = f"service:{service.name}"
        self.container_instance_arn = None
        self.resource_requirements = None
        self.created_at = _dt(t)
        self.version = 1
        self.health_status = "UNKNOWN"
        self.enable_execute_command = bool(getattr(service, "enable_execute_command", False))
        self.stopped_reason: str | None = None
        self.stop_code: str | None = None
        self.started_at = self.stopping_at = self.stopped_at = self.execution_stopped_at = None
        self.pull_started_at = self.pull_stopped_at = self.connectivity_at = None
        self.launch_type = "FARGATE" if deployment.fargate else deployment.launch_type
        self.capacity_provider_name = sim.pick_capacity_provider(deployment)
        self.platform_version = "1.4.0" if deployment.fargate else None
        self.platform_family = "Linux" if deployment.fargate else None
        self.connectivity = None
        self.tags = sim.task_tags()
        try:
            task_def = backend.describe_task_definition(deployment.task_definition)
            defs = task_def.container_definitions
            self.cpu, self.memory = task_def.cpu, task_def.memory
        except Exception:  # noqa: BLE001 - a deregistered revision still runs on AWS
            defs, self.cpu, self.memory = [], None, None
        self.overrides: dict[str, Any] = {
            "containerOverrides": [{"name": d.get("name")} for d in defs],
            "inferenceAcceleratorOverrides": [],
        }
        self.eni_id: str | None = None
        self.ip: str | None = None
        self.subnet: Any = None
        self.attachments: list[dict[str, Any]] = []
        self.availability_zone = None
        self._attach_eni(sim, index)
        self.containers = [
            {
                "containerArn": f"arn:aws:ecs:{self.region_name}:{self._account_id}:container/"
                f"{self.cluster_name}/{self.id}/{mock_random.uuid4()}",
                "taskArn": self.task_arn,
                "name": d.get("name"),
                "image": d.get("image"),
                "lastStatus": "PENDING",
                "networkBindings": [],
                "networkInterfaces": (
                    [{"attachmentId": self.attachments[0]["id"], "privateIpv4Address": self.ip}]
                    if self.attachments
                    else []
                ),
                "healthStatus": "UNKNOWN",
                "cpu": str(d.get("cpu", 0)),
                **({"memory": str(d["memory"])} if d.get("memory") else {}),
                "_healthcheck": bool(d.get("healthCheck")),
            }
            for d in defs
        ]
        # Lifecycle: plan is a list of (time, step), see ServiceSim._step.
        self.plan: list[tuple[float, str]] = []
        self.registered = False  # a target in the service's target groups
        self.ready = False  # targets healthy (or, without a load balancer, running long enough)
        self.unhealthy = False
        self.draining = False

    # moto's Task is a ManagedState whose status advances on DescribeTasks;
    # a simulated task's status only changes by its plan.
    @property  # type: ignore[override]
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    def advance(self) -> None:
        pass

    def _attach_eni(self, sim: ServiceSim, index: int) -> None:
        conf = (sim.effective_network() or {}).get("awsvpcConfiguration")
        if not conf or not conf.get("subnets"):
            return
        ec2 = ec2_backends[self._account_id][self.region_name]
        subnets = conf["subnets"]
        subnet = ec2.get_subnet(subnets[index % len(subnets)])
        self.subnet = subnet
        self.ip = subnet.get_available_subnet_ip(self)
        attachment_id = str(mock_random.uuid4())
        eni = ec2.create_network_interface(
            subnet=subnet,
            private_ip_address=self.ip,
            group_ids=conf.get("securityGroups") or [],
            description=f"arn:aws:ecs:{self.region_name}:{self._account_id}:attachment/{attachment_id}",
        )
        eni.status = "in-use"
        eni.device_index = 1
        self.eni_id = eni.id
        self.availability_zone = subnet.availability_zone
        self.attachments = [
            {
                "id": attachment_id,
                "type": "ElasticNetworkInterface",
                "status": "ATTACHED",
                "details": [
                    {"name": "subnetId", "value": subnet.id},
                    {"name": "networkInterfaceId", "value": eni.id},
                    {"name": "macAddress", "value": eni.mac_address},
                    {"name": "privateDnsName", "value": eni.private_dns_name},
                    {"name": "privateIPv4Address", "value": self.ip},
                ],
            }
        ]

    def release_eni(self) -> None:
        if self.eni_id:
            ec2 = ec2_backends[self._account_id][self.region_name]
            ec2.enis.pop(self.eni_id, None)
            if self.subnet is not None and self.ip:
                self.subnet.del_subnet_ip(self.ip)
            self.eni_id = None
        for attachment in self.attachments:
            attachment["status"] = "DELETED"

    @property
    def live(self) -> bool:
        return self.desired_status == "RUNNING"

    def set_containers(self, **fields: Any) -> None:
        for container in self.containers:
            container.update(fields)

    def stop(self, t: float, reason: str, code: str, exit_code: int | None = None, container_reason: str | None = None) -> None:
        """lastStatus STOPPED now; reason and code are kept from the scheduler's earlier stop, if any."""
        if self._status == "STOPPED":
            return
        if self.desired_status == "RUNNING":
            self.desired_status = "STOPPED"
            self.stopping_at = _dt(t)
            self.stopped_reason = reason
            self.stop_code = code
        self._status = "STOPPED"
        self.plan = []
        self.registered = self.ready = self.draining = False
        self.execution_stopped_at = self.stopped_at = _dt(t)
        self.set_containers(lastStatus="STOPPED")
        if exit_code is not None:
            self.set_containers(exitCode=exit_code)
        if container_reason:
            self.set_containers(reason=container_reason)
        self.version += 1
        self.release_eni()


class SimDeployment:
    def __init__(self, sim: ServiceSim, t: float, task_definition: str, script: Script, reason: str | None = None) -> None:
        service = sim.service
        self.id = _new_deployment_id()
        self.status = "PRIMARY"
        self.task_definition = task_definition
        self.desired_count = int(service.desired_count or 0)
        self.failed_tasks = 0
        self.created_at = self.updated_at = t
        self.rollout_state = "IN_PROGRESS"
        self.rollout_state_reason = reason or texts.ROLLOUT_IN_PROGRESS.format(deployment=self.id)
        self.script = script
        self.seconds = script.rollout_seconds or STATE.rollout_seconds
        self.launch_type = service.launch_type
        self.capacity_provider_strategy = copy.deepcopy(getattr(service, "capacity_provider_strategy", None))
        self.platform_version = service.platform_version
        self.network_configuration = copy.deepcopy(service.network_configuration) or None
        self.fargate = self.launch_type == "FARGATE" or any(
            str(s.get("capacityProvider", "")).startswith("FARGATE") for s in self.capacity_provider_strategy or []
        )
        self.tasks: list[SimTask] = []

    def counts(self) -> tuple[int, int]:
        running = sum(1 for task in self.tasks if task.last_status == "RUNNING")
        pending = sum(1 for task in self.tasks if task.live and task.last_status == "PENDING")
        return running, pending

    def view(self) -> dict[str, Any]:
        running, pending = self.counts()
        desired = self.desired_count if self.status == "PRIMARY" else sum(1 for task in self.tasks if task.live)
        view: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "taskDefinition": self.task_definition,
            "desiredCount": desired,
            "pendingCount": pending,
            "runningCount": running,
            "failedTasks": self.failed_tasks,
            "createdAt": _dt(self.created_at),
            "updatedAt": _dt(self.updated_at),
            "capacityProviderStrategy": self.capacity_provider_strategy,
            "launchType": self.launch_type,
            "platformVersion": ("1.4.0" if self.fargate else self.platform_version),
            "platformFamily": "Linux" if self.fargate else None,
            "networkConfiguration": self.network_configuration,
            "rolloutState": self.rollout_state,
            "rolloutStateReason": self.rollout_state_reason,
        }
        return {k: v for k, v in view.items() if v is not None}


class ServiceSim:
    """The service scheduler of one ECS service (REPLICA, ECS deployment controller)."""

    def __init__(self, backend: EC2ContainerServiceBackend, service: Service) -> None:
        self.backend, self.service = backend, service
        self.deployments: list[SimDeployment] = []
        self.last_completed: SimDeployment | None = None
        self.completion_at: float | None = None
        self.steady = False
        self.clock = 0.0
        self.launched = 0
        self.stopped_tasks: list[SimTask] = []
        self.cluster_counts = (0, 0)
        self._notes: dict[tuple[str, str], list[str]] = {}

    # -- helpers ------------------------------------------------------------

    @property
    def primary(self) -> SimDeployment:
        return self.deployments[0]

    def effective_network(self) -> dict[str, Any] | None:
        return getattr(self.service, "_shim_effective_network", None) or self.service.network_configuration

    def target_groups(self) -> list[tuple[str, int]]:
        return [
            (lb["targetGroupArn"], int(lb.get("containerPort") or 0))
            for lb in self.service.load_balancers or []
            if lb.get("targetGroupArn")
        ]

    def task_tags(self) -> list[dict[str, str]]:
        propagate = getattr(self.service, "propagate_tags", "NONE")
        if propagate == "SERVICE":
            return copy.deepcopy(self.service.tags or [])
        if propagate == "TASK_DEFINITION":
            try:
                return copy.deepcopy(self.backend.describe_task_definition(self.primary.task_definition).tags or [])
            except Exception:  # noqa: BLE001
                return []
        return []

    def pick_capacity_provider(self, deployment: SimDeployment) -> str | None:
        strategy = deployment.capacity_provider_strategy or []
        if not strategy:
            return None
        live = [task.capacity_provider_name for task in deployment.tasks if task.live]
        for item in strategy:  # base first
            if live.count(item["capacityProvider"]) < int(item.get("base") or 0):
                return item["capacityProvider"]
        weighted = [item for item in strategy if int(item.get("weight") or 0) > 0] or strategy[:1]
        total = sum(int(item.get("weight") or 1) for item in weighted)
        return min(
            weighted,
            key=lambda item: live.count(item["capacityProvider"]) / (int(item.get("weight") or 1) / total),
        )["capacityProvider"]

    def threshold(self, deployment: SimDeployment) -> int:
        half = math.ceil(0.5 * deployment.desired_count)
        return min(texts.CIRCUIT_BREAKER_MAX, max(texts.CIRCUIT_BREAKER_MIN, half))

    def circuit_breaker(self) -> dict[str, Any]:
        config = getattr(self.service, "deployment_configuration", None) or {}
        return config.get("deploymentCircuitBreaker") or {}

    # -- events -------------------------------------------------------------

    def note(self, kind: str, key: str, task_id: str) -> None:
        self._notes.setdefault((kind, key), []).append(task_id)

    def event(self, t: float, message: str) -> None:
        self.service.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": _dt(t), "message": message})
        del self.service.events[MAX_EVENTS:]

    def flush(self, t: float) -> None:
        """Write the batched notes of this instant as AWS groups them."""
        name = self.service.name
        for (kind, key), ids in self._notes.items():
            items = " ".join(texts.EVENT_TASK_LIST_ITEM.format(task=i) for i in ids)
            if kind == "started":
                self.event(t, texts.EVENT_STARTED.format(service=name, n=len(ids), tasks=items))
            elif kind == "stopped":
                self.event(t, texts.EVENT_STOPPED.format(service=name, n=len(ids), tasks=items))
            elif kind == "registered":
                self.event(t, texts.EVENT_REGISTERED.format(service=name, n=len(ids), tg=key))
            elif kind == "deregistered":
                self.event(t, texts.EVENT_DEREGISTERED.format(service=name, n=len(ids), tg=key))
            elif kind == "draining":
                self.event(t, texts.EVENT_DRAINING.format(service=name, n=len(ids)))
        self._notes.clear()

    # -- lifecycle ----------------------------------------------------------

    def start(self, t: float, task_definition: str, script: Script, reason: str | None = None) -> SimDeployment:
        """A new PRIMARY deployment (CreateService, UpdateService, rollback)."""
        for old in self.deployments:
            old.status = "ACTIVE"
            old.updated_at = t
        deployment = SimDeployment(self, t, task_definition, script, reason)
        self.deployments.insert(0, deployment)
        self.service.task_definition = task_definition
        self.steady = False
        self.completion_at = None
        return deployment

    def launch(self, deployment: SimDeployment, n: int, t: float) -> None:
        T = deployment.seconds
        outcome = deployment.script.outcome
        for _ in range(n):
            task = SimTask(self, deployment, t, self.launched)
            self.launched += 1
            if outcome == "ok":
                task.plan = [(t + T / 4, "run"), (t + T / 2, "ready")]
            elif outcome == "fail":
                task.plan = [(t + T / 4, "run"), (t + T / 2, "crash")]
            elif outcome == "unhealthy":
                task.plan = [(t + T / 4, "run"), (t + T / 2, "unhealthy"), (t + 3 * T / 4, "elb-stop")]
            # never-steady: PENDING for ever
            deployment.tasks.append(task)
            self.backend.tasks.setdefault(self.service.cluster_name, {})[task.task_arn] = task
            self.note("started", "", task.id)
        deployment.updated_at = t

    def drain(self, task: SimTask, t: float, by: SimDeployment) -> None:
        """The scheduler stops a task: deregister its targets first, if any."""
        task.desired_status = "STOPPED"
        task.stopping_at = _dt(t)
        task.stopped_reason = texts.STOPPED_SCALING.format(deployment=by.id)
        task.stop_code = texts.STOP_CODE_SCHEDULER
        task.version += 1
        task.deployment.updated_at = t
        if task.registered and task.last_status == "RUNNING":
            task.draining = True
            task.plan = [(t + task.deployment.seconds / 4, "stop")]
            self.note("draining", "", task.id)
            for tg, _port in self.target_groups():
                self.note("deregistered", tg, task.id)
        else:
            was_running = task.last_status == "RUNNING"
            task.stop(t, task.stopped_reason, texts.STOP_CODE_SCHEDULER)
            self._forget(task)
            if was_running:
                self.note("stopped", "", task.id)

    def _forget(self, task: SimTask) -> None:
        """Keep at most MAX_STOPPED_TASKS stopped tasks listed."""
        self.stopped_tasks.append(task)
        while len(self.stopped_tasks) > MAX_STOPPED_TASKS:
            old = self.stopped_tasks.pop(0)
            self.backend.tasks.get(old.cluster_name, {}).pop(old.task_arn, None)

    def _step(self, task: SimTask, step: str, t: float) -> None:
        deployment, script = task.deployment, task.deployment.script
        deployment.updated_at = t
        task.version += 1
        if step == "run":
            task.status = "RUNNING"
            task.pull_started_at = task.created_at
            task.pull_stopped_at = task.started_at = task.connectivity_at = _dt(t)
            task.connectivity = "CONNECTED"
            task.set_containers(lastStatus="RUNNING")
            for container in task.containers:
                if container["_healthcheck"]:
                    container["healthStatus"] = "HEALTHY"
            if any(c["_healthcheck"] for c in task.containers):
                task.health_status = "HEALTHY"
            if script.outcome != "fail" and task.ip and self.target_groups():
                task.registered = True
                for tg, _port in self.target_groups():
                    self.note("registered", tg, task.id)
        elif step == "ready":
            task.ready = True
        elif step == "crash":
            task.stop(
                t,
                script.stopped_reason,
                texts.STOP_CODE_ESSENTIAL,
                exit_code=script.exit_code,
                container_reason=script.container_reason,
            )
            deployment.failed_tasks += 1
            self.steady = False
            self._forget(task)
        elif step == "unhealthy":
            task.unhealthy = True
            for tg, port in self.target_groups():
                self.event(
                    t,
                    texts.EVENT_TARGET_UNHEALTHY.format(
                        service=self.service.name, task=task.id, port=port, tg=tg, code=script.http_code
                    ),
                )
        elif step == "elb-stop":
            groups = self.target_groups()
            reason = texts.STOPPED_ELB.format(tg=groups[0][0]) if groups else texts.STOPPED_ESSENTIAL
            for tg, _port in groups:
                self.note("deregistered", tg, task.id)
            task.stop(t, reason, texts.STOP_CODE_SCHEDULER)
            deployment.failed_tasks += 1
            self.steady = False
            self._forget(task)
            self.note("stopped", "", task.id)
        elif step == "stop":
            task.stop(t, task.stopped_reason or "", texts.STOP_CODE_SCHEDULER)
            self._forget(task)
            self.note("stopped", "", task.id)

    def reconcile(self, t: float) -> None:
        """What the service scheduler decides at instant t."""
        if not self.deployments:
            return
        if self.service.status != "ACTIVE":
            for deployment in self.deployments:
                for task in deployment.tasks:
                    if task.live:
                        self.drain(task, t, self.primary)
            return
        primary = self.primary
        breaker = self.circuit_breaker()
        if (
            primary.rollout_state == "IN_PROGRESS"
            and breaker.get("enable")
            and primary.failed_tasks >= self.threshold(primary)
        ):
            self.fail(primary, t, rollback=bool(breaker.get("rollback")))
            primary = self.primary
        live = [task for task in primary.tasks if task.live]
        if primary.rollout_state != "FAILED":
            if len(live) < primary.desired_count:
                self.launch(primary, primary.desired_count - len(live), t)
                self.steady = False
            elif len(live) > primary.desired_count:
                extra = sorted(live, key=lambda task: (task.last_status == "RUNNING", task.created_at))
                for task in extra[: len(live) - primary.desired_count]:
                    self.drain(task, t, primary)
                self.steady = False
        live = [task for task in primary.tasks if task.live]
        ready = (
            primary.rollout_state != "FAILED"
            and len(live) == primary.desired_count
            and all(task.ready and not task.unhealthy for task in live)
        )
        if not ready:
            self.completion_at = None
            return
        for old in self.deployments[1:]:
            for task in old.tasks:
                if task.live:
                    self.drain(task, t, primary)
        leftover = any(task.last_status != "STOPPED" for old in self.deployments[1:] for task in old.tasks)
        if leftover:
            self.completion_at = None
        elif self.completion_at is None and (len(self.deployments) > 1 or not self.steady):
            self.completion_at = t + primary.seconds / 4

    def complete(self, t: float) -> None:
        self.completion_at = None
        primary = self.primary
        self.deployments = [primary]
        primary.updated_at = t
        name = self.service.name
        if primary.rollout_state == "IN_PROGRESS":
            primary.rollout_state = "COMPLETED"
            primary.rollout_state_reason = texts.ROLLOUT_COMPLETED.format(deployment=primary.id)
            self.last_completed = primary
            self.event(t, texts.EVENT_STEADY.format(service=name))
            self.event(t, texts.EVENT_DEPLOYMENT_COMPLETED.format(service=name, deployment=primary.id))
        elif not self.steady:
            self.event(t, texts.EVENT_STEADY.format(service=name))
        self.steady = True

    def fail(self, deployment: SimDeployment, t: float, rollback: bool) -> None:
        """The deployment circuit breaker trips."""
        name = self.service.name
        deployment.rollout_state = "FAILED"
        deployment.rollout_state_reason = texts.ROLLOUT_FAILED
        deployment.updated_at = t
        self.event(t, texts.EVENT_DEPLOYMENT_FAILED.format(service=name, deployment=deployment.id))
        for task in deployment.tasks:  # a failed deployment stops launching; pending ones go
            if task.live and task.last_status != "RUNNING":
                task.stop(t, texts.STOPPED_SCALING.format(deployment=deployment.id), texts.STOP_CODE_SCHEDULER)
                self._forget(task)
        target = self.last_completed
        if rollback and target is not None and target is not deployment:
            self.event(t, texts.EVENT_ROLLING_BACK.format(service=name, deployment=target.id))
            script = Script(rollout_seconds=deployment.seconds)
            self.start(
                t,
                target.task_definition,
                script,
                reason=texts.ROLLOUT_ROLLING_BACK.format(deployment=target.id),
            )

    def next_time(self) -> float | None:
        times = [task.plan[0][0] for d in self.deployments for task in d.tasks if task.plan]
        if self.completion_at is not None:
            times.append(self.completion_at)
        return min(times) if times else None

    def advance(self, now: float) -> None:
        """Replay every step due up to now, in time order."""
        for _ in range(MAX_STEPS):
            t = self.next_time()
            if t is None or t > now:
                break
            self.clock = t
            for deployment in list(self.deployments):
                for task in list(deployment.tasks):
                    while task.plan and task.plan[0][0] <= t:
                        _when, step = task.plan.pop(0)
                        self._step(task, step, t)
            self.flush(t)
            if self.completion_at is not None and self.completion_at <= t:
                self.complete(t)
            self.reconcile(t)
            self.flush(t)
        self.refresh()

    def act(self, now: float) -> None:
        """After an API call changed the service: decide at once, then refresh."""
        self.advance(now)
        self.reconcile(now)
        self.flush(now)
        self.refresh()

    def refresh(self) -> None:
        """Publish the simulation on moto's Service (and Cluster) for serialization."""
        service = self.service
        service.deployments = [deployment.view() for deployment in self.deployments]
        running = pending = 0
        for deployment in self.deployments:
            r, p = deployment.counts()
            running, pending = running + r, pending + p
        service.running_count, service.pending_count = running, pending
        if self.deployments:
            service.task_definition = self.primary.task_definition
        cluster = self.backend.clusters.get(service.cluster_name)
        if cluster is not None:
            old_running, old_pending = self.cluster_counts
            cluster.running_tasks_count += running - old_running
            cluster.pending_tasks_count += pending - old_pending
            self.cluster_counts = (running, pending)


def advance_all(backend: EC2ContainerServiceBackend, now: float | None = None) -> None:
    now = time.time() if now is None else now
    with LOCK:
        for service in list(backend.services.values()):
            sim = getattr(service, "_shim_sim", None)
            if sim is not None:
                sim.advance(now)


def target_health(account_id: str, region: str, target_group_arn: str) -> list[tuple[str, int, tuple[str, str | None, str | None]]]:
    """(ip, port, (state, reason, description)) of every ECS task target in a target group."""
    backend = ecs_backends[account_id][region]
    out = []
    with LOCK:
        advance_all(backend)
        for service in backend.services.values():
            sim = getattr(service, "_shim_sim", None)
            if sim is None:
                continue
            for tg, port in sim.target_groups():
                if tg != target_group_arn:
                    continue
                for deployment in sim.deployments:
                    for task in deployment.tasks:
                        if not task.registered or not task.ip or task.last_status == "STOPPED":
                            continue
                        if task.draining:
                            state = texts.TARGET_DRAINING
                        elif task.unhealthy:
                            s, r, d = texts.TARGET_UNHEALTHY
                            state = (s, r, d.format(code=deployment.script.http_code))
                        elif task.ready:
                            state = texts.TARGET_HEALTHY
                        else:
                            state = texts.TARGET_INITIAL
                        out.append((task.ip, port, state))
    return out


# ---------------------------------------------------------------------------
# Shims
# ---------------------------------------------------------------------------


class EcsCreateClusterIdempotent(Shim):
    """ECS CreateCluster for an existing cluster name.

    *Deviation*: moto builds a new Cluster object and replaces the existing
    one: capacity providers, default strategy, settings and tags are dropped.

    *AWS*: CreateCluster is idempotent for an ACTIVE cluster of that name: it
    returns the existing cluster, unchanged (ECS API Reference, CreateCluster).

    *Shim*: ``EC2ContainerServiceBackend.create_cluster`` returns the existing
    ACTIVE cluster; an INACTIVE (deleted) one is replaced as before.

    *Remove when*: moto's create_cluster returns existing clusters.
    """

    name = "ecs-create-cluster-idempotent"

    def install(self) -> None:
        @patch(EC2ContainerServiceBackend, "create_cluster")
        def create_cluster(orig: Any, self: EC2ContainerServiceBackend, cluster_name: str, *args: Any, **kwargs: Any) -> Any:
            existing = self.clusters.get(cluster_name)
            if existing is not None and existing.status == "ACTIVE":
                return existing
            return orig(self, cluster_name, *args, **kwargs)


class EcsRegisterTaskDefinitionFargate(Shim):
    """ECS RegisterTaskDefinition: Fargate task sizes.

    *Deviation*: moto accepts any cpu/memory (e.g. 256 CPU with 4096 MiB) for
    a FARGATE task definition, and keeps "1 vCPU"/"2 GB" strings as given.

    *AWS*: RegisterTaskDefinition fails with ClientException "No Fargate
    configuration exists for given values: ..." when requiresCompatibilities
    has FARGATE and the task-level cpu/memory pair is not in the Fargate table;
    "1 vCPU"/"2 GB" strings are converted to CPU units/MiB at registration
    (ECS API Reference, RegisterTaskDefinition cpu/memory; Developer Guide,
    "Amazon ECS task definition parameters for Fargate", Task size).

    *Shim*: ``register_task_definition`` normalizes cpu/memory strings and
    checks the pair against the table when both are given.

    *Remove when*: moto validates Fargate task sizes.
    """

    name = "ecs-register-task-definition-fargate"

    # cpu units -> valid memory values (MiB)
    FARGATE = {
        256: {512, 1024, 2048},
        512: set(range(1024, 4096 + 1, 1024)),
        1024: set(range(2048, 8192 + 1, 1024)),
        2048: set(range(4096, 16384 + 1, 1024)),
        4096: set(range(8192, 30720 + 1, 1024)),
        8192: set(range(16384, 61440 + 1, 4096)),
        16384: set(range(32768, 122880 + 1, 8192)),
    }

    @staticmethod
    def units(value: Any, unit: str, factor: int) -> Any:
        if value is None:
            return None
        text = str(value).strip()
        match = re.fullmatch(rf"([0-9]*\.?[0-9]+)\s*{unit}", text, re.IGNORECASE)
        if match:
            return str(int(float(match.group(1)) * factor))
        return text

    def install(self) -> None:
        shim = self

        @patch(EC2ContainerServiceBackend, "register_task_definition")
        def register_task_definition(orig: Any, self: EC2ContainerServiceBackend, family: str, container_definitions: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs["cpu"] = shim.units(kwargs.get("cpu"), "vcpu", 1024)
            kwargs["memory"] = shim.units(kwargs.get("memory"), "gb", 1024)
            cpu, memory = kwargs["cpu"], kwargs["memory"]
            if "FARGATE" in (kwargs.get("requires_compatibilities") or []) and cpu and memory:
                valid = cpu.isdigit() and memory.isdigit() and int(memory) in shim.FARGATE.get(int(cpu), set())
                if not valid:
                    raise EcsClientException(texts.ERR_NO_FARGATE_CONFIG.format(cpu=cpu, memory=memory))
            return orig(self, family, container_definitions, *args, **kwargs)


class EcsCreateService(Shim):
    """ECS CreateService: the fields moto drops, idempotency, awsvpc without security groups.

    *Deviation*: moto's CreateService ignores deploymentConfiguration
    (circuit breaker, minimumHealthyPercent, maximumPercent),
    healthCheckGracePeriodSeconds, enableExecuteCommand, enableECSManagedTags,
    placement constraints/strategy, clientToken and capacityProviderStrategy
    (the service then shows launchType EC2); a second CreateService of the same
    name silently replaces the service; awsvpcConfiguration without
    securityGroups crashes (HTTP 500, KeyError).

    *AWS* (ECS API Reference, CreateService and Service): these fields are kept
    and returned by DescribeServices; deploymentConfiguration defaults to
    maximumPercent 200, minimumHealthyPercent 100, circuit breaker off; with a
    capacityProviderStrategy (given, or the cluster's default when neither it
    nor launchType is given) the service has no launchType; giving both is an
    InvalidParameterException; a CreateService for a name with an ACTIVE or
    DRAINING service fails with InvalidParameterException "Creation of service
    was not idempotent." unless it repeats the clientToken that created it;
    without securityGroups the VPC's default security group is used.

    *Shim*: ``EC2ContainerServiceResponse.create_service`` is replaced: it
    checks idempotency, lets moto's backend create the service (with the
    default security group filled in for moto's validation only), then sets the
    fields on moto's Service and starts the rollout simulation
    (:class:`EcsServiceRollouts`).

    *Remove when*: moto's CreateService keeps these fields and is idempotent.
    """

    name = "ecs-create-service"

    def install(self) -> None:
        @patch(EC2ContainerServiceResponse, "create_service")
        def create_service(orig: Any, self: EC2ContainerServiceResponse) -> ActionResult:
            p = self._get_params()
            backend = self.ecs_backend
            with LOCK:
                now = time.time()
                cluster = backend._get_cluster(p.get("cluster") or "default")
                name = p.get("serviceName")
                existing = backend.services.get(f"{cluster.name}:{name}")
                if existing is not None and existing.status in ("ACTIVE", "DRAINING"):
                    token = p.get("clientToken")
                    if token and token == getattr(existing, "_shim_client_token", None):
                        advance_all(backend, now)
                        return ActionResult({"service": existing})
                    raise InvalidParameterException(texts.ERR_NOT_IDEMPOTENT)
                launch_type = p.get("launchType")
                strategy = normalize_strategy(p.get("capacityProviderStrategy"))
                if launch_type and strategy:
                    raise InvalidParameterException(texts.ERR_LAUNCH_TYPE_AND_STRATEGY)
                if not launch_type and not strategy and cluster.default_capacity_provider_strategy:
                    strategy = normalize_strategy(cluster.default_capacity_provider_strategy)
                network = p.get("networkConfiguration")
                effective = with_default_security_groups(backend, network)
                service = backend.create_service(
                    cluster.name,
                    name,
                    p.get("desiredCount"),
                    p.get("taskDefinition"),
                    p.get("loadBalancers"),
                    p.get("schedulingStrategy"),
                    p.get("tags"),
                    p.get("deploymentController"),
                    launch_type or "EC2",
                    network_configuration=effective,
                    service_registries=p.get("serviceRegistries"),
                    platform_version=p.get("platformVersion"),
                    propagate_tags=p.get("propagateTags") or "NONE",
                    role_arn=p.get("role"),
                )
                # moto counted desiredCount as pending tasks of the cluster; the simulation counts them.
                backend.update_cluster_resources(cluster, -service.running_count, task_state="RUNNING")
                backend.update_cluster_resources(cluster, -service.pending_count, task_state="PENDING")
                service.running_count = service.pending_count = 0
                service.network_configuration = copy.deepcopy(network) if network else None
                service._shim_effective_network = effective
                service.capacity_provider_strategy = strategy or None
                service.launch_type = None if strategy else (launch_type or "EC2")
                fargate = service.launch_type == "FARGATE" or any(
                    s["capacityProvider"].startswith("FARGATE") for s in strategy or []
                )
                if fargate:
                    service.platform_version = service.platform_version or "LATEST"
                    service.platform_family = "Linux"
                service.deployment_configuration = deployment_configuration(None, p.get("deploymentConfiguration"))
                service.health_check_grace_period_seconds = p.get("healthCheckGracePeriodSeconds")
                service.enable_execute_command = bool(p.get("enableExecuteCommand", False))
                service.enable_ecs_managed_tags = bool(p.get("enableECSManagedTags", False))
                service.placement_constraints = p.get("placementConstraints") or []
                service.placement_strategy = p.get("placementStrategy") or []
                service.created_at = _dt(now)
                service._shim_client_token = p.get("clientToken")
                service.events = []
                if service.deployment_controller.get("type", "ECS") == "ECS" and service.scheduling_strategy == "REPLICA":
                    sim = ServiceSim(backend, service)
                    service._shim_sim = sim
                    sim.start(now, service.task_definition, _take_script(cluster.name, name))
                    sim.act(now)
                return ActionResult({"service": service})


def normalize_strategy(strategy: Any) -> list[dict[str, Any]] | None:
    if not strategy:
        return None
    return [
        {"capacityProvider": s["capacityProvider"], "weight": int(s.get("weight") or 0), "base": int(s.get("base") or 0)}
        for s in strategy
    ]


def deployment_configuration(current: dict[str, Any] | None, given: dict[str, Any] | None) -> dict[str, Any]:
    config = copy.deepcopy(current) or {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    for key, value in (given or {}).items():
        config[key] = copy.deepcopy(value)
    return config


def with_default_security_groups(backend: EC2ContainerServiceBackend, network: dict[str, Any] | None) -> dict[str, Any] | None:
    """The awsvpc configuration with the subnet VPC's default security group when none is given."""
    if not network or "awsvpcConfiguration" not in network:
        return network
    effective = copy.deepcopy(network)
    conf = effective["awsvpcConfiguration"]
    if not conf.get("securityGroups"):
        ec2 = ec2_backends[backend.account_id][backend.region_name]
        groups: list[str] = []
        try:
            subnet = ec2.get_subnet(conf["subnets"][0])
            default = ec2.get_default_security_group(subnet.vpc_id)
            groups = [default.id] if default else []
        except Exception:  # noqa: BLE001 - moto's own validation names the bad subnet
            pass
        conf["securityGroups"] = groups
    return effective


class EcsServiceRollouts(Shim):
    """ECS service deployments, tasks and events (UpdateService, DescribeServices,
    ListTasks, DescribeTasks, StopTask, DeleteService, DescribeClusters).

    *Deviation*: moto's services never start tasks; runningCount stays 0 (or
    MOTO_ECS_SERVICE_RUNNING); UpdateService changes the top-level
    taskDefinition but keeps the single deployment with the old one; events
    stay empty; ListTasks ignores serviceName, lists stopped tasks by
    default and matches the cluster name as a substring of the task's cluster
    ARN (so "c" lists every cluster's tasks); moto tasks advance RUNNING ->
    DEACTIVATING -> ... on every DescribeTasks.

    *AWS* (ECS API Reference: CreateService, UpdateService, DescribeServices
    (Service, Deployment, ServiceEvent), ListTasks, DescribeTasks (Task);
    Developer Guide: "Deploy Amazon ECS services by replacing tasks" (rolling
    update), "How the Amazon ECS deployment circuit breaker detects failures",
    "Amazon ECS service event messages"): CreateService makes one PRIMARY
    deployment, IN_PROGRESS; UpdateService with another taskDefinition or
    forceNewDeployment (or a new network configuration, capacity provider
    strategy, platform version or load balancers) makes a new PRIMARY and turns
    the others ACTIVE; the scheduler starts the new tasks, registers them in
    the target groups, drains and stops the old ones, then marks the
    deployment COMPLETED and writes "has reached a steady state."; a
    desiredCount-only update scales the PRIMARY deployment; ListTasks lists
    tasks whose desiredStatus is RUNNING unless told otherwise; with the
    circuit breaker on, a deployment whose failed tasks reach the threshold is
    FAILED and, with rollback, a new PRIMARY deployment of the last completed
    one's task definition is started.

    *Shim*: a per-service scheduler simulation (:class:`ServiceSim`) driven by
    wall-clock time, published on moto's Service/Task/Cluster objects; the
    moto response/backend methods listed above are wrapped to advance it
    before answering. Failures are scripted with ``POST /_shim/ecs/next-rollout``
    (see :mod:`shims.control`).

    *Remove when*: moto simulates service deployments (unlikely: keep).
    """

    name = "ecs-service-rollouts"

    def reset(self) -> None:
        reset_state()

    def install(self) -> None:
        @patch(EC2ContainerServiceResponse, "update_service")
        def update_service(orig: Any, self: EC2ContainerServiceResponse) -> Any:
            p = self._get_params()
            backend = self.ecs_backend
            with LOCK:
                service = backend._get_service(p.get("cluster") or "default", str(p.get("service")).split("/")[-1])
                sim: ServiceSim | None = getattr(service, "_shim_sim", None)
                if sim is None:
                    return orig(self)
                if service.status != "ACTIVE":
                    raise ECSException("ServiceNotActiveException", texts.ERR_SERVICE_NOT_ACTIVE)
                now = time.time()
                sim.advance(now)
                new = bool(p.get("forceNewDeployment"))
                task_definition = sim.primary.task_definition
                if p.get("taskDefinition"):
                    task_definition = backend.describe_task_definition(p["taskDefinition"]).arn
                    new = new or task_definition != sim.primary.task_definition
                if "capacityProviderStrategy" in p:
                    strategy = normalize_strategy(p["capacityProviderStrategy"])
                    if strategy != getattr(service, "capacity_provider_strategy", None):
                        new = True
                        service.capacity_provider_strategy = strategy
                        if strategy:
                            service.launch_type = None
                if p.get("networkConfiguration") is not None:
                    network = p["networkConfiguration"]
                    effective = with_default_security_groups(backend, network)
                    service._validate_network(effective)
                    if network != service.network_configuration:
                        new = True
                        service.network_configuration = copy.deepcopy(network)
                        service._shim_effective_network = effective
                if p.get("platformVersion") and p["platformVersion"] != service.platform_version:
                    new = True
                    service.platform_version = p["platformVersion"]
                if p.get("loadBalancers") is not None and p["loadBalancers"] != service.load_balancers:
                    new = True
                    service.load_balancers = p["loadBalancers"]
                if p.get("deploymentConfiguration") is not None:
                    service.deployment_configuration = deployment_configuration(
                        getattr(service, "deployment_configuration", None), p["deploymentConfiguration"]
                    )
                for key, attr in (
                    ("healthCheckGracePeriodSeconds", "health_check_grace_period_seconds"),
                    ("enableExecuteCommand", "enable_execute_command"),
                    ("enableECSManagedTags", "enable_ecs_managed_tags"),
                    ("propagateTags", "propagate_tags"),
                    ("placementConstraints", "placement_constraints"),
                    ("placementStrategy", "placement_strategy"),
                    ("serviceRegistries", "service_registries"),
                ):
                    if p.get(key) is not None:
                        setattr(service, attr, p[key])
                if p.get("desiredCount") is not None:
                    service.desired_count = int(p["desiredCount"])
                if new:
                    sim.start(now, task_definition, _take_script(service.cluster_name, service.name))
                elif sim.primary.desired_count != service.desired_count:
                    sim.primary.desired_count = service.desired_count
                    sim.primary.updated_at = now
                    sim.steady = False
                sim.act(now)
                return ActionResult({"service": service})

        @patch(EC2ContainerServiceBackend, "delete_service")
        def delete_service(orig: Any, self: EC2ContainerServiceBackend, cluster_name: str, service_name: str, force: bool) -> Any:
            with LOCK:
                now = time.time()
                advance_all(self, now)
                before = self._get_service(cluster_name, service_name)
                counts = getattr(getattr(before, "_shim_sim", None), "cluster_counts", (0, 0))
                service = orig(self, cluster_name, service_name, force)
                sim = getattr(service, "_shim_sim", None)
                if sim is not None:
                    # moto took the service's counts off the cluster; the simulation does that itself
                    cluster = self._get_cluster(cluster_name)
                    cluster.running_tasks_count += counts[0]
                    cluster.pending_tasks_count += counts[1]
                    for deployment in sim.deployments:  # no one advances a deleted service: stop now
                        for task in deployment.tasks:
                            if task.last_status != "STOPPED":
                                task.stop(now, texts.STOPPED_SCALING.format(deployment=sim.primary.id), texts.STOP_CODE_SCHEDULER)
                                sim._forget(task)
                    sim.refresh()
                return service

        @patch(EC2ContainerServiceBackend, "describe_services")
        def describe_services(orig: Any, self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Any:
            with LOCK:
                advance_all(self)
                return orig(self, *args, **kwargs)

        @patch(EC2ContainerServiceBackend, "describe_clusters")
        def describe_clusters(orig: Any, self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Any:
            with LOCK:
                advance_all(self)
                return orig(self, *args, **kwargs)

        @patch(EC2ContainerServiceBackend, "describe_tasks")
        def describe_tasks(orig: Any, self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Any:
            with LOCK:
                advance_all(self)
                return orig(self, *args, **kwargs)

        @patch(EC2ContainerServiceBackend, "list_tasks")
        def list_tasks(
            orig: Any,
            self: EC2ContainerServiceBackend,
            cluster_str: str | None = None,
            container_instance: str | None = None,
            family: str | None = None,
            started_by: str | None = None,
            service_name: str | None = None,
            desiredStatus: str | None = None,  # noqa: N803 - moto's name
        ) -> Any:
            with LOCK:
                advance_all(self)
                tasks = orig(self, cluster_str, container_instance, family, started_by, None, desiredStatus or "RUNNING")
                if cluster_str:  # moto matches the cluster name as a substring of the task's cluster ARN
                    cluster_arn = self._get_cluster(cluster_str).arn
                    tasks = [task for task in tasks if task.cluster_arn == cluster_arn]
                if service_name:
                    group = f"service:{service_name.split('/')[-1]}"
                    tasks = [task for task in tasks if task.group == group]
                return tasks

        @patch(EC2ContainerServiceBackend, "stop_task")
        def stop_task(orig: Any, self: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str) -> Any:
            with LOCK:
                advance_all(self)
                cluster = self._get_cluster(cluster_str)
                task_id = task_str.split("/")[-1]
                for arn, task in self.tasks.get(cluster.name, {}).items():
                    if arn.endswith(task_id) and isinstance(task, SimTask):
                        if task.last_status != "STOPPED":
                            now = time.time()
                            was_running = task.last_status == "RUNNING"
                            task.stop(now, reason or "Task stopped by user", texts.STOP_CODE_USER)
                            sim = task.sim
                            sim._forget(task)
                            sim.steady = False
                            if was_running:
                                sim.note("stopped", "", task.id)
                            sim.act(now)
                        return task
                return orig(self, cluster_str, task_str, reason)
