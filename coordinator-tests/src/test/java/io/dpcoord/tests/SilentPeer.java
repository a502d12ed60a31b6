package io.dpcoord.tests;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A peer that hangs without disconnecting, as a stopped process or a dead host does: a plain TCP
 * socket that speaks the ZMTP 3.1 handshake of a DEALER with an identity (reading the coordinator's
 * greeting and READY), sends its messages, and from then on reads and writes nothing, so the
 * coordinator's PINGs go unanswered while the connection stays open (the kernel still acknowledges
 * what arrives).
 */
final class SilentPeer implements AutoCloseable {
  private final Socket socket = new Socket();

  /** Connects to {@code endpoint} ({@code tcp://host:port}) as a DEALER named {@code identity}. */
  SilentPeer(String endpoint, String identity) throws IOException {
    URI uri = URI.create(endpoint);
    socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 10_000);
    socket.setSoTimeout(10_000);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    // greeting: signature, version 3.1, mechanism NULL padded to 20 bytes, as-server 0, filler
    out.write(0xff);
    out.write(new byte[8]);
    out.write(0x7f);
    out.write(3);
    out.write(1);
    byte[] mechanism = new byte[20];
    System.arraycopy("NULL".getBytes(StandardCharsets.US_ASCII), 0, mechanism, 0, 4);
    out.write(mechanism);
    out.write(0);
    out.write(new byte[31]);
    // READY with the metadata of a DEALER and its identity
    ByteArrayOutputStream ready = new ByteArrayOutputStream();
    ready.write(5);
    ready.write("READY".getBytes(StandardCharsets.US_ASCII));
    property(ready, "Socket-Type", "DEALER");
    property(ready, "Identity", identity);
    out.write(0x04); // a short command frame
    out.write(ready.size());
    ready.writeTo(out);
    socket.getOutputStream().write(out.toByteArray());
    // a message sent before the coordinator's READY would be taken for a second handshake command
    DataInputStream in = new DataInputStream(socket.getInputStream());
    in.readFully(new byte[64]);
    int flags = in.readUnsignedByte();
    in.readFully(new byte[(flags & 0x02) == 0 ? in.readUnsignedByte() : (int) in.readLong()]);
  }

  private static void property(OutputStream out, String name, String value) throws IOException {
    byte[] v = value.getBytes(StandardCharsets.UTF_8);
    out.write(name.length());
    out.write(name.getBytes(StandardCharsets.US_ASCII));
    out.write(new byte[] {0, 0, 0, (byte) v.length});
    out.write(v);
  }

  /** Sends one single-frame message (a short frame: at most 255 bytes). */
  void send(byte[] payload) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(0x00);
    out.write(payload.length);
    out.write(payload);
    out.flush();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
