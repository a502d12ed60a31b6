package io.dpcoord.server;

import io.dpcoord.protocol.Message;

/** One message as it arrived: who sent it, what it says, its frame, and when it was received. */
record Inbound(Peer from, Message message, byte[] frame, long receivedNanos) {}
