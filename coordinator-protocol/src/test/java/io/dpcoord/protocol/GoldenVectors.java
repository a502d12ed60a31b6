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

/** The golden frames of vectors/vectors.json, written by vectors/generate_vectors.py. */
final class GoldenVectors {

  /** Inputs of a FAILED record carried by a vector. */
  record Failed(long requestId, double timestamp, String reason) {}

  /** One golden frame. */
  record Vector(
      String name,
      Direction direction,
      String type,
      byte[] frame,
      int invalidRecords,
      byte[] reencoded,
      Failed failed) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** A small value and whether Python's msgpack reads it. */
  record Acceptance(byte[] bytes, boolean pythonAccepts) {}

  private static List<Vector> all;

  private GoldenVectors() {}

  /** Every vector, in file order. */
  static synchronized List<Vector> all() {
    if (all == null) {
      all = List.copyOf(load());
    }
    return all;
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

  private static List<Vector> load() {
    try (InputStream in = GoldenVectors.class.getResourceAsStream("/vectors/vectors.json")) {
      if (in == null) {
        throw new IllegalStateException("vectors/vectors.json is not on the test classpath");
      }
      JsonParser p = new JsonFactory().createParser(in);
      List<Vector> out = new ArrayList<>();
      expect(p.nextToken(), JsonToken.START_OBJECT);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        p.nextToken();
        if (field.equals("vectors")) {
          while (p.nextToken() == JsonToken.START_OBJECT) {
            out.add(vector(p));
          }
        } else {
          p.skipChildren();
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Vector vector(JsonParser p) throws IOException {
    String name = null;
    Direction direction = null;
    String type = null;
    byte[] frame = null;
    int invalid = 0;
    byte[] reencoded = null;
    Failed failed = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      switch (field) {
        case "name" -> name = p.getText();
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
        name, direction, type, frame, invalid, reencoded == null ? frame : reencoded, failed);
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
