package io.dpcoord.server;

import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.Message;

/**
 * One message as it arrived: who sent it, in which dialect, what it says, its frame, and when it
 * was received.
 */
record Inbound(Peer from, Dialect dialect, Message message, byte[] frame, long receivedNanos) {}
