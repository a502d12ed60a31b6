package io.dpcoord.cli;

import io.dpcoord.protocol.Dialect;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code serve --engine-wire}: the Megatron release the engines run. {@code 0.15}, {@code 0.16},
 * {@code 0.18} (also {@code 0.17}) and {@code 0.19} (main) are the dialects; {@code 0.19.0} is
 * main's numbering with core_v0.19.0's engine, which takes a SUBMIT of three fields only and has no
 * aborts, KV handoff or multimodal data.
 *
 * @param dialect the engines' header numbering
 * @param coreV0190 the engines are core_v0.19.0's
 * @param name the value as given on the command line
 */
record EngineWire(Dialect dialect, boolean coreV0190, String name) {
  static final String CORE_V0190 = "0.19.0";

  /** Parses the flag's value; the error names the choices. */
  static final class Converter implements ITypeConverter<EngineWire> {
    @Override
    public EngineWire convert(String value) {
      if (value.trim().equals(CORE_V0190)) {
        return new EngineWire(Dialect.V0_19, true, CORE_V0190);
      }
      try {
        Dialect d = Dialect.parse(value);
        return new EngineWire(d, false, d.cliName());
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(
            "unknown Megatron release '"
                + value
                + "' (choices: 0.15, 0.16, 0.18, 0.19, "
                + CORE_V0190
                + ")");
      }
    }
  }
}
