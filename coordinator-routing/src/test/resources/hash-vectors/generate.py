#!/usr/bin/env python3
"""Writes vectors.json: block hash chains computed with Python's hashlib.

The chain is the one docs/spec/ROUTING.md defines: digest_0 is 32 zero bytes,
digest_i = SHA-256(digest_{i-1} || the block's tokens as int64 little-endian),
hash_i = (uint64_le(digest_i[0:8]) mod (2^63 - 1)) + 1; a partial tail block
produces no hash. Run it from anywhere: python3 generate.py
"""
import hashlib
import json
import os
import random
import struct


def block_hashes(tokens, block_size):
    digest = b"\x00" * 32
    out = []
    for b in range(len(tokens) // block_size):
        block = tokens[b * block_size:(b + 1) * block_size]
        digest = hashlib.sha256(digest + struct.pack("<%dq" % block_size, *block)).digest()
        raw = int.from_bytes(digest[:8], "little", signed=False)
        out.append(raw % (2**63 - 1) + 1)
    return out


def main():
    rng = random.Random(20260822)
    int64_min, int64_max = -(2**63), 2**63 - 1
    cases = []

    def add(name, tokens, block_size):
        cases.append({"name": name, "blockSize": block_size, "tokens": tokens,
                      "hashes": [str(h) for h in block_hashes(tokens, block_size)]})

    add("empty", [], 16)
    add("one token short of a block", list(range(1, 16)), 16)
    add("exactly one block", list(range(1, 17)), 16)
    add("one block and a partial tail", list(range(1, 24)), 16)
    add("three blocks", list(range(100, 148)), 16)
    add("zeros", [0] * 32, 16)
    add("extremes", [int64_max, int64_min, -1, 0, 1, 2**32, -(2**32), 2**53 + 1] * 4, 16)
    add("negative tokens", [-rng.randrange(1, 2**63) for _ in range(40)], 8)
    add("large tokens", [rng.randrange(2**62, 2**63) for _ in range(64)], 16)
    add("block size 1", [7, -7, int64_max, int64_min, 0], 1)
    add("block size 4", [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2], 4)
    add("block size 3 with tail", list(range(11)), 3)
    add("block size 64", [rng.randrange(0, 32000) for _ in range(200)], 64)
    add("block size 256", [rng.randrange(0, 150000) for _ in range(600)], 256)
    for length in (17, 31, 33, 160, 257):
        add("random vocabulary tokens, %d" % length,
            [rng.randrange(0, 32000) for _ in range(length)], 16)
    for length in (5, 48, 100):
        add("random int64 tokens, %d" % length,
            [rng.randrange(int64_min, int64_max + 1) for _ in range(length)], 16)

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
    # One case per line, so that a test can read the file without a JSON library.
    with open(path, "w") as f:
        f.write('{"description": "Block hash chains from Python hashlib; hashes are decimal '
                'strings because they exceed 2^53; one case per line.",\n"cases": [\n')
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")


if __name__ == "__main__":
    main()
