package io.dpcoord.sim.simulate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.sim.simulate.Requests.Req;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SyntheticTest {
  private static final String[] KINDS = {
    "chat:requests=2000",
    "agent:requests=2000",
    "system-prompt:requests=2000",
    "rag:requests=2000",
    "llm-d:requests=2000",
  };

  @ParameterizedTest
  @ValueSource(
      strings = {
        "chat:requests=2000",
        "agent:requests=2000",
        "system-prompt:requests=2000",
        "rag:requests=2000",
        "llm-d:requests=2000",
        "llm-d:requests=2000,fresh=true",
      })
  void theSameSeedGivesTheSameRequestsAndAnotherSeedOthers(String spec) {
    List<Req> a = Requests.all(Synthetic.parse(spec, 7));
    List<Req> b = Requests.all(Synthetic.parse(spec, 7));
    List<Req> c = Requests.all(Synthetic.parse(spec, 8));

    assertThat(a).hasSize(2000).isEqualTo(b);
    assertThat(c).hasSize(2000).isNotEqualTo(a);
    // not one prompt in common (a chat's first turns may have no complete block)
    Set<List<Long>> seven = new HashSet<>(a.stream().map(Req::blocks).toList());
    assertThat(c.stream().map(Req::blocks).filter(blocks -> !blocks.isEmpty()).toList())
        .isNotEmpty()
        .noneMatch(seven::contains);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "chat:requests=2000",
        "agent:requests=2000",
        "system-prompt:requests=2000",
        "rag:requests=2000",
        "llm-d:requests=2000",
      })
  void requestsArriveInOrderWithTheirCompleteBlocks(String spec) {
    Synthetic w = Synthetic.parse(spec, 3);
    List<Req> all = Requests.all(w);

    assertThat(all).hasSize(w.size());
    for (int i = 0; i < all.size(); i++) {
      Req r = all.get(i);
      assertThat(r.blocks()).hasSize(r.inputTokens() / w.blockSize());
      assertThat(r.outputTokens()).isPositive();
      if (i > 0) {
        assertThat(r.arrivalNanos()).isGreaterThanOrEqualTo(all.get(i - 1).arrivalNanos());
      }
    }
  }

  @Test
  void isReplayableFromSeveralThreadsAtOnce() throws Exception {
    for (String spec : KINDS) {
      Synthetic w = Synthetic.parse(spec, 11);
      List<Req> first = Requests.all(w);

      List<List<Req>> both = Requests.concurrently(w);

      assertThat(both.get(0)).as(spec).isEqualTo(first);
      assertThat(both.get(1)).as(spec).isEqualTo(first);
    }
  }

  @Test
  void eachChatTurnExtendsThePreviousTurnOfItsSession() {
    // 16-token blocks, so that every first message (80 tokens at least) has complete blocks and
    // its first block tells the session
    Synthetic w = Synthetic.parse("chat:requests=3000,block=16", 5);

    Map<Long, List<Req>> sessions = bySession(Requests.all(w), 0);

    assertThat(sessions).hasSize(300);
    for (List<Req> turns : sessions.values()) {
      assertThat(turns).hasSize(10);
      for (int i = 1; i < turns.size(); i++) {
        Req previous = turns.get(i - 1);
        Req turn = turns.get(i);
        // previous prompt + answer (170..510) + message (80..240)
        assertThat(turn.inputTokens() - previous.inputTokens()).isBetween(250, 750);
        assertThat(turn.blocks()).startsWith(previous.blocks().toArray(Long[]::new));
        assertThat(turn.arrivalNanos()).isGreaterThanOrEqualTo(previous.arrivalNanos());
      }
    }
  }

  @Test
  void agentContextsGrowToTensOfThousandsOfTokensAfterASharedSystemPrompt() {
    Synthetic w = Synthetic.parse("agent:requests=2000", 5);
    List<Req> all = Requests.all(w);
    int shared = 2000 / 256;

    Set<List<Long>> heads = new HashSet<>();
    for (Req r : all) {
      heads.add(r.blocks().subList(0, shared));
    }
    assertThat(heads).hasSize(1);
    Map<Long, List<Req>> agents = bySession(all, shared);
    assertThat(agents).hasSize(100);
    for (List<Req> steps : agents.values()) {
      assertThat(steps).hasSize(20);
      Req last = steps.get(19);
      assertThat(last.inputTokens()).isGreaterThan(20_000);
      for (int i = 1; i < steps.size(); i++) {
        assertThat(steps.get(i).blocks())
            .startsWith(steps.get(i - 1).blocks().toArray(Long[]::new));
      }
    }
  }

  @Test
  void systemPromptsAreSharedAndTheMostPopularIsChosenMostOften() {
    // 16-token blocks: a 2,000-token system prompt is exactly 125 blocks
    Synthetic w = Synthetic.parse("system-prompt:requests=4000,block=16", 9);
    List<Req> all = Requests.all(w);

    Map<List<Long>, Integer> bySystem = new HashMap<>();
    Set<List<Long>> questions = new HashSet<>();
    for (Req r : all) {
      bySystem.merge(r.blocks().subList(0, 125), 1, Integer::sum);
      questions.add(r.blocks().subList(125, r.blocks().size()));
    }
    List<Integer> counts = descending(bySystem.values());
    assertThat(counts).hasSize(16);
    // Zipf(1) over 16: the first is chosen with probability 0.296, the last 0.019
    assertThat(counts.get(0)).isBetween(1000, 1400);
    assertThat(counts.get(15)).isLessThan(counts.get(0) / 5);
    assertThat(questions).hasSize(4000);
  }

  @Test
  void ragDocumentPopularityFollowsZipf() {
    // the instruction and documents fill whole blocks, so block 1 names the first document drawn
    Synthetic w =
        Synthetic.parse("rag:requests=5000,instruction=256,document=256,corpus=1000,k=5", 13);
    List<Req> all = Requests.all(w);

    Map<Long, Integer> firstDocument = new HashMap<>();
    for (Req r : all) {
      assertThat(r.blocks().size()).isGreaterThanOrEqualTo(6);
      firstDocument.merge(r.blocks().get(1), 1, Integer::sum);
    }
    List<Integer> counts = descending(firstDocument.values());
    // Zipf(1) over 1,000: rank 1 has probability 1/H(1000) = 0.134, rank 10 0.0134
    assertThat(counts.get(0)).isBetween(560, 780);
    assertThat(counts.get(0)).isGreaterThan(5 * counts.get(9));
    assertThat(all.stream().map(r -> r.blocks().get(0)).distinct()).hasSize(1);
  }

  @Test
  void llmDGroupsShareTheirSystemPromptsBlocksAndUsersAskDifferentQuestions() {
    Synthetic w = Synthetic.parse("llm-d:requests=1500", 17);
    List<Req> all = Requests.all(w);
    int shared = 6000 / 256;

    assertThat(all).allSatisfy(r -> assertThat(r.inputTokens()).isEqualTo(7200));
    assertThat(all).allSatisfy(r -> assertThat(r.outputTokens()).isEqualTo(1000));
    Map<Long, List<Req>> groups = bySession(all, 0);
    assertThat(groups).hasSize(150);
    for (List<Req> group : groups.values()) {
      Set<List<Long>> prompts = new HashSet<>();
      for (Req a : group) {
        prompts.add(a.blocks());
        for (Req b : group) {
          int common = commonPrefix(a.blocks(), b.blocks());
          assertThat(common).isIn(shared, a.blocks().size());
        }
      }
      assertThat(prompts).hasSize(5); // 1,500 requests send each of the 750 prompts twice
    }
  }

  @Test
  void llmDFreshQuestionsAreAllDifferent() {
    List<Req> all = Requests.all(Synthetic.parse("llm-d:requests=1500,fresh=true", 17));

    assertThat(all.stream().map(Req::blocks).distinct()).hasSize(1500);
  }

  @Test
  void aRampRaisesTheRateFromStartToEnd() {
    List<Req> all = Requests.all(Synthetic.parse("system-prompt:requests=6000,rate=3..60", 1));

    // the ramp lasts 2 * 6000 / 63 = 190.5 s; the first 300 requests come at 3 to about 8.3/s,
    // the last 300 at about 58.5 to 60/s
    long firstSpan = all.get(299).arrivalNanos() - all.get(0).arrivalNanos();
    long lastSpan = all.get(5999).arrivalNanos() - all.get(5700).arrivalNanos();
    assertThat(firstSpan).isGreaterThan(5 * lastSpan);
    assertThat(all.get(5999).arrivalNanos() / 1e9).isBetween(180.0, 200.0);
  }

  @Test
  void aConstantRateSpreadsRequestsOverRequestsDividedByRate() {
    List<Req> all = Requests.all(Synthetic.parse("rag:requests=5000,rate=50", 1));

    assertThat(all.get(4999).arrivalNanos() / 1e9).isBetween(95.0, 105.0);
  }

  @Test
  void describeListsEveryKeyWithItsValue() {
    Synthetic w = Synthetic.parse(" rag : requests = 1e5 , rate=50 ,zipf=0.8 ", 1);

    assertThat(w.size()).isEqualTo(100_000);
    assertThat(w.describe())
        .isEqualTo(
            "rag:requests=100000,rate=50,block=256,output=200,instruction=300,corpus=1000,k=5,"
                + "document=512,zipf=0.8,question=100");
    assertThat(Synthetic.parse("llm-d", 1).describe()).contains("rate=3..60");
    assertThat(w.name()).isEqualTo("rag : requests = 1e5 , rate=50 ,zipf=0.8 (seed 1)");
    assertThat(Synthetic.usage()).contains("llm-d:", "  fresh ", "chat:", "  think ");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "| empty workload spec",
        "poem | unknown workload kind 'poem' (kinds: chat, agent, system-prompt, rag, llm-d)",
        "rag:colour=red | rag has no key 'colour' (keys: requests, rate, block, output,",
        "rag:requests | rag: expected key=value, got 'requests'",
        "rag:requests=5,,rate=1 | rag: expected key=value, got ''",
        "rag:rate=1,rate=2 | rag: key 'rate' given twice",
        "rag:requests=0 | rag: 'requests' must be an integer >= 1, got '0'",
        "rag:requests=1.5 | rag: 'requests' must be an integer >= 1, got '1.5'",
        "rag:requests=3000000000 | rag: 'requests' must be an integer >= 1",
        "rag:rate=0 | rag: 'rate' must be a rate > 0 (requests/s) or a ramp A..B of two, got '0'",
        "rag:rate=3..x | rag: 'rate' must be a rate > 0",
        "rag:zipf=-1 | rag: 'zipf' must be a number >= 0, got '-1'",
        "llm-d:fresh=yes | llm-d: 'fresh' must be true or false, got 'yes'",
        "rag:k=20,corpus=10 | rag: 'k' (20) must be at most the corpus (10)",
        "chat:turns=0 | chat: 'turns' must be an integer >= 1, got '0'",
        "chat:turns=1000,message=100000 | chat: a session's context could reach 150509490 tokens",
        "system-prompt:prompts=9999999 | system-prompt: 'prompts' must be at most 4194304",
        "rag:block=2000000 | rag: 'block' must be at most 1048576",
      })
  void aBadSpecIsRejectedNamingWhatIsWrong(String spec, String message) {
    assertThatThrownBy(() -> Synthetic.parse(spec, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  /** Requests grouped by their block at {@code position}, in arrival order. */
  private static Map<Long, List<Req>> bySession(List<Req> all, int position) {
    Map<Long, List<Req>> out = new LinkedHashMap<>();
    for (Req r : all) {
      out.computeIfAbsent(r.blocks().get(position), k -> new ArrayList<>()).add(r);
    }
    return out;
  }

  private static int commonPrefix(List<Long> a, List<Long> b) {
    int n = 0;
    while (n < a.size() && n < b.size() && a.get(n).equals(b.get(n))) {
      n++;
    }
    return n;
  }

  private static List<Integer> descending(Collection<Integer> counts) {
    List<Integer> sorted = new ArrayList<>(counts);
    sorted.sort(Comparator.reverseOrder());
    return sorted;
  }
}
