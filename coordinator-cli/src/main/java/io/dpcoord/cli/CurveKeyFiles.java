package io.dpcoord.cli;

import io.dpcoord.server.AccessRules;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.zeromq.ZCert;
import org.zeromq.ZConfig;
import org.zeromq.ZMQ;

/**
 * CurveZMQ key files in CZMQ's certificate format (ZPL text, ZeroMQ RFC 4): a {@code curve} section
 * with {@code public-key = "..."} and, in the secret file, {@code secret-key = "..."}, each a
 * 40-character Z85 key. pyzmq's {@code zmq.auth.create_certificates} writes the same files ({@code
 * NAME.key} and {@code NAME.key_secret}), and a directory of {@code *.key} files is a list, as
 * pyzmq's {@code load_certificates} reads it; so keys move between the coordinator and pyzmq/CZMQ
 * tooling unchanged (docs/SECURITY.md).
 *
 * <p>Reading and writing go through jeromq's {@link ZConfig} and {@link ZCert}, its ports of CZMQ's
 * zconfig and zcert. Every error is an {@link IllegalArgumentException} naming the file.
 */
final class CurveKeyFiles {
  /** The suffix of a public key file; the secret file adds {@value #SECRET_SUFFIX}. */
  static final String PUBLIC_SUFFIX = ".key";

  static final String SECRET_SUFFIX = "_secret";

  private static final Pattern Z85_KEY =
      Pattern.compile("[0-9a-zA-Z.\\-:+=^!/*?&<>()\\[\\]{}@%$#]{" + ZMQ.Curve.KEY_SIZE_Z85 + "}");

  private CurveKeyFiles() {}

  /** The public key of a public or secret key file (32 bytes). */
  static byte[] readPublic(Path file) {
    return key(load(file), file, "public-key");
  }

  /** The key pair of a secret key file. */
  static ZCert readSecret(Path file) {
    ZConfig config = load(file);
    key(config, file, "public-key");
    key(config, file, "secret-key");
    return new ZCert(config.getValue("curve/public-key"), config.getValue("curve/secret-key"));
  }

  /**
   * The public keys of the {@code *.key} files in {@code dir} (secret files, {@code *.key_secret},
   * are not read), as a role's list.
   *
   * @param required whether a directory without a key is an error
   */
  static AccessRules.KeyList readDirectory(Path dir, boolean required) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + " is not a directory");
    }
    List<byte[]> keys = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + PUBLIC_SUFFIX)) {
      for (Path file : files) {
        keys.add(readPublic(file));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot list " + dir + ": " + e.getMessage(), e);
    }
    if (required && keys.isEmpty()) {
      throw new IllegalArgumentException(dir + " holds no *" + PUBLIC_SUFFIX + " file");
    }
    return new AccessRules.KeyList(dir.toString(), keys);
  }

  /**
   * Writes a new key pair as {@code dir/NAME.key} and {@code dir/NAME.key_secret}, the secret file
   * readable by its owner only (mode 0600 where the file system has POSIX modes).
   *
   * @throws IllegalArgumentException if either file exists (keys are never overwritten)
   * @throws UncheckedIOException if a file cannot be written
   */
  static ZCert write(Path dir, String name) {
    ZCert cert = new ZCert();
    Path pub = dir.resolve(name + PUBLIC_SUFFIX);
    Path secret = dir.resolve(name + PUBLIC_SUFFIX + SECRET_SUFFIX);
    for (Path p : List.of(pub, secret)) {
      if (Files.exists(p)) {
        throw new IllegalArgumentException(p + " exists; keys are never overwritten");
      }
    }
    try {
      Files.createDirectories(dir);
      try (Writer w = newFile(secret, true)) {
        cert.saveSecret(w);
      }
      try (Writer w = newFile(pub, false)) {
        cert.savePublic(w);
      }
    } catch (FileAlreadyExistsException e) {
      throw new IllegalArgumentException(e.getFile() + " exists; keys are never overwritten", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
    }
    return cert;
  }

  private static Writer newFile(Path file, boolean ownerOnly) throws IOException {
    if (ownerOnly && file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } else {
      Files.createFile(file);
    }
    return Files.newBufferedWriter(file, StandardCharsets.UTF_8);
  }

  private static ZConfig load(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(file + " is not a file");
    }
    try {
      return ZConfig.load(file.toString());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (ZConfig.ReadException e) {
      throw new IllegalArgumentException(
          file + " is not a CURVE key file (ZPL): " + e.getMessage() + " at: " + e.currentLine, e);
    }
  }

  private static byte[] key(ZConfig config, Path file, String name) {
    String z85 = config.getValue("curve/" + name);
    if (z85 == null) {
      throw new IllegalArgumentException(file + " has no curve/" + name);
    }
    if (!Z85_KEY.matcher(z85).matches()) {
      throw new IllegalArgumentException(
          file + ": curve/" + name + " is not a " + ZMQ.Curve.KEY_SIZE_Z85 + "-character Z85 key");
    }
    return ZMQ.Curve.z85Decode(z85);
  }
}
