package io.dpcoord.server;

import io.dpcoord.protocol.Prompt;

/**
 * A request as it goes to an engine: the encoded frame, and what routing may use of it (the prompt,
 * and whether it may be routed by prefix: not for multimodal data or a request with its own KV).
 * The frame is null while a text prompt is tokenized for engines that take token prompts only
 * (core_v0.15).
 */
record EngineBound(byte[] frame, Prompt prompt, boolean prefixEligible) {}
