#!/usr/bin/env python3
"""What Megatron-LM main's own coordinator sends its engines for 300 control signals.

Writes OUT (coordinator-tests/src/test/resources/interop/control-parity.jsonl): the interop
driver `control_parity.py` run in `record` mode against Megatron's DataParallelInferenceCoordinator
(main, d98e8a64), imported from MEGATRON_SOURCE and run unchanged on a thread of its own over real
ZMQ sockets on 127.0.0.1 (two engines, its NullTokenizer). `InteropControlParityTest` replays the
same signals against this coordinator in `check` mode: every engine must receive exactly what
Megatron's engines received at every step.

Usage, from the repository root (PY with torch, numpy, pyzmq, msgpack):
  PY coordinator-tests/src/test/python/generate_control_parity.py MEGATRON_SOURCE \\
      coordinator-tests/src/test/resources/interop/control-parity.jsonl
The output is the same on every run (a fixed seed).
"""
import json
import logging
import os
import sys
import threading
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "resources", "interop"))

import control_parity  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: generate_control_parity.py MEGATRON_SOURCE OUT")
    source, out = sys.argv[1:]
    sys.path.insert(0, source)
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    from megatron.core.inference.data_parallel_inference_coordinator import (
        DataParallelInferenceCoordinator,
    )
    from megatron.core.tokenizers import MegatronTokenizer

    endpoint = []
    ready = threading.Event()

    class Pipe:  # the constructor sends its endpoint to its parent
        def send(self, address):
            endpoint.append(address)
            ready.set()

        def close(self):
            pass

    def loop():
        tokenizer = MegatronTokenizer.from_pretrained(
            metadata_path={"library": "null-text"}, vocab_size=1 << 20
        )
        DataParallelInferenceCoordinator(Pipe(), 2, tokenizer, 16, hostname="127.0.0.1").start()

    threading.Thread(target=loop, daemon=True).start()
    if not ready.wait(60):
        sys.exit("Megatron's coordinator gave no endpoint")
    steps = control_parity.signals(1)
    received = control_parity.run(endpoint[0], steps, 60)
    with open(out, "w") as f:
        for message, got in zip(steps, received):
            f.write(json.dumps({"send": message, "engines": got}, separators=(",", ":")) + "\n")
    print("steps", len(received), "broadcast", sum(1 for g in received if g[0]),
          "rejected", sum(1 for g in received if not g[0]), file=sys.stderr)
    os._exit(0)  # the coordinator's loop has no way to stop from another thread


if __name__ == "__main__":
    main()
