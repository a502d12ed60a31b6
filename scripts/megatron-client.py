#!/usr/bin/env python3
"""Megatron-LM's own InferenceClient against a running coordinator: a check by hand.

Usage: PY scripts/megatron-client.py MEGATRON_SOURCE ENDPOINT [--raw] [--text]

MEGATRON_SOURCE is a Megatron-LM source tree (the directory holding megatron/) of any release
with an InferenceClient (core_v0.17.x and later; for instance `git -C MEGATRON_GIT archive TAG
megatron | tar -x -C DIR`); PY a Python with its requirements (torch, numpy, pyzmq, msgpack).
ENDPOINT is the coordinator's, with engines registered, e.g. from

  ./coordinator serve --port 0 --engines 2
  ./coordinator engine --connect ENDPOINT --rank 0   (and --rank 1)

(without --extension-keys: the simulated engines' two extra keys would make a deserializing
client fail.) The client's own methods are used, unchanged: two clients, one returning raw dicts and
one deserializing records into its release's DynamicInferenceRequest (--raw: raw dicts only, for
core_v0.19.0, whose DynamicInferenceRequest rejects main's records), send 200 token prompts and
await every reply; then, where the release has them, a streaming request (partial replies, then
the final one), the control signals (PAUSE, SUSPEND, RESUME, UNPAUSE, SET_GENERATION_EPOCH) and a
request after them, an abort of a request in flight; then PAUSE, STOP and SHUTDOWN, which end the
engines and the coordinator. Prints what came back; exits non-zero on the first failure.

--text: also 20 text prompts (numbers separated by spaces, which the null tokenizer reads), whose
replies must carry a generated_text: for `serve --tokenizer null` and engines with `--tokenizer
null`.
"""
import argparse
import asyncio
import sys
import warnings

TIMEOUT = 60


async def check(source, endpoint, raw_only, text):
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

    if text:
        prompts = [" ".join(str(10 + (i * 7 + j) % 90) for j in range(40 + i)) for i in range(20)]
        replies = await asyncio.wait_for(
            asyncio.gather(*[des.add_request(p, params(5)) for p in prompts]), TIMEOUT
        )
        texts = [r["generated_text"] if isinstance(r, dict) else r.generated_text for r in replies]
        print(f"20 text prompts: status {sorted({status(r) for r in replies})}, "
              f"generated_text {texts[0]!r}, ...")
        if not all(isinstance(t, str) and t for t in texts):
            sys.exit("a text reply has no generated_text")

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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", metavar="MEGATRON_SOURCE")
    parser.add_argument("endpoint", metavar="ENDPOINT")
    parser.add_argument("--raw", action="store_true", help="raw dicts only (core_v0.19.0)")
    parser.add_argument("--text", action="store_true", help="also text prompts (null tokenizer)")
    args = parser.parse_args()
    asyncio.run(check(args.source, args.endpoint, args.raw, args.text))


if __name__ == "__main__":
    main()
