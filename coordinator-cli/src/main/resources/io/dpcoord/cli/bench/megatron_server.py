"""Megatron-LM's own DataParallelInferenceCoordinator as the load benchmark's server.

Usage: python3 megatron_server.py MEGATRON_SOURCE ROUTING ENGINES MAX_REQUESTS BLOCK_SIZE

MEGATRON_SOURCE is a Megatron-LM source tree (the directory holding megatron/); its coordinator is
imported from it and run unchanged: longest_prefix at alpha 0.5 with prefix caching when ROUTING
is "true", prefix caching off (fewest pending requests) otherwise, ENGINES data parallel ranks,
MAX_REQUESTS and BLOCK_SIZE as the coordinator's. Its tokenizer, which detokenizes every finished
record, is Megatron's NullTokenizer (ids written as decimal numbers): the cheapest it has. The
Python it runs on needs torch, numpy, pyzmq and msgpack.

The coordinator runs on a thread of its own (the loop); this, the main thread, talks to the
benchmark as ServerProcess's Java server does: it prints "endpoint <endpoint>", then answers one
line per command on stdin: "engines" ("engines ok" once the coordinator has its ENGINES ranks, or
"engines missing" after 30 s), "cpu" ("cpu LOOP IO 0 0 0 PROCESS": the loop thread's CPU time,
libzmq's background threads' (ZMQbg/*), and the whole process's, in nanoseconds; Python has no
separate garbage collector or compiler threads); "stop" or the end of stdin ends the process.
If the coordinator raises (a release whose constructor takes other arguments, or a failed loop),
its traceback goes to stderr and the process ends with status 1.
"""

import logging
import os
import sys
import threading
import time
import traceback
import warnings

ENGINE_WAIT_SECONDS = 30
NULL_VOCABULARY = 1 << 20


def io_threads_cpu_ns():
    """CPU time of libzmq's background threads (ZMQbg/IO/n, ZMQbg/Reaper), from /proc."""
    total = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
            if name.startswith("ZMQbg/"):
                with open(f"/proc/self/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # the thread ended since the listing
    return total


class EndpointPipe:
    """The coordinator sends its endpoint to its parent through a pipe; this prints it instead."""

    def send(self, endpoint):
        print("endpoint " + endpoint, flush=True)

    def close(self):
        pass


def main():
    if len(sys.argv) != 6:
        sys.exit(
            "usage: megatron_server.py MEGATRON_SOURCE ROUTING ENGINES MAX_REQUESTS BLOCK_SIZE"
        )
    source, routing, engines, max_requests, block_size = sys.argv[1:]
    routing = routing == "true"
    sys.path.insert(0, source)
    warnings.simplefilter("ignore")  # optional libraries Megatron notes it lacks
    logging.basicConfig(level=logging.ERROR)
    from megatron.core.inference.config import PrefixCachingCoordinatorPolicy
    from megatron.core.inference.data_parallel_inference_coordinator import (
        DataParallelInferenceCoordinator,
    )
    from megatron.core.tokenizers import MegatronTokenizer

    tokenizer = MegatronTokenizer.from_pretrained(
        metadata_path={"library": "null-text"}, vocab_size=NULL_VOCABULARY
    )
    started = threading.Event()
    loop_clock = []

    def loop():
        loop_clock.append(time.pthread_getcpuclockid(threading.get_ident()))
        try:
            coordinator = DataParallelInferenceCoordinator(
                EndpointPipe(),
                int(engines),
                tokenizer,
                int(max_requests),
                hostname="127.0.0.1",
                block_size_tokens=int(block_size),
                enable_prefix_caching=routing,
                prefix_caching_coordinator_policy=PrefixCachingCoordinatorPolicy.LONGEST_PREFIX,
                prefix_caching_routing_alpha=0.5,
            )
            started.set()
            coordinator.start()
        except BaseException:
            # a release whose coordinator takes other arguments, or a loop that failed: say why
            # and end, so that the benchmark sees the process end instead of waiting for it
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)

    threading.Thread(target=loop, name="coordinator-loop", daemon=True).start()
    for command in sys.stdin:
        command = command.strip()
        if command == "stop":
            break
        if command == "engines":
            ok = started.wait(ENGINE_WAIT_SECONDS)
            print("engines " + ("ok" if ok else "missing"), flush=True)
        elif command == "cpu":
            loop_ns = time.clock_gettime_ns(loop_clock[0])
            print(f"cpu {loop_ns} {io_threads_cpu_ns()} 0 0 0 {time.process_time_ns()}", flush=True)
        else:
            print("unknown command " + command, flush=True)
    sys.stdout.flush()
    os._exit(0)  # the coordinator's loop has no way to stop from another thread


if __name__ == "__main__":
    main()
