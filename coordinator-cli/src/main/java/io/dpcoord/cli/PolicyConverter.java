package io.dpcoord.cli;

import io.dpcoord.routing.Policy;
import picocli.CommandLine.ITypeConverter;

/** Parses {@code --policy} values; the error names the choices. */
final class PolicyConverter implements ITypeConverter<Policy> {
  @Override
  public Policy convert(String value) {
    return Policy.parse(value);
  }
}
