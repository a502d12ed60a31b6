package io.dpcoord.sim;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectableChannel;

/**
 * A self-pipe: other threads call {@link #wake()} to end a ZMQ poll that includes {@link
 * #channel()}, so a loop can wait for its next deadline without a housekeeping timeout.
 */
final class Wakeup implements Closeable {
  private final Pipe pipe;
  private final ByteBuffer drainBuffer = ByteBuffer.allocate(64);

  Wakeup() {
    try {
      pipe = Pipe.open();
      pipe.source().configureBlocking(false);
      pipe.sink().configureBlocking(false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a wake-up pipe", e);
    }
  }

  /** The channel to register for POLLIN with the loop's poller. */
  SelectableChannel channel() {
    return pipe.source();
  }

  /** Makes the loop's next (or current) poll return. Any thread; never throws. */
  void wake() {
    try {
      pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
    } catch (IOException e) {
      // closed: the loop has already finished, so there is nobody left to wake
    }
  }

  /** Empties the pipe; called by the loop after its poll saw the channel readable. */
  void drain() {
    try {
      while (pipe.source().read(drainBuffer.clear()) > 0) {
        // keep reading until the pipe is empty
      }
    } catch (IOException e) {
      // closed under us: the loop is ending anyway
    }
  }

  @Override
  public void close() {
    try {
      pipe.sink().close();
    } catch (IOException e) {
      // nothing to do: the pipe is local to this process
    }
    try {
      pipe.source().close();
    } catch (IOException e) {
      // nothing to do: the pipe is local to this process
    }
  }
}
