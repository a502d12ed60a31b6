"""A test fixture, not Megatron: a coordinator with the constructor and start() of Megatron-LM's
DataParallelInferenceCoordinator (main, 2026) as the load benchmark's Megatron server calls them,
so that the benchmark's handling of that server (its endpoint, its engines, its CPU times by
thread, its stop) is tested where Megatron-LM and torch are not installed. It speaks Megatron's
main wire (CONNECT 0, CONNECT_ACK 1, SUBMIT_REQUEST 20, ENGINE_REPLY 21) and sends each request to
the engine with the fewest pending, as Megatron does with prefix caching off.
"""
import msgpack
import zmq

CONNECT, CONNECT_ACK, SUBMIT_REQUEST, ENGINE_REPLY = 0, 1, 20, 21


class DataParallelInferenceCoordinator:
    def __init__(self, pipe_connection, data_parallel_size, tokenizer, max_requests,
                 inference_coordinator_port=None, deterministic_mode=False,
                 block_size_tokens=None, enable_prefix_caching=False,
                 prefix_caching_coordinator_policy=None, prefix_caching_routing_alpha=0.5,
                 schedule_output_path=None, hostname=None):
        self.tokenizer = tokenizer
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.socket.bind_to_random_port(f"tcp://{hostname}")
        pipe_connection.send(self.socket.getsockopt_string(zmq.LAST_ENDPOINT))
        pipe_connection.close()
        self.pending = {}
        while len(self.pending) < data_parallel_size:
            identity, _ = self.socket.recv_multipart()
            self.pending[identity] = 0
        self.requests = {}
        self.next_request_id = 0

    def start(self):
        while True:
            sender, payload = self.socket.recv_multipart()
            if payload == b"":
                self.pending.setdefault(sender, 0)
                continue
            message = msgpack.unpackb(payload, raw=False)
            if message[0] == CONNECT:
                self.socket.send_multipart([sender, msgpack.packb([CONNECT_ACK])])
            elif message[0] == SUBMIT_REQUEST:
                request_id = self.next_request_id
                self.next_request_id += 1
                engine = min(self.pending, key=self.pending.get)
                self.pending[engine] += 1
                self.requests[request_id] = (sender, message[1], engine)
                forward = [SUBMIT_REQUEST, request_id, *message[2:4], None]
                self.socket.send_multipart([engine, msgpack.packb(forward, use_bin_type=True)])
            elif message[0] == ENGINE_REPLY:
                for record in message[1]:
                    client, client_request_id, engine = self.requests.pop(record["request_id"])
                    self.pending[engine] -= 1
                    record["generated_text"] = self.tokenizer.detokenize(
                        record["generated_tokens"])
                    reply = [ENGINE_REPLY, client_request_id, record]
                    self.socket.send_multipart([client, msgpack.packb(reply, use_bin_type=True)])
