package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RateLimitedLogTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger("rate-limited-test");
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  private final AtomicLong clock = new AtomicLong();

  @BeforeEach
  void attach() {
    lines.start();
    logger.addAppender(lines);
    logger.setAdditive(false); // keep the test's warnings off the console
  }

  @AfterEach
  void detach() {
    logger.detachAppender(lines);
  }

  @Test
  void oneLinePerKeyPerIntervalThenTheSuppressedCount() {
    RateLimitedLog log = new RateLimitedLog(logger, 1_000, clock::get);
    log.warn("a", "first");
    log.warn("a", "second");
    log.warn("a", "third");
    log.warn("b", "other key");
    clock.set(1_000);
    log.warn("a", "fourth");
    assertThat(lines.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .containsExactly("first", "other key", "fourth (2 similar suppressed)");
  }
}
