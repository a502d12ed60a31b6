package io.dpcoord.cli;

import io.dpcoord.server.AccessRules;
import io.dpcoord.server.AccessRules.KeyList;
import io.dpcoord.sim.CurveClient;
import java.util.List;
import org.zeromq.ZMQ;

/**
 * Throwaway CurveZMQ keys for {@code demo --curve}: the coordinator's, one shared by the engines
 * and one for the client (the load generator and the control client), which may send control
 * signals. They live in memory for one run.
 */
record DemoCurve(ZMQ.Curve.KeyPair server, ZMQ.Curve.KeyPair engine, ZMQ.Curve.KeyPair client) {

  static DemoCurve generate() {
    return new DemoCurve(
        ZMQ.Curve.generateKeyPair(), ZMQ.Curve.generateKeyPair(), ZMQ.Curve.generateKeyPair());
  }

  /** The coordinator's rules: loopback peers holding the engine's or the client's key. */
  AccessRules rules() {
    return AccessRules.loopbackOnly()
        .withCurve(
            ZMQ.Curve.z85Decode(server.secretKey),
            list("(demo engine key)", engine),
            list("(demo client key)", client),
            list("(demo client key)", client));
  }

  CurveClient engineKeys() {
    return keysOf(engine);
  }

  CurveClient clientKeys() {
    return keysOf(client);
  }

  private CurveClient keysOf(ZMQ.Curve.KeyPair own) {
    return new CurveClient(
        ZMQ.Curve.z85Decode(server.publicKey),
        ZMQ.Curve.z85Decode(own.publicKey),
        ZMQ.Curve.z85Decode(own.secretKey));
  }

  private static KeyList list(String source, ZMQ.Curve.KeyPair key) {
    return new KeyList(source, List.of(ZMQ.Curve.z85Decode(key.publicKey)));
  }
}
