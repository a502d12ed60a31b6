package io.dpcoord.cli.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * CPU time used so far by the threads of this JVM, in nanoseconds, by group: the event loop, the
 * jeromq I/O threads, the coordinator's workers, the garbage collector, the JIT compilers, and the
 * whole process.
 *
 * <p>Java threads (loop, I/O, workers) come from {@link ThreadMXBean}; the JVM's own threads (GC,
 * JIT), which ThreadMXBean does not list, from HotSpot's internal thread CPU times ({@code
 * sun.management:type=HotspotThreading}, attribute {@code InternalThreadCpuTimes}), which needs
 * {@code --add-exports java.management/sun.management=ALL-UNNAMED}. Groups by thread name:
 *
 * <ul>
 *   <li>loop: {@code coordinator-loop} or {@code forwarder-loop};
 *   <li>I/O: jeromq's {@code iothread-*} and {@code reaper-*};
 *   <li>workers: the coordinator's {@code coordinator-tokenizer-*} threads, which also hash long
 *       token prompts off the loop when prefix routing is on;
 *   <li>GC: {@code GC Thread#*}, {@code G1 *} and the {@code VM Thread} (which runs the
 *       stop-the-world operations, and the whole collection under the serial collector);
 *   <li>JIT: {@code C1 CompilerThread*}, {@code C2 CompilerThread*} and the code cache {@code
 *       Sweeper thread};
 *   <li>process: every thread of the process, living or ended ({@code
 *       OperatingSystemMXBean.getProcessCpuTime}); what the groups leave is "other".
 * </ul>
 *
 * <p>A group's time is the sum over its threads alive at the sample, so a thread that ends between
 * two samples takes its time with it: the benchmark starts its server JVM with a fixed number of
 * compiler threads ({@code -XX:-UseDynamicNumberOfCompilerThreads}) for that reason.
 */
public record ServerCpu(long loop, long io, long workers, long gc, long jit, long process) {
  private static final String INTERNAL_MBEAN = "sun.management.HotspotInternal";
  private static final String THREADING = "sun.management:type=HotspotThreading";

  /** What the groups leave: the process's other threads (the main thread, JMX, ...). */
  public long other() {
    return process - loop - io - workers - gc - jit;
  }

  /** This sample minus an earlier one. */
  public ServerCpu minus(ServerCpu before) {
    return new ServerCpu(
        loop - before.loop,
        io - before.io,
        workers - before.workers,
        gc - before.gc,
        jit - before.jit,
        process - before.process);
  }

  /** The six counts on one line, separated by spaces. */
  public String format() {
    return loop + " " + io + " " + workers + " " + gc + " " + jit + " " + process;
  }

  /**
   * Reads {@link #format()}'s line.
   *
   * @throws IllegalArgumentException if it is not six integers
   */
  public static ServerCpu parse(String line) {
    String[] f = line.trim().split(" ");
    if (f.length != 6) {
      throw new IllegalArgumentException("expected six CPU times, got '" + line + "'");
    }
    long[] v = new long[6];
    for (int i = 0; i < v.length; i++) {
      v[i] = Long.parseLong(f[i]);
    }
    return new ServerCpu(v[0], v[1], v[2], v[3], v[4], v[5]);
  }

  /**
   * Samples this JVM.
   *
   * @throws IllegalStateException if the JVM's internal thread times cannot be read (the module
   *     export above is missing, or the JVM is not HotSpot)
   */
  public static ServerCpu sample() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long loop = 0;
    long io = 0;
    long workers = 0;
    for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (t == null) {
        continue; // ended since the ids were listed
      }
      long cpu = Math.max(0, threads.getThreadCpuTime(t.getThreadId()));
      String name = t.getThreadName();
      if (name.equals("coordinator-loop") || name.equals(BareForwarder.THREAD)) {
        loop += cpu;
      } else if (name.startsWith("iothread-") || name.startsWith("reaper-")) {
        io += cpu;
      } else if (name.startsWith("coordinator-tokenizer-")) {
        workers += cpu;
      }
    }
    long gc = 0;
    long jit = 0;
    for (Map.Entry<String, Long> e : internalThreadCpu().entrySet()) {
      String name = e.getKey();
      if (name.startsWith("GC Thread") || name.startsWith("G1 ") || name.equals("VM Thread")) {
        gc += e.getValue();
      } else if (name.contains("CompilerThread") || name.equals("Sweeper thread")) {
        jit += e.getValue();
      }
    }
    long process =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    return new ServerCpu(loop, io, workers, gc, jit, process);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Long> internalThreadCpu() {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    try {
      try {
        server.createMBean(INTERNAL_MBEAN, null);
      } catch (InstanceAlreadyExistsException e) {
        // registered by an earlier sample
      }
      return (Map<String, Long>)
          server.getAttribute(new ObjectName(THREADING), "InternalThreadCpuTimes");
    } catch (JMException | RuntimeException e) {
      throw new IllegalStateException(
          "cannot read the JVM's internal thread CPU times (run with --add-exports"
              + " java.management/sun.management=ALL-UNNAMED): "
              + e,
          e);
    }
  }
}
