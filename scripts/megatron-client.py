#!/usr/bin/env python3
"""Megatron-LM's own InferenceClient against a running coordinator: a check by hand.

Usage: PY scripts/megatron-client.py MEGATRON_SOURCE ENDPOINT [--raw]

MEGATRON_SOURCE is a Megatron-LM source tree (the directory holding megatron/) of any release
with an InferenceClient (core_v0.18.x and later; for instance `git -C MEGATRON_GIT archive TAG
megatron | tar -x -C DIR`); PY a Python with its requirements (torch, numpy, pyzmq, msgpack).
ENDPOINT is the coordinator's, with engines registered, e.g. from

  ./coordinator serve --port 0 --engines 2
  ./coordinator engine --connect ENDPOINT --rank 0 --plain-records   (and --rank 1)

(--plain-records: the simulated engines' two extra keys would make a deserializing client
fail.) The client's own methods are used, unchanged: two clients, one returning raw dicts and
one deserializing records into its release's DynamicInferenceRequest (--raw: raw dicts only, for
core_v0.19.0, whose DynamicInferenceRequest rejects main's records), send 200 token prompts and
await every reply; then, where the release has them, a streaming request (partial replies, then
the final one), the control signals (PAUSE, SUSPEND, RESUME, UNPAUSE, SET_GENERATION_EPOCH) and a
request after them, an abort of a request in flight; then PAUSE, STOP and SHUTDOWN, which end the
engines and the coordinator. Prints what came back; exits non-zero on the first failure.
"""
import asyncio
import sys
import warnings

TIMEOUT = 60


async def check(source, endpoint, raw_only):
    sys.path.insert(0, source)
    warnings.simplefilter("ignore")
    from megatron.core.inference.inference_client import InferenceClient
    from megatron.core.inference.sampling_params import SamplingParams

    def params(n):
        return SamplingParams(num_tokens_to_generate=n)

    def status(reply):
        s = reply["status"] if isinstance(reply, dict) else reply.status
        return getattr(s, "name", s)

    raw = InferenceClient(endpoint)
    des = raw if raw_only else InferenceClient(endpoint, deserialize=True)
    for c in {raw, des}:
        c.start()
    prompts = [[1 + i % 7] * 48 + list(range(i, i + 20)) for i in range(200)]
    futures = [raw.add_request(p, params(8)) for p in prompts[:100]]
    futures += [des.add_request(p, params(8)) for p in prompts[100:]]
    replies = await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT)
    kinds = sorted({type(r).__name__ for r in replies})
    statuses = sorted({status(r) for r in replies})
    print(f"200 requests: {len(replies)} replies, as {kinds}, status {statuses}")
    if statuses != ["COMPLETED"]:
        sys.exit("a request did not complete")

    if hasattr(des, "add_request_streaming"):
        stream = des.add_request_streaming([5] * 40, params(6))
        items = [next(iter(item)) async for item in stream]
        print(f"streaming: {items.count('partial')} partial replies, then {items[-1]}")
        if items[-1] != "final" or items.count("final") != 1:
            sys.exit("the stream did not end with one final reply")

    des.pause_engines()
    des.suspend_engines()
    des.resume_engines()
    des.unpause_engines()
    des.set_generation_epoch(3)
    reply = await asyncio.wait_for(des.add_request([9] * 33, params(4)), TIMEOUT)
    print(f"after PAUSE, SUSPEND, RESUME, UNPAUSE, SET_GENERATION_EPOCH: {status(reply)}")

    if hasattr(raw, "abort_request"):
        raw.add_request([7] * 40, params(100_000))
        raw.abort_request(raw.next_request_id - 1)
        print("aborted a request in flight (the engines' summaries count it)")
    await asyncio.sleep(0.5)
    des.pause_engines()
    des.stop_engines()
    await asyncio.sleep(0.5)
    des.shutdown_coordinator()
    await asyncio.sleep(0.5)
    for c in {raw, des}:
        c.stop()
    print("STOP and SHUTDOWN sent")


def main():
    args = sys.argv[1:]
    if args in (["-h"], ["--help"]):
        print(__doc__)
        return
    if len(args) not in (2, 3) or args[2:] not in ([], ["--raw"]):
        sys.exit("usage: megatron-client.py MEGATRON_SOURCE ENDPOINT [--raw]")
    asyncio.run(check(args[0], args[1], len(args) == 3))


if __name__ == "__main__":
    main()
