import type { BrowserContext, Request } from "playwright-core";

/** One API call a page made. */
export interface ApiCall {
  method: string;
  contentType: string;
}

/** Records every call the pages of a context make to the grouppe API. */
export function recordApiCalls(context: BrowserContext): ApiCall[] {
  const calls: ApiCall[] = [];
  context.on("request", (request: Request) => {
    const path = new URL(request.url()).pathname;
    if (!path.startsWith("/grouppe.v1.")) return;
    calls.push({
      method: path.split("/").at(-1) ?? path,
      contentType: request.headers()["content-type"] ?? "",
    });
  });
  return calls;
}

/** The request content types each transport uses: JSON for Connect, binary for gRPC-Web. */
export const contentTypes = {
  connect: /^application\/(json|connect\+json)/,
  "grpc-web": /^application\/grpc-web\+proto/,
} as const;
