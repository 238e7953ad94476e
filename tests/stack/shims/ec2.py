"""EC2 shims: security group rules."""

from __future__ import annotations

from typing import Any

from moto.ec2.models import EC2Backend
from moto.ec2.models.security_groups import SecurityGroupRule

from .base import Shim, patch


class Ec2DuplicateIngressRule(Shim):
    """EC2 AuthorizeSecurityGroupIngress of a rule that already exists.

    *Deviation*: moto compares a rule's source security group (UserIdGroupPairs)
    including its Description, so the same protocol/ports/source group with
    another description is added a second time. (CIDR rules are compared
    without the description already.)

    *AWS* (EC2 API Reference, AuthorizeSecurityGroupIngress; "Security group
    rules" in the VPC User Guide: the description is not part of a rule's
    identity): fails with InvalidPermission.Duplicate "the specified rule ...
    already exists", whatever the description.

    *Shim*: ``SecurityGroupRule.__eq__`` ignores ``Description`` in the source
    group; moto's own duplicate check then raises InvalidPermission.Duplicate
    (and RevokeSecurityGroupIngress matches the rule whatever its description,
    as on AWS).

    *Remove when*: moto's SecurityGroupRule.__eq__ ignores descriptions.
    """

    name = "ec2-duplicate-ingress-rule"

    def install(self) -> None:
        @patch(SecurityGroupRule, "__eq__")
        def __eq__(orig: Any, self: SecurityGroupRule, other: Any) -> Any:  # noqa: N807
            if not isinstance(other, SecurityGroupRule):
                return NotImplemented
            if not (self.source_group or other.source_group):
                return orig(self, other)

            def identity(group: dict[str, Any]) -> dict[str, Any]:
                return {k: v for k, v in group.items() if k != "Description"}

            # moto's comparison, with the source group compared by identity
            return (
                identity(self.source_group) == identity(other.source_group)
                and self.ip_protocol == other.ip_protocol
                and self.prefix_list_id == other.prefix_list_id
                and (self.ip_protocol == "-1" or (self.from_port, self.to_port) == (other.from_port, other.to_port))
            )


class Ec2DefaultVpcHasInternetGateway(Shim):
    """The default VPC's internet gateway.

    *Deviation*: moto's default VPC has no internet gateway; its main route table holds only the local route,
    so its subnets look private.

    *AWS* (VPC User Guide, "Default VPCs": a default VPC has "an internet gateway" and "a route in the main
    route table that points all traffic (0.0.0.0/0) to the internet gateway"; its subnets are public).

    *Shim*: after ``EC2Backend.create_default_vpc``, creates an internet gateway, attaches it, and adds the
    0.0.0.0/0 route to the VPC's main route table.

    *Remove when*: moto's default VPC has an internet gateway.
    """

    name = "ec2-default-vpc-internet-gateway"

    def install(self) -> None:
        @patch(EC2Backend, "create_default_vpc")
        def create_default_vpc(orig: Any, self: EC2Backend) -> Any:
            vpc = orig(self)
            igw = self.create_internet_gateway()
            self.attach_internet_gateway(igw.id, vpc.id)
            main = self.describe_route_tables(filters={"vpc-id": [vpc.id], "association.main": ["true"]})
            for table in main:
                self.create_route(table.id, "0.0.0.0/0", gateway_id=igw.id)
            return vpc
