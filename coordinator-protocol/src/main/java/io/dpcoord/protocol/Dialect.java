package io.dpcoord.protocol;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * The numberings of Megatron-LM's coordinator headers.
 *
 * <p>{@link #V0_19} (Megatron core_v0.19 and main) is {@link Header}'s catalogue. {@link #V0_18}
 * (core_v0.17.x and core_v0.18.x, headers {@code Enum} {@code auto()} values) numbers CONNECT 1,
 * CONNECT_ACK 2, SUBMIT_REQUEST 3, ENGINE_REPLY 4, PAUSE 5, UNPAUSE 6, SUSPEND 7, RESUME 8,
 * SET_GENERATION_EPOCH 9, STOP 10, DISCONNECT 11, SHUTDOWN 12, TP_BROADCAST 13, and has no partial
 * replies, aborts, KV handoff or profiler signals; its SUBMIT carries exactly three fields after
 * the header (no {@code multi_modal_data}). Message shapes are otherwise the same.
 *
 * <p>{@link #V0_16} (core_v0.16.x, also {@code auto()} values) numbers CONNECT 1, CONNECT_ACK 2,
 * SUBMIT_REQUEST 3, ENGINE_REPLY 4, PAUSE 5, PAUSE_ACK 6, UNPAUSE 7, SUSPEND 8, RESUME 9, STOP 10,
 * STOP_ACK 11; its SUBMIT is 0.18's, and each record of an ENGINE_REPLY is a {@code
 * DynamicInferenceRequestRecord}, {@code {"requests": [request, ...], "latency": ...}}, whose id is
 * {@code requests[0].request_id} ({@link #nestsRecords()}).
 *
 * <p>{@link #V0_15} (core_v0.15.x, values from 0) numbers CONNECT 0, ACK 1, SUBMIT_REQUEST 2,
 * ENGINE_REPLY 3, PAUSE 4, UNPAUSE 5, STOP 6. Its engines register with an empty frame, get each
 * prompt as tokens, and send one ENGINE_REPLY per step ({@link EngineStep}); its coordinator builds
 * each finished request's record and sends it to the client as {@code [client_request_id, record]},
 * without a header ({@link #buildsRecords()}).
 */
public enum Dialect {
  /** Megatron core_v0.15.x. */
  V0_15(
      "0.15",
      0,
      Header.CONNECT,
      Header.CONNECT_ACK,
      Header.SUBMIT_REQUEST,
      Header.ENGINE_REPLY,
      Header.PAUSE,
      Header.UNPAUSE,
      Header.STOP),
  /** Megatron core_v0.16.x. */
  V0_16(
      "0.16",
      1,
      Header.CONNECT,
      Header.CONNECT_ACK,
      Header.SUBMIT_REQUEST,
      Header.ENGINE_REPLY,
      Header.PAUSE,
      Header.PAUSE_ACK,
      Header.UNPAUSE,
      Header.SUSPEND,
      Header.RESUME,
      Header.STOP,
      Header.STOP_ACK),
  /** Megatron core_v0.17.x and core_v0.18.x. */
  V0_18(
      "0.18",
      1,
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
      Header.TP_BROADCAST),
  /** Megatron core_v0.19.0 and later (main). */
  V0_19("0.19", 0);

  private final String cliName;
  // an old release's numbering (values first, first + 1, ...); empty for main's
  private final Map<Header, Integer> wireOf = new EnumMap<>(Header.class);
  private final Header[] byWire;

  Dialect(String cliName, int first, Header... numbered) {
    this.cliName = cliName;
    this.byWire = new Header[numbered.length + first];
    for (int i = 0; i < numbered.length; i++) {
      wireOf.put(numbered[i], i + first);
      byWire[i + first] = numbered[i];
    }
  }

  /** The release on a command line: {@code 0.15}, {@code 0.16}, {@code 0.18} or {@code 0.19}. */
  public String cliName() {
    return cliName;
  }

  /** Whether this is main's numbering (core_v0.19 and later). */
  public boolean isMain() {
    return this == V0_19;
  }

  /**
   * Whether each reply record is a core_v0.16 {@code DynamicInferenceRequestRecord}, {@code
   * {"requests": [...], "latency": ...}}, rather than a request's own map.
   */
  public boolean nestsRecords() {
    return this == V0_16;
  }

  /**
   * Whether the coordinator builds each request's record from its engine's per-step replies and
   * sends it to the client without a header (core_v0.15).
   */
  public boolean buildsRecords() {
    return this == V0_15;
  }

  /** Whether this dialect has {@code header} at all. */
  public boolean carries(Header header) {
    return isMain() ? header.inMain() : wireOf.containsKey(header);
  }

  /**
   * The integer that stands for {@code header} in this dialect.
   *
   * @throws IllegalArgumentException if the dialect has no such header
   */
  public int wire(Header header) {
    if (!carries(header)) {
      throw new IllegalArgumentException(header + " does not exist in Megatron " + cliName);
    }
    return isMain() ? header.wire() : wireOf.get(header);
  }

  /** The header that {@code value} stands for in this dialect, or null. */
  public Header header(long value) {
    if (isMain()) {
      return Header.lookup(value);
    }
    return value >= 0 && value < byWire.length ? byWire[(int) value] : null;
  }

  /**
   * Parses {@code 0.15}, {@code 0.16}, {@code 0.18} or {@code 0.19} (also {@code 0.17}, which
   * speaks 0.18's dialect).
   *
   * @throws IllegalArgumentException naming the bad value and the choices
   */
  public static Dialect parse(String s) {
    String v = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
    switch (v) {
      case "0.15":
        return V0_15;
      case "0.16":
        return V0_16;
      case "0.17":
      case "0.18":
        return V0_18;
      case "0.19":
        return V0_19;
      default:
        throw new IllegalArgumentException(
            "unknown Megatron release '" + s + "' (choices: 0.15, 0.16, 0.18, 0.19)");
    }
  }
}
