/**
 * Peer: stock @connectrpc/connect-fastify on Fastify 5, default options, serving Health/Check
 * and GetEvent from memory. Fastify speaks either h2c or HTTP/1.1 on a plaintext port, so
 * the peer runs one instance of each and reports both ports.
 */
import type { ConnectRouter } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { EventService } from "@grouppe/api";
import { Health } from "@grouppe/api/health";
import { type FastifyInstance, fastify, type RawServerBase } from "fastify";
import { reportReady } from "../child-process.js";
import { fixtureEventId, fixtureGetEventResponse, servingResponse } from "./fixture.js";

function routes(router: ConnectRouter): void {
  const serving = servingResponse();
  const getEvent = fixtureGetEventResponse();
  router.service(Health, { check: () => serving });
  router.service(EventService, {
    getEvent: (request) => {
      if (request.id !== fixtureEventId) throw new ConnectError("event not found", Code.NotFound);
      return getEvent;
    },
  });
}

async function listen<Server extends RawServerBase>(app: FastifyInstance<Server>): Promise<number> {
  await app.register(fastifyConnectPlugin, { routes });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

const h2c = fastify({ http2: true });
const http1 = fastify();
const ports = { h2cPort: await listen(h2c), http1Port: await listen(http1) };

reportReady(ports);
