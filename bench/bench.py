"""The measurements of scripts/bench (issue #8): cargo-ecs against its peers, each pair measured in the same run
on the local stack. Run it through scripts/bench, which starts the stack, builds cargo-ecs and this venv, and
exports the stack's environment; bench/README.md says what each figure means and how it is measured.

Usage (from scripts/bench): python bench/bench.py --bin CARGO_ECS --profile NAME [--repeat N] [--json]
    [--crate DIR] [--only P1,P5] [--keep]

Progress goes to stderr; stdout gets the table (Markdown), or with --json one JSON document.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import random
import re
import shutil
import statistics
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
SEED_SCRIPT = ROOT / "bench" / "seed_steps.sh"
DOMAIN_SCRIPT = ROOT / "tests" / "stack" / "domain.py"

# P3's conventional image: a multi-stage Dockerfile whose last stage is `FROM debian:bookworm-slim` plus the
# binary. The base's compressed size is the documented one (not measured: nothing can be pulled here), from
# docker-library/repo-info, repos/debian/remote/bookworm-slim.md, linux/arm64/v8, image of 2026-08-03
# (Total Size 28.1 MB, 28117202 bytes, "compressed transfer size"). See bench/README.md.
DEBIAN_SLIM_ARM64_BYTES = 28_117_202
DEBIAN_SLIM_SOURCE = (
    "debian:bookworm-slim linux/arm64/v8, 28117202 B compressed, documented in docker-library/repo-info "
    "repos/debian/remote/bookworm-slim.md (image of 2026-08-03); not measured"
)

GOALS = {"P1": 1.0, "P2": 1.1, "P3": 512 * 1024, "P4": 1.3, "P5": 0.5}


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------------------
# processes, the emulator's call log
# --------------------------------------------------------------------------------------------------------------


class Failed(RuntimeError):
    pass


def run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Runs CMD, returns (wall seconds, stdout); raises Failed with its stderr when it fails."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise Failed(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}")
    return seconds, proc.stdout


def endpoint() -> str:
    return os.environ["AWS_ENDPOINT_URL"].rstrip("/")


def all_calls() -> list[dict[str, Any]]:
    with urllib.request.urlopen(endpoint() + "/_shim/calls", timeout=10) as response:
        return json.loads(response.read())["calls"]


class CallWindow:
    """The AWS calls the emulator logs between start() and stop(). The log is read, not reset, so other users of
    the same emulator keep theirs (their calls would show here too: give the bench its own stack for exact
    counts). Resets only when the log nears its 10,000-entry cap."""

    def __init__(self) -> None:
        self.offset = 0

    def start(self) -> None:
        self.offset = len(all_calls())
        if self.offset > 8000:
            urllib.request.urlopen(
                urllib.request.Request(endpoint() + "/_shim/calls/reset", data=b"{}", method="POST"), timeout=10
            ).read()
            self.offset = 0

    def stop(self) -> dict[str, Any]:
        calls = all_calls()[self.offset :]
        names = [f'{c["service"]}:{c["operation"]}' for c in calls]
        mutating = [f'{c["service"]}:{c["operation"]}' for c in calls if c["mutating"]]
        return {"calls": len(calls), "mutating": len(mutating), "operations": names, "mutating-operations": mutating}


def aws(service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint(), region_name=os.environ.get("AWS_REGION", "us-east-1"))


# --------------------------------------------------------------------------------------------------------------
# the crate under test
# --------------------------------------------------------------------------------------------------------------


class Crate:
    """A copy of the measured crate in the work directory, and cargo-ecs runs on it."""

    def __init__(self, source: Path, work: Path, tool: Path) -> None:
        self.dir = work / "crate"
        shutil.copytree(source, self.dir, ignore=shutil.ignore_patterns("target", ".git"))
        self.main = self.dir / "src" / "main.rs"
        self.original = self.main.read_text()
        self.tool = tool
        self.edits = 0

    def edit(self) -> None:
        """A one-line code change: one line at the end of main.rs, a string the binary keeps, new each time."""
        self.edits += 1
        line = f'#[used] static BENCH_EDIT: [u8; 12] = *b"bench-{self.edits:06d}";\n'
        self.main.write_text(self.original.rstrip("\n") + "\n" + line)

    def env(self, target_dir: Path) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not (k.startswith("CARGO_ECS_") and not k.startswith("CARGO_ECS_STACK_"))
            and not k.startswith("CARGO_PROFILE_")
        }
        env["CARGO_ECS_REGISTRY_ENDPOINT"] = os.environ["CARGO_ECS_REGISTRY_ENDPOINT"]
        env["CARGO_TARGET_DIR"] = str(target_dir)
        env["NO_COLOR"] = "1"
        return env

    def ecs(self, args: list[str], target_dir: Path) -> tuple[float, Any]:
        """`cargo-ecs ecs ARGS --output json` in the crate; (wall seconds, the JSON report's first entry)."""
        seconds, out = run([str(self.tool), "ecs", *args, "--output", "json"], cwd=self.dir, env=self.env(target_dir))
        report = json.loads(out)
        return seconds, report[0] if isinstance(report, list) else report

    def cargo_build(self, target_dir: Path) -> float:
        """The native build of the same crate: `cargo build --release` for the host (x86_64-unknown-linux-gnu)."""
        seconds, _ = run(["cargo", "build", "--release", "--quiet"], cwd=self.dir, env=self.env(target_dir))
        return seconds


def settings(name: str, zone: str, record: str) -> list[str]:
    """The full stack: HTTPS load balancer with the zone's wildcard certificate and a DNS record, as a user sets."""
    sets = [
        f"service={name}",
        f"repository={name}",
        f"load-balancer.certificate=*.{zone}",
        f"dns.zone={zone}",
        f"dns.name={record}",
        "assign-public-ip=true",
    ]
    return [arg for s in sets for arg in ("--set", s)]


def wait_for_rollout(name: str, timeout: float = 60.0) -> None:
    """Until the service's only deployment is COMPLETED (the emulator's rollout takes about 2 s)."""
    ecs = aws("ecs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services = ecs.describe_services(cluster=name, services=[name])["services"]
        deployments = services[0]["deployments"] if services else []
        if len(deployments) == 1 and deployments[0].get("rolloutState") == "COMPLETED":
            return
        time.sleep(0.5)
    raise Failed(f"service {name} did not reach a steady state in {timeout:.0f} s")


def registry_bytes_since(log_offset: int, manifest_digest: str) -> int:
    """Bytes that reached the registry since LOG_OFFSET of its log, read from the registry itself (not from
    cargo-ecs's report): every blob PUT (its stored size) plus the manifest."""
    state = Path(os.environ["CARGO_ECS_STACK_DIR"])
    with open(state / "registry.log", "rb") as f:
        f.seek(log_offset)
        text = f.read().decode(errors="replace")
    digests = set(re.findall(r'"PUT /v2/[^ ]+/blobs/uploads/[^ ]*digest=sha256%3A([0-9a-f]{64})', text))
    digests.add(manifest_digest.removeprefix("sha256:"))
    blobs = state / "registry" / "data" / "docker" / "registry" / "v2" / "blobs" / "sha256"
    return sum((blobs / d[:2] / d / "data").stat().st_size for d in digests)


def registry_log_size() -> int:
    return (Path(os.environ["CARGO_ECS_STACK_DIR"]) / "registry.log").stat().st_size


# --------------------------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def row(
    pid: str, figure: str, ours: float, unit: str, peer: str, theirs: float | None, *,
    ratio: float | None = None, goal: str = "", verdict: str = "info", **extra: Any,
) -> dict[str, Any]:
    if ratio is None and theirs:
        ratio = ours / theirs
    return {
        "id": pid, "figure": figure, "cargo-ecs": ours, "unit": unit, "peer": peer, "peer-value": theirs,
        "ratio": ratio, "goal": goal, "verdict": verdict, **extra,
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "B":
        return f"{value / 1000:,.1f} kB" if value < 10_000_000 else f"{value / 1_000_000:,.1f} MB"
    if unit == "calls":
        return f"{value:g}"
    return f"{value:g} {unit}"


def table(doc: dict[str, Any]) -> str:
    lines = [
        f"cargo-ecs {doc['profile']} build, {doc['date']}, {doc['machine']}; crate {doc['crate']} "
        f"(release profile); median of {doc['repeat']}; load average {doc['load'][0]:.1f} at the start, "
        f"{doc['load'][1]:.1f} at the end",
        "",
        "| | Figure | cargo-ecs | Against | Peer | Ratio | Goal | |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["results"]:
        ours = r.get("display") or fmt(r["cargo-ecs"], r["unit"])
        theirs = r.get("peer-display") or fmt(r["peer-value"], r["unit"])
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}×"
        lines.append(
            f"| {r['id']} | {r['figure']} | {ours} | {r['peer']} | {theirs} | {ratio} | {r['goal'] or '-'} "
            f"| {r['verdict']} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# the five figures
# --------------------------------------------------------------------------------------------------------------


def bench_p4(crate: Crate, work: Path, repeat: int) -> tuple[list[dict[str, Any]], Path]:
    """ARM64 cross build (`cargo ecs build`: compile + image) vs native x86_64 `cargo build --release`."""

    def pair(i: int, cross_dir: Path, native_dir: Path, cross: list[float], native: list[float]) -> None:
        # Alternate which goes first, so neither always gets the warmer caches.
        builds = [lambda: cross.append(crate.ecs(["build"], cross_dir)[0]),
                  lambda: native.append(crate.cargo_build(native_dir))]
        for build in builds if i % 2 == 0 else reversed(builds):
            build()

    clean_cross, clean_native = [], []
    for i in range(repeat):
        cross_dir, native_dir = work / f"target-cross-{i}", work / f"target-native-{i}"
        for d in (cross_dir, native_dir):
            shutil.rmtree(d, ignore_errors=True)
        pair(i, cross_dir, native_dir, clean_cross, clean_native)
        log(f"P4 clean #{i + 1}: cross {clean_cross[-1]:.2f} s, native {clean_native[-1]:.2f} s")
    cross_dir, native_dir = work / "target-cross-0", work / "target-native-0"
    for i in range(1, repeat):
        shutil.rmtree(work / f"target-cross-{i}", ignore_errors=True)
        shutil.rmtree(work / f"target-native-{i}", ignore_errors=True)
    inc_cross, inc_native = [], []
    for i in range(repeat):
        crate.edit()
        pair(i, cross_dir, native_dir, inc_cross, inc_native)
        log(f"P4 incremental #{i + 1}: cross {inc_cross[-1]:.2f} s, native {inc_native[-1]:.2f} s")
    shutil.rmtree(native_dir, ignore_errors=True)
    rows = []
    for label, cross, native in (("clean", clean_cross, clean_native), ("incremental", inc_cross, inc_native)):
        c, n = median(cross), median(native)
        rows.append(row(
            "P4", f"ARM64 cross build + image, {label} (`cargo ecs build`)", c, "s",
            "native x86_64 `cargo build --release`", n, goal="≤ 1.3×", verdict=verdict(c / n <= GOALS["P4"]),
            samples={"cargo-ecs": cross, "peer": native},
        ))
    return rows, cross_dir


def bench_p5(crate: Crate, target: Path, run_id: str, zone: str, repeat: int, venv_bin: Path) -> tuple[dict, str]:
    """First full deploy after compile: `cargo ecs deploy --no-wait` vs the seed's steps in the AWS CLI."""
    crate.ecs(["build"], target)  # compiled before the clock starts: "after compile"
    ours, theirs, our_calls, their_calls = [], [], [], []
    first_report, first_name = None, ""
    window = CallWindow()
    cli_env = dict(os.environ, PATH=f"{venv_bin}{os.pathsep}{os.environ['PATH']}")
    for i in range(repeat):
        name = f"{run_id}-c{i}"
        window.start()
        seconds, report = crate.ecs(["deploy", "--no-wait", *settings(name, zone, f"c{i}")], target)
        our_calls.append(window.stop())
        ours.append(seconds)
        if first_report is None:
            first_report, first_name = report, name
        window.start()
        seconds, _ = run(["bash", str(SEED_SCRIPT), f"{run_id}-a{i}", zone, "8080", "/health"], env=cli_env)
        their_calls.append(window.stop())
        theirs.append(seconds)
        log(f"P5 #{i + 1}: cargo-ecs {ours[-1]:.2f} s ({our_calls[-1]['calls']} calls), "
            f"AWS CLI script {theirs[-1]:.2f} s ({their_calls[-1]['calls']} calls)")
    c, t = median(ours), median(theirs)
    r = row(
        "P5", "first full deploy after compile (`deploy --no-wait`, incl. image + push)", c, "s",
        f"AWS CLI {importlib.metadata.version('awscli')} script of the seed's steps (bench/seed_steps.sh)", t,
        goal="≤ 0.5×", verdict=verdict(c / t <= GOALS["P5"]),
        samples={"cargo-ecs": ours, "peer": theirs},
        calls={"cargo-ecs": our_calls[0], "peer": their_calls[0]},
    )
    r["display"] = f"{c:.2f} s ({our_calls[0]['calls']} calls)"
    r["peer-display"] = f"{t:.2f} s ({their_calls[0]['calls']} calls)"
    return {"row": r, "report": first_report}, first_name


def bench_p1(crate: Crate, target: Path, name: str, zone: str, repeat: int, venv_bin: Path) -> list[dict]:
    """No-op redeploy of the full stack vs ecs-deploy updating the same service without waiting."""
    wait_for_rollout(name)
    window = CallWindow()
    ours, our_calls = [], []
    for i in range(repeat):
        window.start()
        seconds, report = crate.ecs(["deploy", *settings(name, zone, "c0")], target)
        calls = window.stop()
        changed = [s for s in report["plan"]["steps"] if s["action"] != "keep"]
        if changed or calls["mutating"]:
            raise Failed(f"the redeploy of {name} was not a no-op: {changed} {calls['mutating-operations']}")
        ours.append(seconds)
        our_calls.append(calls)
        log(f"P1 cargo-ecs #{i + 1}: {seconds:.2f} s, {calls['calls']} calls, {calls['mutating']} mutating")
    theirs, their_calls = [], []
    env = dict(os.environ)
    for i in range(repeat):
        window.start()
        seconds, _ = run(
            [str(venv_bin / "ecs"), "deploy", name, name, "--timeout", "-1", "--no-deregister"], env=env
        )
        calls = window.stop()
        theirs.append(seconds)
        their_calls.append(calls)
        log(f"P1 ecs-deploy #{i + 1}: {seconds:.2f} s, {calls['calls']} calls, {calls['mutating']} mutating")
    c, t = median(ours), median(theirs)
    peer = f"ecs-deploy {importlib.metadata.version('ecs-deploy')} `deploy --timeout -1 --no-deregister`"
    return [
        row("P1", "no-op redeploy of the full stack", c, "s", peer, t,
            goal="≤ 1.0×", verdict=verdict(c / t <= GOALS["P1"]), samples={"cargo-ecs": ours, "peer": theirs},
            calls={"cargo-ecs": our_calls[0], "peer": their_calls[0]}),
        row("P1", "API calls (mutating) of that redeploy", our_calls[0]["calls"], "calls", peer,
            their_calls[0]["calls"], ratio=None,
            display=f"{our_calls[0]['calls']} ({our_calls[0]['mutating']})",
            **{"peer-display": f"{their_calls[0]['calls']} ({their_calls[0]['mutating']})"}),
    ]


def bench_p2(crate: Crate, target: Path, name: str, repeat: int) -> dict[str, Any]:
    """Bytes pushed after a one-line code change vs the compressed binary layer."""
    pushed, layers, reported = [], [], []
    for i in range(repeat):
        crate.edit()
        offset = registry_log_size()
        _, report = crate.ecs(["push", "--set", f"service={name}", "--set", f"repository={name}"], target)
        measured = registry_bytes_since(offset, report["digest"])
        pushed.append(measured)
        reported.append(report["push"]["bytes-uploaded"])
        layers.append(report["layers"][-1][1])
        log(f"P2 #{i + 1}: {measured} B reached the registry ({report['push']['blobs-uploaded']} blobs, "
            f"{report['push']['bytes-uploaded']} B reported), binary layer {layers[-1]} B")
    p, layer = median(pushed), median(layers)
    return row(
        "P2", "bytes pushed after a one-line code change", p, "B", "its compressed binary layer", layer,
        goal="≤ 1.1×", verdict=verdict(p / layer <= GOALS["P2"]),
        samples={"cargo-ecs": pushed, "peer": layers, "reported-by-cargo-ecs": reported},
    )


def bench_p3(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Image size (compressed layers, as registries report it) vs the stripped binary, and vs Debian-slim."""
    pushed = report["pushed"]
    image, binary = pushed["image-size"], pushed["binary-size"]
    binary_layer = pushed["layers"][-1][1]
    debian = DEBIAN_SLIM_ARM64_BYTES + binary_layer
    over = image - binary
    sign = "+" if over >= 0 else "−"
    return [
        row("P3", "image size (compressed layers)", image, "B", "the stripped binary", binary,
            goal="≤ binary + 0.5 MB", verdict=verdict(over <= GOALS["P3"]), over_binary=over,
            display=f"{fmt(image, 'B')} (binary {sign} {fmt(abs(over), 'B')})"),
        row("P3", "image size vs a multi-stage Debian-slim image", image, "B",
            "debian:bookworm-slim (documented, not measured) + the same binary layer", debian,
            source=DEBIAN_SLIM_SOURCE),
    ]


# --------------------------------------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores {platform.machine()}" + (f" ({model})" if model else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, type=Path, help="the cargo-ecs binary to measure")
    parser.add_argument("--profile", required=True, help="the cargo profile that binary was built with")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is shown")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    parser.add_argument("--crate", type=Path, default=ROOT / "tests" / "fixtures" / "web",
                        help="the package to build and deploy (needs [package.metadata.ecs])")
    parser.add_argument("--only", default="P1,P2,P3,P4,P5", help="comma-separated subset, e.g. P1,P5")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (crate copy, target dirs)")
    args = parser.parse_args()
    only = {p.strip().upper() for p in args.only.split(",")}
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    state = Path(os.environ["CARGO_ECS_STACK_DIR"])
    venv_bin = Path(sys.executable).parent
    run_id = "bench-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
    zone = f"{run_id}.example.com"
    work = state / "bench" / run_id
    work.mkdir(parents=True)
    log(f"run {run_id} in {work}; cargo-ecs {args.bin} ({args.profile}); crate {args.crate}")
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    try:
        crate = Crate(args.crate.resolve(), work, args.bin.resolve())
        run([os.environ["CARGO_ECS_STACK_PYTHON"], str(DOMAIN_SCRIPT), zone])  # the user's zone and certificate
        aws("ec2").describe_vpcs()  # the emulator makes the default VPC on first use: not part of any figure

        results: list[dict[str, Any]] = []
        # A build of the measured crate takes a few tenths of a second, where the other figures take seconds:
        # P4 takes three times the samples, so that its median is as steady as theirs.
        p4_rows, target = bench_p4(crate, work, 3 * args.repeat) if "P4" in only else ([], work / "target-cross-0")
        p5, name = bench_p5(crate, target, run_id, zone, args.repeat, venv_bin)
        p1 = bench_p1(crate, target, name, zone, args.repeat, venv_bin) if "P1" in only else []
        p2 = [bench_p2(crate, target, name, args.repeat)] if "P2" in only else []
        p3 = bench_p3(p5["report"]) if "P3" in only else []
        results = p1 + p2 + p3 + p4_rows + ([p5["row"]] if "P5" in only else [])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    doc = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "profile": args.profile,
        "crate": os.path.relpath(args.crate.resolve(), ROOT),
        "repeat": args.repeat,
        "run": run_id,
        "seconds": round(time.monotonic() - started, 1),
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "peers": {
            "ecs-deploy": importlib.metadata.version("ecs-deploy"),
            "awscli": importlib.metadata.version("awscli"),
        },
        "results": results,
    }
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(table(doc))
        missed = [r for r in results if r["verdict"] == "MISS"]
        print(f"\n{len(results) - len(missed) - sum(r['verdict'] == 'info' for r in results)} goals met, "
              f"{len(missed)} missed; {doc['seconds']} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as err:
        log(f"ERROR: {err}")
        sys.exit(1)
