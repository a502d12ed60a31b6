package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimitedLogTest {
  private final List<String> lines = new ArrayList<>();
  private final AtomicLong clock = new AtomicLong();

  @Test
  void oneLinePerKeyPerIntervalThenTheSuppressedCount() {
    RateLimitedLog log = new RateLimitedLog(lines::add, 1_000, clock::get);
    log.warn("a", "first");
    log.warn("a", "second");
    log.warn("a", "third");
    log.warn("b", "other key");
    clock.set(1_000);
    log.warn("a", "fourth");
    assertThat(lines).containsExactly("first", "other key", "fourth (2 similar suppressed)");
  }
}
