#!/usr/bin/env python3
"""Megatron-LM core_v0.16's own InferenceClient against `serve --engine-wire 0.16`: a check by hand.

Usage: PY scripts/megatron-client-016.py MEGATRON_SOURCE ENDPOINT [--text]

MEGATRON_SOURCE is a core_v0.16.x source tree (the directory holding megatron/; for instance
`git -C MEGATRON_GIT archive core_v0.16.1 megatron | tar -x -C DIR`); PY a Python with its
requirements (torch, numpy, pyzmq, msgpack). ENDPOINT is the coordinator's, with core_v0.16
engines registered, e.g. from

  ./coordinator serve --port 0 --engines 2 --engine-wire 0.16 --tokenizer null
  /usr/bin/python3 coordinator-tests/src/test/resources/interop/core016.py engine \\
      --endpoint ENDPOINT --rank 0 --null-tokenizer --seconds 600      (and --rank 1)

The client's own methods are used, unchanged: two clients (core_v0.16's always deserializes
records into DynamicInferenceRequestRecord) send 200 token prompts and await every reply; then
pause_engines() (both clients must see the acknowledgement), unpause_engines(), suspend_engines()
and resume_engines() (a second PAUSE, acknowledged again), a request after them, and
stop_engines(), after which the engines and the coordinator end. Prints what came back; exits
non-zero on the first failure.

--text: also 20 text prompts, and every reply must carry the generated_text and, for a token
prompt, the prompt that core_v0.16's coordinator fills in: for `serve --tokenizer null` and
engines with `--null-tokenizer`.
"""
import argparse
import asyncio
import sys
import warnings

TIMEOUT = 60


async def check(source, endpoint, text):
    sys.path.insert(0, source)
    warnings.simplefilter("ignore")
    from megatron.core.inference.inference_client import InferenceClient
    from megatron.core.inference.inference_request import DynamicInferenceRequestRecord
    from megatron.core.inference.sampling_params import SamplingParams

    a, b = InferenceClient(endpoint), InferenceClient(endpoint)
    for c in (a, b):
        await c.start()
    prompts = [[1 + i % 7] * 48 + list(range(i, i + 20)) for i in range(200)]
    if text:
        prompts += ["Question %d: what is %d + %d?" % (i, i, 2 * i) for i in range(20)]
    futures = [(a if i % 2 else b).add_request(p, SamplingParams(num_tokens_to_generate=8))
               for i, p in enumerate(prompts)]
    records = await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT)
    kinds = sorted({type(r).__name__ for r in records})
    statuses = sorted({r.requests[0].status.name for r in records})
    print(f"{len(prompts)} requests: {len(records)} replies, as {kinds}, status {statuses}")
    if kinds != [DynamicInferenceRequestRecord.__name__] or statuses != ["COMPLETED"]:
        sys.exit("a reply is not a completed DynamicInferenceRequestRecord")
    if text:
        for prompt, record in zip(prompts, records):
            request = record.requests[0]
            if not isinstance(request.generated_text, str) or not request.generated_text:
                sys.exit(f"request {request.request_id}: no generated_text")
            if not isinstance(request.prompt, str):
                sys.exit(f"request {request.request_id}: prompt {request.prompt!r} not filled")
        print("every reply carries its generated_text and a prompt as text")

    await asyncio.wait_for(a.pause_engines(), TIMEOUT)
    await asyncio.wait_for(b.paused.wait(), TIMEOUT)
    print("pause_engines(): acknowledged, to both clients")
    a.unpause_engines()
    a.paused.clear()
    a.suspend_engines()
    await asyncio.wait_for(a.paused.wait(), TIMEOUT)
    a.resume_engines()
    print("suspend_engines(): its PAUSE acknowledged again; resume_engines() sent")
    record = await asyncio.wait_for(
        a.add_request([5] * 40, SamplingParams(num_tokens_to_generate=4)), TIMEOUT)
    print(f"a request after them: {record.requests[0].status.name}")
    await asyncio.wait_for(a.stop_engines(), TIMEOUT)
    await asyncio.wait_for(b.stopped.wait(), TIMEOUT)
    print("stop_engines(): acknowledged, to both clients")
    for c in (a, b):
        c.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source")
    parser.add_argument("endpoint")
    parser.add_argument("--text", action="store_true")
    args = parser.parse_args()
    asyncio.run(check(args.source, args.endpoint, args.text))
    print("OK")


if __name__ == "__main__":
    main()
