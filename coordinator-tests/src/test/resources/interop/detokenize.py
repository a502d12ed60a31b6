"""generated_text as Megatron's coordinator returns it, checked by Megatron-like peers.

    detokenize.py --endpoint E --identities mp-coord-1,mp-coord-0 --expect null|untouched
                  [--vocab 131072]

One process holds two Megatron-like clients and the engine DEALERs (separate libzmq
connections): a client that takes replies as plain dicts (InferenceClient's default) and one
that builds each final record into a DynamicInferenceRequest (InferenceClient(deserialize=True):
cls(**record), which rejects any key that is not a field). Each client submits every case below
twice, once with a text prompt ("1 2 3 ...", what NullTokenizer reads) and once with a token
list, one request at a time, so the driver knows which engine holds which request. Then every
engine streams its partial replies (Megatron's partial form {"request_id", "new_tokens",
"new_log_probs"}, one ENGINE_REPLY_PARTIAL per step) and answers its requests in
ENGINE_REPLY batches: COMPLETED and FAILED records with the 36 fields of
DynamicInferenceRequest.serialize() and generated_text nil, as an engine under a coordinator
sends them.

--expect null: the coordinator runs with Megatron's NullTokenizer(vocab_size=V), eod = V - 1.
Every final record must come back with generated_text = what DataParallelInferenceCoordinator.
detokenize sets (megatron_wire.coordinator_detokenize, from Megatron's code: trailing eods
removed unless sampling_params.detokenize_stop_sequence is truthy, then
NullTokenizer.ids_to_text), placed as Python's dict assignment places it, and every other field
byte-identical to the engine's.
--expect untouched: a coordinator without a tokenizer; every record byte-identical.

Both modes: each partial reply byte-identical to the engine's and arriving before its request's
final reply; exactly one final reply per request: a reply for a request that is not outstanding
fails, and after the last one each client sends one more request whose reply must be the next
frame it gets. Output: `done requests=N partials=P finals=F barrier=B`.
"""

import argparse
import random
import time

import zmq

import megatron_wire as w


# ---------------------------------------------------------------- the cases

ABSENT = object()


class Case:
    def __init__(self, name, tokens, status="COMPLETED", stop=False, stream=0, text_key=True,
                 engine_text=None):
        self.name = name
        self.tokens = tokens
        self.status = status
        self.stop = stop  # sampling_params["detokenize_stop_sequence"]; ABSENT: no such key
        self.stream = stream  # partial replies before the final one
        self.text_key = text_key  # whether the engine's record has a generated_text key
        self.engine_text = engine_text  # the engine's own generated_text (nil by default)


def cases(eod, rng):
    def ids(n):
        return [rng.randrange(eod) for _ in range(n)]  # never eod itself

    return [
        Case("no-eod", ids(8)),
        Case("one-trailing-eod", ids(6) + [eod]),
        Case("trailing-eods", ids(5) + [eod, eod, eod]),
        Case("stop-sequence-keeps-eods", ids(4) + [eod, eod], stop=True),
        Case("inner-and-leading-eods", [eod] + ids(3) + [eod] + ids(2)),
        Case("only-eods", [eod, eod]),
        Case("nothing-generated", []),
        Case("failed-before-generating", [], status="FAILED"),
        Case("failed-after-some-tokens", ids(3) + [eod], status="FAILED"),
        Case("streamed", ids(10) + [eod], stream=2),
        Case("streamed-stop-sequence", ids(7) + [eod], stream=1, stop=True),
        Case("long-generation", ids(400)),
        Case("ids-beyond-the-vocabulary", [0, eod + 1, 2**40, 7]),
        Case("stop-flag-absent", ids(3) + [eod], stop=ABSENT),
        Case("stop-flag-nil", ids(3) + [eod], stop=None),
        Case("stop-flag-int-1", ids(3) + [eod], stop=1),
        Case("stop-flag-int-0", ids(3) + [eod], stop=0),
        Case("record-without-generated-text", ids(4) + [eod], text_key=False),
        Case("engine-text-replaced", ids(4), engine_text="the engine's own text"),
    ]


def params_for(case):
    params = w.sampling_params(len(case.tokens), case.stream > 0)
    if case.stop is ABSENT:
        del params["detokenize_stop_sequence"]
    else:
        params["detokenize_stop_sequence"] = case.stop
    return params


# ---------------------------------------------------------------- the driver

class Request:
    def __init__(self, client, cid, case, prompt, params):
        self.client = client
        self.cid = cid
        self.case = case
        self.prompt = prompt
        self.params = params
        self.rid = None
        self.engine = None
        self.arrival = None
        self.final = None  # the record dict the engine sent
        self.partials = []  # packed partial records not yet seen by the client


class Client:
    def __init__(self, name, socket, deserializing):
        self.name = name
        self.socket = socket
        self.deserializing = deserializing
        self.outstanding = {}  # cid -> Request
        self.next_cid = 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--identities", required=True)
    parser.add_argument("--expect", choices=("null", "untouched"), required=True)
    parser.add_argument("--vocab", type=int, default=w.NULL_VOCAB)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    deadline = time.monotonic() + args.seconds
    eod = args.vocab - 1  # NullTokenizer's eod when no --null-tokenizer-eod-id is given
    context = zmq.Context()
    engines = w.EngineSockets(context, args.endpoint, args.identities.split(","))
    clients = [Client("dicts", w.connected_client(context, args.endpoint, deadline), False),
               Client("objects", w.connected_client(context, args.endpoint, deadline), True)]

    driver = Driver(engines, clients, deadline, eod if args.expect == "null" else None)
    rng = random.Random(11)
    for client in clients:
        for case in cases(eod, rng):
            for textual in (True, False):
                tokens = [rng.randrange(1, 50000) for _ in range(rng.randint(3, 40))]
                prompt = " ".join(str(t) for t in tokens) if textual else tokens
                driver.submit(client, case, prompt)
    for identity in engines.sockets:
        driver.answer(identity, rng)
    driver.collect()
    for client in clients:
        driver.barrier(client, rng)
    w.emit("done", requests=driver.requests, partials=driver.partials_seen,
           finals=driver.finals_seen, barrier=len(clients))
    for socket in list(engines.sockets.values()) + [c.socket for c in clients]:
        socket.close()
    context.term()


class Driver:
    def __init__(self, engines, clients, deadline, eod):
        self.engines = engines
        self.clients = clients
        self.deadline = deadline
        self.eod = eod  # None: the coordinator has no tokenizer
        self.held = {identity: [] for identity in engines.sockets}  # requests each engine holds
        self.requests = 0
        self.partials_seen = 0
        self.finals_seen = 0

    def submit(self, client, case, prompt):
        """The client submits; returns the request once an engine has received it."""
        request = Request(client, client.next_cid, case, prompt, params_for(case))
        client.next_cid += 1
        client.socket.send(w.pack([w.SUBMIT_REQUEST, request.cid, prompt, request.params]))
        identity, message = self.engines.next_frame(self.deadline)
        if message[0] != w.SUBMIT_REQUEST or len(message) != 5 or message[2] != prompt:
            w.die("engine %s got %r for %s's request %d" % (identity, message[:2], client.name,
                                                             request.cid))
        request.rid, request.engine, request.arrival = message[1], identity, time.time()
        client.outstanding[request.cid] = request
        self.held[identity].append(request)
        self.requests += 1
        return request

    def answer(self, identity, rng):
        """The engine streams its partial replies step by step, then sends its final records."""
        held, self.held[identity] = self.held[identity], []
        steps = max([r.case.stream for r in held] + [0])
        for step in range(steps):
            partials = []
            for r in held:
                if step < r.case.stream:
                    size = len(r.case.tokens) // (r.case.stream + 1)
                    new = r.case.tokens[step * size:(step + 1) * size]
                    partial = {"request_id": r.rid, "new_tokens": new,
                               "new_log_probs": [-rng.random() for _ in new]}
                    r.partials.append(w.pack(partial))
                    partials.append(partial)
            self.engines.sockets[identity].send(w.pack([w.ENGINE_REPLY_PARTIAL, partials]))
        for start in range(0, len(held), 8):
            records = [self.final_record(r, rng) for r in held[start:start + 8]]
            self.engines.sockets[identity].send(w.pack([w.ENGINE_REPLY, records]))

    def final_record(self, r, rng):
        case = r.case
        tokens = r.prompt if isinstance(r.prompt, list) else [int(x) for x in r.prompt.split(" ")]
        record = w.engine_record(r.rid, tokens, r.params, case.status, case.tokens, r.arrival, rng)
        record["prompt"] = r.prompt if isinstance(r.prompt, str) else None  # as the engine sets it
        if case.status == "FAILED":
            record["events"] = record["events"][:2] + [
                {"timestamp": time.time(), "type": "ERROR_NONTRANSIENT",
                 "payload": {"type": "RuntimeError", "request_id": r.rid,
                             "message": "the engine failed the request", "is_transient": False}},
                {"timestamp": time.time(), "type": "FAIL", "payload": None},
            ]
        if not case.text_key:
            del record["generated_text"]
        elif case.engine_text is not None:
            record["generated_text"] = case.engine_text
        r.final = record
        return record

    def collect(self):
        """Reads every client's replies until each request has its final one."""
        poller = zmq.Poller()
        by_socket = {}
        for client in self.clients:
            poller.register(client.socket, zmq.POLLIN)
            by_socket[client.socket] = client
        while any(c.outstanding for c in self.clients):
            left = self.deadline - time.monotonic()
            events = dict(poller.poll(max(1, int(left * 1000)))) if left > 0 else {}
            if not events:
                w.die("%d request(s) without a final reply at the deadline"
                      % sum(len(c.outstanding) for c in self.clients))
            for socket in events:
                self.receive(by_socket[socket], socket.recv())

    def receive(self, client, frame):
        message = w.unpack(frame)
        if not isinstance(message, list) or len(message) != 3 or message[0] not in (
                w.ENGINE_REPLY, w.ENGINE_REPLY_PARTIAL):
            w.die("client %s expected [21|22, cid, record], got %r" % (client.name, message))
        header, cid, record = message
        request = client.outstanding.get(cid)
        if request is None:
            w.die("client %s got a reply (header %d) for id %r, which has no request outstanding"
                  " (a second final reply, or a partial after the final)"
                  % (client.name, header, cid))
        raw = w.elements(frame)[2]
        case = request.case.name
        if header == w.ENGINE_REPLY_PARTIAL:
            if not request.partials:
                w.die("%s/%s: a partial reply the engine did not send" % (client.name, case))
            if raw != request.partials.pop(0):
                w.die("%s/%s: the partial reply is not the engine's, byte for byte"
                      % (client.name, case))
            self.partials_seen += 1
            return
        if request.partials:
            w.die("%s/%s: the final reply came before %d partial(s)"
                  % (client.name, case, len(request.partials)))
        self.check_final(client, request, record, raw)
        del client.outstanding[cid]
        self.finals_seen += 1

    def check_final(self, client, request, record, raw):
        where = "%s/%s (%s prompt)" % (client.name, request.case.name,
                                       "text" if isinstance(request.prompt, str) else "token")
        expected = dict(request.final)  # the engine's record, as Megatron's coordinator sends it
        if self.eod is not None:
            w.coordinator_detokenize(expected, self.eod)
        got = w.map_entries(raw)
        want = [(key, w.pack(value)) for key, value in expected.items()]
        if [k for k, _ in got] != [k for k, _ in want]:
            w.die("%s: record keys %s, expected %s" % (where, [k for k, _ in got],
                                                       [k for k, _ in want]))
        for (key, value), (_, wanted) in zip(got, want):
            if key == "generated_text" and value != wanted:
                w.die("%s: generated_text %r, expected %r"
                      % (where, w.unpack(value), expected[key]))
            if value != wanted:
                w.die("%s: field %s is not the engine's, byte for byte" % (where, key))
        if raw != w.pack(expected):
            w.die("%s: the record's bytes differ from the expected record's" % where)
        if client.deserializing:
            try:
                built = w.deserialize_request(record)
            except (w.WireError, TypeError) as e:
                w.die("%s: DynamicInferenceRequest.deserialize rejects the record: %s" % (where, e))
            if built.generated_text != expected.get("generated_text"):
                w.die("%s: the built request's generated_text is %r"
                      % (where, built.generated_text))
            if self.eod is not None:
                built.generated_text.replace("\n", " ")  # what Megatron's example does with it

    def barrier(self, client, rng):
        """One more request: its reply must be the next frame, so no other reply was pending."""
        case = Case("barrier", [1, 2, 3])
        request = self.submit(client, case, [7, 8, 9])
        self.answer(request.engine, rng)
        frame = w.recv_within(client.socket, self.deadline, "the barrier request's reply")
        message = w.unpack(frame)
        if message[0] != w.ENGINE_REPLY or message[1] != request.cid:
            w.die("client %s: after the last final reply it got %r, not the barrier's reply"
                  % (client.name, message[:2]))
        self.check_final(client, request, message[2], w.elements(frame)[2])
        del client.outstanding[request.cid]


if __name__ == "__main__":
    main()
