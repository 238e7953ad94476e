"""Launcher for the moto AWS emulator used by cargo-ecs's local test stack.

``scripts/stack up`` runs this file with the stack venv's python::

    .stack/venv/bin/python tests/stack/moto_server.py --host 127.0.0.1 --port 4566

It serves moto's own WSGI application (the same one ``moto_server`` serves)
through :class:`ShimMiddleware`, threaded, on loopback only.

Shim policy
===========
moto deviates from AWS in places (see tests/stack/README.md and the shared
moto notes). cargo-ecs is written against *AWS's* behaviour; the product is
never bent to fit the emulator. When a test needs AWS behaviour that moto lacks
or gets wrong, the fix goes HERE, as a shim, and nowhere else.

The shims live in the ``shims`` package next to this file (one module per AWS
service, all AWS message texts in ``shims/texts.py``) and are listed by
``shims.build_shims()``. Every shim MUST be documented in its class docstring:

* **Deviation** - what moto does (request, observed response).
* **AWS** - what AWS does instead, with a pointer to the API reference / doc.
* **Shim** - what the shim changes, and how narrowly it matches requests.
* **Remove when** - the moto version/issue that makes it unnecessary
  (shims are checked again whenever the moto pin in requirements.txt changes).

A shim is either a *request shim* (``matches``/``handle``: answers or
rewrites HTTP requests, e.g. the ``/_shim`` control endpoint) or a *model shim*
(``install``: patches one moto backend/response method at start, so moto still
parses and serializes everything). It must change as little as it can (one
service + operation), leave every other request untouched, and must not add
state that moto's ``POST /moto-api/reset`` would not clear (keep any state of
its own in a ``reset()`` method: :class:`ShimMiddleware` calls it on every
reset, as does ``POST /_shim/reset``).

Changing this file or any file under ``shims/`` makes ``scripts/stack up``
restart moto (it keeps a hash of them all).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import run_simple

# The shims package sits next to this file (on sys.path already when this file
# is run as a script); no __pycache__ is left in the source tree.
sys.dont_write_bytecode = True
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import shims  # noqa: E402
from shims import Shim, ShimRequest, StartResponse, WSGIApp, WSGIEnviron, calls  # noqa: E402

__all__ = ["SHIMS", "Shim", "ShimMiddleware", "ShimRequest", "build_app", "main"]

# shims.digest() of the shims package this file was last checked with.

# ---------------------------------------------------------------------------
# SHIMS: see tests/stack/shims/ (one module per AWS service) and the shim table
# in tests/stack/README.md. Order matters for request shims: the first whose
# matches() is true handles the request.
# ---------------------------------------------------------------------------

SHIMS: list[Shim] = shims.build_shims()


class ShimMiddleware:
    """WSGI middleware: routes a request to the first matching shim, else to moto."""

    def __init__(self, app: WSGIApp, shims: list[Shim]) -> None:
        self.app = app
        self.shims = shims
        for shim in shims:
            shim.install()

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        request = ShimRequest(environ)
        if request.path.startswith("/moto-api/reset") and request.method == "POST":
            for shim in self.shims:
                shim.reset()
            calls.reset()
        calls.record(request.service, request.operation, request.method, request.path)
        for shim in self.shims:
            if shim.matches(request):
                return shim.handle(request, start_response, self.app)
        return self.app(environ, start_response)


def build_app() -> WSGIApp:
    moto_app = DomainDispatcherApplication(create_backend_app)
    moto_app.debug = True  # type: ignore[attr-defined]  # as moto.server.main does
    return ShimMiddleware(moto_app, SHIMS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    parser.add_argument("--shims-digest", action="store_true", help="print shims.digest() and exit")
    args = parser.parse_args(argv)

    if args.shims_digest:
        print(shims.digest())
        return

    # moto builds some URLs (e.g. SQS queue URLs, presigned URLs) from MOTO_PORT.
    os.environ.setdefault("MOTO_PORT", str(args.port))

    def stop(_signum: int, _frame: Any) -> None:
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    shim_names = ", ".join(s.name for s in SHIMS) or "none"
    print(
        f"cargo-ecs moto launcher: moto on http://{args.host}:{args.port}, shims: {shim_names}",
        flush=True,
    )
    run_simple(args.host, args.port, build_app(), threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
