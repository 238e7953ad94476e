"""Whole listings for the test stack's boto3 scripts: every page of a paged AWS call, not only the first.

The emulator is shared by every test of a run (and by benchmarks), so listings grow past one page (IAM lists 100
roles a page, ELBv2 400 load balancers, ...); a script that read only the first page would miss resources and
could see no change where there was one.
"""

from typing import Any


def every(client: Any, operation: str, key: str, **kwargs: Any) -> list:
    """The items under ``key`` of every page of ``client.operation(**kwargs)``."""
    if client.can_paginate(operation):
        return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]
    return list(getattr(client, operation)(**kwargs).get(key, []))
