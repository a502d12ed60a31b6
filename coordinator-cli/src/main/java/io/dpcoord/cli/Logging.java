package io.dpcoord.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.util.Locale;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Sets the log level (logs go to stderr; stdout stays for machine-readable output). */
final class Logging {
  private Logging() {}

  static void setLevel(Level level) {
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(level);
  }

  /** Parses {@code --log-level} values: error, warn, info, debug, trace, off. */
  static final class LevelConverter implements ITypeConverter<Level> {
    @Override
    public Level convert(String value) {
      String v = value.trim().toUpperCase(Locale.ROOT);
      if (!v.matches("ERROR|WARN|INFO|DEBUG|TRACE|OFF")) {
        throw new TypeConversionException(
            "'" + value + "' is not a log level (error, warn, info, debug, trace, off)");
      }
      return Level.toLevel(v);
    }
  }
}
