"""The shim interface: :class:`ShimRequest`, :class:`Shim` and :func:`patch`.

Two kinds of shim exist, both subclasses of :class:`Shim` listed in the
launcher's ``SHIMS``:

* **request shims** answer or rewrite HTTP requests before moto sees them
  (``matches`` + ``handle``), e.g. the ``/_shim/...`` control endpoint;
* **model shims** patch moto's backend (or response) classes once, at start
  (``install``). moto still parses every request and serializes every answer
  (with its botocore-model-driven serializer), so a model shim only changes
  behaviour, never the wire format, and applies to every protocol the
  operation is reachable by. Their ``matches`` is always false.

Whatever a model shim keeps on moto's own model objects (services, tasks, ...)
goes away with moto's ``POST /moto-api/reset``; state a shim keeps elsewhere
must be dropped in its ``reset()``.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

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
    """Base class of a shim. Subclasses document themselves in their docstring:
    *Deviation*, *AWS* (with the reference followed), *Shim*, *Remove when*.

    ``install`` patches moto once at start (model shims). ``matches`` decides,
    as cheaply as possible, whether the shim handles a request; ``handle``
    then answers it, usually by calling ``app`` (moto) and rewriting the
    request before or the response after (request shims).
    """

    name = "unnamed"

    def install(self) -> None:
        """Patch moto's models (model shims); called once before serving."""

    def matches(self, request: ShimRequest) -> bool:
        return False

    def handle(
        self,
        request: ShimRequest,
        start_response: StartResponse,
        app: WSGIApp,
    ) -> Iterable[bytes]:  # pragma: no cover - interface
        raise NotImplementedError

    def reset(self) -> None:
        """Drop any state of the shim's own (POST /moto-api/reset, POST /_shim/reset)."""


# Originals of everything patched, keyed by (class, attribute), so that
# installing twice (tests importing the launcher) never wraps a wrapper.
_ORIGINALS: dict[tuple[type, str], Any] = {}


def patch(cls: type, attr: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: replace ``cls.attr`` with the decorated function.

    Patches chain: the function receives what ``cls.attr`` was when it was installed (moto's method, or
    another shim's patch of it) as its first argument, so two shims may patch the same method::

        @patch(EC2ContainerServiceBackend, "create_cluster")
        def create_cluster(orig, self, cluster_name, *args, **kwargs): ...
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        key = (cls, attr)
        current = cls.__dict__[attr] if attr in cls.__dict__ else getattr(cls, attr)
        _ORIGINALS.setdefault(key, current)
        orig = current

        @functools.wraps(orig)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(orig, *args, **kwargs)

        setattr(cls, attr, wrapper)
        return wrapper

    return decorate


def json_response(start_response: StartResponse, status: int, payload: Any) -> list[bytes]:
    body = json.dumps(payload, indent=1, sort_keys=True, default=str).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}.get(status, "")
    start_response(
        f"{status} {reason}".strip(),
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
