/** The wire protocols the bench speaks; each is one way of sending the same RPC. */
export type Protocol = "grpc" | "grpc-web" | "connect-proto" | "connect-json";

/** HTTP/2 without TLS (prior knowledge) or HTTP/1.1 with keep-alive. */
export type Transport = "h2c" | "http/1.1";

/** One request as it goes on the wire; bodies are base64 so specs cross process boundaries. */
export interface RequestTemplate {
  path: string;
  headers: Record<string, string>;
  bodyBase64: string;
}

/** What to send, where, how hard and for how long. */
export interface LoadSpec {
  url: string;
  protocol: Protocol;
  transport: Transport;
  requests: RequestTemplate[];
  /**
   * Per concurrency slot, the indices into `requests` it sends in turn (slot i uses entry
   * i % length). Default: every slot sends `requests[0]` over and over.
   */
  slotSequences?: number[][];
  /** HTTP/2 connections (h2c) or sockets (HTTP/1.1). */
  connections: number;
  /** Concurrent streams per HTTP/2 connection; 1 for HTTP/1.1. */
  streamsPerConnection: number;
  /** Either a request count or a measured duration after `warmUpSeconds`. */
  requestCount?: number;
  durationSeconds?: number;
  warmUpSeconds?: number;
}

/** Latency percentiles in microseconds. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** What one load run measured. */
export interface LoadResult {
  engine: "h2load" | "node";
  /** Requests completed inside the measured window, successful or not. */
  requests: number;
  ok: number;
  /** Failed requests by code: a Connect/gRPC code name, `http_<status>` or a transport error. */
  errors: Record<string, number>;
  seconds: number;
  requestsPerSecond: number;
  latencyUs: LatencySummary;
  /** What the engine could not check, e.g. that h2load cannot see grpc-status. */
  caveat?: string;
}
