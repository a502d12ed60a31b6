package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeaderTest {

  /** The catalogue table of PROTOCOL.md, transcribed. */
  private static final Map<String, Integer> SPEC = new LinkedHashMap<>();

  static {
    SPEC.put("CONNECT", 0);
    SPEC.put("CONNECT_ACK", 1);
    SPEC.put("SUBMIT_REQUEST", 20);
    SPEC.put("ENGINE_REPLY", 21);
    SPEC.put("ENGINE_REPLY_PARTIAL", 22);
    SPEC.put("ABORT_REQUEST", 23);
    SPEC.put("SUBMIT_REQUEST_WITH_KV", 24);
    SPEC.put("RELEASE_KV", 25);
    SPEC.put("SEND_KV", 26);
    SPEC.put("PAUSE", 40);
    SPEC.put("UNPAUSE", 41);
    SPEC.put("SUSPEND", 42);
    SPEC.put("RESUME", 43);
    SPEC.put("SET_GENERATION_EPOCH", 44);
    SPEC.put("STOP", 45);
    SPEC.put("START_CUDA_PROFILER", 46);
    SPEC.put("STOP_CUDA_PROFILER", 47);
    SPEC.put("DISCONNECT", 60);
    SPEC.put("SHUTDOWN", 61);
    SPEC.put("TP_BROADCAST", 80);
    SPEC.put("KV_HANDOFF_COMPLETE", 81);
  }

  @Test
  void everyWireValueIsThatOfTheSpec() throws ProtocolException {
    assertThat(Arrays.stream(Header.values()).filter(Header::inMain)).hasSize(SPEC.size());
    for (Map.Entry<String, Integer> e : SPEC.entrySet()) {
      Header h = Header.valueOf(e.getKey());
      assertThat(h.wire()).as(e.getKey()).isEqualTo(e.getValue());
      assertThat(Header.fromWire(e.getValue())).isSameAs(h);
      assertThat(Header.find(e.getValue())).contains(h);
      assertThat(h.category().contains(h.wire())).isTrue();
    }
  }

  @Test
  void core016AcknowledgementsHaveNoMainValue() {
    for (Header h : new Header[] {Header.PAUSE_ACK, Header.STOP_ACK}) {
      assertThat(h.inMain()).as(h.name()).isFalse();
      assertThat(h.category()).isEqualTo(Category.CONTROL);
      assertThatThrownBy(h::wire)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(h.name() + " is Megatron core_v0.16's");
    }
  }

  @Test
  void categoriesHaveTheSpecRanges() {
    assertThat(Category.CONNECTION.first()).isZero();
    assertThat(Category.CONNECTION.last()).isEqualTo(19);
    assertThat(Category.REQUEST.first()).isEqualTo(20);
    assertThat(Category.CONTROL.first()).isEqualTo(40);
    assertThat(Category.LIFECYCLE.first()).isEqualTo(60);
    assertThat(Category.TRANSPORT.first()).isEqualTo(80);
    assertThat(Category.TRANSPORT.last()).isEqualTo(99);
    assertThat(Header.SET_GENERATION_EPOCH.category()).isEqualTo(Category.CONTROL);
    assertThat(Header.SHUTDOWN.category()).isEqualTo(Category.LIFECYCLE);
  }

  @Test
  void anyOtherIntegerIsUnknown() {
    for (int v :
        new int[] {
          -1, 2, 19, 27, 39, 48, 59, 62, 79, 82, 99, 100, 1000, Integer.MIN_VALUE, Integer.MAX_VALUE
        }) {
      assertThat(Header.find(v)).as("%d", v).isEmpty();
      assertThatThrownBy(() -> Header.fromWire(v))
          .isInstanceOfSatisfying(
              ProtocolException.class,
              e -> {
                assertThat(e.reason()).isEqualTo(ProtocolException.Reason.UNKNOWN_HEADER);
                assertThat(e.header()).isNull();
                assertThat(e.getMessage()).contains("unknown header " + v);
              });
    }
  }

  @Test
  void theRealCatalogueIsAccepted() {
    List<Header.Entry> entries = catalogue();
    assertThatCode(() -> Header.checkCatalogue(entries)).doesNotThrowAnyException();
  }

  @Test
  void catalogueCheckRejectsADuplicateValue() {
    List<Header.Entry> entries = catalogue();
    entries.add(new Header.Entry("SUBMIT_AGAIN", Category.REQUEST, 20));
    assertThatThrownBy(() -> Header.checkCatalogue(entries))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("duplicate value 20")
        .hasMessageContaining("SUBMIT_REQUEST and SUBMIT_AGAIN");
  }

  @Test
  void catalogueCheckRejectsADuplicateName() {
    List<Header.Entry> entries = catalogue();
    entries.add(new Header.Entry("PAUSE", Category.CONTROL, 50));
    assertThatThrownBy(() -> Header.checkCatalogue(entries))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("duplicate name PAUSE");
  }

  @Test
  void catalogueCheckRejectsAValueOutsideItsCategory() {
    List<Header.Entry> entries = catalogue();
    entries.add(new Header.Entry("MISFILED", Category.CONTROL, 65));
    assertThatThrownBy(() -> Header.checkCatalogue(entries))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("MISFILED = 65 is outside category CONTROL [40, 59]");
  }

  private static List<Header.Entry> catalogue() {
    List<Header.Entry> entries = new ArrayList<>();
    for (Header h : Header.values()) {
      if (!h.inMain()) {
        continue;
      }
      entries.add(new Header.Entry(h.name(), h.category(), h.wire()));
    }
    return entries;
  }
}
