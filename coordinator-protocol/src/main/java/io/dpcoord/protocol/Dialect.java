package io.dpcoord.protocol;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * The two numberings of Megatron-LM's coordinator headers.
 *
 * <p>{@link #V0_19} (Megatron core_v0.19 and main) is {@link Header}'s catalogue. {@link #V0_18}
 * (core_v0.17.x and core_v0.18.x, headers {@code Enum} {@code auto()} values) numbers CONNECT 1,
 * CONNECT_ACK 2, SUBMIT_REQUEST 3, ENGINE_REPLY 4, PAUSE 5, UNPAUSE 6, SUSPEND 7, RESUME 8,
 * SET_GENERATION_EPOCH 9, STOP 10, DISCONNECT 11, SHUTDOWN 12, TP_BROADCAST 13, and has no partial
 * replies, aborts, KV handoff or profiler signals; its SUBMIT carries exactly three fields after
 * the header (no {@code multi_modal_data}). Message shapes are otherwise the same.
 */
public enum Dialect {
  /** Megatron core_v0.17.x and core_v0.18.x. */
  V0_18("0.18"),
  /** Megatron core_v0.19.0 and later (main). */
  V0_19("0.19");

  private static final Map<Header, Integer> OLD = new EnumMap<>(Header.class);
  private static final Header[] OLD_BY_WIRE = new Header[14];

  static {
    Header[] numbered = {
      Header.CONNECT,
      Header.CONNECT_ACK,
      Header.SUBMIT_REQUEST,
      Header.ENGINE_REPLY,
      Header.PAUSE,
      Header.UNPAUSE,
      Header.SUSPEND,
      Header.RESUME,
      Header.SET_GENERATION_EPOCH,
      Header.STOP,
      Header.DISCONNECT,
      Header.SHUTDOWN,
      Header.TP_BROADCAST
    };
    for (int i = 0; i < numbered.length; i++) {
      OLD.put(numbered[i], i + 1);
      OLD_BY_WIRE[i + 1] = numbered[i];
    }
  }

  private final String cliName;

  Dialect(String cliName) {
    this.cliName = cliName;
  }

  /** The release on a command line: {@code 0.18} or {@code 0.19}. */
  public String cliName() {
    return cliName;
  }

  /** Whether this dialect has {@code header} at all. */
  public boolean carries(Header header) {
    return this == V0_19 || OLD.containsKey(header);
  }

  /**
   * The integer that stands for {@code header} in this dialect.
   *
   * @throws IllegalArgumentException if the dialect has no such header
   */
  public int wire(Header header) {
    if (this == V0_19) {
      return header.wire();
    }
    Integer value = OLD.get(header);
    if (value == null) {
      throw new IllegalArgumentException(header + " does not exist in Megatron " + cliName);
    }
    return value;
  }

  /** The header that {@code value} stands for in this dialect, or null. */
  public Header header(long value) {
    if (this == V0_19) {
      return Header.lookup(value);
    }
    return value > 0 && value < OLD_BY_WIRE.length ? OLD_BY_WIRE[(int) value] : null;
  }

  /**
   * Parses {@code 0.18} or {@code 0.19} (also {@code 0.17}, which speaks 0.18's dialect).
   *
   * @throws IllegalArgumentException naming the bad value and the choices
   */
  public static Dialect parse(String s) {
    String v = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
    switch (v) {
      case "0.17":
      case "0.18":
        return V0_18;
      case "0.19":
        return V0_19;
      default:
        throw new IllegalArgumentException(
            "unknown Megatron release '" + s + "' (choices: 0.18, 0.19)");
    }
  }
}
