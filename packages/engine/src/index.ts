export { Engine, type EngineOptions, type EngineRoute } from "./engine.js";
export { EngineCall } from "./engine-call.js";
export {
  type FastifyEngineOptions,
  fastifyEnginePlugin,
  type Http2StreamCalls,
  type Http2StreamHandler,
} from "./fastify-engine-plugin.js";
export { HeaderMap } from "./header-map.js";
export { negotiateWire, type Wire } from "./negotiate-wire.js";
export { isSharedEncoding, shareEncoding } from "./share-encoding.js";
