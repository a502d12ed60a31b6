"""A Megatron-like client: InferenceClient's side of the coordinator protocol.

A DEALER (SNDHWM=0, RCVHWM=0, identity left to ZMQ) sends CONNECT [0] and waits for [1], then
submits [20, cid, prompt, sampling_params] packed with use_bin_type=True and reads replies with
raw=False, checking every record as DynamicInferenceRequest.deserialize would.

    client.py --endpoint E requests --batches 40[,20...] [--seed S] [--stream-every K]
    client.py --endpoint E control --signals 40,44:7,46,... (then waits for "shutdown" on stdin)

requests: each batch is sent at once; the next batch goes once every request of the previous
one has its terminal reply. Every reply must carry one of the client's own outstanding ids
(exactly once); every record must deserialize; a COMPLETED record must echo the prompt and
sampling params as sent; a FAILED record must be exactly the coordinator's template.
control: sends each signal ([40] or [44, 7] for "44:7"), then, when the test writes "shutdown",
SHUTDOWN [61].
Output lines: connected, sent, partial, reply, done, signal, shutdown-sent.
"""

import argparse
import sys
import time

import zmq

import megatron_wire as w


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    sub = parser.add_subparsers(dest="scenario", required=True)
    requests = sub.add_parser("requests")
    requests.add_argument("--batches", required=True)
    requests.add_argument("--seed", type=int, default=1)
    requests.add_argument("--stream-every", type=int, default=0)
    requests.add_argument("--tokens", type=int, default=8)
    control = sub.add_parser("control")
    control.add_argument("--signals", required=True)
    args = parser.parse_args()

    deadline = time.monotonic() + args.seconds
    context = zmq.Context()
    socket = w.dealer(context, args.endpoint)
    connect(socket, deadline)
    if args.scenario == "requests":
        run_requests(socket, args, deadline)
    else:
        run_control(socket, args)
    socket.close()
    context.term()


def connect(socket, deadline):
    socket.send(w.pack([w.CONNECT]))
    reply = w.unpack(w.recv_within(socket, deadline, "CONNECT_ACK"))
    if reply != [w.CONNECT_ACK]:
        w.die("expected CONNECT_ACK [1], got %r" % (reply,))
    w.emit("connected")


def run_requests(socket, args, deadline):
    sizes = [int(n) for n in args.batches.split(",")]
    prompts = w.shared_prefix_prompts(sum(sizes), args.seed)
    outstanding = {}  # cid -> (prompt, sampling_params)
    cid = 0
    replies = partials = 0
    for size in sizes:
        for _ in range(size):
            stream = args.stream_every > 0 and cid % args.stream_every == 0
            params = w.sampling_params(args.tokens, stream)
            frame = w.pack([w.SUBMIT_REQUEST, cid, prompts[cid], params])
            raw = w.elements(frame)
            socket.send(frame)
            w.emit("sent", cid=cid, prompt=w.sha256(raw[2]), sp=w.sha256(raw[3]))
            outstanding[cid] = (prompts[cid], params)
            cid += 1
        while outstanding:
            frame = w.recv_within(socket, deadline,
                                  "reply for %d outstanding request(s)" % len(outstanding))
            if receive(frame, outstanding):
                replies += 1
            else:
                partials += 1
    w.emit("done", replies=replies, partials=partials)


def receive(frame, outstanding):
    """Checks one reply frame; True for a terminal reply, False for a partial one."""
    message = w.unpack(frame)  # what the Megatron client does with every frame
    if not isinstance(message, list) or not message:
        w.die("reply is not a non-empty array: %r" % (message,))
    header = message[0]
    if header == w.CONNECT_ACK:
        w.die("unexpected second CONNECT_ACK")
    if header not in (w.ENGINE_REPLY, w.ENGINE_REPLY_PARTIAL) or len(message) != 3:
        w.die("expected [21|22, cid, record], got header %r with %d elements"
              % (header, len(message)))
    raw = w.elements(frame)
    _, cid, record = message
    if cid not in outstanding:
        w.die("reply (header %d) for id %r, which is not an outstanding request of this client"
              % (header, cid))
    prompt, params = outstanding[cid]
    try:
        w.deserialize(record)
        if record["status"] == "FAILED":
            w.check_failed(record, prompt, params)
        else:
            if record.get("prompt") != prompt or type(record.get("prompt")) is not type(prompt):
                raise w.WireError("record prompt differs from the prompt sent")
            if record["sampling_params"] != params:
                raise w.WireError("record sampling_params differ from those sent")
            expected = "COMPLETED" if header == w.ENGINE_REPLY else "ACTIVE_AND_GENERATING_TOKENS"
            if record["status"] != expected:
                raise w.WireError("status %r, expected %s" % (record["status"], expected))
    except (w.WireError, KeyError, TypeError) as e:
        w.die("record for client id %d (request %r) rejected: %s"
              % (cid, record.get("request_id") if isinstance(record, dict) else None, e))
    event = "reply" if header == w.ENGINE_REPLY else "partial"
    w.emit(event, cid=cid, rid=record["request_id"], status=record["status"],
           sha256=w.sha256(raw[2]))
    if header == w.ENGINE_REPLY:
        del outstanding[cid]
        return True
    return False


def run_control(socket, args):
    for token in args.signals.split(","):
        parts = [int(p) for p in token.split(":")]
        frame = w.pack(parts)
        socket.send(frame)
        w.emit("signal", payload=frame.hex())
    line = sys.stdin.readline().strip()
    if line != "shutdown":
        w.die("expected 'shutdown' on stdin, got %r" % line)
    socket.send(w.pack([w.SHUTDOWN]))
    w.emit("shutdown-sent")


if __name__ == "__main__":
    main()
