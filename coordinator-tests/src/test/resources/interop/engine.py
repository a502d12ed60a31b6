"""A Megatron-like engine: DynamicInferenceEngine's side of the coordinator protocol.

A DEALER with identity mp-coord-<rank> registers with an empty frame, reads SUBMIT_REQUESTs,
answers [ENGINE_REPLY, [record, ...]] with DynamicInferenceRequest-shaped records (0.19 engines
send a request whose sampling_params has "streaming": true a [22, [{request_id, new_tokens}]]
first, main's partial reply), logs every control signal it receives, and on
STOP sends DISCONNECT and exits.

    engine.py --endpoint tcp://127.0.0.1:P --rank 0 [--wire 0.18|0.19] [--v0190-submit]
              [--null-tokenizer] [--hold N] [--die-after K] [--seconds S]

--wire 0.19    main: reads [20, rid, prompt, sampling_params] or [20, rid, prompt, sampling_params,
               multi_modal_data] (main's engine takes both), answers [21, ...] with main's
               36-field records, DISCONNECT is [60]; any other header is logged
--v0190-submit with --wire 0.19: reads exactly [20, rid, prompt, sampling_params], as core_v0.19.0's
               engine does (`request_id, prompt, sampling_params = data[1:]`: a fifth element is
               the ValueError that ends it)
--wire 0.18    core_v0.18.2: reads exactly [3, rid, prompt, sampling_params] (a 4th field is the
               ValueError that ends the real engine, and so is any header but SUBMIT_REQUEST and
               the control signals 5..10), answers [4, ...] with 0.18's 31-field records, never
               streams, DISCONNECT is [11]
--null-tokenizer  the coordinator runs `--tokenizer null`: every third request's generation ends in
               one EOD, every third in two; the digests of each reply as each client should get it
               are computed with Megatron's detokenization
--hold N       hold every reply until N requests have arrived, then answer them all in one
               message and the rest at once
--die-after K  answer nothing; on the K-th request exit at once with status 17 (os._exit: no
               DISCONNECT, no replies), like a crashed GPU process
Output lines: registered, request, partial, reply, signal, other, dying, stopped. A reply line
carries the digest of the record as packed (sha256) and as a 0.18 and a 0.19 client should
receive it (v018, v019: megatron_wire.as_client_gets_it).
"""

import argparse
import os
import random
import time

import zmq

import megatron_wire as w


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--rank", type=int, required=True)
    parser.add_argument("--wire", choices=sorted(w.DIALECTS), default=w.V0_19.name)
    parser.add_argument("--v0190-submit", action="store_true")
    parser.add_argument("--null-tokenizer", action="store_true")
    parser.add_argument("--hold", type=int, default=0)
    parser.add_argument("--die-after", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=60.0)
    w.add_curve_options(parser)
    args = parser.parse_args()
    w.use_curve(args)

    identity = "mp-coord-%d" % args.rank
    context = zmq.Context()
    socket = w.dealer(context, args.endpoint, identity)
    socket.send(b"")  # registration: an empty frame
    w.emit("registered", identity=identity)
    engine = Engine(socket, w.DIALECTS[args.wire], random.Random(args.rank),
                    w.NULL_EOD if args.null_tokenizer else None, args.hold, args.die_after,
                    args.v0190_submit)
    deadline = time.monotonic() + args.seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            w.die("engine %s ran past its %.0f s deadline" % (identity, args.seconds))
        if not socket.poll(int(min(left, 1.0) * 1000) + 1):
            continue
        while True:
            try:
                frame = socket.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            if not engine.handle(frame):
                socket.close()
                context.term()
                return
        engine.step()


class Engine:
    def __init__(self, socket, dialect, rng, eod, hold, die_after, short_submit_only=False):
        self.socket = socket
        # the SUBMIT lengths this release's engine unpacks: 0.18's and core_v0.19.0's exactly
        # three fields after the header, main's three or four
        self.submit_lengths = (4,) if dialect is w.V0_18 or short_submit_only else (4, 5)
        self.dialect = dialect
        self.rng = rng
        self.eod = eod  # None: the coordinator has no tokenizer
        self.hold = hold
        self.die_after = die_after
        self.received = 0
        self.waiting = []  # (rid, prompt, sampling_params, arrival) not yet answered

    def handle(self, frame):
        """Handles one frame; False once the engine has stopped."""
        d = self.dialect
        message = w.unpack(frame)
        if not isinstance(message, list) or not message:
            w.die("engine got a frame that is not a non-empty array: %r" % frame[:64])
        header = message[0]
        if header == d.SUBMIT_REQUEST:
            self.submit(frame, message)
        elif header in d.control_signals:
            w.emit("signal", header=header, name=d.names[header], payload=frame.hex())
            if header == d.STOP:
                self.socket.send(w.pack([d.DISCONNECT]))
                w.emit("stopped")
                return False
        elif d is w.V0_18:
            # Headers(value) raises ValueError, or the engine's loop raises UnknownHeaderError
            w.die("a %r engine cannot take header %r (frame %s)" % (d, header, frame.hex()))
        else:
            w.emit("other", header=header, payload=frame.hex())
        return True

    def submit(self, frame, message):
        fields = len(message)
        if fields not in self.submit_lengths:
            w.die("SUBMIT_REQUEST to a %r engine must have %s elements, got %d"
                  % (self.dialect, " or ".join(map(str, self.submit_lengths)), fields))
        _, rid, prompt, params = message[:4]
        if not isinstance(rid, int) or isinstance(rid, bool):
            w.die("request id %r is not an int" % (rid,))
        if not (isinstance(prompt, str) or (
                isinstance(prompt, list) and all(isinstance(t, int) for t in prompt))):
            w.die("prompt of request %d is neither text nor a token list" % rid)
        if not isinstance(params, dict):
            w.die("sampling_params of request %d is not a map" % rid)
        media = message[4] if fields == 5 else None
        if media is not None and not isinstance(media, dict):
            w.die("multi_modal_data of request %d is neither nil nor a map" % rid)
        raw = w.elements(frame)
        digests = {"media": w.sha256(raw[4])} if fields == 5 else {}
        w.emit("request", rid=rid, fields=len(message), prompt=w.sha256(raw[2]),
               sp=w.sha256(raw[3]), **digests)
        self.received += 1
        if self.die_after and self.received == self.die_after:
            w.emit("dying", received=self.received)
            os._exit(17)
        self.waiting.append((rid, prompt, params, time.time()))
        if self.hold and self.received == self.hold:
            self.hold = 0  # release everything held, then answer at once

    def generated(self, rid, params):
        count = max(1, min(64, int(params.get("num_tokens_to_generate") or 8)))
        tokens = w.generated_tokens(rid, count)
        eods = rid % 3 if self.eod is not None else 0
        if eods and count > eods:
            tokens[-eods:] = [self.eod] * eods
        return tokens

    def step(self):
        """Answers what is waiting: one partial batch for streamed requests, one final batch."""
        if self.hold or self.die_after or not self.waiting:
            return
        d = self.dialect
        partials, finals = [], []
        for rid, prompt, params, arrival in self.waiting:
            tokens = self.generated(rid, params)
            if params.get("streaming") is True and d is w.V0_19:
                # main's engine streams {"request_id", "new_tokens"}: the tokens since the last
                partial = {"request_id": rid, "new_tokens": tokens[:len(tokens) // 2]}
                w.emit("partial", rid=rid, sha256=w.sha256(w.pack(partial)))
                partials.append(partial)
            record = w.engine_record(rid, prompt, params, "COMPLETED", tokens, arrival, self.rng, d)
            w.emit("reply", rid=rid, sha256=w.sha256(w.pack(record)),
                   v018=self.digest_for(w.V0_18, record), v019=self.digest_for(w.V0_19, record))
            finals.append(record)
        self.waiting = []
        if partials:
            self.socket.send(w.pack([d.ENGINE_REPLY_PARTIAL, partials]))
        self.socket.send(w.pack([d.ENGINE_REPLY, finals]))

    def digest_for(self, client, record):
        return w.sha256(w.pack(w.as_client_gets_it(record, client, self.eod)))


if __name__ == "__main__":
    main()
