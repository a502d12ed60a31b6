package io.dpcoord.server;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * Work that must not hold up the event loop (tokenizing a long prompt, detokenizing a long
 * generation) runs here on a few threads; each job's {@link Job#done()} then runs on the loop
 * thread, in the order the jobs finished.
 *
 * <p>Hand-back: a finished job goes on a lock-free queue, and the first job to find the queue
 * unsignalled wakes the loop with one message on the loop's own ROUTER socket: the socket also
 * binds an inproc endpoint, each worker thread has a DEALER connected to it, and the message is
 * {@link #WAKE_NOTE}, drawn at random when the process starts like the disconnect note, so that no
 * peer can forge it. The loop, which blocks in one receive on that socket, calls {@link
 * #runCompleted()} when it reads the note; nothing is added to its path when no job runs. The flag
 * is cleared before the queue is drained, so a job added while the loop drains is either drained
 * now or signalled again: none is left behind. With no threads, jobs run on the caller's thread,
 * {@code done()} right after {@code work()}.
 */
final class TokenizerWorkers implements AutoCloseable {
  /** The payload that wakes the loop: 0xc1 (never msgpack) and 16 random bytes. */
  static final byte[] WAKE_NOTE = EventLoop.unforgeableNote();

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  /** A piece of work: {@link #work()} on a worker, then {@link #done()} on the loop thread. */
  interface Job {
    /** Runs on a worker thread; must not throw (keep a failure for {@link #done()}). */
    void work();

    /** Runs on the loop thread once {@link #work()} has finished. */
    void done();
  }

  private final ExecutorService pool;
  private final Queue<Job> completed = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean signalled = new AtomicBoolean();
  private final ZContext context;
  private final String endpoint;
  private final ThreadLocal<ZMQ.Socket> wake;

  /**
   * Workers on {@code threads} threads (0: run jobs inline) that wake the loop through {@code
   * loopSocket}, which is bound to an extra inproc endpoint for them.
   */
  TokenizerWorkers(ZContext context, ZMQ.Socket loopSocket, int threads) {
    this.context = context;
    if (threads == 0) {
      pool = null;
      endpoint = null;
      wake = null;
      return;
    }
    endpoint = "inproc://dpcoord-tokenizers-" + INSTANCES.incrementAndGet();
    loopSocket.bind(endpoint);
    wake = ThreadLocal.withInitial(this::connect);
    AtomicInteger n = new AtomicInteger();
    pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "coordinator-tokenizer-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  private ZMQ.Socket connect() {
    synchronized (context) {
      ZMQ.Socket s = context.createSocket(SocketType.DEALER);
      s.setLinger(0);
      s.setSndHWM(0);
      s.connect(endpoint);
      return s;
    }
  }

  /** Runs {@code job}: on a worker, or at once on this thread when there are no workers. */
  void submit(Job job) {
    if (pool == null) {
      job.work();
      job.done();
      return;
    }
    pool.execute(
        () -> {
          try {
            job.work();
          } finally { // done() runs whatever happened, so no request is left waiting
            completed.add(job);
            if (signalled.compareAndSet(false, true)) {
              wake.get().send(WAKE_NOTE, ZMQ.DONTWAIT);
            }
          }
        });
  }

  /**
   * Runs {@code done()} of every finished job, on the loop thread: when the wake note arrives, and
   * at housekeeping (so that a note that could not be sent only delays the jobs).
   */
  void runCompleted() {
    signalled.set(false);
    for (Job job; (job = completed.poll()) != null; ) {
      job.done();
    }
  }

  /** Stops the workers; jobs not finished are dropped (the loop answers their requests). */
  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
      try {
        pool.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
