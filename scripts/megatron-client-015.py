#!/usr/bin/env python3
"""Megatron-LM core_v0.15's own InferenceClient against `serve --engine-wire 0.15`: a check by hand.

Usage: PY scripts/megatron-client-015.py MEGATRON_SOURCE PORT [--text]

MEGATRON_SOURCE is a core_v0.15.x source tree (the directory holding megatron/; for instance
`git -C MEGATRON_GIT archive core_v0.15.3 megatron | tar -x -C DIR`); PY a Python with its
requirements (torch, numpy, pyzmq, msgpack; TORCH_CUDA_ARCH_LIST=8.0 where there is no GPU).
That client connects to MASTER_ADDR (default 127.0.0.1) at PORT, where the coordinator serves
with core_v0.15 engines registered, e.g. from

  ./coordinator serve --port PORT --engines 2 --engine-wire 0.15 --tokenizer null:1048576,eod=1048576
  /usr/bin/python3 coordinator-tests/src/test/resources/interop/core015.py engine \\
      --endpoint tcp://127.0.0.1:PORT --rank 0 --null-tokenizer --seconds 600      (and --rank 1)

The client's own methods are used, unchanged: two clients send 200 token prompts and await every
reply, each a DynamicInferenceRequest built by that client from the coordinator's record; then
pause_engines() (a request sent while paused must not complete), unpause_engines() (it
completes), and stop_engines(), after which the engines end. Prints what came back; exits
non-zero on the first failure.

--text: also 20 text prompts (ids with single spaces, which core_v0.15's NullTokenizer reads),
and every reply must carry prompt_tokens as that tokenizer makes them and generated_text as it
detokenizes generated_tokens (EOD kept).
"""
import argparse
import asyncio
import sys
import warnings

TIMEOUT = 60


async def check(source, port, text):
    sys.path.insert(0, source)
    warnings.simplefilter("ignore")
    from megatron.core.inference.inference_client import InferenceClient
    from megatron.core.inference.inference_request import DynamicInferenceRequest
    from megatron.core.inference.sampling_params import SamplingParams

    a, b = InferenceClient(port), InferenceClient(port)
    for c in (a, b):
        await c.start()
    prompts = [[1 + i % 7] * 48 + list(range(i, i + 20)) for i in range(200)]
    if text:
        prompts += [" ".join(str(i * 10 + k) for k in range(12)) for i in range(20)]
    futures = [(a if i % 2 else b).add_request(p, SamplingParams(num_tokens_to_generate=8))
               for i, p in enumerate(prompts)]
    requests = await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT)
    kinds = sorted({type(r).__name__ for r in requests})
    print(f"{len(prompts)} requests: {len(requests)} replies, as {kinds}")
    if kinds != [DynamicInferenceRequest.__name__]:
        sys.exit("a reply is not a DynamicInferenceRequest")
    for prompt, request in zip(prompts, requests):
        tokens = [int(t) for t in prompt.split(" ")] if isinstance(prompt, str) else prompt
        if request.prompt != prompt or list(request.prompt_tokens) != tokens:
            sys.exit(f"request {request.request_id}: prompt or prompt_tokens not as sent")
        if request.generated_length != len(request.generated_tokens) or not request.generated_tokens:
            sys.exit(f"request {request.request_id}: generated_length does not count its tokens")
        if request.generated_text != " ".join(str(t) for t in request.generated_tokens):
            sys.exit(f"request {request.request_id}: generated_text {request.generated_text!r}")
        if request.status is not None or request.latency is None:
            sys.exit(f"request {request.request_id}: status {request.status}, no latency")
    print("every reply: the prompt as sent, its tokens, generated_text of its tokens (EOD kept)")

    a.pause_engines()
    await asyncio.sleep(0.5)
    paused = a.add_request([3] * 30, SamplingParams(num_tokens_to_generate=4))
    await asyncio.sleep(1.0)
    if paused.done():
        sys.exit("a request completed while the engines were paused")
    a.unpause_engines()
    request = await asyncio.wait_for(paused, TIMEOUT)
    print(f"pause_engines(): nothing completed; after unpause_engines() request "
          f"{request.request_id} completed with {request.generated_length} tokens")
    a.stop_engines()
    print("stop_engines(): sent")
    await asyncio.sleep(0.5)
    for c in (a, b):
        c.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source")
    parser.add_argument("port", type=int)
    parser.add_argument("--text", action="store_true")
    args = parser.parse_args()
    asyncio.run(check(args.source, args.port, args.text))
    print("OK")


if __name__ == "__main__":
    main()
