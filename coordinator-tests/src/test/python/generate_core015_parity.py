#!/usr/bin/env python3
"""What Megatron-LM core_v0.15.3's own coordinator sends its peers on a random walk of messages.

Writes OUT_DIR/core015-parity.jsonl (OUT_DIR: coordinator-tests/src/test/resources/interop): the
interop driver `core015_parity.py`'s walk against core_v0.15.3's DataParallelInferenceCoordinator,
imported from MEGATRON_SOURCE and run unchanged on a thread of its own over real ZMQ sockets:
three engines, round robin (its only rule), and core_v0.15.3's own NullTokenizer of 2^20 ids
(`MegatronTokenizer.from_pretrained(metadata_path={"library": "null"}, vocab_size=2**20)`, as
`--tokenizer-type NullTokenizer --vocab-size 1048576` builds it: tokenize is
`[int(x) for x in text.split(' ')]`, detokenize `' '.join(str(x) for x in ids)`, eod 2^20). The
only change: that coordinator binds tcp://0.0.0.0:<port>; here zmq's bind is wrapped so that it
binds 127.0.0.1 (on an ephemeral port) instead. Before writing, the walk checks that every frame
the coordinator sent is the one megatron_wire.Request015 predicts (what core015.py's engines rely
on). `InteropCoreV015Test` runs the same walk against `--engine-wire 0.15` and compares every frame.

Usage, from the repository root (core_v0.15.0 to core_v0.15.3 have the same coordinator, client,
engine and tokenizer code):
  git -C MEGATRON_GIT archive core_v0.15.3 megatron | tar -x -C MEGATRON_SOURCE
  TORCH_CUDA_ARCH_LIST=8.0 PY coordinator-tests/src/test/python/generate_core015_parity.py \\
      MEGATRON_SOURCE coordinator-tests/src/test/resources/interop [SEED]
PY is a Python 3.11 with torch, numpy, pyzmq and msgpack; no GPU is needed. One made offline from
wheels in WHEELS:
  python3 -m venv --system-site-packages VENV
  VENV/bin/pip install --no-deps WHEELS/torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl
  VENV/bin/pip install --no-deps WHEELS/nvidia_cudnn_cu13-*.whl WHEELS/nvidia_cufile-*.whl \\
      WHEELS/nvidia_nccl_cu13-*.whl WHEELS/nvidia_cusparse-*.whl WHEELS/nvidia_cufft-*.whl \\
      WHEELS/nvidia_cusparselt_cu13-*.whl WHEELS/nvidia_curand-*.whl WHEELS/nvidia_cublas-*.whl \\
      WHEELS/nvidia_cuda_nvrtc-*.whl WHEELS/nvidia_nvshmem_cu13-*.whl WHEELS/nvidia_nvjitlink-*.whl
  VENV/bin/pip install typing_extensions sympy networkx jinja2 fsspec filelock numpy packaging \\
      pyzmq msgpack
(`import torch` names each missing nvidia library in turn; TORCH_CUDA_ARCH_LIST=8.0 because
Megatron's imports ask torch for CUDA architecture flags, which fails on a machine without a GPU.)
The output is the same on every run (seed 1 unless SEED is given; core015_parity.py takes the
same --seed).
"""
import json
import logging
import os
import sys
import threading
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "resources", "interop"))

import core015_parity  # noqa: E402


def loopback_binds(zmq, endpoint):
    """Makes every tcp://0.0.0.0 bind a 127.0.0.1 one; the first bound endpoint goes to
    `endpoint`."""
    bind = zmq.Socket.bind

    def loopback(socket, address):
        if address.startswith("tcp://0.0.0.0:"):
            address = "tcp://127.0.0.1:" + address[len("tcp://0.0.0.0:"):]
        result = bind(socket, address)
        endpoint.append(socket.getsockopt_string(zmq.LAST_ENDPOINT))
        return result

    zmq.Socket.bind = loopback


def megatron(source):
    """Starts core_v0.15's coordinator on a thread; returns its endpoint and an event set once
    it has taken its engines' registrations."""
    sys.path.insert(0, source)
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    import zmq

    from megatron.core.inference.data_parallel_inference_coordinator import (
        DataParallelInferenceCoordinator,
    )
    from megatron.core.tokenizers import MegatronTokenizer

    endpoint = []
    loopback_binds(zmq, endpoint)
    registered = threading.Event()
    failed = []

    def loop():
        try:
            tokenizer = MegatronTokenizer.from_pretrained(
                metadata_path={"library": "null"}, vocab_size=1 << 20
            )
            assert tokenizer.eod == core015_parity.EOD
            # port 0: an ephemeral port (the constructor blocks until the engines registered)
            coordinator = DataParallelInferenceCoordinator(tokenizer, 0, core015_parity.ENGINES)
            registered.set()
            coordinator.start()
        except BaseException as e:  # the walk then times out; say why
            failed.append(e)
            print("Megatron's coordinator failed: %r" % (e,), file=sys.stderr, flush=True)
            raise

    threading.Thread(target=loop, daemon=True).start()
    for _ in range(600):
        if endpoint or failed:
            break
        threading.Event().wait(0.1)
    if not endpoint:
        sys.exit("Megatron's coordinator bound no endpoint")
    return endpoint[0], registered


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and not sys.argv[3].isdigit()):
        sys.exit("usage: generate_core015_parity.py MEGATRON_SOURCE OUT_DIR [SEED]")
    source, out = sys.argv[1:3]
    seed = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    endpoint, registered = megatron(source)
    records = core015_parity.walk(endpoint, seed, 120, lambda: registered.wait(60),
                                  check_predictions=True)
    with open(os.path.join(out, "core015-parity.jsonl"), "w") as f:
        for record in records:
            f.write(json.dumps(record, separators=(",", ":")) + "\n")
    print("core015-parity.jsonl", len(records), "steps", file=sys.stderr)
    os._exit(0)


if __name__ == "__main__":
    main()
