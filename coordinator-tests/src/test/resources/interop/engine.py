"""A Megatron-like engine: DynamicInferenceEngine's side of the coordinator protocol.

A DEALER with identity mp-coord-<rank> registers with an empty frame, reads
[20, rid, prompt, sampling_params, multi_modal_data], answers [21, [record, ...]] with
DynamicInferenceRequest-shaped records (streamed requests get a [22, [record, ...]] first),
logs every control signal it receives, and on STOP sends DISCONNECT [60] and exits.

    engine.py --endpoint tcp://127.0.0.1:P --rank 0 [--hold N] [--die-after K] [--seconds S]

--hold N       hold every reply until N requests have arrived, then answer them all in one
               message and the rest at once
--die-after K  answer nothing; on the K-th request exit at once with status 17 (os._exit: no
               DISCONNECT, no replies), like a crashed GPU process
Output lines: registered, request, partial, reply, signal, other, dying, stopped.
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
    parser.add_argument("--hold", type=int, default=0)
    parser.add_argument("--die-after", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    identity = "mp-coord-%d" % args.rank
    context = zmq.Context()
    socket = w.dealer(context, args.endpoint, identity)
    socket.send(b"")  # registration: an empty frame
    w.emit("registered", identity=identity)
    rng = random.Random(args.rank)
    engine = Engine(socket, rng, args.hold, args.die_after)
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
    def __init__(self, socket, rng, hold, die_after):
        self.socket = socket
        self.rng = rng
        self.hold = hold
        self.die_after = die_after
        self.received = 0
        self.waiting = []  # (rid, prompt, sampling_params, arrival) not yet answered

    def handle(self, frame):
        """Handles one frame; False once the engine has stopped."""
        message = w.unpack(frame)
        if not isinstance(message, list) or not message:
            w.die("engine got a frame that is not a non-empty array: %r" % frame[:64])
        header = message[0]
        if header == w.SUBMIT_REQUEST:
            self.submit(frame, message)
        elif header in w.CONTROL_SIGNALS:
            w.emit("signal", header=header, payload=frame.hex())
            if header == w.STOP:
                self.socket.send(w.pack([w.DISCONNECT]))
                w.emit("stopped")
                return False
        else:
            w.emit("other", header=header, payload=frame.hex())
        return True

    def submit(self, frame, message):
        if len(message) != 5:
            w.die("SUBMIT_REQUEST to an engine must have 5 elements, got %d" % len(message))
        _, rid, prompt, params, media = message
        if not isinstance(rid, int) or isinstance(rid, bool):
            w.die("request id %r is not an int" % (rid,))
        if not (isinstance(prompt, str) or (
                isinstance(prompt, list) and all(isinstance(t, int) for t in prompt))):
            w.die("prompt of request %d is neither text nor a token list" % rid)
        if not isinstance(params, dict):
            w.die("sampling_params of request %d is not a map" % rid)
        if media is not None and not isinstance(media, dict):
            w.die("multi_modal_data of request %d is neither nil nor a map" % rid)
        raw = w.elements(frame)
        w.emit("request", rid=rid, prompt=w.sha256(raw[2]), sp=w.sha256(raw[3]),
               media=w.sha256(raw[4]))
        self.received += 1
        if self.die_after and self.received == self.die_after:
            w.emit("dying", received=self.received)
            os._exit(17)
        self.waiting.append((rid, prompt, params, time.time()))
        if self.hold and self.received == self.hold:
            self.hold = 0  # release everything held, then answer at once

    def step(self):
        """Answers what is waiting: one partial batch for streamed requests, one final batch."""
        if self.hold or self.die_after or not self.waiting:
            return
        partials, finals = [], []
        for rid, prompt, params, arrival in self.waiting:
            count = max(1, min(64, int(params.get("num_tokens_to_generate") or 8)))
            tokens = w.generated_tokens(rid, count)
            if params.get("stream") is True:
                record = w.engine_record(rid, prompt, params, "ACTIVE_AND_GENERATING_TOKENS",
                                         tokens[:count // 2], arrival, self.rng)
                w.emit("partial", rid=rid, sha256=w.sha256(w.pack(record)))
                partials.append(record)
            record = w.engine_record(rid, prompt, params, "COMPLETED", tokens, arrival, self.rng)
            w.emit("reply", rid=rid, sha256=w.sha256(w.pack(record)))
            finals.append(record)
        self.waiting = []
        if partials:
            self.socket.send(w.pack([w.ENGINE_REPLY_PARTIAL, partials]))
        self.socket.send(w.pack([w.ENGINE_REPLY, finals]))


if __name__ == "__main__":
    main()
