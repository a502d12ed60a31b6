package io.dpcoord.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/** The golden frames of vectors/vectors.json, written by vectors/generate_vectors.py. */
final class GoldenVectors {

  /** Inputs of a FAILED record carried by a vector. */
  record Failed(long requestId, double timestamp, String reason) {}

  /**
   * One golden frame, in {@code dialect}; {@code otherDialect} (or null) is the same message as the
   * other dialect frames it.
   */
  record Vector(
      String name,
      Dialect dialect,
      Direction direction,
      String type,
      byte[] frame,
      int invalidRecords,
      byte[] reencoded,
      Failed failed,
      byte[] otherDialect) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** A small value and whether Python's msgpack reads it. */
  record Acceptance(byte[] bytes, boolean pythonAccepts) {}

  /** A map, some str keys, and Python's packing of the map without them. */
  record Without(byte[] map, Set<String> keys, byte[] expected) {}

  /** A value and Python's truth of what msgpack decodes it to. */
  record Truthiness(byte[] value, boolean pythonTruthy) {}

  /**
   * A core_v0.15 request: {@code input} packs its request_id, prompt, prompt_tokens and its
   * engine's steps ({@code [token, packed log probs or nil, chunked, materialize]}); {@code record}
   * is what that release's coordinator builds from them (generated_text nil).
   */
  record Core015Case(String name, byte[] input, byte[] record) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** What vectors.json holds. */
  private record Contents(
      List<Vector> vectors,
      List<Without> without,
      List<Truthiness> truth,
      List<Core015Case> core015) {}

  private static Contents contents;

  private GoldenVectors() {}

  /** Every vector, in file order. */
  static List<Vector> all() {
    return contents().vectors();
  }

  /** Every map-without-keys case, in file order. */
  static List<Without> without() {
    return contents().without();
  }

  /** Every core_v0.15 request case, in file order. */
  static List<Core015Case> core015() {
    return contents().core015();
  }

  /** Every truthiness case, in file order. */
  static List<Truthiness> truthiness() {
    return contents().truth();
  }

  private static synchronized Contents contents() {
    if (contents == null) {
      contents = load();
    }
    return contents;
  }

  /** The vector named {@code name}. */
  static Vector named(String name) {
    return all().stream()
        .filter(v -> v.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no vector " + name));
  }

  /** Every case of vectors/acceptance.json. */
  static List<Acceptance> acceptance() {
    try (InputStream in = GoldenVectors.class.getResourceAsStream("/vectors/acceptance.json")) {
      if (in == null) {
        throw new IllegalStateException("vectors/acceptance.json is not on the test classpath");
      }
      JsonParser p = new JsonFactory().createParser(in);
      List<Acceptance> out = new ArrayList<>();
      expect(p.nextToken(), JsonToken.START_OBJECT);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        p.nextToken();
        if (!field.equals("cases")) {
          p.skipChildren();
          continue;
        }
        while (p.nextToken() == JsonToken.START_OBJECT) {
          byte[] bytes = null;
          Boolean accepts = null;
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
              case "hex" -> bytes = HexFormat.of().parseHex(p.getText());
              case "python_accepts" -> accepts = p.getBooleanValue();
              default -> throw new IllegalStateException("unknown acceptance field " + name);
            }
          }
          out.add(new Acceptance(bytes, accepts));
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Contents load() {
    try (InputStream in = GoldenVectors.class.getResourceAsStream("/vectors/vectors.json")) {
      if (in == null) {
        throw new IllegalStateException("vectors/vectors.json is not on the test classpath");
      }
      JsonParser p = new JsonFactory().createParser(in);
      List<Vector> vectors = new ArrayList<>();
      List<Without> without = new ArrayList<>();
      List<Truthiness> truth = new ArrayList<>();
      List<Core015Case> core015 = new ArrayList<>();
      expect(p.nextToken(), JsonToken.START_OBJECT);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        p.nextToken();
        switch (field) {
          case "vectors" -> {
            while (p.nextToken() == JsonToken.START_OBJECT) {
              vectors.add(vector(p));
            }
          }
          case "without" -> {
            while (p.nextToken() == JsonToken.START_OBJECT) {
              without.add(without(p));
            }
          }
          case "truthiness" -> {
            while (p.nextToken() == JsonToken.START_OBJECT) {
              truth.add(truthiness(p));
            }
          }
          case "core015" -> {
            while (p.nextToken() == JsonToken.START_OBJECT) {
              core015.add(core015Case(p));
            }
          }
          default -> p.skipChildren();
        }
      }
      return new Contents(
          List.copyOf(vectors), List.copyOf(without), List.copyOf(truth), List.copyOf(core015));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Without without(JsonParser p) throws IOException {
    byte[] map = null;
    byte[] expected = null;
    List<String> keys = new ArrayList<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      switch (field) {
        case "hex" -> map = HexFormat.of().parseHex(p.getText());
        case "expected_hex" -> expected = HexFormat.of().parseHex(p.getText());
        case "keys" -> {
          while (p.nextToken() == JsonToken.VALUE_STRING) {
            keys.add(p.getText());
          }
        }
        default -> throw new IllegalStateException("unknown without field " + field);
      }
    }
    return new Without(map, Set.copyOf(keys), expected);
  }

  private static Core015Case core015Case(JsonParser p) throws IOException {
    String name = null;
    byte[] input = null;
    byte[] record = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      switch (field) {
        case "name" -> name = p.getText();
        case "case_hex" -> input = HexFormat.of().parseHex(p.getText());
        case "record_hex" -> record = HexFormat.of().parseHex(p.getText());
        default -> throw new IllegalStateException("unknown core015 field " + field);
      }
    }
    return new Core015Case(name, input, record);
  }

  private static Truthiness truthiness(JsonParser p) throws IOException {
    byte[] value = null;
    Boolean truthy = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      switch (field) {
        case "hex" -> value = HexFormat.of().parseHex(p.getText());
        case "python_truthy" -> truthy = p.getBooleanValue();
        default -> throw new IllegalStateException("unknown truthiness field " + field);
      }
    }
    return new Truthiness(value, truthy);
  }

  private static Vector vector(JsonParser p) throws IOException {
    String name = null;
    Dialect dialect = Dialect.V0_19;
    Direction direction = null;
    String type = null;
    byte[] frame = null;
    int invalid = 0;
    byte[] reencoded = null;
    Failed failed = null;
    byte[] other = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      switch (field) {
        case "name" -> name = p.getText();
        case "dialect" -> dialect = Dialect.parse(p.getText());
        case "other_dialect_hex" -> other = HexFormat.of().parseHex(p.getText());
        case "direction" -> direction = Direction.valueOf(p.getText());
        case "type" -> type = p.getText();
        case "hex" -> frame = HexFormat.of().parseHex(p.getText());
        case "invalid_records" -> invalid = p.getIntValue();
        case "reencoded_hex" -> reencoded = HexFormat.of().parseHex(p.getText());
        case "failed" -> failed = failed(p);
        default -> throw new IllegalStateException("unknown vector field " + field);
      }
    }
    return new Vector(
        name,
        dialect,
        direction,
        type,
        frame,
        invalid,
        reencoded == null ? frame : reencoded,
        failed,
        other);
  }

  private static Failed failed(JsonParser p) throws IOException {
    long id = 0;
    double ts = 0;
    String reason = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      switch (field) {
        case "request_id" -> id = p.getLongValue();
        case "timestamp" -> ts = p.getDoubleValue();
        case "reason" -> reason = p.getText();
        default -> throw new IllegalStateException("unknown failed field " + field);
      }
    }
    return new Failed(id, ts, reason);
  }

  private static void expect(JsonToken got, JsonToken want) {
    if (got != want) {
      throw new IllegalStateException("vectors.json: expected " + want + ", got " + got);
    }
  }
}
