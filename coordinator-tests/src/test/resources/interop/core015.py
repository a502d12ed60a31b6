"""Megatron core_v0.15 peers: its DynamicInferenceEngine's and InferenceClient's side of the wire.

Facts from core_v0.15.3 (headers.py, engines/dynamic_engine.py, inference_client.py,
inference_request.py, data_parallel_inference_coordinator.py; 0.15.0 to 0.15.3 are the same
there): headers are CONNECT 0, ACK 1, SUBMIT_REQUEST 2, ENGINE_REPLY 3, PAUSE 4, UNPAUSE 5, STOP 6
(megatron_wire.V0_15). An engine registers with an empty frame as tp-coord-<data parallel rank>,
reads `request_id, prompt, sampling_params = data[1:]` from [2, ...] (the prompt always tokens:
the coordinator tokenizes text), drains its socket before each step, and sends the coordinator
one ENGINE_REPLY per step, [3, request_ids, finished_request_ids, tokens, logprobs,
chunked_prefill_request_id, materialize_only_last_token_logits]; PAUSE stops its stepping until
UNPAUSE, STOP closes it, nothing acknowledged. The coordinator builds each request's record from
those steps and sends the client [client_request_id, asdict(DynamicInferenceRequest)], no header:
22 keys (megatron_wire.Request015). A client sends CONNECT [0], waits for ACK [1], submits
[2, cid, prompt, sampling_params.serializable()] and, for each reply, sets its latency and builds
DynamicInferenceRequest(**reply).

    core015.py engine --endpoint E --rank R [--null-tokenizer] [--die-after K]
                      [--step-ms MS] [--max-tokens T]
    core015.py client --endpoint E [--null-tokenizer] requests --count N [--text]
    core015.py client --endpoint E control --signals PAUSE,UNPAUSE,STOP [--interval S]
    core015.py client --endpoint E listen [--quiet S]

engine: steps every MS milliseconds (default 5) while it holds requests and is not paused, a
  budget of T prompt and generated tokens a step (default 32), as a dynamic batch: every request
  that has its prompt through generates one token; then the request in chunked prefill takes the
  rest of its prompt, or T's rest; then waiting requests are admitted while their prompts fit, the
  first that does not fit going into chunked prefill if none is. Request r generates 1 + r % 6
  tokens (megatron_wire.generated_tokens, the last an EOD, 2^20, for odd r); requests with
  r % 3 == 0 return log probs (of the whole prompt chunk in its prefill steps, one later; only
  the last token's on an engine that materializes only the last token's logits: odd ranks); a
  chunked prefill's token is dropped, and its id is among the finished ones when r % 5 == 0 (the
  coordinator skips it). The records it makes the coordinator finish are printed as that
  coordinator must send them.
--die-after K  the engine answers nothing; on its K-th request it exits at once with status 17
requests: N requests sent at once (token prompts; with --text every fourth a text prompt, its ids
  with single spaces, which needs a coordinator with a NullTokenizer); every reply must be for an
  outstanding id, exactly once, and be the 22 keys in DynamicInferenceRequest's order; a record
  with status FAILED (the coordinator's answer for a request it cannot complete) carries the
  prompt as sent, no tokens and error events; any other the prompt as sent, its tokens, status
  nil and, with --null-tokenizer, generated_text = ids_to_text(generated_tokens), EOD kept
control: each signal in turn, S seconds apart (default 0); nothing comes back
listen: connects and, for S seconds (default 1), must get nothing: a 0.15 client gets only
  replies to its own requests
Output lines: registered, request, step, finished, signal, stopped, dying (engine); connected,
sent, reply, signal, done (client). An engine's `finished` line carries the digest of the record
as the coordinator must pack it for a token prompt (sha256) and, with --null-tokenizer, for the
same prompt sent as text (text); the client's `reply` line the digest of the record as received
and which kind of prompt it sent (prompt=tokens|text). An engine's `request` line and a client's
`sent` line carry the digest of the prompt's tokens as packed (prompt).
"""

import collections
import os
import random
import sys
import time

import megatron_wire as w

D = w.V0_15
SIGNALS = ("PAUSE", "UNPAUSE", "STOP")
EOD = w.NULL_EOD_0_15
# core_v0.15's DynamicInferenceEventType
EVENT_TYPES_0_15 = frozenset(("ADD", "PAUSE", "FINISH", "FAIL", "ERROR_TRANSIENT",
                              "ERROR_NONTRANSIENT"))


def main():
    def options(parser):
        parser.add_argument("--step-ms", type=float, default=5.0)
        parser.add_argument("--max-tokens", type=int, default=32)
        parser.add_argument("--text", action="store_true")
        parser.add_argument("--interval", type=float, default=0.0)
        parser.add_argument("--quiet", type=float, default=1.0)
    w.release_peer_main(D, Engine, Client, options)


# ---------------------------------------------------------------------------------- engine


class Request:
    """A request on the engine: its prompt tokens, how far its prefill got, what it generates."""

    def __init__(self, rid, tokens):
        self.rid = rid
        self.tokens = tokens
        self.prefilled = 0
        self.generated = 0
        self.outputs = w.generated_tokens(rid, 1 + rid % 6)
        if rid % 2:
            self.outputs[-1] = EOD  # kept in the text: core_v0.15 detokenizes with ids_to_text
        self.log_probs = rid % 3 == 0

    def log_prob(self, i):
        return -((self.rid * 31 + i) % 997 + 1) / 64.0


class Engine:
    def __init__(self, context, args):
        self.identity = "tp-coord-%d" % args.rank
        self.socket = w.dealer(context, args.endpoint, self.identity)
        self.socket.send(b"")  # registration: an empty frame
        w.emit("registered", identity=self.identity)
        self.detokenize = w.null_ids_to_text if args.null_tokenizer else None
        self.die_after = args.die_after
        self.step_seconds = args.step_ms / 1000.0
        self.max_tokens = max(2, args.max_tokens)
        self.materialize = args.rank % 2 == 1
        self.received = 0
        self.paused = False
        self.waiting = collections.deque()  # Request, in arrival order
        self.active = []  # Request, prompt through
        self.chunked = None  # the Request in chunked prefill
        # the coordinator's view of each request (rid -> Request015), for the records it sends
        self.coordinator = {}

    def run(self, deadline):
        while True:
            busy = not self.paused and (self.waiting or self.active or self.chunked)
            wait = self.step_seconds if busy else 0.02
            if time.monotonic() + wait > deadline:
                w.die("engine %s: no STOP before the deadline" % self.identity)
            if not self.schedule(wait):
                w.emit("stopped")
                self.socket.close()
                return
            if not self.paused and (self.waiting or self.active or self.chunked):
                self.step()

    def schedule(self, wait):
        """schedule_requests: drains the socket (waiting up to `wait` for a first frame) and
        takes every message; False once a STOP was among them."""
        stopped = False
        if self.socket.poll(int(wait * 1000)):
            while self.socket.poll(0):
                frame = self.socket.recv()
                message = w.unpack(frame)
                header = w.header_in(D, message)
                if header == D.SUBMIT_REQUEST:
                    self.submit(frame, message)
                elif header in D.control_signals and len(message) == 1:
                    w.emit("signal", name=D.names[header], payload=frame.hex())
                    if header == D.PAUSE:
                        self.paused = True
                    elif header == D.UNPAUSE:
                        self.paused = False
                    else:
                        stopped = True
                else:
                    w.die("a 0.15 engine cannot take %r" % (message,))
        return not stopped

    def submit(self, frame, message):
        if len(message) != 4:
            w.die("SUBMIT_REQUEST to a 0.15 engine must have 4 elements, got %d" % len(message))
        _, rid, tokens, params = message
        if not isinstance(rid, int) or isinstance(rid, bool) or not isinstance(params, dict):
            w.die("SUBMIT_REQUEST %r has a bad request id or sampling_params" % (message,))
        if not isinstance(tokens, list) or not tokens or not all(
                isinstance(t, int) and not isinstance(t, bool) for t in tokens):
            w.die("a 0.15 engine gets its prompt as a non-empty list of token ids, got %r"
                  % (tokens,))
        if rid in self.coordinator:
            w.die("request id %d given twice" % rid)
        raw = w.elements(frame)
        w.emit("request", rid=rid, prompt=w.sha256(raw[2]), sp=w.sha256(raw[3]),
               tokens=len(tokens))
        self.received += 1
        if self.die_after:
            if self.received == self.die_after:
                w.emit("dying", received=self.received)
                os._exit(17)
            return
        self.coordinator[rid] = w.Request015(rid, tokens, tokens)
        self.waiting.append(Request(rid, tokens))

    def step(self):
        """One engine step and its ENGINE_REPLY."""
        budget = self.max_tokens
        entries = []  # (Request, prompt tokens this step or 0 for a decode, chunk or not)
        for r in self.active[:budget]:
            entries.append((r, 0, False))
        budget -= len(entries)
        if self.chunked is not None and budget > 0:
            r, rest = self.chunked, len(self.chunked.tokens) - self.chunked.prefilled
            if rest <= budget:
                self.chunked = None
                entries.append((r, rest, False))
            else:
                entries.append((r, budget, True))
            budget -= min(rest, budget)
        while self.waiting and budget > 0:
            r = self.waiting[0]
            if len(r.tokens) <= budget:
                entries.append((self.waiting.popleft(), len(r.tokens), False))
                budget -= len(r.tokens)
            elif self.chunked is None:
                self.chunked = self.waiting.popleft()
                entries.append((self.chunked, budget, True))
                budget = 0
            else:
                break
        ids, finished, tokens, log_probs = [], [], [], []
        chunked_id = -1
        for r, prompt_part, chunk in entries:
            ids.append(r.rid)
            r.prefilled += prompt_part
            count = 1 if self.materialize or not prompt_part else prompt_part
            start = r.prefilled - prompt_part + r.generated
            log_probs.append([r.log_prob(start + i) for i in range(count)]
                             if r.log_probs else None)
            if chunk:
                chunked_id = r.rid
                tokens.append(0)  # sampled from a partial prompt, dropped by the coordinator
                if r.rid % 5 == 0:
                    finished.append(r.rid)  # as if it sampled the termination id
                continue
            tokens.append(r.outputs[r.generated])
            r.generated += 1
            if r.generated == len(r.outputs):
                finished.append(r.rid)
            elif r not in self.active:
                self.active.append(r)
        done = set(finished) - {chunked_id}
        self.active = [r for r in self.active if r.rid not in done]
        if not any(lp is not None for lp in log_probs):
            log_probs = None
        message = [D.ENGINE_REPLY, ids, finished, tokens, log_probs, chunked_id,
                   self.materialize]
        try:
            records = w.postprocess_0_15(self.coordinator, message, self.detokenize)
        except AssertionError as e:
            w.die("engine %s would fail core_v0.15's coordinator: %s" % (self.identity, e))
        w.emit("step", requests=len(ids), finished=len(records), chunked=chunked_id,
               logprobs=int(log_probs is not None))
        for rid, record in records:
            digests = {"sha256": w.sha256(w.pack(record))}
            if self.detokenize is not None:
                text = dict(record, prompt=w.null_ids_to_text(record["prompt_tokens"]))
                digests["text"] = w.sha256(w.pack(text))
            w.emit("finished", rid=rid, **digests)
        self.socket.send(w.pack(message))


# ---------------------------------------------------------------------------------- client


def prompts(count, text):
    """Distinct token prompts on a few shared prefixes; with `text`, every fourth as text."""
    rng = random.Random(15)
    systems = [[rng.randrange(w.VOCABULARY) for _ in range(2 * w.BLOCK_SIZE)] for _ in range(3)]
    out = []
    for i in range(count):
        tokens = systems[i % 3][:rng.randrange(1, 2 * w.BLOCK_SIZE)] + [
            rng.randrange(w.VOCABULARY) for _ in range(rng.randrange(1, 24))] + [i]
        out.append(w.null_ids_to_text(tokens) if text and i % 4 == 3 else tokens)
    return out


def sampling_params(rng):
    """SamplingParams(...).serializable() of core_v0.15: its __dict__, in field order."""
    return {
        "temperature": 1.0, "top_k": rng.choice([0, 1]), "top_p": 0.0,
        "return_log_probs": rng.random() < 0.3, "return_segments": False,
        "num_tokens_to_generate": rng.randrange(1, 7), "num_tokens_total": None,
        "top_n_logprobs": 0, "return_prompt_top_n_logprobs": False, "add_BOS": False,
    }


class Client:
    def __init__(self, socket, null_tokenizer, deadline):
        self.socket = socket
        self.null_tokenizer = null_tokenizer
        self.deadline = deadline
        self.outstanding = {}  # cid -> (prompt, sampling_params)

    def run(self, args):
        if args.scenario == "requests":
            self.requests(args.count, args.text)
        elif args.scenario == "control":
            for i, name in enumerate(args.signals.split(",")):
                if name not in SIGNALS:
                    w.die("Megatron 0.15 has no signal %s" % name)
                if i and args.interval:
                    time.sleep(args.interval)
                frame = w.pack([D.headers[name]])
                self.socket.send(frame)
                w.emit("signal", name=name, payload=frame.hex())
        elif args.scenario == "listen":
            if self.socket.poll(int(args.quiet * 1000)):
                w.die("a 0.15 client that sent nothing got %r" % (w.unpack(self.socket.recv()),))
        else:
            w.die("a client needs a scenario: requests, control or listen")
        w.emit("done")

    def requests(self, count, text):
        rng = random.Random(150)
        for cid, prompt in enumerate(prompts(count, text)):
            params = sampling_params(rng)
            frame = w.pack([D.SUBMIT_REQUEST, cid, prompt, params])
            self.socket.send(frame)
            tokens = w.null_text_to_ids(prompt) if isinstance(prompt, str) else prompt
            w.emit("sent", cid=cid, prompt=w.sha256(w.pack(tokens)),
                   sp=w.sha256(w.elements(frame)[3]), text=int(isinstance(prompt, str)))
            self.outstanding[cid] = (prompt, params)
        while self.outstanding:
            self.receive(w.recv_within(self.socket, self.deadline,
                                       "replies for %d request(s)" % len(self.outstanding)))

    def receive(self, frame):
        """_listen_for_completed_requests: `request_id, reply = msgpack.unpackb(...)`, then
        reply['latency'] = ... and DynamicInferenceRequest(**reply)."""
        message = w.unpack(frame)
        if not isinstance(message, list) or len(message) != 2:
            w.die("a 0.15 client takes [request_id, reply], got %r" % (message,))
        cid, record = message
        if cid not in self.outstanding:
            w.die("reply for id %r, which is not an outstanding request" % (cid,))
        prompt, params = self.outstanding.pop(cid)
        try:
            self.check(record, prompt)
        except (w.WireError, KeyError, TypeError, IndexError, ValueError) as e:
            w.die("record for client id %d rejected: %s" % (cid, e))
        w.emit("reply", cid=cid, rid=record["request_id"], status=record["status"],
               prompt="text" if isinstance(prompt, str) else "tokens",
               sha256=w.sha256(w.elements(frame)[1]))

    def check(self, record, prompt):
        if not isinstance(record, dict):
            raise w.WireError("the reply is a %s, not a map" % type(record).__name__)
        if tuple(record) != D.record_fields:
            raise w.WireError("keys %r, expected DynamicInferenceRequest's %r"
                              % (list(record), list(D.record_fields)))
        rid = record["request_id"]
        if not isinstance(rid, int) or isinstance(rid, bool):
            raise w.WireError("request_id %r is not an int" % (rid,))
        reply = dict(record, latency=0.25)
        D.request_class(**reply)  # DynamicInferenceRequest(**reply): its fields, request_id given
        if record["prompt"] != prompt or type(record["prompt"]) is not type(prompt):
            raise w.WireError("prompt %r, expected the prompt as sent, %r"
                              % (record["prompt"], prompt))
        tokens = record["generated_tokens"]
        if not isinstance(tokens, list) or not all(
                isinstance(t, int) and not isinstance(t, bool) for t in tokens):
            raise w.WireError("generated_tokens %r is not a list of ints" % (tokens,))
        if record["generated_length"] != len(tokens) and record["status"] != "FAILED":
            raise w.WireError("generated_length %r for %d tokens"
                              % (record["generated_length"], len(tokens)))
        events = record["events"]
        if not isinstance(events, list):
            raise w.WireError("events is not a list")
        if record["status"] == "FAILED":
            if tokens:
                raise w.WireError("a FAILED record with generated tokens")
            if not events or not all(isinstance(e, dict) and e.get("type") in EVENT_TYPES_0_15
                                     for e in events) or events[-1]["type"] != "FAIL":
                raise w.WireError("a FAILED record's events must be DynamicInferenceEvents "
                                  "ending in FAIL, got %r" % (events,))
            for event in events:
                w.check_event(event, EVENT_TYPES_0_15)
            return
        if record["status"] is not None:
            raise w.WireError("status %r: core_v0.15's coordinator leaves it nil"
                              % (record["status"],))
        if isinstance(prompt, str):
            expected = w.null_text_to_ids(prompt)
        else:
            expected = prompt
        for key in ("prompt_tokens", "remaining_prompt_tokens"):
            if record[key] != expected:
                raise w.WireError("%s %r, expected %r" % (key, record[key], expected))
        for key in ("sampling_params", "inference_parameters", "latency", "tpot"):
            if record[key] is not None:
                raise w.WireError("%s %r, expected nil" % (key, record[key]))
        if events:
            raise w.WireError("events %r, expected none" % (events,))
        for key in ("prompt_log_probs", "generated_log_probs"):
            value = record[key]
            if value is not None and not (isinstance(value, list)
                                          and all(isinstance(x, float) for x in value)):
                raise w.WireError("%s %r is not nil or a list of floats" % (key, value))
        text = w.null_ids_to_text(tokens) if self.null_tokenizer else None
        if record["generated_text"] != text:
            raise w.WireError("generated_text %r, expected %r" % (record["generated_text"], text))


if __name__ == "__main__":
    sys.exit(main())
