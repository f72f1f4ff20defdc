export { Engine, type EngineOptions, type EngineRoute } from "./engine.js";
export { EngineCall } from "./engine-call.js";
export {
  type FastifyEngineOptions,
  fastifyEnginePlugin,
  type Http2StreamCalls,
  type RequestCalls,
} from "./fastify-engine-plugin.js";
export { HeaderMap } from "./header-map.js";
export { negotiateWire, type Wire } from "./negotiate-wire.js";
export { type Http2StreamHandler, offerHttp2Streams } from "./offer-http2-streams.js";
export { offerRequests, type RequestHandler } from "./offer-requests.js";
export { isSharedEncoding, shareEncoding } from "./share-encoding.js";
