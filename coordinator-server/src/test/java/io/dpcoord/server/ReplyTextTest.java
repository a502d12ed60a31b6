package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.metrics.InMemoryMetrics;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.tokenizers.Tokenizers;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.value.Value;

/**
 * The text a Megatron core_v0.16 client gets: its coordinator ({@code detokenize} in core_v0.16.1's
 * {@code data_parallel_inference_coordinator.py}) sets, for every request of a record, {@code
 * prompt = tokenizer.detokenize(prompt_tokens[1])} when the prompt is None and {@code
 * generated_text = tokenizer.detokenize(generated_tokens)}. Records are built and read with
 * msgpack-java, not the coordinator's codec; the expected texts are the null tokenizer's
 * (Megatron's {@code NullTokenizer}: the ids as decimals joined by spaces), computed by hand.
 */
class ReplyTextTest {
  private final ReplyText text =
      new ReplyText(
          Tokenizers.fromSpec("null:100"),
          null,
          new LoopMetrics(new InMemoryMetrics()),
          new RateLimitedLog(line -> {}, 1, System::nanoTime));

  @Test
  void everyRequestOfACoreV016RecordGetsItsTextAndANilPromptItsPromptText() throws Exception {
    Map<String, Object> first =
        request(7, null, List.of("tensor", List.of(5, 6, 7)), List.of(8, 99));
    Map<String, Object> second = request(7, "given", List.of("tensor", List.of(1)), List.of(2, 3));
    RawValue record = pack(record(List.of(first, second), 0.5));

    RawValue out = text.rewrite(record, RawValue.nil(), Dialect.V0_16);

    Map<String, Value> outer = map(out);
    assertThat(outer.keySet()).containsExactly("requests", "latency");
    assertThat(outer.get("latency").asFloatValue().toDouble()).isEqualTo(0.5);
    List<Value> requests = outer.get("requests").asArrayValue().list();
    assertThat(requests).hasSize(2);
    Map<String, Value> a = asMap(requests.get(0));
    assertThat(a.get("prompt").asStringValue().asString()).isEqualTo("5 6 7");
    assertThat(a.get("generated_text").asStringValue().asString()).isEqualTo("8 99"); // EOD kept
    assertThat(a.get("request_id").asIntegerValue().asLong()).isEqualTo(7);
    Map<String, Value> b = asMap(requests.get(1));
    assertThat(b.get("prompt").asStringValue().asString()).isEqualTo("given");
    assertThat(b.get("generated_text").asStringValue().asString()).isEqualTo("2 3");
    assertThat(new ArrayList<>(a.keySet()))
        .as("keys in the engine's order, none added or lost")
        .containsExactlyElementsOf(first.keySet());
  }

  @Test
  void withoutATokenizerACoreV016RecordIsLeftAsTheEngineSentIt() throws Exception {
    ReplyText none = new ReplyText(null, null, null, null);
    RawValue record = pack(record(List.of(request(1, null, null, List.of(4))), null));

    assertThat(none.rewrites(Dialect.V0_16)).isFalse();
    assertThat(none.rewrite(record, RawValue.nil(), Dialect.V0_16)).isEqualTo(record);
  }

  @Test
  void aRecordWithoutRequestsOrTokensCannotBeFilled() throws Exception {
    RawValue flat = pack(request(1, "p", null, List.of(4)));
    RawValue noTokens = pack(record(List.of(request(1, "p", null, null)), null));

    assertThatThrownBy(() -> text.rewrite(flat, RawValue.nil(), Dialect.V0_16))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no requests list");
    assertThatThrownBy(() -> text.rewrite(noTokens, RawValue.nil(), Dialect.V0_16))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no generated_tokens list");
  }

  private static Map<String, Object> request(
      long id, String prompt, Object promptTokens, Object generated) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("request_id", id);
    r.put("prompt", prompt);
    r.put("prompt_tokens", promptTokens);
    r.put("status", "COMPLETED");
    r.put("generated_text", null);
    r.put("generated_tokens", generated);
    return r;
  }

  private static Map<String, Object> record(List<Map<String, Object>> requests, Double latency) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("requests", requests);
    r.put("latency", latency);
    return r;
  }

  private static RawValue pack(Object value) throws IOException, ProtocolException {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      write(p, value);
      return RawValue.of(p.toByteArray());
    }
  }

  private static void write(MessageBufferPacker p, Object v) throws IOException {
    if (v == null) {
      p.packNil();
    } else if (v instanceof String s) {
      p.packString(s);
    } else if (v instanceof Integer i) {
      p.packLong(i);
    } else if (v instanceof Long l) {
      p.packLong(l);
    } else if (v instanceof Double d) {
      p.packDouble(d);
    } else if (v instanceof List<?> list) {
      p.packArrayHeader(list.size());
      for (Object o : list) {
        write(p, o);
      }
    } else {
      Map<?, ?> m = (Map<?, ?>) v;
      p.packMapHeader(m.size());
      for (Map.Entry<?, ?> e : m.entrySet()) {
        write(p, e.getKey());
        write(p, e.getValue());
      }
    }
  }

  private static Map<String, Value> map(RawValue v) throws IOException {
    return asMap(MessagePack.newDefaultUnpacker(v.toByteArray()).unpackValue());
  }

  private static Map<String, Value> asMap(Value v) {
    Map<String, Value> out = new LinkedHashMap<>();
    v.asMapValue()
        .entrySet()
        .forEach(e -> out.put(e.getKey().asStringValue().asString(), e.getValue()));
    return out;
  }
}
