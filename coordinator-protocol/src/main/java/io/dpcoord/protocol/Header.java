package io.dpcoord.protocol;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The header catalogue, values exactly as PROTOCOL.md.
 *
 * <p>Element 0 of every non-empty frame is one of these wire values. The catalogue is checked when
 * the class loads: a duplicate value or name, a value outside its category's range, or overlapping
 * categories fail class initialisation with a message that names the culprit.
 *
 * <p>{@link #PAUSE_ACK} and {@link #STOP_ACK} are Megatron core_v0.16's alone ({@link
 * Dialect#V0_16}): main's numbering has no value for them ({@link #inMain()}).
 */
public enum Header {
  CONNECT(Category.CONNECTION, 0),
  CONNECT_ACK(Category.CONNECTION, 1),
  SUBMIT_REQUEST(Category.REQUEST, 20),
  ENGINE_REPLY(Category.REQUEST, 21),
  ENGINE_REPLY_PARTIAL(Category.REQUEST, 22),
  ABORT_REQUEST(Category.REQUEST, 23),
  SUBMIT_REQUEST_WITH_KV(Category.REQUEST, 24),
  RELEASE_KV(Category.REQUEST, 25),
  SEND_KV(Category.REQUEST, 26),
  PAUSE(Category.CONTROL, 40),
  UNPAUSE(Category.CONTROL, 41),
  SUSPEND(Category.CONTROL, 42),
  RESUME(Category.CONTROL, 43),
  SET_GENERATION_EPOCH(Category.CONTROL, 44),
  STOP(Category.CONTROL, 45),
  START_CUDA_PROFILER(Category.CONTROL, 46),
  STOP_CUDA_PROFILER(Category.CONTROL, 47),
  DISCONNECT(Category.LIFECYCLE, 60),
  SHUTDOWN(Category.LIFECYCLE, 61),
  TP_BROADCAST(Category.TRANSPORT, 80),
  KV_HANDOFF_COMPLETE(Category.TRANSPORT, 81),
  /** core_v0.16 only: an engine acknowledges PAUSE; the coordinator relays it once all have. */
  PAUSE_ACK(Category.CONTROL, Header.NOT_IN_MAIN),
  /** core_v0.16 only: an engine acknowledges STOP; the coordinator relays it once all have. */
  STOP_ACK(Category.CONTROL, Header.NOT_IN_MAIN);

  /** The value of a header that main's numbering does not have. */
  private static final int NOT_IN_MAIN = -1;

  /** One catalogue line, as the class-load check sees it. */
  record Entry(String name, Category category, int value) {}

  private static final Header[] BY_WIRE;

  static {
    List<Entry> entries = new ArrayList<>();
    for (Header h : values()) {
      if (h.inMain()) {
        entries.add(new Entry(h.name(), h.category, h.wire));
      }
    }
    checkCatalogue(entries);
    int size = 0;
    for (Category c : Category.values()) {
      size = Math.max(size, c.last() + 1);
    }
    BY_WIRE = new Header[size];
    for (Header h : values()) {
      if (h.inMain()) {
        BY_WIRE[h.wire] = h;
      }
    }
  }

  private final Category category;
  private final int wire;

  Header(Category category, int wire) {
    this.category = category;
    this.wire = wire;
  }

  /**
   * The integer written as element 0 of the frame in main's numbering.
   *
   * @throws IllegalStateException for a header main does not have ({@link #inMain()})
   */
  public int wire() {
    if (!inMain()) {
      throw new IllegalStateException(this + " is Megatron core_v0.16's; main has no such header");
    }
    return wire;
  }

  /** Whether main's numbering has this header (all but core_v0.16's acknowledgements). */
  public boolean inMain() {
    return wire != NOT_IN_MAIN;
  }

  /** The category whose range holds {@link #wire()}. */
  public Category category() {
    return category;
  }

  /**
   * The header with wire value {@code value}.
   *
   * @throws ProtocolException with reason {@code UNKNOWN_HEADER} for any other integer
   */
  public static Header fromWire(int value) throws ProtocolException {
    Header h = lookup(value);
    if (h == null) {
      throw new ProtocolException(
          ProtocolException.Reason.UNKNOWN_HEADER, null, "frame: unknown header " + value);
    }
    return h;
  }

  /** The header with wire value {@code value}, or empty. */
  public static Optional<Header> find(int value) {
    return Optional.ofNullable(lookup(value));
  }

  /** Table lookup without allocation; null when unknown. */
  static Header lookup(long value) {
    return value >= 0 && value < BY_WIRE.length ? BY_WIRE[(int) value] : null;
  }

  /**
   * Rejects a catalogue with a duplicate value or name, a value outside its category, or
   * overlapping category ranges.
   *
   * @throws IllegalStateException naming the first problem found
   */
  static void checkCatalogue(List<Entry> entries) {
    Category[] categories = Category.values();
    for (int i = 0; i < categories.length; i++) {
      Category a = categories[i];
      if (a.first() > a.last()) {
        throw new IllegalStateException("header catalogue: category " + a + " has an empty range");
      }
      for (int j = i + 1; j < categories.length; j++) {
        Category b = categories[j];
        if (a.first() <= b.last() && b.first() <= a.last()) {
          throw new IllegalStateException(
              "header catalogue: categories " + a + " and " + b + " overlap");
        }
      }
    }
    Map<Integer, String> byValue = new HashMap<>();
    Map<String, Integer> byName = new HashMap<>();
    for (Entry e : entries) {
      if (!e.category().contains(e.value())) {
        throw new IllegalStateException(
            "header catalogue: "
                + e.name()
                + " = "
                + e.value()
                + " is outside category "
                + e.category()
                + " ["
                + e.category().first()
                + ", "
                + e.category().last()
                + "]");
      }
      String previous = byValue.putIfAbsent(e.value(), e.name());
      if (previous != null) {
        throw new IllegalStateException(
            "header catalogue: duplicate value "
                + e.value()
                + " ("
                + previous
                + " and "
                + e.name()
                + ")");
      }
      if (byName.putIfAbsent(e.name(), e.value()) != null) {
        throw new IllegalStateException("header catalogue: duplicate name " + e.name());
      }
    }
  }
}
