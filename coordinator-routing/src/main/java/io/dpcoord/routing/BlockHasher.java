package io.dpcoord.routing;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;

/**
 * Megatron's block hash chain: one hash per complete block of {@code blockSize} tokens.
 *
 * <p>{@code digest_0} is 32 zero bytes; block {@code i} has {@code digest_i = SHA-256(digest_{i-1}
 * || tokens as int64 little-endian)} and hash {@code (uint64_le(digest_i[0..8]) mod (2^63 - 1)) +
 * 1}, a value in {@code [1, 2^63 - 1]}. A partial tail block produces no hash. Because the digests
 * chain, equal hashes at depth {@code i} mean equal prompts up to the end of block {@code i}.
 *
 * <p>With a memo ({@link #BlockHasher(int, int)}), digests already computed are looked up instead
 * of computed again: prompts that share a prefix (a system prompt, a conversation's earlier turns,
 * the very traffic prefix routing is for) share its blocks' digests. The memo is a direct-mapped
 * table of {@code (digest_{i-1}, tokens) -> digest_i}, compared in full before use, so its answers
 * are exactly SHA-256's; a newer entry replaces whatever held its slot. For 16-token blocks a hit
 * costs about 30 ns against about 150 ns for the digest, and a miss adds about 10 %
 * (docs/PERFORMANCE.md, "A memo of block digests").
 *
 * <p>With a table of latest prompts ({@link #BlockHasher(int, int, int, int)}), the prompt hashed
 * last with each first block is kept (its first {@link #LATEST_BLOCKS} blocks: tokens, hashes and
 * digests), and a prompt that starts as it does takes the hashes of the blocks they share after one
 * comparison, instead of one memo lookup a block (docs/PERFORMANCE.md, "The latest prompt per first
 * block").
 *
 * <p>Not thread-safe: an instance reuses its digest and buffers (the hash output among them), so
 * give each thread its own.
 */
public final class BlockHasher {
  private static final VarHandle LONG_LE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final int DIGEST_BYTES = 32;
  private static final int DIGEST_LONGS = DIGEST_BYTES / Long.BYTES;
  private static final long MIX = 0x9E3779B97F4A7C15L;

  private final int blockSize;
  private final MessageDigest sha256;
  /* digest_{i-1} then block i's tokens: one update per block, and the digest lands in place. */
  private final byte[] message;
  private long[] hashes = new long[64];
  /*
   * The memo's slots, each [tag, digest_{i-1} (4 longs), tokens (blockSize longs), digest_i (4
   * longs)]; tag 0 marks an empty slot, else it is the block's mix with its low bit set.
   */
  private final long[] memo;
  private final int slotLongs;
  private final int memoSlots;
  /* The recent prompts (see the three-argument constructor), oldest first, and their tokens. */
  private final ArrayDeque<Recent> recent;
  private final long recentBudget;
  private long recentHeld;
  /* Set by longestShared: the recent prompt sharing the most leading blocks, and how many. */
  private Recent shared;
  private int sharedBlocks;
  private long reused;
  /*
   * The latest prompts' slots, each [tag, blocks, tokens (LATEST_BLOCKS x blockSize), hashes
   * (LATEST_BLOCKS), digests (LATEST_BLOCKS x 4 longs)]; tag 0 marks an empty slot, else it is the
   * first block's mix with its low bit set.
   */
  private final long[] latest;
  private final int latestSlots;
  private final int latestSlotLongs;
  /* Set by recallLatest for the hash call under way: the prompt's slot and its tag. */
  private int latestAt;
  private long latestTag;

  /** How many leading blocks of a prompt a slot of the table of latest prompts keeps. */
  public static final int LATEST_BLOCKS = 64;

  /** A prompt hashed before: its tokens, its hashes (one a block) and its blocks' digests. */
  private record Recent(long[] tokens, long[] hashes, byte[] digests) {}

  /**
   * Creates a hasher for blocks of {@code blockSizeTokens} tokens, without a memo.
   *
   * @throws IllegalArgumentException if the block size is not positive
   */
  public BlockHasher(int blockSizeTokens) {
    this(blockSizeTokens, 0);
  }

  /**
   * Creates a hasher for blocks of {@code blockSizeTokens} tokens whose memo of digests takes at
   * most {@code memoBytes} bytes: as many slots of {@code 9 + blockSizeTokens} longs as fit (none
   * when not even one does).
   *
   * @throws IllegalArgumentException if the block size is not positive or the memo size negative
   */
  public BlockHasher(int blockSizeTokens, int memoBytes) {
    this(blockSizeTokens, memoBytes, 0);
  }

  /**
   * Creates a hasher as {@link #BlockHasher(int, int)} that also remembers the prompts it hashed
   * last, up to {@code recentPromptTokens} tokens in all: a prompt whose leading blocks equal a
   * remembered prompt's (compared token by token) takes their hashes and continues the chain from
   * the last one's digest, so a long shared prefix (a system prompt, a conversation's earlier
   * turns) is hashed once, not once a request. It keeps references to the token arrays it hashed,
   * which must not change afterwards; a prompt longer than the budget is not remembered, a newer
   * one replaces the oldest, and one whose blocks are all in a newer one gives way to it.
   *
   * @throws IllegalArgumentException if the block size is not positive or a size negative
   */
  public BlockHasher(int blockSizeTokens, int memoBytes, int recentPromptTokens) {
    this(blockSizeTokens, memoBytes, recentPromptTokens, 0);
  }

  /**
   * Creates a hasher as {@link #BlockHasher(int, int, int)} with a table of latest prompts of at
   * most {@code latestBytes} bytes: as many slots as fit (none when not even one does), each of
   * {@code 2 + LATEST_BLOCKS x (blockSizeTokens + 5)} longs, keeping the first {@link
   * #LATEST_BLOCKS} blocks of the prompt hashed last whose first block maps there: a prompt with
   * the same first block takes the hashes of the leading blocks it shares with that one (compared
   * token by token) and continues the chain from the last one's digest. The table copies what it
   * keeps. It suits many prompts that start with one of a few shared prefixes (system prompts,
   * documents); the memo still serves the blocks past them.
   *
   * @throws IllegalArgumentException if the block size is not positive, a size negative, or both
   *     recent prompts and a table are asked for
   */
  public BlockHasher(int blockSizeTokens, int memoBytes, int recentPromptTokens, int latestBytes) {
    if (recentPromptTokens < 0) {
      throw new IllegalArgumentException(
          "recent prompt tokens must not be negative, got " + recentPromptTokens);
    }
    this.recentBudget = recentPromptTokens;
    this.recent = recentPromptTokens == 0 ? null : new ArrayDeque<>();
    if (blockSizeTokens <= 0 || blockSizeTokens > Integer.MAX_VALUE / Long.BYTES - 16) {
      throw new IllegalArgumentException(
          "block size must be a positive token count, got " + blockSizeTokens);
    }
    if (memoBytes < 0) {
      throw new IllegalArgumentException("memo size must not be negative, got " + memoBytes);
    }
    this.blockSize = blockSizeTokens;
    this.message = new byte[DIGEST_BYTES + blockSizeTokens * Long.BYTES];
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      // every Java platform must provide SHA-256
      throw new IllegalStateException("SHA-256 is not available", e);
    }
    this.slotLongs = 1 + 2 * DIGEST_LONGS + blockSizeTokens;
    this.memoSlots =
        (int) Math.min(memoBytes / ((long) slotLongs * Long.BYTES), Integer.MAX_VALUE / slotLongs);
    this.memo = memoSlots == 0 ? null : new long[memoSlots * slotLongs];
    if (latestBytes < 0) {
      throw new IllegalArgumentException(
          "latest prompts' size must not be negative, got " + latestBytes);
    }
    if (latestBytes > 0 && recentPromptTokens > 0) {
      throw new IllegalArgumentException(
          "a hasher keeps recent prompts or a table of latest prompts, not both");
    }
    long latestLongs = 2 + (long) LATEST_BLOCKS * (blockSizeTokens + 1 + DIGEST_LONGS);
    this.latestSlotLongs = (int) Math.min(latestLongs, Integer.MAX_VALUE); // none fits if capped
    this.latestSlots =
        (int) Math.min(latestBytes / (latestLongs * Long.BYTES), Integer.MAX_VALUE / latestLongs);
    this.latest = latestSlots == 0 ? null : new long[latestSlots * latestSlotLongs];
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
    int start = 0;
    byte[] digests = null;
    if (recent != null && blocks > 0) {
      longestShared(tokens, blocks);
      start = sharedBlocks;
      reused += start;
      digests = new byte[blocks * DIGEST_BYTES];
      if (start > 0) {
        System.arraycopy(shared.hashes, 0, hashes, 0, start);
        System.arraycopy(shared.digests, 0, digests, 0, start * DIGEST_BYTES);
        System.arraycopy(digests, (start - 1) * DIGEST_BYTES, message, 0, DIGEST_BYTES);
      }
    }
    if (latest != null && blocks > 0) {
      start = recallLatest(tokens, blocks);
    }
    if (start == 0) {
      Arrays.fill(message, 0, DIGEST_BYTES, (byte) 0);
    }
    // a prompt enters the table once its first block has been seen before (the memo knows it):
    // prompts that share nothing would only overwrite it
    boolean keep = latest != null && (start > 0 || memo == null);
    for (int b = start, t = start * blockSize; b < blocks; b++, t += blockSize) {
      if (memo == null) {
        digest(tokens, t);
      } else if (recallOrDigest(tokens, t) && b == 0) {
        keep = latest != null;
      }
      long raw = (long) LONG_LE.get(message, 0);
      hashes[b] = Long.remainderUnsigned(raw, Long.MAX_VALUE) + 1;
      if (digests != null) {
        System.arraycopy(message, 0, digests, b * DIGEST_BYTES, DIGEST_BYTES);
      }
      if (keep && b < LATEST_BLOCKS) {
        keepLatest(tokens, b);
      }
    }
    if (keep && blocks > 0) {
      latest[latestAt] = latestTag;
      latest[latestAt + 1] = Math.min(blocks, LATEST_BLOCKS);
    }
    if (digests != null) {
      remember(new Recent(tokens, Arrays.copyOf(hashes, blocks), digests));
    }
    return blocks;
  }

  /**
   * Finds the remembered prompt that shares the most complete leading blocks with {@code tokens[0,
   * blocks x blockSize)}: {@link #shared} and {@link #sharedBlocks} (0 if none). A prompt whose
   * first block differs is passed over after that block's comparison.
   */
  private void longestShared(long[] tokens, int blocks) {
    shared = null;
    sharedBlocks = 0;
    for (Iterator<Recent> it = recent.descendingIterator(); it.hasNext(); ) {
      Recent r = it.next();
      int most = Math.min(blocks, r.hashes.length) * blockSize;
      if (most <= sharedBlocks * blockSize
          || Arrays.mismatch(tokens, 0, blockSize, r.tokens, 0, blockSize) >= 0) {
        continue;
      }
      int differ = Arrays.mismatch(tokens, 0, most, r.tokens, 0, most);
      int same = (differ < 0 ? most : differ) / blockSize;
      if (same > sharedBlocks) {
        shared = r;
        sharedBlocks = same;
      }
    }
  }

  /**
   * Finds the slot of the prompt's first block ({@link #latestAt}, {@link #latestTag}) and, if the
   * prompt kept there starts with the same blocks, takes their hashes and the last one's digest.
   * Returns how many blocks it took: those the table keeps already, which {@link #keepLatest} is
   * not called for.
   */
  private int recallLatest(long[] tokens, int blocks) {
    latestTag = tag(0, tokens, 0);
    latestAt = slot(latestTag, latestSlots) * latestSlotLongs;
    if (latest[latestAt] != latestTag) {
      return 0;
    }
    int most = (int) Math.min(blocks, latest[latestAt + 1]) * blockSize;
    int tokensAt = latestAt + 2;
    int differ = Arrays.mismatch(latest, tokensAt, tokensAt + most, tokens, 0, most);
    int same = (differ < 0 ? most : differ) / blockSize;
    if (same > 0) {
      int hashesAt = tokensAt + LATEST_BLOCKS * blockSize;
      System.arraycopy(latest, hashesAt, hashes, 0, same);
      int digestAt = hashesAt + LATEST_BLOCKS + (same - 1) * DIGEST_LONGS;
      for (int k = 0; k < DIGEST_LONGS; k++) {
        LONG_LE.set(message, k * Long.BYTES, latest[digestAt + k]);
      }
      reused += same;
    }
    return same;
  }

  /**
   * Writes block {@code b} (its tokens, hash and digest, now in the message) to the prompt's slot.
   */
  private void keepLatest(long[] tokens, int b) {
    int tokensAt = latestAt + 2;
    int hashesAt = tokensAt + LATEST_BLOCKS * blockSize;
    System.arraycopy(tokens, b * blockSize, latest, tokensAt + b * blockSize, blockSize);
    latest[hashesAt + b] = hashes[b];
    int digestAt = hashesAt + LATEST_BLOCKS + b * DIGEST_LONGS;
    for (int k = 0; k < DIGEST_LONGS; k++) {
      latest[digestAt + k] = (long) LONG_LE.get(message, k * Long.BYTES);
    }
  }

  /** Adds {@code prompt} as the newest, within the budget (see the constructor). */
  private void remember(Recent prompt) {
    if (prompt.tokens.length > recentBudget) {
      return;
    }
    if (shared != null
        && sharedBlocks == shared.hashes.length
        && recent.removeLastOccurrence(shared)) {
      recentHeld -= shared.tokens.length; // every block of it is in the new one
    }
    recent.addLast(prompt);
    recentHeld += prompt.tokens.length;
    while (recentHeld > recentBudget) {
      recentHeld -= recent.removeFirst().tokens.length;
    }
    shared = null;
  }

  /** Replaces {@code digest_{i-1}} at the message's start with block i's digest, computed. */
  private void digest(long[] tokens, int from) {
    for (int j = DIGEST_BYTES, t = from; j < message.length; j += Long.BYTES) {
      LONG_LE.set(message, j, tokens[t++]);
    }
    sha256.update(message, 0, message.length);
    try {
      sha256.digest(message, 0, DIGEST_BYTES);
    } catch (DigestException e) {
      // cannot happen: the space holds exactly one SHA-256 digest
      throw new IllegalStateException(e);
    }
  }

  /**
   * A table's tag for the block at {@code tokens[from]}: its tokens' sum mixed with {@code parent}
   * (the previous digest's first word, or 0), low bit set so that 0 can mark an empty slot.
   */
  private long tag(long parent, long[] tokens, int from) {
    long sum = 0;
    for (int t = from, end = from + blockSize; t < end; t++) {
      sum += tokens[t];
    }
    return (parent ^ sum * MIX) | 1;
  }

  /** The slot in {@code [0, slots)} that {@code tag} maps to. */
  private static int slot(long tag, int slots) {
    return (int) (((tag >>> 32) * slots) >>> 32);
  }

  /**
   * Replaces {@code digest_{i-1}} at the message's start with block i's digest: from the memo if it
   * is there (then returns true), else computed and remembered.
   */
  private boolean recallOrDigest(long[] tokens, int from) {
    long p0 = (long) LONG_LE.get(message, 0);
    long p1 = (long) LONG_LE.get(message, 8);
    long p2 = (long) LONG_LE.get(message, 16);
    long p3 = (long) LONG_LE.get(message, 24);
    int end = from + blockSize;
    long tag = tag(p0, tokens, from);
    int at = slot(tag, memoSlots) * slotLongs;
    int tokensAt = at + 1 + DIGEST_LONGS;
    int digestAt = tokensAt + blockSize;
    if (memo[at] == tag
        && memo[at + 1] == p0
        && memo[at + 2] == p1
        && memo[at + 3] == p2
        && memo[at + 4] == p3
        && Arrays.equals(memo, tokensAt, digestAt, tokens, from, end)) {
      for (int k = 0; k < DIGEST_LONGS; k++) {
        LONG_LE.set(message, k * Long.BYTES, memo[digestAt + k]);
      }
      return true;
    }
    digest(tokens, from);
    memo[at] = tag;
    memo[at + 1] = p0;
    memo[at + 2] = p1;
    memo[at + 3] = p2;
    memo[at + 4] = p3;
    System.arraycopy(tokens, from, memo, tokensAt, blockSize);
    for (int k = 0; k < DIGEST_LONGS; k++) {
      memo[digestAt + k] = (long) LONG_LE.get(message, k * Long.BYTES);
    }
    return false;
  }

  /**
   * How many blocks' hashes came from remembered prompts (recent or latest) instead of SHA-256,
   * since creation.
   */
  public long reusedBlocks() {
    return reused;
  }

  /**
   * The hashes written by the last {@link #hash} call, in {@code [0, blocks)}: the hasher's own
   * array, which grows as needed and is overwritten by the next call.
   */
  public long[] hashes() {
    return hashes;
  }
}
