"""Shims that make moto behave as AWS documents (see tests/stack/README.md).

One module per AWS service; every shim is a documented :class:`Shim`
subclass (Deviation / AWS / Shim / Remove when). :func:`build_shims` lists
them in the order the launcher's middleware tries them; all AWS texts are in
:mod:`shims.texts`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .base import Shim, ShimRequest, StartResponse, WSGIApp, WSGIEnviron
from .control import ControlEndpoint
from .ec2 import Ec2DefaultVpcHasInternetGateway, Ec2DuplicateIngressRule
from .ecs import (
    EcsCreateClusterIdempotent,
    EcsCreateService,
    EcsRegisterTaskDefinitionFargate,
    EcsServiceRollouts,
)
from .elbv2 import (
    Elbv2CreateListenerIdempotent,
    Elbv2CreateLoadBalancerIdempotent,
    Elbv2CreateTargetGroupIdempotent,
    Elbv2EcsTargetHealth,
    Elbv2FiftyTags,
    Elbv2HttpListenerHasNoTlsPolicy,
    Elbv2HttpsListenerNeedsCertificate,
)
from .logs import LogsRetentionValues
from .route53 import Route53CallerReferenceReuse, Route53CreateExistingRecord

__all__ = ["Shim", "ShimRequest", "StartResponse", "WSGIApp", "WSGIEnviron", "build_shims", "digest"]


def build_shims() -> list[Shim]:
    shims: list[Shim] = []
    shims.append(ControlEndpoint(lambda: shims))
    shims += [
        EcsCreateClusterIdempotent(),
        EcsRegisterTaskDefinitionFargate(),
        EcsCreateService(),
        EcsServiceRollouts(),
        Elbv2CreateLoadBalancerIdempotent(),
        Elbv2CreateTargetGroupIdempotent(),
        Elbv2CreateListenerIdempotent(),
        Elbv2FiftyTags(),
        Elbv2HttpsListenerNeedsCertificate(),
        Elbv2HttpListenerHasNoTlsPolicy(),
        Elbv2EcsTargetHealth(),
        Ec2DuplicateIngressRule(),
        Ec2DefaultVpcHasInternetGateway(),
        Route53CreateExistingRecord(),
        Route53CallerReferenceReuse(),
        LogsRetentionValues(),
    ]
    return shims


def digest() -> str:
    """sha256 (first 16 hex digits) of this package's sources; printed by `moto_server.py --shims-digest`."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
