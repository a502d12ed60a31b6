#!/usr/bin/env python3
"""What Megatron-LM main's own coordinator sends its peers on two random walks of messages.

Writes, under OUT_DIR (coordinator-tests/src/test/resources/interop), wire-parity.jsonl and
control-parity.jsonl: the interop driver `wire_parity.py`'s walks (all messages; control signals
only, `--signals`) against Megatron's DataParallelInferenceCoordinator (main, d98e8a64), imported
from MEGATRON_SOURCE and run unchanged on a thread of its own over real ZMQ sockets on 127.0.0.1:
two engines, longest_prefix with prefix caching (block size 16, alpha 0.5, max_requests 16) and
its NullTokenizer of 2^20 ids. `InteropWireParityTest` runs the same walks against this
coordinator, configured alike, and compares every step.

Usage, from the repository root (PY with torch, numpy, pyzmq, msgpack):
  PY coordinator-tests/src/test/python/generate_wire_parity.py MEGATRON_SOURCE \\
      coordinator-tests/src/test/resources/interop
The output is the same on every run (a fixed seed). With SEED, other walks (for a campaign
beyond the recorded ones; wire_parity.py takes the same --seed).
"""
import json
import logging
import os
import sys
import threading
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "resources", "interop"))

import wire_parity  # noqa: E402


def megatron(source):
    """Starts Megatron's coordinator on a thread of its own; returns its endpoint."""
    sys.path.insert(0, source)
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    from megatron.core.inference.config import PrefixCachingCoordinatorPolicy
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
        DataParallelInferenceCoordinator(
            Pipe(),
            2,
            tokenizer,
            16,
            hostname="127.0.0.1",
            block_size_tokens=16,
            enable_prefix_caching=True,
            prefix_caching_coordinator_policy=PrefixCachingCoordinatorPolicy.LONGEST_PREFIX,
            prefix_caching_routing_alpha=0.5,
        ).start()

    threading.Thread(target=loop, daemon=True).start()
    if not ready.wait(60):
        sys.exit("Megatron's coordinator gave no endpoint")
    return endpoint[0]


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and not sys.argv[3].isdigit()):
        sys.exit("usage: generate_wire_parity.py MEGATRON_SOURCE OUT_DIR [SEED]")
    source, out = sys.argv[1:3]
    seed = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    for name, signals in (("wire-parity.jsonl", False), ("control-parity.jsonl", True)):
        records = wire_parity.walk(megatron(source), seed, 120, signals=signals)
        with open(os.path.join(out, name), "w") as f:
            for record in records:
                f.write(json.dumps(record, separators=(",", ":")) + "\n")
        print(name, len(records), "steps", file=sys.stderr)
    os._exit(0)  # the coordinators' loops have no way to stop from another thread


if __name__ == "__main__":
    main()
