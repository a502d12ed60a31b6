package io.dpcoord.routing;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Megatron's block hash chain: one hash per complete block of {@code blockSize} tokens.
 *
 * <p>{@code digest_0} is 32 zero bytes; block {@code i} has {@code digest_i = SHA-256(digest_{i-1}
 * || tokens as int64 little-endian)} and hash {@code (uint64_le(digest_i[0..8]) mod (2^63 - 1)) +
 * 1}, a value in {@code [1, 2^63 - 1]}. A partial tail block produces no hash. Because the digests
 * chain, equal hashes at depth {@code i} mean equal prompts up to the end of block {@code i}.
 *
 * <p>Not thread-safe: an instance reuses its digest and buffers (the hash output among them), so
 * give each thread its own.
 */
public final class BlockHasher {
  private static final VarHandle LONG_LE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final int DIGEST_BYTES = 32;

  private final int blockSize;
  private final MessageDigest sha256;
  /* digest_{i-1} then block i's tokens: one update per block, and the digest lands in place. */
  private final byte[] message;
  private long[] hashes = new long[64];

  /**
   * Creates a hasher for blocks of {@code blockSizeTokens} tokens.
   *
   * @throws IllegalArgumentException if the block size is not positive
   */
  public BlockHasher(int blockSizeTokens) {
    if (blockSizeTokens <= 0 || blockSizeTokens > Integer.MAX_VALUE / Long.BYTES) {
      throw new IllegalArgumentException(
          "block size must be a positive token count, got " + blockSizeTokens);
    }
    this.blockSize = blockSizeTokens;
    this.message = new byte[DIGEST_BYTES + blockSizeTokens * Long.BYTES];
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      // every Java platform must provide SHA-256
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** The number of tokens in one block. */
  public int blockSize() {
    return blockSize;
  }

  /**
   * Hashes the first {@code blocks} complete blocks of {@code tokens} into {@link #hashes()} and
   * returns {@code blocks}.
   *
   * @throws IllegalArgumentException if {@code tokens} holds fewer than {@code blocks} complete
   *     blocks
   */
  public int hash(long[] tokens, int blocks) {
    if (tokens == null || blocks < 0 || blocks > tokens.length / blockSize) {
      throw new IllegalArgumentException(
          blocks
              + " blocks of "
              + blockSize
              + " tokens do not fit in the token array of "
              + (tokens == null ? "null" : tokens.length));
    }
    if (hashes.length < blocks) {
      hashes = new long[Math.max(blocks, hashes.length * 2)];
    }
    Arrays.fill(message, 0, DIGEST_BYTES, (byte) 0);
    int t = 0;
    for (int b = 0; b < blocks; b++) {
      for (int j = DIGEST_BYTES; j < message.length; j += Long.BYTES) {
        LONG_LE.set(message, j, tokens[t++]);
      }
      sha256.update(message, 0, message.length);
      try {
        sha256.digest(message, 0, DIGEST_BYTES);
      } catch (DigestException e) {
        // cannot happen: the space holds exactly one SHA-256 digest
        throw new IllegalStateException(e);
      }
      long raw = (long) LONG_LE.get(message, 0);
      hashes[b] = Long.remainderUnsigned(raw, Long.MAX_VALUE) + 1;
    }
    return blocks;
  }

  /**
   * The hashes written by the last {@link #hash} call, in {@code [0, blocks)}: the hasher's own
   * array, which grows as needed and is overwritten by the next call.
   */
  public long[] hashes() {
    return hashes;
  }
}
