package io.dpcoord.cli;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;

/**
 * Turns SIGTERM and SIGINT into a clean stop with exit status 0.
 *
 * <p>A JVM shutdown hook would also run on SIGTERM, but the process would then exit with 143; a
 * signal handler lets the command finish normally instead. The handler is installed through
 * reflection on {@code sun.misc.Signal} (module jdk.unsupported, present in every JDK 17) so that
 * the build carries no internal-API warning; where it is missing, a shutdown hook is the fallback.
 */
final class Signals {
  private Signals() {}

  static void onTerminate(Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      InvocationHandler call =
          (proxy, method, args) -> {
            if (method.getName().equals("handle")) {
              action.run();
            }
            return null;
          };
      Object proxy =
          Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handler}, call);
      for (String name : new String[] {"TERM", "INT"}) {
        Object sig = signal.getConstructor(String.class).newInstance(name);
        signal.getMethod("handle", signal, handler).invoke(null, sig, proxy);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      Runtime.getRuntime().addShutdownHook(new Thread(action, "coordinator-stop"));
    }
  }
}
