package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TokenizerTest {

  @Test
  void utf8BytesGivesOneTokenPerByte() {
    assertThat(Tokenizer.utf8Bytes().tokenize("aé")).containsExactly(0x61, 0xC3, 0xA9);
    assertThat(Tokenizer.utf8Bytes().tokenize("")).isEmpty();
  }

  @Test
  void promptsSharingAPrefixShareTheirLeadingBlockHashes() {
    BlockHasher hasher = new BlockHasher(16);
    String system = "You are a helpful assistant. Answer briefly and cite sources.";
    long[] a =
        BlockHasherTest.hashesOf(hasher, Tokenizer.utf8Bytes().tokenize(system + " What is 2+2?"));
    long[] b =
        BlockHasherTest.hashesOf(hasher, Tokenizer.utf8Bytes().tokenize(system + " Name a prime."));

    int shared = system.length() / 16;
    assertThat(shared).isEqualTo(3);
    for (int i = 0; i < shared; i++) {
      assertThat(a[i]).isEqualTo(b[i]);
    }
    assertThat(a[a.length - 1]).isNotEqualTo(b[b.length - 1]);
  }

  @Test
  void nullTextIsRefused() {
    assertThatThrownBy(() -> Tokenizer.utf8Bytes().tokenize(null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
