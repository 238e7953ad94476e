"""Route 53 shims: record and hosted zone creation."""

from __future__ import annotations

from typing import Any

from moto.route53.exceptions import ResourceRecordAlreadyExists, Route53ClientError
from moto.route53.models import Route53Backend

from . import texts
from .base import Shim, patch


class HostedZoneAlreadyExists(Route53ClientError):
    code = "HostedZoneAlreadyExists"
    message = texts.ERR_HOSTED_ZONE_EXISTS


class Route53CreateExistingRecord(Shim):
    """Route 53 ChangeResourceRecordSets CREATE of a name and type that exist.

    *Deviation*: moto only refuses a CREATE identical to an earlier change
    (same values); a CREATE with other values adds a second record set of that
    name and type.

    *AWS* (Route 53 API Reference, ChangeResourceRecordSets: "CREATE: Creates
    a resource record set that has the specified values" - it fails if one
    already exists): InvalidChangeBatch "Tried to create resource record set
    [name='www.example.com.', type='A'] but it already exists", and no change
    of the batch is applied.

    *Shim*: ``Route53Backend.change_resource_record_sets`` checks the batch's
    CREATEs (in order, after its DELETEs/UPSERTs before them) against the
    zone's record sets (name case-insensitive, trailing dot optional,
    SetIdentifier included) before moto applies anything.

    *Remove when*: moto checks CREATE against existing record sets.
    """

    name = "route53-create-existing-record"

    @staticmethod
    def key(name: str, type_: str | None, set_identifier: str | None) -> tuple[str, str, str | None]:
        return (name.rstrip(".").lower(), str(type_ or "").upper(), set_identifier)

    def install(self) -> None:
        shim = self

        @patch(Route53Backend, "change_resource_record_sets")
        def change_resource_record_sets(orig: Any, self: Route53Backend, zoneid: str, change_list: list[dict[str, Any]]) -> Any:
            zone = self.get_hosted_zone(zoneid)
            existing = {shim.key(r.name, r.type, r.set_identifier) for r in zone.rrsets}
            for change in change_list:
                rrset = change.get("ResourceRecordSet") or {}
                key = shim.key(str(rrset.get("Name", "")), rrset.get("Type"), rrset.get("SetIdentifier"))
                action = change.get("Action")
                if action == "CREATE":
                    if key in existing:
                        name = str(rrset.get("Name", ""))
                        raise ResourceRecordAlreadyExists(name=name if name.endswith(".") else name + ".", _type=key[1])
                    existing.add(key)
                elif action == "UPSERT":
                    existing.add(key)
                elif action == "DELETE":
                    existing.discard(key)
            return orig(self, zoneid, change_list)


class Route53CallerReferenceReuse(Shim):
    """Route 53 CreateHostedZone with a CallerReference used before.

    *Deviation*: moto creates another hosted zone.

    *AWS* (Route 53 API Reference, CreateHostedZone, CallerReference: "a
    unique string that identifies the request and that allows failed
    CreateHostedZone requests to be retried without the risk of executing the
    operation twice"; error HostedZoneAlreadyExists, HTTP 409).

    *Shim*: ``Route53Backend.create_hosted_zone`` raises HostedZoneAlreadyExists
    when a zone of the account has that CallerReference.

    *Remove when*: moto checks CallerReference.
    """

    name = "route53-caller-reference-reuse"

    def install(self) -> None:
        @patch(Route53Backend, "create_hosted_zone")
        def create_hosted_zone(orig: Any, self: Route53Backend, name: str, *args: Any, **kwargs: Any) -> Any:
            reference = kwargs.get("caller_reference")
            if reference and any(zone.caller_reference == reference for zone in self.zones.values()):
                raise HostedZoneAlreadyExists()
            return orig(self, name, *args, **kwargs)
