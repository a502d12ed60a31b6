package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class PolicyAndConfigTest {

  @Test
  void policiesParseFromTheirCommandLineNamesInAnyCase() {
    assertThat(Policy.parse("longest_prefix")).isEqualTo(Policy.LONGEST_PREFIX);
    assertThat(Policy.parse("FIRST_PREFIX_BLOCK")).isEqualTo(Policy.FIRST_PREFIX_BLOCK);
    assertThat(Policy.parse("Load_Balanced")).isEqualTo(Policy.LOAD_BALANCED);
    assertThat(Policy.parse(" round_robin ")).isEqualTo(Policy.ROUND_ROBIN);
    for (Policy p : Policy.values()) {
      assertThat(Policy.parse(p.cliName())).isEqualTo(p);
    }
  }

  @Test
  void anUnknownPolicyNamesTheValueAndTheChoices() {
    assertThatThrownBy(() -> Policy.parse("least_loaded"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'least_loaded'")
        .hasMessageContaining(
            "longest_prefix, first_prefix_block, load_balanced, round_robin, relative_load,"
                + " sglang, dynamo, llm_d, least_work");
    assertThatThrownBy(() -> Policy.parse(null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void releasesParseFromTheirNamesAndEachOffersItsOwnPolicies() {
    assertThat(MegatronRelease.parse("0.18")).isEqualTo(MegatronRelease.V0_18);
    assertThat(MegatronRelease.parse(" 0.19")).isEqualTo(MegatronRelease.V0_19);
    assertThatThrownBy(() -> MegatronRelease.parse("0.20"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'0.20'")
        .hasMessageContaining("0.18, 0.19");
    assertThatThrownBy(() -> MegatronRelease.parse(null))
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(MegatronRelease.V0_18.policyNames())
        .isEqualTo("longest_prefix, first_prefix_block, round_robin");
    assertThat(MegatronRelease.V0_19.policyNames())
        .isEqualTo(
            "longest_prefix, first_prefix_block, load_balanced, relative_load, sglang, dynamo,"
                + " llm_d, least_work");
    assertThat(MegatronRelease.V0_18.offers(Policy.DYNAMO)).isFalse();
    assertThat(MegatronRelease.V0_18.offers(Policy.LOAD_BALANCED)).isFalse();
    assertThat(MegatronRelease.V0_19.offers(Policy.ROUND_ROBIN)).isFalse();
  }

  @Test
  void aPolicyOfTheOtherReleaseIsRefusedNamingTheChoices() {
    RouterConfig.Builder b = RouterConfig.builder();

    assertThatThrownBy(() -> b.policy(Policy.ROUND_ROBIN).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "policy round_robin is not one of Megatron 0.19's"
                + " (longest_prefix, first_prefix_block, load_balanced, relative_load, sglang,"
                + " dynamo, llm_d, least_work)");
    assertThatThrownBy(() -> b.release(MegatronRelease.V0_18).policy(Policy.LOAD_BALANCED).build())
        .hasMessageContaining("policy load_balanced is not one of Megatron 0.18's");
    assertThat(b.policy(Policy.ROUND_ROBIN).build().release()).isEqualTo(MegatronRelease.V0_18);
    assertThatThrownBy(() -> b.release(null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void roundRobinHashesEveryBlockToRecordItButRoutesOnNone() {
    RouterConfig rr =
        RouterConfig.builder()
            .release(MegatronRelease.V0_18)
            .policy(Policy.ROUND_ROBIN)
            .blockSize(4)
            .build();

    assertThat(rr.blocksToHash(17)).isEqualTo(4);
    assertThat(rr.hashesPrompts()).isTrue();
    assertThat(rr.routesByPrefix()).isFalse();
    assertThat(rr.toBuilder().prefixCaching(false).build().blocksToHash(17)).isZero();
    assertThat(rr.toBuilder().prefixCaching(false).build().hashesPrompts()).isFalse();
    assertThat(rr.toString()).contains("release=0.18", "round_robin");

    RouterConfig balanced = RouterConfig.builder().policy(Policy.LOAD_BALANCED).build();
    assertThat(balanced.blocksToHash(64)).isZero();
    assertThat(balanced.hashesPrompts()).isFalse();
    RouterConfig first = RouterConfig.builder().policy(Policy.FIRST_PREFIX_BLOCK).build();
    assertThat(first.blocksToHash(64)).isEqualTo(1);
    assertThat(first.hashesPrompts()).isTrue();
  }

  @Test
  void defaultsAreTheReferenceOnes() {
    RouterConfig c = RouterConfig.builder().build();

    assertThat(c.release()).isEqualTo(MegatronRelease.V0_19);
    assertThat(c.policy()).isEqualTo(Policy.LONGEST_PREFIX);
    assertThat(c.alpha()).isEqualTo(0.5);
    assertThat(c.maxRequests()).isEqualTo(16);
    assertThat(c.blockSize()).isEqualTo(16);
    assertThat(c.prefixCaching()).isTrue();
    assertThat(c.ttlNanos()).isZero();
    assertThat(c.indexCapacity()).isEqualTo(1 << 20);
    assertThat(c.nanoClock()).isNotNull();
  }

  @Test
  void settingsAreKept() {
    RouterConfig c =
        RouterConfig.builder()
            .policy(Policy.FIRST_PREFIX_BLOCK)
            .alpha(0.25)
            .maxRequests(4)
            .blockSize(64)
            .prefixCaching(false)
            .ttl(Duration.ofMillis(3))
            .indexCapacity(10)
            .nanoClock(() -> 42)
            .build();

    assertThat(c.policy()).isEqualTo(Policy.FIRST_PREFIX_BLOCK);
    assertThat(c.alpha()).isEqualTo(0.25);
    assertThat(c.maxRequests()).isEqualTo(4);
    assertThat(c.blockSize()).isEqualTo(64);
    assertThat(c.prefixCaching()).isFalse();
    assertThat(c.ttlNanos()).isEqualTo(3_000_000L);
    assertThat(c.indexCapacity()).isEqualTo(10);
    assertThat(c.nanoClock().getAsLong()).isEqualTo(42);
    assertThat(c.toString()).contains("first_prefix_block");
  }

  @Test
  void toBuilderStartsFromTheSettings() {
    RouterConfig c =
        RouterConfig.builder()
            .release(MegatronRelease.V0_18)
            .policy(Policy.ROUND_ROBIN)
            .alpha(0.9)
            .ttl(Duration.ofSeconds(2))
            .indexCapacity(77)
            .build();

    RouterConfig copy = c.toBuilder().maxRequests(3).build();

    assertThat(copy.release()).isEqualTo(MegatronRelease.V0_18);
    assertThat(copy.policy()).isEqualTo(Policy.ROUND_ROBIN);
    assertThat(copy.alpha()).isEqualTo(0.9);
    assertThat(copy.ttlNanos()).isEqualTo(2_000_000_000L);
    assertThat(copy.indexCapacity()).isEqualTo(77);
    assertThat(copy.maxRequests()).isEqualTo(3);
    assertThat(c.maxRequests()).isEqualTo(16);
  }

  @Test
  void badValuesAreNamed() {
    RouterConfig.Builder b = RouterConfig.builder();

    assertThatThrownBy(() -> b.alpha(1.5)).hasMessageContaining("1.5");
    assertThatThrownBy(() -> b.alpha(-0.1)).hasMessageContaining("-0.1");
    assertThatThrownBy(() -> b.alpha(Double.NaN)).hasMessageContaining("NaN");
    assertThatThrownBy(() -> b.maxRequests(0)).hasMessageContaining("got 0");
    assertThatThrownBy(() -> b.blockSize(-3)).hasMessageContaining("-3");
    assertThatThrownBy(() -> b.ttl(Duration.ofMillis(-1))).hasMessageContaining("PT-0.001S");
    assertThatThrownBy(() -> b.indexCapacity(0)).hasMessageContaining("got 0");
    assertThatThrownBy(() -> b.policy(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.nanoClock(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Router(null)).isInstanceOf(IllegalArgumentException.class);
  }
}
