/**
 * `@encke/server/internal`: what the project's own tests and tools need beyond the public API
 * (index.ts). Not a stable interface: anything here may change with the code it exposes.
 */
export { FakeClock } from './util/clock.js';
export { InboundQueue, PUBLISH_PIPELINE, type InboundHandler } from './session/inbound.js';
export * as capability from './auth/capability.js';
export * as tokenCodec from './auth/token-codec.js';
