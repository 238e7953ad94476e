"""Times `cargo ecs deploy --no-wait` of N services of one workspace (sharing a cluster and its load balancer)
against one service of the same workspace, both after compile and both creating their stacks from nothing, and
prints the two side by side with their ratio (goal: at most 2x). Run through scripts/bench-services.

Each run uses fresh names (an environment of its own), so every deploy creates its whole stack; the binaries
were compiled by a warm-up `cargo ecs build --workspace`, so cargo finds them fresh. The AWS calls each deploy
made are counted from the emulator's call log.

The emulator answers a call in a few milliseconds of its own CPU, where AWS takes tens of milliseconds of network
and service time; with `--latency S` (default 0.05) the pair is measured a second time through
tests/stack/fault_proxy.py delaying every answer by S seconds, which is what concurrency buys on AWS.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests/fixtures/shop/server/main.rs"


def workspace(directory: Path, services: int, envs: list[str]) -> list[str]:
    names = [f"svc{i:02}" for i in range(services)]
    (directory / "server").mkdir(parents=True)
    shutil.copy(SERVER, directory / "server/main.rs")
    manifest = [
        "[workspace]", 'resolver = "3"', f"members = {json.dumps(names)}", "",
        "[workspace.metadata.ecs]", "port = 8080", 'health-check-path = "/health"', "assign-public-ip = true", "",
        "[profile.release]", 'opt-level = "z"', 'panic = "abort"', "",
    ]
    manifest += [f"[workspace.metadata.ecs.environments.{env}]" for env in envs]
    (directory / "Cargo.toml").write_text("\n".join(manifest) + "\n")
    for name in names:
        (directory / name).mkdir()
        (directory / name / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2024"\npublish = false\n\n'
            f'[[bin]]\nname = "{name}"\npath = "../server/main.rs"\n\n'
            f'[package.metadata.ecs.load-balancer]\npath = "/{name}"\n'
        )
    return names


def calls(reset: bool = False) -> list:
    """The emulator's call log since the last reset (see tests/stack/calls.py), or reset it."""
    endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    if reset:
        request = urllib.request.Request(endpoint + "/_shim/calls/reset", data=b"{}", method="POST")
        urllib.request.urlopen(request, timeout=10).read()
        return []
    return json.loads(urllib.request.urlopen(endpoint + "/_shim/calls", timeout=10).read())["calls"]


def run(binary: str, directory: Path, args: list[str], target: Path, endpoint: str | None = None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARGO_ECS_") or k.startswith("CARGO_ECS_STACK_")
           or k == "CARGO_ECS_REGISTRY_ENDPOINT"}
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    env["CARGO_TARGET_DIR"] = str(target)
    start = time.perf_counter()
    done = subprocess.run([binary, "ecs", *args], cwd=directory, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"cargo ecs {' '.join(args)} failed:\n{done.stderr}\n{done.stdout}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--profile", default="?", help="the cargo profile the binary was built with (for the header)")
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every AWS answer (0: skip)")
    args = parser.parse_args()
    stamp = str(int(time.time()))[-6:]
    rows = [measure(args, stamp, "emulator as is", None)]
    if args.latency > 0:
        proxy = subprocess.Popen(
            [sys.executable, "-B", str(ROOT / "tests/stack/fault_proxy.py"), "--port", "0", "--slow", "1",
             "--delay", str(args.latency), "--upstream", os.environ["AWS_ENDPOINT_URL"]],
            stdout=subprocess.PIPE, text=True)
        try:
            endpoint = proxy_endpoint(proxy)
            rows.append(measure(args, stamp + "l", f"+{args.latency * 1000:.0f} ms per AWS answer", endpoint))
        finally:
            proxy.terminate()
            proxy.wait()
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"first deploy after compile, {args.services} services (--workspace) vs 1 (-p), median of {args.runs} runs,"
          f" fresh stacks each time; cargo-ecs {args.profile} build")
    print(f"{'AWS':26}{'N services':>11}{'1 service':>11}{'ratio':>8}{'goal':>7}  {'calls N/1':>10}")
    for row in rows:
        verdict = "PASS" if row["ratio"] <= row["goal"] else "MISS"
        print(f"{row['aws']:26}{row['many-seconds']:>10.2f}s{row['one-seconds']:>10.2f}s{row['ratio']:>7.2f}x"
              f"{'<=2.0x':>7}  {row['many-api-calls']:>5}/{row['one-api-calls']:<4} {verdict}")


def proxy_endpoint(proxy: subprocess.Popen) -> str:
    """The proxy's URL, from the first line it prints."""
    line = proxy.stdout.readline() if proxy.stdout else ""
    for word in line.split():
        if word.startswith("http://127.0.0.1:"):
            return word.rstrip(".,")
    raise SystemExit(f"fault_proxy.py did not say where it listens: {line!r}")


def measure(args, stamp: str, label: str, endpoint: str | None) -> dict:
    envs = [f"b{stamp}r{r}{kind}" for r in range(args.runs) for kind in ("n", "o")]
    with tempfile.TemporaryDirectory(prefix="cargo-ecs-bench-") as tmp:
        directory = Path(tmp)
        names = workspace(directory, args.services, envs + ["warm"])
        target = ROOT / "target/fixtures"
        cluster = f"--set=cluster=bench{stamp}"
        # Warm-up: compile every binary once; the deploys below find them fresh.
        run(args.binary, directory, ["--workspace", "--env", "warm", "build"], target)
        many, one, many_calls, one_calls = [], [], [], []
        for r in range(args.runs):
            calls(reset=True)
            many.append(run(args.binary, directory, ["--workspace", "--env", envs[2 * r], "deploy", "--no-wait",
                                                     cluster + f"r{r}n"], target, endpoint))
            many_calls.append(len(calls()))
            calls(reset=True)
            one.append(run(args.binary, directory, ["-p", names[0], "--env", envs[2 * r + 1], "deploy", "--no-wait",
                                                    cluster + f"r{r}o"], target, endpoint))
            one_calls.append(len(calls()))
    m, o = statistics.median(many), statistics.median(one)
    return {
        "aws": label, "services": args.services, "runs": args.runs,
        "many-seconds": round(m, 2), "one-seconds": round(o, 2), "ratio": round(m / o, 2), "goal": 2.0,
        "many-api-calls": int(statistics.median(many_calls)), "one-api-calls": int(statistics.median(one_calls)),
        "many-all": [round(x, 2) for x in many], "one-all": [round(x, 2) for x in one],
    }


if __name__ == "__main__":
    main()
