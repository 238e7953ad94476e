"""A fault-injecting HTTP reverse proxy between cargo-ecs and the local AWS emulator (test infrastructure only).

    python tests/stack/fault_proxy.py --upstream http://127.0.0.1:4566 --port 0 --seed 7 --throttle 0.1

It listens on 127.0.0.1 only and forwards every request to ``--upstream`` (also on 127.0.0.1), except that a
chosen share of the AWS API calls gets a fault instead, the way AWS would answer it:

``throttle``
    the service's own throttling error, in the service's protocol, so the SDK classifies it as throttling:
    JSON protocols (ECS, CloudWatch Logs, ECR, ACM, Secrets Manager, SSM: an ``X-Amz-Target`` header) answer
    HTTP 400 ``{"__type": "ThrottlingException", ...}``; the query protocols (ELBv2, IAM, STS) HTTP 400
    ``<ErrorResponse><Error><Code>Throttling</Code>``; EC2 HTTP 503
    ``<Response><Errors><Error><Code>RequestLimitExceeded</Code>``; Route 53 (REST-XML) HTTP 400
    ``<ErrorResponse><Error><Code>Throttling</Code>``. The request never reaches the emulator.
``5xx``
    HTTP 500 or 503 (alternating) with the protocol's internal-error body; not forwarded.
``drop``
    the connection is closed without an answer; not forwarded.
``lose``
    forwarded (the emulator carries it out), then the connection is closed without the answer: the client
    cannot tell whether the call happened (what a network cut after the request looks like).
``slow``
    answered normally, after ``--delay`` seconds.

Deterministic by seed: every faultable request gets the next number n of a counter (in arrival order), and
its fate is ``sha256("SEED:n")`` read as a number in [0, 1), cut into the ranges throttle | 5xx | drop | lose |
slow | forward. The same seed and the same sequence of requests give the same faults (concurrent requests may
arrive in another order, so which call gets a fault can differ between runs; how many stays close to the rate).

Only AWS API calls can get a fault: requests to the emulator's control paths (``/_shim...``, ``/moto-api...``)
and requests without a SigV4 ``Authorization`` header are always forwarded untouched. ``--only`` narrows the
faults further to some services (``elasticloadbalancing``) or calls (``elasticloadbalancing:CreateTargetGroup``);
the service is the SigV4 signing name (the credential scope ``.../REGION/SERVICE/aws4_request``), the call the
``X-Amz-Target`` operation, the query protocol's ``Action=``, or ``METHOD /path`` for REST (Route 53).

The proxy's own endpoint (not forwarded):

``GET /_faults``
    JSON: ``requests`` (AWS calls seen), ``eligible`` (matching ``--only``), ``forwarded``, ``injected`` (per
    kind: throttle, 5xx, drop, lose, slow), ``by_call`` (per call, per kind), the ``config`` in use.
``POST /_faults/reset``
    zeroes the counters and the request counter (the configuration stays).
``POST /_faults/config``
    JSON with any of ``seed``, ``throttle``, ``error_5xx``, ``drop``, ``lose``, ``slow``, ``delay``, ``only``
    (a list); zeroes the counters too.

With ``--port 0`` the kernel picks a free port; the proxy prints ``listening on http://127.0.0.1:PORT`` as its
first line on stdout (flushed), so a test can start it and read where it is.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import re
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KINDS = ("throttle", "5xx", "drop", "lose", "slow")
CONTROL_PREFIXES = ("/_shim", "/moto-api")
# Headers that describe one hop of the connection, not the message (RFC 9110 7.6.1); never relayed.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
THROTTLE_MESSAGE = "Rate exceeded"


class Config:
    """What to inject, and how often (rates are shares of the eligible calls, 0..1, summing to at most 1)."""

    def __init__(
        self,
        seed: int = 0,
        throttle: float = 0.0,
        error_5xx: float = 0.0,
        drop: float = 0.0,
        lose: float = 0.0,
        slow: float = 0.0,
        delay: float = 1.0,
        only: list[str] | None = None,
    ) -> None:
        self.seed = int(seed)
        self.rates = {"throttle": throttle, "5xx": error_5xx, "drop": drop, "lose": lose, "slow": slow}
        for kind, rate in self.rates.items():
            if not 0.0 <= float(rate) <= 1.0:
                flag = "error-5xx" if kind == "5xx" else kind
                raise ValueError(f"--{flag} must be between 0 and 1, not {rate}")
        if sum(self.rates.values()) > 1.0 + 1e-9:
            raise ValueError(f"the fault rates add up to more than 1: {self.rates}")
        self.delay = float(delay)
        self.only = [o for o in (only or []) if o]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Config:
        known = {"seed", "throttle", "error_5xx", "drop", "lose", "slow", "delay", "only"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "throttle": self.rates["throttle"],
            "error_5xx": self.rates["5xx"],
            "drop": self.rates["drop"],
            "lose": self.rates["lose"],
            "slow": self.rates["slow"],
            "delay": self.delay,
            "only": self.only,
        }

    def eligible(self, service: str, operation: str) -> bool:
        """Whether a call may get a fault under ``--only``."""
        if not self.only:
            return True
        return any(o == service or o == f"{service}:{operation}" for o in self.only)

    def decide(self, n: int) -> str | None:
        """The fault for the n-th eligible call (None: forward it as is)."""
        digest = hashlib.sha256(f"{self.seed}:{n}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        edge = 0.0
        for kind in KINDS:
            edge += self.rates[kind]
            if u < edge:
                return kind
        return None


class State:
    """The configuration and the counters, shared by the handler threads."""

    def __init__(self, config: Config, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError(f"--upstream must be http://127.0.0.1:PORT (loopback only), not {upstream}")
        self.upstream_host = parsed.hostname
        self.upstream_port = parsed.port or 80
        self.lock = threading.Lock()
        self.config = config
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.counter = 0
            self.requests = 0
            self.forwarded = 0
            self.injected = {kind: 0 for kind in KINDS}
            self.by_call: dict[str, dict[str, int]] = {}

    def next_fault(self, service: str, operation: str) -> tuple[str | None, int]:
        """Counts one AWS call and decides its fate; returns (fault, 500 or 503 for a 5xx)."""
        with self.lock:
            self.requests += 1
            if not self.config.eligible(service, operation):
                return None, 0
            n = self.counter
            self.counter += 1
            fault = self.config.decide(n)
            if fault is not None:
                self.injected[fault] += 1
                call = self.by_call.setdefault(f"{service}:{operation}", {})
                call[fault] = call.get(fault, 0) + 1
            return fault, (500 if n % 2 == 0 else 503)

    def count_forwarded(self) -> None:
        with self.lock:
            self.forwarded += 1

    def report(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "eligible": self.counter,
                "forwarded": self.forwarded,
                "injected": dict(self.injected),
                "total_injected": sum(self.injected.values()),
                "by_call": {k: dict(v) for k, v in sorted(self.by_call.items())},
                "config": self.config.to_json(),
            }


def classify(method: str, path: str, headers: Any, body: bytes) -> tuple[str | None, str, str]:
    """(SigV4 service or None, operation, protocol) of a request. Protocol: json, query, ec2 or rest-xml."""
    match = CREDENTIAL_SCOPE.search(headers.get("Authorization", "") or "")
    service = match.group(1) if match else None
    target = headers.get("X-Amz-Target")
    content_type = (headers.get("Content-Type") or "").lower()
    if target:
        return service, target.rsplit(".", 1)[-1], "json"
    if service == "ec2":
        protocol = "ec2"
    elif "x-www-form-urlencoded" in content_type or (method == "POST" and b"Action=" in body[:4096]):
        protocol = "query"
    else:
        protocol = "rest-xml"
    if protocol in ("ec2", "query"):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        action = (form.get("Action") or query.get("Action") or [None])[0]
        if action:
            return service, action, protocol
    return service, f"{method} {urllib.parse.urlsplit(path).path}", protocol


def fault_answer(kind: str, protocol: str, status_5xx: int) -> tuple[int, str, bytes]:
    """(status, content type, body) of a throttling or 5xx answer in the request's protocol."""
    request_id = str(uuid.uuid4())
    if kind == "throttle":
        if protocol == "json":
            code, status = "ThrottlingException", 400
        elif protocol == "ec2":
            code, status = "RequestLimitExceeded", 503
        else:
            code, status = "Throttling", 400
        message = THROTTLE_MESSAGE if protocol != "ec2" else "Request limit exceeded."
    else:
        status = status_5xx
        if protocol == "json":
            code = "InternalFailure" if status == 500 else "ServiceUnavailableException"
        elif protocol == "ec2":
            code = "InternalError" if status == 500 else "Unavailable"
        else:
            code = "InternalFailure" if status == 500 else "ServiceUnavailable"
        message = "An internal error occurred (injected by fault_proxy)" if status == 500 else "Service unavailable"
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        return status, "application/x-amz-json-1.1", body
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        ).encode()
        return status, "text/xml;charset=UTF-8", body
    kind_of_fault = "Sender" if status < 500 else "Receiver"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<ErrorResponse><Error><Type>{kind_of_fault}</Type><Code>{code}</Code><Message>{message}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return status, "text/xml", body


class Handler(BaseHTTPRequestHandler):
    """Forwards one request, or answers it with a fault."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body waits for the client's delayed ACK
    # (40 ms on Linux), which would add to every answer a delay nobody asked for.
    disable_nagle_algorithm = True
    server: ProxyServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _log(self, service: str | None, operation: str, fault: str | None) -> None:
        if self.server.verbose:
            stamp = time.strftime("%H:%M:%S", time.localtime()) + f".{int(time.time() * 1000) % 1000:03d}"
            call = f"{service}:{operation}" if service else f"{self.command} {self.path}"
            print(f"{stamp} {call} {fault or 'forward'}", file=sys.stderr, flush=True)

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, content_type: str, body: bytes, headers: list[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        sent = set()
        for name, value in headers:
            if name.lower() in HOP_BY_HOP or name.lower() in ("server", "date"):
                continue
            self.send_header(name, value)
            sent.add(name.lower())
        if "content-type" not in sent and content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _cut(self) -> None:
        """Closes the connection without an answer."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes] | None:
        connection = http.client.HTTPConnection(self.server.state.upstream_host, self.server.state.upstream_port, timeout=120)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(self.command, self.path, body=body if body or self.command in ("POST", "PUT") else None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        except OSError as error:
            message = f"fault_proxy: upstream unreachable: {error}".encode()
            self._answer(502, "text/plain", message)
            return None
        finally:
            connection.close()

    def _handle(self) -> None:
        body = self._body()
        state = self.server.state
        path = self.path.split("?", 1)[0]
        if path == "/_faults" or path.startswith("/_faults/"):
            self._control(path, body)
            return
        service, operation, protocol = (None, "", "")
        if not path.startswith(CONTROL_PREFIXES):
            service, operation, protocol = classify(self.command, self.path, self.headers, body)
        fault, status_5xx = (None, 0)
        if service is not None:
            fault, status_5xx = state.next_fault(service, operation)
        self._log(service, operation, fault)
        if fault in ("throttle", "5xx"):
            status, content_type, answer = fault_answer(fault, protocol, status_5xx)
            self._answer(status, content_type, answer, [("x-amzn-RequestId", str(uuid.uuid4()))])
            return
        if fault == "drop":
            self._cut()
            return
        if fault == "slow":
            time.sleep(state.config.delay)
        forwarded = self._forward(body)
        if forwarded is None:
            return
        state.count_forwarded()
        if fault == "lose":
            self._cut()
            return
        status, headers, data = forwarded
        self._answer(status, "", data, headers)

    def _control(self, path: str, body: bytes) -> None:
        state = self.server.state
        try:
            if self.command == "GET" and path == "/_faults":
                pass
            elif self.command == "POST" and path == "/_faults/reset":
                state.reset()
            elif self.command == "POST" and path == "/_faults/config":
                config = Config.from_json(json.loads(body or b"{}"))
                with state.lock:
                    state.config = config
                state.reset()
            else:
                self._answer(404, "application/json", json.dumps({"error": f"no {self.command} {path}"}).encode())
                return
        except (ValueError, TypeError) as error:
            self._answer(400, "application/json", json.dumps({"error": str(error)}).encode())
            return
        self._answer(200, "application/json", json.dumps(state.report(), indent=1).encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


class ProxyServer(ThreadingHTTPServer):
    """The threaded server; one handler thread per connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, state: State, verbose: bool = False) -> None:
        self.state = state
        self.verbose = verbose
        super().__init__(("127.0.0.1", port), Handler)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Fault-injecting reverse proxy in front of the local AWS emulator (loopback only).",
        epilog="GET /_faults on the proxy answers the counters as JSON. See this file's docstring for details.",
    )
    p.add_argument("--upstream", default="http://127.0.0.1:4566", help="the emulator (default %(default)s)")
    p.add_argument("--port", type=int, default=0, help="port to listen on, 127.0.0.1 only (0: a free one)")
    p.add_argument("--seed", type=int, default=0, help="makes the faults reproducible (default %(default)s)")
    p.add_argument("--throttle", type=float, default=0.0, metavar="RATE", help="share of calls throttled (0..1)")
    p.add_argument("--error-5xx", type=float, default=0.0, metavar="RATE", help="share answered 500/503")
    p.add_argument("--drop", type=float, default=0.0, metavar="RATE", help="share whose connection is closed unanswered")
    p.add_argument(
        "--lose", type=float, default=0.0, metavar="RATE", help="share carried out upstream, answer then lost"
    )
    p.add_argument("--slow", type=float, default=0.0, metavar="RATE", help="share answered after --delay")
    p.add_argument("--delay", type=float, default=1.0, metavar="SECONDS", help="delay of slow answers")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SERVICE[:CALL]",
        help="fault only these services or calls (repeatable, or comma-separated), e.g. elasticloadbalancing:CreateTargetGroup",
    )
    p.add_argument("--verbose", action="store_true", help="log every request on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    only = [o.strip() for item in args.only for o in item.split(",")]
    try:
        config = Config(args.seed, args.throttle, args.error_5xx, args.drop, args.lose, args.slow, args.delay, only)
        state = State(config, args.upstream)
    except ValueError as error:
        print(f"fault_proxy: {error}", file=sys.stderr)
        return 2
    server = ProxyServer(args.port, state, args.verbose)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
