#!/usr/bin/env python3
"""Replays every case of a parity directory through `./coordinator route-replay` and compares
each decision's engine with the one recorded there (by Megatron's own coordinator).

For fixtures beyond the committed ones, for instance a campaign of random cases:
  PY coordinator-routing/src/test/python/generate_megatron_main_parity.py DIR SRC --random SEED
  python3 coordinator-routing/src/test/python/check_route_replay.py DIR [--megatron 0.19]
Prints one line per case and a total; exits 1 at the first case whose decisions differ, naming
the request.
"""
import gzip
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")


def main():
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--megatron"):
        sys.exit("usage: check_route_replay.py DIR [--megatron RELEASE]")
    folder = sys.argv[1]
    release = sys.argv[3] if len(sys.argv) == 4 else "0.19"
    total = 0
    with open(os.path.join(folder, "cases.properties")) as f:
        cases = [line.strip().split("=", 1) for line in f if line.strip()[:1] not in ("#", "")]
    for name, settings in cases:
        policy, ranks, block_size, alpha, max_requests = settings.split(",")
        with gzip.open(os.path.join(folder, f"{name}-trace.jsonl.gz")) as f:
            trace = f.read()
        with gzip.open(os.path.join(folder, f"{name}-decisions.jsonl.gz"), "rt") as f:
            expected = [json.loads(line) for line in f]
        out = subprocess.run(
            [os.path.join(ROOT, "coordinator"), "route-replay", "--megatron", release,
             "--policy", policy, "--ranks", ranks, "--block-size", block_size, "--alpha", alpha,
             "--max-requests", max_requests],
            input=trace, capture_output=True, check=True).stdout.decode().splitlines()
        got = [json.loads(line) for line in out]
        if len(got) != len(expected):
            sys.exit(f"{name}: {len(got)} decisions, Megatron made {len(expected)}")
        for g, e in zip(got, expected):
            if (g["id"], g["rank"]) != (e["id"], e["rank"]):
                sys.exit(f"{name}: request {e['id']} went to engine {g['rank']},"
                         f" Megatron's to {e['rank']}")
        total += len(got)
        print(f"{name} ({settings}): {len(got)} decisions, all the same", flush=True)
    print(f"{len(cases)} cases, {total} decisions, all the same")


if __name__ == "__main__":
    main()
