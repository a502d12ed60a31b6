package io.dpcoord.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code --connect} flag of the commands that dial a coordinator ({@code engine}, {@code
 * load}).
 */
final class ConnectOption {
  @Option(
      names = "--connect",
      required = true,
      paramLabel = "ENDPOINT",
      converter = EndpointConverter.class,
      description = "The coordinator, e.g. tcp://127.0.0.1:5555.")
  String endpoint;

  /** Accepts {@code tcp://HOST:PORT} with a port in 1..65535; the error names the form. */
  static final class EndpointConverter implements ITypeConverter<String> {
    private static final Pattern TCP =
        Pattern.compile("tcp://([^\\s:/]+|\\[[0-9A-Fa-f:.]+]):(\\d{1,5})");

    @Override
    public String convert(String value) {
      Matcher m = TCP.matcher(value.trim());
      if (!m.matches()) {
        throw new TypeConversionException(
            "'" + value + "' is not an endpoint of the form tcp://HOST:PORT");
      }
      int port = Integer.parseInt(m.group(2));
      if (port < 1 || port > 65535) {
        throw new TypeConversionException(
            "port " + port + " in '" + value + "' is not in 1..65535");
      }
      return value.trim();
    }
  }
}
