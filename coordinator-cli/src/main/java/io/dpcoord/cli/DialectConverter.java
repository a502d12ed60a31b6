package io.dpcoord.cli;

import io.dpcoord.protocol.Dialect;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses Megatron release names ({@code 0.18}, {@code 0.19}); the error names the choices. */
final class DialectConverter implements ITypeConverter<Dialect> {
  @Override
  public Dialect convert(String value) {
    try {
      return Dialect.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
