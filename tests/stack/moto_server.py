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

Every shim MUST be documented in this file, in its class docstring:

* **Deviation** - what moto does (request, observed response).
* **AWS** - what AWS does instead, with a pointer to the API reference / doc.
* **Shim** - what the shim changes, and how narrowly it matches requests.
* **Remove when** - the moto version/issue that makes it unnecessary
  (shims are checked again whenever the moto pin in requirements.txt changes).

A shim must match as narrowly as it can (service + operation, and no more
requests than needed), leave every other request byte-for-byte untouched, and
must not add state that moto's ``POST /moto-api/reset`` would not clear (keep
any state of its own in a ``reset()`` method: :class:`ShimMiddleware` calls it
on every reset).

Changing this file makes ``scripts/stack up`` restart moto (it keeps a hash).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import run_simple

WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[WSGIEnviron, StartResponse], Iterable[bytes]]


class ShimRequest:
    """A read-only view of one request for shims to match on.

    The body is read only when a shim asks for it, and is put back into the
    WSGI environ so that moto still sees the full request afterwards.
    """

    def __init__(self, environ: WSGIEnviron) -> None:
        self.environ = environ
        self._body: bytes | None = None

    @property
    def method(self) -> str:
        return str(self.environ.get("REQUEST_METHOD", "GET"))

    @property
    def path(self) -> str:
        return str(self.environ.get("PATH_INFO", "/"))

    def header(self, name: str) -> str | None:
        key = "HTTP_" + name.upper().replace("-", "_")
        if name.lower() == "content-type":
            key = "CONTENT_TYPE"
        value = self.environ.get(key)
        return None if value is None else str(value)

    @property
    def service(self) -> str | None:
        """Signing name from the SigV4 Authorization header (e.g. "ecs", "elasticloadbalancing")."""
        auth = self.header("Authorization") or ""
        marker = "Credential="
        if marker not in auth:
            return None
        scope = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
        return scope[3] if len(scope) > 3 else None

    @property
    def body(self) -> bytes:
        if self._body is None:
            stream = self.environ["wsgi.input"]
            length = self.environ.get("CONTENT_LENGTH")
            if length:
                data = stream.read(int(length))
            elif self.environ.get("wsgi.input_terminated"):
                data = stream.read()
            else:
                data = b""
            self._body = data
            self.environ["wsgi.input"] = io.BytesIO(data)
            self.environ["CONTENT_LENGTH"] = str(len(data))
        return self._body

    @property
    def operation(self) -> str | None:
        """The API operation: X-Amz-Target (JSON protocols) or Action= (query protocols)."""
        target = self.header("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        query = parse_qs(str(self.environ.get("QUERY_STRING", "")))
        if "Action" in query:
            return query["Action"][0]
        if (self.header("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(self.body.decode("utf-8", "replace"))
            if "Action" in form:
                return form["Action"][0]
        return None


class Shim:
    """Base class of a shim. Subclasses document themselves (see module docstring).

    ``matches`` decides, as cheaply as possible, whether the shim handles a
    request; ``handle`` then answers it, usually by calling ``app`` (moto) and
    rewriting the request before or the response after.
    """

    name = "unnamed"

    def matches(self, request: ShimRequest) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def handle(
        self,
        request: ShimRequest,
        start_response: StartResponse,
        app: WSGIApp,
    ) -> Iterable[bytes]:  # pragma: no cover - interface
        raise NotImplementedError

    def reset(self) -> None:
        """Drop any state of the shim's own (called on POST /moto-api/reset)."""


# ---------------------------------------------------------------------------
# SHIMS
#
# Add each shim as a documented subclass of Shim right here (Deviation / AWS /
# Shim / Remove when, see the module docstring), then list an instance in
# SHIMS below. Order matters: the first shim whose matches() is true handles
# the request. There are none yet: moto 5.2.5 is used as it is.
# ---------------------------------------------------------------------------

SHIMS: list[Shim] = []


class ShimMiddleware:
    """WSGI middleware: routes a request to the first matching shim, else to moto."""

    def __init__(self, app: WSGIApp, shims: list[Shim]) -> None:
        self.app = app
        self.shims = shims

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        request = ShimRequest(environ)
        if request.path.startswith("/moto-api/reset") and request.method == "POST":
            for shim in self.shims:
                shim.reset()
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
    args = parser.parse_args(argv)

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
