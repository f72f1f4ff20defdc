/** The wire protocols the web app can speak to the grouppe server. */
export type TransportKind = "connect" | "grpc-web";

/** The localStorage key that remembers a transport chosen with `?transport=`. */
export const transportStorageKey = "grouppe.transport";

const kinds: readonly TransportKind[] = ["connect", "grpc-web"];

/** Whether a string names a transport the app supports. */
export function isTransportKind(value: unknown): value is TransportKind {
  return typeof value === "string" && (kinds as readonly string[]).includes(value);
}

/** Human-readable name of a transport, for the footer and diagnostics. */
export function transportLabel(kind: TransportKind): string {
  return kind === "connect" ? "Connect (JSON)" : "gRPC-Web (binary)";
}

/** What decides the transport, most specific first. */
export interface TransportSources {
  /** The page's query string, e.g. "?transport=grpc-web". */
  search: string;
  /** Where a choice made through the query string is remembered. */
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem"> | undefined;
  /** The build-time default (`VITE_GROUPPE_TRANSPORT`), if any. */
  buildDefault: string | undefined;
}

/**
 * Picks the transport: `?transport=` wins and is remembered (so links inside the app keep it),
 * `?transport=default` forgets the remembered choice, then the remembered choice, then the
 * build-time default, then Connect.
 */
export function resolveTransportKind({
  search,
  storage,
  buildDefault,
}: TransportSources): TransportKind {
  const requested = new URLSearchParams(search).get("transport");
  if (requested === "default") {
    storage?.removeItem(transportStorageKey);
  } else if (isTransportKind(requested)) {
    storage?.setItem(transportStorageKey, requested);
    return requested;
  }
  const remembered =
    requested === "default" ? null : (storage?.getItem(transportStorageKey) ?? null);
  if (isTransportKind(remembered)) return remembered;
  if (isTransportKind(buildDefault)) return buildDefault;
  return "connect";
}
