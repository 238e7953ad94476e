"""A log of the AWS calls the emulator received, for tests that must prove what a tool did or did not do
(e.g. "a deploy with nothing to change makes no mutating call"). Test infrastructure, not an AWS behaviour.

Each entry is ``{"service": <SigV4 signing name>, "operation": <API operation>, "mutating": bool}``. Query and
JSON protocols name the operation (``Action=`` / ``X-Amz-Target``); REST protocols (Route 53) are named
``METHOD /path``. An operation is read-only when its name starts with Describe, List, Get or BatchGet (and
for REST when the method is GET or HEAD); everything else counts as mutating.
"""

from __future__ import annotations

import threading
from typing import Any

READ_PREFIXES = ("Describe", "List", "Get", "BatchGet")
LIMIT = 10_000

_LOCK = threading.Lock()
_CALLS: list[dict[str, Any]] = []


def record(service: str | None, operation: str | None, method: str, path: str) -> None:
    """Remembers one call (requests without a SigV4 signature, such as /moto-api, are not AWS calls)."""
    if service is None:
        return
    if operation is None:
        name = f"{method} {path}"
        mutating = method not in ("GET", "HEAD")
    else:
        name = operation
        mutating = not name.startswith(READ_PREFIXES)
    with _LOCK:
        _CALLS.append({"service": service, "operation": name, "mutating": mutating})
        del _CALLS[:-LIMIT]


def calls() -> list[dict[str, Any]]:
    """The calls since the last reset, oldest first."""
    with _LOCK:
        return list(_CALLS)


def reset() -> None:
    """Forgets every call."""
    with _LOCK:
        _CALLS.clear()
