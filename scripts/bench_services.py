"""Times `cargo ecs deploy --no-wait` of N services of one workspace (sharing a cluster and its load balancer)
against one service of the same workspace, both after compile and both creating their stacks from nothing, and
prints the two side by side with their ratio (goal: at most 2x). Run through scripts/bench-services.

Each run uses fresh names (an environment of its own), so every deploy creates its whole stack; the binaries
were compiled by a warm-up `cargo ecs build --workspace`, so cargo finds them fresh. The AWS calls each deploy
made are counted from the emulator's call log.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
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


def run(binary: str, directory: Path, args: list[str], target: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARGO_ECS_") or k.startswith("CARGO_ECS_STACK_")
           or k == "CARGO_ECS_REGISTRY_ENDPOINT"}
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
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    stamp = str(int(time.time()))[-6:]
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
            many.append(run(args.binary, directory,
                            ["--workspace", "--env", envs[2 * r], "deploy", "--no-wait", cluster + f"r{r}n"], target))
            many_calls.append(len(calls()))
            calls(reset=True)
            one.append(run(args.binary, directory,
                           ["-p", names[0], "--env", envs[2 * r + 1], "deploy", "--no-wait", cluster + f"r{r}o"], target))
            one_calls.append(len(calls()))
    m, o = statistics.median(many), statistics.median(one)
    result = {
        "services": args.services, "runs": args.runs,
        "many-seconds": round(m, 2), "one-seconds": round(o, 2), "ratio": round(m / o, 2), "goal": 2.0,
        "many-api-calls": int(statistics.median(many_calls)), "one-api-calls": int(statistics.median(one_calls)),
        "many-all": [round(x, 2) for x in many], "one-all": [round(x, 2) for x in one],
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    verdict = "PASS" if m / o <= 2.0 else "MISS"
    print(f"first deploy after compile, median of {args.runs} runs, fresh stacks each time (local stack)")
    print(f"{'':28}{'seconds':>9}{'AWS calls':>11}")
    print(f"{f'{args.services} services (--workspace)':28}{m:>9.2f}{result['many-api-calls']:>11}")
    print(f"{'1 service (-p)':28}{o:>9.2f}{result['one-api-calls']:>11}")
    print(f"ratio {m / o:.2f}x (goal <= 2.0x): {verdict}")


if __name__ == "__main__":
    main()
