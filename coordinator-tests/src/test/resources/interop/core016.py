"""Megatron core_v0.16 peers: its DynamicInferenceEngine's and InferenceClient's side of the wire.

Facts from core_v0.16.1 (headers.py, engines/dynamic_engine.py, inference_client.py,
inference_request.py, data_parallel_inference_coordinator.py): headers are auto() values
CONNECT 1 ... STOP_ACK 11 (megatron_wire.V0_16); an engine registers with an empty frame as
mp-coord-<rank>, reads `request_id, prompt, sampling_params = data[1:]` from [3, ...], and answers
[4, [record, ...]], each record DynamicInferenceRequestRecord.serialize(): {"requests":
[request, ...], "latency": ...}. On PAUSE [5] (STOP [10]) it sends PAUSE_ACK [6] (STOP_ACK [11]);
the coordinator, once every engine has, sends [ack, identity of the last one] to every client and
[ack] to every engine. After STOP the engine takes nothing but STOP_ACK. A client sends CONNECT
[1], waits for CONNECT_ACK [2], submits [3, cid, prompt, sampling_params] and reads
[4, cid, record], which it deserializes: the record's keys must be {requests, latency}, each
request's keys DynamicInferenceRequest's. Its coordinator fills, with a tokenizer, every request's
nil prompt from prompt_tokens[1] and its generated_text from generated_tokens, EOD kept (the
tokenizer's detokenize is ids_to_text).

    core016.py engine --endpoint E --rank R [--null-tokenizer] [--die-after K]
    core016.py client --endpoint E [--null-tokenizer] requests --count N
    core016.py client --endpoint E control --signals PAUSE,UNPAUSE,SUSPEND,RESUME,STOP
    core016.py client --endpoint E listen --acks N

--die-after K  the engine answers nothing; on its K-th request it exits at once with status 17
requests: N requests sent at once (text and token prompts); every reply must be for an
  outstanding id, exactly once, and deserialize; COMPLETED ones carry the prompt and sampling
  params as sent (the prompt filled as the coordinator fills it), FAILED ones the coordinator's
  template inside the record
control: each signal in turn; after PAUSE and STOP the client waits for the acknowledgement
listen: waits for N acknowledgements, as a client that sent nothing gets them
Output lines: registered, request, reply, signal, ack, stopped, dying (engine); connected, sent,
reply, ack, done (client). An engine's reply line carries the digest of the record as packed
(sha256) and as the client should get it (client: megatron_wire.null_ids_to_text filling).
"""

import os
import random
import sys
import time

import megatron_wire as w

D = w.V0_16
SIGNALS = ("PAUSE", "UNPAUSE", "SUSPEND", "RESUME", "STOP")
ACKS = {D.PAUSE_ACK: "PAUSE_ACK", D.STOP_ACK: "STOP_ACK"}


def main():
    def options(parser):
        parser.add_argument("--acks", type=int, default=0)
    w.release_peer_main(D, Engine, Client, options)


class Engine:
    def __init__(self, context, args):
        self.identity = "mp-coord-%d" % args.rank
        self.socket = w.dealer(context, args.endpoint, self.identity)
        self.socket.send(b"")  # registration: an empty frame
        w.emit("registered", identity=self.identity)
        self.null_tokenizer = args.null_tokenizer
        self.die_after = args.die_after
        self.rng = random.Random(args.rank)
        self.received = 0
        self.stopping = False

    def run(self, deadline):
        while True:
            frame = w.recv_within(self.socket, deadline, "a frame for engine " + self.identity)
            message = w.unpack(frame)
            header = w.header_in(D, message)
            if self.stopping and header != D.STOP_ACK:
                w.die("engine is shutting down: no other messages allowed except STOP_ACK, got %r"
                      % (message,))
            if header == D.SUBMIT_REQUEST:
                self.submit(frame, message)
            elif header in ACKS:
                if len(message) != 1:
                    w.die("an engine's %s is [%d], got %r" % (ACKS[header], header, message))
                w.emit("ack", name=ACKS[header])
                if header == D.STOP_ACK:
                    w.emit("stopped")
                    self.socket.close()
                    return
            elif header in D.control_signals and len(message) == 1:
                w.emit("signal", name=D.names[header], payload=frame.hex())
                if header == D.PAUSE:
                    self.socket.send(w.pack([D.PAUSE_ACK]))
                elif header == D.STOP:
                    self.stopping = True
                    self.socket.send(w.pack([D.STOP_ACK]))
            else:
                w.die("a 0.16 engine cannot take %r" % (message,))

    def submit(self, frame, message):
        if len(message) != 4:
            w.die("SUBMIT_REQUEST to a 0.16 engine must have 4 elements, got %d" % len(message))
        _, rid, prompt, params = message
        if not isinstance(rid, int) or isinstance(rid, bool) or not isinstance(params, dict):
            w.die("SUBMIT_REQUEST %r has a bad request id or sampling_params" % (message,))
        raw = w.elements(frame)
        w.emit("request", rid=rid, prompt=w.sha256(raw[2]), sp=w.sha256(raw[3]))
        self.received += 1
        if self.die_after:
            if self.received == self.die_after:
                w.emit("dying", received=self.received)
                os._exit(17)
            return
        record = {"requests": [self.request(rid, prompt, params)], "latency": 0.25}
        packed = w.pack(record)
        w.emit("reply", rid=rid, sha256=w.sha256(packed),
               client=w.sha256(w.pack(as_client_gets_it(record, self.null_tokenizer))))
        self.socket.send(w.pack([D.ENGINE_REPLY, [record]]))

    def request(self, rid, prompt, params):
        """A finished request of six generated tokens, 0.16's 24 fields."""
        generated = w.generated_tokens(rid, 6)
        if rid % 2:
            generated[-1] = w.NULL_EOD  # kept in the text: 0.16 detokenizes with ids_to_text
        return w.request_0_16(rid, prompt, params, generated,
                              [-self.rng.random() for _ in generated],
                              [0.001 for _ in generated], time.time() - 0.01, 0.01)


def as_client_gets_it(record, null_tokenizer):
    """core_v0.16's DataParallelInferenceCoordinator.detokenize, on a copy (NullTokenizer)."""
    if not null_tokenizer:
        return record
    out = dict(record)
    out["requests"] = []
    for request in record["requests"]:
        request = dict(request)
        if request["prompt"] is None:
            request["prompt"] = w.null_ids_to_text(request["prompt_tokens"][1])
        request["generated_text"] = w.null_ids_to_text(request["generated_tokens"])
        out["requests"].append(request)
    return out


class Client:
    def __init__(self, socket, null_tokenizer, deadline):
        self.socket = socket
        self.null_tokenizer = null_tokenizer
        self.deadline = deadline
        self.outstanding = {}  # cid -> (prompt, sampling_params)

    def run(self, args):
        if args.scenario == "requests":
            self.requests(args.count)
        elif args.scenario == "control":
            for name in args.signals.split(","):
                if name not in SIGNALS:
                    w.die("Megatron 0.16 has no signal %s" % name)
                frame = w.pack([D.headers[name]])
                self.socket.send(frame)
                w.emit("signal", name=name, payload=frame.hex())
                if name in ("PAUSE", "STOP"):
                    self.await_ack(name + "_ACK")
        elif args.scenario == "listen":
            for _ in range(args.acks):
                self.receive(w.recv_within(self.socket, self.deadline, "an acknowledgement"))
        else:
            w.die("a client needs a scenario: requests, control or listen")
        w.emit("done")

    def await_ack(self, name):
        while True:
            if self.receive(w.recv_within(self.socket, self.deadline, name)) == name:
                return

    def requests(self, count):
        prompts = w.shared_prefix_prompts(count, 16)
        for cid, prompt in enumerate(prompts):
            params = w.sampling_params(6, False)
            del params["streaming"], params["streaming_interval"]  # not in 0.16's SamplingParams
            frame = w.pack([D.SUBMIT_REQUEST, cid, prompt, params])
            self.socket.send(frame)
            raw = w.elements(frame)
            w.emit("sent", cid=cid, prompt=w.sha256(raw[2]), sp=w.sha256(raw[3]))
            self.outstanding[cid] = (prompt, params)
        while self.outstanding:
            self.receive(w.recv_within(self.socket, self.deadline,
                                       "replies for %d request(s)" % len(self.outstanding)))

    def receive(self, frame):
        """Reads one frame as InferenceClient._recv_task does; returns what it was."""
        message = w.unpack(frame)
        header = w.header_in(D, message)
        if header in ACKS:
            if len(message) != 2 or not isinstance(message[1], bytes):
                w.die("a client's %s is [%d, engine identity (bin)], got %r"
                      % (ACKS[header], header, message))
            w.emit("ack", name=ACKS[header], engine=message[1].decode("ascii", "replace"))
            return ACKS[header]
        if header != D.ENGINE_REPLY or len(message) != 3:
            w.die("expected [4, cid, record] or an acknowledgement, got %r" % (message,))
        _, cid, record = message
        if cid not in self.outstanding:
            w.die("reply for id %r, which is not an outstanding request" % (cid,))
        prompt, params = self.outstanding.pop(cid)
        try:
            self.check(record, prompt, params)
        except (w.WireError, KeyError, TypeError, IndexError) as e:
            w.die("record for client id %d rejected: %s" % (cid, e))
        first = record["requests"][0]
        w.emit("reply", cid=cid, rid=first["request_id"], status=first["status"],
               sha256=w.sha256(w.elements(frame)[2]))
        return "reply"

    def check(self, record, prompt, params):
        """DynamicInferenceRequestRecord.deserialize(reply), then what a caller relies on."""
        if not isinstance(record, dict) or not set(record) <= {"requests", "latency"}:
            raise w.WireError("record keys %r are not DynamicInferenceRequestRecord's"
                              % (sorted(record) if isinstance(record, dict) else record,))
        requests = record["requests"]
        if not isinstance(requests, list) or not requests:
            raise w.WireError("the record holds no requests")
        for request in requests:
            w.deserialize_request(request, D)
        request = requests[0]
        if request["status"] == "FAILED":
            w.check_failed(request, prompt, params, D)
            return
        if request["status"] != "COMPLETED" or request["sampling_params"] != params:
            raise w.WireError("status %r or sampling_params differ" % (request["status"],))
        if isinstance(prompt, str):
            expected = prompt
        elif self.null_tokenizer:
            expected = w.null_ids_to_text(prompt)
        else:
            expected = None
        if request["prompt"] != expected:
            raise w.WireError("prompt %r, expected %r" % (request["prompt"], expected))
        text = w.null_ids_to_text(request["generated_tokens"]) if self.null_tokenizer else None
        if request["generated_text"] != text:
            raise w.WireError("generated_text %r, expected %r" % (request["generated_text"], text))


if __name__ == "__main__":
    sys.exit(main())
