"""CloudWatch Logs shims."""

from __future__ import annotations

from typing import Any

from moto.logs.exceptions import InvalidParameterException
from moto.logs.models import LogsBackend

from . import texts
from .base import Shim, patch


class LogsRetentionValues(Shim):
    """CloudWatch Logs PutRetentionPolicy with a retention AWS does not offer.

    *Deviation*: moto accepts any retentionInDays (0, 13, ...).

    *AWS* (CloudWatch Logs API Reference, PutRetentionPolicy, retentionInDays:
    "Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400,
    545, 731, 1096, 1827, 2192, 2557, 2922, 3288, and 3653"): fails with
    InvalidParameterException ("1 validation error detected: Value '13' at
    'retentionInDays' failed to satisfy constraint: Member must satisfy enum
    value set: [...]").

    *Shim*: ``LogsBackend.put_retention_policy`` checks the value first.

    *Remove when*: moto validates retentionInDays.
    """

    name = "logs-retention-values"

    def install(self) -> None:
        @patch(LogsBackend, "put_retention_policy")
        def put_retention_policy(orig: Any, self: LogsBackend, log_group_name: str, retention_in_days: Any) -> Any:
            try:
                valid = int(retention_in_days) in texts.RETENTION_DAYS
            except (TypeError, ValueError):
                valid = False
            if not valid:
                raise InvalidParameterException(
                    constraint=texts.ERR_RETENTION_CONSTRAINT.format(values=", ".join(map(str, texts.RETENTION_DAYS))),
                    parameter="retentionInDays",
                    value=retention_in_days,
                )
            return orig(self, log_group_name, retention_in_days)
