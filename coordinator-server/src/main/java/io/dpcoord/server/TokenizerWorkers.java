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
 * unsignalled sends one byte on an inproc PUSH socket (one per worker thread); the loop polls the
 * PULL end ({@link #signal()}) with its ROUTER socket and calls {@link #runCompleted()}. The flag
 * is cleared before the queue is drained, so a job added while the loop drains is either drained
 * now or signalled again: none is left behind. With no threads, jobs run on the caller's thread,
 * {@code done()} right after {@code work()}.
 */
final class TokenizerWorkers implements AutoCloseable {
  private static final AtomicInteger INSTANCES = new AtomicInteger();
  private static final byte[] ONE = {1};

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
  private final ZMQ.Socket signal;
  private final ThreadLocal<ZMQ.Socket> push;

  /**
   * Workers on {@code threads} threads (0: run jobs inline), signalling through {@code context}.
   */
  TokenizerWorkers(ZContext context, int threads) {
    this.context = context;
    if (threads == 0) {
      pool = null;
      endpoint = null;
      signal = null;
      push = null;
      return;
    }
    endpoint = "inproc://dpcoord-tokenizers-" + INSTANCES.incrementAndGet();
    signal = context.createSocket(SocketType.PULL);
    signal.setLinger(0);
    signal.bind(endpoint);
    push = ThreadLocal.withInitial(this::connectPush);
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

  private ZMQ.Socket connectPush() {
    synchronized (context) {
      ZMQ.Socket s = context.createSocket(SocketType.PUSH);
      s.setLinger(0);
      s.connect(endpoint);
      return s;
    }
  }

  /** The socket the loop polls for finished jobs; null when jobs run inline. */
  ZMQ.Socket signal() {
    return signal;
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
              push.get().send(ONE, ZMQ.DONTWAIT);
            }
          }
        });
  }

  /** Runs {@code done()} of every finished job; the loop calls it when {@link #signal()} fires. */
  void runCompleted() {
    while (signal.recv(ZMQ.DONTWAIT) != null) {
      // drain the signals: one byte per batch of finished jobs
    }
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
