"""ELBv2 shims: idempotent creates, HTTPS listener certificates, ECS targets' health."""

from __future__ import annotations

import threading
from typing import Any

from moto.elbv2.exceptions import (
    DuplicateListenerError,
    DuplicateLoadBalancerName,
    DuplicateTargetGroupName,
    TooManyTagsError,
    ValidationError,
)
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus

from . import ecs, texts
from .base import Shim, patch


class Elbv2CreateLoadBalancerIdempotent(Shim):
    """ELBv2 CreateLoadBalancer with an existing name.

    *Deviation*: moto creates a second load balancer of the same name (the
    ARN has a fresh random id, so its duplicate check never fires); without
    Scheme it stores no scheme at all.

    *AWS* (ELBv2 API Reference, CreateLoadBalancer): "This operation is
    idempotent": the same name with the same settings returns the existing load
    balancer; a different scheme or type fails with DuplicateLoadBalancerName.
    Scheme defaults to internet-facing, Type to application.

    *Shim*: ``ELBv2Backend.create_load_balancer`` returns the load balancer of
    that name when scheme and type match, raises DuplicateLoadBalancerName
    when they differ, and passes the default scheme on to moto.

    *Remove when*: moto's create_load_balancer looks names up.
    """

    name = "elbv2-create-load-balancer-idempotent"

    def install(self) -> None:
        @patch(ELBv2Backend, "create_load_balancer")
        def create_load_balancer(orig: Any, self: ELBv2Backend, name: str, *args: Any, **kwargs: Any) -> Any:
            kwargs["scheme"] = kwargs.get("scheme") or "internet-facing"
            lb_type = kwargs.get("loadbalancer_type") or "application"
            for lb in self.load_balancers.values():
                if lb.name == name:
                    if lb.scheme == kwargs["scheme"] and lb.type == lb_type:
                        return lb
                    raise DuplicateLoadBalancerName()
            return orig(self, name, *args, **kwargs)


class Elbv2CreateTargetGroupIdempotent(Shim):
    """ELBv2 CreateTargetGroup with an existing name.

    *Deviation*: moto always fails with DuplicateTargetGroupName.

    *AWS* (ELBv2 API Reference, CreateTargetGroup): "This operation is
    idempotent ... If you attempt to create multiple target groups with the
    same settings, each call succeeds": the existing target group is returned;
    other settings fail with DuplicateTargetGroupName.

    *Shim*: ``ELBv2Backend.create_target_group`` returns the target group of
    that name when every setting the request gives (and the target type,
    default instance) equals the existing one's.

    *Remove when*: moto's create_target_group compares settings.
    """

    name = "elbv2-create-target-group-idempotent"

    # create_target_group keyword -> FakeTargetGroup attribute
    FIELDS = {
        "protocol": "protocol",
        "protocol_version": "protocol_version",
        "port": "port",
        "vpc_id": "vpc_id",
        "target_type": "target_type",
        "ip_address_type": "ip_address_type",
        "healthcheck_protocol": "health_check_protocol",
        "healthcheck_port": "health_check_port",
        "healthcheck_path": "health_check_path",
        "healthcheck_interval_seconds": "health_check_interval_seconds",
        "healthcheck_timeout_seconds": "health_check_timeout_seconds",
        "healthcheck_enabled": "health_check_enabled",
        "healthy_threshold_count": "healthy_threshold_count",
        "unhealthy_threshold_count": "unhealthy_threshold_count",
        "matcher": "matcher",
    }

    @staticmethod
    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: str(v).lower() for k, v in value.items()}
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value).lower()

    def install(self) -> None:
        shim = self

        @patch(ELBv2Backend, "create_target_group")
        def create_target_group(orig: Any, self: ELBv2Backend, name: str, **kwargs: Any) -> Any:
            for tg in self.target_groups.values():
                if tg.name != name:
                    continue
                same = all(
                    shim.norm(getattr(tg, attr, None)) == shim.norm(kwargs[key])
                    for key, attr in shim.FIELDS.items()
                    if kwargs.get(key) is not None
                )
                if same:
                    return tg
                raise DuplicateTargetGroupName()
            return orig(self, name, **kwargs)


class Elbv2CreateListenerIdempotent(Shim):
    """ELBv2 CreateListener on a port that already has a listener.

    *Deviation*: moto checks the port against its listeners keyed by ARN, so the check never fires: a second
    listener on the same port is created (two concurrent deploys of services sharing a load balancer each
    made their own :80 and :443).

    *AWS* (ELBv2 API Reference, CreateListener): "This operation is idempotent, which means that it completes
    at most one time. If you attempt to create multiple listeners with the same settings, each call
    succeeds"; a listener on the port with other settings fails with DuplicateListener ("A listener with the
    specified port already exists").

    *Shim*: ``ELBv2Backend.create_listener``, under a lock (AWS is atomic; moto's server is threaded), returns
    the listener of that port when protocol and default actions are the same, and raises
    DuplicateListenerError when they differ.

    *Remove when*: moto looks listeners up by port.
    """

    name = "elbv2-create-listener-idempotent"

    def install(self) -> None:
        lock = threading.Lock()

        @patch(ELBv2Backend, "create_listener")
        def create_listener(orig: Any, self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
            names = ("load_balancer_arn", "protocol", "port", "ssl_policy", "certificate", "actions")
            call = {**dict(zip(names, args)), **kwargs}
            with lock:
                balancer = self.load_balancers.get(call.get("load_balancer_arn"))
                for listener in (balancer.listeners.values() if balancer else []):
                    if str(listener.port) != str(call.get("port")):
                        continue
                    same_actions = [a.data for a in listener.default_actions] == list(call.get("actions") or [])
                    if str(listener.protocol).upper() == str(call.get("protocol")).upper() and same_actions:
                        return listener
                    raise DuplicateListenerError()
                return orig(self, *args, **kwargs)


class Elbv2FiftyTags(Shim):
    """ELBv2 AddTags beyond 10 tags on a resource.

    *Deviation*: moto refuses an 11th tag with TooManyTags.

    *AWS* (Elastic Load Balancing quotas, "Tags per load balancer / target group / listener / rule: 50";
    AddTags: "Each resource can have a maximum of 50 tags"): up to 50 tags, then TooManyTags.

    *Shim*: ``ELBv2Backend.add_tags`` raises TooManyTagsError only past 50 tags, else tags the resource.

    *Remove when*: moto uses AWS's quota.
    """

    name = "elbv2-fifty-tags"
    LIMIT = 50

    def install(self) -> None:
        limit = self.LIMIT

        @patch(ELBv2Backend, "add_tags")
        def add_tags(orig: Any, self: ELBv2Backend, resource_arns: list[str], tags: list[dict[str, str]]) -> Any:
            del orig
            wanted = self.tagging_service.flatten_tag_list(tags)
            for arn in resource_arns:
                existing = self.tagging_service.get_tag_dict_for_resource(arn)
                if len(set(existing) | set(wanted)) > limit:
                    raise TooManyTagsError()
                self._get_resource_by_arn(arn)
                self.tagging_service.tag_resource(arn, tags)


class Elbv2HttpsListenerNeedsCertificate(Shim):
    """ELBv2 CreateListener with protocol HTTPS (or TLS) and no certificate.

    *Deviation*: moto creates the listener.

    *AWS* (ELBv2 API Reference, CreateListener, Certificates: "Required if the
    protocol is HTTPS or TLS"): fails with ValidationError "A certificate must
    be specified for HTTPS listeners".

    *Shim*: ``ELBv2Backend.create_listener`` raises that ValidationError.

    *Remove when*: moto validates listener certificates.
    """

    name = "elbv2-https-listener-needs-certificate"

    def install(self) -> None:
        @patch(ELBv2Backend, "create_listener")
        def create_listener(orig: Any, self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
            protocol = str(kwargs.get("protocol") or "").upper()
            if protocol in ("HTTPS", "TLS") and not kwargs.get("certificate"):
                raise ValidationError(texts.ERR_LISTENER_CERTIFICATE.format(protocol=protocol))
            return orig(self, *args, **kwargs)


class Elbv2EcsTargetHealth(Shim):
    """ELBv2 DescribeTargetHealth for the target group of an ECS service.

    *Deviation*: moto's ECS services register nothing, so the list is empty.

    *AWS* (ELBv2 API Reference, DescribeTargetHealth, TargetHealth; ECS
    Developer Guide, "Use load balancing to distribute Amazon ECS service
    traffic"): ECS registers each running task's IP address on the container
    port (target type ip); the target is ``initial`` (Elb.RegistrationInProgress)
    until its health checks pass, then ``healthy``, ``unhealthy`` with the
    failing codes, and ``draining`` (Target.DeregistrationInProgress) while ECS
    stops the task.

    *Shim*: ``ELBv2Backend.describe_target_health`` adds the targets of the
    ECS rollout simulation (:mod:`shims.ecs`) for that target group to what
    moto reports for targets registered with RegisterTargets.

    *Remove when*: moto's ECS registers service tasks as targets (unlikely: keep).
    """

    name = "elbv2-ecs-target-health"

    def install(self) -> None:
        @patch(ELBv2Backend, "describe_target_health")
        def describe_target_health(orig: Any, self: ELBv2Backend, target_group_arn: str, targets: list[dict[str, Any]]) -> Any:
            found = ecs.target_health(self.account_id, self.region_name, target_group_arn)
            if not found:
                return orig(self, target_group_arn, targets)
            if targets:
                wanted = [(t["Id"], int(t["Port"]) if t.get("Port") else None) for t in targets]
                found = [f for f in found if any(f[0] == i and p in (None, f[1]) for i, p in wanted)]
                others = [t for t in targets if not any(f[0] == t["Id"] for f in found)]
                result = orig(self, target_group_arn, others or [])
                if not others:
                    result = []
            else:
                result = orig(self, target_group_arn, [])
            tg = self.target_groups[target_group_arn]
            for ip, port, (state, reason, description) in found:
                health_port = tg.health_check_port
                if not health_port or health_port == "traffic-port":
                    health_port = str(port)
                result.append(FakeHealthStatus(ip, port, health_port, state, reason, description))
            return result


class Elbv2HttpListenerHasNoTlsPolicy(Shim):
    """ELBv2 CreateListener with protocol HTTP (or TCP/UDP) and no SslPolicy.

    *Deviation*: moto's response handler defaults SslPolicy to ``ELBSecurityPolicy-2016-08`` for every
    listener, so an HTTP listener reads back with a TLS policy.

    *AWS* (ELBv2 API Reference, CreateListener, SslPolicy: "[HTTPS and TLS listeners] The security policy
    that defines which protocols and ciphers are supported"; Listener.SslPolicy is absent for HTTP): an HTTP
    listener has no TLS policy.

    *Shim*: ``ELBv2Backend.create_listener`` drops the policy of listeners whose protocol is not HTTPS or TLS.

    *Remove when*: moto applies its default policy to HTTPS/TLS listeners only.
    """

    name = "elbv2-http-listener-has-no-tls-policy"

    def install(self) -> None:
        @patch(ELBv2Backend, "create_listener")
        def create_listener(orig: Any, self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
            listener = orig(self, *args, **kwargs)
            if str(listener.protocol or "").upper() not in ("HTTPS", "TLS"):
                listener.ssl_policy = None
            return listener
