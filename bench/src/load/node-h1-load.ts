import http from "node:http";
import { driveLoad } from "./drive-load.js";
import type { LoadResult, LoadSpec, RequestTemplate } from "./load-spec.js";
import { classifyResponse, templateBody } from "./rpc-protocol.js";

/** The built-in HTTP/1.1 load generator: `connections` keep-alive sockets, one request each at a time. */
export async function runNodeH1Load(spec: LoadSpec): Promise<LoadResult> {
  const target = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const bodies = new Map<RequestTemplate, Buffer>(
    spec.requests.map((template) => [template, templateBody(template)]),
  );

  const sendOne = (template: RequestTemplate): Promise<string> =>
    new Promise((resolve) => {
      const body = bodies.get(template) ?? Buffer.alloc(0);
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: "POST",
          path: template.path,
          headers: { ...template.headers, "content-length": body.length },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            resolve(
              classifyResponse(
                spec.protocol,
                response.statusCode ?? 0,
                response.headers,
                response.trailers,
                Buffer.concat(chunks),
              ),
            ),
          );
          response.on("error", () => resolve("response_aborted"));
        },
      );
      request.on("error", (error: NodeJS.ErrnoException) =>
        resolve(error.code ?? "request_failed"),
      );
      request.end(body);
    });

  try {
    return await driveLoad(spec, sendOne);
  } finally {
    agent.destroy();
  }
}
