package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.server.AccessRules;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.ZCert;
import org.zeromq.ZMQ;

/**
 * CURVE key files: pyzmq's read as pyzmq reads them (golden files in src/test/resources/curve),
 * keygen's written as CZMQ writes them, and the CURVE flags' refusals.
 */
@Timeout(30)
class CurveKeyFilesTest {
  @TempDir Path dir;

  private static Path golden(String name) throws URISyntaxException {
    return Path.of(CurveKeyFilesTest.class.getResource("/curve/" + name).toURI());
  }

  private static Properties expected() throws IOException {
    Properties p = new Properties();
    try (InputStream in =
        CurveKeyFilesTest.class.getResourceAsStream("/curve/expected.properties")) {
      p.load(in);
    }
    return p;
  }

  @Test
  void pyzmqKeyFilesReadAsPyzmqReadsThem() throws Exception {
    Properties expected = expected();
    for (String name : new String[] {"pyzmq-server", "pyzmq-client"}) {
      byte[] pub = CurveKeyFiles.readPublic(golden(name + ".key"));
      ZCert pair = CurveKeyFiles.readSecret(golden(name + ".key_secret"));
      assertThat(ZMQ.Curve.z85Encode(pub)).isEqualTo(expected.getProperty(name + ".public"));
      assertThat(pair.getPublicKey()).isEqualTo(pub);
      assertThat(pair.getSecretKeyAsZ85()).isEqualTo(expected.getProperty(name + ".secret"));
    }
  }

  @Test
  void aDirectoryListsItsPublicKeyFilesOnly() throws Exception {
    Path src = golden("pyzmq-client.key").getParent();
    AccessRules.KeyList list = CurveKeyFiles.readDirectory(src, true);
    assertThat(list.keys()).hasSize(2); // two *.key; the *.key_secret files are not read
    assertThat(list.source()).isEqualTo(src.toString());
    assertThat(CurveKeyFiles.readDirectory(dir, false).keys()).isEmpty();
    assertThatThrownBy(() -> CurveKeyFiles.readDirectory(dir, true))
        .hasMessage(dir + " holds no *.key file");
  }

  @Test
  void keygenWritesAPairThatReadsBackWithTheSecretFileOwnerOnly() throws Exception {
    CliRun r = CliRun.of("keygen", "--out", dir.resolve("keys").toString(), "--name", "engine-0");
    assertThat(r.status()).as(r.err()).isZero();
    Path pub = dir.resolve("keys/engine-0.key");
    Path secret = dir.resolve("keys/engine-0.key_secret");
    ZCert pair = CurveKeyFiles.readSecret(secret);
    assertThat(CurveKeyFiles.readPublic(pub)).isEqualTo(pair.getPublicKey());
    assertThat(r.out()).contains(pub + " " + pair.getPublicKeyAsZ85());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(pub)).contains("curve").doesNotContain("secret-key");

    CliRun again =
        CliRun.of("keygen", "--out", dir.resolve("keys").toString(), "--name", "engine-0");
    assertThat(again.status()).isEqualTo(2);
    assertThat(again.err()).contains("exists; keys are never overwritten");
    assertThat(CurveKeyFiles.readSecret(secret).getSecretKey()).isEqualTo(pair.getSecretKey());
  }

  @Test
  void badKeyFilesAreRefusedNamingTheFile() throws Exception {
    Path notZpl = Files.writeString(dir.resolve("a.key"), "curve\n  public-key = \"x\"\n");
    assertThatThrownBy(() -> CurveKeyFiles.readPublic(notZpl)).hasMessageContaining(notZpl + "");
    Path shortKey = Files.writeString(dir.resolve("b.key"), "curve\n    public-key = \"abc\"\n");
    assertThatThrownBy(() -> CurveKeyFiles.readPublic(shortKey))
        .hasMessage(shortKey + ": curve/public-key is not a 40-character Z85 key");
    Path publicOnly = golden("pyzmq-server.key");
    assertThatThrownBy(() -> CurveKeyFiles.readSecret(publicOnly))
        .hasMessage(publicOnly + " has no curve/secret-key");
  }

  @Test
  void curveFlagsAreRefusedInOneLineNamingTheFlag() throws Exception {
    String keys = golden("pyzmq-client.key").getParent().toString();
    String secret = golden("pyzmq-server.key_secret").toString();
    String[][] refusals = {
      {"serve", "--curve-engines", keys},
      {"serve", "--curve-secret-key", secret, "--curve-engines", keys},
      {
        "serve",
        "--curve-secret-key",
        golden("pyzmq-server.key").toString(),
        "--curve-engines",
        keys,
        "--curve-clients",
        keys
      },
      {
        "serve",
        "--curve-secret-key",
        secret,
        "--curve-engines",
        keys,
        "--curve-clients",
        dir.toString()
      },
      {
        "serve",
        "--allow-any",
        "--curve-secret-key",
        secret,
        "--curve-engines",
        keys,
        "--curve-clients",
        keys
      },
      {"engine", "--connect", "tcp://127.0.0.1:1", "--rank", "0", "--curve-key", secret},
      {
        "load",
        "--connect",
        "tcp://127.0.0.1:1",
        "--requests",
        "1",
        "--concurrency",
        "1",
        "--curve-server-key",
        keys + "/pyzmq-server.key",
        "--curve-key",
        keys + "/pyzmq-server.key"
      },
    };
    String[] named = {
      "need --curve-secret-key",
      "needs --curve-engines and --curve-clients",
      "--curve-secret-key " + golden("pyzmq-server.key") + " has no curve/secret-key",
      "--curve-clients " + dir + " holds no *.key file",
      "--allow-any cannot be combined with CURVE options",
      "--curve-key needs --curve-server-key",
      "--curve-key " + keys + "/pyzmq-server.key has no curve/secret-key",
    };
    for (int i = 0; i < refusals.length; i++) {
      CliRun r = CliRun.of(refusals[i]);
      assertThat(r.status()).as(String.join(" ", refusals[i])).isEqualTo(2);
      assertThat(r.errLines()).hasSize(1);
      assertThat(r.errLines().get(0)).contains(named[i]);
    }
  }
}
