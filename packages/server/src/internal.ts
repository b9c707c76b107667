/**
 * `@encke/server/internal`: what the project's own tests and tools need beyond the public API
 * (index.ts). Not a stable interface: anything here may change with the code it exposes.
 */
export { FakeClock } from './util/clock.js';
export {
  InboundQueue,
  PUBLISH_PIPELINE,
  publishAlone,
  type InboundHandler,
  type SendAnswer,
} from './session/inbound.js';
export { hasEpoch, messageSerial } from './engine/serial.js';
export * as capability from './auth/capability.js';
export * as tokenCodec from './auth/token-codec.js';
/** For fault-injection tests of the last resort (issue 12): what a bug could make throw. */
export { OutboundFrame } from './wire/frame.js';
/** Acknowledged polling and SSE continuation: what a comet connection keeps until the client confirms it. */
export { RecvReplay, REPLAY_FRAMES } from './transports/comet/replay.js';
/** When a held recv is recycled: a stream's lifetime; a poll reads no clock for it. */
export { recvExpiry } from './transports/comet/recv.js';
export { Session } from './session/session.js';
export type { Faults, FaultKind, LimitName } from './util/faults.js';
export { vcdiffEncode, MAX_VCDIFF_INPUT, type VcdiffOptions } from './delta/vcdiff.js';
export { DeltaRun, deltaForm, payloadBytes, DELTA_FORMAT, type ChainEnd } from './delta/delta-run.js';
export { compileFilter, MAX_FILTER_LENGTH, type FilterInput, type MessageFilter } from './filter/filter.js';
export { parseQualifiedName, type QualifiedName } from './filter/qualified-name.js';
export {
  applyAnnotation,
  validateAnnotation,
  AnnotationAction,
  MAX_SUMMARY_CLIENT_IDS,
  type AnnotationInput,
  type Summary,
} from './annotations/summary.js';
export { SlicedSweep, slicesFor, type SweepSource } from './util/sliced-sweep.js';
export { FlushScheduler, type Flushable } from './util/scheduler.js';
export { mergeChange, type MergedChange } from './channels/message-merge.js';
export { historyView, lastPublished, chainOf, latestForm } from './engine/message-chain.js';
export { StatsCounters } from './stats/counters.js';
export type { StatsStore } from './engine/stats-store.js';
/** The Redis engine's script calls (ordering across NOSCRIPT) and the publish script's source. */
export { LuaScript, ScriptRunner, type ScriptClient } from './engine/redis/script.js';
export { PUBLISH as PUBLISH_LUA } from './engine/redis/lua.js';
/** Idle memory (issue 19): the per-connection and per-channel structures made on first use. */
export { LocalChannel } from './channels/local-channel.js';
export type { Subscriber } from './channels/subscriber.js';
export type { LocalChannels } from './channels/local-channels.js';
export { Attachments, type AttachmentHolder } from './session/attachments.js';
export type { AttachmentOwner } from './session/attachment.js';
export { MemoryChannel } from './engine/memory/memory-channel.js';
export { storedEvent } from './engine/stored-event.js';
/** What a scavenge copies (issue 19): the channel log as bytes. */
export { PackedLog } from './engine/memory/packed-log.js';
export { channelKey } from './engine/channel-store.js';
export { sharedParams } from './session/shared-params.js';
export type { SessionParams } from './session/handle.js';
export type { AuthContext } from './auth/authenticate.js';
export { compactTime } from './util/compact-time.js';
export { Metrics } from './metrics/metrics.js';
/** Opens (issue 19): CONNECTED and ATTACHED from templates. */
export { connectedFrame, hasConnectedTemplate } from './session/connected-frame.js';
export { attachedFrame } from './session/attached-frame.js';
export { replyFrame } from './session/ack-frame.js';
export { AckLedger } from './session/ack-ledger.js';
export { connectedMessage, formatConnectionKey } from './session/connection-key.js';
/** Random ids: every character equally likely. */
export { randomAlnum, randomId, fillAlnum, fillAlnumFromText } from './util/ids.js';
/** What reaches each WebSocket connection, write by write (fan-out write tests). */
export { WebSocketTransport } from './transports/websocket.js';
/** The usual WebSocket handshake made by encke itself (issue 19, open rate; a subset of what `ws` accepts). */
export { usualHandshake } from './transports/ws-handshake.js';
/** The connect query reader (answers as URLSearchParams does). */
export { parseQuery } from './http/query-params.js';
/** The strict head reader of a parked comet socket's next recv. */
export { MAX_RECV_HEAD_BYTES, parseRecvHead, type RecvHead } from './http/recv-head.js';
/** A held response taken off node:http (socket shape test: parking adds no property to the socket). */
export { ParkedResponse, type ParkOwner } from './http/parked.js';
/** API key secrets compared without a digest, in time set by the given secret's length. */
export { secretMatches } from './auth/secret.js';
/** WebSocket framing (control-frames tests: a template's frame as the transport writes it). */
export { wsFrame, WS_OPCODE_BINARY, WS_OPCODE_TEXT } from './wire/ws-framing.js';
export { encodeMsgpackFast, msgpackBytes } from './wire/msgpack-value.js';
export { encodeWithoutDerivedFields, isItemId, withoutDerivedFields } from './wire/derived-fields.js';
/** Idle memory, second pass (issue 19): the session's on-demand state, derived secrets, lean attachments. */
export { SessionFields } from './session/session-fields.js';
export { Attachment } from './session/attachment.js';
export { derivedConnectionSecret, isKeyOf } from './session/connection-key.js';
export { epochOf } from './engine/memory/memory-channel.js';
/** The engine's store calls timed into the metrics (engine/instrumented.ts). */
export { instrumentEngine } from './engine/instrumented.js';
/** A comet connection's records and the re-check of a repeated raw recv (registry `again`). */
export { CometRegistry, VerifiedCredentials, type Found } from './transports/comet/registry.js';
export type { CometTransport } from './transports/comet/comet-transport.js';
