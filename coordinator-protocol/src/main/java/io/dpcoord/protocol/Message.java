package io.dpcoord.protocol;

/**
 * Every message, both directions.
 *
 * <p>Each record is one frame shape; {@link MessageCodec} turns frames into records and back.
 * Shapes that are the same in two directions (ABORT_REQUEST, RELEASE_KV, control signals) share a
 * record.
 */
public sealed interface Message
    permits Connect,
        ConnectAck,
        SubmitRequest,
        SubmitRequestWithKv,
        EngineSubmit,
        EngineSubmitWithKv,
        AbortRequest,
        ReleaseKv,
        ControlSignal,
        SetGenerationEpoch,
        Shutdown,
        Registration,
        Disconnect,
        EngineReply,
        EngineStep,
        EngineReplyPartial,
        ClientReply,
        ClientReplyPartial,
        ControlAck {

  /** The frame's header; null only for {@link Registration}, the one frame without a header. */
  Header header();
}
