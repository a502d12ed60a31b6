package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Engines of Megatron core_v0.19.0 ({@code serve --engine-wire 0.19.0}): main's numbering and a
 * SUBMIT of exactly three fields after the header, which a fourth would end. What such engines lack
 * besides (multimodal data, KV handoff, aborts, RELEASE_KV) is tested with 0.18's in {@link
 * DialectEnginesTest}.
 */
@Timeout(30)
class CoreV0190EnginesTest {
  private static final Object SP = TestClient.SAMPLING;

  private static TestCoordinator coreV0190Engines() {
    return TestCoordinator.start(b -> b.engineCoreV0190(true));
  }

  @Test
  void everySubmitReachesThemWithThreeFieldsEvenWhenTheClientSentANilFourth() {
    try (TestCoordinator c = coreV0190Engines()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      client.submit(1, "four elements");
      long r1 = engine.expectSubmitFrame(rid -> Pack.array(20, rid, "four elements", SP));
      client.send(Pack.array(20, 2, Pack.list(1, 2), SP, null)); // multi_modal_data nil
      long r2 = engine.expectSubmitFrame(rid -> Pack.array(20, rid, Pack.list(1, 2), SP));
      engine.complete(r1, r2);
      client.expectFrame(Pack.array(21, 1, Pack.raw(ReplyRecords.completed(r1))));
      client.expectFrame(Pack.array(21, 2, Pack.raw(ReplyRecords.completed(r2))));
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }
}
