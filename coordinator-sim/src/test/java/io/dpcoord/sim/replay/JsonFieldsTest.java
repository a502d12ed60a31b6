package io.dpcoord.sim.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonFieldsTest {
  private static final JsonFactory JSON = new JsonFactory();

  /** Reads every line of {@code text} with {@code reader}, the fields in the order they came. */
  private static List<String> read(String text, LineSource.FieldReader reader)
      throws IOException, TraceException {
    LineSource lines =
        new LineSource(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    List<String> names = new ArrayList<>();
    while (lines.next()) {
      lines.readObject(
          JSON,
          (name, p, v, line) -> {
            names.add(line + ":" + name);
            reader.field(name, p, v, line);
          });
    }
    return names;
  }

  @Test
  void tokenArraysLongerThanTheFirstBufferAreReadWholeAndTheBufferIsReused() throws Exception {
    JsonFields.Int64s tokens = new JsonFields.Int64s();
    long[] longOne = LongStream.range(0, 5_000).map(i -> i * 7_919 - 2_500).toArray();
    String json =
        "{\"tokens\": ["
            + Arrays.stream(longOne).mapToObj(Long::toString).collect(Collectors.joining(","))
            + "], \"other\": {\"nested\": [1, 2]}}\n{\"tokens\": [9223372036854775807, -1]}\n";
    List<long[]> seen = new ArrayList<>();
    List<String> names =
        read(
            json,
            (name, p, v, line) -> {
              if (name.equals("tokens")) {
                tokens.read(p, v, name, line);
                seen.add(Arrays.copyOf(tokens.values(), tokens.size()));
              } else {
                p.skipChildren();
              }
            });
    assertThat(names).containsExactly("1:tokens", "1:other", "2:tokens");
    assertThat(seen.get(0)).containsExactly(longOne);
    assertThat(seen.get(1)).containsExactly(Long.MAX_VALUE, -1L);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"id\": \"3\"}                   | line 1: field 'id' must be an int64 integer, found \"3\"",
        "{\"id\": 9223372036854775808}     | field 'id' must be an int64 integer, found 9223372036854775808",
        "{\"id\": 1.5}                     | field 'id' must be an int64 integer, found 1.5",
        "{\"n\": 0}                        | field 'n' must be an integer >= 1, got 0",
        "{\"n\": 2147483648}               | field 'n' must be an integer >= 1, got 2147483648",
        "{\"n\": [1]}                      | field 'n' must be an integer >= 1, found an array",
        "{\"op\": {\"a\": 1}}              | field 'op' must be a string, found an object",
        "{\"tokens\": 7}                   | field 'tokens' must be an array of integers, found 7",
        "{\"tokens\": [1, 2, true]}        | 'tokens' must hold int64 integers, found true at index 2",
        "{\"id\": 1} 2                     | unexpected content after the JSON object",
        "[1]                               | expected a JSON object",
        "{\"id\": 1                        | malformed JSON",
      })
  void eachBadFieldIsNamedWithWhatWasFound(String line, String message) {
    JsonFields.Int64s tokens = new JsonFields.Int64s();
    assertThatThrownBy(
            () ->
                read(
                    line,
                    (name, p, v, n) -> {
                      switch (name) {
                        case "id" -> JsonFields.integer(p, v, name, n);
                        case "n" -> JsonFields.count(p, v, name, 1, n);
                        case "op" -> JsonFields.string(p, v, name, n);
                        default -> tokens.read(p, v, name, n);
                      }
                    }))
        .isInstanceOf(TraceException.class)
        .hasMessageContaining(message);
  }

  @Test
  void goodValuesComeBackAsWritten() throws Exception {
    List<Object> values = new ArrayList<>();
    read(
        "{\"id\": -9223372036854775808, \"n\": 2147483647, \"op\": \"submit\"}",
        (name, p, v, n) ->
            values.add(
                switch (name) {
                  case "id" -> JsonFields.integer(p, v, name, n);
                  case "n" -> JsonFields.count(p, v, name, 1, n);
                  default -> JsonFields.string(p, v, name, n);
                }));
    assertThat(values).containsExactly(Long.MIN_VALUE, Integer.MAX_VALUE, "submit");
  }
}
