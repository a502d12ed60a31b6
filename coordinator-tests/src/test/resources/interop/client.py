"""A Megatron-like client: InferenceClient's side of the coordinator protocol, in either release.

A DEALER (SNDHWM=0, RCVHWM=0, identity left to ZMQ) sends CONNECT and waits for CONNECT_ACK,
then submits [SUBMIT_REQUEST, cid, prompt, sampling_params] packed with use_bin_type=True and
reads replies with raw=False, building every record into its release's DynamicInferenceRequest
(InferenceClient(deserialize=True): a key outside the release's fields fails).

    client.py --endpoint E [--wire 0.18|0.19] [--null-tokenizer] requests --batches 40[,20...]
              [--seed S] [--stream-every K] [--media-every K] [--gate] [--barrier]
    client.py --endpoint E [--wire 0.18|0.19] control --signals PAUSE,SET_GENERATION_EPOCH:7,...
              (then waits for "shutdown" on stdin)

--wire: the release whose wire the client speaks: 0.19 (main; CONNECT [0], SUBMIT [20, ...],
replies [21, cid, record] and partial ones [22, cid, record]) or 0.18 (core_v0.17/0.18; CONNECT
[1], SUBMIT [3, ...], replies [4, cid, record]; any header outside 1..13 is a ValueError that
ends the real client, and a partial reply has none).
--null-tokenizer: the coordinator runs `--tokenizer null`: every final record must carry the
generated_text Megatron's coordinator sets, and a 0.18 client's record of a token prompt the prompt
its own coordinator fills in (the ids as text, EOD kept). Without it generated_text stays nil.
requests: each batch is sent at once; the next batch goes once every request of the previous
one has its terminal reply (with --gate, and once the test writes "next" on stdin). Every reply
must carry one of the client's own outstanding ids (exactly once); every record must
deserialize; a COMPLETED record must carry the prompt (nil for a token prompt, unless filled) and
sampling params as sent; a FAILED record must be exactly the coordinator's template. --barrier:
then one more request, whose reply must be the next frame (no reply was left to come).
--media-every K: every K-th request (cid K-1, 2K-1, ...) carries multi_modal_data (0.19 only).
control: sends each signal (a name or a wire value; "SET_GENERATION_EPOCH:7" is [44, 7] in 0.19)
then, when the test writes "shutdown", SHUTDOWN.
Output lines: connected, sent, partial, reply, barrier, done, signal, shutdown-sent.
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
    parser.add_argument("--wire", choices=sorted(w.DIALECTS), default=w.V0_19.name)
    parser.add_argument("--null-tokenizer", action="store_true")
    sub = parser.add_subparsers(dest="scenario", required=True)
    requests = sub.add_parser("requests")
    requests.add_argument("--batches", required=True)
    requests.add_argument("--seed", type=int, default=1)
    requests.add_argument("--stream-every", type=int, default=0)
    requests.add_argument("--tokens", type=int, default=8)
    requests.add_argument("--media-every", type=int, default=0)
    requests.add_argument("--gate", action="store_true")
    requests.add_argument("--barrier", action="store_true")
    control = sub.add_parser("control")
    control.add_argument("--signals", required=True)
    w.add_curve_options(parser)
    args = parser.parse_args()
    w.use_curve(args)

    deadline = time.monotonic() + args.seconds
    dialect = w.DIALECTS[args.wire]
    context = zmq.Context()
    socket = w.connected_client(context, args.endpoint, deadline, dialect)
    w.emit("connected", wire=dialect.name)
    if args.scenario == "requests":
        Requests(socket, dialect, w.NULL_EOD if args.null_tokenizer else None, deadline).run(args)
    else:
        run_control(socket, dialect, args)
    socket.close()
    context.term()


class Requests:
    def __init__(self, socket, dialect, eod, deadline):
        self.socket = socket
        self.dialect = dialect
        self.eod = eod  # None: the coordinator has no tokenizer
        self.deadline = deadline
        self.outstanding = {}  # cid -> (prompt, sampling_params)
        self.next_cid = 0

    def run(self, args):
        sizes = [int(n) for n in args.batches.split(",")]
        prompts = w.shared_prefix_prompts(sum(sizes), args.seed)
        replies = partials = 0
        for index, size in enumerate(sizes):
            if index > 0 and args.gate:
                line = sys.stdin.readline().strip()
                if line != "next":
                    w.die("expected 'next' on stdin, got %r" % line)
            for _ in range(size):
                cid = self.next_cid
                stream = args.stream_every > 0 and cid % args.stream_every == 0
                media = None
                if args.media_every > 0 and cid % args.media_every == args.media_every - 1:
                    media = {"image": [b"\x89PNG\r\n\x1a\n" + bytes([cid % 256]) * 32]}
                self.submit(prompts[cid], w.sampling_params(args.tokens, stream), media)
            while self.outstanding:
                frame = w.recv_within(self.socket, self.deadline,
                                      "reply for %d outstanding request(s)" % len(self.outstanding))
                if self.receive(frame, "reply"):
                    replies += 1
                else:
                    partials += 1
        if args.barrier:
            cid = self.submit([7, 8, 9], w.sampling_params(args.tokens, False))
            frame = w.recv_within(self.socket, self.deadline, "the barrier request's reply")
            if not self.receive(frame, "barrier") or self.outstanding:
                w.die("after the last reply the next frame was not the barrier's (%d) reply" % cid)
        w.emit("done", replies=replies, partials=partials)

    def submit(self, prompt, params, media=None):
        """Sends [SUBMIT_REQUEST, cid, prompt, params] (with multi_modal_data: 5 elements)."""
        cid = self.next_cid
        self.next_cid += 1
        message = [self.dialect.SUBMIT_REQUEST, cid, prompt, params]
        if media is not None:
            if self.dialect is w.V0_18:
                w.die("a %r client has no multi_modal_data to send" % self.dialect)
            message.append(media)
        frame = w.pack(message)
        raw = w.elements(frame)
        self.socket.send(frame)
        digests = {"media": w.sha256(raw[4])} if media is not None else {}
        w.emit("sent", cid=cid, prompt=w.sha256(raw[2]), sp=w.sha256(raw[3]), **digests)
        self.outstanding[cid] = (prompt, params)
        return cid

    def receive(self, frame, event):
        """Checks one reply frame; True for a terminal reply, False for a partial one."""
        d = self.dialect
        message = w.unpack(frame)  # what the Megatron client does with every frame
        if not isinstance(message, list) or not message:
            w.die("reply is not a non-empty array: %r" % (message,))
        header = message[0]
        if header not in d.names:
            w.die("%r has no header %r (Headers(%r) raises)" % (d, header, header))
        partial = d.headers.get("ENGINE_REPLY_PARTIAL")
        if header not in (d.ENGINE_REPLY, partial) or len(message) != 3:
            w.die("expected [%s, cid, record], got %s with %d elements"
                  % ("|".join(str(h) for h in (d.ENGINE_REPLY, partial) if h is not None),
                     d.names[header], len(message)))
        raw = w.elements(frame)
        _, cid, record = message
        if cid not in self.outstanding:
            w.die("reply (%s) for id %r, which is not an outstanding request of this client"
                  % (d.names[header], cid))
        final = header == d.ENGINE_REPLY
        try:
            self.check(record, final, *self.outstanding[cid])
        except (w.WireError, KeyError, TypeError) as e:
            w.die("record for client id %d (request %r) rejected: %s"
                  % (cid, record.get("request_id") if isinstance(record, dict) else None, e))
        w.emit(event if final else "partial", cid=cid, rid=record["request_id"],
               status=record.get("status"), keys=len(record), sha256=w.sha256(raw[2]))
        if final:
            del self.outstanding[cid]
        return final

    def check(self, record, final, prompt, params):
        if not final:  # main's partial, which the client queues as it is: the new tokens
            if sorted(record) != ["new_tokens", "request_id"] or not all(
                    type(t) is int for t in record["new_tokens"]):
                raise w.WireError("partial reply %r is not {request_id, new_tokens}" % (record,))
            return
        w.deserialize_request(record, self.dialect)
        if record["status"] == "FAILED":
            w.check_failed(record, prompt, params, self.dialect)
            return
        if record["status"] != "COMPLETED":
            raise w.WireError("status %r, expected COMPLETED" % (record["status"],))
        if record["sampling_params"] != params:
            raise w.WireError("record sampling_params differ from those sent")
        got = record.get("prompt")
        if isinstance(prompt, str):
            allowed = [prompt]  # the engine keeps a text prompt
        elif self.dialect is w.V0_18 and self.eod is not None:
            # the 0.18 coordinator fills a nil prompt from the prompt's ids, EOD kept
            allowed = [w.controller_detokenize(self.eod, w.null_ids_to_text, prompt, False)]
        else:
            allowed = [None, prompt]  # nil as Megatron's engine sets it, or echoed by a simulator
        if not any(got == a and type(got) is type(a) for a in allowed):
            raise w.WireError("record prompt %r, expected one of %r" % (got, allowed))
        text = None
        if self.eod is not None:
            text = w.controller_detokenize(
                self.eod, w.null_ids_to_text, record["generated_tokens"],
                not (params.get("detokenize_stop_sequence") or False))
        if record.get("generated_text") != text:
            raise w.WireError("generated_text %r, expected %r"
                              % (record.get("generated_text"), text))


def run_control(socket, dialect, args):
    for token in args.signals.split(","):
        name, *rest = token.split(":")
        frame = w.pack([dialect.value(name)] + [int(p) for p in rest])
        socket.send(frame)
        value = w.unpack(frame)[0]
        w.emit("signal", name=dialect.names.get(value, value), payload=frame.hex())
    line = sys.stdin.readline().strip()
    if line != "shutdown":
        w.die("expected 'shutdown' on stdin, got %r" % line)
    socket.send(w.pack([dialect.SHUTDOWN]))
    w.emit("shutdown-sent")


if __name__ == "__main__":
    main()
