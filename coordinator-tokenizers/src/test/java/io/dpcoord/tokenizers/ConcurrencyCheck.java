package io.dpcoord.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Several threads tokenizing and detokenizing at once get what one thread gets. */
final class ConcurrencyCheck {
  private ConcurrencyCheck() {}

  static final int THREADS = 4;

  static void sameIdsFromSeveralThreads(TextTokenizer tokenizer) throws Exception {
    List<String> texts = texts();
    List<long[]> ids = new ArrayList<>();
    List<String> decoded = new ArrayList<>();
    for (String text : texts) {
      long[] i = tokenizer.tokenize(text);
      ids.add(i);
      decoded.add(tokenizer.detokenize(i));
    }
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<Integer>> runs = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        long seed = t;
        runs.add(
            pool.submit(
                () -> {
                  List<Integer> order = new ArrayList<>();
                  for (int r = 0; r < 5; r++) {
                    for (int i = 0; i < texts.size(); i++) {
                      order.add(i);
                    }
                  }
                  Collections.shuffle(order, new Random(seed));
                  int checked = 0;
                  for (int i : order) {
                    assertThat(tokenizer.tokenize(texts.get(i))).containsExactly(ids.get(i));
                    assertThat(tokenizer.detokenize(ids.get(i))).isEqualTo(decoded.get(i));
                    checked++;
                  }
                  return checked;
                }));
      }
      for (Future<Integer> run : runs) {
        assertThat(run.get(2, TimeUnit.MINUTES)).isEqualTo(5 * texts.size());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Mixed texts: words, digits, white space, Unicode, long runs, special-token look-alikes. */
  static List<String> texts() {
    String[] pieces = {
      "the",
      " coordinator",
      " routes",
      "1,000,000",
      " ",
      "\n\n",
      "\t",
      "Größe",
      "协调器",
      "😀",
      "e\u0301",
      "<s>",
      "</s>",
      "<unk>",
      "aaaaaaaaaaaaaaaaaaaa",
      "HelloWorld",
      "'s",
      "!?",
      "\u00a0"
    };
    Random random = new Random(11);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      StringBuilder sb = new StringBuilder();
      int n = random.nextInt(40);
      for (int k = 0; k < n; k++) {
        sb.append(pieces[random.nextInt(pieces.length)]);
      }
      texts.add(sb.toString());
    }
    return texts;
  }
}
