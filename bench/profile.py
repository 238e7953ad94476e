"""Timeline of one command against the local stack: every AWS call it makes (start, end, service:Operation) and
every line it writes to stderr, in milliseconds from its start. For finding the serial waits behind a figure of
scripts/bench.

    python bench/profile.py [--cwd DIR] -- COMMAND [ARGS...]

It starts a small recording proxy on 127.0.0.1 (a free port) in front of $AWS_ENDPOINT_URL and runs COMMAND with
AWS_ENDPOINT_URL pointing at it (so `--endpoint-url` must not be passed). The proxy adds about a millisecond per
call; the timeline's shape (what waits for what) is what it is for. Output: one line per event, then a summary
of the critical path (the longest chain of calls where each started after the previous ended).
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse

EVENTS: list[tuple[float, float, str]] = []
LOCK = threading.Lock()


def operation(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> str:
    auth = handler.headers.get("Authorization", "")
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    service = scope.group(1) if scope else "?"
    target = handler.headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    form = urllib.parse.parse_qs(body.decode(errors="replace"))
    if "Action" in form:
        return f"{service}:{form['Action'][0]}"
    return f"{service}:{handler.command} {handler.path.split('?')[0]}"


def proxy_handler(upstream: urllib.parse.SplitResult) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are two writes: without this the body waits for the client's delayed ACK (40 ms).
        disable_nagle_algorithm = True

        def log_message(self, *_args: object) -> None:
            pass

        def forward(self) -> None:
            start = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            self.send_response(response.status)
            for k, v in response.getheaders():
                if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()
            with LOCK:
                EVENTS.append((start, time.time(), operation(self, body)))

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward

    return Handler


def critical_path(calls: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """The longest chain of calls, each starting after the one before it ended (by total time of the chain)."""
    calls = sorted(calls)
    best: list[tuple[float, list[int]]] = []
    for i, (s, e, _) in enumerate(calls):
        prev = [(best[j][0], best[j][1]) for j in range(i) if calls[j][1] <= s + 0.0005]
        length, chain = max(prev, default=(0.0, []), key=lambda p: p[0])
        best.append((length + (e - s), [*chain, i]))
    if not best:
        return []
    _, chain = max(best, key=lambda p: p[0])
    return [calls[i] for i in chain]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cwd", default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    upstream = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), proxy_handler(upstream))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{server.server_address[1]}")
    lines: list[tuple[float, str]] = []
    t0 = time.time()
    proc = subprocess.Popen(command, cwd=args.cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append((time.time(), line.rstrip("\n")))
    code = proc.wait()
    t1 = time.time()
    server.shutdown()
    ms = lambda t: (t - t0) * 1000  # noqa: E731
    timeline = [(s, f"{ms(s):7.0f} {ms(e):7.0f}  {op}") for s, e, op in EVENTS]
    timeline += [(t, f"{ms(t):7.0f}          | {text[:140]}") for t, text in lines]
    print(f"{'start':>7} {'end':>7}  (ms from the command's start; exit {code}, {ms(t1):.0f} ms in all)")
    for _, text in sorted(timeline):
        print(text)
    path = critical_path(EVENTS)
    if path:
        total = sum(e - s for s, e, _ in path)
        print(f"\ncritical path of AWS calls: {len(path)} calls in series, {total * 1000:.0f} ms of calls, "
              f"{ms(path[0][0]):.0f}-{ms(path[-1][1]):.0f} ms:")
        print("  " + " -> ".join(op.split(":", 1)[1] for _, _, op in path))
    print(f"{len(EVENTS)} AWS calls")
    return code


if __name__ == "__main__":
    sys.exit(main())
