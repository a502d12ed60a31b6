package io.dpcoord.tokenizers;

import ai.djl.engine.EngineException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Megatron's {@code HuggingFaceTokenizer} library as its coordinator uses it: {@code
 * AutoTokenizer.from_pretrained(PATH)} of transformers 5, with Megatron's special-token fix-ups.
 *
 * <ul>
 *   <li>{@link #tokenize}: {@code tokenizer(text).input_ids} (the post-processor adds its special
 *       tokens), or with {@code includeSpecialTokens=false} {@code
 *       convert_tokens_to_ids(tokenizer.tokenize(text))} (no post-processor; the tokenizers library
 *       gives a token string one id, so an encoding's ids are what {@code convert_tokens_to_ids}
 *       gives for its tokens).
 *   <li>{@link #detokenize}: ids to token strings, unknown ids dropped, every token string in
 *       {@code all_special_tokens} dropped, the rest through the tokenizer's decoder ({@code
 *       convert_tokens_to_string}, no clean-up of spaces). Not the tokenizers library's {@code
 *       skip_special_tokens}, which drops every added token flagged special.
 *   <li>{@link #eod}: the id of {@code eos_token}, -1 without one.
 * </ul>
 *
 * <p>{@code all_special_tokens} is transformers 5's: the named tokens {@code bos, eos, unk, sep,
 * pad, cls, mask} and model-specific {@code *_token} entries (strings or {@code {"content": ...}}
 * objects) plus {@code extra_special_tokens} (formerly {@code additional_special_tokens}), from
 * tokenizer_config.json, merged with special_tokens_map.json when the config has no {@code
 * added_tokens_decoder} (transformers' legacy path); then Megatron's fix-ups: no {@code sep} but an
 * {@code eos}: {@code sep = eos}, else no {@code eos} but a {@code sep}: {@code eos = sep}; no
 * {@code bos} but a {@code cls}: {@code bos = cls}; no {@code cls} but a {@code bos}: {@code cls =
 * bos}. Special tokens (and entries of the config's {@code added_tokens_decoder}) that
 * tokenizer.json lacks as added tokens are added, as transformers adds them when it loads the
 * tokenizer.
 *
 * <p>Not reproduced: the defaults and pipelines of transformers' model-specific tokenizer classes
 * (the config's {@code tokenizer_class}) for what the config leaves out, changed flags of tokens
 * tokenizer.json already has, {@code split_special_tokens=true} (refused).
 *
 * <p>The tokenizer runs on DJL's binding of the Rust tokenizers library (the native library is
 * bundled in its jar), offline and without telemetry ({@link Djl}). Encoding and decoding only read
 * the native tokenizer, which the Rust library allows from any number of threads; nothing here
 * changes it after {@link #load}, so an instance is safe to share. The native tokenizer lives as
 * long as this object: the coordinator keeps it for the whole process, and DJL's finalizer frees it
 * should the object become unreachable.
 */
final class HuggingFaceTokenizer implements TextTokenizer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> NAMED =
      List.of(
          "bos_token",
          "eos_token",
          "unk_token",
          "sep_token",
          "pad_token",
          "cls_token",
          "mask_token");
  private static final String EXTRA = "extra_special_tokens";
  private static final String ADDITIONAL = "additional_special_tokens";
  private static final String DECODER = "added_tokens_decoder";
  private static final long MAX_ID = 0xFFFF_FFFFL;

  private final ai.djl.huggingface.tokenizers.HuggingFaceTokenizer tokenizer;
  private final boolean includeSpecialTokens;
  private final Set<Long> specialIds;
  private final long eod;
  private final String name;

  private HuggingFaceTokenizer(
      ai.djl.huggingface.tokenizers.HuggingFaceTokenizer tokenizer,
      boolean includeSpecialTokens,
      Set<Long> specialIds,
      long eod,
      String name) {
    this.tokenizer = tokenizer;
    this.includeSpecialTokens = includeSpecialTokens;
    this.specialIds = specialIds;
    this.eod = eod;
    this.name = name;
  }

  /**
   * Loads PATH: a directory with tokenizer.json (and tokenizer_config.json, special_tokens_map.json
   * when present) or a tokenizer.json file (its directory's config files are used).
   *
   * @throws IllegalArgumentException with one line saying what is missing or wrong
   */
  static TextTokenizer load(Path path, boolean includeSpecialTokens) {
    Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          Files.isDirectory(path)
              ? path + " has no tokenizer.json"
              : path + " is not a tokenizer.json file or a directory with one");
    }
    Path dir = file.toAbsolutePath().getParent();
    ObjectNode config = readConfig(dir.resolve("tokenizer_config.json"));
    if (config != null && config.path("split_special_tokens").asBoolean(false)) {
      throw new IllegalArgumentException(
          dir.resolve("tokenizer_config.json") + ": split_special_tokens=true is not supported");
    }
    ObjectNode map = readConfig(dir.resolve("special_tokens_map.json"));
    SpecialTokens special;
    List<Token> decoderTokens;
    try {
      special = SpecialTokens.resolve(config, map);
      decoderTokens = addedTokensDecoder(config);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the config files in " + dir + ": " + e.getMessage(), e);
    }
    byte[] json = read(file);

    Set<String> names = new HashSet<>(special.all());
    decoderTokens.forEach(t -> names.add(t.content));
    Vocabulary vocabulary = Vocabulary.scan(file, json, names);

    // transformers adds what tokenizer.json lacks: the config's added tokens, then the special ones
    Set<String> present = new HashSet<>(vocabulary.addedContents);
    List<Token> missing = new ArrayList<>();
    Stream.of(decoderTokens, special.unfixed.values(), special.extra)
        .flatMap(Collection::stream)
        .filter(t -> t != null && !t.content.isEmpty() && present.add(t.content))
        .forEach(missing::add);
    vocabulary.add(missing);
    if (!missing.isEmpty()) {
      json = withAddedTokens(json, missing, vocabulary);
    }

    Set<Long> specialIds = new HashSet<>();
    for (String token : special.all()) {
      Long id = vocabulary.tokenToId(token);
      if (id != null) {
        specialIds.add(id);
      }
    }
    Token eos = special.named.get("eos_token");
    Long eod = eos == null ? null : vocabulary.tokenToId(eos.content);
    return new HuggingFaceTokenizer(
        create(file, json),
        includeSpecialTokens,
        Set.copyOf(specialIds),
        eod == null ? -1 : eod,
        "huggingface:" + path + (includeSpecialTokens ? "" : ",no-special-tokens"));
  }

  @Override
  public long[] tokenize(String text) {
    int lone = Utf8.loneSurrogate(text, 0);
    if (lone >= 0) { // Python's tokenizers raises a TypeError for such a str
      throw new IllegalArgumentException("the text has an unpaired surrogate at index " + lone);
    }
    return tokenizer.encode(text, includeSpecialTokens, false).getIds();
  }

  @Override
  public String detokenize(long[] ids) {
    long[] kept = new long[ids.length];
    int n = 0;
    for (long id : ids) {
      if (id < 0 || id > MAX_ID) {
        // Python's tokenizers raises an OverflowError for such an id
        throw new IllegalArgumentException("id " + id + " is out of range");
      }
      if (!specialIds.contains(id)) {
        kept[n++] = id;
      }
    }
    // decode without skipping: ids unknown to the tokenizer dropped, the rest through the decoder
    return tokenizer.decode(n == kept.length ? kept : Arrays.copyOf(kept, n), false);
  }

  @Override
  public long eod() {
    return eod;
  }

  @Override
  public String toString() {
    return name;
  }

  private static ai.djl.huggingface.tokenizers.HuggingFaceTokenizer create(Path file, byte[] json) {
    Djl.configure();
    // transformers encodes without truncation or padding, whatever tokenizer.json says
    Map<String, String> options =
        Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false");
    try {
      return ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.newInstance(
          new ByteArrayInputStream(json), options);
    } catch (EngineException e) {
      throw new IllegalArgumentException(
          "cannot load the native library of DJL's tokenizers: " + oneLine(e.getMessage()), e);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          file + " is not a tokenizer the tokenizers library accepts: " + oneLine(e.getMessage()),
          e);
    }
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e, e);
    }
  }

  /** A config file as a JSON object, or null when there is none. */
  private static ObjectNode readConfig(Path file) {
    if (!Files.exists(file)) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(read(file));
      if (!(node instanceof ObjectNode)) {
        throw new IllegalArgumentException(file + " is not a JSON object");
      }
      return (ObjectNode) node;
    } catch (JsonProcessingException e) {
      throw invalidJson(file, e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e, e);
    }
  }

  private static IllegalArgumentException invalidJson(Path file, JsonProcessingException e) {
    var at = e.getLocation();
    return new IllegalArgumentException(
        file
            + " is not valid JSON: "
            + oneLine(e.getOriginalMessage())
            + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"),
        e);
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  /** The config's added_tokens_decoder entries, by id. */
  private static List<Token> addedTokensDecoder(ObjectNode config) {
    List<Token> tokens = new ArrayList<>();
    if (config != null && config.path(DECODER).isObject()) {
      Map<Long, Token> byId = new TreeMap<>();
      config
          .get(DECODER)
          .properties()
          .forEach(
              e -> {
                try {
                  byId.put(Long.parseLong(e.getKey()), Token.of(DECODER, e.getValue()));
                } catch (NumberFormatException x) {
                  throw new IllegalArgumentException(
                      DECODER + " has a non-integer id " + e.getKey());
                }
              });
      byId.values().stream().filter(t -> t != null).forEach(tokens::add);
    }
    return tokens;
  }

  /** tokenizer.json with tokens appended to its added_tokens, as transformers adds them. */
  private static byte[] withAddedTokens(byte[] json, List<Token> tokens, Vocabulary vocabulary) {
    try {
      ObjectNode root = (ObjectNode) JSON.readTree(json);
      JsonNode list = root.get("added_tokens");
      ArrayNode added =
          list instanceof ArrayNode ? (ArrayNode) list : root.putArray("added_tokens");
      for (Token token : tokens) {
        boolean special = token.flag("special", true);
        added
            .addObject()
            .put("id", vocabulary.tokenToId(token.content))
            .put("content", token.content)
            .put("single_word", token.flag("single_word", false))
            .put("lstrip", token.flag("lstrip", false))
            .put("rstrip", token.flag("rstrip", false))
            .put("normalized", token.flag("normalized", !special))
            .put("special", special);
      }
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A token of the config files: a string, or an AddedToken object with its flags. */
  private static final class Token {
    final String content;
    final JsonNode flags;

    private Token(String content, JsonNode flags) {
      this.content = content;
      this.flags = flags;
    }

    /** null for null; a string or an object with a string content; else an error. */
    static Token of(String key, JsonNode value) {
      if (value == null || value.isNull()) {
        return null;
      }
      if (value.isTextual()) {
        return new Token(value.asText(), null);
      }
      if (isAddedToken(value)) {
        return new Token(value.get("content").asText(), value);
      }
      throw new IllegalArgumentException(
          key + " must be a string or an object with a content string, not " + value);
    }

    static boolean isAddedToken(JsonNode value) {
      return value.isObject() && value.path("content").isTextual();
    }

    boolean flag(String key, boolean otherwise) {
      return flags != null && flags.path(key).isBoolean() ? flags.get(key).asBoolean() : otherwise;
    }
  }

  /** The special tokens transformers 5 reads from the config files, with Megatron's fix-ups. */
  private static final class SpecialTokens {
    /** Named (bos ... mask, then model-specific) as transformers loads them. */
    final Map<String, Token> unfixed = new LinkedHashMap<>();

    /** The same after Megatron's fix-ups. */
    final Map<String, Token> named = new LinkedHashMap<>();

    final List<Token> extra = new ArrayList<>();

    static SpecialTokens resolve(ObjectNode config, ObjectNode map) {
      ObjectNode kwargs = config == null ? JSON.createObjectNode() : config.deepCopy();
      if (kwargs.has(ADDITIONAL) && !truthy(kwargs.get(EXTRA))) {
        kwargs.set(EXTRA, kwargs.remove(ADDITIONAL));
      }
      if (map != null && !kwargs.has(DECODER)) {
        // transformers' legacy path: special_tokens_map.json overrides the config
        map.properties()
            .forEach(
                e -> {
                  JsonNode value = e.getValue();
                  if (e.getKey().equals(EXTRA) && value.isArray()) {
                    ArrayNode merged = JSON.createArrayNode();
                    Set<String> seen = new HashSet<>();
                    Stream.of(kwargs.path(EXTRA), value)
                        .filter(JsonNode::isArray)
                        .flatMap(a -> StreamSupport.stream(a.spliterator(), false))
                        .filter(
                            t -> seen.add(t.isTextual() ? t.asText() : t.path("content").asText()))
                        .forEach(merged::add);
                    value = merged;
                  }
                  kwargs.set(e.getKey(), value);
                });
      }
      if (kwargs.has(ADDITIONAL) && !kwargs.has(EXTRA)) {
        kwargs.set(EXTRA, kwargs.remove(ADDITIONAL));
      }
      SpecialTokens tokens = new SpecialTokens();
      for (String key : NAMED) {
        tokens.unfixed.put(key, Token.of(key, kwargs.get(key)));
      }
      kwargs
          .properties()
          .forEach(
              e -> {
                JsonNode value = e.getValue();
                if (e.getKey().endsWith("_token")
                    && !NAMED.contains(e.getKey())
                    && (value.isTextual() || Token.isAddedToken(value))) {
                  tokens.unfixed.put(e.getKey(), Token.of(e.getKey(), value));
                }
              });
      JsonNode extra = kwargs.path(EXTRA);
      if (extra.isObject()) {
        extra
            .properties()
            .forEach(e -> tokens.unfixed.put(e.getKey(), Token.of(EXTRA, e.getValue())));
      } else if (extra.isArray()) {
        extra.forEach(t -> tokens.extra.add(Token.of(EXTRA, t)));
      }
      tokens.named.putAll(tokens.unfixed);
      tokens.fixUp();
      return tokens;
    }

    /** Megatron's HuggingFaceTokenizer.__init__, with no special tokens given to it. */
    private void fixUp() {
      Token eos = named.get("eos_token");
      Token sep = named.get("sep_token");
      if (sep == null && truthy(eos)) {
        named.put("sep_token", eos);
      } else if (eos == null && truthy(sep)) {
        named.put("eos_token", sep);
      }
      Token bos = named.get("bos_token");
      Token cls = named.get("cls_token");
      if (bos == null && truthy(cls)) {
        named.put("bos_token", cls);
      }
      if (cls == null && truthy(bos)) {
        named.put("cls_token", bos);
      }
    }

    /** {@code all_special_tokens}. */
    Set<String> all() {
      Set<String> all = new LinkedHashSet<>();
      Stream.concat(named.values().stream(), extra.stream())
          .filter(t -> t != null)
          .forEach(t -> all.add(t.content));
      return all;
    }

    private static boolean truthy(Token token) {
      return token != null && !token.content.isEmpty();
    }

    private static boolean truthy(JsonNode node) {
      return node != null && !node.isNull() && !(node.isContainerNode() && node.isEmpty());
    }
  }

  /** What tokenizer.json says about ids: its added tokens, and the model's ids of some strings. */
  private static final class Vocabulary {
    final List<String> addedContents = new ArrayList<>();
    final Map<String, Long> modelIds = new HashMap<>();
    final Map<String, Long> addedIds = new HashMap<>();
    long modelSize;

    /** Reads the added tokens and the model's ids of {@code names} and of the added tokens. */
    static Vocabulary scan(Path file, byte[] json, Set<String> names) {
      Vocabulary vocabulary = new Vocabulary();
      boolean sawAdded = false;
      try (JsonParser p = JSON.createParser(json)) {
        if (p.nextToken() != JsonToken.START_OBJECT) {
          throw new IllegalArgumentException(file + " is not a JSON object");
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken value = p.nextToken();
          if (field.equals("added_tokens") && value == JsonToken.START_ARRAY) {
            for (JsonNode token : (ArrayNode) p.readValueAsTree()) {
              if (token.path("content").isTextual()) {
                vocabulary.addedContents.add(token.get("content").asText());
              }
            }
            sawAdded = true;
          } else if (field.equals("model") && value == JsonToken.START_OBJECT) {
            // added_tokens come first in the files the tokenizers library writes
            Set<String> wanted = new HashSet<>(names);
            wanted.addAll(vocabulary.addedContents);
            vocabulary.scanModel(p, sawAdded ? wanted : null);
          } else {
            p.skipChildren();
          }
        }
      } catch (JsonProcessingException e) {
        throw invalidJson(file, e);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return vocabulary;
    }

    /**
     * The model's vocab: an object of ids, or Unigram's list of [piece, score]; wanted null: all.
     */
    private void scanModel(JsonParser p, Set<String> wanted) throws IOException {
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals("vocab") && value == JsonToken.START_OBJECT) {
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String token = p.currentName();
            p.nextToken();
            modelSize++;
            if (wanted == null || wanted.contains(token)) {
              modelIds.put(token, p.getValueAsLong());
            }
          }
        } else if (field.equals("vocab") && value == JsonToken.START_ARRAY) {
          while (p.nextToken() == JsonToken.START_ARRAY) {
            String token = p.nextTextValue();
            if (token != null && (wanted == null || wanted.contains(token))) {
              modelIds.put(token, modelSize);
            }
            modelSize++;
            while (p.currentToken() != JsonToken.END_ARRAY) {
              p.nextToken();
            }
          }
        } else {
          p.skipChildren();
        }
      }
    }

    /**
     * Gives ids to the added tokens, then to {@code more}: the tokenizers library gives an added
     * token its model id when the model has it, else the next id, whatever tokenizer.json says.
     */
    void add(List<Token> more) {
      long max = -1;
      List<String> contents = new ArrayList<>(addedContents);
      more.forEach(t -> contents.add(t.content));
      for (String content : contents) {
        if (content.isEmpty()) {
          continue;
        }
        Long id = tokenToId(content);
        if (id == null) {
          id = max < 0 ? modelSize : max >= modelSize || modelSize == 0 ? max + 1 : modelSize;
        }
        addedIds.put(content, id);
        max = Math.max(max, id);
      }
    }

    /** The tokenizers library's {@code token_to_id}: added tokens first, then the model. */
    Long tokenToId(String token) {
      Long id = addedIds.get(token);
      return id != null ? id : modelIds.get(token);
    }
  }
}
