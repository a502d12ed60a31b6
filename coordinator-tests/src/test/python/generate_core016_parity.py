#!/usr/bin/env python3
"""What Megatron-LM core_v0.16.1's own coordinator sends its peers on a random walk of messages.

Writes OUT_DIR/core016-parity.jsonl (OUT_DIR: coordinator-tests/src/test/resources/interop): the
interop driver `core016_parity.py`'s walk against core_v0.16.1's DataParallelInferenceCoordinator,
imported from MEGATRON_SOURCE and run unchanged on a thread of its own over real ZMQ sockets on
127.0.0.1 (its host name is made 127.0.0.1, where it binds): three engines, round robin (its only
rule) and its NullTokenizer of 2^20 ids. `InteropCoreV016ParityTest` runs the same walk against
`--engine-wire 0.16` and compares every frame.

Usage, from the repository root (PY with torch, numpy, pyzmq, msgpack):
  git -C MEGATRON_GIT archive core_v0.16.1 megatron | tar -x -C MEGATRON_SOURCE
  PY coordinator-tests/src/test/python/generate_core016_parity.py MEGATRON_SOURCE \\
      coordinator-tests/src/test/resources/interop [SEED]
The output is the same on every run (seed 1 unless SEED is given; core016_parity.py takes the
same --seed).
"""
import json
import logging
import os
import socket
import sys
import threading
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "resources", "interop"))

import core016_parity  # noqa: E402


def megatron(source):
    """Starts core_v0.16's coordinator on a thread; returns its endpoint and an event set once
    it has taken its engines' registrations."""
    sys.path.insert(0, source)
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    socket.gethostname = lambda: "127.0.0.1"  # it binds to tcp://<host name>
    from megatron.core.inference.data_parallel_inference_coordinator import (
        DataParallelInferenceCoordinator,
    )
    from megatron.core.tokenizers import MegatronTokenizer

    endpoint = []
    ready = threading.Event()
    registered = threading.Event()

    class Pipe:  # the constructor sends its endpoint to its parent
        def send(self, address):
            endpoint.append(address)
            ready.set()

        def close(self):
            pass

    def loop():
        tokenizer = MegatronTokenizer.from_pretrained(
            metadata_path={"library": "null"}, vocab_size=1 << 20
        )
        coordinator = DataParallelInferenceCoordinator(Pipe(), core016_parity.ENGINES, tokenizer)
        registered.set()
        coordinator.start()

    threading.Thread(target=loop, daemon=True).start()
    if not ready.wait(60):
        sys.exit("Megatron's coordinator gave no endpoint")
    return endpoint[0], registered


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and not sys.argv[3].isdigit()):
        sys.exit("usage: generate_core016_parity.py MEGATRON_SOURCE OUT_DIR [SEED]")
    source, out = sys.argv[1:3]
    seed = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    endpoint, registered = megatron(source)
    records = core016_parity.walk(endpoint, seed, 120, lambda: registered.wait(60))
    with open(os.path.join(out, "core016-parity.jsonl"), "w") as f:
        for record in records:
            f.write(json.dumps(record, separators=(",", ":")) + "\n")
    print("core016-parity.jsonl", len(records), "steps", file=sys.stderr)
    os._exit(0)


if __name__ == "__main__":
    main()
