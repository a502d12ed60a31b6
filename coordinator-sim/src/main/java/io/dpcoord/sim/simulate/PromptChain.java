package io.dpcoord.sim.simulate;

import java.util.Arrays;

/**
 * A synthetic prompt under construction, described by its segments (a system prompt, a document, a
 * user message: each an id and a length in tokens) and hashed block by block as segments are
 * appended, without any token being made.
 *
 * <p>A block's content is the list of segment pieces it holds (segment id, offset in the segment,
 * length), folded into one 64-bit value; its hash chains the previous block's: {@code hash_i =
 * combine(hash_{i-1}, content_i)} with a SplitMix64 finalizer as the mixer. So two prompts made of
 * the same segments up to the end of block {@code i} have equal hashes up to {@code i}, and a
 * prompt that extends another (the next turn of a chat) starts with the other's complete blocks.
 * Unequal prefixes collide only by chance, with probability about 2^-64 per pair of blocks.
 *
 * <p>Not thread-safe; each iterator owns its chains.
 */
final class PromptChain {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private static final long EMPTY_BLOCK = 0x2545F4914F6CDD1DL;

  private final int blockSize;
  private long[] hashes = new long[64];
  private int blocks;
  private long chain;
  private long partial = EMPTY_BLOCK;
  private int fill;
  private int tokens;

  PromptChain(int blockSize) {
    this.blockSize = blockSize;
  }

  /** Empties the prompt. */
  void clear() {
    blocks = 0;
    chain = 0;
    partial = EMPTY_BLOCK;
    fill = 0;
    tokens = 0;
  }

  /** Appends {@code length} tokens of segment {@code segment}, from its start. */
  void append(long segment, int length) {
    if (length > Integer.MAX_VALUE - tokens) {
      throw new IllegalStateException("a prompt of more than 2^31 - 1 tokens");
    }
    int offset = 0;
    while (offset < length) {
      int take = Math.min(length - offset, blockSize - fill);
      partial = combine(combine(partial, segment), ((long) offset << 32) | take);
      fill += take;
      offset += take;
      if (fill == blockSize) {
        chain = combine(chain, partial);
        if (blocks == hashes.length) {
          hashes = Arrays.copyOf(hashes, blocks * 2);
        }
        hashes[blocks++] = chain;
        partial = EMPTY_BLOCK;
        fill = 0;
      }
    }
    tokens += length;
  }

  /** The prompt's length in tokens. */
  int tokens() {
    return tokens;
  }

  /** The hashes of the prompt's complete blocks, a new array. */
  long[] blocks() {
    return Arrays.copyOf(hashes, blocks);
  }

  /** SplitMix64's finalizer (Steele, Lea and Flood, OOPSLA 2014): a bijection of 64-bit values. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Folds {@code x} into {@code h}: one-to-one in each argument, and order matters. */
  static long combine(long h, long x) {
    return mix(h ^ mix(x + GOLDEN));
  }
}
