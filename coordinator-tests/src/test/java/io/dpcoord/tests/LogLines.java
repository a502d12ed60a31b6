package io.dpcoord.tests;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * The warnings one logger writes while a test runs (logback-test.xml prints only errors); closing
 * puts the logger back as it was.
 */
final class LogLines extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Logger logger;
  private final Level level;
  private final boolean additive;

  private LogLines(String loggerName) {
    logger = (Logger) LoggerFactory.getLogger(loggerName);
    level = logger.getLevel();
    additive = logger.isAdditive();
    setContext(logger.getLoggerContext());
    start();
    logger.addAppender(this);
    logger.setLevel(Level.WARN);
    logger.setAdditive(false); // kept here, not printed
  }

  /** Captures what the logger named {@code loggerName} warns from now on. */
  static LogLines warningsOf(String loggerName) {
    return new LogLines(loggerName);
  }

  @Override
  protected void append(ILoggingEvent event) {
    lines.add(event.getFormattedMessage());
  }

  /** Waits until a line containing {@code text} was written, and returns it. */
  String await(String text) {
    Await.until("a log line containing " + text, () -> find(text) != null, () -> lines);
    return find(text);
  }

  private String find(String text) {
    return lines.stream().filter(l -> l.contains(text)).findFirst().orElse(null);
  }

  @Override
  public void close() {
    logger.detachAppender(this);
    logger.setLevel(level);
    logger.setAdditive(additive);
    stop();
  }
}
