package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AccessRulesTest {
  private static boolean in(String cidr, String address) {
    return Cidr.parse(cidr).contains(Cidr.address(address));
  }

  @Test
  void blocksMatchTheirNetworkBitsOnly() {
    assertThat(in("10.0.0.0/8", "10.255.1.2")).isTrue();
    assertThat(in("10.0.0.0/8", "11.0.0.1")).isFalse();
    assertThat(in("192.168.4.0/22", "192.168.7.255")).isTrue(); // 4..7 share the top 22 bits
    assertThat(in("192.168.4.0/22", "192.168.8.0")).isFalse();
    assertThat(in("192.168.5.77/22", "192.168.4.1")).isTrue(); // host bits of the block ignored
    assertThat(in("127.0.0.1", "127.0.0.1")).isTrue();
    assertThat(in("127.0.0.1", "127.0.0.2")).isFalse();
    assertThat(in("0.0.0.0/0", "8.8.8.8")).isTrue();
    assertThat(in("::1", "::1")).isTrue();
    assertThat(in("::1", "127.0.0.1")).isFalse();
    assertThat(in("fd00::/8", "[fd12:3456::1]")).isTrue();
    assertThat(in("10.0.0.0/8", "::ffff:10.1.2.3")).isTrue(); // IPv4-mapped
  }

  @Test
  void badBlocksAreRefusedNamingTheText() {
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33"))
        .hasMessageContaining("'10.0.0.0/33'")
        .hasMessageContaining("0 to 32");
    assertThatThrownBy(() -> Cidr.parse("example.com"))
        .hasMessageContaining("names are not looked up");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).hasMessageContaining("prefix length");
    assertThatThrownBy(() -> Cidr.parse("300.1.1.1")).hasMessageContaining("'300.1.1.1'");
  }

  @Test
  void rightsComeFromEachList() {
    AccessRules rules =
        AccessRules.of(
            List.of(Cidr.parse("10.0.0.0/8")),
            List.of(Cidr.parse("10.1.0.0/16"), Cidr.parse("192.168.0.0/16")),
            List.of(Cidr.parse("10.1.2.3")),
            "mp-coord-*");
    assertThat(rules.rightsOf(Cidr.address("10.9.9.9"))).isEqualTo(AccessRules.ENGINE);
    assertThat(rules.rightsOf(Cidr.address("10.1.9.9")))
        .isEqualTo(AccessRules.ENGINE | AccessRules.CLIENT);
    assertThat(rules.rightsOf(Cidr.address("10.1.2.3"))).isEqualTo(AccessRules.ALL);
    assertThat(rules.rightsOf(Cidr.address("192.168.1.1"))).isEqualTo(AccessRules.CLIENT);
    assertThat(rules.rightsOf(Cidr.address("172.16.0.1"))).isZero();
    assertThat(AccessRules.allowAny().rightsOf(Cidr.address("172.16.0.1")))
        .isEqualTo(AccessRules.ALL);
    assertThat(AccessRules.loopbackOnly().rightsOf(Cidr.address("127.8.0.1")))
        .isEqualTo(AccessRules.ALL);
    assertThat(AccessRules.loopbackOnly().rightsOf(Cidr.address("10.0.0.1"))).isZero();
  }

  @Test
  void withCurveTheKeysListsGiveTheRightsAndAddressListsNarrowThem() {
    byte[] engine = key(1);
    byte[] client = key(2);
    byte[] operator = key(3);
    AccessRules rules =
        AccessRules.of(null, List.of(Cidr.parse("10.0.0.0/8")), null, "mp-coord-*")
            .withCurve(
                key(9),
                new AccessRules.KeyList("e", List.of(engine)),
                new AccessRules.KeyList("c", List.of(client)),
                new AccessRules.KeyList("o", List.of(operator)));
    InetAddress inside = Cidr.address("10.1.2.3");
    InetAddress outside = Cidr.address("192.168.1.1");
    assertThat(rules.rightsOf(inside, engine)).isEqualTo(AccessRules.ENGINE);
    assertThat(rules.rightsOf(outside, engine)).isEqualTo(AccessRules.ENGINE); // any address
    assertThat(rules.rightsOf(inside, client)).isEqualTo(AccessRules.CLIENT);
    assertThat(rules.rightsOf(outside, client)).isZero(); // --allow-clients narrows
    assertThat(rules.rightsOf(inside, operator))
        .isEqualTo(AccessRules.CLIENT | AccessRules.CONTROL); // a control key is a client's
    assertThat(rules.rightsOf(inside, key(4))).isZero();
    assertThat(rules.keyRightsOf(new byte[31])).isZero();
    assertThat(rules.checksPeers()).isTrue();
    assertThat(rules.curveSecretKey()).isEqualTo(key(9));
    assertThat(rules.describe(AccessRules.CLIENT))
        .isEqualTo("--curve-clients c and --allow-clients 10.0.0.0/8");
    assertThat(rules.describe(AccessRules.ENGINE)).isEqualTo("--curve-engines e");
    assertThatThrownBy(() -> AccessRules.loopbackOnly().rightsOf(inside, engine))
        .isInstanceOf(IllegalStateException.class);
  }

  private static byte[] key(int fill) {
    byte[] key = new byte[32];
    Arrays.fill(key, (byte) fill);
    return key;
  }

  @Test
  void rightsSurviveTheirZapUserId() {
    for (int rights = 0; rights <= AccessRules.ALL; rights++) {
      assertThat(AccessRules.parseRights(AccessRules.userId(rights))).isEqualTo(rights);
    }
    assertThat(AccessRules.userId(AccessRules.ENGINE | AccessRules.CONTROL))
        .isEqualTo("engine,control");
    assertThat(AccessRules.parseRights("admin")).isZero();
  }

  @Test
  void engineIdentitiesMatchTheGlob() {
    AccessRules rules = AccessRules.loopbackOnly();
    assertThat(allowed(rules, "mp-coord-0")).isTrue();
    assertThat(allowed(rules, "mp-coord-")).isTrue();
    assertThat(allowed(rules, "tp-coord-0")).isFalse();
    assertThat(allowed(rules, "xmp-coord-0")).isFalse();
    AccessRules dotted = rules.withEngineIdentityPattern("rank.?");
    assertThat(allowed(dotted, "rank.7")).isTrue();
    assertThat(allowed(dotted, "rankx7")).isFalse(); // '.' is literal, '?' one character
    assertThat(allowed(dotted, "rank.17")).isFalse();
    assertThat(allowed(AccessRules.allowAny(), "anything")).isTrue();
  }

  private static boolean allowed(AccessRules rules, String identity) {
    return rules.engineIdentityAllowed(identity.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aNonLoopbackBindNeedsRules() {
    assertThatThrownBy(() -> CoordinatorConfig.builder().bindAddress("0.0.0.0").build())
        .hasMessageContaining("--allow-engines and --allow-clients, or --allow-any");
    assertThat(
            CoordinatorConfig.builder()
                .bindAddress("0.0.0.0")
                .access(AccessRules.allowAny())
                .build()
                .access()
                .checksPeers())
        .isFalse();
    assertThat(CoordinatorConfig.builder().build().access().checksPeers()).isTrue();
    assertThat(CoordinatorConfig.isLoopback("::1")).isTrue();
    assertThat(CoordinatorConfig.isLoopback("*")).isFalse();
  }
}
