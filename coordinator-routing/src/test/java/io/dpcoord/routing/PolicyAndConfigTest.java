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
    for (Policy p : Policy.values()) {
      assertThat(Policy.parse(p.cliName())).isEqualTo(p);
    }
  }

  @Test
  void anUnknownPolicyNamesTheValueAndTheChoices() {
    assertThatThrownBy(() -> Policy.parse("round_robin"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'round_robin'")
        .hasMessageContaining("longest_prefix, first_prefix_block, load_balanced");
    assertThatThrownBy(() -> Policy.parse(null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void defaultsAreTheReferenceOnes() {
    RouterConfig c = RouterConfig.builder().build();

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
            .policy(Policy.LOAD_BALANCED)
            .alpha(0.9)
            .ttl(Duration.ofSeconds(2))
            .indexCapacity(77)
            .build();

    RouterConfig copy = c.toBuilder().maxRequests(3).build();

    assertThat(copy.policy()).isEqualTo(Policy.LOAD_BALANCED);
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
