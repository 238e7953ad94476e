"""The control endpoint: ``/_shim/...`` on the emulator's own port.

Not an AWS API: tests use it to script what the emulated AWS does next.
Every answer is JSON; errors are ``{"error": "..."}`` with HTTP 400/404/405.

``GET /_shim``
    ``{"shims": [names], "rollout_seconds": 2.0, "scripted": [{cluster, service, outcome, ...}]}``

``POST /_shim/reset``
    Drops the shims' own state (scripted rollouts, configuration), not moto's
    resources. ``POST /moto-api/reset`` drops both.

``POST /_shim/config`` ``{"rollout_seconds": 0.5}``
    Time from a deployment's start to COMPLETED (about; see shims.ecs) for
    deployments started from now on. Default: $CARGO_ECS_SHIM_ROLLOUT_SECONDS or 2.

``POST /_shim/ecs/next-rollout``::

    {"cluster": "my-cluster",            # name or ARN; default "default"
     "service": "my-service",            # name or ARN; required
     "outcome": "fail",                  # ok | fail | never-steady | unhealthy; default ok
     "stopped_reason": "Essential container in task exited",  # fail: task stoppedReason (this default)
     "exit_code": 1,                     # fail: containers[].exitCode (default 1)
     "reason": "...",                    # fail: containers[].reason (default none)
     "http_code": 404,                   # unhealthy: code in the health check failure (default 404)
     "rollout_seconds": 0.5}             # this deployment's rollout time (default: the configured one)

    The next deployment of that service (CreateService, or UpdateService
    starting a deployment; not a circuit-breaker rollback) behaves so:

    * ``fail``: each task starts, runs T/4, stops with lastStatus STOPPED,
      stopCode EssentialContainerExited, the stoppedReason and exit code; the
      scheduler starts a replacement. With the circuit breaker on, after
      max(3, ceil(desiredCount/2)) failed tasks the deployment is FAILED and,
      with rollback, a new PRIMARY deployment of the last COMPLETED
      deployment's task definition starts and completes.
    * ``never-steady``: tasks stay PENDING; the deployment stays IN_PROGRESS.
    * ``unhealthy``: tasks run, their targets turn ``unhealthy``
      (Target.ResponseCodeMismatch), ECS stops them ("Task failed ELB health
      checks in (target-group ...)") and starts replacements; circuit breaker
      as for ``fail``.

    Answers ``{"scripted": {...the script...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from . import calls, ecs
from .base import Shim, ShimRequest, StartResponse, WSGIApp, json_response


class ControlEndpoint(Shim):
    """``/_shim/...``: scripting endpoint for tests (not AWS; see the module docstring).

    *Deviation* / *AWS*: none, no AWS API is involved; the path is one no AWS
    service uses.

    *Shim*: answers GET/POST ``/_shim...`` itself; moto never sees them.

    *Remove when*: never (test infrastructure).
    """

    name = "control-endpoint"
    PREFIX = "/_shim"

    def __init__(self, all_shims: Callable[[], list[Shim]]) -> None:
        self.all_shims = all_shims

    def matches(self, request: ShimRequest) -> bool:
        return request.path == self.PREFIX or request.path.startswith(self.PREFIX + "/")

    def handle(self, request: ShimRequest, start_response: StartResponse, app: WSGIApp) -> Iterable[bytes]:
        path = request.path.rstrip("/")
        routes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("GET", "/_shim"): self.status,
            ("POST", "/_shim/reset"): self.reset_all,
            ("POST", "/_shim/config"): self.config,
            ("POST", "/_shim/ecs/next-rollout"): lambda data: {"scripted": ecs.script_next_rollout(data)},
            ("GET", "/_shim/calls"): lambda _data: {"calls": calls.calls()},
            ("POST", "/_shim/calls/reset"): lambda _data: (calls.reset(), {"reset": True})[1],
        }
        route = routes.get((request.method, path))
        if route is None:
            known = sorted({p for _, p in routes})
            if path in known:
                return json_response(start_response, 405, {"error": f"{request.method} not allowed on {path}"})
            return json_response(start_response, 404, {"error": f"unknown path {path}; known: {', '.join(known)}"})
        try:
            data = json.loads(request.body or b"{}") if request.method == "POST" else {}
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            return json_response(start_response, 200, route(data))
        except (ValueError, TypeError) as err:
            return json_response(start_response, 400, {"error": str(err)})

    def status(self, _data: dict[str, Any]) -> dict[str, Any]:
        with ecs.LOCK:
            scripted = [
                {"cluster": c, "service": s, **script.__dict__} for (c, s), script in ecs.STATE.scripts.items()
            ]
            return {
                "shims": [shim.name for shim in self.all_shims()],
                "rollout_seconds": ecs.STATE.rollout_seconds,
                "scripted": scripted,
            }

    def reset_all(self, _data: dict[str, Any]) -> dict[str, Any]:
        for shim in self.all_shims():
            shim.reset()
        return {"reset": True}

    def config(self, data: dict[str, Any]) -> dict[str, Any]:
        unknown = set(data) - {"rollout_seconds"}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        if "rollout_seconds" in data:
            seconds = data["rollout_seconds"]
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
                raise ValueError("rollout_seconds must be a positive number")
            with ecs.LOCK:
                ecs.STATE.rollout_seconds = float(seconds)
        return {"rollout_seconds": ecs.STATE.rollout_seconds}
